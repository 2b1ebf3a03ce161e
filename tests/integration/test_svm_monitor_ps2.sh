#!/bin/bash
# test_monitor_ps2.sh on the AMD-V backend (QEMU TCG -cpu max): the monitor typed at through
# QEMU's emulated i8042, keys sent with the QEMU monitor's `sendkey`.
# TEST-BUDGET: 300
export BACKEND=svm TEST_NAME=test_svm_monitor_ps2
exec bash "$(dirname "$0")/test_monitor_ps2.sh"
