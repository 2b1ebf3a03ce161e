#!/bin/bash
# Two CPUs on the AMD-V backend (QEMU TCG -cpu max -smp 2), one BIOS boot: CPU 1 enables AMD-V
# (its own host save area and VM_CR check) and runs its VMs there: a hello64 to its end, a VM
# that fails on a nested page fault and restarts 3 times from zeroed RAM, a cli/spin loop
# preempted by the local APIC timer and stopped by its time limit; CPU 0 runs hello64 and
# compute (its bare-metal checksum) meanwhile; the summary shows each VM's CPU and both CPUs'
# shares lines.
# TEST-BUDGET: 120
export BACKEND=svm
. "$(dirname "$0")/../tools/lib.sh"
. "$(dirname "$0")/configs/checks.sh"

G=$BUILD/guests
for f in "$BUILD/tessera.elf" "$G/hello64.elf" "$G/attacker.elf" "$G/compute.elf"; do
    [ -f "$f" ] || { fail "$f missing (run make first)"; finish; }
done
cat >"$T/tessera.cfg" <<'CFG'
[vm on_cpu0]
image = hello64.elf
cmdline = "greeting=cpu0"

[vm compute0]
image = compute.elf
cmdline = "iterations=200"

[vm on_cpu1]
image = hello64.elf
cpu = 1
cmdline = "greeting=cpu1"

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
time_limit = 300ms
cmdline = "attack=cli_spin"
CFG
log=$T/serial.log
make_iso "$T/smp.iso" "" "$T/tessera.cfg" "$G/hello64.elf" "$G/attacker.elf" "$G/compute.elf"
run_vm_iso "$T/smp.iso" "$log" 100 128 2

expect "$log" '^tessera: cpus=2 \(APIC ids: 0,1\)' "two CPUs found"
expect "$log" '^tessera: cpu 1 \(APIC id 1\) started' "the second CPU started"
expect "$log" '^tessera: AMD-V enabled on CPU 0' "AMD-V on CPU 0"
expect "$log" '^tessera: cpu 1: AMD-V enabled, running 3 VMs' "CPU 1 enables AMD-V and runs its three VMs"
expect "$log" '^tessera: running 5 VMs \(2 on CPU 0;' "5 VMs, two of them on CPU 0"
expect_hello_output "$log" on_cpu0 "greeting=cpu0" 0
expect_hello_output "$log" on_cpu1 "greeting=cpu1" 2
expect_count "$log" '^tessera: vm on_cpu0 exited with status 0' 1 "the CPU 0 hello exits 0"
expect_count "$log" '^tessera: vm on_cpu1 exited with status 0' 1 "the CPU 1 hello exits 0"
expect "$log" '^\[compute0\] compute: iterations=200 checksum=0x198abcc2 ' "compute on CPU 0: bare-metal checksum"
expect_count "$log" '^\[restart_cpu1\] attacker: marker from an earlier life: absent' 4 \
    "a VM on CPU 1 restarts 3 times, each life from zeroed RAM"
expect_count "$log" '^tessera: vm restart_cpu1 failed: nested page fault: write at guest-physical 0x500000' 4 \
    "each life of the CPU 1 VM ends with its nested page fault"
expect_count "$log" '^tessera: vm restart_cpu1: not restarting again \(3 restarts\)' 1 "then it stays failed"
expect_count "$log" '^tessera: vm spin_cpu1 failed: ran past its time_limit of 300 ms' 1 \
    "a spinning VM on CPU 1 is stopped by its time limit"
expect "$log" '^tessera:   spin_cpu1 +FAILED .* preempt=[1-9][0-9]* ' "the spinner was preempted by the APIC timer"
expect "$log" '^tessera:   on_cpu1 +exit 0 +[0-9]+ +[0-9.]+% +1 +1 ' "on_cpu1's row says CPU 1"
expect "$log" '^tessera:   on_cpu0 +exit 0 +[0-9]+ +[0-9.]+% +1 +0 ' "on_cpu0's row says CPU 0"
expect "$log" '^tessera: shares on cpu 1 while all its VMs ran: on_cpu1=' "CPU 1's own shares line"
expect_not "$log" 'FATAL|ESCAPED' "no hypervisor fault, no escape"
expect "$log" '^tessera: end status=ok' "end status=ok"
finish
