#!/bin/bash
# test_fuzz_guest.sh on the AMD-V backend (QEMU TCG -cpu max): the fuzzer and its twin beside two
# canaries, with quirks=qemu-tcg (QEMU 7.2's own departures from the architecture, counted).
# TEST-BUDGET: 150
export BACKEND=svm TEST_NAME=test_svm_fuzz_guest
exec bash "$(dirname "$0")/test_fuzz_guest.sh"
