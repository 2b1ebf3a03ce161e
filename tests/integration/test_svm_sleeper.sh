#!/bin/bash
# test_sleeper.sh on the AMD-V backend (QEMU TCG -cpu max -icount shift=0): a fast sleeper costs
# its CPU-bound neighbour nothing, wakes come within the minimum slice of the APIC-timer scheduler.
# TEST-BUDGET: 200
export BACKEND=svm TEST_NAME=test_svm_sleeper
exec bash "$(dirname "$0")/test_sleeper.sh"
