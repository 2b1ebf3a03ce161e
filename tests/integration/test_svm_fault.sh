#!/bin/bash
# test_fault.sh on the AMD-V backend (QEMU TCG -cpu max): the fault dump taken with EFER.SVME
# set, and QEMU's exit status.
# TEST-BUDGET: 90
export BACKEND=svm TEST_NAME=test_svm_fault
exec bash "$(dirname "$0")/test_fault.sh"
