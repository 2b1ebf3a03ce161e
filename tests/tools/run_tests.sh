#!/bin/bash
# Runs the host unit tests, replays the fuzz corpora (one test), then every integration test (tests/integration/test_*.sh) in
# parallel, each under a time budget (TEST_BUDGET, or a test's own "# TEST-BUDGET: N" line when
# longer), and ends with one line "N passed, N failed".
# Usage: run_tests.sh [PATTERN]   (PATTERN filters integration tests by name)
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
JOBS=${JOBS:-2}
BUDGET=${TEST_BUDGET:-420}   # seconds per integration test
OUT=$BUILD/test-out
mkdir -p "$OUT"
pattern=${1:-}

passed=0
failed=0
skipped=0
failures=""

# Unit tests: one line per test program.
unit_log=$OUT/unit.log
"$ROOT/tests/tools/run_unit.sh" "$BUILD"/unit/test_* >"$unit_log" 2>&1
while read -r word name rest; do
    case $word in
    PASS) passed=$((passed + 1)); echo "PASS unit/$name $rest" ;;
    FAIL) failed=$((failed + 1)); failures="$failures unit/$name"; echo "FAIL unit/$name $rest" ;;
    esac
done <"$unit_log"
grep -q '^FAIL' "$unit_log" && sed -n '/^FAIL/,/^\(PASS\|unit:\)/p' "$unit_log"

# Fuzz corpora: every committed input of every harness (tests/fuzz) run once, as one test.
fuzz_log=$OUT/fuzz-corpus.log
harnesses=$(ls "$ROOT"/tests/fuzz/fuzz_*.c 2>/dev/null | sed "s|.*/\(fuzz_[^/]*\)\.c$|$BUILD/fuzz/\1|")
if [ -n "$harnesses" ]; then
    # shellcheck disable=SC2086
    if "$ROOT/tests/tools/run_fuzz.sh" replay $harnesses >"$fuzz_log" 2>&1; then
        passed=$((passed + 1))
        echo "PASS fuzz-corpus ($(grep -c '^PASS' "$fuzz_log") harnesses)"
    else
        failed=$((failed + 1))
        failures="$failures fuzz-corpus"
        echo "FAIL fuzz-corpus"
        sed 's/^/    /' "$fuzz_log" | tail -40
    fi
fi

# Integration tests, JOBS at a time.
tests=$(ls "$ROOT"/tests/integration/test_*.sh | grep -- "${pattern}" || true)
# The Linux guest (fetched from Debian's archive once, its initramfs rebuilt when guests/linux/
# changes) is brought up to date here, before the tests that boot it run in parallel: they only
# fetch it themselves when it is missing, and two fetches at once would race.
if printf '%s\n' $tests | grep -q linux; then
    make -C "$ROOT" --no-print-directory linux-guest >"$OUT/linux-guest.log" 2>&1 ||
        echo "note: make linux-guest failed ($(tail -n 1 "$OUT/linux-guest.log")); the Linux tests will fetch or skip"
fi
export BUILD TEST_OUT=$OUT
start=$(date +%s)
# The longest first (by their "# TEST-BUDGET:" lines: the Linux guest under Bochs), so that no
# long test starts last and runs alone while the other job has nothing left to do.
order=$(for t in $tests; do
    echo "$(sed -n 's/^# TEST-BUDGET: *\([0-9][0-9]*\)$/\1/p' "$t" | head -n 1 | grep . || echo 0) $t"
done | sort -s -k1,1nr | cut -d' ' -f2)
# A test may ask for a longer budget on a line "# TEST-BUDGET: SECONDS" (the Linux guest does).
printf '%s\n' $order | xargs -P "$JOBS" -I{} bash -c '
    t={}; n=$(basename "$t" .sh)
    s=$(date +%s)
    budget=$(sed -n "s/^# TEST-BUDGET: *\([0-9][0-9]*\)$/\1/p" "$t" | head -n 1)
    [ -n "$budget" ] && [ "$budget" -gt '"$BUDGET"' ] || budget='"$BUDGET"'
    timeout --kill-after=10 "$budget" bash "$t" >"$TEST_OUT/$n.out" 2>&1; rc=$?
    [ $rc -eq 124 ] && echo "[$n] FAIL: timed out after $budget s" >>"$TEST_OUT/$n.out"
    echo "$rc $(( $(date +%s) - s ))" >"$TEST_OUT/$n.rc"'
for t in $tests; do
    n=$(basename "$t" .sh)
    read -r rc secs <"$OUT/$n.rc" || { rc=1; secs=0; }
    if [ "$rc" -eq 0 ]; then
        passed=$((passed + 1))
        echo "PASS $n (${secs} s)"
    elif [ "$rc" -eq 77 ]; then
        skipped=$((skipped + 1))
        echo "SKIP $n: $(grep -m1 'SKIP:' "$OUT/$n.out" | sed 's/.*SKIP: //')"
    else
        failed=$((failed + 1))
        failures="$failures $n"
        echo "FAIL $n (${secs} s)"
        sed 's/^/    /' "$OUT/$n.out" | tail -40
    fi
done
echo "integration tests took $(( $(date +%s) - start )) s"
[ -n "$failures" ] && echo "failed:$failures"
if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
