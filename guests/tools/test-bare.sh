#!/bin/sh
# Boots the in-tree guests bare under QEMU (no Tessera) and checks their serial output: the
# Multiboot guests through -kernel, the boot sector from a floppy and a disk, the ELF64 guests
# through build/guests/elf64-shim.elf. Run from the repository root after
#   make guests build/guests/elf64-shim.elf
# Exits 0 when every check passes, 1 otherwise (naming each failure).
set -u
G=build/guests
QEMU="timeout 30 qemu-system-x86_64 -display none -no-reboot -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=4"
fail=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/guests-bare.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

check() { # check NAME LOGFILE PATTERN: the log must contain a line matching PATTERN (grep -E)
    if grep -qE -- "$3" "$2"; then
        echo "ok   $1"
    else
        echo "FAIL $1: no line matching '$3' in:"; sed 's/^/    /' "$2"; fail=1
    fi
}
absent() { # absent NAME LOGFILE PATTERN
    if grep -qE -- "$3" "$2"; then
        echo "FAIL $1: unexpected line matching '$3'"; fail=1
    else
        echo "ok   $1"
    fi
}
crc() { gzip -c "$1" | tail -c8 | od -An -tx4 -N4 | tr -d ' '; } # zlib CRC-32 from the gzip trailer

# compute: same checksum every run; with -icount the TSC delta is exact and must repeat too
$QEMU -icount shift=0 -kernel $G/compute.elf -append "iterations=1000" >"$tmp/c1" 2>&1
$QEMU -icount shift=0 -kernel $G/compute.elf -append "iterations=1000" >"$tmp/c2" 2>&1
check "compute checksum" "$tmp/c1" '^compute: iterations=1000 checksum=0x86c87881 tsc=[0-9]+$'
check "compute bare mode" "$tmp/c1" '^compute: start mode=bare boot=multiboot$'
if cmp -s "$tmp/c1" "$tmp/c2"; then echo "ok   compute repeats bit for bit"; else
    echo "FAIL compute output differs between runs"; fail=1; fi
$QEMU -kernel $G/compute.elf >"$tmp/c3" 2>&1
check "compute default iterations" "$tmp/c3" '^compute: iterations=200 checksum=0x198abcc2 '
$QEMU -kernel $G/compute.elf -append "iterations=12x" >"$tmp/c4" 2>&1
check "compute bad option" "$tmp/c4" '^compute: bad option iterations: not a number$'
absent "compute bad option does no work" "$tmp/c4" 'checksum='
# without isa-debug-exit the guest must power the machine off by itself (ACPI on SeaBIOS)
timeout 30 qemu-system-x86_64 -display none -no-reboot -serial stdio -kernel $G/compute.elf \
    -append iterations=3 >"$tmp/c5" 2>&1
rc=$?
if [ $rc -eq 0 ]; then echo "ok   compute powers off"; else echo "FAIL compute power off (rc=$rc)"; fail=1; fi

# mb32: memory map and modules with their CRC-32
$QEMU -kernel $G/mb32.elf -append "x=1" -initrd "$G/mb32-module.txt first,$G/hello64.elf" >"$tmp/m" 2>&1
check "mb32 flags" "$tmp/m" '^mb32: flags=0x[0-9a-f]+$'
check "mb32 memory" "$tmp/m" '^mb32: mem_lower=639K mem_upper=[0-9]+K$'
check "mb32 mmap" "$tmp/m" '^mb32: mmap\[0\] base=0x0000000000000000 length=0x[0-9a-f]{16} type=1$'
check "mb32 cmdline" "$tmp/m" '^mb32: cmdline=".*mb32.elf x=1"$'
check "mb32 module 0" "$tmp/m" "^mb32: module\\[0\\] name=\".*mb32-module.txt first\" addr=0x[0-9a-f]+ size=$(stat -c %s $G/mb32-module.txt) crc32=0x$(crc $G/mb32-module.txt)\$"
check "mb32 module 1" "$tmp/m" "^mb32: module\\[1\\] name=\".*hello64.elf\" addr=0x[0-9a-f]+ size=$(stat -c %s $G/hello64.elf) crc32=0x$(crc $G/hello64.elf)\$"
check "mb32 done" "$tmp/m" '^mb32: done status=0$'

# boot sector: 512 bytes with the signature, from a floppy (DL=00) and a disk (DL=80)
[ "$(stat -c %s $G/bootsector.bin)" = 512 ] && [ "$(od -An -tx1 -j510 $G/bootsector.bin | tr -d ' ')" = 55aa ] \
    && echo "ok   bootsector size and signature" || { echo "FAIL bootsector size/signature"; fail=1; }
$QEMU -drive format=raw,file=$G/bootsector.bin,if=floppy >"$tmp/b1" 2>&1
check "bootsector floppy" "$tmp/b1" '^bootsector: hello from real mode, CS=0000 IP=7C00 DL=00$'
$QEMU -drive format=raw,file=$G/bootsector.bin >"$tmp/b2" 2>&1
check "bootsector disk" "$tmp/b2" '^bootsector: hello from real mode, CS=0000 IP=7C00 DL=80$'

# ELF64 guests through the shim (no hypercalls there)
shim() { $QEMU -kernel $G/elf64-shim.elf -initrd "$1" >"$2" 2>&1; }
shim "$G/hello64.elf a=b" "$tmp/h"
check "hello64 hello" "$tmp/h" '^hello64: hello from a 64-bit guest$'
check "hello64 start info" "$tmp/h" '^hello64: start info mem_size=0x4000000 modules=0 cmdline="a=b"$'
check "hello64 detection" "$tmp/h" '^hello64: not running under Tessera'
shim "$G/spinner.elf iterations=300000" "$tmp/s"
check "spinner progress" "$tmp/s" '^spinner: progress 300000/300000 tsc=[0-9]+$'
check "spinner done" "$tmp/s" '^spinner: done iterations=300000 checksum=0x[0-9a-f]{16} '
shim "$G/halter.elf rounds=0" "$tmp/hl"
check "halter detection" "$tmp/hl" '^halter: not running under Tessera$'
shim "$G/attacker.elf attack=read_outside" "$tmp/a1"
check "attacker reaches outside RAM bare" "$tmp/a1" '^attacker: ESCAPED read gpa=0x4100000 '
shim "$G/attacker.elf attack=write_outside addr=0x5000000" "$tmp/a2"
check "attacker writes outside RAM bare" "$tmp/a2" '^attacker: ESCAPED wrote gpa=0x5000000 read back 0x2154434152544e45$'
shim "$G/attacker.elf attack=mmio" "$tmp/a3"
check "attacker reaches the APIC bare" "$tmp/a3" '^attacker: ESCAPED local APIC readable'
shim "$G/attacker.elf attack=read_hv target=0x1000000" "$tmp/a4"
check "attacker read_hv" "$tmp/a4" '^attacker: read_hv gpa=0x200000 first=0x[0-9a-f]{16} mb2_header=no$'
check "attacker read_hv target" "$tmp/a4" '^attacker: read_hv target lies in own RAM'
shim "$G/attacker.elf attack=read_outside addr=0x100000000000" "$tmp/a5"
check "attacker reports a guest #PF" "$tmp/a5" '^attacker: exception vector=14 error=0x8 '
shim "$G/attacker.elf attack=exception_storm limit=5000" "$tmp/a6"
check "attacker exception storm" "$tmp/a6" '^attacker: exception storm: 5000 exceptions taken'
shim "$G/attacker.elf attack=nonsense" "$tmp/a7"
check "attacker usage" "$tmp/a7" '^attacker: need attack=NAME, one of: read_outside '
shim "$G/attacker.elf attack=triple_fault" "$tmp/a8"
check "attacker triple fault starts" "$tmp/a8" '^attacker: attack=triple_fault starting$'
absent "attacker triple fault ends the machine" "$tmp/a8" 'ESCAPED'
shim "$G/fuzzer.elf ops=1000" "$tmp/f"
check "fuzzer refuses to run bare" "$tmp/f" '^fuzzer: not running under Tessera: refusing '
absent "fuzzer never starts bare" "$tmp/f" '^fuzzer: start'

[ $fail -eq 0 ] && echo "guests bare: all checks passed" || echo "guests bare: FAILED"
exit $fail
