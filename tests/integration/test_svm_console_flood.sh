#!/bin/bash
# test_console_flood.sh on the AMD-V backend (QEMU TCG -cpu max -icount shift=0, quantum_us=50):
# the exit cost and end gap bounds in instructions, lines whole and in order, one and two CPUs.
# TEST-BUDGET: 200
export BACKEND=svm TEST_NAME=test_svm_console_flood
exec bash "$(dirname "$0")/test_console_flood.sh"
