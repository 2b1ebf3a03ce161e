#!/bin/bash
# run.sh ISO: boots Tessera on the best platform here with its console (and monitor) on this
# terminal, until the run ends (the monitor's `poweroff`, or end=poweroff on the command line).
# QEMU/KVM when /dev/kvm offers nested VT-x, else Bochs (which emulates VT-x with EPT), whose COM1
# is a TCP socket bridged to this terminal by console_bridge.py (Ctrl-\ leaves).
set -u
iso=$1
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

nested_vmx() {
    [ -r /dev/kvm ] && [ -w /dev/kvm ] || return 1
    grep -qw vmx /proc/cpuinfo || return 1
    local n
    n=$(cat /sys/module/kvm_intel/parameters/nested 2>/dev/null || echo N)
    [ "$n" = Y ] || [ "$n" = 1 ]
}

if nested_vmx; then
    echo "tessera: booting under QEMU/KVM with nested VT-x (type poweroff at the monitor; Ctrl-A X quits)"
    exec qemu-system-x86_64 -machine q35 -enable-kvm -cpu host -m 512 -smp 2 \
        -cdrom "$iso" -serial mon:stdio -display none -no-reboot \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04
fi

echo "tessera: no nested VT-x here (no usable /dev/kvm): booting under Bochs, which emulates VT-x"
echo "tessera: this takes a few seconds per guest; type 'poweroff' at the monitor (or Ctrl-\\) to leave"
dir=$(mktemp -d)
trap 'kill $bochs_pid 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$dir"' EXIT
. "$ROOT/tests/tools/bochsrc.sh"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BOCHS_COM1_MODE=socket-server BOCHS_COM1_DEV="localhost:$port" \
    bochs_config "$dir/bochsrc" "cdrom:$iso" "$dir/serial.log" "$dir/bochs.log" 256
printf 'c\nquit\n' >"$dir/dbg.rc"
(cd "$dir" && exec bochs -q -f bochsrc -rc dbg.rc </dev/null >"$dir/bochs.out" 2>&1) &
bochs_pid=$!
python3 "$ROOT/tests/tools/console_bridge.py" "$port" "$dir/serial.log"
kill $bochs_pid 2>/dev/null
wait $bochs_pid 2>/dev/null
grep -q 'end status=ok' "$dir/serial.log"
