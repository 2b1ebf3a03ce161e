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
    # Under BIOS keep VGA text mode: GRUB's VBE mode switch crashes on some video BIOSes (Bochs's)
    # and the kernel has a text console for it. UEFI keeps the GOP framebuffer.
    echo 'if [ "${grub_platform}" = "pc" ]; then set gfxpayload=text; fi'
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
