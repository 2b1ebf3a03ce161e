/* Physical page allocator over a sorted free-range list. See tessera/pmm.h for the rules. */
#include <tessera/pmm.h>
#include <tessera/errno.h>
#include <tessera/string.h>

#define PAGE_MASK (PMM_PAGE_SIZE - 1)

static uint64_t page_down(uint64_t x)
{
    return x & ~PAGE_MASK;
}

/* Rounds up, saturating at the top of the address space (an end there means "to the top"). */
static uint64_t page_up_saturate(uint64_t x)
{
    if (x > UINT64_MAX - PAGE_MASK)
        return UINT64_MAX;
    return (x + PAGE_MASK) & ~PAGE_MASK;
}

static uint64_t region_end(uint64_t base, uint64_t length)
{
    return length > UINT64_MAX - base ? UINT64_MAX : base + length;
}

static void list_remove(struct pmm_range *list, unsigned *count, unsigned at, unsigned n)
{
    memmove(&list[at], &list[at + n], (*count - at - n) * sizeof(list[0]));
    *count -= n;
}

static int list_insert(struct pmm_range *list, unsigned *count, unsigned at, uint64_t base,
                       uint64_t end)
{
    if (*count >= PMM_MAX_RANGES)
        return -ENOSPC;
    memmove(&list[at + 1], &list[at], (*count - at) * sizeof(list[0]));
    list[at].base = base;
    list[at].end = end;
    (*count)++;
    return 0;
}

/* Union of [base, end) into the list, merging overlapping and adjacent ranges so that the list
 * stays sorted, disjoint and never adjacent. */
static int list_add(struct pmm_range *list, unsigned *count, uint64_t base, uint64_t end)
{
    unsigned first = 0, last;

    if (base >= end)
        return 0;
    while (first < *count && list[first].end < base)
        first++;
    last = first;
    while (last < *count && list[last].base <= end)
        last++;
    if (last == first) /* touches nothing */
        return list_insert(list, count, first, base, end);
    /* ranges first..last-1 overlap or touch [base, end): fold them into one */
    if (list[first].base < base)
        base = list[first].base;
    if (list[last - 1].end > end)
        end = list[last - 1].end;
    list[first].base = base;
    list[first].end = end;
    list_remove(list, count, first + 1, last - first - 1);
    return 0;
}

/* Removes [base, end) from the list; splitting a range needs one free slot. */
static int list_subtract(struct pmm_range *list, unsigned *count, uint64_t base, uint64_t end)
{
    unsigned i = 0;

    if (base >= end)
        return 0;
    while (i < *count) {
        struct pmm_range *r = &list[i];
        if (r->end <= base || r->base >= end) {
            i++;
            continue;
        }
        if (base <= r->base && end >= r->end) {
            list_remove(list, count, i, 1);
            continue;
        }
        if (base > r->base && end < r->end) {
            int err = list_insert(list, count, i + 1, end, r->end);
            if (err)
                return err;
            list[i].end = base;
            return 0;
        }
        if (base > r->base)
            r->end = base;
        else
            r->base = end;
        i++;
    }
    return 0;
}

int pmm_init(struct pmm *p, const struct boot_mem_region *map, unsigned count,
             const struct pmm_range *exclude, unsigned exclude_count)
{
    unsigned i;
    int err;

    if (!p || (count && !map) || (exclude_count && !exclude))
        return -EINVAL;
    p->free_count = 0;
    p->usable_count = 0;
    p->total_bytes = 0;

    for (i = 0; i < exclude_count; i++)
        if (exclude[i].end < exclude[i].base)
            return -EINVAL;

    /* Usable RAM first, shrunk to whole pages... */
    for (i = 0; i < count; i++) {
        uint64_t base, end;
        if (map[i].type != BOOT_MEM_USABLE || map[i].length == 0)
            continue;
        if (map[i].base > UINT64_MAX - PAGE_MASK)
            continue;
        base = page_up_saturate(map[i].base);
        end = page_down(region_end(map[i].base, map[i].length));
        err = list_add(p->free, &p->free_count, base, end);
        if (err)
            return err;
    }
    /* ...then every other type (including unknown ones) punched out, grown to whole pages, so
     * a reserved region overlapping a usable one always wins. */
    for (i = 0; i < count; i++) {
        if (map[i].type == BOOT_MEM_USABLE || map[i].length == 0)
            continue;
        err = list_subtract(p->free, &p->free_count, page_down(map[i].base),
                            page_up_saturate(region_end(map[i].base, map[i].length)));
        if (err)
            return err;
    }
    err = list_subtract(p->free, &p->free_count, 0, PMM_LOW_LIMIT);
    if (err)
        return err;
    for (i = 0; i < exclude_count; i++) {
        err = list_subtract(p->free, &p->free_count, page_down(exclude[i].base),
                            page_up_saturate(exclude[i].end));
        if (err)
            return err;
    }

    memcpy(p->usable, p->free, p->free_count * sizeof(p->free[0]));
    p->usable_count = p->free_count;
    p->total_bytes = pmm_free_bytes(p);
    return 0;
}

static int is_power_of_two(uint64_t x)
{
    return x && !(x & (x - 1));
}

int pmm_alloc(struct pmm *p, uint64_t size, uint64_t align, uint64_t *phys)
{
    unsigned i;

    if (!p || !phys || size == 0 || (size & PAGE_MASK) || align < PMM_PAGE_SIZE ||
        !is_power_of_two(align))
        return -EINVAL;
    for (i = 0; i < p->free_count; i++) {
        const struct pmm_range r = p->free[i];
        uint64_t start;
        if (r.base > UINT64_MAX - (align - 1))
            break; /* no aligned address left above this one either */
        start = (r.base + align - 1) & ~(align - 1);
        if (start >= r.end || r.end - start < size)
            continue;
        /* Carving from the middle needs a slot for the split; if the list is full, a later
         * range may still fit without one. */
        if (list_subtract(p->free, &p->free_count, start, start + size) != 0)
            continue;
        *phys = start;
        return 0;
    }
    return -ENOMEM;
}

int pmm_free(struct pmm *p, uint64_t phys, uint64_t size)
{
    uint64_t end;
    unsigned i;
    int inside = 0;

    if (!p || size == 0 || (phys & PAGE_MASK) || (size & PAGE_MASK) || size > UINT64_MAX - phys)
        return -EINVAL;
    end = phys + size;
    for (i = 0; i < p->usable_count; i++)
        if (p->usable[i].base <= phys && end <= p->usable[i].end)
            inside = 1;
    if (!inside)
        return -EINVAL;
    for (i = 0; i < p->free_count; i++)
        if (p->free[i].base < end && phys < p->free[i].end)
            return -EINVAL; /* already (partly) free: a double free */
    return list_add(p->free, &p->free_count, phys, end);
}

uint64_t pmm_free_bytes(const struct pmm *p)
{
    uint64_t sum = 0;
    unsigned i;

    for (i = 0; i < p->free_count; i++)
        sum += p->free[i].end - p->free[i].base;
    return sum;
}

uint64_t pmm_total_bytes(const struct pmm *p)
{
    return p->total_bytes;
}

uint64_t pmm_largest_free(const struct pmm *p)
{
    uint64_t best = 0;
    unsigned i;

    for (i = 0; i < p->free_count; i++)
        if (p->free[i].end - p->free[i].base > best)
            best = p->free[i].end - p->free[i].base;
    return best;
}
