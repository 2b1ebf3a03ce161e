#!/bin/bash
# Transient-execution mitigations between VMs, under Bochs (VT-x), four boots of the same three
# VMs (configs/mitigations.cfg: two bench.elf VMs yielding to each other, hello64):
#  1. tigerlake (IBRS/IBPB, STIBP, L1D_FLUSH, MD_CLEAR, SSBD, ARCH_CAPABILITIES = RDCL_NO
#     IBRS_ALL RSBA SKIP_L1DFL_VMENTRY SSB_NO): the boot line says ibpb on, L1D flush off
#     (RDCL_NO), VERW on (MDS), the PBRSB sequence (eIBRS), SPEC_CTRL.IBRS; IBPBs happen on the
#     VM switches; the VMs run correctly;
#  2. the same with mitigations=off: everything off, the OFF line, no IBPB, VMs still correct,
#     and the measured ping-pong round trip is shorter than with mitigations on (the mechanisms
#     really ran in 1 and really do not in 2);
#  3. corei7_skylake_x (nothing enumerated: assumed affected): no IBPB (no MSR), software L1D
#     flush, VERW without MD_CLEAR, full RSB fill, no SPEC_CTRL write; VMs correct, round trip
#     longer than with mitigations off;
#  4. corei7_icelake_u (as tigerlake without MD_CLEAR), with an unknown mitigations= value and a
#     bad mitigations_force= list: both are named and ignored, the default decisions stand; VMs
#     correct;
#  5. tigerlake with 2 CPUs, the yielding pair on CPU 1: the second CPU writes its own
#     IA32_SPEC_CTRL and issues the IBPBs; VMs correct.
# Bochs runs with ignore_bad_msrs=0: touching an MSR the model lacks would be a #GP.
# With BACKEND=svm (test_svm_mitigations.sh) under QEMU TCG -icount shift=0 (the round trips in
# instructions, deterministic): the one AMD CPU there is, -cpu max (TCG drops IBPB, STIBP and
# SSBD from every model, even when asked for: +ibpb, EPYC-Rome), so the boots check what is
# meaningful for it: the default (AMD is not affected by L1TF or MDS/TAA, so no L1D flush and no
# VERW; no IBPB or IA32_SPEC_CTRL to use; the RSB filled with 32 entries at every #VMEXIT, as
# AMD's guidance for VM exits asks without automatic IBRS), mitigations=off (everything off and
# a shorter round trip), the bad values named and ignored, mitigations=off with
# mitigations_force=verw,rsb_lite (the SVM entry's other variant: VERW before VMRUN and the short
# RSB sequence; VMs still correct, the round trip between off and the default's), and two CPUs.
. "$(dirname "$0")/../tools/lib.sh"
. "$(dirname "$0")/configs/checks.sh"

G=$BUILD/guests
for f in "$BUILD/tessera.elf" "$G/bench.elf" "$G/hello64.elf"; do
    [ -f "$f" ] || { fail "$f missing (run make first)"; finish; }
done
cp "$ROOT/tests/integration/configs/mitigations.cfg" "$T/tessera.cfg"

# roundtrip LOG: ping's measured yield round trip (instructions, op_per_iter).
roundtrip() {
    grep -a -m1 '^\[ping\] bench: op=yield_roundtrip ' "$1" | sed -n 's/.* op_per_iter=\([0-9]*\).*/\1/p'
}

# costs_more WHAT RT THAN BASE: RT (named WHAT) must be more than BASE (named THAN); a missing
# number has failed its boot's checks already
costs_more() {
    if [ -n "$2" ] && [ -n "$4" ] && [ "$2" -le "$4" ]; then
        fail "$1 ($2) should cost more than $3 ($4)"
    fi
}

boot() { # boot NAME MODEL CMDLINE [CPUS]: runs the three VMs, checks they ran correctly
    local name=$1 log=$T/$1.log cpus=${4:-1}
    make_iso "$T/$name.iso" "$3" "$T/tessera.cfg" "$G/bench.elf" "$G/hello64.elf"
    if [ "$BACKEND" = svm ]; then
        QEMU_SVM_ARGS="-icount shift=0" run_vm_iso "$T/$name.iso" "$log" 300 128 "$cpus"
    else
        run_bochs_iso "$T/$name.iso" "$log" 300 "$2" 128 "$cpus"
    fi
    expect "$log" "^tessera: running 3 VMs \\($((5 - 2 * cpus)) on CPU 0;" "$name: 3 VMs run"
    for vm in ping pong hello; do
        expect_count "$log" "^tessera: vm $vm exited with status 0" 1 "$name: $vm exits 0"
        expect_summary_row "$log" "$vm" "exit 0"
    done
    expect "$log" '^\[hello\] hello64: done status=0' "$name: hello64 finishes"
    expect "$log" '^\[ping\] bench: op=yield_roundtrip n=200 ' "$name: ping measured its round trip"
    expect "$log" '^\[pong\] bench: op=yield_roundtrip n=200 ' "$name: pong measured its round trip"
    expect_clean_lines "$log" ping=bench pong=bench hello=hello64
    expect_not "$log" '^tessera: (fault|exception)|#GP|general protection' "$name: no host fault"
    expect "$log" '^tessera: end status=ok' "$name: end status=ok"
    [ -n "$(roundtrip "$log")" ] || fail "$name: no round-trip number"
}

# ibpbs LOG: the IBPB count of the end-of-run line.
ibpbs() {
    sed -n 's/^tessera: mitigations: \([0-9]*\) IBPBs on VM switches.*/\1/p' "$1"
}

# the pair on CPU 1 (hello stays on CPU 0), for the two-CPU boots
pair_on_cpu1() {
    sed 's/^memory = 16M$/memory = 16M\ncpu = 1/' "$ROOT/tests/integration/configs/mitigations.cfg" |
        awk '/^\[vm hello\]/ { hello = 1 } !(hello && /^cpu = 1$/)' >"$T/tessera.cfg"
}
OFF_LINE='^tessera: mitigations: ibpb=off \(mitigations=off\) l1d_flush=off \(mitigations=off\) verw=off \(mitigations=off\) rsb=off \(mitigations=off\) spec_ctrl=0x0 \(mitigations=off\)$'

if [ "$BACKEND" = svm ]; then
    AMD_LINE='^tessera: mitigations: ibpb=off \(no IBPB on this CPU\) l1d_flush=off \(AMD: not affected by L1TF\) verw=off \(AMD: not affected by MDS/TAA\) rsb=on \(32 entries: no eIBRS\) spec_ctrl=0x0 \(no IA32_SPEC_CTRL\)$'
    A=$T/amd.log
    boot amd max ""
    expect "$A" '^tessera: mitigations: cpu vendor=AMD CPUID\.7\.EDX=0x0 .*smt=no$' "amd: an AMD CPU, nothing in CPUID.7.EDX"
    expect "$A" "$AMD_LINE" "amd: the decisions"
    expect_not "$A" '^tessera: mitigations: OFF' "amd: mitigations are not off"
    expect "$A" '^tessera: mitigations: 0 IBPBs on VM switches \(ibpb=off\)' "amd: no IBPB (none enumerated)"

    O=$T/off.log
    boot off max "mitigations=off"
    expect "$O" "$OFF_LINE" "off: every mitigation off"
    expect "$O" '^tessera: mitigations: OFF \(mitigations=off on the command line\): VMs are not protected' \
        "off: the OFF line"
    on_rt=$(roundtrip "$A")
    off_rt=$(roundtrip "$O")
    costs_more "the round trip with mitigations on" "$on_rt" "with them off" "$off_rt"

    B=$T/bad.log
    boot bad max "mitigations=maybe mitigations_force=verw,stibp"
    expect "$B" '^tessera: mitigations: unknown value mitigations=maybe \(use off or auto\): using auto$' \
        "bad: an unknown mitigations= value is named"
    expect "$B" '^tessera: mitigations: mitigations_force=verw,stibp not understood .*: ignored$' \
        "bad: a bad mitigations_force= list is named and ignored"
    expect "$B" "$AMD_LINE" "bad: the default decisions stand"

    F=$T/forced.log
    boot forced max "mitigations=off mitigations_force=verw,rsb_lite"
    expect "$F" '^tessera: mitigations: ibpb=off \(mitigations=off\) l1d_flush=off \(mitigations=off\) verw=on \(forced for benchmarking\) rsb=on \(PBRSB sequence, forced for benchmarking\) spec_ctrl=0x0 \(mitigations=off\)$' \
        "forced: VERW and the short RSB sequence forced on top of mitigations=off"
    expect "$F" '^tessera: mitigations: mitigations_force=verw,rsb_lite: for benchmarking' "forced: said so"
    forced_rt=$(roundtrip "$F")
    costs_more "the round trip with VERW and the short RSB sequence" "$forced_rt" "with nothing" "$off_rt"
    note "ping-pong round trip: amd on $on_rt, off $off_rt, verw+rsb_lite $forced_rt instructions"

    pair_on_cpu1
    M=$T/smp.log
    boot smp max "" 2
    expect "$M" '^tessera: cpu 1: AMD-V enabled, running 2 VMs' "smp: CPU 1 runs the pair"
    expect "$M" "$AMD_LINE" "smp: the decisions"
    expect "$M" '^tessera: mitigations: 0 IBPBs on VM switches \(ibpb=off\)' "smp: no IBPB"
    expect_not "$M" 'enumerates differently from the boot CPU' "smp: both CPUs enumerate alike"
    finish
fi

L=$T/tigerlake.log
boot tigerlake tigerlake ""
expect "$L" '^tessera: mitigations: cpu vendor=Intel CPUID\.7\.EDX=0xfc100510 .*ARCH_CAPABILITIES=0x1f smt=no$' \
    "tigerlake: CPUID and ARCH_CAPABILITIES printed"
expect "$L" '^tessera: mitigations: ibpb=on \(vm switch\) l1d_flush=off \(RDCL_NO\) verw=on \(MDS\) rsb=on \(PBRSB sequence: eIBRS\) spec_ctrl=0x1 \(IBRS: eIBRS; no SSBD\)$' \
    "tigerlake: the decisions"
expect_not "$L" '^tessera: mitigations: OFF' "tigerlake: mitigations are not off"
n=$(ibpbs "$L")
if [ -z "$n" ] || [ "$n" -lt 400 ]; then
    fail "tigerlake: expected at least 400 IBPBs (2 VM switches per round trip, 240 round trips), got '${n:-no line}'"
fi

O=$T/off.log
boot off tigerlake "mitigations=off"
expect "$O" "$OFF_LINE" "off: every mitigation off"
expect "$O" '^tessera: mitigations: OFF \(mitigations=off on the command line\): VMs are not protected' \
    "off: the OFF line"
expect "$O" '^tessera: mitigations: 0 IBPBs on VM switches \(ibpb=off\)' "off: no IBPB"
on_rt=$(roundtrip "$L")
off_rt=$(roundtrip "$O")
costs_more "the round trip with mitigations on" "$on_rt" "with them off" "$off_rt"
note "ping-pong round trip: tigerlake on $on_rt, off $off_rt instructions"

S=$T/skylake.log
boot skylake corei7_skylake_x ""
expect "$S" '^tessera: mitigations: cpu vendor=Intel CPUID\.7\.EDX=0x0 .*ARCH_CAPABILITIES=not enumerated \(assumed affected\)' \
    "skylake_x: nothing enumerated"
expect "$S" '^tessera: mitigations: ibpb=off \(no IBPB on this CPU\) l1d_flush=on \(L1TF, software: no IA32_FLUSH_CMD\) verw=on \(MDS; no MD_CLEAR: no effect\) rsb=on \(32 entries: no eIBRS\) spec_ctrl=0x0 \(no IA32_SPEC_CTRL\)$' \
    "skylake_x: the decisions"
expect "$S" '^tessera: mitigations: 0 IBPBs on VM switches \(ibpb=off\)' "skylake_x: no IBPB (no MSR)"
sky_rt=$(roundtrip "$S")
costs_more "skylake_x's round trip with mitigations" "$sky_rt" "tigerlake's with them off" "$off_rt"
note "ping-pong round trip: skylake_x on $sky_rt instructions"

I=$T/icelake.log
boot icelake corei7_icelake_u "mitigations=maybe mitigations_force=verw,stibp"
expect "$I" '^tessera: mitigations: unknown value mitigations=maybe \(use off or auto\): using auto$' \
    "icelake_u: an unknown mitigations= value is named"
expect "$I" '^tessera: mitigations: mitigations_force=verw,stibp not understood .*: ignored$' \
    "icelake_u: a bad mitigations_force= list is named and ignored"
expect_not "$I" '^tessera: mitigations: OFF' "icelake_u: mitigations are not off"
expect "$I" '^tessera: mitigations: ibpb=on \(vm switch\) l1d_flush=off \(RDCL_NO\) verw=on \(MDS; no MD_CLEAR: no effect\) rsb=on \(PBRSB sequence: eIBRS\) spec_ctrl=0x1 ' \
    "icelake_u: the decisions"

# 5: the pair on CPU 1 (hello stays on CPU 0)
pair_on_cpu1
M=$T/smp.log
boot smp tigerlake "" 2
expect "$M" '^tessera: cpu 1: VT-x enabled, running 2 VMs' "smp: CPU 1 runs the pair"
expect "$M" '^tessera: mitigations: ibpb=on \(vm switch\) ' "smp: IBPB on"
n=$(ibpbs "$M")
# (the pair does not always alternate here: one VM can start before the other and yield to
# itself; CPU 0 loads only hello, one IBPB)
if [ -z "$n" ] || [ "$n" -lt 200 ]; then
    fail "smp: expected at least 200 IBPBs, nearly all on CPU 1, got '${n:-no line}'"
fi

finish
