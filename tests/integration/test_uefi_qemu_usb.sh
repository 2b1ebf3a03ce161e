#!/bin/bash
# The USB-stick image (GPT + EFI System Partition, built by boot/efi/mkusb.sh like `make usb`)
# boots under QEMU + OVMF as a USB mass-storage device: OVMF -> BOOTX64.EFI -> tessera.elf.
# Asserts the image layout, the loader's progress lines and the hypervisor's boot summary.
. "$(dirname "$0")/../tools/lib.sh"

img=$T/usb.img
log=$T/serial.log
# The image `make usb` builds, the one users write to a stick, plus a command line that ends the
# run through QEMU's exit port.
cp "$BUILD/tessera-usb.img" "$img" || { fail "no build/tessera-usb.img (make usb)"; finish; }
printf 'exit=qemu\n' >"$T/cmdline.txt"
MTOOLS_SKIP_CHECK=1 mcopy -i "$img@@1048576" "$T/cmdline.txt" ::/tessera/cmdline.txt ||
    { fail "cannot add cmdline.txt to the image"; finish; }

# Layout: one EF00 partition at sector 2048 holding the loader, the hypervisor, config and guests.
sgdisk -p "$img" >"$T/gpt.txt" 2>&1
expect "$T/gpt.txt" '^ +1 +2048 +[0-9]+ .*EF00' "GPT with an EFI System Partition at 1 MiB"
MTOOLS_SKIP_CHECK=1 mdir -b -/ -i "$img@@1048576" ::/ >"$T/files.txt" 2>&1
expect "$T/files.txt" '^::/EFI/BOOT/BOOTX64.EFI$' "ESP has EFI/BOOT/BOOTX64.EFI"
expect "$T/files.txt" '^::/tessera/tessera.elf$' "ESP has tessera/tessera.elf"
expect "$T/files.txt" '^::/tessera/tessera.cfg$' "ESP has tessera/tessera.cfg"
expect "$T/files.txt" '^::/tessera/cmdline.txt$' "ESP has tessera/cmdline.txt"

status=0
UEFI_QEMU_EXTRA="-smp 4" uefi_boot_qemu_usb "$img" "$log" 120 || status=$?
uefi_clean_log "$log" >"$log.clean"
expect_status "$status" 33 "QEMU ends through isa-debug-exit with success (0x10)"
L=$log.clean

# BOOTX64.EFI: files from its own volume, the command line from cmdline.txt, ACPI, then the exit.
expect "$L" '^Tessera BOOTX64.EFI: loading Tessera from \\tessera\\$' "loader banner"
expect "$L" '^tessera.elf: [0-9]+ bytes, loaded at 0x200000-0x[0-9A-F]+, entry 0x[0-9A-F]+$' \
    "hypervisor loaded at its physical address"
expect "$L" '^module tessera.cfg: [0-9]+ bytes at 0x[0-9A-F]+$' "config loaded as a module"
if [ -f "$BUILD/guests/hello64.elf" ]; then
    expect "$L" '^module hello64.elf: [0-9]+ bytes at 0x[0-9A-F]+$' "guest image loaded"
fi
expect_not "$L" '^module (tessera.elf|cmdline.txt):' "tessera.elf and cmdline.txt are not modules"
expect_not "$L" 'cannot read|FATAL' "no file errors"
expect "$L" '^cmdline: "exit=qemu" \(from \\tessera\\cmdline.txt\)$' "command line from cmdline.txt"
expect "$L" '^ACPI: RSDP at 0x[0-9A-F]+, revision 2$' "ACPI 2.0 RSDP found"
expect "$L" '^framebuffer: none$' "no display adapter, no framebuffer"
expect "$L" '^memory map: [0-9]+ firmware entries, [0-9]+ regions$' "memory map converted"
expect "$L" '^exiting boot services; kernel entry 0x[0-9A-F]+, boot info at 0x[0-9A-F]+$' \
    "boot services exited"
expect_order "$L" '^exiting boot services' '^tessera: ' "loader hands over before the kernel prints"

# The hypervisor's boot summary (QEMU TCG default CPU: AMD-V without nested paging, said clearly;
# test_svm_uefi_usb.sh boots the same image with -cpu max and runs the guests).
expect "$L" '^tessera: boot path=UEFI firmware=UEFI loader="Tessera BOOTX64.EFI"' "boot path line"
expect "$L" '^tessera: memory:? usable=[0-9]+ MiB in [0-9]+ regions' "memory summary"
expect "$L" '^tessera: cpus=4 \(APIC ids: 0,1,2,3\)' "CPU count (-smp 4)"
expect "$L" '^tessera: cpus online: 4 of 4' "every CPU started after a UEFI boot"
expect "$L" "^tessera: svm: cannot run guests: this CPU's AMD-V lacks nested paging" \
    "no nested paging reported"
expect "$L" '^tessera: end status=ok$' "clean end"
finish
