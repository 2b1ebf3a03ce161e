#!/bin/bash
# Under Bochs: a Multiboot guest switches paging on by itself, in 32-bit and in PAE mode, with a
# CR0 write the hypervisor has to emulate (NE clear). Asserts that the guest sees its own CR0 value,
# reads memory correctly through its page tables, that exactly one control-register exit happened,
# and that both VMs end normally. With BACKEND=svm (test_svm_guest_paging.sh, QEMU TCG -cpu max)
# CR0 is the guest's own (no exit); its one CR4 write (PSE or PAE) is intercepted and decoded.
. "$(dirname "$0")/../tools/lib.sh"
G=$BUILD/guests
cp "$ROOT/tests/integration/configs/paging.cfg" "$T/tessera.cfg"
make_iso "$T/paging.iso" "" "$T/tessera.cfg" "$G/mb32.elf" || { fail "cannot build the ISO"; finish; }
log=$T/serial.log
run_vm_iso "$T/paging.iso" "$log" 300
for vm in pae p32; do
    mode=$([ $vm = pae ] && echo pae || echo 32)
    expect_count "$log" "^\\[$vm\\] mb32: paging=$mode on, cr0=0x80000011, probe=0x600df00d" 1 \
        "$vm: paging on, CR0 reads back as written (NE clear), memory reads through the map"
    expect_count "$log" "^\\[$vm\\] mb32: done status=0" 1 "$vm: the guest finished its checks"
    expect_count "$log" "^tessera: vm $vm exited with status 0" 1 "$vm: exits 0"
    if [ "$BACKEND" = svm ]; then
        expect "$log" "^tessera:   $vm +exit 0 .* cr=1 " "$vm: one MOV CR4 (PSE or PAE) decoded and emulated"
    else
        expect "$log" "^tessera:   $vm +exit 0 .* cr=1 " "$vm: one emulated control-register write"
    fi
done
expect_not "$log" '^tessera: vm [a-z0-9]+ failed' "no VM failed"
expect "$log" '^tessera: end status=ok' "clean end"
finish
