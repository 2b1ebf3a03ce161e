#!/bin/bash
# BOOTX64.EFI and the files in \tessera\: every regular file but tessera.elf and cmdline.txt
# becomes a module, in name order; a subdirectory is skipped; an empty file is a 0-byte module;
# a file that cannot be read (corrupted FAT entry) or whose name is too long is reported by name
# and the boot goes on without it; the command line is the first line of cmdline.txt; with a
# display adapter the GOP framebuffer is found.
. "$(dirname "$0")/../tools/lib.sh"

img=$T/files.img
log=$T/serial.log
d=$T/files
mkdir -p "$d"
printf '[vm x]\nimage = zz-last.bin\n' >"$d/tessera.cfg"
printf 'Z' >"$d/zz-last.bin"
printf 'A' >"$d/aa-first.bin"
: >"$d/empty.bin"
yes corrupted | head -c 5000 >"$d/broken.bin"
long=this-module-name-is-far-too-long-to-fit-the-boot-info-name-field.bin # 68 characters
printf 'L' >"$d/$long"
printf 'N' >"$d/nested.bin"
printf 'exit=qemu  marker=files  \r\nsecond line is ignored\r\n' >"$d/cmdline.txt.src"

uefi_make_image "$img" "$d/tessera.cfg" "$d/zz-last.bin" "$d/aa-first.bin" "$d/empty.bin" \
    "$d/broken.bin" "$d/$long" || { fail "cannot build the image"; finish; }
(
    export MTOOLS_SKIP_CHECK=1
    set -e
    mcopy -i "$img@@1048576" "$d/cmdline.txt.src" ::/tessera/cmdline.txt
    mmd -i "$img@@1048576" ::/tessera/subdir
    mcopy -i "$img@@1048576" "$d/nested.bin" ::/tessera/subdir/nested.bin
) || { fail "cannot add files to the image"; finish; }

# Corrupt broken.bin: its directory entry (8.3 name "BROKEN  BIN", size at byte 28) claims
# 9,000,000 bytes while its cluster chain holds 5000, so the firmware's read fails.
off=$(grep -obUa 'BROKEN  BIN' "$img" | head -n1 | cut -d: -f1)
if [ -z "$off" ]; then
    fail "directory entry of broken.bin not found in the image"
    finish
fi
printf '\x40\x54\x89\x00' | dd of="$img" bs=1 seek=$((off + 28)) conv=notrunc status=none

status=0
# With a display adapter, OVMF's GOP gives a linear framebuffer to hand over.
UEFI_QEMU_EXTRA="-device VGA" uefi_boot_qemu_usb "$img" "$log" 120 || status=$?
uefi_clean_log "$log" >"$log.clean"
L=$log.clean
expect_status "$status" 33 "the boot continues to the hypervisor, which ends with success"

expect "$L" '^cannot read \\tessera\\broken.bin: Volume Corrupt; booting without it$' \
    "unreadable file named with the EFI status"
expect "$L" "^cannot load \\\\tessera\\\\$long: name longer than 63 characters; booting without it\$" \
    "over-long name refused by name"
expect "$L" '^module empty.bin: 0 bytes at 0x[0-9A-F]+$' "empty file is a 0-byte module"
expect "$L" '^module aa-first.bin: 1 bytes at 0x' "module aa-first.bin"
expect "$L" '^module zz-last.bin: 1 bytes at 0x' "module zz-last.bin"
expect "$L" '^module tessera.cfg: [0-9]+ bytes at 0x' "module tessera.cfg"
expect_order "$L" '^module aa-first.bin' '^module empty.bin' "modules in name order (a < e)"
expect_order "$L" '^module tessera.cfg' '^module zz-last.bin' "modules in name order (t < z)"
expect_count "$L" '^module ' 4 "exactly the four good files are modules"
expect_not "$L" 'nested.bin|subdir' "subdirectories are not loaded"
expect "$L" '^cmdline: "exit=qemu  marker=files" \(from \\tessera\\cmdline.txt\)$' \
    "first line of cmdline.txt, trailing blanks and CR removed"
expect "$L" '^framebuffer: [0-9]+x[0-9]+ at 0x[0-9A-F]+, pitch [0-9]+$' "GOP framebuffer found"
expect "$L" '^tessera: end status=ok$' "hypervisor ran to its end"
finish
