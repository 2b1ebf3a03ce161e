#!/bin/bash
# test_fuzz_guest.sh on the AMD-V backend (QEMU TCG -cpu max).
# TEST-BUDGET: 200
export BACKEND=svm TEST_NAME=test_svm_fuzz_guest
exec bash "$(dirname "$0")/test_fuzz_guest.sh"
