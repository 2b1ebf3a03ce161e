#!/bin/bash
# Weighted CPU shares under Bochs (VT-x, preemption-timer scheduler), two boots:
#  1. three identical spinners with weights 1, 2, 3 (configs/shares_123.cfg): while all three
#     ran, each got 16.7 / 33.3 / 50.0 % of the CPU within 3 percentage points, and the
#     heaviest one finishes first, the lightest last;
#  2. three identical spinners with equal weights (configs/shares_equal.cfg): 33.3 % each
#     within 3 points;
#  3. a spinner making a CPUID exit in every iteration beside a plain one, equal weights
#     (configs/shares_cpuid.cfg): 50 % each within 3 points.
# Every spinner does the same work: all print the same checksum and exit 0.
# With BACKEND=svm (test_svm_shares.sh) under QEMU TCG -cpu max with -icount shift=0: the TSC
# counts instructions there too (about 1 GHz by the PIT calibration), so the shares are
# deterministic and the same tolerance holds. The time slices are the APIC timer's 10 ms, 10
# million instructions where Bochs's are 50000 (5 MHz), so each spinner does 100 times the work
# (iterations= and report= times 100): about 150 slices each, as under Bochs (measured: 16.9 /
# 33.2 / 49.9 %; equal weights 33.4 / 33.3 / 33.3 %).
. "$(dirname "$0")/../tools/lib.sh"
. "$(dirname "$0")/configs/checks.sh"

G=$BUILD/guests
for f in "$BUILD/tessera.elf" "$G/spinner.elf"; do
    [ -f "$f" ] || { fail "$f missing (run make first)"; finish; }
done

# share_of LOG VM: the "got" percentage of VM on the shares line, in tenths of a percent.
share_of() {
    grep -m1 '^tessera: shares while all VMs ran:' "$1" |
        sed -n "s/.* $2=\\([0-9]*\\)\\.\\([0-9]\\)%(weight .*/\\1\\2/p"
}

# check_share LOG VM WANT_TENTHS WEIGHT_SHARE_TEXT
check_share() {
    local got
    got=$(share_of "$1" "$2")
    if [ -z "$got" ]; then
        fail "no share for $2 on the shares line"
        return
    fi
    got=$((10#$got))
    local diff=$((got - $3))
    [ "${diff#-}" -le 30 ] ||
        fail "$2 got $((got / 10)).$((got % 10))% of the CPU, expected $(($3 / 10)).$(($3 % 10))% +-3"
    expect "$1" "^tessera: shares while all VMs ran:.* $2=[0-9]+\\.[0-9]%\\(weight $4%\\)" \
        "$2's weight share printed as $4%"
}

boot() { # boot NAME CONFIG VM...: boots CONFIG with three spinners; checks they all did the work
    local name=$1 cfg=$2 log=$T/$1.log start vm sums
    shift 2
    if [ "$BACKEND" = svm ]; then
        sed 's/iterations=\([0-9]*\) report=\([0-9]*\)/iterations=\100 report=\200/' "$cfg" >"$T/tessera.cfg"
    else
        cp "$cfg" "$T/tessera.cfg"
    fi
    make_iso "$T/$name.iso" "" "$T/tessera.cfg" "$G/spinner.elf"
    QEMU_SVM_ARGS="-icount shift=0" run_vm_iso "$T/$name.iso" "$log" 300
    expect "$log" "^tessera: running $# VMs \\($# on CPU 0;" "$name: $# VMs run"
    local pairs=""
    for vm in "$@"; do
        pairs="$pairs $vm=spinner"
        expect_count "$log" "^tessera: vm $vm exited with status 0" 1 "$name: $vm exits 0"
        expect_summary_row "$log" "$vm" "exit 0"
    done
    expect_clean_lines "$log" $pairs
    sums=$(sed -n 's/^\[[a-z0-9]*\] spinner: done iterations=[0-9]* checksum=\(0x[0-9a-f]*\) .*/\1/p' "$log" |
        sort | uniq -c | awk '{print $1}')
    [ -n "${DIFFERENT_WORK:-}" ] || [ "$sums" = "$#" ] ||
        fail "$name: the $# spinners should print one common checksum (counts: $sums)"
    expect "$log" '^tessera: end status=ok' "$name: end status=ok"
}

log=$T/weighted.log
boot weighted "$ROOT/tests/integration/configs/shares_123.cfg" w1 w2 w3
check_share "$log" w1 167 16.7
check_share "$log" w2 333 33.3
check_share "$log" w3 500 50.0
expect_order "$log" '^tessera: vm w3 exited' '^tessera: vm w2 exited' "weight 3 finishes before weight 2"
expect_order "$log" '^tessera: vm w2 exited' '^tessera: vm w1 exited' "weight 2 finishes before weight 1"

log=$T/equal.log
boot equal "$ROOT/tests/integration/configs/shares_equal.cfg" e1 e2 e3
check_share "$log" e1 333 33.3
check_share "$log" e2 333 33.3
check_share "$log" e3 333 33.3

# A VM that exits in every iteration (CPUID: answered inside the backend, never reaching the run
# loop) beside a plain spinner: half the CPU each while both ran, so the backend's own loop over
# such exits still ends the slice on time.
log=$T/cpuid.log
DIFFERENT_WORK=1 boot cpuid "$ROOT/tests/integration/configs/shares_cpuid.cfg" storm plain
expect "$log" '^\[storm\] spinner: start iterations=[0-9]+ report=[0-9]+ cpuid=1' "cpuid: the storm VM exits in every iteration"
check_share "$log" storm 500 50.0
check_share "$log" plain 500 50.0

finish
