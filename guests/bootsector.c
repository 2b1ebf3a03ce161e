/* bootsector: a 512-byte real-mode guest (gcc -m16). Prints where it was entered (CS:IP) and the
 * boot drive in DL through COM1 port I/O, then writes status 0 to port 0xf4. Loaded at 0x7C00 by
 * Tessera or by a BIOS from a floppy or disk. */
#include "io.h"

/* Record the entry CS, IP (from a call/pop) and DL, then normalise to 0000:7Cxx with our own
 * stack: some BIOSes enter at 07C0:0000, and gcc's 32-bit addressing wants ESP's upper half 0. */
__asm__(".section .text.entry, \"ax\"\n"
        ".code16\n"
        ".global _start\n"
        "_start:\n"
        "    cli\n"
        "    cld\n"
        "    mov %cs, %bx\n"
        "    call 1f\n"
        "1:  pop %si\n"
        "    sub $(1b - _start), %si\n"
        "    xor %ax, %ax\n"
        "    mov %ax, %ds\n"
        "    mov %ax, %es\n"
        "    mov %ax, %ss\n"
        "    movl $0x7c00, %esp\n"
        "    ljmp $0, $2f\n"
        "2:  movzbl %dl, %edx\n"
        "    pushl %edx\n"
        "    movzwl %si, %esi\n"
        "    pushl %esi\n"
        "    movzwl %bx, %ebx\n"
        "    pushl %ebx\n"
        "    calll boot_main\n"
        "3:  cli\n"
        "    hlt\n"
        "    jmp 3b\n"
        ".code16gcc\n"
        ".previous\n");

void boot_main(uint32_t cs, uint32_t ip, uint32_t drive) __attribute__((used, noreturn));

static void put_char(char c)
{
    while (!(inb(COM1_BASE + UART_LSR) & UART_LSR_THRE))
        ;
    outb(COM1_BASE + UART_DATA, (uint8_t)c);
}

static void put_str(const char *s)
{
    while (*s)
        put_char(*s++);
}

static void put_hex(uint32_t v, int digits)
{
    while (digits--)
        put_char("0123456789ABCDEF"[(v >> (digits * 4)) & 15]);
}

void boot_main(uint32_t cs, uint32_t ip, uint32_t drive)
{
    uart_init_com1();
    put_str("bootsector: hello from real mode, CS=");
    put_hex(cs, 4);
    put_str(" IP=");
    put_hex(ip, 4);
    put_str(" DL=");
    put_hex(drive, 2);
    put_str("\nbootsector: done\n");
    while (!(inb(COM1_BASE + UART_LSR) & UART_LSR_TEMT))
        ;
    outb(0xf4, 0);
    for (;;)
        __asm__ volatile("cli; hlt");
}
