# UEFI loader (gnu-efi) and the USB-stick image. Included by the top Makefile.
EFI_INC := /usr/include/efi
EFI_LIB := /usr/lib
EFI_CFLAGS := -std=gnu11 -O2 -Wall -Wextra -Werror -fpic -fshort-wchar -mno-red-zone \
	-fno-stack-protector -ffreestanding -fno-strict-aliasing -DEFI_FUNCTION_WRAPPER \
	-I$(EFI_INC) -I$(EFI_INC)/x86_64 -Ikernel/include -MMD -MP
EFI_LDFLAGS := -nostdlib -znocombreloc -shared -Bsymbolic -T $(EFI_LIB)/elf_x86_64_efi.lds
EFI_SECTIONS := -j .text -j .sdata -j .data -j .dynamic -j .dynsym -j .rel -j .rela \
	-j '.rel.*' -j '.rela.*' -j .reloc

$(BUILD)/efi/%.o: boot/efi/%.c
	@mkdir -p $(dir $@)
	$(CC) $(EFI_CFLAGS) -c $< -o $@

# One link and conversion for both builds of the loader: efi/ (BOOTX64.EFI) and efi/test/.
$(BUILD)/efi/BOOTX64.so $(BUILD)/efi/test/BOOTX64.so: %/BOOTX64.so: %/loader.o
	$(LD) $(EFI_LDFLAGS) $(EFI_LIB)/crt0-efi-x86_64.o $^ -o $@ -L$(EFI_LIB) -lefi -lgnuefi

$(BUILD)/BOOTX64.EFI: $(BUILD)/efi/BOOTX64.so
	$(OBJCOPY) $(EFI_SECTIONS) --target efi-app-x86_64 --subsystem=10 $< $@

# Test-only variant (built by `make test`): makes the first ExitBootServices fail on a stale map
# key, so the retry path runs.
$(BUILD)/efi/test/loader.o: boot/efi/loader.c
	@mkdir -p $(dir $@)
	$(CC) $(EFI_CFLAGS) -DLOADER_TEST_STALE_KEY -c $< -o $@

$(BUILD)/efi/BOOTX64-stalekey.EFI: $(BUILD)/efi/test/BOOTX64.so
	$(OBJCOPY) $(EFI_SECTIONS) --target efi-app-x86_64 --subsystem=10 $< $@

EFI_TARGETS += $(BUILD)/BOOTX64.EFI
EFI_TEST_TARGETS := $(BUILD)/efi/BOOTX64-stalekey.EFI

# ---- make usb: GPT disk with an EFI System Partition, ready to dd onto a stick ----------------
# boot/efi/mkusb.sh puts the guests and the config (GUEST_TARGETS) into \tessera\; the tests
# call the same script through tests/tools/lib_uefi.sh.
.SECONDEXPANSION:
$(BUILD)/tessera-usb.img: $(BUILD)/BOOTX64.EFI $(BUILD)/tessera.elf $$(GUEST_TARGETS) boot/efi/mkusb.sh
	boot/efi/mkusb.sh $@ $(BUILD)/BOOTX64.EFI $(BUILD)/tessera.elf $(GUEST_TARGETS)

.PHONY: usb
usb: $(BUILD)/tessera-usb.img
