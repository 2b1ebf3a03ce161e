# libFuzzer harnesses: every tests/fuzz/fuzz_NAME.c is one program defining LLVMFuzzerTestOneInput,
# built with clang, ASan and UBSan into build/fuzz/fuzz_NAME. A harness names the hypervisor
# sources it exercises on a line of its own, like the unit tests:
#     /* FUZZ-SOURCES: kernel/config.c kernel/lib/printf.c */
# Its seed corpus is tests/fuzz/corpus/NAME/ (small committed files).
#   make fuzz          runs each harness FUZZ_TIME seconds (default 300), FUZZ_JOBS (2) at a time,
#                      from a copy of its corpus under build/fuzz/work/; fails on any crash
#   make fuzz-corpus   replays every committed corpus once (make test runs this step too)
FUZZ_CC := clang
FUZZ_TIME ?= 300
FUZZ_JOBS ?= 2
FUZZ_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -DTESSERA_HOST_TEST \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
	-Ikernel/include -Iarch/x86/include -Idrivers/include -Itests/unit -Itests/fuzz
FUZZ_HARNESSES := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ_HARNESSES:tests/fuzz/%.c=$(BUILD)/fuzz/%)

fuzz_sources = $(shell sed -n 's|.*FUZZ-SOURCES:\(.*\)\*/.*|\1|p' $(1))

.SECONDEXPANSION:
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $$(call fuzz_sources,tests/fuzz/fuzz_%.c) \
		$(wildcard tests/fuzz/*.h)
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $<"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(call fuzz_sources,$<)

.PHONY: fuzz fuzz-run fuzz-build fuzz-corpus fuzz-guest
fuzz-build: $(FUZZ_BINS)

# fuzz-guest, the fuzz guest under Bochs, is defined by tests/fuzz/guest.mk; without that
# fragment it is a phony target with no rule, which make treats as done.
fuzz: deps
	@$(MAKE) --no-print-directory fuzz-run

fuzz-run: $(FUZZ_BINS) fuzz-guest
	@FUZZ_TIME=$(FUZZ_TIME) FUZZ_JOBS=$(FUZZ_JOBS) BUILD=$(BUILD) \
		tests/tools/run_fuzz.sh campaign $(FUZZ_BINS)

fuzz-corpus: $(FUZZ_BINS)
	@BUILD=$(BUILD) tests/tools/run_fuzz.sh replay $(FUZZ_BINS)

check-build: $(FUZZ_BINS)
