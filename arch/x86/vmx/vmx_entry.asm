; VM entry and exit (SDM 26, 27): the only assembly of the VMX backend. vmx_enter saves the
; host's callee-saved registers, records RSP in the VMCS, loads the guest's general registers and
; runs VMLAUNCH or VMRESUME. A VM exit lands on vmx_exit_landing (HOST_RIP) with the stack as
; vmx_enter left it: store the guest registers, restore ours, return 0.

VMCS_HOST_RSP equ 0x6c14

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

section .text
bits 64

; int vmx_enter(struct vmx_regs *regs /* rdi */, int launched /* esi */)
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
    test esi, esi                   ; flags survive the MOVs below
    mov rax, [rdi + R_RAX]
    mov rbx, [rdi + R_RBX]
    mov rcx, [rdi + R_RCX]
    mov rdx, [rdi + R_RDX]
    mov rsi, [rdi + R_RSI]
    mov rbp, [rdi + R_RBP]
    mov r8,  [rdi + R_R8]
    mov r9,  [rdi + R_R9]
    mov r10, [rdi + R_R10]
    mov r11, [rdi + R_R11]
    mov r12, [rdi + R_R12]
    mov r13, [rdi + R_R13]
    mov r14, [rdi + R_R14]
    mov r15, [rdi + R_R15]
    mov rdi, [rdi + R_RDI]
    jnz .resume
    vmlaunch
    jmp .failed
.resume:
    vmresume
.failed:                            ; VMfailInvalid (CF) or VMfailValid (ZF): still the host
    add rsp, 8                      ; the regs pointer
    mov eax, 1
    jmp restore_host

global vmx_exit_landing
vmx_exit_landing:
    push rdi                        ; guest RDI; regs pointer is now at [rsp + 8]
    mov rdi, [rsp + 8]
    mov [rdi + R_RAX], rax
    mov [rdi + R_RBX], rbx
    mov [rdi + R_RCX], rcx
    mov [rdi + R_RDX], rdx
    mov [rdi + R_RSI], rsi
    mov [rdi + R_RBP], rbp
    mov [rdi + R_R8],  r8
    mov [rdi + R_R9],  r9
    mov [rdi + R_R10], r10
    mov [rdi + R_R11], r11
    mov [rdi + R_R12], r12
    mov [rdi + R_R13], r13
    mov [rdi + R_R14], r14
    mov [rdi + R_R15], r15
    pop rax
    mov [rdi + R_RDI], rax
    add rsp, 8                      ; the regs pointer
    xor eax, eax
restore_host:                       ; the callee-saved registers vmx_enter pushed
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    pop rbp
    ret
