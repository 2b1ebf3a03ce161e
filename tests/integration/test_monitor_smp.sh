#!/bin/bash
# The monitor's requests across CPUs (Bochs with VT-x, or with BACKEND=svm, test_svm_monitor_smp.sh,
# QEMU TCG -cpu max with AMD-V; 2 CPUs, COM1 on a socket, no end=poweroff): echo
# runs on CPU 1, ticker (halter) on CPU 0 with the monitor. From CPU 0: regs echo (dumped on
# CPU 1, where its VMCS is), console echo (keystrokes cross to CPU 1's vUART and back), stop echo,
# start echo (CPU 1 had gone idle: it comes back to its run loop), restart echo, then every VM
# ended: the summary waits for both CPUs, the monitor stays, poweroff.
# TEST-BUDGET: 420
. "$(dirname "$0")/../tools/lib.sh"

G=$BUILD/guests
for f in "$BUILD/tessera.elf" "$G/echo.elf" "$G/halter.elf"; do
    [ -f "$f" ] || { fail "$f missing (run make first)"; finish; }
done
command -v python3 >/dev/null || skip "python3 is needed to drive the console"

cat >"$T/tessera.cfg" <<'EOF_CFG'
[vm ticker]
image = halter.elf
memory = 16M
cpu = 0
cmdline = "rounds=100000 period_us=2000000"

[vm echo]
image = echo.elf
memory = 16M
cpu = 1
EOF_CFG
make_iso "$T/smp.iso" "end=stay" "$T/tessera.cfg" "$G/echo.elf" "$G/halter.elf" ||
    { fail "cannot build the ISO"; finish; }

cat >"$T/script" <<'EOF_SCRIPT'
expect 180 ^\[echo\] echo: ready
expect 120 ^\[ticker\] halter: wake 1/
send cpus\r
expect 60 ^  cpu 0: 1 VMs, 1 running: ticker \(runs the monitor\)
expect 60 ^  cpu 1: 1 VMs, 1 running: echo; halted [0-9]+\.[0-9]% of the run$
send regs echo\r
expect 60 ^tessera: vm echo:   RIP=[0-9a-f]{16}
send console echo\r
expect 60 ^tessera: console echo: typing goes
send across cpus\r
expect 60 ^echo: got 'across cpus' \(line 1\)
send \x1d
expect 60 back to the monitor
send stop echo\r
expect 60 ^tessera: vm echo stopped from the monitor
send start echo\r
expect 60 ^tessera: vm echo: started from the monitor
expect 120 ^\[echo\] echo: ready
send restart echo\r
expect 60 ^tessera: vm echo stopped from the monitor: restarting
expect 120 ^\[echo\] echo: ready
send stop echo\r
expect 60 ^tessera: vm echo stopped from the monitor
send stop ticker\r
expect 60 ^tessera: vm ticker stopped from the monitor
expect 120 ^tessera: summary \(2 VMs
expect 60 ^tessera: every VM has ended; the monitor stays
send start echo\r
expect 60 ^tessera: vm echo: started from the monitor
expect 120 ^\[echo\] echo: ready
send poweroff\r
expect 60 ^tessera: end status=ok
EOF_SCRIPT

port=$(free_port)
run_vm_console "$T/smp.iso" "$port" 400 128 2 &
emulator=$!
python3 "$ROOT/tests/tools/console_driver.py" "$port" "$T/console.raw" "$T/script" >"$T/driver.out" 2>&1
driver=$?
wait $emulator
cat "$T/driver.out"
[ "$driver" -eq 0 ] || fail "the console session did not go as scripted ($(grep FAILED "$T/driver.out"))"
log=$T/console.raw.screen
expect "$log" "^tessera: cpu 1: $(backend_name) enabled, running 1 VMs" "CPU 1 runs echo"
expect_not "$log" 'did not answer' "every request answered"
expect_not "$log" 'registers unavailable' "the dump ran where the VMCS (VMCB) is"
finish
