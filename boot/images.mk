# Bootable images. `make iso`: GRUB hybrid ISO (BIOS + UEFI, CD or dd to a stick) with the
# default config and every in-tree guest (GUEST_TARGETS, which holds the config) as Multiboot2
# modules.
ISO_CMDLINE ?=
.PHONY: iso
iso: $(BUILD)/tessera.iso
$(BUILD)/tessera.iso: $(BUILD)/tessera.elf $(GUEST_TARGETS) tests/tools/mkiso.sh
	@echo "  ISO     $@"
	@tests/tools/mkiso.sh $@ $(BUILD)/tessera.elf "$(ISO_CMDLINE)" $(GUEST_TARGETS)

# `make iso-linux`: the same with guests/linux.cfg, its two in-tree guests and the Linux guest,
# which guests/linux/fetch.sh downloads from Debian's archive into build/linux/ (never
# committed; `make run` and `make iso` never fetch it). Its copy of the config adds
# tessera.test=shell to Linux's command line: after its checks /init runs a shell on ttyS0, which
# the monitor's `console linux` types into, and powers the VM off when it exits.
LINUX_OUT := $(BUILD)/linux
LINUX_GUEST := $(LINUX_OUT)/vmlinuz $(LINUX_OUT)/initramfs.cpio.gz
.PHONY: iso-linux linux-guest
linux-guest: $(LINUX_GUEST)
$(LINUX_OUT)/initramfs.cpio.gz: $(LINUX_OUT)/vmlinuz guests/linux/init guests/linux/tscmark.c
	@guests/linux/fetch.sh $(LINUX_OUT)
$(LINUX_OUT)/vmlinuz: guests/linux/fetch.sh
	@guests/linux/fetch.sh $(LINUX_OUT)
$(LINUX_OUT)/tessera.cfg: guests/linux.cfg
	@mkdir -p $(dir $@)
	sed -e '/^\[vm linux\]/,/^\[/s/^\(cmdline = ".*\)"$$/\1 tessera.test=shell"/' $< >$@
	@grep -q 'tessera.test=shell"$$' $@ || { echo "$<: no cmdline in [vm linux]" >&2; rm -f $@; exit 1; }
iso-linux: $(BUILD)/tessera-linux.iso
$(BUILD)/tessera-linux.iso: $(BUILD)/tessera.elf $(LINUX_OUT)/tessera.cfg $(LINUX_GUEST) \
		$(GUEST_OUT)/hello64.elf $(GUEST_OUT)/compute.elf tests/tools/mkiso.sh
	@echo "  ISO     $@"
	@tests/tools/mkiso.sh $@ $(BUILD)/tessera.elf "$(ISO_CMDLINE)" $(LINUX_OUT)/tessera.cfg \
		$(LINUX_GUEST) $(GUEST_OUT)/hello64.elf $(GUEST_OUT)/compute.elf

# `make run`: the same hypervisor and guests with guests/run.cfg (the default VMs plus echo, for
# the monitor's `console echo`) and no end=poweroff: the monitor stays at the console.
RUN_CFG := $(GUEST_OUT)/run/tessera.cfg
$(RUN_CFG): guests/run.cfg
	@mkdir -p $(dir $@)
	cp $< $@
$(BUILD)/tessera-run.iso: $(BUILD)/tessera.elf $(GUEST_TARGETS) $(RUN_CFG) tests/tools/mkiso.sh
	@echo "  ISO     $@"
	@tests/tools/mkiso.sh $@ $(BUILD)/tessera.elf "$(ISO_CMDLINE)" \
		$(filter-out $(GUEST_OUT)/tessera.cfg,$(GUEST_TARGETS)) $(RUN_CFG)
