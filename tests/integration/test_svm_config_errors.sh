#!/bin/bash
# test_config_errors.sh on the AMD-V backend (QEMU TCG -cpu max): every config error and refusal,
# the good VMs run; on two CPUs (-smp 2) restarts and a time limit on CPU 1.
# TEST-BUDGET: 120
export BACKEND=svm TEST_NAME=test_svm_config_errors
exec bash "$(dirname "$0")/test_config_errors.sh"
