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

$(BUILD)/efi/BOOTX64.so: $(BUILD)/efi/loader.o
	$(LD) $(EFI_LDFLAGS) $(EFI_LIB)/crt0-efi-x86_64.o $^ -o $@ -L$(EFI_LIB) -lefi -lgnuefi

$(BUILD)/BOOTX64.EFI: $(BUILD)/efi/BOOTX64.so
	$(OBJCOPY) $(EFI_SECTIONS) --target efi-app-x86_64 --subsystem=10 $< $@

# Test-only variant: makes the first ExitBootServices fail on a stale map key (retry path).
$(BUILD)/efi/test/loader.o: boot/efi/loader.c
	@mkdir -p $(dir $@)
	$(CC) $(EFI_CFLAGS) -DLOADER_TEST_STALE_KEY -c $< -o $@

$(BUILD)/efi/test/BOOTX64.so: $(BUILD)/efi/test/loader.o
	$(LD) $(EFI_LDFLAGS) $(EFI_LIB)/crt0-efi-x86_64.o $^ -o $@ -L$(EFI_LIB) -lefi -lgnuefi

$(BUILD)/efi/BOOTX64-stalekey.EFI: $(BUILD)/efi/test/BOOTX64.so
	$(OBJCOPY) $(EFI_SECTIONS) --target efi-app-x86_64 --subsystem=10 $< $@

EFI_TARGETS += $(BUILD)/BOOTX64.EFI $(BUILD)/efi/BOOTX64-stalekey.EFI

# ---- make usb: GPT disk with an EFI System Partition, ready to dd onto a stick ----------------
# $(call efi_usb_image,OUT,FILES[,CMDLINE]): boot/efi/mkusb.sh puts FILES into \tessera\ and,
# with CMDLINE, writes \tessera\cmdline.txt. tests/tools/lib_uefi.sh calls the same script.
USB_CONFIG := $(wildcard guests/tessera.cfg)
# guests.mk may already ship a (processed) tessera.cfg: then that one is used.
USB_FILES = $(if $(filter %/tessera.cfg,$(GUEST_TARGETS)),,$(USB_CONFIG)) $(GUEST_TARGETS)
efi_usb_image = boot/efi/mkusb.sh $(1) $(BUILD)/BOOTX64.EFI $(BUILD)/tessera.elf \
	$(if $(3),-c '$(3)') $(2)

.SECONDEXPANSION:
$(BUILD)/tessera-usb.img: $(BUILD)/BOOTX64.EFI $(BUILD)/tessera.elf $$(USB_FILES) boot/efi/mkusb.sh
	$(call efi_usb_image,$@,$(USB_FILES))

.PHONY: usb
usb: $(BUILD)/tessera-usb.img
