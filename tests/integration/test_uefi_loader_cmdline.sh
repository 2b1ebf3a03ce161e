#!/bin/bash
# The loader's command line when started from the UEFI shell: the shell's arguments win over
# \tessera\cmdline.txt and the program name is dropped. OVMF finds no EFI/BOOT/BOOTX64.EFI on this
# image, starts its shell, and the shell runs startup.nsh, which starts the loader with arguments.
. "$(dirname "$0")/../tools/lib.sh"

img=$T/shell.img
log=$T/serial.log
uefi_make_image "$img" -c "from-cmdline-txt" "$ROOT/guests/tessera.cfg" ||
    { fail "cannot build the image"; finish; }
printf 'fs0:\r\n\\tessera-loader.efi exit=qemu  marker=shell "two words"\r\n' >"$T/startup.nsh"
(
    export MTOOLS_SKIP_CHECK=1
    set -e
    mdel -i "$img@@1048576" ::/EFI/BOOT/BOOTX64.EFI
    mcopy -i "$img@@1048576" "$BUILD/BOOTX64.EFI" ::/tessera-loader.efi
    mcopy -i "$img@@1048576" "$T/startup.nsh" ::/startup.nsh
) || { fail "cannot set up the shell image"; finish; }

status=0
uefi_boot_qemu_usb "$img" "$log" 120 || status=$?
uefi_clean_log "$log" >"$log.clean"
L=$log.clean
expect_status "$status" 33 "the hypervisor ran and ended with success"
expect "$L" '^cmdline: "exit=qemu marker=shell two words" \(from shell arguments\)$' \
    "shell arguments, without the program name, override cmdline.txt"
expect "$L" '^tessera: cmdline="exit=qemu marker=shell two words"' \
    "the hypervisor received the same command line"
expect_not "$L" 'from-cmdline-txt' "cmdline.txt ignored when arguments are given"
finish
