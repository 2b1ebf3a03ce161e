#!/bin/bash
# The default configuration (guests/tessera.cfg: six guests on CPU 0) under Bochs BIOS with
# VT-x (corei7_skylake_x), or with BACKEND=svm (test_svm_vms.sh) under QEMU TCG -cpu max with
# AMD-V, one boot:
#  - boot summary: Multiboot2/BIOS/GRUB, memory, cpus=1, VT-x present with EPT, VPID,
#    unrestricted guest and preemption timer, usable;
#  - per VM: image, format, size and the SHA-256 of the very file (sha256sum), disjoint
#    host-physical RAM of the configured size;
#  - every VM's complete output, line by line and in order, with its own prefix; no line of any
#    VM is cut or mixed with another's;
#  - compute's checksum is the bare-metal value, halter wakes 5 times after at least its period,
#    hello64 sees the TesseraVisor CPUID signature, mb32 gets its memory map, command line and
#    module (size and CRC-32 of the real file);
#  - one exit line per VM, the summary table (exit 0 everywhere), the shares line, end status=ok.
. "$(dirname "$0")/../tools/lib.sh"
. "$(dirname "$0")/configs/checks.sh"

G=$BUILD/guests
default_guest_files "$G/tessera.cfg"

log=$T/serial.log
make_iso "$T/vms.iso" "" $DEFAULT_GUEST_FILES
run_vm_iso "$T/vms.iso" "$log" 300

# ---- boot summary ---------------------------------------------------------------------------------
expect "$log" '^tessera: boot path=Multiboot2 firmware=BIOS loader="GRUB [0-9][^"]*"' "boot path line"
expect "$log" '^tessera: memory: usable=12[0-9] MiB in 2 regions, free for the hypervisor and guests [0-9]+ MiB' \
    "memory summary for 128 MiB"
expect "$log" '^tessera: cpus=1 \(APIC ids: 0\)' "one CPU"
if [ "$BACKEND" = svm ]; then
    expect "$log" '^tessera: svm: present, revision [0-9]+, [0-9]+ ASIDs, NPT=yes NRIP-save=(yes|no) VMCB-clean=(yes|no) flush-by-ASID=(yes|no) decode-assists=(yes|no) timer=APIC ' \
        "AMD-V present with nested paging"
    expect "$log" '^tessera: svm: usable' "AMD-V judged usable"
    expect_count "$log" '^tessera: svm: ' 2 "two AMD-V summary lines"
else
    expect "$log" '^tessera: vmx: present, IA32_FEATURE_CONTROL=0x5 \(locked, VMX outside SMX enabled\)' \
        "VT-x present, locked by the Bochs BIOS with VMX enabled"
    expect "$log" '^tessera: vmx: VMCS revision 0x2b, EPT=yes VPID=yes unrestricted-guest=yes preemption-timer=yes' \
        "VT-x capabilities: EPT, VPID, unrestricted guest, preemption timer"
    expect "$log" '^tessera: vmx: usable ' "VT-x judged usable"
    expect_count "$log" '^tessera: vmx: ' 3 "three VT-x summary lines"
fi
expect "$log" '^tessera: config: 6 VMs accepted, 0 errors' "default config parsed"
expect "$log" "^tessera: $(backend_name) enabled on CPU 0" "$(backend_name) enabled"
expect "$log" '^tessera: running 6 VMs \(6 on CPU 0;' "six VMs run"
expect_not "$log" 'refused|config error|FATAL|ESCAPED| failed' "nothing refused or failed"

# ---- per-VM start lines -----------------------------------------------------------------------------
check_image() { # check_image VM FILE FORMAT MEMORY WEIGHT
    local vm=$1 file=$2 fmt=$3 size sum
    size=$(stat -c %s "$G/$file")
    sum=$(sha256sum "$G/$file" | cut -d' ' -f1)
    expect_count "$log" "^tessera: vm $vm: image=$file format=$fmt size=$size sha256=$sum$" 1 \
        "$vm: image line with format, size and the file's real SHA-256"
    expect_count "$log" "^tessera: vm $vm: guest-physical 0x0-$4 -> host-physical 0x[0-9a-f]+-0x[0-9a-f]+, cpu=0 weight=$5 on_fail=stop" 1 \
        "$vm: memory line (guest RAM $4, cpu 0, weight $5)"
}
check_image hello hello64.elf ELF64 0x1000000 1
check_image realmode bootsector.bin "boot sector" 0x200000 1
check_image multiboot mb32.elf "Multiboot1 ELF32" 0x1000000 1
check_image compute compute.elf "Multiboot1 ELF32" 0x1000000 2
check_image halter halter.elf ELF64 0x1000000 1
check_image spinner spinner.elf ELF64 0x1000000 3
expect_disjoint_ranges "$log" hello realmode multiboot compute halter spinner

# ---- each VM's output: complete, in order, unmixed ----------------------------------------------------
N='[0-9]+'
X='0x[0-9a-f]+'
expect_default_guests "$log"
expect_vm_output "$log" realmode \
    'bootsector: hello from real mode, CS=0000 IP=7C00 DL=80' \
    'bootsector: done'
mod=$G/mb32-module.txt
mod_size=$(stat -c %s "$mod")
mod_crc=$(gzip -c <"$mod" | tail -c 8 | od -An -tx4 -N4 | tr -d ' ')
expect_vm_output "$log" multiboot \
    'mb32: hello from a 32-bit Multiboot guest' \
    'mb32: tessera=yes' \
    "mb32: flags=$X" \
    'mb32: mem_lower=640K mem_upper=15360K' \
    'mb32: loader="Tessera"' \
    'mb32: cmdline="mb32 verbose"' \
    "mb32: mmap addr=$X length=72" \
    'mb32: mmap\[0\] base=0x0000000000000000 length=0x00000000000a0000 type=1' \
    'mb32: mmap\[1\] base=0x00000000000a0000 length=0x0000000000060000 type=2' \
    'mb32: mmap\[2\] base=0x0000000000100000 length=0x0000000000f00000 type=1' \
    'mb32: mmap entries=3' \
    'mb32: modules count=1' \
    "mb32: module\\[0\\] name=\"mb32-module.txt\" addr=$X size=$mod_size crc32=0x$mod_crc" \
    'mb32: done status=0'
expect_default_spinner "$log"

# ---- ends and summary ---------------------------------------------------------------------------------
for vm in hello realmode multiboot compute halter spinner; do
    expect_summary_row "$log" $vm "exit 0"
done
expect_order "$log" '^\[hello\] hello64: done status=0' '^tessera: vm hello exited' "hello: exit after its last line"
expect_order "$log" '^\[spinner\] spinner: done' '^tessera: vm spinner exited' "spinner: exit after its last line"
expect "$log" '^tessera: summary \(6 VMs, [0-9]+ TSC ticks in guests\)' "summary header"
expect "$log" '^tessera:   halter +exit 0 .* vmcall=[0-9]+ hlt=5 ' "halter's row counts its 5 HLT exits"
if [ "$BACKEND" = svm ]; then
    # QEMU's TSC is the host's: whether a slice of the spinner ends on the APIC timer or at one of
    # its progress lines depends on the load (test_svm_smp and test_svm_isolation's cli spinners can
    # only end on the timer); here: it ran in several slices
    expect "$log" '^tessera:   spinner +exit 0 +[0-9]+ +[0-9.]+% +3 +0 +([2-9]|[1-9][0-9]+) ' "spinner ran in several slices"
else
    expect "$log" '^tessera:   spinner +exit 0 .* preempt=[1-9][0-9]* ' "spinner was preempted by the timer"
fi
expect "$log" '^tessera: shares while all VMs ran: hello=[0-9.]+%\(weight 11\.1%\) realmode=.* spinner=[0-9.]+%\(weight 33\.3%\)' \
    "shares line names every VM with its weight share"
expect_order "$log" '^tessera: summary' '^tessera: end status=ok' "summary before the end"

finish
