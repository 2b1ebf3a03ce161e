#!/bin/bash
# test_shares.sh on the AMD-V backend (QEMU TCG -cpu max).
# TEST-BUDGET: 200
export BACKEND=svm TEST_NAME=test_svm_shares
exec bash "$(dirname "$0")/test_shares.sh"
