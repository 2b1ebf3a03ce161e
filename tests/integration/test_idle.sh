#!/bin/bash
# An idle CPU halts instead of spinning (arch/x86/idle.c): with every VM of a CPU asleep, the CPU
# sits in HLT until the next VM's timer (the local APIC timer), the boot CPU also for its
# monitor poll every millisecond. Two CPUs (Bochs with VT-x; with BACKEND=svm, test_svm_idle.sh,
# QEMU TCG -cpu max with AMD-V), each running one halter that sleeps in long steps:
#   - both VMs exit 0 and wake as often as they asked;
#   - the summary reports each CPU halted for most of the run (at least 80%: the rest is the
#     boot of the VMs, their wakes and the boot CPU's polls);
#   - under QEMU, whose TSC here is the host's clock, the emulator itself goes quiet: its CPU
#     time is under half the run's wall time (a CPU spinning in the hypervisor's idle loop
#     keeps a TCG vCPU thread busy all the time: that was 100% of a host core per CPU).
# A monitor request reaching a halted CPU (the wake IPI) is test_monitor_smp's "start echo".
# TEST-BUDGET: 240
. "$(dirname "$0")/../tools/lib.sh"

G=$BUILD/guests
for f in "$BUILD/tessera.elf" "$G/halter.elf"; do
    [ -f "$f" ] || { fail "$f missing (run make first)"; finish; }
done

cat >"$T/tessera.cfg" <<'EOF_CFG'
[vm nap0]
image = halter.elf
memory = 8M
cpu = 0
cmdline = "rounds=8 period_us=1000000"

[vm nap1]
image = halter.elf
memory = 8M
cpu = 1
cmdline = "rounds=4 period_us=2000000"
EOF_CFG
make_iso "$T/idle.iso" "" "$T/tessera.cfg" "$G/halter.elf" || { fail "cannot build the ISO"; finish; }

log=$T/idle.log
start=$(date +%s%N)
# the subshell's `times`: the CPU time of the emulator it waited for (user, system)
cpu=$( (run_vm_iso "$T/idle.iso" "$log" 200 128 2 >/dev/null; times) | tail -1)
wall_ms=$((($(date +%s%N) - start) / 1000000))

expect "$log" '^\[nap0\] halter: wake 8/8' "nap0 woke 8 times"
expect "$log" '^\[nap1\] halter: wake 4/4' "nap1 woke 4 times"
expect_not "$log" '^tessera: vm [a-z0-9]+ failed' "no VM failed"
expect "$log" '^tessera: end status=ok' "end status=ok"
for c in 0 1; do
    line=$(grep -E "^tessera: cpu $c idle: halted" "$log")
    pct=$(sed -n 's/^tessera: cpu [0-9]* idle: halted \([0-9]*\)\.[0-9]% of the run.*/\1/p' <<<"$line")
    note "cpu $c: ${line#tessera: }"
    if [ -z "$pct" ]; then
        fail "no idle line for cpu $c"
    elif [ "$pct" -lt 80 ]; then
        fail "cpu $c halted only $pct% of the run (at least 80% expected)"
    fi
done

if [ "$BACKEND" = svm ]; then
    # `times` prints "XmY.YYYs XmY.YYYs" (user, system)
    cpu_ms=$(awk '{ t = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); sub("s", "", a[2]); t += a[1] * 60 + a[2] } printf "%d", t * 1000 }' <<<"$cpu")
    note "QEMU: ${cpu_ms} ms of CPU time in ${wall_ms} ms"
    [ "$cpu_ms" -lt $((wall_ms / 2)) ] ||
        fail "QEMU used ${cpu_ms} ms of CPU time in ${wall_ms} ms: the idle CPUs did not halt"
fi
finish
