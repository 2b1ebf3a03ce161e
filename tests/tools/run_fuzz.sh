#!/bin/bash
# libFuzzer harnesses (tests/fuzz, built by tests/fuzz/fuzz.mk into build/fuzz/).
#   run_fuzz.sh replay BIN...    runs every file of each harness's committed corpus
#                                (tests/fuzz/corpus/NAME/) once; one line per harness, then
#                                "fuzz-corpus: N passed, N failed". Exit status 1 on any failure.
#   run_fuzz.sh campaign BIN...  fuzzes each harness FUZZ_TIME seconds, FUZZ_JOBS at a time, from a
#                                fresh copy of its corpus in build/fuzz/work/NAME/corpus (new inputs
#                                stay there); prints executions, coverage, new inputs and crashes
#                                per harness; a crash's reproducer is kept under
#                                build/fuzz/work/NAME/crashes/ until the next campaign (copy it
#                                out to keep it). Exit status 1 on any crash.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
mode=${1:-}
shift || true
[ "$mode" = replay ] || [ "$mode" = campaign ] || {
    echo "usage: run_fuzz.sh replay|campaign BIN..." >&2
    exit 2
}

# fuzz_NAME -> NAME
name_of() { basename "$1" | sed 's/^fuzz_//'; }

# The error, the first stack frames in this repository's code and the sanitizer's summary.
crash_summary() {
    {
        grep -m1 'ERROR:\|runtime error' "$1"
        grep -m5 "in .* $ROOT/" "$1"
        grep -m1 '^SUMMARY:' "$1"
    } | sed "s|$ROOT/||g; s/^ */    /"
}

replay() {
    local bin=$1 name files log
    name=$(name_of "$bin")
    log=$BUILD/fuzz/replay-$name.log
    if [ ! -x "$bin" ]; then
        echo "FAIL fuzz/$name (not built)"
        return 1
    fi
    files=$(find "$ROOT/tests/fuzz/corpus/$name" -type f 2>/dev/null | sort)
    if [ -z "$files" ]; then
        echo "FAIL fuzz/$name (no seed corpus in tests/fuzz/corpus/$name/)"
        return 1
    fi
    # shellcheck disable=SC2086
    if "$bin" -timeout=10 $files >"$log" 2>&1; then
        echo "PASS fuzz/$name ($(printf '%s\n' $files | wc -l) inputs)"
    else
        echo "FAIL fuzz/$name (exit status $?, log $log)"
        crash_summary "$log"
        return 1
    fi
}

campaign() {
    local bin=$1 name work log rc execs cov ft newu crash
    name=$(name_of "$bin")
    work=$BUILD/fuzz/work/$name
    log=$work/fuzz.log
    rm -rf "$work/corpus" "$work/crashes" # a reproducer stays until the next campaign
    mkdir -p "$work/corpus" "$work/crashes"
    cp -r "$ROOT/tests/fuzz/corpus/$name/." "$work/corpus/" 2>/dev/null
    "$bin" -max_total_time="$FUZZ_TIME" -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$work/crashes/" "$work/corpus" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    newu=$(sed -n 's/^stat::new_units_added: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    crash=$(find "$work/crashes" -type f | head -1)
    if [ "$rc" -eq 0 ] && [ -z "$crash" ]; then
        echo "PASS fuzz/$name: ${execs:-?} executions, coverage ${cov:-?} edges (${ft:-?} features), ${newu:-0} new inputs, 0 crashes"
    else
        echo "FAIL fuzz/$name: ${execs:-?} executions, coverage ${cov:-?} edges, crash (exit status $rc); reproducer: ${crash:-none saved}, log: $log"
        crash_summary "$log"
        return 1
    fi
}

export -f name_of crash_summary replay campaign
export ROOT BUILD FUZZ_TIME=${FUZZ_TIME:-300}
mkdir -p "$BUILD/fuzz"
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT INT TERM
if [ "$mode" = replay ]; then
    for bin in "$@"; do replay "$bin"; done >"$out"
else
    echo "fuzzing $# harnesses, ${FUZZ_TIME} s each, ${FUZZ_JOBS:-2} at a time"
    printf '%s\n' "$@" | xargs -P "${FUZZ_JOBS:-2}" -I{} bash -c \
        'mkdir -p "$BUILD/fuzz/work/$(name_of "$1")"
         campaign "$1" >"$BUILD/fuzz/work/$(name_of "$1")/result"' _ {}
    for bin in "$@"; do cat "$BUILD/fuzz/work/$(name_of "$bin")/result"; done >"$out"
fi
cat "$out"
passed=$(grep -c '^PASS' "$out")
failed=$(grep -c '^FAIL' "$out")
echo "fuzz-$mode: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
