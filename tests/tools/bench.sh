#!/bin/bash
# bench.sh [--repeat N] [--keep] [--only svm]: `make bench`. Boots Tessera under Bochs (corei7_skylake_x), where
# the TSC advances exactly one tick per emulated instruction and VM entry/exit cost ~0 ticks, and
# prints the hypervisor's instructions per round trip for each exit type, the cost of a switch
# between two VMs, the fatal EPT-violation path, and the compute guest in a VM against the same
# compute.elf run bare through GRUB, and what each transient-execution mitigation adds (on
# tigerlake, which enumerates the MSRs, and skylake_x). Then the same exit table for the AMD-V
# backend: the same images under QEMU TCG -cpu max with -icount shift=0 (the TSC advances one tick
# per retired instruction there too), next to the VT-x numbers (--only svm: that table alone). Method and numbers:
# docs/benchmarks.md.
# The emulation is deterministic (clock: sync=none, fixed time0): every run prints the same
# numbers. --repeat N runs everything N times and checks that. Exits 1 when a measurement is
# missing or the runs disagree. Logs: build/bench/bench/ (kept; --keep also keeps the ISOs).
set -u
repeat=1
keep=
only=
while [ $# -gt 0 ]; do
    case $1 in
    --repeat) repeat=${2:-}; shift 2 ;;
    --keep) keep=1; shift ;;
    --only) only=${2:-}; shift 2 ;;
    *) echo "usage: $0 [--repeat N] [--keep] [--only svm]" >&2; exit 2 ;;
    esac
done
case $repeat in '' | *[!0-9]* | 0) echo "bench.sh: --repeat needs a number >= 1" >&2; exit 2 ;; esac
case $only in '' | svm) ;; *) echo "bench.sh: --only takes svm" >&2; exit 2 ;; esac

TEST_OUT=${BENCH_OUT:-$(cd "$(dirname "$0")/../.." && pwd)/build/bench}
. "$(dirname "$0")/lib.sh" # sets ROOT, BUILD, T (scratch dir, emptied) and run_bochs_iso
BENCH=$ROOT/tests/bench
HV=$BUILD/tessera.elf
G=$BUILD/guests
MODEL=corei7_skylake_x
MIT_MODEL=tigerlake # enumerates IBRS/IBPB, L1D_FLUSH, MD_CLEAR, ARCH_CAPABILITIES
COMPUTE_ITERATIONS=200
COMPUTE_CHECKSUM=0x198abcc2 # guests/README.md: compute iterations=200
SMALL_QUANTUM_US=2000       # the hypervisor's smallest slice (10000 ticks at Bochs's 5 MHz)
BOCHS_SECONDS=300

for f in "$HV" "$G/bench.elf" "$G/compute.elf"; do
    [ -f "$f" ] || { echo "bench.sh: $f missing: run make first (make bench does)" >&2; exit 1; }
done
command -v bochs >/dev/null || { echo "bench.sh: bochs is not installed (make deps)" >&2; exit 1; }

errors=0
problem() { echo "bench.sh: $*" >&2; errors=$((errors + 1)); }

# ---- images -----------------------------------------------------------------------------------
# hv_iso NAME CONFIG CMDLINE IMAGE...: the hypervisor with CONFIG as its tessera.cfg.
hv_iso() {
    local name=$1 cfg=$2 cmdline=$3; shift 3
    mkdir -p "$T/$name.cfgdir"
    cp "$cfg" "$T/$name.cfgdir/tessera.cfg"
    "$ROOT/tests/tools/mkiso.sh" "$T/$name.iso" "$HV" "$(with_end "$cmdline")" "$@" "$T/$name.cfgdir/tessera.cfg"
}
echo "bench: building images"
# The main table measures the exit paths themselves: mitigations=off (their costs: the second
# table).
hv_iso exits "$BENCH/exits.cfg" "mitigations=off" "$G/bench.elf" &&
    hv_iso pingpong "$BENCH/pingpong.cfg" "mitigations=off" "$G/bench.elf" ||
    { echo "bench.sh: cannot build the images" >&2; exit 1; }
if [ "$only" = svm ]; then
    command -v qemu-system-x86_64 >/dev/null || { echo "bench.sh: qemu-system-x86_64 missing" >&2; exit 1; }
    mkdir -p "$T/run1"
    svm_only=1
fi
if [ -z "${svm_only:-}" ]; then
    hv_iso ept "$BENCH/ept.cfg" "mitigations=off" "$G/bench.elf" &&
        hv_iso compute "$BENCH/compute.cfg" "mitigations=off" "$G/compute.elf" &&
        hv_iso compute_small "$BENCH/compute.cfg" "mitigations=off quantum_us=$SMALL_QUANTUM_US" "$G/compute.elf" &&
        MULTIBOOT=1 "$ROOT/tests/tools/mkiso.sh" "$T/bare.iso" "$G/compute.elf" "iterations=$COMPUTE_ITERATIONS" ||
        { echo "bench.sh: cannot build the images" >&2; exit 1; }
fi
RUNS="exits pingpong ept compute compute_small bare"
[ -n "${svm_only:-}" ] && RUNS= MIT_RUNS=

# Mitigations: the exit paths with every mitigation off, with the CPU's default, and with each
# mechanism alone (mitigations=off plus mitigations_force=, docs/booting.md); the VM switch with
# off, default and IBPB alone. key -> "model|config|cmdline".
declare -A MODEL_OF
declare -A MIT=(
    [m_off]="$MIT_MODEL|mitigations|mitigations=off"
    [m_auto]="$MIT_MODEL|mitigations|"
    [m_verw]="$MIT_MODEL|mitigations|mitigations=off mitigations_force=verw"
    [m_rsb_lite]="$MIT_MODEL|mitigations|mitigations=off mitigations_force=rsb_lite"
    [m_rsb]="$MIT_MODEL|mitigations|mitigations=off mitigations_force=rsb"
    [m_l1d_msr]="$MIT_MODEL|mitigations|mitigations=off mitigations_force=l1d_msr"
    [m_l1d_sw]="$MIT_MODEL|mitigations|mitigations=off mitigations_force=l1d_sw"
    [p_off]="$MIT_MODEL|pingpong|mitigations=off"
    [p_auto]="$MIT_MODEL|pingpong|"
    [p_ibpb]="$MIT_MODEL|pingpong|mitigations=off mitigations_force=ibpb"
    [s_off]="$MODEL|mitigations|mitigations=off"
    [s_auto]="$MODEL|mitigations|"
    [sp_auto]="$MODEL|pingpong|"
    [c_auto]="$MODEL|compute|"
)
MIT_RUNS="m_off m_auto m_verw m_rsb_lite m_rsb m_l1d_msr m_l1d_sw p_off p_auto p_ibpb s_off s_auto sp_auto c_auto"
[ -n "${svm_only:-}" ] && MIT_RUNS=
for r in $MIT_RUNS; do
    IFS='|' read -r model cfg cmdline <<<"${MIT[$r]}"
    MODEL_OF[$r]=$model
    img=$G/bench.elf
    [ "$cfg" = compute ] && img=$G/compute.elf
    hv_iso "$r" "$BENCH/$cfg.cfg" "$cmdline" "$img" ||
        { echo "bench.sh: cannot build $r.iso" >&2; exit 1; }
done
RUNS="$RUNS $MIT_RUNS"

# ---- parsing ------------------------------------------------------------------------------------
# field LINE KEY: the value of KEY=... in LINE.
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1" | tr -d '\r'; }
# bench_line LOG VM OP: the guest's result line for OP.
bench_line() { grep -a -m1 "^\[$2\] bench: op=$3 " "$1" | tr -d '\r'; }

declare -A R # results of this pass: key -> number (or empty)

# exit_row KEY LOG OP: per_op, op loop and NOP loop per iteration, n.
exit_row() {
    local line
    line=$(bench_line "$2" bench "$3")
    [ -n "$line" ] || { problem "no result for op=$3 in $2"; return; }
    R[$1]=$(field "$line" per_op)
    R[$1.op]=$(field "$line" op_per_iter)
    R[$1.base]=$(field "$line" baseline_per_iter)
    R[$1.n]=$(field "$line" n)
}

compute_tsc() { # compute_tsc LOG PREFIX: the TSC delta of a run with the right checksum
    local line
    line=$(grep -a -m1 "^$2compute: iterations=$COMPUTE_ITERATIONS " "$1" | tr -d '\r')
    [ -n "$line" ] || { problem "no compute result in $1"; return; }
    [ "$(field "$line" checksum)" = $COMPUTE_CHECKSUM ] ||
        { problem "compute checksum in $1 is $(field "$line" checksum), not $COMPUTE_CHECKSUM"; return; }
    field "$line" tsc
}

parse_pass() { # parse_pass DIR
    local d=$1 line
    R=()
    local e=$d/exits.log
    grep -aq "^\[bench\] bench: done mode=exits status=0" "$e" || problem "the exits run did not finish ($e)"
    exit_row cpuid "$e" cpuid
    exit_row cpuid_hv "$e" cpuid_hv
    exit_row uart_scr "$e" uart_scr
    exit_row uart_thr "$e" uart_thr
    exit_row uart_lsr "$e" uart_lsr
    exit_row vmcall "$e" vmcall_vm_id
    exit_row hlt "$e" hlt
    exit_row preempt "$e" preempt
    line=$(bench_line "$e" bench uart_line64)
    R[line]=$(field "$line" per_op)
    R[preempt.slices]=$(grep -a '^tessera:   bench ' "$e" | sed -n 's/.* preempt=\([0-9]*\).*/\1/p')

    # VM switch: one round trip = 2 switches + both guests' loop bodies (the NOP loop, which has
    # the VMCALL replaced by a NOP). Both VMs must agree.
    local p=$d/pingpong.log ping pong
    ping=$(bench_line "$p" ping yield_roundtrip)
    pong=$(bench_line "$p" pong yield_roundtrip)
    if [ -n "$ping" ] && [ -n "$pong" ]; then
        R[rt]=$(field "$ping" op_per_iter)
        R[rt.base]=$(field "$ping" baseline_per_iter)
        R[rt.n]=$(field "$ping" n)
        [ "${R[rt]}" = "$(field "$pong" op_per_iter)" ] ||
            problem "ping and pong disagree on the round trip ($ping | $pong)"
        local twice=$((R[rt] - 2 * R[rt.base]))
        R[switch]=$((twice / 2))$([ $((twice % 2)) -eq 1 ] && echo .5)
    else
        problem "no ping-pong result in $p"
    fi

    # EPT violation: R12 in the dump = TSC 4 guest instructions before the faulting read; the
    # watcher's gap that contains it ends when the watcher runs again.
    local x=$d/ept.log r12 t
    r12=$(grep -a -m1 '^tessera: vm ept: .*R12=' "$x" | sed -n 's/.*R12=\([0-9a-f]*\).*/\1/p')
    if [ -n "$r12" ] && grep -aq '^tessera: vm ept failed: EPT violation' "$x"; then
        t=$((16#$r12))
        R[ept]=$(grep -a '^\[watch\] bench: watch gap ' "$x" | tr -d '\r' |
            awk -v t="$t" '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
                              if (v["start"] + 0 <= t && t < v["end"] + 0) { print v["end"] - t; exit } }')
        # console bytes of the report: the failure line and the dump lines that follow it
        R[ept.bytes]=$(awk '/^tessera: vm ept failed:/ { on = 1 } on && /^tessera: vm ept/ { print }
                            on && !/^tessera: vm ept/ { exit }' "$x" | wc -c)
        [ -n "${R[ept]}" ] || problem "no watcher gap contains the EPT guest's TSC $t ($x)"
    else
        problem "the EPT violation was not reported with a register dump ($x)"
    fi

    R[vm]=$(compute_tsc "$d/compute.log" '\[compute\] ')
    R[vm.preempt]=$(grep -a '^tessera:   compute ' "$d/compute.log" | sed -n 's/.* preempt=\([0-9]*\).*/\1/p')
    R[small]=$(compute_tsc "$d/compute_small.log" '\[compute\] ')
    R[small.preempt]=$(grep -a '^tessera:   compute ' "$d/compute_small.log" | sed -n 's/.* preempt=\([0-9]*\).*/\1/p')
    R[bare]=$(compute_tsc "$d/bare.log" '')
    grep -aq '^compute: start mode=bare boot=multiboot' "$d/bare.log" ||
        problem "the bare compute run did not start bare through Multiboot ($d/bare.log)"
    # mitigations: per-exit costs from the exits runs, the switch from the ping-pong runs
    local r
    for r in m_off m_auto m_verw m_rsb_lite m_rsb m_l1d_msr m_l1d_sw s_off s_auto; do
        grep -aq "^\[bench\] bench: done mode=exits status=0" "$d/$r.log" || problem "the $r run did not finish ($d/$r.log)"
        line=$(bench_line "$d/$r.log" bench cpuid); R[$r.cpuid]=$(field "$line" per_op)
        line=$(bench_line "$d/$r.log" bench vmcall_vm_id); R[$r.vmcall]=$(field "$line" per_op)
        line=$(bench_line "$d/$r.log" bench uart_thr); R[$r.thr]=$(field "$line" per_op)
        R[$r.line]=$(grep -a -m1 '^tessera: mitigations: ibpb=' "$d/$r.log" | sed 's/^tessera: mitigations: //')
    done
    local rt base twice
    for r in p_off p_auto p_ibpb sp_auto; do
        line=$(bench_line "$d/$r.log" ping yield_roundtrip)
        if [ -n "$line" ]; then
            rt=$(field "$line" op_per_iter)
            base=$(field "$line" baseline_per_iter)
            twice=$((rt - 2 * base))
            R[$r.switch]=$((twice / 2))$([ $((twice % 2)) -eq 1 ] && echo .5)
        else
            problem "no ping-pong result in $d/$r.log"
        fi
    done
    R[s_auto.switch]=${R[sp_auto.switch]:-}
    R[m_auto.switch]=${R[p_auto.switch]:-}
    R[m_off.switch]=${R[p_off.switch]:-}
    R[s_off.switch]=${R[switch]:-} # the main table's, with mitigations=off
    R[c_auto]=$(compute_tsc "$d/c_auto.log" '\[compute\] ')
    R[c_auto.preempt]=$(grep -a '^tessera:   compute ' "$d/c_auto.log" | sed -n 's/.* preempt=\([0-9]*\).*/\1/p')
    # (problems found inside $(...) above do not reach the counter: check every number here)
    local k
    for k in m_off.cpuid m_auto.cpuid m_verw.cpuid m_rsb_lite.cpuid m_rsb.cpuid m_l1d_msr.cpuid \
        m_l1d_sw.cpuid m_off.vmcall m_auto.vmcall m_verw.vmcall m_l1d_sw.vmcall s_off.cpuid \
        s_auto.cpuid p_off.switch p_auto.switch p_ibpb.switch sp_auto.switch c_auto; do
        case ${R[$k]:-} in
        '' | *[!0-9.]*) problem "pass in $d: no valid number for '$k' (got '${R[$k]:-}')" ;;
        esac
    done
    for k in cpuid cpuid_hv uart_scr uart_thr uart_lsr vmcall hlt preempt line switch ept vm small bare; do
        case ${R[$k]:-} in
        '' | *[!0-9.]*) problem "pass in $d: no valid number for '$k' (got '${R[$k]:-}')" ;;
        esac
    done
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "x%.4f", a / b; else print "n/a" }'; }
val() { local v=${R[$1]:-}; echo "${v:-n/a}"; }

print_table() {
    local commit
    commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
    if [ -n "$(git -C "$ROOT" status --porcelain -- kernel arch drivers boot guests 2>/dev/null)" ]; then
        commit="$commit+local changes"
    fi
    echo
    echo "Tessera exit-path benchmark (Bochs $(dpkg-query -W -f '${Version}' bochs 2>/dev/null || echo '?'), $MODEL, mitigations=off; 1 TSC tick = 1 emulated instruction)"
    echo "commit $commit, $(date -u +%Y-%m-%d); deterministic emulation: $1"
    printf '%-26s %12s   %s\n' "exit type" "instructions" "per round trip (loop with the op / with a NOP instead, n)"
    row() { printf '%-26s %12s   (%s / %s, n=%s)\n' "$1" "$(val "$2")" "$(val "$2.op")" "$(val "$2.base")" "$(val "$2.n")"; }
    row "CPUID (leaf 0)" cpuid
    row "CPUID (leaf 0x40000000)" cpuid_hv
    row "UART byte (scratch 0x3ff)" uart_scr
    row "UART byte (THR 0x3f8)" uart_thr
    row "UART status read (LSR)" uart_lsr
    row "VMCALL (VM_ID)" vmcall
    row "HLT (no timer armed)" hlt
    printf '%-26s %12s   (gap in an rdtsc spin loop %s / loop body %s, %s gaps)\n' "preemption" \
        "$(val preempt)" "$(val preempt.op)" "$(val preempt.base)" "$(val preempt.n)"
    printf '%-26s %12s   (round trip %s = 2 switches + 2 x loop %s, n=%s)\n' "VM switch (yield)" \
        "$(val switch)" "$(val rt)" "$(val rt.base)" "$(val rt.n)"
    printf '%-26s %12s   (fatal: exit -> report (%s bytes of console) -> next VM runs)\n' \
        "EPT violation" "$(val ept)" "$(val ept.bytes)"
    printf '%-26s %12s   (64 THR exits + the line on the host console)\n' "UART line of 64 bytes" \
        "$(val line)"
    printf '%-26s %s ticks   bare %s ticks   overhead %s   (%s preemptions, quantum 10 ms)\n' \
        "compute in VM" "$(val vm)" "$(val bare)" "$(ratio "$(val vm)" "$(val bare)")" "$(val vm.preempt)"
    printf '%-26s %s ticks   bare %s ticks   overhead %s   (%s preemptions, quantum %s ms)\n' \
        "compute, smallest slice" "$(val small)" "$(val bare)" "$(ratio "$(val small)" "$(val bare)")" \
        "$(val small.preempt)" "$((SMALL_QUANTUM_US / 1000))"
    if [ -n "${R[vm]:-}" ] && [ -n "${R[bare]:-}" ] && [ -n "${R[vm.preempt]:-}" ] && [ "${R[vm.preempt]}" -gt 0 ]; then
        echo "  (VM - bare) / preemptions of the compute VM = $(( (R[vm] - R[bare]) / R[vm.preempt] )) instructions:" \
            "the overhead is the preemption round trips (Bochs counts instructions: EPT walks, TLB and cache effects cost nothing here)"
    fi
    print_mitigations
}

# plus KEY OFFKEY: "N (+D)" with D = N - the same measurement with mitigations off.
plus() {
    local v=${R[$1]:-} o=${R[$2]:-}
    [ -n "$v" ] || { echo n/a; return; }
    [ -n "$o" ] && [ "$1" != "$2" ] || { echo "$v"; return; }
    echo "$v ($(awk -v a="$v" -v b="$o" 'BEGIN { d = a - b; printf (d >= 0 ? "+%g" : "%g"), d }'))"
}

print_mitigations() {
    echo
    echo "Transient-execution mitigations: instructions per round trip (+ over mitigations=off, same model)"
    printf '%-36s %-12s %-12s %-12s %s\n' "setting" "CPUID" "VMCALL" "UART THR" "VM switch"
    mrow() { # mrow LABEL KEY OFFKEY
        printf '%-36s %-12s %-12s %-12s %s\n' "$1" "$(plus "$2.cpuid" "$3.cpuid")" \
            "$(plus "$2.vmcall" "$3.vmcall")" "$(plus "$2.thr" "$3.thr")" "$(plus "$2.switch" "$3.switch")"
    }
    echo "$MIT_MODEL (CPUID.7.EDX=0xfc100510, ARCH_CAPABILITIES=0x1f):"
    mrow "  mitigations=off" m_off m_off
    mrow "  default" m_auto m_off
    mrow "  VERW alone" m_verw m_off
    mrow "  RSB: PBRSB sequence alone" m_rsb_lite m_off
    mrow "  RSB: 32-entry fill alone" m_rsb m_off
    mrow "  L1D flush: IA32_FLUSH_CMD alone" m_l1d_msr m_off
    mrow "  L1D flush: software alone" m_l1d_sw m_off
    printf '%-36s %-12s %-12s %-12s %s\n' "  IBPB alone (VM switches only)" - - - "$(plus p_ibpb.switch p_off.switch)"
    echo "$MODEL (CPUID.7.EDX=0, no ARCH_CAPABILITIES):"
    mrow "  mitigations=off" s_off s_off
    mrow "  default" s_auto s_off
    printf '%-36s %s\n' "  compute in VM, default" "$(val c_auto) ticks   bare $(val bare) ticks   overhead $(ratio "$(val c_auto)" "$(val bare)")   ($(val c_auto.preempt) preemptions, quantum 10 ms; mitigations=off: $(ratio "$(val vm)" "$(val bare)"))"
    echo "default on $MIT_MODEL: ${R[m_auto.line]:-n/a}"
    echo "default on $MODEL: ${R[s_auto.line]:-n/a}"
    echo "(a WRMSR to IA32_PRED_CMD or IA32_FLUSH_CMD and a VERW count as one instruction each: Bochs does"
    echo " not model what they cost a real CPU; the software flush's loads are counted, not their misses)"
}

# ---- AMD-V: the exits and ping-pong images under QEMU TCG -cpu max, one tick per instruction ----
declare -A S
svm_runs() { # svm_runs DIR
    local d=$1 r line
    for r in exits pingpong; do
        echo "bench: QEMU TCG -cpu max run '$r' (AMD-V, -icount shift=0)"
        QEMU_SVM_ARGS="-icount shift=0" run_qemu_svm_iso "$T/$r.iso" "$d/svm_$r.log" 300 128 1 >/dev/null
    done
    grep -aq "^\[bench\] bench: done mode=exits status=0" "$d/svm_exits.log" ||
        problem "the AMD-V exits run did not finish ($d/svm_exits.log)"
    for r in cpuid cpuid_hv uart_scr uart_thr uart_lsr vmcall_vm_id hlt; do
        line=$(bench_line "$d/svm_exits.log" bench "$r")
        S[$r]=$(field "$line" per_op)
        case ${S[$r]} in '' | *[!0-9]*) problem "AMD-V: no valid number for $r" ;; esac
    done
    line=$(bench_line "$d/svm_pingpong.log" ping yield_roundtrip)
    if [ -n "$line" ]; then
        local rt base twice
        rt=$(field "$line" op_per_iter)
        base=$(field "$line" baseline_per_iter)
        twice=$((rt - 2 * base))
        S[switch]=$((twice / 2))$([ $((twice % 2)) -eq 1 ] && echo .5)
    else
        problem "no AMD-V ping-pong result in $d/svm_pingpong.log"
    fi
}

print_svm_table() {
    echo
    echo "AMD-V next to VT-x: instructions per round trip, mitigations=off (QEMU $(qemu-system-x86_64 --version | sed -n 's/.*version \([^ ]*\).*/\1/p;q') TCG -cpu max -icount shift=0 / Bochs $MODEL)"
    echo "(QEMU's TCG has no NRIP save, decode assists or VMCB clean bits: the next RIP comes from fixed"
    echo " lengths or IOIO's EXITINFO2; VMCALL, the guests' hypercall, raises #UD on AMD and is decoded)"
    printf '%-26s %8s %8s\n' "exit type" "AMD-V" "VT-x"
    srow() { printf '%-26s %8s %8s\n' "$1" "${S[$2]:-n/a}" "$(val "$3")"; }
    srow "CPUID (leaf 0)" cpuid cpuid
    srow "CPUID (leaf 0x40000000)" cpuid_hv cpuid_hv
    srow "UART byte (scratch 0x3ff)" uart_scr uart_scr
    srow "UART byte (THR 0x3f8)" uart_thr uart_thr
    srow "UART status read (LSR)" uart_lsr uart_lsr
    srow "VMCALL (VM_ID)" vmcall_vm_id vmcall
    srow "HLT (no timer armed)" hlt hlt
    srow "VM switch (yield)" switch switch
}

# ---- runs ---------------------------------------------------------------------------------------
declare -a SIGNATURES
[ -n "${svm_only:-}" ] && repeat=0
for pass in $(seq 1 "$repeat"); do
    d=$T/run$pass
    mkdir -p "$d"
    for r in $RUNS; do
        echo "bench: pass $pass/$repeat: Bochs run '$r'"
        iso=$T/$r.iso
        run_bochs_iso "$iso" "$d/$r.log" "$BOCHS_SECONDS" "${MODEL_OF[$r]:-$MODEL}" >/dev/null
        [ -s "$d/$r.log" ] || problem "run '$r' left no serial log"
    done
    parse_pass "$d"
    sig=""
    for k in $(printf '%s\n' "${!R[@]}" | sort); do sig="$sig $k=${R[$k]}"; done
    SIGNATURES[$pass]=$sig
done

determinism="runs are bit-identical (clock: sync=none, fixed time0); run once here, --repeat 2 checks it"
if [ "$repeat" -gt 1 ]; then
    same=yes
    for pass in $(seq 2 "$repeat"); do
        [ "${SIGNATURES[$pass]}" = "${SIGNATURES[1]}" ] || same=no
        cmp -s "$T/run1/exits.log" "$T/run$pass/exits.log" || same=no
    done
    if [ $same = yes ]; then
        determinism="checked: $repeat runs gave identical numbers and identical serial logs"
    else
        determinism="NOT deterministic: the $repeat runs differ (logs in $T/run*)"
        problem "the runs differ"
    fi
fi
[ -n "${svm_only:-}" ] || print_table "$determinism"
if command -v qemu-system-x86_64 >/dev/null; then
    svm_runs "$T/run1"
    print_svm_table
else
    problem "qemu-system-x86_64 missing: no AMD-V table"
fi
[ -n "$keep" ] || rm -f "$T"/*.iso
echo "serial logs: $T/run*/"
if [ "$errors" -ne 0 ]; then
    echo "bench: $errors problem(s), see above"
    exit 1
fi
exit 0
