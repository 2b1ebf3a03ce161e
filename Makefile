# Tessera build. `make` builds everything under build/; `make run` and `make test` set up the
# machine first (tests/tools/deps.sh installs missing Debian packages).
.DEFAULT_GOAL := all
.SUFFIXES:
MAKEFLAGS += --no-builtin-rules

BUILD := build
CC := gcc
NASM := nasm
LD := ld
OBJCOPY := objcopy
HOSTCC := gcc

# ---- the hypervisor -------------------------------------------------------------------------
HV_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -ffreestanding -fno-stack-protector \
	-fno-pic -fno-pie -mno-red-zone -mgeneral-regs-only -mcmodel=small -fno-omit-frame-pointer \
	-fno-asynchronous-unwind-tables -fno-strict-aliasing -mno-mmx -mno-sse -mno-sse2 \
	-nostdinc -isystem $(shell $(CC) -print-file-name=include) \
	-Ikernel/include -Iarch/x86/include -Idrivers/include -MMD -MP
HV_LDFLAGS := -nostdlib -z max-page-size=0x1000 -z noexecstack --no-warn-rwx-segments -T linker.ld

HV_C_SRCS := $(sort $(wildcard boot/*.c kernel/*.c kernel/*/*.c arch/x86/*.c arch/x86/*/*.c \
	drivers/*.c))
HV_ASM_SRCS := $(sort $(wildcard boot/*.asm arch/x86/*.asm arch/x86/*/*.asm))
HV_OBJS := $(HV_C_SRCS:%.c=$(BUILD)/hv/%.o) $(HV_ASM_SRCS:%.asm=$(BUILD)/hv/%.asm.o)

$(BUILD)/hv/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(HV_CFLAGS) -c $< -o $@

$(BUILD)/hv/%.asm.o: %.asm
	@mkdir -p $(dir $@)
	@echo "  NASM    $<"
	@$(NASM) -f elf64 -Werror -I arch/x86/include/ -MD $@.d -MP $< -o $@

$(BUILD)/tessera.elf: $(HV_OBJS) linker.ld
	@echo "  LD      $@"
	@$(LD) $(HV_LDFLAGS) -o $@ $(HV_OBJS)

# ---- UEFI loader, guests, unit tests, images: each in its own fragment -------------------------
include $(wildcard boot/efi/efi.mk)
include $(wildcard guests/guests.mk)
include $(wildcard tests/tests.mk)
include $(sort $(wildcard tests/fuzz/*.mk))
include boot/images.mk

.PHONY: all clean
all: $(BUILD)/tessera.elf $(EFI_TARGETS) $(GUEST_TARGETS)

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
