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
