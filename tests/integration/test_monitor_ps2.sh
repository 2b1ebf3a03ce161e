#!/bin/bash
# The monitor typed at through the PS/2 keyboard (the input of a PC without a serial port, and of
# USB keyboards under the firmware's legacy emulation), by tests/tools/sendkeys.py, no
# end=poweroff: under Bochs (VT-x) its emulated keyboard is fed through its RFB display (the
# protocol of a VNC viewer: key press and release events, which Bochs turns into scancodes), with
# BACKEND=svm (test_svm_monitor_ps2.sh) under QEMU TCG -cpu max (AMD-V) through the QEMU
# monitor's `sendkey`:
#  - the hypervisor finds the controller ("on the serial console and the PS/2 keyboard");
#  - keys become the line editor's input: `list` (letters, Enter) lists the VMs; Shift works
#    (`LIST` is an unknown command, echoed in capitals: the parser is case-sensitive); Backspace
#    edits (`lisx`, Backspace, `t` is `list`); `stats echo` (space) answers;
#  - `console echo`: keys reach the echo guest's vUART, which answers; Ctrl-] returns;
#  - `poweroff` typed on the keyboard ends the run (QEMU exits through the debug-exit port, Bochs
#    at the ACPI power-off).
# TEST-BUDGET: 300
. "$(dirname "$0")/../tools/lib.sh"

G=$BUILD/guests
for f in "$BUILD/tessera.elf" "$G/echo.elf" "$G/hello64.elf"; do
    [ -f "$f" ] || { fail "$f missing (run make first)"; finish; }
done
command -v python3 >/dev/null || skip "python3 is needed to type on the emulated keyboard"
[ "$BACKEND" = vmx ] || command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed"

cat >"$T/tessera.cfg" <<'CFG'
[vm echo]
image = echo.elf
memory = 16M

[vm hello]
image = hello64.elf
memory = 16M
CFG
# QEMU's exit port gives the run's status; Bochs has none (its run ends at the ACPI power-off)
exit_arg=""
[ "$BACKEND" = svm ] && exit_arg=" exit=qemu"
make_iso "$T/ps2.iso" "end=stay$exit_arg" "$T/tessera.cfg" "$G/echo.elf" "$G/hello64.elf" ||
    { fail "cannot build the ISO"; finish; }

cat >"$T/keys" <<'KEYS'
wait 120 ^tessera: monitor: on the serial console and the PS/2 keyboard
wait 60 ^tessera: vm hello exited with status 0
type list\n
wait 30 ^  echo +running +0 +1 +16M
type LIST\n
wait 30 ^error: unknown command 'LIST'
type lisx\bt\n
waitn 30 2 ^  hello +exit 0
type stats echo\n
wait 30 ^  echo: exits:
type console echo\n
wait 30 ^tessera: console echo: typing goes to its COM1
type ps2 typed this\n
wait 30 ^echo: got 'ps2 typed this'
key ctrl-bracket_right
wait 30 ^tessera: console echo: back to the monitor
type stop echo\n
wait 30 ^tessera: vm echo
type poweroff\n
KEYS
log=$T/serial.log
: >"$log"
start=$SECONDS
if [ "$BACKEND" = svm ]; then
    mon=$T/qemu-monitor.sock
    qemu-system-x86_64 -machine pc -accel tcg -cpu max -m 256 -display none -nodefaults -no-reboot \
        -cdrom "$T/ps2.iso" -serial "file:$log" -monitor "unix:$mon,server=on,wait=off" \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 </dev/null >"$log.qemu" 2>&1 &
    keyboard=qemu:$mon
else
    # run_bochs_iso's Bochs log (LOG.bochs) names the port its RFB display listens on
    run_bochs_iso "$T/ps2.iso" "$log" 240 &
    keyboard=rfb:$log.bochs
fi
emulator=$!
python3 "$ROOT/tests/tools/sendkeys.py" "$keyboard" "$log" "$T/keys" >"$T/keys.out" 2>&1 ||
    fail "typing: $(tail -n 1 "$T/keys.out")"
st=0
for _ in $(seq 1 60); do kill -0 "$emulator" 2>/dev/null || break; sleep 1; done
if kill -0 "$emulator" 2>/dev/null; then
    fail "poweroff typed on the keyboard did not end the run"
    # QEMU is the job itself; Bochs runs under run_bochs_iso's timeout, which ends it
    [ "$BACKEND" = svm ] && kill "$emulator"
    wait "$emulator" 2>/dev/null
else
    wait "$emulator"; st=$?
fi
sed -i 's/\r$//' "$log"
note "$BACKEND run took $((SECONDS - start)) s, status $st"

expect "$log" '^tessera: monitor: on the serial console and the PS/2 keyboard' "the keyboard controller is found"
expect "$log" "^error: unknown command 'LIST'" "Shift gives capitals (the parser is case-sensitive)"
expect_count "$log" '^  vm +state +cpu +weight' 2 "list typed on the keyboard answers, the Backspace-edited one too"
expect "$log" "^echo: got 'ps2 typed this'" "console echo: keys reach the guest's vUART"
expect "$log" '^tessera: console echo: back to the monitor' "Ctrl-] on the keyboard ends the session"
expect "$log" "^tessera: $(backend_name) enabled on CPU 0" "the $BACKEND backend runs the VMs"
if [ "$BACKEND" = svm ]; then
    expect_status "$st" 33 "poweroff typed on the keyboard ends the run (status 33: success)"
else
    expect "$log" '^tessera: end status=ok' "poweroff typed on the keyboard ends the run"
fi
finish
