#!/bin/bash
# The USB-stick image (`make usb`) through OVMF under QEMU TCG -cpu max -smp 2: the UEFI path
# on the AMD-V backend. The default guests run to their ends after OVMF -> BOOTX64.EFI ->
# tessera.elf, both CPUs come up (the default config puts every VM on CPU 0: test_svm_smp.sh
# runs VMs on CPU 1), the run ends through isa-debug-exit with success.
# TEST-BUDGET: 180
export BACKEND=svm
. "$(dirname "$0")/../tools/lib.sh"
. "$(dirname "$0")/configs/checks.sh"

img=$T/usb.img
log=$T/serial.log
cp "$BUILD/tessera-usb.img" "$img" || { fail "no build/tessera-usb.img (make usb)"; finish; }
printf 'exit=qemu end=poweroff\n' >"$T/cmdline.txt"
MTOOLS_SKIP_CHECK=1 mcopy -i "$img@@1048576" "$T/cmdline.txt" ::/tessera/cmdline.txt ||
    { fail "cannot add cmdline.txt to the image"; finish; }

status=0
UEFI_QEMU_EXTRA="-cpu max -smp 2" uefi_boot_qemu_usb "$img" "$log" 150 || status=$?
uefi_clean_log "$log" >"$log.clean"
L=$log.clean
expect_status "$status" 33 "QEMU ends through isa-debug-exit with success"
expect "$L" '^tessera: boot path=UEFI firmware=UEFI loader="Tessera BOOTX64.EFI"' "booted through the UEFI loader"
expect "$L" '^tessera: cpus online: 2 of 2' "both CPUs started after a UEFI boot"
expect "$L" '^tessera: svm: present, revision [0-9]+, [0-9]+ ASIDs, NPT=yes ' "AMD-V with nested paging"
expect "$L" '^tessera: svm: usable' "AMD-V judged usable"
expect "$L" '^tessera: AMD-V enabled on CPU 0' "AMD-V on CPU 0"
for vm in hello realmode multiboot compute halter spinner; do
    expect_count "$L" "^tessera: vm $vm exited with status 0" 1 "$vm: exits 0 after a UEFI boot"
done
expect "$L" '^\[compute\] compute: iterations=200 checksum=0x198abcc2 ' "compute: bare-metal checksum"
expect "$L" '^\[realmode\] bootsector: done' "the real-mode guest ran"
expect "$L" '^tessera: all VMs ended \(every VM exited with status 0\)' "all VMs ended well"
expect "$L" '^tessera: end status=ok' "end status=ok"
finish
