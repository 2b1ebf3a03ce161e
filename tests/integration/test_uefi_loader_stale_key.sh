#!/bin/bash
# ExitBootServices retry: a test build of the loader (build/efi/BOOTX64-stalekey.EFI) allocates a
# page between its last GetMemoryMap and the first ExitBootServices, so the firmware refuses the
# stale map key (EFI_INVALID_PARAMETER). The loader must fetch a fresh map, retry and hand over.
. "$(dirname "$0")/../tools/lib.sh"

img=$T/stale.img
log=$T/serial.log
uefi_make_image "$img" -e "$BUILD/efi/BOOTX64-stalekey.EFI" -c "exit=qemu" \
    "$ROOT/guests/tessera.cfg" || { fail "cannot build the image"; finish; }
status=0
uefi_boot_qemu_usb "$img" "$log" 120 || status=$?
uefi_clean_log "$log" >"$log.clean"
L=$log.clean
expect "$L" '^test build: the first ExitBootServices gets a stale map key$' "test build in use"
expect_not "$L" 'FATAL' "no fatal error: the retry succeeded"
expect_status "$status" 33 "the hypervisor ran and ended with success"
expect "$L" '^tessera: end status=ok$' "clean end"
finish
