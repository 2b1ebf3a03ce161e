#!/bin/bash
# Bad input under Bochs (VT-x), or with BACKEND=svm (test_svm_config_errors.sh) under QEMU TCG
# -cpu max (AMD-V), one boot of tests/integration/configs/errors.cfg:
#  - every parser error path of docs/config.md, each reported once as
#    "config error: tessera.cfg:LINE: REASON" with the right line, skipping only its VM;
#  - VMs the parser accepts but the hypervisor refuses at creation, each with its reason:
#    mismatched SHA-256 (naming both hashes), missing image and module, truncated, cut and
#    wrong-machine ELF files, a file in no known format, more memory than is free, a CPU that
#    does not exist;
#  - the good VMs (one with a matching sha256, two owning I/O ports) still run and exit 0.
. "$(dirname "$0")/../tools/lib.sh"
. "$(dirname "$0")/configs/checks.sh"

G=$BUILD/guests
for f in "$BUILD/tessera.elf" "$G/hello64.elf" "$G/bootsector.bin" "$G/mb32.elf"; do
    [ -f "$f" ] || { fail "$f missing (run make first)"; finish; }
done

# ---- the files: config and broken images ----------------------------------------------------------
hello_sha=$(sha256sum "$G/hello64.elf" | cut -d' ' -f1)
wrong_sha=$(printf '%064d' 0 | sed 's/^0/a/') # a valid 64-digit hash that is not hello64's
cfg=$T/tessera.cfg
# acpi_ports claims the PIIX4's ACPI PM block: at 0xb000 under the Bochs BIOS, at 0x600 where
# SeaBIOS (QEMU) puts it
PM_BASE=0xb000
[ "$BACKEND" = svm ] && PM_BASE=0x600
PM_END=$(printf '0x%x' $((PM_BASE + 0x3f)))
sed -e "s/@HELLO_SHA@/$hello_sha/" -e "s/@WRONG_SHA@/$wrong_sha/" \
    -e "s/^ports = 0xb000-0xb03f$/ports = $PM_BASE-$PM_END/" \
    "$ROOT/tests/integration/configs/errors.cfg" >"$cfg"
{
    printf '\n[vm e_cmdlong]\nimage = hello64.elf\ncmdline = "%s"\n' "$(printf '%300s' | tr ' ' c)"
    printf '\n[vm e_longline]\nimage = hello64.elf\ncmdline = "%s"\n' "$(printf '%1100s' | tr ' ' l)"
    printf '\n[vm e_nul]\nimage = hello64.elf\nweight = 1\0 2\n'
} >>"$cfg"
head -c 40 "$G/hello64.elf" >"$T/trunc.elf"  # shorter than an ELF64 header
head -c 2000 "$G/hello64.elf" >"$T/cut.elf"  # headers intact, segment data missing
cp "$G/hello64.elf" "$T/arm.elf"             # e_machine = 40 (ARM)
printf '\050\000' | dd of="$T/arm.elf" bs=1 seek=18 conv=notrunc status=none
head -c 4096 /dev/zero >"$T/junk.bin"         # no ELF, no Multiboot header, no boot signature

log=$T/serial.log
make_iso "$T/errors.iso" "" "$cfg" "$G/hello64.elf" "$G/bootsector.bin" "$G/mb32.elf" \
    "$T/trunc.elf" "$T/cut.elf" "$T/arm.elf" "$T/junk.bin"
run_vm_iso "$T/errors.iso" "$log" 300

line_of() { grep -anFx -- "$1" "$cfg" | head -n1 | cut -d: -f1; }
errors=0
# cerr LINE-TEXT REASON-REGEX: exactly one error report for the line whose text is LINE-TEXT
cerr() {
    local n
    n=$(line_of "$1")
    [ -n "$n" ] || { fail "test bug: no line '$1' in the config"; return; }
    expect_count "$log" "^tessera: config error: tessera\\.cfg:$n: $2" 1 "error on line $n ($1)"
    errors=$((errors + 1))
}
# ---- parser errors ------------------------------------------------------------------------------------
cerr 'memory = 8M' "key 'memory' outside a \\[vm NAME\\] section"
cerr '[vmx]' 'bad section header: expected \[vm NAME\]'
cerr '[vm bad!name]' "bad VM name 'bad!name': use only letters, digits, '_' and '-'"
cerr '[vm]' 'bad section header: the VM has no name'
cerr '[vm this_name_is_far_too_long_for_a_vm_0123456789]' "VM name '.*' is longer than 31 characters"
dup_of=$(line_of '[vm ok_hello]')
n=$(grep -anFx '[vm ok_hello]' "$cfg" | sed -n 2p | cut -d: -f1)
expect_count "$log" "^tessera: config error: tessera\\.cfg:$n: duplicate VM name 'ok_hello': already used by the VM on line $dup_of" 1 \
    "duplicate VM name names the first one's line"
errors=$((errors + 1))
cerr '[vm trailing] junk' 'text after the section header'
cerr '[vm noimage]' "VM 'noimage' has no image"
cerr 'colour = blue' "unknown key 'colour'"
cerr 'memory = 10M' "duplicate key 'memory' \\(already set on line $(line_of 'memory = 6M')\\)"
cerr 'weight =' "missing value for 'weight'"
cerr 'cmdline = "never closed' "unterminated quote in the value of 'cmdline'"
cerr 'on_fail = stop now' "text after the value of 'on_fail'"
cerr 'weight = heavy' "bad number 'heavy' for 'weight'"
cerr 'weight = 0' 'weight 0 is outside 1\.\.1000'
cerr 'cpu = 300' 'cpu 300 is outside 0\.\.255'
cerr 'memory = 12X' "bad memory size '12X'"
cerr 'memory = 1536K' "memory '1536K' is not a multiple of 1M"
cerr 'memory = 1M' "memory '1M' is outside 2M\\.\\.3G"
cerr 'memory = 99999999999999999999999G' "memory '99999999999999999999999G' is too large"
cerr 'ports = 0x60-zz' "malformed port range '0x60-zz'"
cerr 'ports = 0x70-0x60' "malformed port range '0x70-0x60': first port above last"
cerr 'ports = 0x3f0-0x3ff' 'ports 0x3f0-0x3ff include ports the hypervisor keeps'
cerr 'ports = 0x100-0x10f, 0x108' 'ports 0x108-0x108 overlap ports 0x100-0x10f of this VM'
cerr 'ports = 0x88' "ports 0x88-0x88 of VM 'e_portother' overlap ports 0x80-0x8f of VM 'ports_a' \\(line $(line_of '[vm ports_a]')\\)"
cerr 'ports = 0x200, 0x202, 0x204, 0x206, 0x208, 0x20a, 0x20c, 0x20e, 0x210' 'too many port ranges \(at most 8 per VM\)'
cerr 'module = e.txt' 'too many modules \(at most 4 per VM\)'
cerr 'on_fail = reboot' "on_fail must be 'stop' or 'restart', not 'reboot'"
cerr 'sha256 = 1234' 'sha256 must be exactly 64 hex digits'
cerr 'time_limit = 5 hours' "(bad time_limit|text after the value of 'time_limit')"
cerr 'this line is not a key value pair' "expected 'key = value', a \\[vm NAME\\] header or a comment"
cerr "cmdline = \"$(printf '%300s' | tr ' ' c)\"" "value of 'cmdline' is longer than 255 characters"
n=$(grep -an '^cmdline = "llll' "$cfg" | cut -d: -f1)
expect_count "$log" "^tessera: config error: tessera\\.cfg:$n: line longer than 1024 characters" 1 "long line"
errors=$((errors + 1))
n=$(grep -an '^weight = 1' "$cfg" | tail -n1 | cut -d: -f1)
expect_count "$log" "^tessera: config error: tessera\\.cfg:$n: NUL byte in the line" 1 "NUL byte"
errors=$((errors + 1))
expect_count "$log" '^tessera: config error: ' "$errors" "exactly one report per error, none more"
expect "$log" "^tessera: config: 13 VMs accepted, $errors errors" "13 VMs accepted, every error counted"
for vm in bad!name trailing noimage e_unknown e_dupkey e_novalue e_quote e_after e_weightnum \
    e_weight0 e_cpu e_memsuffix e_memalign e_memsmall e_memhuge e_portbad e_portorder e_porthv \
    e_portself e_portother e_portmany e_modules e_onfail e_sha e_timelimit e_garbage e_cmdlong \
    e_longline e_nul; do
    expect_not "$log" "^tessera: vm $vm[: ]|^\\[$vm\\]" "skipped VM $vm never created"
done

# ---- refused at creation -------------------------------------------------------------------------------
refused() { # refused VM REASON-REGEX
    expect_count "$log" "^tessera: vm $1 \\(config line $(line_of "[vm $1]")\\): refused: $2" 1 "$1 refused: $2"
    expect_not "$log" "^tessera: vm $1: |^\\[$1\\]" "$1 never created"
}
refused bad_sha "image 'hello64\\.elf' has SHA-256 $hello_sha, the config expects $wrong_sha"
refused no_image "image 'nosuch\\.elf' was not found among the loaded files"
refused no_module "module 'nosuch-module\\.txt' was not found among the loaded files"
refused trunc "image 'trunc\\.elf': truncated ELF"
refused cut "image 'cut\\.elf': segment [0-9]+: file data at offset .* runs past the end of the file \\(2000 bytes\\)"
refused arm "image 'arm\\.elf': ELF64 machine 40 is not x86-64 \\(62\\)"
refused junk "image 'junk\\.bin': .*(format|recogni[sz]ed|unknown)"
refused bigmem 'needs 3072 MiB of RAM, but the largest free block is [0-9]+ MiB \([0-9]+ MiB free\)'
refused cpu1 'CPU 1 does not exist \(this machine has 1\)'
refused acpi_ports "ports $PM_BASE-$PM_END: port 0x[0-9a-f]+ belongs to the ACPI (PM1a control block|PM timer|SMI command)"

# ---- the good VMs still run ------------------------------------------------------------------------------
expect "$log" "^tessera: vm ok_hello: image=hello64\\.elf format=ELF64 size=[0-9]+ sha256=$hello_sha" \
    "ok_hello: accepted with its matching sha256"
expect "$log" '^tessera: vm ok_rm: owns ports 0x2f8-0x2ff' "ok_rm owns its ports"
expect "$log" '^tessera: vm ports_a: owns ports 0x80-0x8f' "ports_a keeps its ports against e_portother"
expect "$log" '^tessera: running 3 VMs \(3 on CPU 0;' "the three good VMs run"
expect_clean_lines "$log" ok_hello=hello64 ok_rm=bootsector ports_a=bootsector
expect "$log" '^\[ok_hello\] hello64: start info mem_size=0x1000000 modules=0 cmdline="greeting=hello # not a comment"' \
    "ok_hello gets its quoted cmdline, # included"
expect "$log" '^\[ok_hello\] hello64: done status=0' "ok_hello runs to its end"
for vm in ok_hello ok_rm ports_a; do
    expect_count "$log" "^tessera: vm $vm exited with status 0" 1 "$vm exits 0"
    expect_summary_row "$log" $vm "exit 0"
done
expect "$log" '^tessera: summary \(3 VMs, ' "summary of the three VMs"
expect "$log" '^tessera: end status=ok' "end status=ok"
expect_not "$log" 'FATAL' "no hypervisor fault"

# ---- CPUs on a two-CPU machine (Bochs cpu count=2, QEMU -smp 2): CPU 2 does not exist, CPU 1 does
cat >"$T/smp.cfg" <<'EOF'
[vm on_cpu0]
image = hello64.elf

[vm on_cpu1]
image = hello64.elf
cpu = 1

[vm on_cpu2]
image = hello64.elf
cpu = 2

[vm restart_cpu1]
image = attacker.elf
memory = 4M
cpu = 1
on_fail = restart
cmdline = "attack=write_outside marker=1"

[vm spin_cpu1]
image = attacker.elf
memory = 4M
cpu = 1
time_limit = 200ms
cmdline = "attack=cli_spin"
EOF
cp "$T/smp.cfg" "$T/tessera.cfg"
log=$T/smp.log
NPF="EPT violation"
[ "$BACKEND" = svm ] && NPF="nested page fault"
make_iso "$T/smp.iso" "" "$T/tessera.cfg" "$G/hello64.elf" "$G/attacker.elf"
run_vm_iso "$T/smp.iso" "$log" 300 128 2
expect "$log" '^tessera: cpus=2 \(APIC ids: 0,1\)' "smp: two CPUs found"
expect_count "$log" '^tessera: vm on_cpu2 \(config line 8\): refused: CPU 2 does not exist \(this machine has 2\)' 1 \
    "smp: cpu = 2 refused on a two-CPU machine"
expect_count "$log" '^tessera: vm on_cpu0 exited with status 0' 1 "smp: the CPU 0 VM runs"
expect_not "$log" '^tessera: vm on_cpu1 .*refused' "smp: cpu = 1 exists on this machine: not refused"
expect_count "$log" '^tessera: vm on_cpu1 exited with status 0' 1 "smp: the CPU 1 VM runs to its end"
expect "$log" '^tessera: cpu 1 \(APIC id 1\) started' "smp: the second CPU started"
expect "$log" "^tessera: cpu 1: $(backend_name) enabled, running 3 VMs" "smp: CPU 1 runs its three VMs"
expect "$log" '^tessera: running 4 VMs \(1 on CPU 0;' "smp: 4 VMs, one of them on CPU 0"
# failures and restarts are handled on the CPU the VM runs on
expect_count "$log" '^\[restart_cpu1\] attacker: marker from an earlier life: absent' 4 \
    "smp: a VM on CPU 1 restarts 3 times, each life from zeroed RAM"
expect_count "$log" "^tessera: vm restart_cpu1 failed: $NPF: write at guest-physical 0x500000" 4 \
    "smp: each life of the CPU 1 VM ends with its $NPF"
expect_count "$log" '^tessera: vm restart_cpu1: not restarting again \(3 restarts\)' 1 "smp: then it stays failed"
expect_count "$log" '^tessera: vm spin_cpu1 failed: ran past its time_limit of 200 ms' 1 \
    "smp: a spinning VM on CPU 1 is stopped by its time limit"
expect_count "$log" '^tessera:   (on_cpu0|on_cpu1|restart_cpu1|spin_cpu1) +(exit 0|FAILED) +[0-9]+ +[0-9.]+% +1 +[01] ' 4 \
    "smp: the summary lists every VM with its CPU"
expect "$log" '^tessera:   on_cpu1 +exit 0 +[0-9]+ +[0-9.]+% +1 +1 ' "smp: on_cpu1's row says CPU 1"
expect "$log" '^tessera: shares on cpu 1 while all its VMs ran: on_cpu1=' "smp: CPU 1's own shares line"
expect "$log" '^tessera: end status=ok' "smp: end status=ok"

finish
