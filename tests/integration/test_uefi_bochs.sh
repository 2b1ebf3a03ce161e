#!/bin/bash
# The whole UEFI chain under Bochs (corei7_skylake_x, VT-x with EPT): OVMF -> BOOTX64.EFI ->
# tessera.elf -> the default guests. The USB image is attached as the ATA disk. Bochs cannot
# report our status: judged by the serial log.
. "$(dirname "$0")/../tools/lib.sh"
# Bochs takes only the 2 MB OVMF build (Debian's ovmf has it; some distributions ship only 4 MB).
[ -f "$BOCHS_OVMF_CODE" ] || skip "no 2 MB OVMF image ($BOCHS_OVMF_CODE) for Bochs on this system"

img=$T/usb.img
log=$T/serial.log
# The image `make usb` builds, the one users write to a stick.
cp "$BUILD/tessera-usb.img" "$img" || { fail "no build/tessera-usb.img (make usb)"; finish; }

status=0
# Stop as soon as every VM has ended (the image has no end=poweroff: on a PC the monitor stays
# at the console), or the firmware gave up and started its shell.
uefi_boot_bochs "$img" "$log" 300 '^tessera: every VM has ended|^tessera: end status=|^Shell> |X64 Exception' || status=$?
uefi_clean_log "$log" >"$log.clean"
L=$log.clean
[ "$status" -ne 124 ] || fail "Bochs timed out (300 s) before the run ended"

expect "$L" '^Tessera BOOTX64.EFI: loading Tessera from \\tessera\\$' "loader banner"
expect "$L" '^tessera.elf: [0-9]+ bytes, loaded at 0x200000-' "hypervisor loaded"
expect "$L" '^module tessera.cfg: [0-9]+ bytes at 0x[0-9A-F]+$' "config loaded as a module"
expect "$L" '^cmdline: "" \(from none\)$' "no command line on a plain image"
expect "$L" '^exiting boot services; kernel entry 0x' "boot services exited"
expect_not "$L" 'cannot read|FATAL|X64 Exception' "no loader or firmware errors"

# The hypervisor's summary on Bochs: VT-x with EPT, VPID and unrestricted guest.
expect "$L" '^tessera: boot path=UEFI firmware=UEFI loader="Tessera BOOTX64.EFI"' "boot path line"
expect "$L" '^tessera: memory:? usable=[0-9]+ MiB in [0-9]+ regions' "memory summary"
expect "$L" '^tessera: cpus=1\b' "CPU count"
expect "$L" '^tessera: vmx: .*EPT=yes' "VT-x with EPT"
expect "$L" '^tessera: vmx: .*VPID=yes' "VT-x with VPID"
expect "$L" '^tessera: vmx: .*unrestricted-guest=yes' "VT-x with unrestricted guest"
expect "$L" '^tessera: vmx: .*preemption-timer=yes' "VT-x with the preemption timer"
expect "$L" '^tessera: vmx: present, IA32_FEATURE_CONTROL=0x[0-9a-f]+ \(' "FEATURE_CONTROL reported"
expect "$L" '^tessera: VT-x enabled on CPU 0' "VT-x enabled"
# The guests run after a UEFI boot: every VM of the default config runs to its end.
expect "$L" '^tessera: config: 6 VMs accepted, 0 errors' "default config parsed"
for vm in hello realmode multiboot compute halter spinner; do
    expect_count "$L" "^tessera: vm $vm exited with status 0" 1 "$vm ran to its end"
done
expect "$L" '^\[hello\] hello64: cpuid signature=TesseraVisor ' "hello sees the CPUID signature"
expect "$L" '^\[realmode\] bootsector: hello from real mode' "real-mode guest ran"
expect "$L" '^\[compute\] compute: iterations=200 checksum=0x198abcc2 ' "compute checksum as on bare metal"
expect "$L" '^\[multiboot\] mb32: module\[0\] name="mb32-module.txt"' "multiboot guest got its module"
expect "$L" '^tessera: summary \(6 VMs, ' "summary table"
expect "$L" '^tessera: every VM has ended; the monitor stays' "the monitor stays after the last VM (no end=poweroff)"
expect_not "$L" '^tessera: end status=' "no power-off without end=poweroff"
finish
