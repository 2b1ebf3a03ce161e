#!/bin/bash
# test_idle.sh on the AMD-V backend (QEMU TCG -cpu max, the TSC the host's clock): idle CPUs halt,
# and QEMU's own CPU time shows it.
# TEST-BUDGET: 240
export BACKEND=svm TEST_NAME=test_svm_idle
exec bash "$(dirname "$0")/test_idle.sh"
