/* hello64: the smallest useful ELF64 guest. Shows that COM1 output, CPUID detection and every
 * informational hypercall work, then exits 0. */
#include <tessera/string.h>
#include "guest.h"
#include "start64.h"

int guest_main(const struct tessera_start_info *info)
{
    guest_printf("hello64: hello from a 64-bit guest\n");
    if (info)
        guest_printf("hello64: start info mem_size=0x%llx modules=%u cmdline=\"%s\"\n",
                     info->mem_size, info->module_count, guest_cmdline);

    uint32_t max_leaf, abi;
    if (!tessera_detect(&max_leaf, &abi)) {
        guest_printf("hello64: not running under Tessera (no TesseraVisor signature)\n");
        return 1;
    }
    /* print the signature as the CPU returned it, not as we expect it */
    uint32_t sig[4] = { 0, 0, 0, 0 }, eax;
    cpuid(TESSERA_CPUID_BASE, &eax, &sig[0], &sig[1], &sig[2]);
    char text[13];
    memcpy(text, sig, 12);
    text[12] = '\0';
    guest_printf("hello64: cpuid signature=%s max_leaf=0x%x abi=%u\n", text, max_leaf, abi);

    /* what a guest must see: no VMX, a hypervisor present */
    uint32_t a1, b1, c1, d1;
    cpuid(1, &a1, &b1, &c1, &d1);
    guest_printf("hello64: cpuid.1 vmx=%u hypervisor=%u\n", (c1 >> 5) & 1, (c1 >> 31) & 1);

    /* the virtual UART behaves like a 16550 for drivers: scratch, divisor latch, line status */
    outb(COM1_BASE + UART_SCR, 0xa5);
    uint8_t scratch = inb(COM1_BASE + UART_SCR);
    outb(COM1_BASE + UART_LCR, UART_LCR_DLAB | UART_LCR_8N1);
    outb(COM1_BASE + UART_DATA, 0x0c); /* 9600 baud */
    outb(COM1_BASE + UART_IER, 0x00);
    uint8_t dll = inb(COM1_BASE + UART_DATA), dlm = inb(COM1_BASE + UART_IER);
    outb(COM1_BASE + UART_DATA, 0x01); /* back to 115200 */
    outb(COM1_BASE + UART_LCR, UART_LCR_8N1);
    uint8_t lcr = inb(COM1_BASE + UART_LCR), lsr = inb(COM1_BASE + UART_LSR);
    guest_printf("hello64: uart scratch=0x%02x divisor=0x%02x%02x lcr=0x%02x lsr=0x%02x\n", scratch,
                 dlm, dll, lcr, lsr);

    /* MSRs the hypervisor emulates: facts a kernel reads early */
    uint64_t misc = rdmsr(0x1a0), mtrrcap = rdmsr(0xfe), deftype = rdmsr(0x2ff);
    guest_printf("hello64: msr misc_enable=0x%llx mtrrcap=0x%llx mtrr_def_type=0x%llx\n",
                 (unsigned long long)misc, (unsigned long long)mtrrcap,
                 (unsigned long long)deftype);

    long id = tessera_vm_id();
    guest_printf("hello64: vm_id=%ld\n", id);

    struct tessera_time t;
    long rc = tessera_time(&t);
    guest_printf("hello64: time rc=%ld tsc_hz=%llu ticks=%llu ns=%llu\n", rc,
                 (unsigned long long)t.tsc_hz, (unsigned long long)t.ticks,
                 (unsigned long long)t.ns);

    static const char line[] = "hello64: this line came through CONSOLE_WRITE\n";
    long written = tessera_console_write(line, sizeof(line) - 1);
    guest_printf("hello64: console_write rc=%ld\n", written);

    int status = (id >= 0 && rc == 0 && written == (long)(sizeof(line) - 1)) ? 0 : 1;
    guest_printf("hello64: done status=%d\n", status);
    return status;
}
