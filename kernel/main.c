/* kernel_main: the generic kernel, entered once by either boot path with one boot-info block. */
#include <drivers/uart16550.h>
#include <tessera/boot_info.h>
#include <tessera/console.h>
#include <tessera/kernel.h>
#include <tessera/printf.h>
#include <tessera/string.h>
#include <x86/io.h>

static void serial_sink_write(const char *s, size_t n)
{
    uart_write(s, n);
}

static struct console_sink serial_sink = { .name = "serial", .write = serial_sink_write };

void kernel_main(struct boot_info *bi)
{
    if (uart_init(0x3f8))
        console_register(&serial_sink);
    kprintf("tessera: starting\n");
    kprintf("tessera: boot path=%s firmware=%s loader=\"%s\"\n",
            bi->path == BOOT_PATH_UEFI ? "UEFI" : "Multiboot2",
            bi->firmware == BOOT_FIRMWARE_UEFI ? "UEFI" : "BIOS", bi->loader_name);
    kprintf("tessera: cmdline=\"%s\"\n", bi->cmdline);
    for (unsigned i = 0; i < bi->mem_region_count; i++)
        kprintf("  mem %016llx-%016llx type %u\n", (unsigned long long)bi->mem[i].base,
                (unsigned long long)(bi->mem[i].base + bi->mem[i].length), bi->mem[i].type);
    for (unsigned i = 0; i < bi->module_count; i++)
        kprintf("  module %s at %llx size %llu\n", bi->modules[i].name,
                (unsigned long long)bi->modules[i].addr, (unsigned long long)bi->modules[i].size);
    kprintf("tessera: end status=ok\n");
    uart_drain();
    outb(0xf4, 0x10);
    for (;;)
        __asm__ volatile("cli; hlt");
}
