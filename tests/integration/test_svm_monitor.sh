#!/bin/bash
# test_monitor.sh on the AMD-V backend: the monitor on COM1 through a TCP socket under QEMU TCG
# -cpu max, the same session (commands, errors, stop/start/restart, console echo, summary).
# TEST-BUDGET: 300
export BACKEND=svm TEST_NAME=test_svm_monitor
exec bash "$(dirname "$0")/test_monitor.sh"
