#!/bin/sh
# Runs each host unit-test binary given as an argument, prints one result line per binary and a
# final "unit: N passed, N failed" line (counting binaries). Exit status 1 on any failure.
# A failing binary's own output is shown; a passing one's is kept quiet.
passed=0
failed=0
log=$(mktemp) || exit 1
trap 'rm -f "$log"' EXIT INT TERM

for bin in "$@"; do
    name=$(basename "$bin")
    if [ ! -x "$bin" ]; then
        echo "FAIL $name (not built or not executable)"
        failed=$((failed + 1))
        continue
    fi
    if "$bin" >"$log" 2>&1; then
        echo "PASS $name ($(grep -c '^\[       OK \]' "$log") tests)"
        passed=$((passed + 1))
    else
        status=$?
        echo "FAIL $name (exit status $status)"
        sed 's/^/    /' "$log"
        failed=$((failed + 1))
    fi
done

echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
