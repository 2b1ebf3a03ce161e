#!/bin/bash
# A guest that sleeps in very short steps must not push a CPU-bound neighbour into switch
# overhead (docs/scheduler.md, minimum slice; docs/hypercalls.md, SET_TIMER's minimum period).
# Three boots under Bochs, whose TSC counts instructions, so every number repeats exactly:
#  1. alone:   compute iterations=200 by itself: T_alone = its tsc (rdtsc around the work);
#  2. sleeper: the same compute first in the config, then halter looping SET_TIMER(2000 ticks) +
#              HLT for 2 s (quiet=1: nothing else per round): compute's tsc <= T_alone * 1.05;
#  3. latency: compute beside halter sleeping 20 x 10 ms: each wake comes at most the minimum
#              slice (half the 10 ms quantum: 25000 ticks at Bochs's 5 MHz) plus 3000 ticks of
#              exit and switch path after its deadline.
# Every compute prints the bare-metal checksum; every VM exits 0.
. "$(dirname "$0")/../tools/lib.sh"
. "$(dirname "$0")/configs/checks.sh"

G=$BUILD/guests
for f in "$BUILD/tessera.elf" "$G/compute.elf" "$G/halter.elf"; do
    [ -f "$f" ] || { fail "$f missing (run make first)"; finish; }
done

SUM=0x198abcc2 # compute iterations=200
MIN_SLICE=25000
EXIT_PATH=3000

boot() { # boot NAME CONFIG_TEXT: runs it, checks every VM exits 0
    local name=$1 log=$T/$1.log
    mkdir -p "$T/$name"
    printf '%s\n' "$2" >"$T/$name/tessera.cfg" # the hypervisor looks for this module name
    make_iso "$T/$name.iso" "" "$T/$name/tessera.cfg" "$G/compute.elf" "$G/halter.elf"
    run_bochs_iso "$T/$name.iso" "$log" 240
    expect "$log" "^\\[victim\\] compute: iterations=200 checksum=$SUM tsc=[0-9]+\$" \
        "$name: compute's checksum is the bare-metal one"
    expect_not "$log" '^tessera: vm [a-z]+ failed' "$name: no VM failed"
    expect "$log" '^tessera: end status=ok' "$name: end status=ok"
}
tsc_of() { sed -n 's/^\[victim\] compute: iterations=200 checksum=0x[0-9a-f]* tsc=\([0-9]*\)$/\1/p' "$1"; }

VICTIM='[vm victim]
image = compute.elf
memory = 8M
cmdline = "iterations=200"'

boot alone "$VICTIM"
alone=$(tsc_of "$T/alone.log")

boot sleeper "$VICTIM

[vm sleeper]
image = halter.elf
memory = 4M
cmdline = \"rounds=1000000 period_ticks=2000 duration_us=2000000 quiet=1\""
beside=$(tsc_of "$T/sleeper.log")
expect "$T/sleeper.log" '^\[sleeper\] halter: done wakes=[0-9]+$' "sleeper: ran its loop to the end"
note "compute alone: ${alone:-?} ticks; beside the 2000-tick sleeper: ${beside:-?} ticks"
note "sleeper: $(grep -m1 '^\[sleeper\] halter: wakes=' "$T/sleeper.log")"
if [ -n "$alone" ] && [ -n "$beside" ]; then
    note "slowdown: $(((beside - alone) * 1000 / alone / 10)).$(((beside - alone) * 1000 / alone % 10)) %"
    [ $((beside * 100)) -le $((alone * 105)) ] ||
        fail "compute took $beside ticks beside the sleeper, more than 5 % over $alone alone"
else
    fail "no compute tsc in one of the logs"
fi

boot latency "$VICTIM

[vm ticker]
image = halter.elf
memory = 4M
cmdline = \"rounds=20 period_us=10000 quiet=1\""
line=$(grep -m1 '^\[ticker\] halter: wakes=' "$T/latency.log")
note "ticker: $line"
late_max=$(sed -n 's/.* late_max=\([0-9]*\) .*/\1/p' <<<"$line")
if [ -z "$late_max" ]; then
    fail "ticker: no late_max printed"
elif [ "$late_max" -gt $((MIN_SLICE + EXIT_PATH)) ]; then
    fail "ticker: a wake came $late_max ticks late, more than $MIN_SLICE + $EXIT_PATH"
fi
expect "$T/latency.log" '^\[ticker\] halter: wakes=20 ' "ticker: woke 20 times"
finish
