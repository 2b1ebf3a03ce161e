#!/bin/bash
# The monitor stays responsive while a VM floods its console (Bochs, VT-x, or with BACKEND=svm,
# test_svm_monitor_flood.sh, QEMU TCG -cpu max, AMD-V; COM1 on a socket, no end=poweroff): flood (guests/flood.c, 1000 rounds of 4096 newlines and long lines) and echo on
# CPU 0. Through the flood: `list` answers; `console echo` reaches echo and comes back while the
# flood's lines are held; Ctrl-] returns; `stop flood` stops it; the monitor then powers off.
# Each answer must come within 60 s of wall time (the whole flood would take far longer).
# TEST-BUDGET: 420
. "$(dirname "$0")/../tools/lib.sh"

G=$BUILD/guests
for f in "$BUILD/tessera.elf" "$G/echo.elf" "$G/flood.elf"; do
    [ -f "$f" ] || { fail "$f missing (run make first)"; finish; }
done
command -v python3 >/dev/null || skip "python3 is needed to drive the console"

cat >"$T/tessera.cfg" <<'EOF_CFG'
[vm flood]
image = flood.elf
memory = 16M
cmdline = "rounds=1000"

[vm echo]
image = echo.elf
memory = 16M
EOF_CFG
make_iso "$T/flood.iso" "end=stay" "$T/tessera.cfg" "$G/echo.elf" "$G/flood.elf" ||
    { fail "cannot build the ISO"; finish; }

cat >"$T/script" <<'EOF_SCRIPT'
expect 120 ^\[echo\] echo: ready
expect 120 ^\[flood\] flood: long round=1 
send list\r
expect 60 ^  flood +running
expect 60 ^  echo +running
send console echo\r
expect 60 ^tessera: console echo: typing goes
send through the flood\r
expect 60 ^echo: got 'through the flood' \(line 1\)
send \x1d
expect 60 ^tessera: console echo: back to the monitor
send stop flood\r
expect 120 ^tessera: vm flood stopped from the monitor
send list\r
expect 60 ^  flood +stopped
send poweroff\r
expect 60 ^tessera: end status=ok
EOF_SCRIPT

port=$(free_port)
run_vm_console "$T/flood.iso" "$port" 360 &
emulator=$!
start=$SECONDS
python3 "$ROOT/tests/tools/console_driver.py" "$port" "$T/console.raw" "$T/script" >"$T/driver.out" 2>&1
driver=$?
wait $emulator
cat "$T/driver.out"
note "session took $((SECONDS - start)) s"
[ "$driver" -eq 0 ] || fail "the monitor did not answer through the flood ($(grep FAILED "$T/driver.out"))"
log=$T/console.raw.screen
expect "$log" "^tessera: $(backend_name) enabled on CPU 0" "the $BACKEND backend runs the VMs"
expect_not "$log" '^tessera: vm flood exited' "the flood was stopped, not finished"
# the flood's own lines stay whole: newline lines are empty after the prefix, long ones start right
bad=$(grep -a '^\[flood\]' "$log" | grep -Eav '^\[flood\] ($|flood: |[a-z0-9 =]+$|[a-z]+)' | head -n 3)
[ -z "$bad" ] || fail "flood lines torn: $bad"
finish
