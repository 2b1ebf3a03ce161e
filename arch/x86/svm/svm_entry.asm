; VMRUN and #VMEXIT (AMD APM vol. 2, 15.5-15.6): the only assembly of the SVM backend. VMRUN saves
; the host's RAX, RSP, RIP, RFLAGS, CR0/3/4, EFER, GDTR/IDTR and ES/CS/SS/DS in the host save area
; and restores them at #VMEXIT; the rest of the state (FS, GS, TR, LDTR and their hidden parts,
; KERNEL_GS_BASE, STAR/LSTAR/CSTAR/SFMASK, SYSENTER_*) moves only with VMLOAD/VMSAVE (15.5.2), so
; the guest's is loaded before VMRUN and saved after, and the host's (saved once per CPU) loaded
; back. All of it runs with GIF clear (CLGI), so no interrupt or NMI sees the mixed state; RFLAGS.IF
; is set for VMRUN only, so that with V_INTR_MASKING a host interrupt ends the guest (INTR
; intercept, 15.21.1) and then waits, pending, until the host takes it.
; Three variants, one per RSB policy (arch/x86/spec.c), chosen once so the exit path has no branch
; before the refill; VERW (MDS) before VMRUN when asked, as the VMX entry does.

SPEC_FLAG_VERW     equ 1
SPEC_FLAGS_L1D     equ 0x18         ; SPEC_FLAG_L1D_MSR | SPEC_FLAG_L1D_SW (x86/spec.h)
X_VMCB             equ 0x70         ; struct svm_vcpu (svm.h): checked in svm_vcpu.c
VMCB_EXIT_CODE     equ 0x70         ; vmcb.h
SVM_EXIT_CPUID     equ 0x72
VMCB_RFLAGS        equ 0x570        ; vmcb.h, checked in svm_vcpu.c
RFLAGS_TF          equ 0x100
GDT_SEL_KERNEL_DATA equ 0x10        ; x86/desc.h

; struct svm_regs offsets
R_RBX equ 0
R_RCX equ 8
R_RDX equ 16
R_RSI equ 24
R_RDI equ 32
R_RBP equ 40
R_R8  equ 48
R_R9  equ 56
R_R10 equ 64
R_R11 equ 72
R_R12 equ 80
R_R13 equ 88
R_R14 equ 96
R_R15 equ 104

%include "x86/guest_gprs.inc"

section .rodata
svm_verw_selector: dw GDT_SEL_KERNEL_DATA

extern svm_exit_fast

section .text
bits 64

; %1: the name, %2: the RSB policy (0 none, 1 full, 2 lite)
;
; Exits the backend completes by itself (CPUID: svm_exit_fast in svm_vcpu.c) go straight back
; into the guest without the switch to the host's VMLOAD state and back: that C code runs with
; GIF still clear (no interrupt, NMI or SMI is taken: they stay pending, APM 15.17.1, and a host
; interrupt or NMI pending at the next VMRUN makes it exit at once through the INTR/NMI intercept)
; and with the guest's FS/GS loaded, so it must not touch per-CPU data. Only an exit it leaves
; alone switches to the host's state and returns.
%macro SVM_ENTER 2
global %1
%1:
    push rbp
    push rbx
    push r12
    push r13
    push r14
    push r15
    sub rsp, 8                      ; the C call below needs RSP 16-byte aligned
    push rcx                        ; [rsp + 24] spec flags
    push rsi                        ; [rsp + 16] guest VMCB
    push rdx                        ; [rsp + 8]  host save area
    push rdi                        ; [rsp]      regs
    clgi
    mov rax, rsi                    ; the guest VMCB: VMLOAD, VMRUN and VMSAVE take it in RAX
    vmload
    GPRS_LOAD rdi, RBP, R12, R13, R14, R15 ; live across svm_exit_fast's re-entries (callee-saved)
    test ecx, SPEC_FLAG_VERW
    jz %%load
%%verw:
    verw [rel svm_verw_selector]
%%load:
    GPRS_LOAD rdi, RBX, RCX, RDX, RSI, R8, R9, R10, R11
    mov rdi, [rdi + R_RDI]
    sti                             ; GIF is clear: nothing is taken before VMRUN
    vmrun
    ; #VMEXIT: RAX is the host's again (the VMCB address), GIF clear. RBX, RBP and R12-R15 stay
    ; the guest's until the exit leaves the stub: svm_exit_fast, a C function, preserves them.
    cli
    push rdi
    mov rdi, [rsp + 8]              ; regs
    GPRS_STORE rdi, RCX, RDX, RSI, R8, R9, R10, R11
    pop rsi                         ; the guest's RDI (its RSI is saved; RBX is stored on leaving)
    mov [rdi + R_RDI], rsi
%if %2 == 1
    ; 32 CALLs whose return addresses are never used: the guest's return predictions must not
    ; steer the host's RETs
    mov ecx, 16
%%rsb_loop:
    call %%rsb_1
    int3
%%rsb_1:
    call %%rsb_2
    int3
%%rsb_2:
    dec ecx
    jnz %%rsb_loop
    add rsp, 32 * 8
    lfence
%elif %2 == 2
    call %%pbrsb
    int3
%%pbrsb:
    add rsp, 8
    lfence
%endif
    ; a CPUID with no L1D flush due before entry and the guest's TF clear (the single-step #DB
    ; after it is injected by handle_cpuid, with GIF set): svm_exit_fast, which answers it when the
    ; vCPU's table of CPUID answers has it. No clock check: the slice timer
    ; (apic_timer_arm in svm_vcpu_run, armed for this deadline; only an idle CPU's halt disarms it,
    ; and every run arms it again) makes the next VMRUN exit at once
    ; through the INTR intercept once the slice is over, as it ends a guest that never exits.
    mov rsi, [rdi + X_VMCB]
    cmp qword [rsi + VMCB_EXIT_CODE], SVM_EXIT_CPUID
    jne %%leave
    test dword [rsp + 24], SPEC_FLAGS_L1D
    jnz %%leave
    test dword [rsi + VMCB_RFLAGS], RFLAGS_TF
    jnz %%leave
    call svm_exit_fast              ; RDI = regs, the start of struct svm_vcpu; RBX kept
    test al, al
    jz %%leave                      ; a question not in the vCPU's table yet: handle_cpuid
    mov rdi, [rsp]
    mov rax, [rsp + 16]
    test dword [rsp + 24], SPEC_FLAG_VERW
    jz %%load
    jmp %%verw
%%leave:
    mov rdi, [rsp]
    GPRS_STORE rdi, RBX, RBP, R12, R13, R14, R15
    mov rax, [rsp + 16]
    vmsave                          ; the guest's FS, GS, TR, LDTR, syscall MSRs
    mov rax, [rsp + 8]              ; host save area
    vmload
    stgi
    add rsp, 40
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    pop rbp
    ret
%endmacro

; void svm_enter*(struct svm_regs *regs /* rdi */, uint64_t vmcb_phys /* rsi */,
;                 uint64_t host_phys /* rdx */, uint32_t spec_flags /* ecx */)
SVM_ENTER svm_enter, 0
SVM_ENTER svm_enter_rsb_full, 1
SVM_ENTER svm_enter_rsb_lite, 2
