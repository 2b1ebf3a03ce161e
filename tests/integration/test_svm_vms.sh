#!/bin/bash
# test_vms.sh on the AMD-V backend: the default six guests under QEMU TCG -cpu max (SVM with
# nested paging, no NRIP save or decode assists), the same expected output line for line.
# TEST-BUDGET: 200
export BACKEND=svm TEST_NAME=test_svm_vms
exec bash "$(dirname "$0")/test_vms.sh"
