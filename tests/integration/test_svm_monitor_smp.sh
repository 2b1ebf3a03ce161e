#!/bin/bash
# test_monitor_smp.sh on the AMD-V backend (QEMU TCG -cpu max -smp 2, COM1 on a TCP socket): the
# monitor's requests to a VM on CPU 1 (registers from its VMCB, console, stop/start/restart).
# TEST-BUDGET: 300
export BACKEND=svm TEST_NAME=test_svm_monitor_smp
exec bash "$(dirname "$0")/test_monitor_smp.sh"
