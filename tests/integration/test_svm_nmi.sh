#!/bin/bash
# Host NMIs under AMD-V: the default six guests under QEMU TCG -cpu max, and three NMIs injected
# through QEMU's human monitor (HMP `nmi`: an NMI to every CPU) while the busy guests run. An NMI
# belongs to the host: with the NMI intercept (APM 15.13.2) it ends the guest's run, stays
# pending while GIF is clear and is taken by the hypervisor's own NMI handler after STGI; the
# backend reports it. Checks: the hypervisor reports taking the NMIs, nothing is fatal, and every
# guest's output is what test_svm_vms expects of an undisturbed run (no NMI reached a guest).
# TEST-BUDGET: 200
export BACKEND=svm
. "$(dirname "$0")/../tools/lib.sh"
. "$(dirname "$0")/configs/checks.sh"

G=$BUILD/guests
# the default configuration with a spinner that runs long enough to be interrupted
mkdir -p "$T/cfg"
sed 's/^cmdline = "iterations=2000000 report=500000"$/cmdline = "iterations=1500000000 report=500000000"/' \
    "$G/tessera.cfg" >"$T/cfg/tessera.cfg"
grep -q 'iterations=1500000000' "$T/cfg/tessera.cfg" || { fail "cannot make the spinner run longer"; finish; }
default_guest_files "$T/cfg/tessera.cfg"

log=$T/serial.log
mon=$T/monitor.sock
make_iso "$T/vms.iso" "" $DEFAULT_GUEST_FILES
: >"$log"
run_qemu_svm_iso "$T/vms.iso" "$log" 200 128 1 -monitor "unix:$mon,server,nowait" >"$T/status" &
qemu_job=$!

# Once the spinner (weight 3, always busy) has reported its first progress: three NMIs, 0.3 s apart.
python3 - "$mon" "$log" <<'PY' || fail "could not inject the NMIs through the monitor"
import re, socket, sys, time
mon_path, log_path = sys.argv[1:3]
deadline = time.time() + 150
while time.time() < deadline:
    with open(log_path, errors='replace') as f:
        if re.search(r'^\[spinner\] spinner: progress 500000000/', f.read(), re.M):
            break
    time.sleep(0.1)
else:
    sys.exit('the spinner never reported progress')
s = socket.socket(socket.AF_UNIX)
for _ in range(50):
    try:
        s.connect(mon_path)
        break
    except OSError:
        time.sleep(0.1)
s.settimeout(2)
for i in range(3):
    try:
        s.sendall(b'nmi\n')
    except OSError:
        sys.exit('QEMU went away before NMI %d' % (i + 1))
    time.sleep(0.3)
try:
    s.recv(65536)
except OSError:
    pass
print('[test_svm_nmi] sent 3 NMIs through HMP')
PY
wait "$qemu_job"
st=$(cat "$T/status")
note "QEMU status $st"

expect "$log" '^tessera: svm: usable' "AMD-V judged usable"
expect "$log" '^tessera: svm: host NMI during a guest\b' "the hypervisor took a host NMI that arrived while a guest ran"
expect "$log" '^tessera: host NMIs: 3, all taken by the hypervisor$' \
    "the hypervisor took all three NMIs (the summary counts 3)"
expect_not "$log" 'FATAL|refused| failed' "nothing fatal, refused or failed"
N='[0-9]+'
expect_default_guests "$log"
expect_vm_output "$log" spinner \
    'spinner: start iterations=1500000000 report=500000000' \
    "spinner: progress 500000000/1500000000 tsc=$N" \
    "spinner: progress 1000000000/1500000000 tsc=$N" \
    "spinner: progress 1500000000/1500000000 tsc=$N" \
    "spinner: done iterations=1500000000 checksum=0x[0-9a-f]{16} tsc=$N"
finish
