#!/bin/bash
# test_linux_power.sh on the AMD-V backend (QEMU TCG -cpu max): Linux's reboot through the ACPI
# reset register keeps its CMOS byte; its panic in the second life is reported through pvpanic.
# TEST-BUDGET: 420
export BACKEND=svm TEST_NAME=test_svm_linux_power
exec bash "$(dirname "$0")/test_linux_power.sh"
