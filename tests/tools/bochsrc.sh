# bochsrc.sh: writes a headless, deterministic Bochs configuration (see ../shared/platforms.md).
# bochs_config FILE ISO SERIAL_LOG BOCHS_LOG [MEGS] [CPU_MODEL] [CPUS]
# VBE is off: GRUB's VBE mode switch crashes under Bochs's video BIOS; GRUB then stays in text
# mode. Magic breakpoints are off so a guest's `xchg bx,bx` cannot stop the emulator.
bochs_config() {
    local file=$1 iso=$2 serial=$3 log=$4 megs=${5:-128} model=${6:-corei7_skylake_x} cpus=${7:-1}
    cat >"$file" <<EOF_RC
megs: $megs
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/vgabios/vgabios.bin
display_library: rfb, options="timeout=0"
vga: extension=none, update_freq=5, realtime=0
ata0-master: type=cdrom, path=$(realpath "$iso"), status=inserted
boot: cdrom
cpu: model=$model, count=$cpus, ips=5000000, reset_on_triple_fault=0, ignore_bad_msrs=0
clock: sync=none, time0=946681200
com1: enabled=1, mode=file, dev=$serial
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
