/* Entry of every ELF64 guest. Tessera starts it in long mode with RDI = struct
 * tessera_start_info (guest-physical, identity-mapped). We clear .bss, move to our own stack,
 * check the start block and call guest_main(); its return value is the exit status. */
#include "guest.h"
#include "start64.h"

__asm__(".section .text.entry, \"ax\"\n"
        ".global _start\n"
        "_start:\n"
        "    cli\n"
        "    cld\n"
        "    mov %rdi, %rbx\n"              /* keep the start-info pointer */
        "    lea __bss_start(%rip), %rdi\n"
        "    lea __bss_end(%rip), %rcx\n"
        "    sub %rdi, %rcx\n"
        "    xor %eax, %eax\n"
        "    rep stosb\n"
        "    lea guest_stack_top(%rip), %rsp\n"
        "    mov %rbx, %rdi\n"
        "    call guest_start64\n"
        "1:  cli\n"
        "    hlt\n"
        "    jmp 1b\n"
        ".previous\n");

#define GUEST_STACK_SIZE 16384
static uint8_t guest_stack[GUEST_STACK_SIZE] __attribute__((aligned(16), used));
__asm__(".set guest_stack_top, guest_stack + 16384\n");
_Static_assert(GUEST_STACK_SIZE == 16384, "keep guest_stack_top in step");

static const struct tessera_start_info *guest_start_info;
uint64_t guest_mem_size;

void guest_start64(const struct tessera_start_info *info);

void guest_start64(const struct tessera_start_info *info)
{
    serial_init();
    /* The block lies in low guest RAM (0x8000); refuse anything that does not look like it
     * rather than chase a wild pointer. */
    if (info && (uintptr_t)info < 0x100000 && info->magic == TESSERA_START_MAGIC) {
        guest_start_info = info;
        guest_mem_size = info->mem_size;
        if (info->cmdline && info->cmdline < info->mem_size)
            guest_cmdline = (const char *)(uintptr_t)info->cmdline;
    } else {
        guest_printf("guest: no valid Tessera start info at %p\n", (const void *)info);
    }
    guest_exit((uint8_t)guest_main(guest_start_info));
}
