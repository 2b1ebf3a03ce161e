#!/bin/bash
# A Linux VM's own reboot and panic end only that VM, through the platform the VM's ACPI tables
# describe (docs/devices.md "ACPI PM device"): one Bochs run (VT-x) of Debian's stock kernel (ACPI
# on, legacy PIC/PIT: `noapic nolapic`) with tessera.test=cmos-reboot-panic, beside hello64; with
# BACKEND=svm (test_svm_linux_power.sh) one QEMU TCG -cpu max run (AMD-V), the same checks.
#  - life 1: the kernel finds the generated tables at 0xe0000 (zero page acpi_rsdp_addr), the PM
#    timer as a clocksource and the pvpanic device (QEMU0001); /init writes CMOS byte 0x40
#    through /dev/port and runs `reboot -f`: the ACPI reset register (0xcf9 <- 0x06) reboots
#    only this VM ("rebooting", not a failure);
#  - life 2: a new boot of the same image (banner again) whose CMOS byte survived the reboot, as
#    a PC's battery-backed CMOS does; /init panics through sysrq, the pvpanic driver writes
#    PANICKED to port 0x505 and the VM fails ("guest kernel panicked") with its panic line in
#    the report's recent output; the summary counts the reboot;
#  - hello64 prints exactly its normal output and exits 0 meanwhile.
# Power-off through ACPI S5 is checked by test_linux_boot.sh (its /init ends with poweroff -f):
# a third Linux boot here would cost another ~8e9 emulated instructions.
# Slow under Bochs: two Linux boots, 1.4e10 TSC ticks in the guest at 25 MHz: measured 10-12
# minutes of wall time at load 9-11 on 2 cores, 26 minutes at load 13 beside the rest of the
# suite. Under QEMU (AMD-V) about a minute.
# TEST-BUDGET: 3300
. "$(dirname "$0")/../tools/lib.sh"
. "$(dirname "$0")/configs/checks.sh"

G=$BUILD/guests
L=$BUILD/linux
for f in "$BUILD/tessera.elf" "$G/hello64.elf"; do
    [ -f "$f" ] || { fail "$f missing (run make first)"; finish; }
done
# make brings the initramfs up to date with guests/linux/init (and fetches what is missing)
if ! make -C "$ROOT" --no-print-directory linux-guest >"$T/fetch.log" 2>&1; then
    [ -f "$L/vmlinuz" ] && [ -f "$L/initramfs.cpio.gz" ] ||
        skip "could not fetch the Linux guest from Debian's archive: $(tail -n 1 "$T/fetch.log")"
    fail "make linux-guest failed: $(tail -n 1 "$T/fetch.log")"
fi
zcat "$L/initramfs.cpio.gz" | cpio -t 2>/dev/null | grep -q '^lib/modules/pvpanic-mmio.ko$' ||
    fail "the initramfs holds no pvpanic-mmio.ko"

LIMIT=${LINUX_TIME_LIMIT:-25m}
export BOCHS_IPS=25000000 # as test_linux_boot.sh: a 250 Hz tick needs room at Bochs's TSC rate
# The TSC rate and delay loop Bochs's 25 MHz gives; under QEMU TCG the TSC is the host's, which
# Linux calibrates itself, as on any AMD CPU (under TCG that fails and it keeps the ACPI PM timer)
TSC_ARGS=" tsc_early_khz=25000 lpj=100000"
[ "$BACKEND" = svm ] && TSC_ARGS=""
cat >"$T/tessera.cfg" <<CFG
[vm linux]
image = vmlinuz
initrd = initramfs.cpio.gz
memory = 128M
cpu = 0
weight = 4
time_limit = $LIMIT
cmdline = "console=ttyS0 earlyprintk=serial,ttyS0,115200 nokaslr$TSC_ARGS noapic nolapic tessera.test=cmos-reboot-panic"

[vm hello]
image = hello64.elf
memory = 16M
cpu = 0
weight = 1
cmdline = "greeting=hello"
CFG
log=$T/serial.log
make_iso "$T/linux.iso" "" "$T/tessera.cfg" "$L/vmlinuz" "$L/initramfs.cpio.gz" "$G/hello64.elf"
start=$SECONDS
run_linux_iso "$T/linux.iso" "$log"
note "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)"

K='^\[linux\] \[ *[0-9]+\.[0-9]+\] ' # a kernel line
expect "$log" '^tessera: config: 2 VMs accepted, 0 errors' "config parsed"
expect "$log" "^tessera: $(backend_name) enabled on CPU 0" "the $BACKEND backend runs the VMs"
expect_not "$log" '^tessera: vm [a-z]+ .*refused' "no VM refused"
expect_count "$log" "${K}Linux version 6\\.1\\." 2 "two lives of the kernel (banner twice)"

# ---- ACPI: the generated tables, found through the zero page --------------------------------
expect "$log" "${K}ACPI: RSDP 0x00000000000E0000 000024 \\(v02 TESSRA\\)\$" "the RSDP at 0xe0000"
expect "$log" "${K}ACPI: FACP 0x[0-9A-F]+ 000114 \\(v06 TESSRA TESSERA " "the FADT (revision 6)"
expect "$log" "${K}ACPI: DSDT 0x[0-9A-F]+ " "the DSDT"
expect "$log" "${K}ACPI: APIC 0x[0-9A-F]+ " "the MADT"
# (Linux's acpi_pm clocksource always uses 24 bits of the timer)
expect "$log" "${K}ACPI: PM-Timer IO Port: 0x608\$" "the PM timer from the FADT"
expect "$log" "${K}clocksource: acpi_pm: mask: 0xffffff " "the PM timer is a clocksource"
expect "$log" "${K}ACPI: PM: \\(supports S0 S5\\)\$" "S5 from the DSDT"
expect_not "$log" "${K}ACPI (Error|BIOS Error|Warning)" "no ACPI errors or warnings"
expect_not "$log" 'TESSERA-LINUX-INSMOD-FAILED' "the pvpanic modules load"

# ---- life 1: CMOS byte written, reboot through the ACPI reset register ----------------------
expect_count "$log" '^\[linux\] TESSERA-LINUX-START$' 2 "/init runs in both lives"
expect "$log" '^\[linux\] TESSERA-LINUX-CMOS 0x40=00$' "life 1: CMOS byte 0x40 starts at 0"
expect "$log" '^\[linux\] TESSERA-LINUX-LIFE 1: CMOS 0x40 now a5, rebooting$' "life 1: CMOS byte written"
expect "$log" "${K}reboot: Restarting system\$" "life 1: Linux restarts"
expect_count "$log" '^tessera: vm linux: reboot requested \(ACPI reset register\)$' 1 "the reset register is seen"
expect_count "$log" '^tessera: vm linux: rebooting \(reboot 1\)$' 1 "the VM reboots once"
expect_order "$log" '^\[linux\] TESSERA-LINUX-LIFE 1' '^tessera: vm linux: rebooting' "the reboot follows life 1"
expect_not "$log" '^tessera: vm linux: restarting' "a reboot is no failure restart"

# ---- life 2: CMOS kept, panic reported through pvpanic ----------------------------------------
expect "$log" '^\[linux\] TESSERA-LINUX-CMOS 0x40=a5$' "life 2: the CMOS byte survived the reboot"
expect "$log" '^\[linux\] TESSERA-LINUX-LIFE 2: CMOS kept across the reboot, panicking$' "life 2 runs"
expect_order "$log" '^tessera: vm linux: rebooting' '^\[linux\] TESSERA-LINUX-LIFE 2' "life 2 after the reboot"
expect "$log" "${K}Kernel panic - not syncing: sysrq triggered crash\$" "Linux panics"
expect_count "$log" '^tessera: vm linux failed: guest kernel panicked$' 1 "the panic ends the VM as failed"
expect "$log" '^tessera: vm linux:     \| \[ *[0-9.]+\] Kernel panic - not syncing: sysrq triggered crash$' \
    "the failure report's recent output holds the panic line"
expect_register_dump "$log" linux
expect_summary_row "$log" linux "FAILED"
expect "$log" '^tessera:   +reason: guest kernel panicked$' "summary: the reason"
expect "$log" '^tessera:   +rebooted 1 time \(its own reboot, not a failure\)$' "summary: one reboot"
note "recent output lines in the report: $(grep -c '^tessera: vm linux:     |' "$log")"

# ---- the in-tree guest is untouched ------------------------------------------------------------
expect_hello_output "$log" hello "greeting=hello" 1
expect_count "$log" "^tessera: vm hello exited with status 0" 1 "hello: exits with status 0"
expect_summary_row "$log" hello "exit 0"
expect "$log" '^tessera: end status=' "the run ends"
note "$(grep -E '^tessera: +linux ' "$log" | head -1)"
note "whole $BACKEND run: $((SECONDS - start)) s"
finish
