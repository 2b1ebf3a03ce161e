#!/bin/bash
# test_monitor_flood.sh on the AMD-V backend (QEMU TCG -cpu max, COM1 on a TCP socket): the
# monitor answers while a VM floods its console.
# TEST-BUDGET: 300
export BACKEND=svm TEST_NAME=test_svm_monitor_flood
exec bash "$(dirname "$0")/test_monitor_flood.sh"
