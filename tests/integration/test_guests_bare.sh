#!/bin/bash
# The in-tree guests on their own, bare under QEMU (no Tessera): what they print must not depend on
# the hypervisor, so a guest bug is not mistaken for a hypervisor bug. Multiboot guests through
# -kernel, the boot sector from floppy and disk, the ELF64 guests through a test-only shim.
# compute's checksum must be the same bare as in a VM (test_vms checks the VM side).
. "$(dirname "$0")/../tools/lib.sh"
[ -f "$BUILD/guests/elf64-shim.elf" ] || make -s -C "$ROOT" "$BUILD/guests/elf64-shim.elf" >/dev/null
(cd "$ROOT" && sh guests/tools/test-bare.sh) >"$T/bare.log" 2>&1 || fail "guests/tools/test-bare.sh reported failures"
note "$(grep -c '^ok ' "$T/bare.log") checks passed"
expect "$T/bare.log" '^guests bare: all checks passed' "every bare-metal guest check passed"
expect_not "$T/bare.log" '^FAIL' "no failed check"
finish
