#!/bin/bash
# run.sh ISO: boots Tessera on the fastest platform here with its console (and the monitor) on
# this terminal, until the run ends (the monitor's `poweroff`, or end=poweroff on the command
# line), and says which: QEMU/KVM when /dev/kvm offers nested VT-x or AMD-V; else QEMU's TCG with
# -cpu max, which emulates AMD-V with nested paging (the default guests end in a few seconds);
# else Bochs, which emulates VT-x with EPT (RUN_PLATFORM=bochs asks for it: make run-linux does,
# the Linux guest is tested there), with COM1 on a TCP socket bridged to this terminal by
# console_bridge.py (Ctrl-\ leaves).
set -u
iso=$1
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

# nested_kvm FLAG MODULE: /dev/kvm usable and the host's KVM passes FLAG (vmx, svm) to guests
nested_kvm() {
    [ -r /dev/kvm ] && [ -w /dev/kvm ] || return 1
    grep -qw "$1" /proc/cpuinfo || return 1
    local n
    n=$(cat "/sys/module/$2/parameters/nested" 2>/dev/null || echo N)
    [ "$n" = Y ] || [ "$n" = 1 ]
}

platform=${RUN_PLATFORM:-}
if [ -z "$platform" ]; then
    if nested_kvm vmx kvm_intel; then
        platform=kvm-vmx
    elif nested_kvm svm kvm_amd; then
        platform=kvm-svm
    elif command -v qemu-system-x86_64 >/dev/null; then
        platform=tcg-svm
    else
        platform=bochs
    fi
fi
case $platform in
kvm-vmx | kvm-svm)
    echo "tessera: booting under QEMU/KVM with nested ${platform#kvm-} (the fastest here; type poweroff at the monitor, Ctrl-A X quits)"
    exec qemu-system-x86_64 -machine q35 -enable-kvm -cpu host -m 512 -smp 2 \
        -cdrom "$iso" -serial mon:stdio -display none -no-reboot \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04
    ;;
tcg-svm)
    echo "tessera: no nested VT-x or AMD-V here (no usable /dev/kvm): booting under QEMU TCG -cpu max,"
    echo "tessera: which emulates AMD-V with nested paging (faster than Bochs for these guests;"
    echo "tessera: type poweroff at the monitor, Ctrl-A X quits)"
    exec qemu-system-x86_64 -machine pc -accel tcg -cpu max -m 256 -smp 2 \
        -cdrom "$iso" -serial mon:stdio -display none -no-reboot \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04
    ;;
esac

echo "tessera: booting under Bochs, which emulates VT-x with EPT"
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
