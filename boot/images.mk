# Bootable images. `make iso`: GRUB hybrid ISO (BIOS + UEFI, CD or dd to a stick) with the
# default config and every in-tree guest as Multiboot2 modules.
DEFAULT_CONFIG := guests/tessera.cfg
ISO_CMDLINE ?=
.PHONY: iso
iso: $(BUILD)/tessera.iso
$(BUILD)/tessera.iso: $(BUILD)/tessera.elf $(wildcard $(DEFAULT_CONFIG)) $(GUEST_TARGETS) tests/tools/mkiso.sh
	tests/tools/mkiso.sh $@ $(BUILD)/tessera.elf "$(ISO_CMDLINE)" $(wildcard $(DEFAULT_CONFIG)) $(GUEST_TARGETS)
