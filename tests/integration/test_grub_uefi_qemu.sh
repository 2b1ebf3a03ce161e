#!/bin/bash
# The GRUB hybrid ISO under UEFI: QEMU q35 + OVMF boots the same ISO as a CD through GRUB-EFI and
# Multiboot2. Asserts the boot path (Multiboot2 under UEFI firmware), the GOP framebuffer reaching
# the screen console, the ACPI facts, the memory summary, the clear no-nested-paging sentence (QEMU TCG default CPU) and
# a clean end with QEMU's success status.
. "$(dirname "$0")/../tools/lib.sh"
G=$BUILD/guests

make_iso "$T/uefi.iso" "exit=qemu" "$G/tessera.cfg" "$G/hello64.elf" "$G/bootsector.bin" \
    "$G/mb32.elf" "$G/mb32-module.txt" "$G/compute.elf" "$G/halter.elf" "$G/spinner.elf" ||
    { fail "cannot build the ISO"; finish; }
log=$T/serial.log
cp "$UEFI_OVMF_VARS_4M" "$T/vars.fd"
st=0
timeout 120 qemu-system-x86_64 -machine q35 -accel tcg -m 256 -smp 2 -nodefaults -no-reboot \
    -display none -vga std \
    -drive "if=pflash,format=raw,unit=0,readonly=on,file=$UEFI_OVMF_CODE_4M" \
    -drive "if=pflash,format=raw,unit=1,file=$T/vars.fd" \
    -cdrom "$T/uefi.iso" -serial "file:$log" \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 </dev/null >"$log.qemu" 2>&1 || st=$?
expect_status "$st" 33 "QEMU ends with the success status (isa-debug-exit 0x10)"
L=$log.clean
tr -d '\r' <"$log" >"$L"

expect "$L" '^tessera: boot path=Multiboot2 firmware=UEFI loader="GRUB ' "GRUB under UEFI, Multiboot2"
expect "$L" '^tessera: cmdline="exit=qemu end=poweroff"$' "the command line arrives"
expect "$L" '^tessera: file tessera\.cfg: [0-9]+ bytes at 0x' "the config arrives as a module"
expect "$L" '^tessera: memory: usable=2[0-9][0-9] MiB in [0-9]+ regions' "memory summary for -m 256"
expect "$L" '^tessera: screen console: framebuffer [0-9]+x[0-9]+ at 0x' "the GOP framebuffer carries the log"
expect "$L" '^tessera: acpi: RSDP revision 2, .*XSDT; MADT yes, FADT yes' "ACPI 2.0 tables through the XSDT"
expect "$L" '^tessera: cpus=2 \(APIC ids: 0,1\)' "two CPUs in the MADT"
expect "$L" '^tessera: cpus online: 2 of 2' "both CPUs started"
expect "$L" "^tessera: svm: cannot run guests: this CPU's AMD-V lacks nested paging" \
    "QEMU's default CPU: AMD-V without nested paging, said clearly"
expect "$L" '^tessera: config: 6 VMs accepted, 0 errors' "config parsed without VT-x too"
expect_not "$L" 'exception|FATAL' "no fault"
expect "$L" '^tessera: end status=ok$' "clean end"
finish
