#!/bin/bash
# test_sleeper.sh on the AMD-V backend (QEMU TCG -cpu max).
# TEST-BUDGET: 200
export BACKEND=svm TEST_NAME=test_svm_sleeper
exec bash "$(dirname "$0")/test_sleeper.sh"
