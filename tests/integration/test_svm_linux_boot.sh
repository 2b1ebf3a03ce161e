#!/bin/bash
# test_linux_boot.sh on the AMD-V backend (QEMU TCG -cpu max): Debian's kernel to userspace beside
# hello64 and compute, its interrupts injected through EVENTINJ with VINTR windows.
# TEST-BUDGET: 420
export BACKEND=svm TEST_NAME=test_svm_linux_boot
exec bash "$(dirname "$0")/test_linux_boot.sh"
