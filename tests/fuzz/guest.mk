# `make fuzz-guest`: the fuzz guest (guests/fuzzer.c) for 10^6 ops under Bochs next to canaries
# that must print exactly what they print alone (tests/integration/test_fuzz_guest.sh; `make test`
# runs the same test with 10^5 ops). FUZZ_GUEST_SEED and FUZZ_GUEST_OPS choose the run; the seed
# is printed with the result.
FUZZ_GUEST_OPS ?= 1000000
ifndef FUZZ_GUEST_SEED # a fresh seed each run (expanded once), printed so it can be rerun
FUZZ_GUEST_SEED := 0x$(shell od -An -N4 -tx4 /dev/urandom | tr -d ' ')
endif

.PHONY: fuzz-guest
fuzz-guest: deps
	@$(MAKE) --no-print-directory all
	@echo "fuzz-guest: seed=$(FUZZ_GUEST_SEED) ops=$(FUZZ_GUEST_OPS)"
	@FUZZ_GUEST_SEED=$(FUZZ_GUEST_SEED) FUZZ_GUEST_OPS=$(FUZZ_GUEST_OPS) \
		tests/integration/test_fuzz_guest.sh
