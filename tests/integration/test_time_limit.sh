#!/bin/bash
# time_limit counts a VM's life from its first entry, not from its creation, under Bochs (or with
# BACKEND=svm, test_svm_time_limit.sh, under QEMU TCG -cpu max, the limits enforced with the local
# APIC timer):
# 29 halter VMs of 4 MiB (one 1 ms sleep each), each with time_limit = 3s, on CPU 0. Creating
# them (zeroing 4 MiB each, loading, hashing, printing) takes longer than the limit, so a limit
# counted from creation stopped most of them before they had ever run (0 slices). All 29 together
# need well under 3 s of real time once they run: all must exit 0. A 30th VM that spins with
# interrupts off (time_limit = 2s, on_fail = restart) must still be stopped by its limit in each
# of its 4 lives, after having run; each restart starts a new 2 s life, so with the halters gone
# its last 3 lives alone take about 3 x 2 s of CPU.
. "$(dirname "$0")/../tools/lib.sh"
. "$(dirname "$0")/configs/checks.sh"

G=$BUILD/guests
for f in "$BUILD/tessera.elf" "$G/halter.elf" "$G/attacker.elf"; do
    [ -f "$f" ] || { fail "$f missing (run make first)"; finish; }
done

HALTERS=29
cfg=$T/tessera.cfg
: >"$cfg"
for i in $(seq 1 $HALTERS); do
    printf '[vm h%02d]\nimage = halter.elf\nmemory = 4M\ntime_limit = 3s\ncmdline = "rounds=1 period_us=1000"\n\n' \
        "$i" >>"$cfg"
done
printf '[vm spin]\nimage = attacker.elf\nmemory = 4M\ntime_limit = 2s\non_fail = restart\ncmdline = "attack=cli_spin"\n' \
    >>"$cfg"
TOTAL=$((HALTERS + 1))

log=$T/serial.log
make_iso "$T/time_limit.iso" "" "$cfg" "$G/halter.elf" "$G/attacker.elf"
# 30 VMs x 4 MiB = 120 MiB of guest RAM: Bochs gets 256 MiB. tigerlake has IA32_FLUSH_CMD: with
# corei7_skylake_x the software L1D flush costs ~1570 instructions per exit (docs/benchmarks.md)
# and the 29 halters' 300 console exits each would take most of their 3 s by themselves.
if [ "$BACKEND" = svm ]; then
    run_vm_iso "$T/time_limit.iso" "$log" 150 256
else
    run_bochs_iso "$T/time_limit.iso" "$log" 300 tigerlake 256
fi

expect "$log" "^tessera: running $TOTAL VMs \\($TOTAL on CPU 0;" "all $TOTAL VMs created"
expect_not "$log" '^tessera: vm [a-z0-9_]+ .*refused' "no VM refused"
early=$(grep -Ec '^tessera: vm h[0-9]+ failed: ran past its time_limit' "$log" || true)
[ "$early" -eq 0 ] || fail "$early of $HALTERS halter VMs were stopped by their time_limit"
for i in $(seq 1 $HALTERS); do
    vm=$(printf 'h%02d' "$i")
    expect_count "$log" "^tessera: vm $vm exited with status 0" 1 "$vm exits 0"
    expect_summary_row "$log" "$vm" "exit 0"
    expect "$log" "^\\[$vm\\] halter: done wakes=1\$" "$vm: slept once and finished"
done
# no halter VM ends with 0 slices (the summary's slices column)
zero=$(grep -Ec '^tessera:   h[0-9]+ +[^ ]+( [0-9]+)? +[0-9]+ +[0-9.]+% +[0-9]+ +[0-9]+ +0  ' "$log" || true)
[ "$zero" -eq 0 ] || fail "$zero halter VMs never ran (0 slices in the summary)"

# the spinner overran for real: stopped by its limit in every life, after running many slices
expect_count "$log" '^tessera: vm spin failed: ran past its time_limit of 2000 ms' 4 \
    "spin: stopped by its time_limit in each of its 4 lives"
expect_count "$log" '^tessera: vm spin: restarting \(restart [1-3] of at most 3\)' 3 "spin: restarted 3 times"
expect_count "$log" '^\[spin\] attacker: interrupts off' 4 "spin: spun in each life"
hz=$(sed -n 's/^tessera: tsc: \([0-9]*\) Hz.*/\1/p' "$log" | head -n 1)
ticks=$(sed -En 's/^tessera:   spin +FAILED +([0-9]+) .*/\1/p' "$log")
if [ -z "$hz" ] || [ -z "$ticks" ]; then
    fail "no TSC rate or no summary row for spin"
elif [ "$ticks" -lt $((hz * 2 * 3 * 9 / 10)) ]; then
    fail "spin ran $ticks ticks in all, less than 90 % of 3 lives of 2 s alone at $hz Hz"
fi
expect "$log" '^tessera: end status=' "the run ends"
finish
