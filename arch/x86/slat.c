/* Second-level table builder: the 4-level tables of SDM 29.3.2 (EPT) or APM 15.25 (NPT).
 * EPT leaves are write-back with "ignore PAT" clear; NPT leaves have PAT/PCD/PWT clear (PAT entry
 * 0, write-back, combined with the guest's type, APM 15.25.8). Non-leaf entries grant everything
 * so only the leaf decides access; NPT needs U/S=1 at every level, since nested walks are user
 * accesses (APM 15.25.5). */
#include <x86/slat.h>

#include <tessera/errno.h>
#include <tessera/string.h>

#define SLAT_ENTRIES 512
#define SLAT_PAGE_SIZE 4096ull
#define SLAT_LEVELS 4 /* level 3 = PML4, 2 = PDPT, 1 = PD, 0 = PT */

static unsigned level_shift(int level)
{
    return 12u + 9u * (unsigned)level;
}

static unsigned entry_index(uint64_t gpa, int level)
{
    return (unsigned)((gpa >> level_shift(level)) & (SLAT_ENTRIES - 1));
}

/* SDM 29.3.2: an entry with bits 2:0 clear is not present. */
static bool entry_present(const struct slat *e, uint64_t entry)
{
    if (e->format == SLAT_FORMAT_NPT)
        return (entry & NPT_ENTRY_PRESENT) != 0;
    return (entry & EPT_ENTRY_RWX) != 0;
}

static uint64_t table_entry(const struct slat *e, uint64_t phys)
{
    if (e->format == SLAT_FORMAT_NPT)
        return phys | NPT_ENTRY_PRESENT | NPT_ENTRY_WRITE | NPT_ENTRY_USER;
    return phys | EPT_ENTRY_RWX;
}

static uint64_t leaf_entry(const struct slat *e, uint64_t hpa, uint32_t perms, int level)
{
    uint64_t large = level > 0 ? SLAT_ENTRY_LARGE : 0;
    if (e->format == SLAT_FORMAT_NPT)
        return (hpa & SLAT_ENTRY_ADDR_MASK) | NPT_ENTRY_PRESENT | NPT_ENTRY_USER | large |
               ((perms & SLAT_WRITE) ? NPT_ENTRY_WRITE : 0) |
               ((perms & SLAT_EXEC) ? 0 : NPT_ENTRY_NX);
    return (hpa & SLAT_ENTRY_ADDR_MASK) | perms | EPT_ENTRY_MEMTYPE_WB | large;
}

static uint32_t entry_perms(const struct slat *e, uint64_t entry)
{
    if (e->format == SLAT_FORMAT_NPT)
        return SLAT_READ | ((entry & NPT_ENTRY_WRITE) ? SLAT_WRITE : 0) |
               ((entry & NPT_ENTRY_NX) ? 0 : SLAT_EXEC);
    return (uint32_t)(entry & EPT_ENTRY_RWX);
}

static bool entry_is_leaf(uint64_t entry, int level)
{
    return level == 0 || (entry & SLAT_ENTRY_LARGE) != 0;
}

static uint64_t *table_at(const struct slat *e, uint64_t phys)
{
    return e->p2v(e->ctx, phys);
}

static int alloc_table(struct slat *e, uint64_t *phys)
{
    uint64_t page = 0;
    int rc = e->alloc(e->ctx, &page);
    if (rc < 0)
        return rc;
    if (page == 0 || (page & (SLAT_PAGE_SIZE - 1)) != 0 || page >= SLAT_HPA_LIMIT)
        return -EINVAL;
    uint64_t *table = table_at(e, page);
    if (!table)
        return -EFAULT;
    /* The callback promises a zeroed page; a stale entry would map arbitrary memory: make sure. */
    memset(table, 0, SLAT_PAGE_SIZE);
    e->table_pages++;
    *phys = page;
    return 0;
}

int slat_init(struct slat *e, enum slat_format format, slat_alloc_page_fn alloc,
              slat_phys_to_virt_fn p2v, void *ctx)
{
    if (!e || !alloc || !p2v || (format != SLAT_FORMAT_EPT && format != SLAT_FORMAT_NPT))
        return -EINVAL;
    e->format = format;
    e->pml4_phys = 0;
    e->alloc = alloc;
    e->p2v = p2v;
    e->ctx = ctx;
    e->table_pages = 0;
    e->allow_1g = false;
    return alloc_table(e, &e->pml4_phys);
}

/* Whether one leaf at this level can map gpa->hpa with size bytes left. */
static bool leaf_fits(const struct slat *e, int level, uint64_t gpa, uint64_t hpa, uint64_t size)
{
    if (level == 0)
        return true;
    if (level == 2 && !e->allow_1g)
        return false;
    if (level > 2)
        return false;
    uint64_t span = 1ull << level_shift(level);
    return ((gpa | hpa) & (span - 1)) == 0 && size >= span;
}

/* 0 if no page of [gpa, end) is mapped, -EEXIST if one is. */
static int check_range_free(const struct slat *e, uint64_t gpa, uint64_t end)
{
    while (gpa < end) {
        uint64_t *table = table_at(e, e->pml4_phys);
        for (int level = SLAT_LEVELS - 1;; level--) {
            if (!table)
                return -EFAULT;
            uint64_t entry = table[entry_index(gpa, level)];
            if (!entry_present(e, entry)) {
                /* Nothing below this entry: skip the whole span it covers. */
                uint64_t span = 1ull << level_shift(level);
                gpa = (gpa & ~(span - 1)) + span;
                break;
            }
            if (entry_is_leaf(entry, level))
                return -EEXIST;
            table = table_at(e, entry & SLAT_ENTRY_ADDR_MASK);
        }
    }
    return 0;
}

/* Clears the leaves of [gpa, end), which slat_map has just written itself (rollback). */
static void clear_range(const struct slat *e, uint64_t gpa, uint64_t end)
{
    while (gpa < end) {
        uint64_t *table = table_at(e, e->pml4_phys);
        for (int level = SLAT_LEVELS - 1;; level--) {
            uint64_t span = 1ull << level_shift(level);
            uint64_t next = (gpa & ~(span - 1)) + span;
            if (!table)
                return;
            uint64_t *entry = &table[entry_index(gpa, level)];
            if (!entry_present(e, *entry)) {
                gpa = next;
                break;
            }
            if (entry_is_leaf(*entry, level)) {
                *entry = 0;
                gpa = next;
                break;
            }
            table = table_at(e, *entry & SLAT_ENTRY_ADDR_MASK);
        }
    }
}

/* Writes one leaf at gpa (the largest that fits), allocating tables on the way. */
static int map_one(struct slat *e, uint64_t gpa, uint64_t hpa, uint64_t size, uint32_t perms,
                   uint64_t *mapped)
{
    uint64_t *table = table_at(e, e->pml4_phys);
    for (int level = SLAT_LEVELS - 1;; level--) {
        if (!table)
            return -EFAULT;
        uint64_t *entry = &table[entry_index(gpa, level)];
        if (!entry_present(e, *entry)) {
            if (leaf_fits(e, level, gpa, hpa, size)) {
                *entry = leaf_entry(e, hpa, perms, level);
                *mapped = 1ull << level_shift(level);
                return 0;
            }
            uint64_t phys;
            int rc = alloc_table(e, &phys);
            if (rc < 0)
                return rc;
            *entry = table_entry(e, phys);
        } else if (entry_is_leaf(*entry, level)) {
            return -EEXIST; /* check_range_free ran first: only a broken table gets here */
        }
        /* An existing table is reused even where a large leaf would fit (it may be empty after a
         * rollback): replacing it would lose it for slat_for_each_table. */
        table = table_at(e, *entry & SLAT_ENTRY_ADDR_MASK);
    }
}

int slat_map(struct slat *e, uint64_t gpa, uint64_t hpa, uint64_t size, uint32_t perms)
{
    if (!e || size == 0)
        return -EINVAL;
    if (((gpa | hpa | size) & (SLAT_PAGE_SIZE - 1)) != 0)
        return -EINVAL;
    if (perms == 0 || (perms & ~(SLAT_READ | SLAT_WRITE | SLAT_EXEC)) != 0)
        return -EINVAL;
    if ((perms & SLAT_WRITE) && !(perms & SLAT_READ))
        return -EINVAL; /* write-only: an EPT misconfiguration (SDM 29.3.3.1), and NPT has no such page */
    if (gpa >= SLAT_GPA_LIMIT || size > SLAT_GPA_LIMIT - gpa)
        return -EINVAL;
    if (hpa >= SLAT_HPA_LIMIT || size > SLAT_HPA_LIMIT - hpa)
        return -EINVAL;

    uint64_t end = gpa + size;
    int rc = check_range_free(e, gpa, end);
    if (rc < 0)
        return rc;

    uint64_t done = 0;
    while (done < size) {
        uint64_t mapped = 0;
        rc = map_one(e, gpa + done, hpa + done, size - done, perms, &mapped);
        if (rc < 0) {
            clear_range(e, gpa, gpa + done);
            return rc;
        }
        done += mapped;
    }
    return 0;
}

int slat_translate(const struct slat *e, uint64_t gpa, uint64_t *hpa, uint32_t *perms)
{
    if (!e || gpa >= SLAT_GPA_LIMIT)
        return -EINVAL;
    uint64_t *table = table_at(e, e->pml4_phys);
    for (int level = SLAT_LEVELS - 1;; level--) {
        if (!table)
            return -EFAULT;
        uint64_t entry = table[entry_index(gpa, level)];
        if (!entry_present(e, entry))
            return -ENOENT;
        if (entry_is_leaf(entry, level)) {
            uint64_t span = 1ull << level_shift(level);
            if (hpa)
                *hpa = ((entry & SLAT_ENTRY_ADDR_MASK) & ~(span - 1)) | (gpa & (span - 1));
            if (perms)
                *perms = entry_perms(e, entry);
            return 0;
        }
        table = table_at(e, entry & SLAT_ENTRY_ADDR_MASK);
    }
}

uint64_t slat_npt_cr3(const struct slat *e)
{
    return e->pml4_phys & SLAT_ENTRY_ADDR_MASK;
}

uint64_t slat_ept_pointer(const struct slat *e)
{
    /* SDM 25.6.11: bits 2:0 memory type (6 = WB), bits 5:3 walk length minus one, bit 6 A/D. */
    return (e->pml4_phys & SLAT_ENTRY_ADDR_MASK) | (3ull << 3) | 6ull;
}

static void visit_table(const struct slat *e, uint64_t phys, int level,
                        void (*fn)(void *ctx, uint64_t phys), void *ctx)
{
    const uint64_t *table = table_at(e, phys);
    if (table && level > 0) {
        for (unsigned i = 0; i < SLAT_ENTRIES; i++) {
            uint64_t entry = table[i];
            if (entry_present(e, entry) && !entry_is_leaf(entry, level))
                visit_table(e, entry & SLAT_ENTRY_ADDR_MASK, level - 1, fn, ctx);
        }
    }
    fn(ctx, phys);
}

void slat_for_each_table(const struct slat *e, void (*fn)(void *ctx, uint64_t phys), void *ctx)
{
    if (!e || !fn || e->pml4_phys == 0)
        return;
    visit_table(e, e->pml4_phys, SLAT_LEVELS - 1, fn, ctx);
}
