#!/bin/sh
# Build a GPT disk image whose EFI System Partition boots Tessera through BOOTX64.EFI.
# No root, no loop devices: sgdisk writes the partition table, mkfs.fat formats the partition
# in place (--offset) and mtools copies the files.
#
# usage: mkusb.sh OUT.img BOOTX64.EFI tessera.elf [-c CMDLINE] [FILE...]
#   Every FILE goes to \tessera\ under its base name (config, guest images, guest modules);
#   a later FILE with the same base name replaces an earlier one.
#   -c CMDLINE writes \tessera\cmdline.txt holding CMDLINE (the loader's default command line).
#   A FILE (or tessera.elf) named "-" is left out, so callers can pass optional files through
#   unchanged and tests can build an image without a hypervisor.
# Layout: partition 1 (type EF00, FAT32) starts at 1 MiB; EFI/BOOT/BOOTX64.EFI,
# tessera/tessera.elf, tessera/<files>.
set -eu

usage() {
    echo "usage: $0 OUT.img BOOTX64.EFI tessera.elf [-c CMDLINE] [FILE...]" >&2
    exit 2
}

[ $# -ge 3 ] || usage
out=$1 efi=$2 kernel=$3
shift 3
cmdline=
have_cmdline=0
if [ $# -ge 2 ] && [ "$1" = "-c" ]; then
    cmdline=$2 have_cmdline=1
    shift 2
fi

for f in "$efi" "$kernel" "$@"; do
    [ "$f" = "-" ] && continue
    if [ ! -f "$f" ]; then
        echo "mkusb.sh: $f: no such file" >&2
        exit 1
    fi
done
for tool in sgdisk mkfs.fat mmd mcopy; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "mkusb.sh: $tool not found (packages: gdisk dosfstools mtools)" >&2
        exit 1
    }
done

# ESP size: room for the files twice over, at least 64 MiB (FAT32 with 512-byte clusters needs
# at least 65525 clusters, about 33 MiB).
total_kib=0
for f in "$efi" "$kernel" "$@"; do
    [ "$f" = "-" ] && continue
    total_kib=$((total_kib + ($(stat -c %s "$f") + 1023) / 1024))
done
esp_mib=$(((total_kib * 2) / 1024 + 16))
[ "$esp_mib" -ge 64 ] || esp_mib=64
# 1 MiB before the partition (protective MBR, GPT), 1 MiB after (backup GPT).
disk_mib=$((esp_mib + 2))
offset=1048576

tmp="$out.tmp"
rm -f "$tmp"
truncate -s "${disk_mib}M" "$tmp"
sgdisk -o -n "1:2048:+${esp_mib}M" -t 1:ef00 -c 1:"EFI System" "$tmp" >/dev/null
mkfs.fat -F 32 -s 1 -n TESSERA --offset 2048 "$tmp" $((esp_mib * 1024)) >/dev/null 2>&1 ||
    { echo "mkusb.sh: mkfs.fat failed" >&2; exit 1; }

export MTOOLS_SKIP_CHECK=1
img="$tmp@@$offset"
mmd -i "$img" ::/EFI ::/EFI/BOOT ::/tessera
mcopy -i "$img" "$efi" ::/EFI/BOOT/BOOTX64.EFI
[ "$kernel" = "-" ] || mcopy -i "$img" "$kernel" ::/tessera/tessera.elf
for f in "$@"; do
    [ "$f" = "-" ] && continue
    mcopy -o -i "$img" "$f" "::/tessera/$(basename "$f")"
done
if [ "$have_cmdline" = 1 ]; then
    printf '%s\n' "$cmdline" >"$tmp.cmdline"
    mcopy -i "$img" "$tmp.cmdline" ::/tessera/cmdline.txt
    rm -f "$tmp.cmdline"
fi
mv "$tmp" "$out"
