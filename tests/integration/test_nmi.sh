#!/bin/bash
# Host NMIs under VT-x: the default six guests under Bochs (corei7_skylake_x), and three NMIs
# delivered to the CPU by Bochs's debugger (`take nmi`, at fixed instruction counts while the
# guests run: the first guest entry comes at about 131 M ticks, the run ends near 176 M). An NMI
# belongs to the host: NMI exiting (SDM Vol. 3C 25.1.1) ends the guest's run and the VMX backend
# counts it (intr= in the VM's summary row) and hands it to the host's NMI handler (x86/trap.c),
# whose IRET ends the NMI blocking the exit left (SDM Vol. 3C 28.1): without that, every later
# NMI would be held forever. Checks: Bochs delivered the three NMIs, those that came while a guest
# ran were reported, the hypervisor took all three (its count reaches 3), nothing is fatal and
# every guest's output is that of an undisturbed run.
# TEST-BUDGET: 120
. "$(dirname "$0")/../tools/lib.sh"
. "$(dirname "$0")/configs/checks.sh"

G=$BUILD/guests
default_guest_files "$G/tessera.cfg"

log=$T/serial.log
make_iso "$T/vms.iso" "" $DEFAULT_GUEST_FILES
bochs_config "$T/bochsrc" "cdrom:$T/vms.iso" "$log" "$log.bochs" 128 corei7_skylake_x 1
# a time breakpoint stays, every 10 M ticks after the last one: enough `c` to run to the end
{
    printf 'sba 140000000\nc\ntake nmi\nsba 150000000\nc\ntake nmi\nsba 160000000\nc\ntake nmi\n'
    for _ in $(seq 1 30); do printf 'c\n'; done
    printf 'quit\n'
} >"$T/dbg.rc"
(cd "$T" && timeout 100 bochs -q -f bochsrc -rc dbg.rc </dev/null >"$T/bochs.stdout" 2>&1)
sed -i 's/\r$//' "$log" 2>/dev/null

expect_count "$T/bochs.stdout" '^Delivering NMI to cpu0' 3 "Bochs delivered three NMIs"
expect "$log" '^tessera: vmx: usable ' "VT-x judged usable"
expect_not "$log" 'FATAL|refused| failed' "nothing fatal, refused or failed"
expect "$log" '^tessera:   [a-z]+ +exit 0 .* intr=[1-9]' "an NMI ended a guest's run (a VM's row counts it)"
nmi_re="^tessera: vmx: host NMI during a guest's run, taken by the hypervisor \\([0-9]+ host NMIs so far\\)$"
# at these instruction counts all three land in a guest (bochs.stdout shows where): one taken in
# the hypervisor would be counted without a line, so two lines at least, and the count reaches 3
n_nmi=$(grep -Ec "$nmi_re" "$log")
[ "$n_nmi" -ge 2 ] || fail "NMIs after the first reached the hypervisor ($n_nmi reported during a guest's run, 2 or 3 expected)"
expect "$log" "^tessera: vmx: host NMI during a guest's run, .*\\(3 host NMIs so far\\)$" \
    "the hypervisor took all three NMIs (its count reaches 3)"
note "$n_nmi in-guest NMIs reported; summary rows' intr: $(grep -Eo ' intr=[0-9]+' "$log" | tr -d '\n')"
N='[0-9]+'
expect_default_guests "$log"
expect_default_spinner "$log"
finish
