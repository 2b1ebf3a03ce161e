#!/bin/bash
# test_config_errors.sh on the AMD-V backend (QEMU TCG -cpu max).
# TEST-BUDGET: 200
export BACKEND=svm TEST_NAME=test_svm_config_errors
exec bash "$(dirname "$0")/test_config_errors.sh"
