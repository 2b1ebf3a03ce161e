#!/bin/bash
# A guest that sleeps in very short steps must not push a CPU-bound neighbour into switch
# overhead (docs/scheduler.md, minimum slice; docs/hypercalls.md, SET_TIMER's minimum period).
# Three boots under Bochs, whose TSC counts instructions, so every number repeats exactly. The CPU
# model is tigerlake, which has IA32_FLUSH_CMD: with corei7_skylake_x, which has none, every exit
# pays ~1570 instructions for the software L1D flush (docs/benchmarks.md), five times the exit
# itself, far more than the same mitigations cost a real CPU relative to its work:
#  1. alone:   compute iterations=200 by itself: T_alone = its tsc (rdtsc around the work);
#  2. sleeper: the same compute first in the config, then halter looping SET_TIMER(2000 ticks) +
#              HLT for 2 s (quiet=1: nothing else per round): compute's tsc <= T_alone * 1.05;
#              and SET_TIMER's 1 ms floor: the sleeper's rounds last 1 ms or more on average;
#  3. latency: compute beside two timer-driven halters, one sleeping 20 x 10 ms (ticker), one
#              sleeping 1 ms steps for longer (fast): each of ticker's wakes comes at most the
#              minimum slice (7/8 of the 10 ms quantum = 43750 ticks at Bochs's 5 MHz) plus 3000
#              ticks of exit and switch path after its deadline; fast's wakes do so on average.
#              Left out: the first 2 wakes, and fast's maximum. A VM's lines are printed to the
#              host console inside its slice, and one line's UART time can overrun the slice
#              (start-up lines; ticker's last lines while fast still sleeps).
# Every compute prints the bare-metal checksum; every VM exits 0.
# With BACKEND=svm (test_svm_sleeper.sh) under QEMU TCG -cpu max with -icount shift=0, whose TSC
# also counts instructions (about 1 GHz by the PIT calibration), so every number repeats there
# too; the minimum slice is computed from the TSC rate the hypervisor printed (the quantum is
# 10 ms of it), slices end on the local APIC timer. compute does iterations=40000 there (its
# bare-metal checksum from QEMU -kernel compute.elf): about 0.9 s of its 1 GHz TSC, as
# iterations=200 lasts under Bochs's 5 MHz (200 would be over within its first slice there).
. "$(dirname "$0")/../tools/lib.sh"
. "$(dirname "$0")/configs/checks.sh"

G=$BUILD/guests
for f in "$BUILD/tessera.elf" "$G/compute.elf" "$G/halter.elf"; do
    [ -f "$f" ] || { fail "$f missing (run make first)"; finish; }
done

ITER=200 SUM=0x198abcc2 # compute's bare-metal checksum
[ "$BACKEND" = svm ] && ITER=40000 SUM=0xce4c1fca
MIN_SLICE=43750 # 7/8 of the 10 ms quantum at the TSC rate (Bochs: 5 MHz); set again from the log
EXIT_PATH=3000

boot() { # boot NAME CONFIG_TEXT: runs it, checks every VM exits 0
    local name=$1 log=$T/$1.log
    mkdir -p "$T/$name"
    printf '%s\n' "$2" >"$T/$name/tessera.cfg" # the hypervisor looks for this module name
    make_iso "$T/$name.iso" "" "$T/$name/tessera.cfg" "$G/compute.elf" "$G/halter.elf"
    if [ "$BACKEND" = svm ]; then
        QEMU_SVM_ARGS="-icount shift=0" run_vm_iso "$T/$name.iso" "$log" 240
    else
        run_bochs_iso "$T/$name.iso" "$log" 240 tigerlake
    fi
    expect "$log" "^\\[victim\\] compute: iterations=$ITER checksum=$SUM tsc=[0-9]+\$" \
        "$name: compute's checksum is the bare-metal one"
    expect_not "$log" '^tessera: vm [a-z]+ failed' "$name: no VM failed"
    expect "$log" '^tessera: end status=ok' "$name: end status=ok"
}
tsc_of() { sed -n "s/^\\[victim\\] compute: iterations=$ITER checksum=0x[0-9a-f]* tsc=\\([0-9]*\\)\$/\\1/p" "$1"; }

VICTIM="[vm victim]
image = compute.elf
memory = 8M
cmdline = \"iterations=$ITER\""

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

hz=$(sed -n 's/^tessera: tsc: \([0-9]*\) Hz.*/\1/p' "$T/sleeper.log" | head -n 1)
read -r wakes ticks < <(sed -En 's/^\[sleeper\] halter: wakes=([0-9]+) ticks=([0-9]+) .*/\1 \2/p' "$T/sleeper.log")
if [ -z "$hz" ] || [ -z "${wakes:-}" ] || [ "${wakes:-0}" -eq 0 ]; then
    fail "sleeper: no TSC rate or no wakes line"
elif [ $((ticks / wakes)) -lt $((hz / 1000)) ]; then
    fail "sleeper: a round took $((ticks / wakes)) ticks on average, less than 1 ms ($((hz / 1000)))"
fi

# the quantum is 10 ms at the TSC rate in whole MHz (kernel/main.c), the minimum slice 7/8 of it
[ -n "$hz" ] && MIN_SLICE=$((hz / 1000000 * 10000 * 7 / 8))
boot latency "$VICTIM

[vm ticker]
image = halter.elf
memory = 4M
cmdline = \"rounds=20 period_us=10000 quiet=1 warmup=2\"

[vm fast]
image = halter.elf
memory = 4M
cmdline = \"rounds=1000000 period_us=1000 duration_us=600000 quiet=1 warmup=2\""
late_of() { # late_of VM max|mean: that number from VM's halter summary line
    sed -n "s/^\\[$1\\] halter: wakes=[0-9]* ticks=[0-9]* late_max=\\([0-9]*\\) late_mean=\\([0-9]*\\)\$/\\1 \\2/p" \
        "$T/latency.log" | awk -v f="$2" '{ print (f == "max") ? $1 : $2 }'
}
note "ticker: $(grep -m1 '^\[ticker\] halter: wakes=' "$T/latency.log")"
note "fast: $(grep -m1 '^\[fast\] halter: wakes=' "$T/latency.log")"
expect "$T/latency.log" '^\[ticker\] halter: wakes=20 ' "ticker: woke 20 times"
expect "$T/latency.log" '^\[fast\] halter: wakes=[0-9]{2,} ' "fast: woke many times"
for check in "ticker max" "fast mean"; do
    set -- $check
    late=$(late_of "$1" "$2")
    if [ -z "$late" ]; then
        fail "$1: no lateness printed"
    elif [ "$late" -gt $((MIN_SLICE + EXIT_PATH)) ]; then
        fail "$1: $2 lateness $late ticks after the deadline, more than $MIN_SLICE + $EXIT_PATH"
    fi
done
finish
