#!/bin/sh
# mkiso.sh OUT.iso KERNEL.elf "CMDLINE" [FILE...]
# Builds a GRUB hybrid ISO (BIOS and UEFI; also dd-able to a stick) that boots KERNEL through
# Multiboot2 with each FILE as a module named after its file name. With MULTIBOOT=1 in the
# environment it uses GRUB's Multiboot 1 commands instead (a bare Multiboot kernel, for `make bench`).
set -eu
out=$1; kernel=$2; cmdline=$3; shift 3
if [ "${MULTIBOOT:-2}" = 1 ]; then boot=multiboot; module=module; else boot=multiboot2; module=module2; fi
work=$(mktemp -d "${TMPDIR:-/tmp}/tessera-iso.XXXXXX")
trap 'rm -rf "$work"' EXIT
stage=$work/iso # what goes on the ISO; the log stays outside it
mkdir -p "$stage/boot/grub" "$stage/tessera"
name=$(basename "$kernel")
cp "$kernel" "$stage/boot/$name"
{
    echo 'set timeout=0'
    echo 'set default=0'
    # GRUB-EFI needs its video drivers loaded to hand over the GOP framebuffer.
    echo 'insmod all_video'
    echo 'menuentry "Tessera" {'
    echo "    $boot /boot/$name $cmdline"
    for f in "$@"; do
        base=$(basename "$f")
        cp "$f" "$stage/tessera/$base"
        # --nounzip: the guest gets the file as it is (GRUB would gunzip a gzipped initrd, slowly
        # under Bochs)
        echo "    $module --nounzip /tessera/$base $base"
    done
    echo '    boot'
    echo '}'
} > "$stage/boot/grub/grub.cfg"
grub-mkrescue -o "$out" "$stage" >"$work/mkrescue.log" 2>&1 || { cat "$work/mkrescue.log" >&2; exit 1; }
