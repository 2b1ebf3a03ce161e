; Multiboot2 header and entry. GRUB (BIOS or UEFI, boot services exited) enters mb2_entry32 in
; 32-bit protected mode, paging off, EAX = magic, EBX = info. We build a temporary identity map of
; the first 4 GiB with 2 MiB pages, enter long mode and continue in C (multiboot2_start). The UEFI
; loader instead enters kernel_entry64, already in long mode. The kernel replaces these page tables
; with its own once it knows the memory map.

MB2_MAGIC       equ 0xE85250D6
MB2_ARCH_I386   equ 0

extern multiboot2_start
extern kernel_main
extern __kernel_start
extern __kernel_end

; Flat data segments from boot_gdt; FS and GS null.
%macro LOAD_DATA_SEGMENTS 0
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor ax, ax
    mov fs, ax
    mov gs, ax
%endmacro

section .multiboot2
align 8
mb2_header:
    dd MB2_MAGIC
    dd MB2_ARCH_I386
    dd mb2_header_end - mb2_header
    dd -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
    ; entry address tag: enter at the 32-bit entry, not the ELF (64-bit) entry
    align 8
    dw 3, 0
    dd 12
    dd mb2_entry32
    ; framebuffer tag (optional): a linear 32 bpp framebuffer for the screen console
    align 8
    dw 5, 1
    dd 20
    dd 1024, 768, 32
    ; module alignment tag: modules page-aligned
    align 8
    dw 6, 0
    dd 8
    ; end tag
    align 8
    dw 0, 0
    dd 8
mb2_header_end:

section .text.boot
bits 32
global mb2_entry32
mb2_entry32:
    cli
    cld
    mov esp, boot_stack_top
    mov edi, eax                    ; keep magic and info across the checks
    mov esi, ebx

    ; long mode present? (CPUID 0x80000001 EDX bit 29)
    mov eax, 0x80000000
    cpuid
    cmp eax, 0x80000001
    jb .no_long_mode
    mov eax, 0x80000001
    cpuid
    test edx, 1 << 29
    jz .no_long_mode

    ; identity map 0..4 GiB: PML4[0] -> PDPT, PDPT[0..3] -> 4 page directories of 2 MiB pages
    mov eax, boot_pdpt
    or eax, 0x3
    mov [boot_pml4], eax
    mov ecx, 0
.pdpt_loop:
    mov eax, ecx
    shl eax, 12
    add eax, boot_pd
    or eax, 0x3
    mov [boot_pdpt + ecx * 8], eax
    inc ecx
    cmp ecx, 4
    jb .pdpt_loop
    mov ecx, 0
.pd_loop:                           ; 2048 entries: entry i maps i * 2 MiB
    mov eax, ecx
    shl eax, 21
    or eax, 0x83                    ; present, writable, 2 MiB page
    mov [boot_pd + ecx * 8], eax
    mov eax, ecx
    shr eax, 11                     ; high half of the physical address (i * 2 MiB >> 32)
    mov [boot_pd + ecx * 8 + 4], eax
    inc ecx
    cmp ecx, 2048
    jb .pd_loop

    mov eax, cr4
    or eax, 1 << 5                  ; PAE
    mov cr4, eax
    mov eax, boot_pml4
    mov cr3, eax
    mov ecx, 0xC0000080             ; IA32_EFER.LME
    rdmsr
    or eax, 1 << 8
    wrmsr
    mov eax, cr0
    or eax, (1 << 31) | (1 << 0)    ; PG | PE
    and eax, ~((1 << 30) | (1 << 29)) ; caches on (CD = NW = 0)
    mov cr0, eax

    lgdt [boot_gdt_ptr]
    jmp 0x08:.long_mode

.no_long_mode:
    mov esi, msg_no_long_mode
.print:
    mov dx, 0x3FD                   ; wait for the transmitter
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    lodsb
    test al, al
    jz .halt
    mov dx, 0x3F8
    out dx, al
    jmp .print
.halt:
    hlt
    jmp .halt

bits 64
.long_mode:
    LOAD_DATA_SEGMENTS
    mov rsp, kernel_stack_top
    xor ebp, ebp
    mov edi, edi                    ; magic (zero-extended)
    mov esi, esi                    ; info
    call multiboot2_start
.dead:
    cli
    hlt
    jmp .dead

; 64-bit entry for our UEFI loader: RDI = struct boot_info *, long mode, identity paging.
section .text
global kernel_entry64
kernel_entry64:
    cli
    cld
    mov rsp, kernel_stack_top
    push rdi
    ; Leave the firmware's page tables at once: they sit in boot-services memory, which the
    ; allocator hands out and clears. Same identity map of 0..4 GiB as the 32-bit path.
    mov eax, boot_pdpt
    or eax, 0x3
    mov [boot_pml4], rax
    xor ecx, ecx
.pdpt_loop64:
    mov rax, rcx
    shl rax, 12
    add rax, boot_pd
    or rax, 0x3
    mov [boot_pdpt + rcx * 8], rax
    inc ecx
    cmp ecx, 4
    jb .pdpt_loop64
    xor ecx, ecx
.pd_loop64:
    mov rax, rcx
    shl rax, 21
    or rax, 0x83                    ; present, writable, 2 MiB page
    mov [boot_pd + rcx * 8], rax
    inc ecx
    cmp ecx, 2048
    jb .pd_loop64
    mov rax, cr4
    and rax, ~(1 << 7)              ; PGE off: also drops the firmware's global TLB entries
    mov cr4, rax
    mov rdx, boot_pml4
    test eax, 1 << 12               ; LA57: the firmware runs 5-level paging, which cannot be
    jz .four_level                  ; turned off in long mode: put our PML4 under a PML5
    mov rax, rdx
    or rax, 0x3
    mov [boot_pml5], rax
    mov rdx, boot_pml5
.four_level:
    mov cr3, rdx
    lgdt [boot_gdt_ptr]
    ; reload CS through a far return, then the data segments
    lea rax, [rel .reload_cs]
    push 0x08
    push rax
    retfq
.reload_cs:
    LOAD_DATA_SEGMENTS
    pop rdi
    xor ebp, ebp
    call kernel_main
.dead:
    cli
    hlt
    jmp .dead

section .rodata
msg_no_long_mode:
    db "tessera: this CPU has no 64-bit long mode (CPUID 0x80000001 EDX.LM = 0); cannot run", 13, 10, 0

align 16
boot_gdt:
    dq 0
    dq 0x00AF9A000000FFFF           ; 0x08: 64-bit code
    dq 0x00CF92000000FFFF           ; 0x10: data
boot_gdt_end:
align 16
boot_gdt_ptr:
    dw boot_gdt_end - boot_gdt - 1
    dq boot_gdt

section .bss
align 4096
boot_pml4:  resb 4096
boot_pml5:  resb 4096
boot_pdpt:  resb 4096
boot_pd:    resb 4096 * 4
boot_stack: resb 4096
boot_stack_top:
align 16
global kernel_stack_bottom
kernel_stack_bottom:
    resb 65536
global kernel_stack_top
kernel_stack_top:
