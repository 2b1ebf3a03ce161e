#!/bin/bash
# The GRUB ISO under QEMU with SeaBIOS (TCG, no VT-x), four cheap boots:
#  1. default config, -smp 2, QEMU's default CPU (AMD-V without nested paging): boot
#     path/firmware/loader, memory map and summary, cpus=2, the no-nested-paging sentence, the
#     config parsed but no VM started, isa-debug-exit status 33;
#  2. no config module, one CPU with neither VT-x nor AMD-V (-cpu qemu64,-svm): cpus=1, the
#     neither-extension sentence and the built-in default (one VM per guest image);
#  3. a config whose image and module name files that were not loaded: a message naming each
#     file, and the boot goes on to its normal end;
#  3b. 33 VMs: the 33rd is refused by the parser (at most 32), 32 accepted;
#  4. -m 8 (6 MiB free): "not enough memory" saying how much is needed, a clean failure end
#     (status 35), no exception and no hang.
. "$(dirname "$0")/../tools/lib.sh"

G=$BUILD/guests
for f in "$BUILD/tessera.elf" "$G/tessera.cfg" "$G/hello64.elf" "$G/bootsector.bin" "$G/mb32.elf" \
    "$G/mb32-module.txt" "$G/compute.elf" "$G/halter.elf" "$G/spinner.elf"; do
    [ -f "$f" ] || { fail "$f missing (run make first)"; finish; }
done
GUESTS="$G/hello64.elf $G/bootsector.bin $G/mb32.elf $G/mb32-module.txt $G/compute.elf $G/halter.elf $G/spinner.elf"

# Lines every boot that gets past the memory check prints, and no boot may print.
common_checks() { # common_checks LOG WHAT
    local log=$1 w=$2
    expect "$log" '^tessera: boot path=Multiboot2 firmware=BIOS loader="GRUB [0-9][^"]*"' "$w: boot path line"
    expect "$log" '^tessera:   mem 0x000000000000-0x00000009[0-9a-f]{4} usable' "$w: low-memory map entry"
    expect "$log" '^tessera:   mem 0x000000100000-0x[0-9a-f]{12} usable' "$w: high-memory map entry"
    expect_not "$log" 'FATAL|exception .* in the hypervisor|triple' "$w: no hypervisor fault"
}

# ---- 1: the default config, two CPUs -------------------------------------------------------------
log=$T/smp2.log
make_iso "$T/default.iso" "exit=qemu" "$G/tessera.cfg" $GUESTS
st=$(run_qemu_iso "$T/default.iso" "$log" 60 -smp 2)
expect_status "$st" 33 "smp2: QEMU ends through isa-debug-exit with the success value"
common_checks "$log" smp2
expect "$log" '^tessera: memory: usable=25[0-9] MiB in 2 regions, free for the hypervisor and guests 2[0-9]{2} MiB \(largest block 2[0-9]{2} MiB\)' \
    "smp2: memory summary for -m 256"
expect "$log" '^tessera: cpus=2 \(APIC ids: 0,1\)' "smp2: two CPUs found through the MADT"
expect_count "$log" '^tessera: cpu 1 \(APIC id 1\) started' 1 "smp2: the second CPU is started (INIT-SIPI-SIPI)"
expect "$log" '^tessera: cpus online: 2 of 2' "smp2: both CPUs online"
expect "$log" '^tessera: svm: present, revision [0-9]+, [0-9]+ ASIDs, NPT=no ' "smp2: AMD-V without nested paging found"
expect "$log" "^tessera: svm: cannot run guests: this CPU's AMD-V lacks nested paging \\(CPUID\\.8000000Ah:EDX\\.NP = 0\\): no firmware setting adds it; under another hypervisor, give the virtual CPU nested paging" \
    "smp2: the no-nested-paging sentence"
expect_count "$log" '^tessera: (svm|vmx): ' 2 "smp2: the capability line and the refusal, nothing more"
expect "$log" '^tessera: config: tessera\.cfg \([0-9]+ bytes\)' "smp2: config file found"
expect "$log" '^tessera: config: 6 VMs accepted, 0 errors' "smp2: the 6 default VMs parsed"
expect "$log" '^tessera: no guest can run on this machine \(see the AMD-V lines above\); 6 configured VMs not started' \
    "smp2: says no guest runs and how many were configured"
expect_not "$log" '^tessera: (vm |running )|^\[' "smp2: no VM was created or started"
expect "$log" '^tessera: end status=ok' "smp2: end status line"
expect_order "$log" '^tessera: memory: ' '^tessera: cpus=' "smp2: memory summary before CPUs"
expect_order "$log" '^tessera: cpus=' '^tessera: svm: ' "smp2: CPUs before AMD-V"
expect_order "$log" '^tessera: no guest can run' '^tessera: end status=ok' "smp2: end line last"

# ---- 2: no config module, one CPU ----------------------------------------------------------------
log=$T/noconfig.log
make_iso "$T/noconfig.iso" "exit=qemu" $GUESTS
st=$(run_qemu_iso "$T/noconfig.iso" "$log" 60 -cpu qemu64,-svm)
expect_status "$st" 33 "noconfig: success status"
common_checks "$log" noconfig
expect "$log" '^tessera: cpus=1 \(APIC ids: 0\)' "noconfig: one CPU without -smp"
expect "$log" '^tessera: virt: not available: this CPU offers neither VT-x \(CPUID\.1:ECX\.VMX = 0\) nor AMD-V \(CPUID\.80000001h:ECX\.SVM = 0\), so no guest can run: no firmware setting adds them; under another hypervisor, enable nested virtualization' \
    "noconfig: the neither-extension sentence"
expect "$log" '^tessera: no tessera\.cfg was loaded: using the built-in default \(one VM per guest image' \
    "noconfig: the built-in default is announced"
expect_not "$log" '^tessera: config: ' "noconfig: no config file claimed"
# six guest images (the module .txt is not one)
expect "$log" '^tessera: no guest can run on this machine .*; 6 configured VMs not started' \
    "noconfig: one default VM per guest image"
expect "$log" '^tessera: end status=ok' "noconfig: end status line"

# ---- 3: files named by the config but not loaded -------------------------------------------------
log=$T/missing.log
cat >"$T/tessera.cfg" <<'EOF'
[vm ghost]
image = no-such-image.elf

[vm hello]
image = hello64.elf
module = no-such-module.bin
EOF
make_iso "$T/missing.iso" "exit=qemu" "$T/tessera.cfg" "$G/hello64.elf"
st=$(run_qemu_iso "$T/missing.iso" "$log" 60)
expect_status "$st" 33 "missing: boot goes on to the success end"
common_checks "$log" missing
expect "$log" '^tessera: config: 2 VMs accepted, 0 errors' "missing: both VMs parse"
expect "$log" "^tessera: .*no-such-image\\.elf.*not (found|loaded)" "missing: message naming the missing image"
expect "$log" "^tessera: .*no-such-module\\.bin.*not (found|loaded)" "missing: message naming the missing module"
expect "$log" '^tessera: end status=ok' "missing: end status line"

# ---- 3b: 33 VMs: the config parser (which runs without VT-x too) keeps 32 ----------------------------
log=$T/toomany.log
mkdir -p "$T/many"
for i in $(seq 1 33); do printf '[vm v%d]\nimage = hello64.elf\nmemory = 2M\n\n' "$i"; done >"$T/many/tessera.cfg"
make_iso "$T/toomany.iso" "exit=qemu" "$T/many/tessera.cfg" "$G/hello64.elf"
st=$(run_qemu_iso "$T/toomany.iso" "$log" 60)
expect_status "$st" 33 "toomany: success status"
expect_count "$log" "^tessera: config error: tessera\\.cfg:129: too many VMs \\(at most 32\\): VM 'v33' skipped" 1 \
    "toomany: the 33rd VM is refused on its header line"
expect "$log" '^tessera: config: 32 VMs accepted, 1 errors' "toomany: 32 VMs accepted"

# ---- 4: too little memory ------------------------------------------------------------------------
log=$T/smallmem.log
st=$(run_qemu_iso "$T/default.iso" "$log" 60 -m 8)
expect_status "$st" 35 "smallmem: QEMU ends with the failure status (no hang, no triple fault)"
expect "$log" '^tessera: boot path=Multiboot2 firmware=BIOS' "smallmem: boot path line"
expect "$log" '^tessera: memory: usable=[0-9] MiB in 2 regions' "smallmem: memory summary"
expect "$log" '^tessera: not enough memory to run: [0-9]+ MiB free after the hypervisor and its files, at least 8 MiB needed' \
    "smallmem: says how much memory is needed"
expect "$log" '^tessera: end status=fail' "smallmem: failure end line"
expect_order "$log" '^tessera: not enough memory' '^tessera: end status=fail' "smallmem: message before the end"
expect_not "$log" 'FATAL|exception|^tessera: (cpus|vmx)' "smallmem: stops cleanly right after the memory check"

# ---- 5: a CPU without 64-bit long mode (qemu32) ---------------------------------------------------
# The 32-bit entry can only print why and halt: it has no ACPI or command line yet to end the run
# with a status, so this case alone is stopped by the test, 2 s after its message.
log=$T/nolm.log
st=$(run_qemu_iso_until "$T/default.iso" "$log" 60 'no 64-bit long mode' -cpu qemu32)
expect_status "$st" 124 "nolm: halts after its message (stopped by the test)"
expect_count "$log" '^tessera: this CPU has no 64-bit long mode \(CPUID 0x80000001 EDX.LM = 0\); cannot run' 1 \
    "nolm: says why it cannot run"
expect_not "$log" '^tessera: (boot path|memory)' "nolm: nothing runs after the check"

finish
