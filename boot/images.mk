# Bootable images. `make iso`: GRUB hybrid ISO (BIOS + UEFI, CD or dd to a stick) with the
# default config and every in-tree guest as Multiboot2 modules.
DEFAULT_CONFIG := guests/tessera.cfg
ISO_CMDLINE ?=
.PHONY: iso
iso: $(BUILD)/tessera.iso
# guests.mk may already ship the config among its targets: then that copy is used.
ISO_FILES = $(if $(filter %/tessera.cfg,$(GUEST_TARGETS)),,$(wildcard $(DEFAULT_CONFIG))) $(GUEST_TARGETS)
$(BUILD)/tessera.iso: $(BUILD)/tessera.elf $(ISO_FILES) tests/tools/mkiso.sh
	@echo "  ISO     $@"
	@tests/tools/mkiso.sh $@ $(BUILD)/tessera.elf "$(ISO_CMDLINE)" $(ISO_FILES)
