# Checks shared by the VM integration tests (bash; source after tests/tools/lib.sh).
# The runners in lib.sh leave logs with plain line ends, so the patterns here need no CR.

# vm_lines LOG NAME: the lines VM NAME printed, without the "[NAME] " prefix, in log order.
vm_lines() {
    sed -n "s/^\\[$2\\] //p" "$1"
}

# after_start LOG: the log from the "running N VMs" line on.
after_start() {
    sed -n '/^tessera: running [0-9]* VMs (/,$p' "$1"
}

# expect_vm_output LOG NAME REGEX...: VM NAME printed exactly one line per REGEX, in this order,
# each matching its REGEX completely (anchored at both ends).
expect_vm_output() {
    local log=$1 name=$2 i=0 line want
    shift 2
    local -a got=()
    mapfile -t got < <(vm_lines "$log" "$name")
    if [ "${#got[@]}" -ne "$#" ]; then
        fail "[$name] printed ${#got[@]} lines, expected $#: $(printf '|%s' "${got[@]}")"
        return
    fi
    for want in "$@"; do
        line=${got[$i]}
        if ! [[ $line =~ ^$want$ ]]; then
            fail "[$name] line $((i + 1)) is '$line', expected /$want/"
        fi
        i=$((i + 1))
    done
}

# expect_clean_lines LOG NAME=WORD...: after the VMs start, every line is a hypervisor line
# ("tessera: ...") or a whole line of a known VM ("[NAME] WORD: ..." with WORD the guest's own
# prefix), with no second prefix inside it: lines of different VMs never mix or get cut.
expect_clean_lines() {
    local log=$1 pair alt="" bad
    shift
    for pair in "$@"; do
        alt="$alt|\\[${pair%%=*}\\] ${pair#*=}: "
    done
    alt=${alt#|}
    if [ "$(after_start "$log" | wc -l)" -lt 2 ]; then
        fail "no VM ever started (no 'running N VMs' line)"
        return
    fi
    bad=$(after_start "$log" | grep -Ev "^(tessera: |$alt)" | head -n 3)
    [ -z "$bad" ] || fail "lines that are neither hypervisor lines nor whole VM lines: $bad"
    bad=$(after_start "$log" | grep -E '.(tessera: |\[[A-Za-z0-9_-]+\] [a-z0-9]+: )' |
        grep -Ev '^tessera: vm [A-Za-z0-9_-]+: +\| ' | head -n 3)
    [ -z "$bad" ] || fail "a line holds a second line's prefix (mixed output): $bad"
}

# vm_host_range LOG NAME: prints "BASE END" (hex, as printed) of VM NAME's host-physical RAM.
vm_host_range() {
    sed -n "s/^tessera: vm $2: guest-physical 0x0-0x[0-9a-f]* -> host-physical \\(0x[0-9a-f]*\\)-\\(0x[0-9a-f]*\\),.*/\\1 \\2/p" "$1" |
        head -n 1
}

# expect_disjoint_ranges LOG NAME...: the VMs' host-physical RAM ranges are all present and no
# two overlap; each is as large as the guest-physical range it backs.
expect_disjoint_ranges() {
    local log=$1 a b r gsize
    shift
    local -a base=() end=()
    for a in "$@"; do
        r=$(vm_host_range "$log" "$a")
        if [ -z "$r" ]; then
            fail "no host-physical range line for VM $a"
            return
        fi
        base+=($((${r% *})))
        end+=($((${r#* })))
        gsize=$(sed -n "s/^tessera: vm $a: guest-physical 0x0-\\(0x[0-9a-f]*\\) .*/\\1/p" "$log" | head -n1)
        [ $((end[-1] - base[-1])) -eq $((gsize)) ] ||
            fail "VM $a: host range $r is not as large as its guest RAM $gsize"
        [ $((base[-1] % 0x200000)) -eq 0 ] || fail "VM $a: host base ${r% *} is not 2 MiB aligned"
    done
    local n=$# i j
    for ((i = 0; i < n; i++)); do
        for ((j = i + 1; j < n; j++)); do
            if [ "${base[$i]}" -lt "${end[$j]}" ] && [ "${base[$j]}" -lt "${end[$i]}" ]; then
                fail "host-physical RAM of VMs #$((i + 1)) and #$((j + 1)) overlap"
            fi
        done
    done
}

# expect_summary_row LOG NAME RESULT: the summary table has one row for NAME with RESULT
# ("exit 0", "exit 3", "FAILED").
expect_summary_row() {
    expect_count "$1" "^tessera:   $2 +$3 +[0-9]+ +[0-9]+\\.[0-9]% +[0-9]+ +[0-9]+ +[0-9]+  " 1 \
        "summary row of $2 says '$3'"
}

# expect_register_dump LOG NAME: the failure report of VM NAME carries the register dump.
expect_register_dump() {
    local h='[0-9a-f]{16}'
    expect "$1" "^tessera: vm $2:   RIP=$h RSP=$h RFLAGS=$h mode=(16|32|64)-bit" "$2: RIP/RSP/RFLAGS dump"
    expect "$1" "^tessera: vm $2:   RAX=$h RBX=$h RCX=$h RDX=$h" "$2: general registers dump"
    expect "$1" "^tessera: vm $2:   R13=$h R14=$h R15=$h" "$2: R13-R15 dump"
    expect "$1" "^tessera: vm $2:   CR0=$h .*CR3=$h CR4=$h" "$2: control registers dump"
    expect "$1" "^tessera: vm $2:   last exit: (reason [0-9]+|code 0x[0-9a-f]+) " "$2: last exit reason"
}

# expect_hello_output LOG NAME CMDLINE VM_ID: the whole normal output of a hello64.elf VM.
expect_hello_output() {
    local n='[0-9]+'
    expect_vm_output "$1" "$2" \
        'hello64: hello from a 64-bit guest' \
        "hello64: start info mem_size=0x1000000 modules=0 cmdline=\"$3\"" \
        'hello64: cpuid signature=TesseraVisor max_leaf=0x40000001 abi=1' \
        'hello64: cpuid.1 vmx=0 hypervisor=1' \
        'hello64: uart scratch=0xa5 divisor=0x000c lcr=0x03 lsr=0x60' \
        'hello64: msr misc_enable=0x1801 mtrrcap=0x0 mtrr_def_type=0x806' \
        "hello64: vm_id=$4" \
        "hello64: time rc=0 tsc_hz=$n ticks=$n ns=$n" \
        'hello64: this line came through CONSOLE_WRITE' \
        'hello64: console_write rc=46' \
        'hello64: done status=0'
}

# expect_default_guests LOG: the six default guests (guests/tessera.cfg) ran undisturbed: whole
# lines only, hello's, compute's and halter's output (each sleep at least its period), each VM
# exited with status 0 once, all ended, end status=ok. The spinner's lines are the caller's (its
# iterations differ between configs).
expect_default_guests() {
    local log=$1 n='[0-9]+' period slept
    expect_clean_lines "$log" hello=hello64 realmode=bootsector multiboot=mb32 compute=compute \
        halter=halter spinner=spinner
    expect_hello_output "$log" hello "greeting=hello" 0
    expect_vm_output "$log" compute \
        'compute: start mode=tessera boot=multiboot' \
        "compute: iterations=200 checksum=0x198abcc2 tsc=$n" \
        'compute: done'
    expect_vm_output "$log" halter \
        'halter: start' \
        "halter: rounds=5 period_us=10000 tsc_hz=$n timer_ticks=$n" \
        "halter: wake 1/5 slept_ticks=$n forward=yes" \
        "halter: wake 2/5 slept_ticks=$n forward=yes" \
        "halter: wake 3/5 slept_ticks=$n forward=yes" \
        "halter: wake 4/5 slept_ticks=$n forward=yes" \
        "halter: wake 5/5 slept_ticks=$n forward=yes" \
        'halter: done wakes=5'
    period=$(vm_lines "$log" halter | sed -n 's/.*timer_ticks=\([0-9]*\)$/\1/p')
    for slept in $(vm_lines "$log" halter | sed -n 's/.*slept_ticks=\([0-9]*\) .*/\1/p'); do
        [ -n "$period" ] && [ "$slept" -ge "$period" ] ||
            fail "halter woke after $slept ticks, before its period of ${period:-?} ticks"
    done
    for vm in hello realmode multiboot compute halter spinner; do
        expect_count "$log" "^tessera: vm $vm exited with status 0" 1 "$vm: one exit line, status 0"
    done
    expect "$log" '^tessera: all VMs ended \(every VM exited with status 0\)' "all VMs ended well"
    expect "$log" '^tessera: end status=ok' "end status=ok"
}

# default_guest_files CONFIG: DEFAULT_GUEST_FILES = CONFIG, the Multiboot module and the six
# default guest images, for make_iso; ends the test when one of them or tessera.elf is missing.
default_guest_files() {
    local g=$BUILD/guests i
    DEFAULT_GUEST_FILES="$1 $g/mb32-module.txt"
    for i in "$1" "$BUILD/tessera.elf" "$g/mb32-module.txt" "$g/hello64.elf" "$g/bootsector.bin" \
        "$g/mb32.elf" "$g/compute.elf" "$g/halter.elf" "$g/spinner.elf"; do
        [ -f "$i" ] || { fail "$i missing (run make first)"; finish; }
    done
    for i in hello64.elf bootsector.bin mb32.elf compute.elf halter.elf spinner.elf; do
        DEFAULT_GUEST_FILES="$DEFAULT_GUEST_FILES $g/$i"
    done
}

# expect_default_spinner LOG: the default config's spinner (2000000 iterations) printed every line,
# with the work's checksum.
expect_default_spinner() {
    local n='[0-9]+'
    expect_vm_output "$1" spinner \
        'spinner: start iterations=2000000 report=500000' \
        "spinner: progress 500000/2000000 tsc=$n" \
        "spinner: progress 1000000/2000000 tsc=$n" \
        "spinner: progress 1500000/2000000 tsc=$n" \
        "spinner: progress 2000000/2000000 tsc=$n" \
        "spinner: done iterations=2000000 checksum=0x6edb73579479618b tsc=$n"
}
