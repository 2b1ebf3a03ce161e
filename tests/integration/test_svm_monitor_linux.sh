#!/bin/bash
# test_monitor_linux.sh on the AMD-V backend (QEMU TCG -cpu max, COM1 on a TCP socket): the
# monitor's `console linux` types into the Linux guest's busybox shell; about a minute.
# TEST-BUDGET: 360
export BACKEND=svm TEST_NAME=test_svm_monitor_linux
exec bash "$(dirname "$0")/test_monitor_linux.sh"
