#!/bin/sh
# mkiso.sh OUT.iso HYPERVISOR.elf "CMDLINE" [FILE...]
# Builds a GRUB hybrid ISO (BIOS and UEFI; also dd-able to a stick) that boots the hypervisor
# through Multiboot2 with each FILE as a module named after its file name.
set -eu
out=$1; hv=$2; cmdline=$3; shift 3
stage=$(mktemp -d "${TMPDIR:-/tmp}/tessera-iso.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/boot/grub" "$stage/tessera"
cp "$hv" "$stage/boot/tessera.elf"
{
    echo 'set timeout=0'
    echo 'set default=0'
    # GRUB-EFI needs its video drivers loaded to hand over the GOP framebuffer.
    echo 'insmod all_video'
    echo 'menuentry "Tessera" {'
    echo "    multiboot2 /boot/tessera.elf $cmdline"
    for f in "$@"; do
        name=$(basename "$f")
        cp "$f" "$stage/tessera/$name"
        echo "    module2 /tessera/$name $name"
    done
    echo '    boot'
    echo '}'
} > "$stage/boot/grub/grub.cfg"
grub-mkrescue -o "$out" "$stage" >"$stage/mkrescue.log" 2>&1 || { cat "$stage/mkrescue.log" >&2; exit 1; }
