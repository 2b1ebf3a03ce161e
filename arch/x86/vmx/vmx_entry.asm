; VM entry and exit (SDM 26, 27): the only assembly of the VMX backend. vmx_enter saves the
; host's callee-saved registers, records RSP in the VMCS, loads the guest's general registers and
; runs VMLAUNCH or VMRESUME, with VERW as the last memory access before it when asked (MDS/TAA).
; A VM exit lands on one of the vmx_exit_landing* (HOST_RIP) with the stack as vmx_enter left
; it: store the guest's caller-saved registers, refill the RSB as that landing's policy says
; (before the first RET), then read the exit reason. A CPUID goes to vmx_exit_cpuid_fast with the
; guest's RBX, RBP and R12-R15 still live in the CPU (a C function preserves them), and back into
; the guest with only the registers C may have changed reloaded. Any other exit (or a CPUID the fast
; path leaves alone) stores those six too and calls vmx_exit_dispatch (vmx_run.c). Both handle the
; exits the backend answers itself and return the entry's spec flags with VMX_REENTER set to go
; straight back into the guest (the host's registers stay saved on this stack, HOST_RSP stays
; right), or 0: restore ours, return 0.
; The mitigation choice is arch/x86/spec.c's (docs/design.md, "Transient-execution mitigations").

VMCS_HOST_RSP equ 0x6c14
VMCS_EXIT_REASON equ 0x4402
EXIT_REASON_CPUID equ 10
GDT_SEL_KERNEL_DATA equ 0x10        ; x86/desc.h

; spec_entry_flags bits (x86/spec.h)
SPEC_FLAG_VERW     equ 1
SPEC_FLAG_RSB_FULL equ 2
SPEC_FLAG_RSB_LITE equ 4
SPEC_FLAGS_L1D     equ 8 | 16       ; SPEC_FLAG_L1D_MSR | SPEC_FLAG_L1D_SW

VMX_REENTER        equ 0x80000000   ; vmx_vcpu.h

extern spec_entry_flags
extern vmx_exit_dispatch
extern vmx_exit_cpuid_fast
extern vmx_entry_failed
extern spec_l1d_flush

; struct vmx_regs offsets
R_RAX equ 0
R_RBX equ 8
R_RCX equ 16
R_RDX equ 24
R_RSI equ 32
R_RDI equ 40
R_RBP equ 48
R_R8  equ 56
R_R9  equ 64
R_R10 equ 72
R_R11 equ 80
R_R12 equ 88
R_R13 equ 96
R_R14 equ 104
R_R15 equ 112

%include "x86/guest_gprs.inc"

section .rodata
; VERW needs a memory operand naming a writable data segment to overwrite the CPU buffers
; (Intel, "Deep Dive: Intel Analysis of Microarchitectural Data Sampling").
verw_selector: dw GDT_SEL_KERNEL_DATA

section .text
bits 64

; Loads the guest's general registers from regs (rdi), rdi last.
%macro LOAD_GUEST 0
    GPRS_LOAD rdi, RAX, RBX, RCX, RDX, RSI, RBP, R8, R9, R10, R11, R12, R13, R14, R15
    mov rdi, [rdi + R_RDI]
%endmacro

; Loads the guest registers (regs in rdi) and enters; %1 = 1 puts VERW last. CF carries
; "launched" across the MOVs and VERW (which changes only ZF).
%macro ENTER_GUEST 1
    bt esi, 0
    LOAD_GUEST
%if %1
    verw [rel verw_selector]
%endif
    jc %%resume
    vmlaunch
    jmp vmx_enter_failed
%%resume:
    vmresume
    jmp vmx_enter_failed
%endmacro

; The same for VMRESUME after an exit the backend handled itself; %2 = 1 after
; vmx_exit_cpuid_fast, when RBP and R12-R15 still hold the guest's values.
%macro RESUME_GUEST 2
%if %2
    GPRS_LOAD rdi, RAX, RBX, RCX, RDX, RSI, R8, R9, R10, R11
    mov rdi, [rdi + R_RDI]
%else
    LOAD_GUEST
%endif
%if %1
    verw [rel verw_selector]
%endif
    vmresume
    jmp vmx_enter_failed
%endmacro

; int vmx_enter(struct vmx_regs *regs /* rdi */, int launched /* esi */, uint32_t spec /* edx */)
global vmx_enter
vmx_enter:
    push rbp
    push rbx
    push r12
    push r13
    push r14
    push r15
    push rdi                        ; the landing code finds regs at [rsp]
    mov rax, VMCS_HOST_RSP
    vmwrite rax, rsp
    test edx, SPEC_FLAGS_L1D
    jnz .flush
.flushed:
    test edx, SPEC_FLAG_VERW
    jnz .with_verw
    ENTER_GUEST 0
.with_verw:
    ENTER_GUEST 1
.flush:                             ; L1TF: nothing of the host's or another VM's in the L1D
    push rdi
    push rsi
    push rdx
    sub rsp, 8                      ; the call with RSP 16-byte aligned
    mov edi, edx
    call spec_l1d_flush
    add rsp, 8
    pop rdx
    pop rsi
    pop rdi
    jmp .flushed

vmx_enter_failed:                   ; VMfailInvalid (CF) or VMfailValid (ZF): still the host
    mov rdi, [rsp]                  ; the regs pointer
    call vmx_entry_failed
    add rsp, 8
    mov eax, 1
    jmp restore_host

; Stores the guest's caller-saved registers (those a C call may change); the regs pointer is at
; [rsp] on entry and in rdi after.
%macro SAVE_GUEST 0
    push rdi                        ; guest RDI; regs pointer is now at [rsp + 8]
    mov rdi, [rsp + 8]
    GPRS_STORE rdi, RAX, RCX, RDX, RSI, R8, R9, R10, R11
    pop rax
    mov [rdi + R_RDI], rax
%endmacro

; Three landings, one per RSB policy; host_state_write puts the CPU's in HOST_RIP. No conditional
; branch comes before the refill: a guest could train one to skip it speculatively. Return
; predictions the guest left must not steer the host's RETs: the RSB is overwritten before the
; first one.

; Full: 32 CALLs whose return addresses are never used (each speculative return lands on an
; INT3).
global vmx_exit_landing_rsb_full
vmx_exit_landing_rsb_full:
    SAVE_GUEST
    mov ecx, 16
.rsb_loop:
    call .rsb_1
    int3
.rsb_1:
    call .rsb_2
    int3
.rsb_2:
    dec ecx
    jnz .rsb_loop
    add rsp, 32 * 8
    lfence                          ; no speculation past a mispredicted loop end
    jmp vmx_exit_common

; With eIBRS only the PBRSB case needs one CALL and an LFENCE.
global vmx_exit_landing_rsb_lite
vmx_exit_landing_rsb_lite:
    SAVE_GUEST
    call .pbrsb
    int3
.pbrsb:
    add rsp, 8
    lfence
    jmp vmx_exit_common

; No refill (PBRSB_NO with eIBRS, or mitigations off).
global vmx_exit_landing
vmx_exit_landing:
    SAVE_GUEST
vmx_exit_common:                    ; rdi: the regs pointer (SAVE_GUEST left it there)
    mov esi, VMCS_EXIT_REASON
    vmread rsi, rsi                 ; zero-extended: vmx_exit_dispatch's second argument
    cmp esi, EXIT_REASON_CPUID
    jne .dispatch
    call vmx_exit_cpuid_fast        ; the guest's RBX, RBP, R12-R15 stay in the CPU
    test eax, eax
    jnz .resume_fast
    mov rdi, [rsp]
    mov esi, EXIT_REASON_CPUID
.dispatch:                          ; esi: the exit reason
    GPRS_STORE rdi, RBX, RBP, R12, R13, R14, R15
    call vmx_exit_dispatch
    test eax, eax
    jz .leave
    test eax, SPEC_FLAGS_L1D
    jnz .flush
.flushed:
    mov rdi, [rsp]                  ; an exit happened: VMRESUME
    test eax, SPEC_FLAG_VERW
    jnz .resume_verw
    RESUME_GUEST 0, 0
.resume_verw:
    RESUME_GUEST 1, 0
.flush:                             ; as in vmx_enter, last before the entry
    push rax
    sub rsp, 8                      ; the call with RSP 16-byte aligned
    mov edi, eax
    call spec_l1d_flush
    add rsp, 8
    pop rax
    jmp .flushed
.resume_fast:                       ; no L1D flush is due here (vmx_exit_cpuid_fast)
    mov rdi, [rsp]
    test eax, SPEC_FLAG_VERW
    jnz .resume_fast_verw
    RESUME_GUEST 0, 1
.resume_fast_verw:
    RESUME_GUEST 1, 1
.leave:
    add rsp, 8                      ; the regs pointer
restore_host:                       ; the callee-saved registers vmx_enter pushed
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    pop rbp
    ret
