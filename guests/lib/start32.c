/* Entry of every 32-bit Multiboot 1 guest: the header, a stack, .bss cleared, then
 * multiboot_main(EAX, EBX). Works under Tessera, GRUB's `multiboot` and QEMU -kernel. */
#include <tessera/errno.h>
#include "guest.h"
#include "multiboot.h"

#define MB_FLAGS (MULTIBOOT_HEADER_PAGE_ALIGN | MULTIBOOT_HEADER_MEMORY_INFO)

/* The header must sit 4-byte aligned in the first 8 KiB of the file: the linker script puts
 * .multiboot first. */
__asm__(".section .multiboot, \"a\"\n"
        ".align 4\n"
        ".long 0x1badb002\n"
        ".long 3\n"
        ".long -(0x1badb002 + 3)\n"
        ".previous\n");
/* top-level asm takes no operands: the literals above must match the header constants */
_Static_assert(MULTIBOOT_HEADER_MAGIC == 0x1badb002u && MB_FLAGS == 3,
               "keep the header above in step with multiboot.h");

__asm__(".section .text.entry, \"ax\"\n"
        ".global _start\n"
        "_start:\n"
        "    cli\n"
        "    cld\n"
        "    mov %eax, %esi\n"               /* keep the boot magic; EBX survives stosb */
        "    mov $__bss_start, %edi\n"
        "    mov $__bss_end, %ecx\n"
        "    sub %edi, %ecx\n"
        "    xor %eax, %eax\n"
        "    rep stosb\n"
        "    mov $guest_stack_top, %esp\n"
        "    push %ebx\n"
        "    push %esi\n"
        "    call guest_start32\n"
        "1:  cli\n"
        "    hlt\n"
        "    jmp 1b\n"
        ".previous\n");

static uint8_t guest_stack[16384] __attribute__((aligned(16), used));
__asm__(".set guest_stack_top, guest_stack + 16384\n");

void guest_start32(uint32_t magic, const struct multiboot_info *mbi);

void guest_start32(uint32_t magic, const struct multiboot_info *mbi)
{
    serial_init();
    if (magic == MULTIBOOT_BOOT_MAGIC && mbi && (mbi->flags & MULTIBOOT_INFO_CMDLINE) &&
        mbi->cmdline)
        guest_cmdline = (const char *)(uintptr_t)mbi->cmdline;
    guest_exit((uint8_t)multiboot_main(magic, mbi));
}

const struct multiboot_mmap_entry *multiboot_mmap_next(const struct multiboot_info *mbi,
                                                       uint32_t *offset, int *error)
{
    *error = 0;
    if (!(mbi->flags & MULTIBOOT_INFO_MMAP) || *offset >= mbi->mmap_length)
        return NULL;
    uint32_t left = mbi->mmap_length - *offset;
    const struct multiboot_mmap_entry *e =
        (const struct multiboot_mmap_entry *)(uintptr_t)(mbi->mmap_addr + *offset);
    /* the entry must hold base, length and type, and must fit in what is left */
    if (left < sizeof(*e) || e->size < sizeof(*e) - 4 || e->size > left - 4) {
        *error = -EINVAL;
        return NULL;
    }
    *offset += e->size + 4;
    return e;
}
