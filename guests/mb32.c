/* mb32: a 32-bit Multiboot 1 guest that prints what its loader told it: flags, memory sizes,
 * every memory-map entry, the command line and each module with a CRC-32 of its bytes. */
#include "guest.h"
#include "multiboot.h"

#define MB32_MAX_MMAP_ENTRIES 128
#define MB32_MAX_MODULES 16

static int print_mmap(const struct multiboot_info *mbi)
{
    if (!(mbi->flags & MULTIBOOT_INFO_MMAP)) {
        guest_printf("mb32: no memory map\n");
        return 0;
    }
    guest_printf("mb32: mmap addr=0x%x length=%u\n", mbi->mmap_addr, mbi->mmap_length);
    uint32_t offset = 0;
    int error, count = 0;
    const struct multiboot_mmap_entry *e;
    while ((e = multiboot_mmap_next(mbi, &offset, &error)) != NULL) {
        if (count == MB32_MAX_MMAP_ENTRIES) {
            guest_printf("mb32: mmap has more than %d entries, stopping\n", count);
            return -1;
        }
        guest_printf("mb32: mmap[%d] base=0x%016llx length=0x%016llx type=%u\n", count,
                     (unsigned long long)e->base, (unsigned long long)e->length, e->type);
        count++;
    }
    if (error) {
        guest_printf("mb32: malformed mmap entry at offset %u\n", offset);
        return -1;
    }
    guest_printf("mb32: mmap entries=%d\n", count);
    return 0;
}

static int print_modules(const struct multiboot_info *mbi)
{
    if (!(mbi->flags & MULTIBOOT_INFO_MODS)) {
        guest_printf("mb32: no module information\n");
        return 0;
    }
    guest_printf("mb32: modules count=%u\n", mbi->mods_count);
    if (mbi->mods_count > MB32_MAX_MODULES) {
        guest_printf("mb32: too many modules, showing %d\n", MB32_MAX_MODULES);
    }
    const struct multiboot_module *mods =
        (const struct multiboot_module *)(uintptr_t)mbi->mods_addr;
    int status = 0;
    for (uint32_t i = 0; i < mbi->mods_count && i < MB32_MAX_MODULES; i++) {
        const struct multiboot_module *m = &mods[i];
        const char *name = m->string ? (const char *)(uintptr_t)m->string : "";
        if (m->end < m->start) {
            guest_printf("mb32: module[%u] name=\"%s\" bad range 0x%x-0x%x\n", i, name, m->start,
                         m->end);
            status = -1;
            continue;
        }
        uint32_t size = m->end - m->start;
        uint32_t crc = crc32(0, (const void *)(uintptr_t)m->start, size);
        guest_printf("mb32: module[%u] name=\"%s\" addr=0x%x size=%u crc32=0x%08x\n", i, name,
                     m->start, size, crc);
    }
    return status;
}

/* paging=pae or paging=32: turn paging on the way a 32-bit kernel does, with an identity map of
 * the first 16 MiB, and prove that memory still reads the same through it. Writing CR0 with NE
 * clear (as many hobby kernels do) makes the hypervisor emulate the write: the paging switch,
 * the PAE PDPTE loads and the TLB flush are then its job. */
static uint64_t pae_pdpt[4] __attribute__((aligned(32)));
static uint64_t pae_pd[512] __attribute__((aligned(4096)));
static uint32_t pd32[1024] __attribute__((aligned(4096)));
static volatile uint32_t paging_probe = 0x600df00d;

static int enable_paging(const char *mode)
{
    uint32_t cr3, cr4;
    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    if (mode[0] == 'p') { /* PAE: 2 MiB pages */
        for (unsigned i = 0; i < 8; i++)
            pae_pd[i] = ((uint64_t)i << 21) | 0x83; /* present, writable, 2 MiB */
        pae_pdpt[0] = (uint32_t)(uintptr_t)pae_pd | 1;
        cr3 = (uint32_t)(uintptr_t)pae_pdpt;
        cr4 |= 1u << 5; /* PAE */
    } else { /* classic 32-bit: 4 MiB pages */
        for (unsigned i = 0; i < 4; i++)
            pd32[i] = (i << 22) | 0x83; /* present, writable, 4 MiB (PSE) */
        cr3 = (uint32_t)(uintptr_t)pd32;
        cr4 |= 1u << 4; /* PSE */
    }
    __asm__ volatile("mov %0, %%cr4" : : "r"(cr4) : "memory");
    __asm__ volatile("mov %0, %%cr3" : : "r"(cr3) : "memory");
    uint32_t cr0 = 0x80000011u; /* PG | ET | PE: NE left clear on purpose */
    __asm__ volatile("mov %0, %%cr0" : : "r"(cr0) : "memory");
    __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
    guest_printf("mb32: paging=%s on, cr0=0x%x, probe=0x%x\n", mode, cr0, paging_probe);
    return (cr0 & 0x80000000u) && paging_probe == 0x600df00d ? 0 : -1;
}

int multiboot_main(uint32_t magic, const struct multiboot_info *mbi)
{
    guest_printf("mb32: hello from a 32-bit Multiboot guest\n");
    if (magic != MULTIBOOT_BOOT_MAGIC || !mbi) {
        guest_printf("mb32: bad boot magic 0x%x (want 0x%x)\n", magic, MULTIBOOT_BOOT_MAGIC);
        return 1;
    }
    guest_printf("mb32: tessera=%s\n", tessera_detect(NULL, NULL) ? "yes" : "no");
    guest_printf("mb32: flags=0x%x\n", mbi->flags);
    if (mbi->flags & MULTIBOOT_INFO_MEMORY)
        guest_printf("mb32: mem_lower=%uK mem_upper=%uK\n", mbi->mem_lower, mbi->mem_upper);
    else
        guest_printf("mb32: no mem_lower/mem_upper\n");
    if (mbi->flags & MULTIBOOT_INFO_LOADER_NAME && mbi->boot_loader_name)
        guest_printf("mb32: loader=\"%s\"\n", (const char *)(uintptr_t)mbi->boot_loader_name);
    guest_printf("mb32: cmdline=\"%s\"\n", guest_cmdline);

    int status = 0;
    if (print_mmap(mbi) < 0)
        status = 1;
    if (print_modules(mbi) < 0)
        status = 1;
    char paging[8];
    if (cmdline_get(guest_cmdline, "paging", paging, sizeof(paging)) >= 0 &&
        enable_paging(paging) < 0)
        status = 1;
    guest_printf("mb32: done status=%d\n", status);
    return status;
}
