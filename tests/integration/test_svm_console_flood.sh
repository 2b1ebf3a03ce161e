#!/bin/bash
# test_console_flood.sh on the AMD-V backend (QEMU TCG -cpu max).
# TEST-BUDGET: 200
export BACKEND=svm TEST_NAME=test_svm_console_flood
exec bash "$(dirname "$0")/test_console_flood.sh"
