#!/bin/bash
# test_time_limit.sh on the AMD-V backend (QEMU TCG -cpu max): time limits and restarts, with
# time slices ended by the local APIC timer.
# TEST-BUDGET: 150
export BACKEND=svm TEST_NAME=test_svm_time_limit
exec bash "$(dirname "$0")/test_time_limit.sh"
