# In-tree test guests (see guests/README.md). Included by the top Makefile; outputs under
# build/guests/. 64-bit guests are ELF64, 32-bit ones ELF32 + Multiboot 1, and bootsector.bin a
# raw 512-byte boot sector. The guest library reuses kernel/lib/printf.c, string.c and cmdline.c.
GUEST_OUT := $(BUILD)/guests
GUEST_COMMON_CFLAGS := -std=gnu11 -O2 -Wall -Wextra -Werror -ffreestanding -fno-stack-protector \
	-fno-pic -fno-pie -fno-asynchronous-unwind-tables -fno-strict-aliasing -mgeneral-regs-only \
	-ffunction-sections -fdata-sections -nostdinc -isystem $(shell $(CC) -print-file-name=include) \
	-Ikernel/include -Iguests/lib -MMD -MP
GUEST64_CFLAGS := $(GUEST_COMMON_CFLAGS) -m64 -mno-red-zone -mcmodel=small
GUEST32_CFLAGS := $(GUEST_COMMON_CFLAGS) -m32 -march=i686
GUEST16_CFLAGS := $(GUEST_COMMON_CFLAGS) -m16 -march=i386 -Os -fno-function-sections
GUEST_LD_COMMON := -nostdlib -z max-page-size=0x1000 -z noexecstack --gc-sections -T guests/guest.ld
GUEST_LDFLAGS := $(GUEST_LD_COMMON) --defsym=GUEST_LOAD_ADDR=0x100000

GUEST_LIB_SRCS := guests/lib/serial.c guests/lib/tessera.c guests/lib/exit.c guests/lib/cmdline.c \
	guests/lib/crc32.c guests/lib/attack.c kernel/lib/printf.c kernel/lib/string.c kernel/lib/cmdline.c
GUEST_LIB64_OBJS := $(GUEST_LIB_SRCS:%.c=$(GUEST_OUT)/obj64/%.o) \
	$(GUEST_OUT)/obj64/guests/lib/start64.o
GUEST_LIB32_OBJS := $(GUEST_LIB_SRCS:%.c=$(GUEST_OUT)/obj32/%.o) \
	$(GUEST_OUT)/obj32/guests/lib/start32.o

GUESTS64 := hello64 halter attacker spinner bench fuzzer flood echo
GUESTS32 := mb32 compute attacker32
GUEST_DATA := mb32-module.txt

GUEST_TARGETS := $(GUESTS64:%=$(GUEST_OUT)/%.elf) $(GUESTS32:%=$(GUEST_OUT)/%.elf) \
	$(GUEST_OUT)/bootsector.bin $(GUEST_DATA:%=$(GUEST_OUT)/%) $(GUEST_OUT)/tessera.cfg

.PHONY: guests
guests: $(GUEST_TARGETS)

$(GUEST_OUT)/obj64/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(GUEST64_CFLAGS) -c $< -o $@

$(GUEST_OUT)/obj32/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(GUEST32_CFLAGS) -c $< -o $@

$(GUEST_OUT)/obj16/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(GUEST16_CFLAGS) -c $< -o $@

$(GUESTS64:%=$(GUEST_OUT)/%.elf): $(GUEST_OUT)/%.elf: $(GUEST_OUT)/obj64/guests/%.o \
		$(GUEST_LIB64_OBJS) guests/guest.ld
	$(LD) -m elf_x86_64 $(GUEST_LDFLAGS) -o $@ $< $(GUEST_LIB64_OBJS)

$(GUESTS32:%=$(GUEST_OUT)/%.elf): $(GUEST_OUT)/%.elf: $(GUEST_OUT)/obj32/guests/%.o \
		$(GUEST_LIB32_OBJS) guests/guest.ld
	$(LD) -m elf_i386 $(GUEST_LDFLAGS) -o $@ $< $(GUEST_LIB32_OBJS)

$(GUEST_OUT)/bootsector.elf: $(GUEST_OUT)/obj16/guests/bootsector.o guests/bootsector.ld
	$(LD) -m elf_i386 -nostdlib -z noexecstack -T guests/bootsector.ld -o $@ $<

$(GUEST_OUT)/bootsector.bin: $(GUEST_OUT)/bootsector.elf
	$(OBJCOPY) -O binary $< $@
	@test "$$(stat -c %s $@)" = 512 || { echo "$@: not 512 bytes" >&2; rm -f $@; exit 1; }

$(GUEST_DATA:%=$(GUEST_OUT)/%): $(GUEST_OUT)/%: guests/data/%
	@mkdir -p $(dir $@)
	cp $< $@

$(GUEST_OUT)/tessera.cfg: guests/tessera.cfg
	@mkdir -p $(dir $@)
	cp $< $@

# Test tool (not a guest): runs an ELF64 guest bare under QEMU, see guests/tools/elf64-shim.c.
$(GUEST_OUT)/elf64-shim.elf: $(GUEST_OUT)/obj32/guests/tools/elf64-shim.o $(GUEST_LIB32_OBJS) \
		guests/guest.ld
	$(LD) -m elf_i386 $(GUEST_LD_COMMON) --defsym=GUEST_LOAD_ADDR=0x2000000 -o $@ $< \
		$(GUEST_LIB32_OBJS)

# Bare checks of the guests under QEMU (no Tessera needed): guests/tools/test-bare.sh.
.PHONY: guests-test
guests-test: $(GUEST_TARGETS) $(GUEST_OUT)/elf64-shim.elf
	guests/tools/test-bare.sh
