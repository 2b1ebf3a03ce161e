/* EPT builder: writes the 4-level tables of SDM 29.3.2. Leaves are write-back with "ignore PAT"
 * clear; non-leaf entries grant RWX so only the leaf decides access. */
#include "ept.h"

#include <tessera/errno.h>
#include <tessera/string.h>

#define EPT_ENTRIES 512
#define EPT_PAGE_SIZE 4096ull
#define EPT_LEVELS 4 /* level 3 = PML4, 2 = PDPT, 1 = PD, 0 = PT */

static unsigned level_shift(int level)
{
    return 12u + 9u * (unsigned)level;
}

static unsigned entry_index(uint64_t gpa, int level)
{
    return (unsigned)((gpa >> level_shift(level)) & (EPT_ENTRIES - 1));
}

/* SDM 29.3.2: an entry with bits 2:0 clear is not present. */
static bool entry_present(uint64_t entry)
{
    return (entry & EPT_ENTRY_RWX) != 0;
}

static bool entry_is_leaf(uint64_t entry, int level)
{
    return level == 0 || (entry & EPT_ENTRY_LARGE) != 0;
}

static uint64_t *table_at(const struct ept *e, uint64_t phys)
{
    return e->p2v(e->ctx, phys);
}

static int alloc_table(struct ept *e, uint64_t *phys)
{
    uint64_t page = 0;
    int rc = e->alloc(e->ctx, &page);
    if (rc < 0)
        return rc;
    if (page == 0 || (page & (EPT_PAGE_SIZE - 1)) != 0 || page >= EPT_HPA_LIMIT)
        return -EINVAL;
    uint64_t *table = table_at(e, page);
    if (!table)
        return -EFAULT;
    /* The callback promises a zeroed page; a stale entry would map arbitrary memory: make sure. */
    memset(table, 0, EPT_PAGE_SIZE);
    e->table_pages++;
    *phys = page;
    return 0;
}

int ept_init(struct ept *e, ept_alloc_page_fn alloc, ept_phys_to_virt_fn p2v, void *ctx)
{
    if (!e || !alloc || !p2v)
        return -EINVAL;
    e->pml4_phys = 0;
    e->alloc = alloc;
    e->p2v = p2v;
    e->ctx = ctx;
    e->table_pages = 0;
    e->allow_1g = false;
    return alloc_table(e, &e->pml4_phys);
}

/* Whether one leaf at this level can map gpa->hpa with size bytes left. */
static bool leaf_fits(const struct ept *e, int level, uint64_t gpa, uint64_t hpa, uint64_t size)
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
static int check_range_free(const struct ept *e, uint64_t gpa, uint64_t end)
{
    while (gpa < end) {
        uint64_t *table = table_at(e, e->pml4_phys);
        for (int level = EPT_LEVELS - 1;; level--) {
            if (!table)
                return -EFAULT;
            uint64_t entry = table[entry_index(gpa, level)];
            if (!entry_present(entry)) {
                /* Nothing below this entry: skip the whole span it covers. */
                uint64_t span = 1ull << level_shift(level);
                gpa = (gpa & ~(span - 1)) + span;
                break;
            }
            if (entry_is_leaf(entry, level))
                return -EEXIST;
            table = table_at(e, entry & EPT_ENTRY_ADDR_MASK);
        }
    }
    return 0;
}

/* Clears the leaves of [gpa, end), which ept_map has just written itself (rollback). */
static void clear_range(const struct ept *e, uint64_t gpa, uint64_t end)
{
    while (gpa < end) {
        uint64_t *table = table_at(e, e->pml4_phys);
        for (int level = EPT_LEVELS - 1;; level--) {
            uint64_t span = 1ull << level_shift(level);
            uint64_t next = (gpa & ~(span - 1)) + span;
            if (!table)
                return;
            uint64_t *entry = &table[entry_index(gpa, level)];
            if (!entry_present(*entry)) {
                gpa = next;
                break;
            }
            if (entry_is_leaf(*entry, level)) {
                *entry = 0;
                gpa = next;
                break;
            }
            table = table_at(e, *entry & EPT_ENTRY_ADDR_MASK);
        }
    }
}

/* Writes one leaf at gpa (the largest that fits), allocating tables on the way. */
static int map_one(struct ept *e, uint64_t gpa, uint64_t hpa, uint64_t size, uint32_t perms,
                   uint64_t *mapped)
{
    uint64_t *table = table_at(e, e->pml4_phys);
    for (int level = EPT_LEVELS - 1;; level--) {
        if (!table)
            return -EFAULT;
        uint64_t *entry = &table[entry_index(gpa, level)];
        if (!entry_present(*entry)) {
            if (leaf_fits(e, level, gpa, hpa, size)) {
                *entry = (hpa & EPT_ENTRY_ADDR_MASK) | perms | EPT_ENTRY_MEMTYPE_WB |
                         (level > 0 ? EPT_ENTRY_LARGE : 0);
                *mapped = 1ull << level_shift(level);
                return 0;
            }
            uint64_t phys;
            int rc = alloc_table(e, &phys);
            if (rc < 0)
                return rc;
            *entry = phys | EPT_ENTRY_RWX;
        } else if (entry_is_leaf(*entry, level)) {
            return -EEXIST; /* check_range_free ran first: only a broken table gets here */
        }
        /* An existing table is reused even where a large leaf would fit (it may be empty after a
         * rollback): replacing it would lose it for ept_for_each_table. */
        table = table_at(e, *entry & EPT_ENTRY_ADDR_MASK);
    }
}

int ept_map(struct ept *e, uint64_t gpa, uint64_t hpa, uint64_t size, uint32_t perms)
{
    if (!e || size == 0)
        return -EINVAL;
    if (((gpa | hpa | size) & (EPT_PAGE_SIZE - 1)) != 0)
        return -EINVAL;
    if (perms == 0 || (perms & ~(EPT_READ | EPT_WRITE | EPT_EXEC)) != 0)
        return -EINVAL;
    if ((perms & EPT_WRITE) && !(perms & EPT_READ))
        return -EINVAL; /* write-only is an EPT misconfiguration (SDM 29.3.3.1) */
    if (gpa >= EPT_GPA_LIMIT || size > EPT_GPA_LIMIT - gpa)
        return -EINVAL;
    if (hpa >= EPT_HPA_LIMIT || size > EPT_HPA_LIMIT - hpa)
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

int ept_translate(const struct ept *e, uint64_t gpa, uint64_t *hpa, uint32_t *perms)
{
    if (!e || gpa >= EPT_GPA_LIMIT)
        return -EINVAL;
    uint64_t *table = table_at(e, e->pml4_phys);
    for (int level = EPT_LEVELS - 1;; level--) {
        if (!table)
            return -EFAULT;
        uint64_t entry = table[entry_index(gpa, level)];
        if (!entry_present(entry))
            return -ENOENT;
        if (entry_is_leaf(entry, level)) {
            uint64_t span = 1ull << level_shift(level);
            if (hpa)
                *hpa = ((entry & EPT_ENTRY_ADDR_MASK) & ~(span - 1)) | (gpa & (span - 1));
            if (perms)
                *perms = (uint32_t)(entry & EPT_ENTRY_RWX);
            return 0;
        }
        table = table_at(e, entry & EPT_ENTRY_ADDR_MASK);
    }
}

uint64_t ept_pointer(const struct ept *e)
{
    /* SDM 25.6.11: bits 2:0 memory type (6 = WB), bits 5:3 walk length minus one, bit 6 A/D. */
    return (e->pml4_phys & EPT_ENTRY_ADDR_MASK) | (3ull << 3) | 6ull;
}

static void visit_table(const struct ept *e, uint64_t phys, int level,
                        void (*fn)(void *ctx, uint64_t phys), void *ctx)
{
    const uint64_t *table = table_at(e, phys);
    if (table && level > 0) {
        for (unsigned i = 0; i < EPT_ENTRIES; i++) {
            uint64_t entry = table[i];
            if (entry_present(entry) && !entry_is_leaf(entry, level))
                visit_table(e, entry & EPT_ENTRY_ADDR_MASK, level - 1, fn, ctx);
        }
    }
    fn(ctx, phys);
}

void ept_for_each_table(const struct ept *e, void (*fn)(void *ctx, uint64_t phys), void *ctx)
{
    if (!e || !fn || e->pml4_phys == 0)
        return;
    visit_table(e, e->pml4_phys, EPT_LEVELS - 1, fn, ctx);
}
