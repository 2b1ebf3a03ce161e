# Host unit tests: every tests/unit/test_*.c is one cmocka program, built with ASan and UBSan.
# A test names the hypervisor sources it exercises on a line of its own:
#     /* UNIT-SOURCES: kernel/config.c kernel/lib/printf.c */
UNIT_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -DTESSERA_HOST_TEST \
	-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
	-Ikernel/include -Iarch/x86/include -Idrivers/include -Itests/unit
UNIT_TESTS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_TESTS:tests/unit/%.c=$(BUILD)/unit/%)

unit_sources = $(shell sed -n 's|.*UNIT-SOURCES:\(.*\)\*/.*|\1|p' $(1))
# Every header the tests may include: a change to any rebuilds them (one gcc run builds each
# program from several sources, so there is no per-source dependency file).
UNIT_HEADERS := $(shell find kernel arch drivers tests/unit -name '*.h')

.SECONDEXPANSION:
$(BUILD)/unit/%: tests/unit/%.c $$(call unit_sources,tests/unit/%.c) $(UNIT_HEADERS)
	@mkdir -p $(dir $@)
	$(HOSTCC) $(UNIT_CFLAGS) -o $@ $< $(call unit_sources,$<) -lcmocka

.PHONY: unit
unit: $(UNIT_BINS)
	@tests/tools/run_unit.sh $(UNIT_BINS)

# ---- the two commands -----------------------------------------------------------------------
# Both install what is missing first, then build in a fresh make (so the build sees the tools).
.PHONY: deps test run run-linux bench check-build
deps:
	@tests/tools/deps.sh

check-build: all iso usb $(UNIT_BINS) $(BUILD)/guests/elf64-shim.elf $(EFI_TEST_TARGETS)

test: deps
	@$(MAKE) --no-print-directory check-build
	@tests/tools/run_tests.sh

run: deps
	@$(MAKE) --no-print-directory all $(BUILD)/tessera-run.iso
	@tests/tools/run.sh $(BUILD)/tessera-run.iso

# run-linux: guests/linux.cfg with the real Linux guest (fetched once into build/linux/).
run-linux: deps
	@$(MAKE) --no-print-directory all iso-linux
	@RUN_PLATFORM=bochs BOCHS_IPS=25000000 tests/tools/run.sh $(BUILD)/tessera-linux.iso

bench: deps
	@$(MAKE) --no-print-directory all
	@tests/tools/bench.sh
	@tests/tools/bench_linux.sh
