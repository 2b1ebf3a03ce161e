#!/bin/bash
# Debian's stock Linux kernel as a guest under Bochs (VT-x + EPT), first milestone: one boot of
# guests/linux.cfg (the Linux VM with its busybox initramfs beside hello64 and compute on CPU 0).
#  - the bzImage is recognised and loaded through the 64-bit boot protocol (zero page, e820,
#    command line, initrd), its decompressor runs and the kernel prints its banner
#    ("Linux version 6.1...") and early boot lines through the virtual UART (earlyprintk);
#  - hello64 and compute print exactly their normal output and exit 0;
#  - with earlyprintk (polled UART) and no interrupts (noapic nolapic acpi=off) the kernel
#    gets through start_kernel, unpacks the initramfs and runs /init; /init's own output needs the
#    UART's transmit interrupt (IRQ 4), which the hypervisor cannot deliver yet, so nothing of it
#    is expected here; the Linux VM is then stopped by its time_limit (or a fault report): it is
#    contained, the other VMs are unaffected, the run ends with the summary table.
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
sed "s/^time_limit = .*/time_limit = $LIMIT/" "$ROOT/guests/linux.cfg" >"$T/tessera.cfg"
grep -q "^time_limit = $LIMIT\$" "$T/tessera.cfg" || { fail "guests/linux.cfg has no time_limit line"; finish; }
log=$T/serial.log
make_iso "$T/linux.iso" "" "$T/tessera.cfg" "$L/vmlinuz" "$L/initramfs.cpio.gz" \
    "$G/hello64.elf" "$G/compute.elf"
start=$SECONDS
run_bochs_iso "$T/linux.iso" "$log" "${LINUX_BOCHS_TIMEOUT:-3000}" corei7_skylake_x 256
note "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)"

N='[0-9]+'
K='^\[linux\] \[ *[0-9]+\.[0-9]+\] ' # a kernel line: "[linux] [   12.345678] "
expect "$log" '^tessera: config: 3 VMs accepted, 0 errors' "config parsed"
expect "$log" '^tessera: vm linux: image=vmlinuz format=Linux bzImage size=[0-9]+ ' \
    "the bzImage is recognised"
expect_not "$log" '^tessera: vm [a-z]+ .*refused' "no VM refused"
expect "$log" '^tessera: running 3 VMs \(3 on CPU 0;' "all three VMs run"

# ---- Linux: decompressor, banner, early boot ---------------------------------------------------
expect "$log" "^\\[linux\\] KASLR disabled: 'nokaslr' on cmdline\\.\$" "decompressor read the command line"
expect "$log" "${K}Linux version 6\\.1\\.[0-9]+-[0-9]+-amd64 " "the kernel banner"
expect "$log" "${K}Command line: console=ttyS0 earlyprintk=serial,ttyS0,115200 nokaslr " \
    "the kernel got our command line"
expect "$log" "${K}BIOS-provided physical RAM map:\$" "the kernel read the e820 map"
expect "$log" "${K}BIOS-e820: \\[mem 0x0000000000100000-0x0000000007ffffff\\] usable\$" \
    "e820: RAM above 1 MiB up to 128 MiB"
expect "$log" "${K}BIOS-e820: \\[mem 0x0000000000001000-0x0000000000009fff\\] reserved\$" \
    "e820: the loader's page tables, zero page and command line reserved"
expect "$log" "${K}RAMDISK: \\[mem 0x0[0-9a-f]+-0x0[0-9a-f]+\\]\$" "the kernel found the initrd"
# ---- how far it gets without interrupts: each line is a milestone for the device models ----
expect "$log" '^\[linux\] \[ *[0-9.]+\] Using NULL legacy PIC$' "no PIC found (none emulated yet)"
expect "$log" '^\[linux\] \[ *[0-9.]+\] Calibrating delay loop \(skipped\) preset value' "lpj= skips calibration"
expect "$log" '^\[linux\] \[ *[0-9.]+\] Freeing initrd memory: [0-9]+K$' "the initramfs was unpacked"
expect "$log" '^\[linux\] \[ *[0-9.]+\] serial8250: ttyS0 at I/O 0x3f8 \(irq = 4, base_baud = 115200\) is a 16550A$' \
    "the 8250 driver found the virtual UART"
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

# ---- Linux is contained: stopped by its time_limit or a fault report, the run ends ------------
expect "$log" '^tessera: vm linux failed: ' "the Linux VM is stopped"
note "Linux stopped: $(grep -m1 '^tessera: vm linux failed: ' "$log")"
expect_summary_row "$log" linux FAILED
expect "$log" '^tessera: end status=' "the run ends"
note "whole Bochs run: $((SECONDS - start)) s"
finish
