# bochsrc.sh: writes a headless, deterministic Bochs configuration (see ../shared/platforms.md).
# bochs_config FILE MEDIUM SERIAL_LOG BOCHS_LOG [MEGS] [CPU_MODEL] [CPUS]
#   BOCHS_COM1_MODE/BOCHS_COM1_DEV override COM1 (socket-server + localhost:PORT: Bochs waits for
#   one TCP client, which then reads and types on the console; SERIAL_LOG is unused then).
#   MEDIUM cdrom:PATH  the Bochs BIOS boots a CD image (a GRUB ISO)
#          uefi:PATH   OVMF (the 2 MB OVMF_CODE.fd) boots a raw disk image (the USB image)
# Under the BIOS, VBE is off: GRUB's VBE mode switch crashes under Bochs's video BIOS; GRUB then
# stays in text mode. OVMF reads MSR 0x17 (IA32_PLATFORM_ID), which Bochs does not implement: its
# runs accept unknown MSRs (BOCHS_IGNORE_BAD_MSRS=0 overrides). Magic breakpoints are off so a
# guest's `xchg bx,bx` cannot stop the emulator.
BOCHS_OVMF_CODE=${BOCHS_OVMF_CODE:-/usr/share/OVMF/OVMF_CODE.fd}

bochs_config() {
    local file=$1 medium=$2 serial=$3 log=$4 megs=${5:-128} model=${6:-corei7_skylake_x} cpus=${7:-1}
    local rom boot_lines vga bad_msrs=0
    case $medium in
    cdrom:*)
        rom=/usr/share/bochs/BIOS-bochs-latest
        vga=none
        boot_lines="ata0-master: type=cdrom, path=$(realpath "${medium#cdrom:}"), status=inserted
boot: cdrom" ;;
    uefi:*)
        rom=$BOCHS_OVMF_CODE
        vga=vbe
        bad_msrs=${BOCHS_IGNORE_BAD_MSRS:-1}
        boot_lines="pci: enabled=1, chipset=i440fx
ata0-master: type=disk, path=$(realpath "${medium#uefi:}"), mode=flat
boot: disk" ;;
    *) echo "bochs_config: unknown medium '$medium'" >&2; return 1 ;;
    esac
    cat >"$file" <<EOF_RC
megs: $megs
romimage: file=$rom
vgaromimage: file=/usr/share/vgabios/vgabios.bin
display_library: rfb, options="timeout=0"
vga: extension=$vga, update_freq=5, realtime=0
$boot_lines
cpu: model=$model, count=$cpus, ips=${BOCHS_IPS:-5000000}, reset_on_triple_fault=0, ignore_bad_msrs=$bad_msrs
clock: sync=none, time0=946681200
com1: enabled=1, mode=${BOCHS_COM1_MODE:-file}, dev=${BOCHS_COM1_DEV:-$serial}
speaker: enabled=0
sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy
magic_break: enabled=0
log: $log
panic: action=fatal
error: action=report
info: action=report
debug: action=ignore
mouse: enabled=0
EOF_RC
}
