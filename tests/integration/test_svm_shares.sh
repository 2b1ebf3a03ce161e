#!/bin/bash
# test_shares.sh on the AMD-V backend (QEMU TCG -cpu max -icount shift=0): weighted and equal
# shares with time slices ended by the local APIC timer.
# TEST-BUDGET: 150
export BACKEND=svm TEST_NAME=test_svm_shares
exec bash "$(dirname "$0")/test_shares.sh"
