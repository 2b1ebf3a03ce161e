#!/bin/bash
# test_guest_paging.sh on the AMD-V backend (QEMU TCG -cpu max): 32-bit and PAE paging switched on
# by the guest, its MOV CR4 decoded without decode assists.
# TEST-BUDGET: 90
export BACKEND=svm TEST_NAME=test_svm_guest_paging
exec bash "$(dirname "$0")/test_guest_paging.sh"
