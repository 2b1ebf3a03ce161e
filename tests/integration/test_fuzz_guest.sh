#!/bin/bash
# The fuzz guest (guests/fuzzer.c) under Bochs (VT-x), next to two canaries on the same CPU: a
# 32-bit compute workload and mb32 with PAE paging. Two boots:
#  1. reference: the canaries alone;
#  2. fuzz: the canaries, the fuzzer and its twin (the same seed and op count in a second VM).
# Checks: the hypervisor survives (summary, end line, no FATAL); each canary prints exactly what it
# printed in the reference boot (compute: its known checksum too) and exits 0; the fuzzer
# completes every op with no mismatch and no unexpected exception and exits 0 (any stop is a
# finding); the twin prints the same final line (the result depends on the seed alone).
# FUZZ_GUEST_OPS (default 100000) and FUZZ_GUEST_SEED (default 0x5eed) choose the run; `make
# fuzz-guest` (tests/fuzz/guest.mk) runs this with 10^6 ops. BACKEND=svm (test_svm_fuzz_guest.sh)
# runs it under QEMU TCG -cpu max (AMD-V), where QEMU 7.2's emulated CPU itself departs from the
# architecture in ways the fuzzer would report. None is ours: each happens inside the guest with
# no exit in between (the SVM backend intercepts neither CR0, CR3, CR8, DR nor #PF, and passes
# a #NP's or #GP's EXITINFO1 error code through), and each is confirmed in QEMU's source:
#  cr0     MOV CR0 checks nothing (bits 63:32, PG without PE, PG cleared in 64-bit mode, NW
#          without CD: all #GP, SDM vol. 2 MOV CR): the guest drops to real mode, or QEMU's VMRUN
#          refuses the state it let the guest make; not tried
#  cr3     MOV CR3 with a bit above MAXPHYADDR ends the guest with VMEXIT_INVALID, not #GP;
#          not tried
#  cr8     MOV CR8 ignores bits 63:4 instead of #GP; not tried
#  idt_err a fault on a 64-bit IDT entry (absent gate #NP, past the limit or DPL #GP) carries
#          vector*16+2, not vector*8+2 (SDM vol. 3 6.13; QEMU issue 1382, fixed in 8.0)
#  icebp   ICEBP (INT1) raises #UD, not #DB (left out of QEMU's translator)
#  pf_rsvd a reserved-bit #PF lacks P (SDM vol. 3 4.7: P=1; QEMU 7.2's rewritten page walk)
#  ss      a non-canonical stack access raises #GP, not #SS (SDM vol. 3 6.15 Interrupt 12)
#  gd      no DR7.GD general detect (SDM vol. 3 17.2.4); not tried
#  xm      no SIMD floating-point exception (#XM, or #UD without OSXMMEXCPT) at all
#  msr     WRMSR of a non-canonical FS/GS/KERNEL_GS base, LSTAR, CSTAR or SYSENTER address is
#          stored instead of #GP; not tried
#  pvi     CLI at CPL 3 with CR4.PVI raises #GP instead of clearing VIF (SDM vol. 3 20.4)
#  dr_bp   VMRUN and #VMEXIT load DR7 without updating QEMU's breakpoint list: a VM switch while
#          a DR0-3 breakpoint is on makes QEMU itself crash (SIGSEGV) at a later MOV DR7; the
#          breakpoint ops are not tried
# The fuzzer does that with quirks=qemu-tcg (guests/README.md) and counts each on one
# "fuzzer: known=qemu-tcg ..." line, which must be there; everything else is asserted as under
# Bochs: no mismatch, no unexpected exception, the canaries untouched, the twin's same result.
. "$(dirname "$0")/../tools/lib.sh"
. "$(dirname "$0")/configs/checks.sh"

OPS=${FUZZ_GUEST_OPS:-100000}
SEED=${FUZZ_GUEST_SEED:-0x5eed}
ITER=$((OPS / 100 < 1000 ? 1000 : OPS / 100)) # the canary computes through much of the run
TIMEOUT=${FUZZ_GUEST_TIMEOUT:-$((120 + OPS / 500))} # generous: a loaded machine runs Bochs slowly

G=$BUILD/guests
for f in "$BUILD/tessera.elf" "$G/compute.elf" "$G/mb32.elf" "$G/mb32-module.txt" "$G/fuzzer.elf"; do
    [ -f "$f" ] || { fail "$f missing (run make first)"; finish; }
done
note "seed=$SEED ops=$OPS canary iterations=$ITER"

cfg=$ROOT/tests/integration/configs/fuzz_guest.cfg
mkdir -p "$T/fuzz" "$T/reference" # the hypervisor reads its config from a module tessera.cfg
# FUZZ_GUEST_MIX: the fuzzer's mix= (hypercall,io,msr,cr,exception,insn weights), default its own
MIX=${FUZZ_GUEST_MIX:+ mix=$FUZZ_GUEST_MIX}
[ "$BACKEND" = svm ] && MIX="$MIX quirks=qemu-tcg"
sed -e "s/@SEED@/$SEED/" -e "s/@OPS@/$OPS$MIX/" -e "s/@CANARY_ITERATIONS@/$ITER/" "$cfg" \
    >"$T/fuzz/tessera.cfg"
# the twin: a second [vm fuzzer] section under another name
sed -n '/^\[vm fuzzer\]/,$p' "$T/fuzz/tessera.cfg" | sed 's/^\[vm fuzzer\]/[vm twin]/' \
    >>"$T/fuzz/tessera.cfg"
sed '/^\[vm fuzzer\]/,$d' "$T/fuzz/tessera.cfg" >"$T/reference/tessera.cfg"

files=("$G/compute.elf" "$G/mb32.elf" "$G/mb32-module.txt" "$G/fuzzer.elf")
make_iso "$T/reference.iso" "" "$T/reference/tessera.cfg" "${files[@]}"
make_iso "$T/fuzz.iso" "" "$T/fuzz/tessera.cfg" "${files[@]}"
ref=$T/reference.log
log=$T/fuzz.log
run_vm_iso "$T/reference.iso" "$ref" 300 &
run_vm_iso "$T/fuzz.iso" "$log" "$TIMEOUT"
wait

# ---- the hypervisor survived ------------------------------------------------------------------
for l in "$ref" "$log"; do
    expect "$l" '^tessera: summary \(' "$(basename "$l"): summary printed"
    expect "$l" '^tessera: end status=' "$(basename "$l"): the run ended"
    expect_not "$l" 'FATAL' "$(basename "$l"): no fault in the hypervisor"
done

# ---- the canaries: byte-identical to the reference boot, exit 0 -------------------------------
expect "$ref" "^\\[canary\\] compute: iterations=$ITER checksum=0x[0-9a-f]{8}$" "reference: compute checksum"
[ "$ITER" -eq 1000 ] && expect "$ref" '^\[canary\] compute: iterations=1000 checksum=0x86c87881$' \
    "reference: compute's known checksum (guests/README.md)"
for vm in canary canary_pae; do
    expect_count "$ref" "^tessera: vm $vm exited with status 0" 1 "reference: $vm exits 0"
    expect_count "$log" "^tessera: vm $vm exited with status 0" 1 "fuzz: $vm exits 0"
    vm_lines "$ref" $vm >"$T/$vm.ref"
    vm_lines "$log" $vm >"$T/$vm.fuzz"
    [ -s "$T/$vm.ref" ] || fail "reference: $vm printed nothing"
    cmp -s "$T/$vm.ref" "$T/$vm.fuzz" ||
        fail "$vm's output differs next to the fuzzer: $(diff "$T/$vm.ref" "$T/$vm.fuzz" | head -5 | tr '\n' '|')"
done
# no canary line mixed into another line
expect_not "$log" '.\[canary(_pae)?\] ' "no canary output inside another line"

# ---- the fuzzer: every op done, nothing unexpected, reproducible ------------------------------
done_re="^fuzzer: done seed=$SEED ops=$OPS .* mismatches=0 checksum=0x[0-9a-f]{16}$"
for vm in fuzzer twin; do
    expect_count "$log" "^tessera: vm $vm exited with status 0" 1 "$vm: exits 0 (every op done, no mismatch)"
    expect_not "$log" "^tessera: vm $vm failed" "$vm: not stopped by the hypervisor"
    vm_lines "$log" $vm | grep -a '^fuzzer: ' >"$T/$vm.lines"
    grep -Eq "$done_re" "$T/$vm.lines" || fail "$vm: no final line /$done_re/"
done
expect_not "$log" 'fuzzer: (MISMATCH|UNEXPECTED)' "no mismatch, no unexpected exception"
# the single-step #DB after an instruction the hypervisor emulates (guests/fuzzer.c, exception
# op 25): right after it, DR6.BS set, on both backends (SDM 17.3.1.4), whatever the fuzzer calls it
expect_not "$log" 'fuzzer: [A-Za-z]+ seed=[^ ]+ op=[0-9]+: single step over ' \
    "the single-step #DB comes right after each emulated instruction"
if [ "$BACKEND" = svm ]; then
    for vm in fuzzer twin; do
        grep -Eq '^fuzzer: known=qemu-tcg( [a-z0-9_]+=[0-9]+){12}$' \
            "$T/$vm.lines" || fail "$vm: no 'fuzzer: known=qemu-tcg' line (the QEMU deviations taken)"
    done
    note "$(grep -a -m1 '^fuzzer: known=' "$T/fuzzer.lines")"
fi
f_done=$(grep -a '^fuzzer: done ' "$T/fuzzer.lines")
t_done=$(grep -a '^fuzzer: done ' "$T/twin.lines")
[ -n "$f_done" ] && [ "$f_done" = "$t_done" ] ||
    fail "the same seed gave different final lines: '$f_done' vs '$t_done'"
note "final line: $f_done"
note "$(grep -a -m1 '^fuzzer: traps=' "$T/fuzzer.lines")"
grep -a '^fuzzer: deviation ' "$T/fuzzer.lines" | sed 's/^fuzzer: deviation [^:]*: //' | sort | uniq -c |
    sort -rn | head -5 | while read -r line; do note "deviation (not a failure): $line"; done
expect "$log" '^tessera:   fuzzer +exit 0 ' "summary row: fuzzer exit 0"

finish
