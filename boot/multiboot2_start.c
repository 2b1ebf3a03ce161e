/* First C code on the Multiboot2 path: turn GRUB's info block into our boot info, then enter the
 * generic kernel exactly as the UEFI path does. */
#include <drivers/uart16550.h>
#include <tessera/kernel.h>
#include <tessera/string.h>

#include "multiboot2.h"

static struct boot_info boot_info_storage;

void multiboot2_start(uint32_t magic, const void *mbi) __attribute__((noreturn));

void multiboot2_start(uint32_t magic, const void *mbi)
{
    char err[128];
    if (multiboot2_parse(magic, mbi, &boot_info_storage, err, sizeof(err)) != 0) {
        /* No console layer yet: say why on COM1 directly, then stop. */
        if (uart_init(0x3f8)) {
            uart_write("tessera: cannot boot: ", 22);
            uart_write(err, strlen(err));
            uart_write("\n", 1);
        }
        for (;;)
            __asm__ volatile("cli; hlt");
    }
    kernel_main(&boot_info_storage);
}
