#!/bin/bash
# A fault inside the hypervisor (cmdline test_fault=KIND) prints the full dump: exception name and
# vector, error code, RIP/CS/RFLAGS/RSP/SS, all 15 general registers, CR0/CR2/CR3/CR4/EFER and a
# stack trace whose first frame is the faulting RIP, inside arch_trigger_fault; then the run ends
# with status fail. The fault comes after the backend is on, so the dump is taken where the
# hypervisor's own faults happen: under Bochs in VMX root operation (CR4.VMXE set), or with
# BACKEND=svm (test_svm_fault.sh) under QEMU TCG -cpu max with EFER.SVME set, where QEMU's exit
# status says fail too (isa-debug-exit 0x11: 35). Bochs cannot report a status: judged by the log.
. "$(dirname "$0")/../tools/lib.sh"

[ -f "$BUILD/tessera.elf" ] || { fail "$BUILD/tessera.elf missing (run make first)"; finish; }

HEX='[0-9a-f]{16}'
USABLE='vmx: usable'
[ "$BACKEND" = svm ] && USABLE='svm: usable'
EOL='$'

check_dump() { # check_dump KIND NAME VECTOR
    local kind=$1 name=$2 vector=$3 log=$T/$1.log st rip fn
    make_iso "$T/$kind.iso" "exit=qemu test_fault=$kind"
    if [ "$BACKEND" = svm ]; then
        st=$(run_qemu_iso "$T/$kind.iso" "$log" 30 -cpu max)
        expect_status "$st" 35 "$kind: QEMU ends with the failure status"
    else
        run_bochs_iso "$T/$kind.iso" "$log" 60
    fi
    # the backend was on when the fault came
    expect_order "$log" "^tessera: $USABLE" "^tessera: test_fault=$kind: faulting on purpose" \
        "$kind: the backend is usable and enabled before the fault"
    expect_not "$log" "cannot enable" "$kind: the backend was enabled"
    local cr4 efer
    cr4=$(sed -n 's/^  CR4 \([0-9a-f]\{16\}\)  EFER .*/\1/p' "$log" | head -n1)
    efer=$(sed -n 's/^  CR4 [0-9a-f]\{16\}  EFER \([0-9a-f]\{16\}\)$/\1/p' "$log" | head -n1)
    if [ "$BACKEND" = svm ]; then
        [ -n "$efer" ] && [ $((0x$efer & 0x1000)) -ne 0 ] ||
            fail "$kind: EFER '${efer:-none}' should have SVME (bit 12) set"
    else
        [ -n "$cr4" ] && [ $((0x$cr4 & 0x2000)) -ne 0 ] ||
            fail "$kind: CR4 '${cr4:-none}' should have VMXE (bit 13) set"
    fi
    expect "$log" "tessera: FATAL: exception $name \\(vector $vector\\) in the hypervisor" \
        "$kind: exception name and vector"
    expect "$log" "^  error code $HEX" "$kind: error code"
    expect "$log" "^  RIP $HEX  CS  0008  RFLAGS $HEX$EOL" "$kind: RIP, CS, RFLAGS"
    expect "$log" "^  RSP $HEX  SS  0010$EOL" "$kind: RSP, SS"
    for r in RAX RBX RCX RDX RSI RDI RBP R8 R9 R10 R11 R12 R13 R14 R15 CR0 CR2 CR3 CR4 EFER; do
        expect "$log" "  $(printf '%-3s' "$r") $HEX" "$kind: register $r"
    done
    expect "$log" "^  stack trace" "$kind: stack trace header"
    expect "$log" "^    #0  $HEX \\(faulting RIP\\)" "$kind: stack trace frame 0"
    expect "$log" "^    #1  $HEX$EOL" "$kind: stack trace has a caller frame"
    expect "$log" "^tessera: end status=fail" "$kind: end status line"
    expect_not "$log" "end status=ok" "$kind: no success line"
    expect_order "$log" "FATAL" "end status=fail" "$kind: dump before the end line"
    expect_not "$log" "fault inside the fault handler" "$kind: no nested fault"
    # The faulting RIP must be inside arch_trigger_fault (addr2line reads the ELF's symbols).
    rip=$(sed -n 's/^  RIP \([0-9a-f]\{16\}\) .*/\1/p' "$log" | head -n1)
    if [ -n "$rip" ] && command -v addr2line >/dev/null; then
        fn=$(addr2line -f -e "$BUILD/tessera.elf" "0x$rip" | head -n1)
        [ "$fn" = arch_trigger_fault ] || fail "$kind: RIP $rip is in '$fn', not arch_trigger_fault"
    fi
}

check_dump ud "#UD invalid opcode" 6
check_dump pf "#PF page fault" 14
expect "$T/pf.log" "^  CR0 $HEX  CR2 00007dead0000000" "pf: CR2 holds the faulting address"
expect "$T/pf.log" "^  error code 0000000000000000 \\(not present, read, supervisor\\)" \
    "pf: page-fault error code decoded"
check_dump gp "#GP general protection" 13
check_dump de "#DE divide error" 0
# #DF runs on its own IST stack: the interrupted RSP is the unmapped one we set.
check_dump df "#DF double fault" 8
expect "$T/df.log" "^  RSP 00007dead0001000  SS  0010$EOL" "df: interrupted RSP is the broken stack"

finish
