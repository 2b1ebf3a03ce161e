/* The hypervisor's own page tables: an identity map of the first 4 GiB, of every region of the
 * boot memory map (whatever its type, so ACPI tables and MMIO are reachable), the framebuffer and
 * the local APIC. Large pages where alignment allows (1 GiB when the CPU has them); MMIO uncached,
 * the framebuffer write-combining when the PAT exists. Tables come from the page allocator, so
 * nothing depends on the firmware's or GRUB's tables once CR3 is loaded. */
#include <tessera/arch.h>
#include <tessera/errno.h>
#include <tessera/mm.h>
#include <x86/cpu.h>
#include <x86/lapic.h>
#include <x86/paging.h>

#define FOUR_GIB 0x100000000ULL
#define MAX_TABLE_PAGES 8192 /* 32 MiB of tables: more means a nonsense memory map */
/* PAT entries: 0 WB, 1 WC, 2 UC-, 3 UC, repeated for 4..7 (SDM Vol. 3A 12.12.2). */
#define PAT_VALUE 0x0007010600070106ULL

static struct pmm *paging_pmm;
static uint64_t pml4_phys;
static unsigned table_pages;
static uint64_t phys_limit; /* 1 << MAXPHYADDR */
static int use_1g_pages;
static int pat_programmed;

static uint64_t cache_bits(enum x86_cache c)
{
    switch (c) {
    case X86_CACHE_WB:
        return 0;
    case X86_CACHE_WC:
        return pat_programmed ? PTE_PWT : PTE_PCD | PTE_PWT; /* no PAT: uncached instead */
    case X86_CACHE_UC:
    default:
        return PTE_PCD | PTE_PWT; /* PAT entry 3: UC whatever the MTRRs say */
    }
}

static int table_alloc(uint64_t *phys)
{
    if (table_pages >= MAX_TABLE_PAGES)
        return -ENOMEM;
    int rc = pmm_alloc(paging_pmm, PAGE_SIZE, PAGE_SIZE, phys);
    if (rc)
        return rc;
    /* Tables are built before our CR3 is live: only the boot map (the first 4 GiB) reaches them */
    if (*phys >= FOUR_GIB)
        return -ENOMEM;
    phys_zero(*phys, PAGE_SIZE);
    table_pages++;
    return 0;
}

static unsigned level_shift(int level)
{
    return 12 + 9 * (unsigned)(level - 1);
}

/* Replaces a large page by a table of next-level entries with the same attributes. */
static int split_large(uint64_t *entry, int level)
{
    uint64_t phys;
    int rc = table_alloc(&phys);
    if (rc)
        return rc;
    uint64_t e = *entry;
    uint64_t attrs = e & (PTE_WRITE | PTE_PWT | PTE_PCD | PTE_PRESENT);
    uint64_t pat = e & PTE_PAT_LARGE;
    uint64_t base = e & PTE_ADDR_MASK & ~((1ULL << level_shift(level)) - 1);
    uint64_t child_size = 1ULL << level_shift(level - 1);
    uint64_t *child = (uint64_t *)(uintptr_t)phys;
    for (unsigned i = 0; i < 512; i++) {
        if (level - 1 == 1)
            child[i] = (base + i * child_size) | attrs | (pat ? PTE_PAT_4K : 0);
        else
            child[i] = (base + i * child_size) | attrs | PTE_LARGE | pat;
    }
    *entry = phys | PTE_PRESENT | PTE_WRITE;
    return 0;
}

static int map_level(uint64_t table_phys, int level, uint64_t addr, uint64_t end, uint64_t cache)
{
    uint64_t *table = (uint64_t *)(uintptr_t)table_phys;
    uint64_t size = 1ULL << level_shift(level);
    while (addr < end) {
        uint64_t *e = &table[(addr >> level_shift(level)) & 511];
        uint64_t entry_start = addr & ~(size - 1);
        uint64_t chunk_end = entry_start + size < end ? entry_start + size : end;
        int whole = addr == entry_start && chunk_end == entry_start + size;
        int is_table = (*e & PTE_PRESENT) && !(*e & PTE_LARGE);
        if (level == 1) {
            *e = addr | PTE_PRESENT | PTE_WRITE | cache;
        } else if (whole && !is_table && (level == 2 || (level == 3 && use_1g_pages))) {
            *e = addr | PTE_PRESENT | PTE_WRITE | PTE_LARGE | cache;
        } else {
            int rc = 0;
            if (!(*e & PTE_PRESENT)) {
                uint64_t phys;
                rc = table_alloc(&phys);
                if (rc == 0)
                    *e = phys | PTE_PRESENT | PTE_WRITE;
            } else if (*e & PTE_LARGE) {
                rc = split_large(e, level);
            }
            if (rc == 0)
                rc = map_level(*e & PTE_ADDR_MASK, level - 1, addr, chunk_end, cache);
            if (rc)
                return rc;
        }
        addr = chunk_end;
    }
    return 0;
}

static int map_range(uint64_t base, uint64_t size, enum x86_cache cache)
{
    if (size == 0)
        return 0;
    uint64_t end = base + size;
    if (end < base)
        end = phys_limit;
    base &= ~(PAGE_SIZE - 1);
    end = (end + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    if (end > phys_limit)
        end = phys_limit;
    if (base >= end)
        return 0;
    return map_level(pml4_phys, 4, base, end, cache_bits(cache));
}

/* Every CPU must use the same PAT (SDM Vol. 3A 12.12.4): APs call this once started. */
void x86_pat_init_this_cpu(void)
{
    if (pat_programmed)
        wrmsr(MSR_IA32_PAT, PAT_VALUE);
}

int arch_paging_init(const struct boot_info *bi, struct pmm *pmm)
{
    if (!bi || !pmm)
        return -EINVAL;
    paging_pmm = pmm;
    phys_limit = 1ULL << cpu_maxphyaddr();
    use_1g_pages = cpuid_max_ext_leaf() >= 0x80000001u &&
                   (cpuid(0x80000001u, 0).edx & (1u << 26)) != 0;

    uint64_t root;
    pml4_phys = 0;
    int rc = table_alloc(&root);
    if (rc)
        return rc;
    pml4_phys = root;

    rc = map_range(0, FOUR_GIB, X86_CACHE_WB);
    for (unsigned i = 0; rc == 0 && i < bi->mem_region_count && i < BOOT_MAX_MEM_REGIONS; i++)
        rc = map_range(bi->mem[i].base, bi->mem[i].length, X86_CACHE_WB);
    /* Uncached overrides last: they split the large pages mapped above. */
    for (unsigned i = 0; rc == 0 && i < bi->mem_region_count && i < BOOT_MAX_MEM_REGIONS; i++)
        if (bi->mem[i].type == BOOT_MEM_MMIO)
            rc = map_range(bi->mem[i].base, bi->mem[i].length, X86_CACHE_UC);

    int have_pat = (cpuid(1, 0).edx & (1u << 16)) != 0;
    if (rc == 0 && have_pat) {
        /* Only PAT entry 0 (WB) is in use by the boot tables, so rewriting 1 is safe here. */
        wrmsr(MSR_IA32_PAT, PAT_VALUE);
        pat_programmed = 1;
    }
    const struct boot_framebuffer *fb = &bi->fb;
    if (rc == 0 && fb->type == BOOT_FB_RGB && fb->addr)
        rc = map_range(fb->addr, (uint64_t)fb->pitch * fb->height, X86_CACHE_WC);
    uint64_t lapic = lapic_msr_base();
    if (rc == 0 && lapic)
        rc = map_range(lapic, PAGE_SIZE, X86_CACHE_UC);
    if (rc)
        return rc;

    uint64_t cr3 = pml4_phys;
    if (read_cr4() & CR4_LA57) {
        /* 5-level paging (left on by the firmware; it cannot be switched off in long mode):
         * the same tables under one PML5 entry (SDM Vol. 3A 4.5). */
        uint64_t pml5;
        rc = table_alloc(&pml5);
        if (rc)
            return rc;
        *(uint64_t *)(uintptr_t)pml5 = pml4_phys | PTE_PRESENT | PTE_WRITE;
        cr3 = pml5;
    }
    write_cr3(cr3);
    return 0;
}

