#!/bin/bash
# test_mitigations.sh on the AMD-V backend (QEMU TCG -cpu max -icount shift=0): the decisions for
# the AMD CPU QEMU offers, mitigations=off, bad values, forced VERW and short RSB sequence, 2 CPUs.
# TEST-BUDGET: 240
export BACKEND=svm TEST_NAME=test_svm_mitigations
exec bash "$(dirname "$0")/test_mitigations.sh"
