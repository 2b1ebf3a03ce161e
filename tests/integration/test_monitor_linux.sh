#!/bin/bash
# The monitor's `console linux` typing into the Linux guest's shell: the Linux VM of
# guests/linux.cfg with tessera.test=shell (guests/linux/init: after its checks, an interactive
# busybox shell on ttyS0, its controlling terminal; power-off when it exits) beside hello64, under
# Bochs (VT-x + EPT, 25 MHz TSC as test_linux_boot.sh) or with BACKEND=svm (test_svm_monitor_linux.sh)
# under QEMU TCG -cpu max (AMD-V + NPT), COM1 on a TCP socket driven by
# tests/tools/console_driver.py, without end=poweroff.
#  - the shell's ready marker; `console linux`; typed lines reach the shell through the vUART's
#    receive FIFO and IRQ 4 and their output comes back: arithmetic expansion (tessera-42), a
#    pipe, the controlling terminal (tty, tty_nr of ttyS0 in /proc/self/stat), Ctrl-C reaching the
#    foreground job (status 130: job control works);
#  - Ctrl-] returns to the monitor, `list` shows linux running;
#  - `console linux` again and `exit`: /init powers the VM off through ACPI S5, it ends with
#    status 0; the session ends with the VM (back to the monitor by itself), the summary, the
#    monitor stays; `poweroff` ends the run.
# Linux reaches its shell in 20-60 s of QEMU at load 3-4 on 2 cores; under Bochs the boot is
# about 7e9 emulated instructions: the shell after 139 s at load 4 (148 s in all; at load 6, 344
# s in all), and like test_linux_boot.sh up to 25 minutes at load 18.
# TEST-BUDGET: 1500
. "$(dirname "$0")/../tools/lib.sh"

G=$BUILD/guests
L=$BUILD/linux
for f in "$BUILD/tessera.elf" "$G/hello64.elf"; do
    [ -f "$f" ] || { fail "$f missing (run make first)"; finish; }
done
command -v python3 >/dev/null || skip "python3 is needed to drive the console"
[ "$BACKEND" = vmx ] || command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is needed"
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

# Seconds for Linux to reach its shell, and for the whole run
if [ "$BACKEND" = svm ]; then
    BOOT_WAIT=280 RUN_LIMIT=330
else
    # Bochs's TSC counts one tick per instruction at its ips rate: at 25 MHz a 250 Hz timer tick
    # leaves Linux room to run (test_linux_boot.sh), and the guest's TSC rate follows
    export BOCHS_IPS=25000000
    BOOT_WAIT=1300 RUN_LIMIT=1450
fi
cat >"$T/script" <<EOF
expect 180 ^\\[hello\\] hello64: done status=0
expect 60 tessera> 
expect $BOOT_WAIT ^\\[linux\\] TESSERA-LINUX-SHELL ready
mark shell-ready
EOF
cat >>"$T/script" <<'EOF'
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
# Bochs on a loaded machine: each step of the session gets three times as long
[ "$BACKEND" = vmx ] && perl -i -pe 's/^expect (\d+) /"expect " . ($1 < 100 ? 3 * $1 : $1) . " "/e' "$T/script"

port=$(free_port)
raw=$T/console.raw
# COM1 on a TCP server socket (the emulator waits for the driver to connect before it starts)
run_vm_console "$T/linux.iso" "$port" "$RUN_LIMIT" 256 &
emulator=$!
python3 "$ROOT/tests/tools/console_driver.py" "$port" "$raw" "$T/script" >"$T/driver.out" 2>&1
driver=$?
wait $emulator
note "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
cat "$T/driver.out"
[ "$driver" -eq 0 ] || fail "the console session did not go as scripted ($(grep FAILED "$T/driver.out"))"

log=$raw.screen
expect "$log" '^tessera: monitor: on the serial console' "the monitor announces itself"
expect "$log" "^tessera: $(backend_name) enabled on CPU 0" "the $BACKEND backend runs the VMs"
expect "$log" '^\[linux\] TESSERA-LINUX-END' "the Linux guest ran its checks first"
expect_count "$log" '^tessera-42$' 1 "the arithmetic's output, once"
expect_count "$log" '^tessera: poweroff from the monitor' 1 "one poweroff, the monitor's"
finish
