/* Physical page allocator: a sorted list of free [base, end) ranges built from the boot memory map.
 * Pure (no globals): all state lives in struct pmm, so the host unit tests can build many.
 *
 * Rules pmm_init enforces, so nothing it hands out can be firmware, ACPI, MMIO, loader or image
 * memory:
 *   - only BOOT_MEM_USABLE is ever free; where regions overlap, any other type wins;
 *   - usable ranges are trimmed inward to whole pages, non-usable ones widened outward;
 *   - nothing below PMM_LOW_LIMIT (1 MiB: real-mode IVT, BDA, EBDA, VGA, option ROMs);
 *   - the caller's exclude list (hypervisor image, modules, boot info) is subtracted.
 * Allocation is first fit from the lowest address. */
#ifndef TESSERA_PMM_H
#define TESSERA_PMM_H

#include <stdint.h>
#include <tessera/boot_info.h>

#define PMM_PAGE_SIZE 0x1000ULL
#define PMM_LOW_LIMIT 0x100000ULL
#define PMM_MAX_RANGES 512

struct pmm_range {
    uint64_t base, end; /* [base, end), page-aligned in the allocator's lists */
};

/* Read-only for callers (e.g. to print the free list); change it only through the functions. */
struct pmm {
    unsigned free_count;
    unsigned usable_count;
    uint64_t total_bytes;
    struct pmm_range free[PMM_MAX_RANGES];   /* sorted, disjoint, never adjacent */
    struct pmm_range usable[PMM_MAX_RANGES]; /* the free list right after init: pmm_free checks it */
};

/* Builds the allocator. -EINVAL: NULL pointers with a non-zero count, or an exclude with
 * end < base. -ENOSPC: the map is so fragmented that more than PMM_MAX_RANGES ranges result. */
int pmm_init(struct pmm *p, const struct boot_mem_region *map, unsigned count,
             const struct pmm_range *exclude, unsigned exclude_count);

/* Contiguous allocation. size: non-zero multiple of PMM_PAGE_SIZE; align: power of two
 * >= PMM_PAGE_SIZE. -EINVAL on bad arguments, -ENOMEM when no free range fits. The memory is
 * not zeroed. */
int pmm_alloc(struct pmm *p, uint64_t size, uint64_t align, uint64_t *phys);

/* Returns [phys, phys + size) to the free list, merging with neighbours. -EINVAL: unaligned,
 * empty, wrapping, overlapping free memory (double free) or not usable memory from the boot map.
 * -ENOSPC: the free list is full (the range stays allocated; nothing is corrupted). */
int pmm_free(struct pmm *p, uint64_t phys, uint64_t size);

uint64_t pmm_free_bytes(const struct pmm *p);
uint64_t pmm_total_bytes(const struct pmm *p); /* free bytes right after pmm_init */
uint64_t pmm_largest_free(const struct pmm *p); /* longest free range, bytes */

#endif
