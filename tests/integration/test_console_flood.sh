#!/bin/bash
# A console flood must not hold the CPU or the console (Bochs, VT-x, configs/console_flood.cfg,
# two boots: all four VMs on CPU 0; then two CPUs, the flood alone on CPU 1):
#  - flood (guests/flood.c) writes 4096 newlines, then 4096 bytes of 399-character lines, twice,
#    through CONSOLE_WRITE, timing each call with RDTSC around the VMCALL. Under Bochs the TSC
#    counts instructions, so that is the hypervisor's path length for one exit: the worst one
#    must stay under MAX_EXIT_TICKS. One exit copies at most 4096 bytes into the VM's queue and
#    4096 into its history ring (rep movsb: an instruction per byte under Bochs) and pumps at most
#    CONSOLE_PUMP_EXIT_BUDGET (64) bytes of console work, about 12k instructions with the exit
#    itself (8.8k measured, 10.5k with the VM-entry L1D flush); the bound leaves 3x room for
#    other work on the exit path. Printing 4096 lines inside the exit, as the console once did,
#    cost 22.8 million;
#  - every flood line arrives, in order, whole: the flood VM's lines equal, line for line, what
#    the guest wrote (long lines broken at 160 characters);
#  - hello64 and compute, beside it, print exactly their normal output and exit 0;
#  - fair: a fourth VM (flood.elf burst=100) queues 100 lines with one CONSOLE_WRITE; the console
#    alternates them with the flood's, never more than one flood line between two of them;
#  - no line holds two sources' text; the summary is printed; end status=ok;
#  - a third boot: flood writes 20000 bytes straight to THR without polling LSR: the bytes it
#    writes while its queue is full are lost (as on a 16550 with a full FIFO), the hypervisor
#    says how many when it ends, and it still ends normally, its lines whole;
#  - a fourth boot, the end of a VM: flood (fill_exit=1) fills its queue with newlines and at once
#    EXITs, its status the number of newlines taken (about 4096: the queue and what the pump
#    drained meanwhile), beside a neighbour on the same CPU (flood.elf watch=T) that samples RDTSC
#    for T ticks and reports the largest step between two samples: the longest it was kept off
#    the CPU. T is long enough that the queue drains (about one line per slice of the neighbour)
#    and fill's report comes while it watches, so every step of the end is inside its samples.
#    Every one of the newlines must arrive as an empty [fill] line, after fill's start line and
#    before "vm fill exited", nothing of fill's after it. The largest step must stay under
#    MAX_END_GAP: what fill gets of the CPU anyway (its slices until its vruntime catches up with
#    the neighbour's; 230k measured when fill ends without a flood), the pump between slices
#    (CONSOLE_PUMP_BUDGET) and the end's own work, which is bounded: its last partial line (at
#    most 160 characters) and the report line. Measured: 179k. When the ending exit printed the
#    whole queue itself (4096 lines), the step was 15.9 million.
# With BACKEND=svm (test_svm_console_flood.sh) under QEMU TCG -cpu max with -icount shift=0: the
# TSC counts instructions there too (about 1 GHz by the PIT calibration), and quantum_us=50 makes
# the time slice about 50000 of them, as Bochs's 10 ms at 5 MHz are: the same bounds hold, in
# instructions, for the same reasons (the default 10 ms would be 200 times longer a slice, and
# draining a full queue, a line per slice of the neighbour, would take minutes to emulate).
. "$(dirname "$0")/../tools/lib.sh"
. "$(dirname "$0")/configs/checks.sh"

MAX_EXIT_TICKS=${MAX_EXIT_TICKS:-40000}
MAX_END_GAP=${MAX_END_GAP:-400000}
WATCH_TICKS=${WATCH_TICKS:-300000000}
G=$BUILD/guests
for f in "$BUILD/tessera.elf" "$G/flood.elf" "$G/hello64.elf" "$G/compute.elf"; do
    [ -f "$f" ] || { fail "$f missing (run make first)"; finish; }
done

# What flood.c writes for rounds=2, as the console shows it (a line longer than 160 characters in
# pieces of 160): the markers, 4096 empty lines, the long lines, per round.
expected_flood() {
    awk -v rounds=2 'BEGIN {
        letters = "abcdefghijklmnopqrstuvwxyz"
        print "flood: start rounds=" rounds
        for (r = 0; r < rounds; r++) {
            print "flood: round " r " newlines"
            for (i = 0; i < 4096; i++) print ""
            print "flood: round " r " long lines"
            at = 0
            for (line = 0; at < 4096; line++) {
                room = 4096 - at - 1; len = room < 399 ? room : 399
                head = "flood: long round=" r " line=" line " "
                text = ""
                for (i = 0; i < len; i++)
                    text = text (i < length(head) ? substr(head, i + 1, 1) : substr(letters, i % 26 + 1, 1))
                for (p = 1; p <= len; p += 160) print substr(text, p, 160)
                at += len + 1
            }
            print "flood: round " r " end"
        }
    }'
}

# check_boot NAME LOG: every assertion above for one boot.
check_boot() {
    local name=$1 log=$2 done_line ticks bad
    expect "$log" '^tessera: running 4 VMs \(' "$name: four VMs run"

    # ---- the flood's own lines, exactly ----
    vm_lines "$log" flood | grep -v '^flood: done ' >"$T/$name.flood.got"
    if ! cmp -s "$T/flood.expected" "$T/$name.flood.got"; then
        fail "$name: flood's lines differ from what it wrote ($(wc -l <"$T/$name.flood.got") lines, expected $(wc -l <"$T/flood.expected")): $(diff "$T/flood.expected" "$T/$name.flood.got" | head -n 4 | tr '\n' '|')"
    fi

    # ---- the cost of one CONSOLE_WRITE exit ----
    done_line=$(vm_lines "$log" flood | grep -m1 '^flood: done ')
    note "$name: ${done_line:-no done line}"
    ticks=$(sed -n 's/.* max_exit_ticks=\([0-9]*\) .*/\1/p' <<<"$done_line")
    if [ -z "$ticks" ]; then
        fail "$name: flood printed no 'flood: done ... max_exit_ticks=' line"
    elif [ "$BACKEND" = svm ] && [ "$name" = two-cpu ]; then
        # QEMU with -icount runs its CPUs in turn on one clock: an RDTSC delta on CPU 1 also
        # counts what CPU 0 ran meanwhile (measured: 134k here against 9.8k on one CPU), so it is
        # no path length; the one-CPU boot bounds the exit
        note "$name: the worst exit's TSC delta ($ticks) includes the other CPU's turn: not checked"
    elif [ "$ticks" -ge "$MAX_EXIT_TICKS" ]; then
        fail "$name: the worst CONSOLE_WRITE exit took $ticks TSC ticks (instructions), the bound is $MAX_EXIT_TICKS"
    fi
    expect_count "$log" '^tessera: vm flood exited with status 0' 1 "$name: flood exits 0"
    # its markers go through the UART, polling LSR while the queue is full: none may be lost
    expect_not "$log" '^tessera: vm .* were lost' "$name: no UART byte lost"

    # ---- the neighbours ----
    expect_hello_output "$log" hello greeting=hello 1
    expect_vm_output "$log" compute 'compute: start mode=tessera boot=multiboot' \
        'compute: iterations=200 checksum=0x198abcc2 tsc=[0-9]+' 'compute: done'
    expect_count "$log" '^tessera: vm hello exited with status 0' 1 "$name: hello exits 0"
    expect_count "$log" '^tessera: vm compute exited with status 0' 1 "$name: compute exits 0"

    # ---- fair: one line per VM per turn ----
    # burst queues its 100 lines with one CONSOLE_WRITE; while they wait, the console takes a
    # line from each VM in turn, so at most one flood line separates two burst lines.
    expect "$log" '^\[burst\] flood: done rounds=0 max_exit_ticks=[0-9]+ calls=1 short=0 bytes=1590$' \
        "$name: burst's 100 lines went into its queue with one call"
    local worst
    worst=$(awk '/^\[burst\] flood: burst / { if (seen && run > worst) worst = run; seen = 1; run = 0; next }
                 /^\[flood\] / { run++ } END { print worst + 0 }' "$log")
    [ "$worst" -le 1 ] || fail "$name: $worst flood lines between two burst lines (round-robin allows 1)"
    expect_count "$log" '^\[burst\] flood: burst [0-9]+$' 100 "$name: all 100 burst lines"

    # ---- nothing mixed ----
    bad=$(after_start "$log" | grep -Ev '^(tessera: |\[flood\] |\[burst\] flood: |\[hello\] hello64: |\[compute\] compute: )' | head -n 3)
    [ -z "$bad" ] || fail "$name: lines that are neither hypervisor lines nor whole VM lines: $bad"
    bad=$(after_start "$log" | grep -E '.(tessera: |\[[A-Za-z0-9_-]+\] )' |
        grep -Ev '^tessera: vm [A-Za-z0-9_-]+: +\| ' | head -n 3)
    [ -z "$bad" ] || fail "$name: a line holds a second line's prefix (mixed output): $bad"

    for vm in flood hello compute burst; do
        expect_summary_row "$log" "$vm" "exit 0"
    done
    expect "$log" '^tessera: end status=ok' "$name: end status=ok"
}

# the end of a VM with a full queue: bounded for its neighbour, and nothing lost or reordered
check_end() {
    local log=$T/end.log taken gap watch bad
    printf '%s\n' '[vm watch]' 'image = flood.elf' 'memory = 16M' 'cpu = 0' "cmdline = \"watch=$WATCH_TICKS\"" \
        '' '[vm fill]' 'image = flood.elf' 'memory = 16M' 'cpu = 0' 'cmdline = "rounds=0 fill_exit=1"' \
        >"$T/tessera.cfg"
    make_iso "$T/flood-end.iso" "$CMDLINE" "$T/tessera.cfg" "$G/flood.elf"
    boot "$T/flood-end.iso" "$log"
    taken=$(sed -n 's/^tessera: vm fill exited with status \([0-9]*\)$/\1/p' "$log")
    watch=$(vm_lines "$log" watch | grep -m1 '^flood: watch ticks=')
    note "end: fill took ${taken:-?} newlines; watch: ${watch:-no watch line}"
    if [ -z "$taken" ] || [ "$taken" -lt 3000 ] || [ "$taken" -gt 8192 ]; then
        fail "end: expected 'vm fill exited with status N', N the newlines its full queue took (3000..8192)"
        return
    fi
    gap=$(sed -n 's/.* max_gap=\([0-9]*\)$/\1/p' <<<"$watch")
    if [ -z "$gap" ]; then
        fail "end: the neighbour printed no 'flood: watch ... max_gap=' line"
    elif [ "$gap" -ge "$MAX_END_GAP" ]; then
        fail "end: the neighbour was kept off the CPU for $gap TSC ticks (instructions) while fill ended; the bound is $MAX_END_GAP"
    fi
    # fill's lines before its "exited" line: its start line and exactly $taken empty lines
    sed -n '/^tessera: vm fill exited /q; s/^\[fill\] //p' "$log" >"$T/end.fill"
    { echo "flood: start rounds=0"; yes '' | head -n "$taken"; } >"$T/end.expected"
    cmp -s "$T/end.expected" "$T/end.fill" ||
        fail "end: fill's lines before 'exited' are not its start line and $taken empty lines ($(wc -l <"$T/end.fill") lines, $(grep -c '^$' "$T/end.fill") empty)"
    [ -z "$(sed -n '/^tessera: vm fill exited /,$p' "$log" | grep '^\[fill\]')" ] ||
        fail "end: fill lines after its 'exited' line"
    expect_count "$log" '^tessera: vm watch exited with status 0' 1 "end: the neighbour exits 0"
    # the neighbour watched until after fill's report: its gaps include the end's every step
    expect_order "$log" '^tessera: vm fill exited ' '^\[watch\] flood: watch ticks=' \
        "end: fill's report came while the neighbour was watching"
    expect_summary_row "$log" fill "exit $taken"
    expect_summary_row "$log" watch "exit 0"
    bad=$(after_start "$log" | grep -Ev '^(tessera: |\[fill\] |\[watch\] flood: )' | head -n 3)
    [ -z "$bad" ] || fail "end: lines that are neither hypervisor lines nor whole VM lines: $bad"
}

# boot ISO LOG [CPUS]: one run on the platform of $BACKEND
CMDLINE=""
[ "$BACKEND" = svm ] && CMDLINE="quantum_us=50"
boot() {
    if [ "$BACKEND" = svm ]; then
        QEMU_SVM_ARGS="-icount shift=0" run_vm_iso "$1" "$2" 300 128 "${3:-1}"
    else
        run_bochs_iso "$1" "$2" 300 corei7_skylake_x 128 "${3:-1}"
    fi
}

if [ -n "${FLOOD_END_ONLY:-}" ]; then check_end; finish; fi

expected_flood >"$T/flood.expected"

# one CPU: the flood shares CPU 0 with its neighbours
cp "$ROOT/tests/integration/configs/console_flood.cfg" "$T/tessera.cfg"
make_iso "$T/flood.iso" "$CMDLINE" "$T/tessera.cfg" "$G/flood.elf" "$G/hello64.elf" "$G/compute.elf"
boot "$T/flood.iso" "$T/one-cpu.log"
check_boot one-cpu "$T/one-cpu.log"
expect "$T/one-cpu.log" '^tessera: running 4 VMs \(4 on CPU 0;' "one-cpu: all four on CPU 0"

# two CPUs: the flood alone on CPU 1, printing through the console CPU 0's VMs print to
sed 's/^cpu = 0$/cpu = X/' "$ROOT/tests/integration/configs/console_flood.cfg" |
    awk '/^\[vm flood\]/ { f = 1 } /^\[vm [a-z]+\]/ && !/flood/ { f = 0 }
         /^cpu = X$/ { print (f ? "cpu = 1" : "cpu = 0"); next } { print }' >"$T/tessera.cfg"
make_iso "$T/flood-smp.iso" "$CMDLINE" "$T/tessera.cfg" "$G/flood.elf" "$G/hello64.elf" "$G/compute.elf"
boot "$T/flood-smp.iso" "$T/two-cpu.log" 2
check_boot two-cpu "$T/two-cpu.log"
expect "$T/two-cpu.log" '^tessera: running 4 VMs \(3 on CPU 0;' "two-cpu: flood on CPU 1, the others on CPU 0"

# careless THR writes: lost while busy, reported, nothing else affected
printf '[vm flood]\nimage = flood.elf\nmemory = 16M\ncmdline = "rounds=0 raw=20000"\n' >"$T/tessera.cfg"
make_iso "$T/flood-raw.iso" "$CMDLINE" "$T/tessera.cfg" "$G/flood.elf"
log=$T/raw.log
boot "$T/flood-raw.iso" "$log"
lost=$(sed -n 's/^tessera: vm flood: \([0-9]*\) bytes written to its UART while it reported itself busy were lost$/\1/p' "$log")
note "raw: ${lost:-no} bytes lost of 20000"
if [ "$BACKEND" = svm ]; then
    # QEMU's 16550 takes each byte at once (no line-speed timing, unlike Bochs's): the queue
    # drains faster than the guest fills it (each THR write is an exit that pumps up to 64
    # bytes), it never reports itself busy and nothing may be lost: every byte arrives, in order
    # (measured: 0 lost of 20000)
    [ -z "$lost" ] || fail "raw: $lost bytes lost, though the console never backs up under QEMU"
    awk 'BEGIN { print "flood: start rounds=0"; at = 0
                 while (at < 20000) { line = "flood: raw " at; n = length(line) + 1
                     if (at + n > 20000) { print substr(line, 1, 20000 - at); break }
                     print line; at += n } }' >"$T/raw.expected"
    vm_lines "$log" flood | grep -v '^flood: done ' >"$T/raw.got"
    cmp -s "$T/raw.expected" "$T/raw.got" ||
        fail "raw: the flood's lines are not its 20000 THR bytes in order: $(diff "$T/raw.expected" "$T/raw.got" | head -n 4 | tr '\n' '|')"
elif [ -z "$lost" ] || [ "$lost" -le 0 ] || [ "$lost" -ge 20000 ]; then
    fail "raw: expected a report of some (not all) of the 20000 careless THR bytes lost"
fi
expect "$log" '^\[flood\] flood: done rounds=0 ' "raw: flood finishes"
expect_count "$log" '^tessera: vm flood exited with status 0' 1 "raw: flood exits 0"
bad=$(after_start "$log" | grep -Ev '^(tessera: |\[flood\] )' | head -n 3)
[ -z "$bad" ] || fail "raw: lines that are neither hypervisor lines nor flood lines: $bad"
expect "$log" '^tessera: end status=ok' "raw: end status=ok"

check_end
finish
