#!/bin/bash
# The monitor, driven through COM1 on a TCP socket (Bochs `com1: mode=socket-server`, VT-x,
# corei7_skylake_x; with BACKEND=svm, test_svm_monitor.sh, QEMU TCG -cpu max, AMD-V, `-serial
# tcp:`) by tests/tools/console_driver.py, without end=poweroff: three VMs on CPU 0,
# echo (guests/echo.c: reads its COM1, answers "echo: got 'LINE'"), ticker (halter printing a
# wake line every 2 s of emulated time) and hello (hello64, ends at once).
#  - the prompt is shown; list, stats, regs, cpus, mem, log answer; history (Up) repeats a line;
#  - bad input (unknown command, unknown VM, extra argument, a control byte, an overlong line)
#    gets one error line each;
#  - stop ticker: it ends (reported), no ticker line while it is stopped, list says stopped;
#    start ticker: it runs again from its start; restart echo: a new life;
#  - console echo: a typed line reaches the guest through its vUART and comes back unprefixed;
#    typing "poweroff" there goes to the guest, not to the monitor; Ctrl-] returns;
#  - when every VM has ended the summary is shown and the monitor stays; poweroff ends the run;
#  - every ticker line is whole (none torn by the prompt), and no prompt text is inside a VM line.
# TEST-BUDGET: 420
. "$(dirname "$0")/../tools/lib.sh"

G=$BUILD/guests
for f in "$BUILD/tessera.elf" "$G/echo.elf" "$G/halter.elf" "$G/hello64.elf"; do
    [ -f "$f" ] || { fail "$f missing (run make first)"; finish; }
done
command -v python3 >/dev/null || skip "python3 is needed to drive the console"

cat >"$T/tessera.cfg" <<'EOF'
[vm echo]
image = echo.elf
memory = 16M

[vm ticker]
image = halter.elf
memory = 16M
cmdline = "rounds=100000 period_us=2000000"

[vm hello]
image = hello64.elf
memory = 16M
EOF
make_iso "$T/monitor.iso" "end=stay" "$T/tessera.cfg" "$G/echo.elf" "$G/halter.elf" "$G/hello64.elf" ||
    { fail "cannot build the ISO"; finish; }

long=$(printf 'x%.0s' $(seq 1 130))
cat >"$T/script" <<EOF
expect 180 ^\[hello\] hello64: done status=0
expect 60 ^\[ticker\] halter: wake 1/
expect 60 tessera> 
send list\r
expect 20 ^  vm +state +cpu +weight +memory +share +uptime +exits +restarts
expect 20 ^  echo +running +0 +1 +16M +[0-9]+\.[0-9]% +[0-9]+\.[0-9]{3}s +[0-9]+ +0
expect 20 ^  ticker +running
expect 20 ^  hello +exit 0
send stats ticker\r
expect 20 ^  ticker: exits: .*vmcall=[0-9]+ hlt=[0-9]+
expect 20 ^  ticker: time in guest [0-9.]+s \([0-9]+ ticks\), in the hypervisor's exit handling [0-9.]+s \([0-9]+ ticks\), slices [0-9]+
send regs echo\r
expect 20 ^tessera: vm echo: registers \(between two slices\)
expect 20 ^tessera: vm echo:   RIP=[0-9a-f]{16} RSP=
send bogus\r
expect 20 ^error: unknown command 'bogus' \(try 'help'\)
send stats nosuch\r
expect 20 ^error: no VM named 'nosuch' \(see 'list'\)
send list extra\r
expect 20 ^error: 'list' takes no arguments
send li\x02st\r
expect 20 ^error: control byte 0x02 in the line; nothing done
send $long\r
expect 20 ^error: line too long \(at most 120 characters\); nothing done
send cpus\r
expect 20 ^  cpu 0: 3 VMs, 2 running: echo ticker hello \(runs the monitor\)
send mem\r
expect 20 ^  echo +guest-physical 0x0-0x1000000 -> host-physical 0x[0-9a-f]+-0x[0-9a-f]+ \(16 MiB\)
send \x1b[A\r
expect 20 ^  echo +guest-physical 0x0-0x1000000 -> host-physical
send help\r
expect 20 ^  console NAME +type into a VM's COM1; Ctrl-\] returns to the monitor
send stop hello\r
expect 20 ^error: vm hello is not running
send start echo\r
expect 20 ^error: vm echo is running already
send stop ticker\r
expect 20 ^tessera: vm ticker stopped from the monitor
mark stopped
sleep 3
send list\r
expect 20 ^  ticker +stopped
send console echo\r
expect 20 ^tessera: console echo: typing goes to its COM1
send hello there\r
expect 30 ^echo: got 'hello there' \(line 1\)
send poweroff\r
expect 30 ^echo: got 'poweroff' \(line 2\)
send \x1d
expect 20 ^tessera: console echo: back to the monitor
mark started
send start ticker\r
expect 20 ^tessera: vm ticker: started from the monitor
expect 30 ^\[ticker\] halter: start
expect 30 ^\[ticker\] halter: wake 1/
send restart echo\r
expect 20 ^tessera: vm echo stopped from the monitor: restarting
expect 30 ^\[echo\] echo: ready, type a line
send log echo\r
expect 20 ^tessera: vm echo: \| echo: ready, type a line
send console echo\r
expect 20 ^tessera: console echo: typing goes
send quit\r
expect 30 ^echo: got 'quit' \(line 1\)
expect 30 ^tessera: vm echo exited with status 0
send \x1d
expect 20 back to the monitor
send stop ticker\r
expect 30 ^tessera: summary \(3 VMs
expect 30 ^tessera: every VM has ended; the monitor stays \(type 'poweroff' to leave\)
send list\r
expect 20 ^  ticker +stopped
send poweroff\r
expect 30 ^tessera: end status=ok
EOF

port=$(free_port)
raw=$T/console.raw
run_vm_console "$T/monitor.iso" "$port" 360 &
emulator=$!
python3 "$ROOT/tests/tools/console_driver.py" "$port" "$raw" "$T/script" >"$T/driver.out" 2>&1
driver=$?
wait $emulator
cat "$T/driver.out"
[ "$driver" -eq 0 ] || fail "the console session did not go as scripted ($(grep FAILED "$T/driver.out"))"

# the log as the lines a terminal shows (the driver's emulation: CR, erase to the end, ...)
log=$raw.screen
expect "$log" '^tessera: monitor: on the serial console' "the monitor announces itself"
expect "$log" "^tessera: $(backend_name) enabled on CPU 0" "the $BACKEND backend runs the VMs"
# every ticker line whole: prefix, then the halter's own words; except the partial line a stop
# may catch it in the middle of (printed, as at any VM's end, right before its report)
awk '/^tessera: vm ticker stopped from the monitor/ { held = "" } { if (held != "") print held; held = "" }
     /^\[ticker\]/ { held = $0; next } { print } END { if (held != "") print held }' "$log" >"$T/whole.txt"
bad=$(grep -a '\[ticker\]' "$T/whole.txt" | grep -Eav '^\[ticker\] halter: (start|rounds=100000 period_us=2000000 .*|wake [0-9]+/100000 slept_ticks=[0-9]+ forward=yes)$' | head -n 3)
[ -z "$bad" ] || fail "ticker lines torn or mixed: $bad"
expect_not "$log" '.tessera> |tessera> .*\[(ticker|hello|echo)\]' "no prompt inside a VM line"
# nothing from the ticker between its stop and its start
sed -n '/^tessera: vm ticker stopped from the monitor/,/^tessera: vm ticker: started from the monitor/p' "$log" >"$T/stopped.txt"
[ -s "$T/stopped.txt" ] || fail "stop/start markers missing"
expect_not "$T/stopped.txt" '^\[ticker\]' "ticker silent while stopped"
# the typed "poweroff" went to the guest only
expect_count "$log" '^tessera: poweroff from the monitor' 1 "one poweroff, the monitor's"
finish
