# UEFI test harness: build ESP/USB images and boot them under QEMU + OVMF or Bochs + OVMF.
# Sourced by lib.sh (uses its ROOT and BUILD, and bochsrc.sh).
#
#   uefi_make_image OUT.img [-e BOOTX64.EFI] [-k tessera.elf] [-c CMDLINE] [FILE...]
#       GPT disk, FAT32 ESP at 1 MiB: EFI/BOOT/BOOTX64.EFI, tessera/tessera.elf, tessera/<FILE>.
#       Defaults: build/BOOTX64.EFI and build/tessera.elf. -k - leaves the hypervisor out.
#       -c writes tessera/cmdline.txt (with end=poweroff added, see with_end). Returns mkusb.sh's status.
#   uefi_boot_qemu_usb IMG LOG TIMEOUT [STOP_REGEX]
#       Boots IMG as a USB mass-storage stick (q35, qemu-xhci, OVMF_CODE_4M) with the serial port
#       in LOG. Returns QEMU's status: 33 = hypervisor wrote 0x10 to port 0xf4 (success), 35 = 0x11,
#       124 = timed out. With STOP_REGEX, QEMU is stopped as soon as LOG matches it (extended
#       regex) and the function returns 200: for runs that cannot end by themselves.
#   uefi_boot_bochs IMG LOG TIMEOUT [STOP_REGEX]
#       Boots IMG (from uefi_make_image, or any raw FAT ESP image) as Bochs's ATA disk with OVMF_CODE.fd
#       (cpu corei7_skylake_x). Returns Bochs's status (1 after ACPI power-off, 124 = timed out,
#       200 = STOP_REGEX matched). Judge Bochs runs by LOG. Bochs's own log is LOG.bochs.
#   uefi_log_has LOG REGEX   -> 0 when LOG (with CRs and ANSI escapes removed) matches REGEX
#   uefi_clean_log LOG       -> LOG on stdout without CRs and ANSI escape sequences

UEFI_OVMF_CODE_4M=${UEFI_OVMF_CODE_4M:-/usr/share/OVMF/OVMF_CODE_4M.fd}
UEFI_OVMF_VARS_4M=${UEFI_OVMF_VARS_4M:-/usr/share/OVMF/OVMF_VARS_4M.fd}

# Parses uefi_make_image's options into _uefi_* variables.
_uefi_image_args() {
    _uefi_efi=$BUILD/BOOTX64.EFI
    _uefi_kernel=$BUILD/tessera.elf
    _uefi_cmdline=
    _uefi_has_cmdline=0
    _uefi_files=()
    while [ $# -gt 0 ]; do
        case $1 in
        -e) _uefi_efi=$2; shift 2 ;;
        -k) _uefi_kernel=$2; shift 2 ;;
        -c) _uefi_cmdline=$2; _uefi_has_cmdline=1; shift 2 ;;
        *) _uefi_files+=("$1"); shift ;;
        esac
    done
}

uefi_make_image() {
    local out=$1
    shift
    _uefi_image_args "$@"
    local args=()
    # a test's runs end when their VMs have: end=poweroff joins a given command line
    [ "$_uefi_has_cmdline" = 1 ] && args=(-c "$(with_end "$_uefi_cmdline")")
    "$ROOT/boot/efi/mkusb.sh" "$out" "$_uefi_efi" "$_uefi_kernel" "${args[@]}" "${_uefi_files[@]}"
}

uefi_clean_log() {
    # the monitor's prompt, erased by "\r ESC[K" before each line printed over it, goes first
    sed -e 's/.*\r\x1b\[K//' -e 's/\r//g' -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1b[()][A-Z0-9]//g' "$1" 2>/dev/null
}

uefi_log_has() {
    uefi_clean_log "$1" | grep -Eq -- "$2"
}

# Runs "$@" in the background with a timeout; stops it early when LOG matches STOP_REGEX.
# Returns the command's status, 124 on timeout, 200 when stopped by the regex.
_uefi_run_watched() {
    local timeout_s=$1 log=$2 stop=$3
    shift 3
    "$@" &
    local pid=$! waited=0 status
    while kill -0 "$pid" 2>/dev/null; do
        if [ -n "$stop" ] && uefi_log_has "$log" "$stop"; then
            kill "$pid" 2>/dev/null
            wait "$pid" 2>/dev/null
            return 200
        fi
        if [ "$waited" -ge $((timeout_s * 5)) ]; then
            kill "$pid" 2>/dev/null
            sleep 1
            kill -9 "$pid" 2>/dev/null
            wait "$pid" 2>/dev/null
            return 124
        fi
        sleep 0.2
        waited=$((waited + 1))
    done
    wait "$pid"
    status=$?
    # The process may have ended right after printing the stop pattern.
    if [ -n "$stop" ] && [ "$status" -ne 33 ] && uefi_log_has "$log" "$stop"; then
        return 200
    fi
    return "$status"
}

uefi_boot_qemu_usb() {
    local img=$1 log=$2 timeout_s=$3 stop=${4:-}
    local vars
    vars=$(mktemp) || return 1
    cp "$UEFI_OVMF_VARS_4M" "$vars" || { rm -f "$vars"; return 1; }
    : >"$log"
    _uefi_run_watched "$timeout_s" "$log" "$stop" \
        qemu-system-x86_64 -machine q35 -accel tcg -m 512 -nodefaults -display none -no-reboot \
        -drive "if=pflash,format=raw,unit=0,readonly=on,file=$UEFI_OVMF_CODE_4M" \
        -drive "if=pflash,format=raw,unit=1,file=$vars" \
        -device qemu-xhci,id=usb0 \
        -drive "if=none,id=stick,format=raw,file=$img" \
        -device usb-storage,bus=usb0.0,drive=stick,removable=on \
        -serial "file:$log" \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        ${UEFI_QEMU_EXTRA:-} </dev/null >"$log.qemu" 2>&1
    local status=$?
    rm -f "$vars"
    return "$status"
}

uefi_boot_bochs() {
    local img=$1 log=$2 timeout_s=$3 stop=${4:-}
    local dir
    dir=$(mktemp -d) || return 1
    bochs_config "$dir/bochsrc" "uefi:$img" "$log" "$log.bochs" 256 || return 1
    printf 'c\nr\nquit\n' >"$dir/dbg.rc"
    : >"$log"
    _uefi_run_watched "$timeout_s" "$log" "$stop" \
        bochs -q -f "$dir/bochsrc" -rc "$dir/dbg.rc" </dev/null >"$log.out" 2>&1
    local status=$?
    # A killed Bochs leaves its image lock behind; the next run would refuse the image.
    rm -rf "$dir" "$img.lock"
    return "$status"
}
