#!/bin/bash
# Host NMIs under VT-x: the default six guests under Bochs (corei7_skylake_x), and three NMIs
# delivered to the CPU by Bochs's debugger (`take nmi`, at fixed instruction counts while the
# spinner runs alone: the first guest entry comes at about 132 M ticks, the other guests have
# ended by about 152 M, the spinner by about 179 M; with the others, exits and their L1D flush
# (no IA32_FLUSH_CMD on this model) take much of the time, and an NMI lands there). An NMI
# belongs to the host: NMI exiting (SDM Vol. 3C 25.1.1) ends the guest's run and the VMX backend
# counts it (intr= in the VM's summary row) and hands it to the host's NMI handler (x86/trap.c),
# whose IRET ends the NMI blocking the exit left (SDM Vol. 3C 28.1): without that, every later
# NMI would be held forever. Checks: Bochs delivered the three NMIs, one at least came while a
# guest ran and was reported, one came after it, the hypervisor took all three (the summary counts
# 3), nothing is fatal and every guest's output is that of an undisturbed run.
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
    printf 'sba 155000000\nc\ntake nmi\nsba 162000000\nc\ntake nmi\nsba 169000000\nc\ntake nmi\n'
    for _ in $(seq 1 30); do printf 'c\n'; done
    printf 'quit\n'
} >"$T/dbg.rc"
(cd "$T" && timeout 100 bochs -q -f bochsrc -rc dbg.rc </dev/null >"$T/bochs.stdout" 2>&1)
sed -i 's/\r$//' "$log" 2>/dev/null

expect_count "$T/bochs.stdout" '^Delivering NMI to cpu0' 3 "Bochs delivered three NMIs"
expect "$log" '^tessera: vmx: usable ' "VT-x judged usable"
expect_not "$log" 'FATAL|refused| failed' "nothing fatal, refused or failed"
expect "$log" '^tessera:   [a-z]+ +exit 0 .* intr=[1-9]' "an NMI ended a guest's run (a VM's row counts it)"
nmi_re="^tessera: vmx: host NMI during a guest's run, taken by the hypervisor \\(([0-9]+) host NMIs so far\\)$"
# Where each lands (a guest's run, the hypervisor, a halt) follows the exact instruction counts:
# at least one in a guest's run, and one taken after it (its line counts fewer than 3), shows the
# exit's NMI blocking ended; the summary counts every NMI the hypervisor took
n_nmi=$(grep -Ec "$nmi_re" "$log")
first=$(sed -En "s/$nmi_re/\\1/p" "$log" | head -1)
[ "$n_nmi" -ge 1 ] || fail "no NMI was reported during a guest's run (bochs.stdout shows where they landed)"
[ -z "$first" ] || [ "$first" -lt 3 ] ||
    fail "the only in-guest NMI was the last: nothing shows the NMI blocking ended"
expect "$log" '^tessera: host NMIs: 3, all taken by the hypervisor$' \
    "the hypervisor took all three NMIs (the summary counts 3)"
note "$n_nmi in-guest NMIs reported; summary rows' intr: $(grep -Eo ' intr=[0-9]+' "$log" | tr -d '\n')"
N='[0-9]+'
expect_default_guests "$log"
expect_default_spinner "$log"
finish
