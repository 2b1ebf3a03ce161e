/* Multiboot2 info block -> boot_info, then the kernel's next step on it: ACPI discovery from the
 * RSDP copy the block carried, with nothing mapped but that copy. The input is the info block; its
 * total_size field is set to the input's length (GRUB's value is trusted, the tags are not), and
 * it sits in a buffer of exactly that size, so ASan sees any read past it.
 * FUZZ-SOURCES: boot/multiboot2.c kernel/acpi/acpi.c kernel/lib/printf.c kernel/lib/string.c */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../boot/multiboot2.h"
#include <tessera/acpi.h>

/* Only the RSDP copy inside boot_info is mapped (the tables it points to are not). */
static const void *map_copy(void *ctx, uint64_t phys, uint64_t len)
{
    const struct boot_info *bi = ctx;
    uint64_t base = (uint64_t)(uintptr_t)bi->rsdp_copy;

    if (phys < base || phys - base > sizeof(bi->rsdp_copy) ||
        len > sizeof(bi->rsdp_copy) - (phys - base))
        return NULL;
    return (const void *)(uintptr_t)phys;
}

static int terminated(const char *s, size_t size)
{
    return memchr(s, 0, size) != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct boot_info *bi;
    static struct acpi_info acpi;
    char err[128];
    uint8_t *mbi;
    uint32_t total = (uint32_t)size;

    if (size < 8 || size > (1u << 20))
        return 0;
    if (!bi)
        bi = malloc(sizeof(*bi));
    mbi = malloc(size); /* malloc aligns to 16: the block must be 8-byte aligned */
    if (!bi || !mbi)
        abort();
    memcpy(mbi, data, size);
    memcpy(mbi, &total, 4);
    err[0] = 0;
    if (multiboot2_parse(0x36d76289u, mbi, bi, err, sizeof(err)) == 0) {
        if (bi->module_count > BOOT_MAX_MODULES || bi->mem_region_count > BOOT_MAX_MEM_REGIONS ||
            bi->mem_region_count == 0 || !terminated(bi->cmdline, sizeof(bi->cmdline)) ||
            !terminated(bi->loader_name, sizeof(bi->loader_name)))
            abort();
        for (unsigned i = 0; i < bi->module_count; i++)
            if (!terminated(bi->modules[i].name, sizeof(bi->modules[i].name)) ||
                bi->modules[i].name[0] == 0)
                abort();
        if (bi->rsdp && bi->rsdp != (uint64_t)(uintptr_t)bi->rsdp_copy)
            abort(); /* the info block may be overwritten later: only the copy may be used */
        if (bi->rsdp)
            acpi_parse(bi->rsdp, bi->rsdp_len, map_copy, bi, &acpi);
    } else if (!terminated(err, sizeof(err)) || err[0] == 0) {
        abort(); /* a refusal always says why */
    }
    free(mbi);
    return 0;
}
