#!/bin/bash
# Both vendors' hypercall instructions work on either backend: a guest built for Intel (VMCALL)
# or AMD (VMMCALL) runs unmodified on VT-x and AMD-V. Under Bochs (VT-x, where VMMCALL raises
# #UD) or with BACKEND=svm (test_svm_hypercall_insns.sh, QEMU TCG -cpu max, where VMCALL does):
# the attacker guest asks VM_ID through each instruction and gets the same answer, writes a
# console line through VMMCALL, and exits 0 (an unserved instruction would reach its #UD
# handler: exit 3).
# TEST-BUDGET: 240
. "$(dirname "$0")/../tools/lib.sh"
. "$(dirname "$0")/configs/checks.sh"

G=$BUILD/guests
for f in "$BUILD/tessera.elf" "$G/hello64.elf" "$G/attacker.elf"; do
    [ -f "$f" ] || { fail "$f missing (run make first)"; finish; }
done
cat >"$T/tessera.cfg" <<'CFG'
[vm hello]
image = hello64.elf
memory = 4M

[vm insns]
image = attacker.elf
memory = 4M
cmdline = "attack=hypercall_insns"
CFG
log=$T/serial.log
make_iso "$T/insns.iso" "" "$T/tessera.cfg" "$G/hello64.elf" "$G/attacker.elf"
run_vm_iso "$T/insns.iso" "$log" 200
expect_vm_output "$log" insns \
    'attacker: attack=hypercall_insns starting' \
    'attacker: VM_ID through VMCALL = 1' \
    'attacker: VM_ID through VMMCALL = 1' \
    'attacker: this line came through VMMCALL' \
    'attacker: console_write through VMMCALL rc=41' \
    'attacker: attack=hypercall_insns finished status=0'
expect_count "$log" '^tessera: vm insns exited with status 0' 1 "insns: both instructions served, exit 0"
expect "$log" '^tessera:   insns +exit 0 .* vmcall=3 ' "insns: the three calls counted as hypercalls"
expect_count "$log" '^tessera: vm hello exited with status 0' 1 "hello: exits 0 beside it"
expect "$log" '^tessera: end status=ok' "end status=ok"
finish
