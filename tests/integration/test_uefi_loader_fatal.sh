#!/bin/bash
# BOOTX64.EFI refuses a hypervisor it cannot load with a clear message, then returns an error to
# the firmware (which goes on to its next boot option, the UEFI shell here) without ever exiting
# boot services: missing file, not an ELF, truncated ELF, memory at its address not free.
. "$(dirname "$0")/../tools/lib.sh"

# le N VALUE: VALUE as N little-endian bytes, as printf escapes.
le() {
    local n=$1 v=$2 i out=
    for ((i = 0; i < n; i++)); do
        out+=$(printf '\\x%02x' $(((v >> (8 * i)) & 0xff)))
    done
    printf '%s' "$out"
}

# make_elf OUT ADDR: the smallest valid x86-64 ELF executable, one 4 KiB segment at ADDR.
make_elf() {
    local a=$2
    printf "\x7fELF\x02\x01\x01$(le 9 0)$(le 2 2)$(le 2 62)$(le 4 1)$(le 8 $a)$(le 8 64)$(le 8 0)\
$(le 4 0)$(le 2 64)$(le 2 56)$(le 2 1)$(le 2 0)$(le 2 0)$(le 2 0)\
$(le 4 1)$(le 4 5)$(le 8 120)$(le 8 $a)$(le 8 $a)$(le 8 8)$(le 8 4096)$(le 8 4096)\
\xfa\xf4\xeb\xfd\x90\x90\x90\x90" >"$1"
}

# boot_case NAME KERNEL EXPECTED_REGEX WHAT: boots an image whose \tessera\tessera.elf is KERNEL
# ("-" for none) and checks the fatal message, the return to the firmware and that the loader
# never reached ExitBootServices.
boot_case() {
    local name=$1 kernel=$2 regex=$3 what=$4
    local img=$T/$name.img log=$T/$name.log status=0
    uefi_make_image "$img" -k "$kernel" "$ROOT/guests/tessera.cfg" -c "exit=qemu" ||
        { fail "$name: cannot build the image"; return; }
    # The loader waits 5 s after a fatal error, then OVMF starts its shell.
    uefi_boot_qemu_usb "$img" "$log" 90 'UEFI Interactive Shell' || status=$?
    uefi_clean_log "$log" >"$log.clean"
    expect_status "$status" 200 "$name: the firmware got control back (its shell started)"
    expect "$log.clean" "$regex" "$name: $what"
    expect_order "$log.clean" "$regex" 'UEFI Interactive Shell' "$name: message before the return"
    expect_not "$log.clean" '^exiting boot services|^tessera: ' "$name: no handover"
}

boot_case missing - \
    '^FATAL: cannot read the hypervisor \\tessera\\tessera.elf: Not Found$' \
    "missing hypervisor named with the EFI status"

printf 'this is not an ELF file: only text, long enough to hold an ELF header (64 bytes)\n' >"$T/text.elf"
boot_case not_elf "$T/text.elf" \
    '^FATAL: \\tessera\\tessera.elf is not a loadable x86-64 ELF: bad magic$' "not an ELF"

head -c 2048 "$BUILD/tessera.elf" >"$T/truncated.elf"
boot_case truncated "$T/truncated.elf" \
    '^FATAL: \\tessera\\tessera.elf is not a loadable x86-64 ELF: segment data past end of file$' \
    "truncated hypervisor"

# 0xB0000000 is the PCIe configuration window on q35: reserved, never allocatable.
make_elf "$T/taken.elf" $((0xB0000000))
boot_case taken "$T/taken.elf" \
    '^FATAL: physical memory 0xB0000000-0xB0001000 needed by tessera.elf is not free \(Not Found\)$' \
    "memory at the load address not free"
finish
