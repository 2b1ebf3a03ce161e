#!/bin/sh
# mkiso.sh OUT.iso multiboot|multiboot2 KERNEL.elf "CMDLINE" [FILE...]
# A BIOS GRUB CD image for the benchmark: boots KERNEL with GRUB's `multiboot2` command (the
# hypervisor) or `multiboot` (a Multiboot 1 kernel run bare, e.g. compute.elf), each FILE as a
# module named after its file name. tests/tools/mkiso.sh only does multiboot2.
set -eu
out=$1; kind=$2; kernel=$3; cmdline=$4; shift 4
case $kind in
multiboot) module=module ;;
multiboot2) module=module2 ;;
*) echo "mkiso.sh: kind must be multiboot or multiboot2, not '$kind'" >&2; exit 2 ;;
esac
work=$(mktemp -d "${TMPDIR:-/tmp}/tessera-bench-iso.XXXXXX")
trap 'rm -rf "$work"' EXIT
stage=$work/iso # the packed tree; the log stays outside it
mkdir -p "$stage/boot/grub" "$stage/files"
name=$(basename "$kernel")
cp "$kernel" "$stage/boot/$name"
{
    echo 'set timeout=0'
    echo 'set default=0'
    echo 'menuentry "bench" {'
    echo "    $kind /boot/$name $cmdline"
    for f in "$@"; do
        base=$(basename "$f")
        cp "$f" "$stage/files/$base"
        echo "    $module /files/$base $base"
    done
    echo '    boot'
    echo '}'
} >"$stage/boot/grub/grub.cfg"
grub-mkrescue -d /usr/lib/grub/i386-pc -o "$out" "$stage" >"$work/mkrescue.log" 2>&1 ||
    { cat "$work/mkrescue.log" >&2; exit 1; }
