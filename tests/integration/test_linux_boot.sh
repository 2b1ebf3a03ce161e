#!/bin/bash
# Debian's stock Linux kernel as a guest under Bochs (VT-x + EPT), or with BACKEND=svm
# (test_svm_linux_boot.sh) under QEMU TCG -cpu max (AMD-V + NPT; about a minute): one boot of
# guests/linux.cfg
# (the Linux VM with its busybox initramfs beside hello64 and compute on CPU 0).
#  - the bzImage is recognised and loaded through the 64-bit boot protocol (zero page, e820,
#    command line, initrd), its decompressor runs and the kernel prints its banner
#    ("Linux version 6.1...") and early boot lines through the virtual UART (earlyprintk);
#  - hello64 and compute print exactly their normal output and exit 0;
#  - with its stock command line (no noapic/nolapic/acpi=off/tsc_early_khz/lpj) the kernel takes
#    the TSC rate from CPUID 0x15/0x16 (no calibration), finds the I/O APIC through the MADT and
#    runs its clock on the local APIC's TSC-deadline timer (docs/devices.md "Wiring"), sets its
#    clock from the CMOS RTC (the host's time), runs /init, whose output needs the UART's transmit
#    interrupt through I/O APIC pin 4: its markers, the known checksum line, `sleep 1` returning
#    (timer interrupts), /proc/interrupts counting local timer and IO-APIC serial interrupts and
#    none through the PIC, the date from the RTC;
#  - `poweroff -f` goes through the VM's ACPI tables (zero page acpi_rsdp_addr, FADT, \_S5) to
#    the PM device's S5, which ends the VM with status 0; the run ends with the summary table.
# Slow: about 8e9 emulated instructions (BIOS, GRUB, the kernel's decompressor, the boot): 6-7
# minutes of wall time at load 10 on 2 cores, up to 25 at load 18.
# TEST-BUDGET: 1500
# The Linux guest is fetched from Debian's archive by guests/linux/fetch.sh (make linux-guest)
# when build/linux/ does not hold it yet; the test is skipped when that is not possible.
. "$(dirname "$0")/../tools/lib.sh"
. "$(dirname "$0")/configs/checks.sh"

G=$BUILD/guests
L=$BUILD/linux
for f in "$BUILD/tessera.elf" "$G/hello64.elf" "$G/compute.elf"; do
    [ -f "$f" ] || { fail "$f missing (run make first)"; finish; }
done
if [ ! -f "$L/vmlinuz" ] || [ ! -f "$L/initramfs.cpio.gz" ]; then
    note "fetching the Linux guest (make linux-guest)"
    make -C "$ROOT" --no-print-directory linux-guest >"$T/fetch.log" 2>&1 ||
        skip "could not fetch the Linux guest from Debian's archive: $(tail -n 1 "$T/fetch.log")"
fi

# Linux's time_limit: enough TSC time (5 MHz under Bochs: one tick per instruction) for the
# decompressor and the boot to /init (measured: 20m = 6e9 ticks got to "evm: HMAC attrs", a
# few hundred TSC seconds before /init), then the VM is stopped. LINUX_TIME_LIMIT overrides it.
LIMIT=${LINUX_TIME_LIMIT:-25m}
# Bochs's TSC counts one tick per instruction at the ips rate: at the usual 5 MHz a 250 Hz timer
# tick leaves 20000 instructions, about what one tick's exits (the PIC's mask/EOI/unmask port
# writes, the timer's delivery, each entry's L1D flush) and Linux's tick handler cost, so the guest
# would do nothing but take ticks. A real CPU runs ~1000 times more instructions per second;
# 25 MHz (100000 instructions a tick) is enough here. The guest's TSC rate follows.
export BOCHS_IPS=25000000
sed -e "s/^time_limit = .*/time_limit = $LIMIT/" \
    "$ROOT/guests/linux.cfg" >"$T/tessera.cfg"
grep -q "^time_limit = $LIMIT\$" "$T/tessera.cfg" || { fail "guests/linux.cfg has no time_limit line"; finish; }
grep -m1 '^cmdline = ' "$T/tessera.cfg" | grep -Eq "tsc_early_khz|lpj=|noapic|nolapic|acpi=off" &&
    { fail "guests/linux.cfg: the command line still works around missing devices"; finish; }
log=$T/serial.log
make_iso "$T/linux.iso" "" "$T/tessera.cfg" "$L/vmlinuz" "$L/initramfs.cpio.gz" \
    "$G/hello64.elf" "$G/compute.elf"
start=$SECONDS
run_linux_iso "$T/linux.iso" "$log"
note "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)"

N='[0-9]+'
# The RTC's date: Bochs's clock starts at 1999-12-31 23:00:00, QEMU's is the host's.
if [ "$BACKEND" = svm ]; then DATE='20[0-9]{2}-[0-9]{2}-[0-9]{2}'; else DATE='(1999-12-31|2000-01-01)'; fi
K='^\[linux\] \[ *[0-9]+\.[0-9]+\] ' # a kernel line: "[linux] [   12.345678] "
expect "$log" '^tessera: config: 3 VMs accepted, 0 errors' "config parsed"
expect "$log" '^tessera: vm linux: image=vmlinuz format=Linux bzImage size=[0-9]+ ' \
    "the bzImage is recognised"
expect_not "$log" '^tessera: vm [a-z]+ .*refused' "no VM refused"
expect "$log" '^tessera: running 3 VMs \(3 on CPU 0;' "all three VMs run"

# ---- Linux: decompressor, banner, early boot ---------------------------------------------------
expect "$log" "^\\[linux\\] KASLR disabled: 'nokaslr' on cmdline\\.\$" "decompressor read the command line"
expect "$log" "${K}Linux version 6\\.1\\.[0-9]+-[0-9]+-amd64 " "the kernel banner"
expect "$log" "${K}Command line: console=ttyS0 earlyprintk=serial,ttyS0,115200 nokaslr( |\$)" \
    "the kernel got our command line"
expect "$log" "${K}BIOS-provided physical RAM map:\$" "the kernel read the e820 map"
expect "$log" "${K}BIOS-e820: \\[mem 0x0000000000100000-0x0000000007ffffff\\] usable\$" \
    "e820: RAM above 1 MiB up to 128 MiB"
expect "$log" "${K}BIOS-e820: \\[mem 0x0000000000001000-0x0000000000009fff\\] reserved\$" \
    "e820: the loader's page tables, zero page and command line reserved"
expect "$log" "${K}RAMDISK: \\[mem 0x0[0-9a-f]+-0x0[0-9a-f]+\\]\$" "the kernel found the initrd"
# ---- how far it gets without interrupts: each line is a milestone for the device models ----
expect_not "$log" '^\[linux\] \[ *[0-9.]+\] Using NULL legacy PIC$' "the kernel found the 8259A pair"
expect_not "$log" 'Failed to register legacy timer interrupt' "the kernel has its PIT timer interrupt"
# ---- the TSC rate from CPUID 0x15/0x16: no calibration against a device --------------------------
# Linux reads leaf 0x15 only on Intel CPUs (native_calibrate_tsc returns 0 for other vendors,
# and tsc_known_freq is Intel's), so on AMD-V it calibrates against the PIT and PM timer, which
# under QEMU TCG fails (too few port reads per 10 ms): noted there, asserted under Bochs.
if [ "$BACKEND" = svm ]; then
    note "$(grep -E '^\[linux\] .*tsc: ' "$log" | head -4 | tr '\n' '|')"
else
    expect "$log" "${K}tsc: Detected 2[45]\\.[0-9]{3} MHz processor\$" "the TSC rate comes from CPUID (Bochs: 25 MHz)"
    expect_not "$log" 'tsc: (Fast TSC calibration|PIT calibration|Unable to calibrate)' "no TSC calibration against the PIT"
    expect_not "$log" 'Refined TSC clocksource calibration' "the known TSC rate needs no refinement"
    expect "$log" ' tsc_known_freq ' "/proc/cpuinfo: tsc_known_freq (CPUID 0x15 gave the crystal)"
    expect "$log" "${K}Calibrating delay loop \\(skipped\\), value calculated using timer frequency" \
        "the delay loop is derived from the known TSC rate"
fi
# ---- the local APIC and the I/O APIC (MADT) --------------------------------------------------------
expect "$log" "${K}IOAPIC\\[0\\]: apic_id 1, version 17, address 0xfec00000, GSI 0-23\$" \
    "the kernel finds the I/O APIC through the MADT"
expect "$log" "${K}TSC deadline timer available\$" "CPUID offers the TSC-deadline timer"
expect_not "$log" 'MP-BIOS bug|IO-APIC \+ timer doesn.t work|APIC: Disabling|Local APIC disabled' \
    "the timer works through the I/O APIC and the local APIC is used"
# ---- the CMOS RTC: the host's time of day (Bochs's clock starts at 1999-12-31 23:00:00) ----------
expect "$log" "${K}rtc_cmos rtc_cmos: setting system clock to ${DATE}T[0-9:]{8} UTC" \
    "Linux sets its clock from the RTC"
expect "$log" '^\[linux\] \[ *[0-9.]+\] Freeing initrd memory: [0-9]+K$' "the initramfs was unpacked"
# with ACPI, 8250_pnp binds the UART through the DSDT's PNP0501 device (PnP device 00:00)
expect "$log" '^\[linux\] \[ *[0-9.]+\] 00:00: ttyS0 at I/O 0x3f8 \(irq = 4, base_baud = 115200\) is a 16550A$' \
    "the 8250 driver found the virtual UART through the DSDT (PNP0501)"
expect "$log" '^\[linux\] \[ *[0-9.]+\] Run /init as init process$' "the kernel runs /init"
banner=$(grep -Enm1 "${K}Linux version" "$log" | cut -d: -f1)
[ -n "$banner" ] && note "Linux banner at serial line $banner"
note "Linux's last lines: $(vm_lines "$log" linux | tail -n 3 | tr '\n' '|')"

# ---- the in-tree guests: exactly their normal output ------------------------------------------
expect_hello_output "$log" hello "greeting=hello" 1
expect_vm_output "$log" compute \
    'compute: start mode=tessera boot=multiboot' \
    "compute: iterations=200 checksum=0x198abcc2 tsc=$N" \
    'compute: done'
for vm in hello compute; do
    expect_count "$log" "^tessera: vm $vm exited with status 0" 1 "$vm: exits with status 0"
    expect_summary_row "$log" $vm "exit 0"
done

# ---- Linux userspace: /init's output needs IRQ 4, sleep 1 needs IRQ 0 ----------------------------
expect "$log" '^\[linux\] TESSERA-LINUX-START$' "/init runs and prints (UART interrupt)"
expect "$log" '^\[linux\] TESSERA-LINUX-CHECK ba10eb0aa181938288b41dadc444b37c3308bbb27fbac50dcbc6a3da86f96357  /etc/tessera-check$' \
    "the initramfs checksum line, as bare under QEMU"
expect "$log" '^\[linux\] TESSERA-LINUX-UPTIME [0-9]+\.[0-9]+ [0-9]+\.[0-9]+$' "/proc/uptime after sleep 1"
expect "$log" '^\[linux\] TESSERA-LINUX-END$' "sleep 1 returned (timer interrupts)"
# the local APIC's TSC-deadline timer is Linux's clock event: with it (and the TSC rate known)
# Linux does not set up the PIT at all (apic_needs_pit), so IRQ 0 has no line
expect_not "$log" '^\[linux\] +[0-9]+: .*XT-PIC' "/proc/interrupts: nothing through the PIC"
expect "$log" '^\[linux\] +4: +[1-9][0-9]* +IO-APIC +4-edge +ttyS0$' "/proc/interrupts: serial interrupts through the I/O APIC"
expect "$log" '^\[linux\] +LOC: +[1-9][0-9]* +Local timer interrupts$' "/proc/interrupts: local APIC timer interrupts"
expect "$log" "^\\[linux\\] TESSERA-LINUX-DATE ${DATE}T[0-9:]{8} rtc0 ${DATE}\$" \
    "userspace: the date and the RTC's date"
note "$(grep -E '^\[linux\] +(0|4|8|9|LOC): ' "$log" | tr -s ' ' | tr '\n' '|')"
note "$(grep -m1 '^\[linux\] TESSERA-LINUX-DATE' "$log")"
note "$(grep -Em2 'tsc: Detected' "$log" | tr '\n' '|')"
# CPUID leaf 6 offers no APERF/MPERF (their MSRs raise #GP): Linux 6.x would read both on every
# timer tick (arch_scale_freq_tick), two MSR exits and two #GPs a tick
expect "$log" '^\[linux\] flags[[:space:]]+: fpu ' "/proc/cpuinfo lists the flags"
expect_not "$log" '^\[linux\] (.* )?aperfmperf( |$)' "no aperfmperf flag"
note "$(grep -m1 '^\[linux\] TESSERA-LINUX-UPTIME' "$log")"

# ---- Linux powers off through ACPI S5, which ends the VM --------------------------------------
expect "$log" "${K}ACPI: RSDP 0x00000000000E0000 " "Linux finds the VM's ACPI tables"
expect "$log" '^\[linux\] \[ *[0-9.]+\] reboot: Power down$' "Linux powers off"
expect "$log" '^tessera: vm linux: powered off \(ACPI S5\)$' "S5 ends the VM"
expect_count "$log" '^tessera: vm linux exited with status 0' 1 "linux: exits with status 0"
expect_not "$log" '^tessera: vm linux failed' "the Linux VM is not stopped by its time_limit"
expect_summary_row "$log" linux "exit 0"
note "$(grep -E '^tessera: +linux ' "$log" | head -1)"
# MSR exits: boot-time probes plus the one IA32_TSC_DEADLINE write that arms each timer tick, so
# no more than the injected interrupts and a few hundred (APERF/MPERF reads made three a tick)
row=$(grep -E '^tessera: +linux ' "$log" | head -1)
msr=$(echo "$row" | sed -n 's/.* msr=\([0-9]*\).*/\1/p')
irq=$(echo "$row" | sed -n 's/.* irq=\([0-9]*\).*/\1/p')
[ "${msr:-0}" -le $((${irq:-0} + 200)) ] ||
    fail "linux: ${msr} MSR exits for ${irq:-0} interrupts: something reads an MSR per timer tick"
expect "$log" '^tessera: end status=' "the run ends"
note "whole Bochs run: $((SECONDS - start)) s"
finish
