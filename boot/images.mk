# Bootable images. `make iso`: GRUB hybrid ISO (BIOS + UEFI, CD or dd to a stick) with the
# default config and every in-tree guest (GUEST_TARGETS, which holds the config) as Multiboot2
# modules.
ISO_CMDLINE ?=
.PHONY: iso
iso: $(BUILD)/tessera.iso
$(BUILD)/tessera.iso: $(BUILD)/tessera.elf $(GUEST_TARGETS) tests/tools/mkiso.sh
	@echo "  ISO     $@"
	@tests/tools/mkiso.sh $@ $(BUILD)/tessera.elf "$(ISO_CMDLINE)" $(GUEST_TARGETS)
