; Application-processor start-up code (SDM Vol. 3A 9.4.4): copied to a page below 1 MiB; the
; SIPI starts the AP there in real mode with CS = page >> 4, IP = 0. It climbs to long mode using
; the hypervisor's page tables and calls the C entry with the CPU index. Everything is addressed
; relative to EBX/RBX = the page's linear address, so the blob runs wherever it is copied. The BSP
; fills the parameter block (tr_params) before each SIPI.

section .rodata
bits 16
global ap_trampoline
global ap_trampoline_end
global ap_trampoline_params

ap_trampoline:
    cli
    cld
    mov ax, cs
    mov ds, ax
    xor ebx, ebx
    mov bx, ax
    shl ebx, 4                              ; linear address of this page
    lea eax, [ebx + (tr_gdt - ap_trampoline)]
    mov [tr_gdtr + 2 - ap_trampoline], eax  ; the GDT's linear address
    lea eax, [ebx + (tr_pm32 - ap_trampoline)]
    mov [tr_far32 - ap_trampoline], eax
    o32 lgdt [tr_gdtr - ap_trampoline]
    mov eax, cr0
    or al, 1                                ; PE
    mov cr0, eax
    jmp dword far [tr_far32 - ap_trampoline]

bits 32
tr_pm32:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov eax, [ebx + (tr_cr4 - ap_trampoline)]
    mov cr4, eax                            ; PAE (and PGE) as on the BSP
    mov eax, [ebx + (tr_cr3 - ap_trampoline)]
    mov cr3, eax                            ; the hypervisor's PML4 (below 4 GiB)
    mov ecx, 0xC0000080
    mov eax, [ebx + (tr_efer - ap_trampoline)]
    xor edx, edx
    wrmsr                                   ; LME (and NXE) as on the BSP
    lea eax, [ebx + (tr_lm64 - ap_trampoline)]
    mov [ebx + (tr_far64 - ap_trampoline)], eax
    mov eax, [ebx + (tr_cr0 - ap_trampoline)]
    mov cr0, eax                            ; PG: now in compatibility mode
    jmp dword far [ebx + (tr_far64 - ap_trampoline)]

bits 64
tr_lm64:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov rsp, [rbx + (tr_stack - ap_trampoline)]
    mov edi, [rbx + (tr_cpu - ap_trampoline)]
    mov rax, [rbx + (tr_entry - ap_trampoline)]
    xor ebp, ebp
    call rax                                ; never returns
.dead:
    cli
    hlt
    jmp .dead

align 8
tr_gdt:
    dq 0
    dq 0x00cf9a000000ffff                   ; 0x08: 32-bit code
    dq 0x00cf92000000ffff                   ; 0x10: data
    dq 0x00af9a000000ffff                   ; 0x18: 64-bit code
tr_gdtr:
    dw 31
    dd 0
tr_far32:
    dd 0
    dw 0x08
tr_far64:
    dd 0
    dw 0x18

align 8
ap_trampoline_params:                       ; struct ap_params in smp.c
tr_cr3:   dq 0
tr_stack: dq 0
tr_entry: dq 0
tr_cr0:   dd 0
tr_cr4:   dd 0
tr_efer:  dd 0
tr_cpu:   dd 0
ap_trampoline_end:
