#!/bin/bash
# test_hypercall_insns.sh on the AMD-V backend (QEMU TCG -cpu max): VMCALL raises #UD on AMD and
# is served as a hypercall, VMMCALL exits directly.
# TEST-BUDGET: 90
export BACKEND=svm TEST_NAME=test_svm_hypercall_insns
exec bash "$(dirname "$0")/test_hypercall_insns.sh"
