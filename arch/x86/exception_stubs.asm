; One entry stub per IDT vector. Each makes the frame uniform (error code or 0, then the vector),
; saves all 15 general registers and calls x86_trap_handler(struct x86_trap_frame *). The CPU
; aligns RSP to 16 before pushing its frame in 64-bit mode, so after our 22 qwords the call is
; made with an aligned stack.

extern x86_trap_handler

section .text
bits 64

%macro STUB 1
stub_%1:
%if %1 = 8 || (%1 >= 10 && %1 <= 14) || %1 = 17 || %1 = 21 || %1 = 29 || %1 = 30
    push qword %1                   ; the CPU pushed an error code
%else
    push qword 0
    push qword %1
%endif
    jmp trap_common
%endmacro

%assign v 0
%rep 256
    STUB v
%assign v v + 1
%endrep

trap_common:
    push rax
    push rbx
    push rcx
    push rdx
    push rsi
    push rdi
    push rbp
    push r8
    push r9
    push r10
    push r11
    push r12
    push r13
    push r14
    push r15
    cld
    mov rdi, rsp
    call x86_trap_handler
    pop r15
    pop r14
    pop r13
    pop r12
    pop r11
    pop r10
    pop r9
    pop r8
    pop rbp
    pop rdi
    pop rsi
    pop rdx
    pop rcx
    pop rbx
    pop rax
    add rsp, 16                     ; vector and error code
    iretq

section .rodata
align 8
global x86_trap_stubs
x86_trap_stubs:
%assign v 0
%rep 256
    dq stub_ %+ v
%assign v v + 1
%endrep
