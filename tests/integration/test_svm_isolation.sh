#!/bin/bash
# test_isolation.sh on the AMD-V backend (QEMU TCG -cpu max): the same 26 VMs, attacks and
# containment, with nested page faults where VMX reports EPT violations.
# TEST-BUDGET: 240
export BACKEND=svm TEST_NAME=test_svm_isolation
exec bash "$(dirname "$0")/test_isolation.sh"
