#!/bin/bash
# The monitor's `console linux` typing into the Linux guest's shell: the Linux VM of
# guests/linux.cfg with tessera.test=shell (guests/linux/init: after its checks, an interactive
# busybox shell on ttyS0, its controlling terminal; power-off when it exits) beside hello64, under
# QEMU TCG -cpu max (AMD-V + NPT: Linux reaches its shell in about a minute), COM1 on a TCP socket
# driven by tests/tools/console_driver.py, without end=poweroff.
#  - the shell's ready marker; `console linux`; typed lines reach the shell through the vUART's
#    receive FIFO and IRQ 4 and their output comes back: arithmetic expansion (tessera-42), a
#    pipe, the controlling terminal (tty, tty_nr of ttyS0 in /proc/self/stat), Ctrl-C reaching the
#    foreground job (status 130: job control works);
#  - Ctrl-] returns to the monitor, `list` shows linux running;
#  - `console linux` again and `exit`: /init powers the VM off through ACPI S5, it ends with
#    status 0; the session ends with the VM (back to the monitor by itself), the summary, the
#    monitor stays; `poweroff` ends the run.
# About a minute of QEMU at load 3 on 2 cores.
# TEST-BUDGET: 360
. "$(dirname "$0")/../tools/lib.sh"

G=$BUILD/guests
L=$BUILD/linux
for f in "$BUILD/tessera.elf" "$G/hello64.elf"; do
    [ -f "$f" ] || { fail "$f missing (run make first)"; finish; }
done
command -v python3 >/dev/null || skip "python3 is needed to drive the console"
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is needed"
if [ ! -f "$L/vmlinuz" ] || [ ! -f "$L/initramfs.cpio.gz" ]; then
    note "fetching the Linux guest (make linux-guest)"
    make -C "$ROOT" --no-print-directory linux-guest >"$T/fetch.log" 2>&1 ||
        skip "could not fetch the Linux guest from Debian's archive: $(tail -n 1 "$T/fetch.log")"
fi

# guests/linux.cfg's [vm linux] with the shell word, then hello64 on the same CPU
awk '/^\[vm / { on = ($0 == "[vm linux]") } on' "$ROOT/guests/linux.cfg" |
    sed -e 's/^\(cmdline = ".*\)"$/\1 tessera.test=shell"/' >"$T/tessera.cfg"
grep -q 'tessera.test=shell"$' "$T/tessera.cfg" || { fail "guests/linux.cfg: no cmdline in [vm linux]"; finish; }
cat >>"$T/tessera.cfg" <<'EOF'

[vm hello]
image = hello64.elf
memory = 16M
cpu = 0
weight = 1
EOF
make_iso "$T/linux.iso" "end=stay" "$T/tessera.cfg" "$L/vmlinuz" "$L/initramfs.cpio.gz" \
    "$G/hello64.elf" || { fail "cannot build the ISO"; finish; }

cat >"$T/script" <<'EOF'
expect 120 tessera> 
expect 60 ^\[hello\] hello64: done status=0
expect 280 ^\[linux\] TESSERA-LINUX-SHELL ready
sleep 2
send console linux\r
expect 20 ^tessera: console linux: typing goes to its COM1
send \r
expect 30 ^linux:/# 
send echo tessera-$((6*7))\r
expect 30 ^tessera-42$
send echo abc-def | tr a-z A-Z | sed s/-/+/\r
expect 30 ^ABC\+DEF$
send tty\r
expect 30 ^/dev/ttyS0$
send cut -d' ' -f7 /proc/self/stat\r
expect 30 ^1088$
send sleep 60\r
sleep 2
send \x03
expect 30 ^linux:/# 
send echo status=$?\r
expect 30 ^status=130$
send \x1d
expect 20 ^tessera: console linux: back to the monitor
send list\r
expect 20 ^  linux +running +0 +4 +128M
expect 20 ^  hello +exit 0
send console linux\r
expect 20 ^tessera: console linux: typing goes to its COM1
send exit\r
expect 60 ^\[?l?i?n?u?x?\]? ?TESSERA-LINUX-SHELL exited, powering off
expect 60 ^tessera: vm linux: powered off \(ACPI S5\)$
expect 30 ^tessera: vm linux exited with status 0
expect 30 (?s)back to the monitor \(the VM has ended\).*every VM has ended; the monitor stays|every VM has ended; the monitor stays.*back to the monitor \(the VM has ended\)
send poweroff\r
expect 30 ^tessera: end status=ok
EOF

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
raw=$T/console.raw
start=$SECONDS
# COM1 on a TCP server socket (QEMU waits for the driver to connect before it starts)
timeout 330 qemu-system-x86_64 -machine pc -accel tcg -cpu max -m 256 -smp 1 -display none \
    -nodefaults -no-reboot -cdrom "$T/linux.iso" \
    -serial "tcp:127.0.0.1:$port,server=on,wait=on" \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 </dev/null >"$T/qemu.out" 2>&1 &
qemu=$!
python3 "$ROOT/tests/tools/console_driver.py" "$port" "$raw" "$T/script" >"$T/driver.out" 2>&1
driver=$?
wait $qemu
note "QEMU run took $((SECONDS - start)) s, load average after it: $(cut -d' ' -f1-3 /proc/loadavg)"
cat "$T/driver.out"
[ "$driver" -eq 0 ] || fail "the console session did not go as scripted ($(grep FAILED "$T/driver.out"))"

log=$raw.screen
expect "$log" '^tessera: monitor: on the serial console' "the monitor announces itself"
expect "$log" '^\[linux\] TESSERA-LINUX-END' "the Linux guest ran its checks first"
expect_count "$log" '^tessera-42$' 1 "the arithmetic's output, once"
expect_count "$log" '^tessera: poweroff from the monitor' 1 "one poweroff, the monitor's"
finish
