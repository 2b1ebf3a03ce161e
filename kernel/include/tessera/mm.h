/* The hypervisor's memory: one physical allocator (struct pmm) over everything the memory map
 * calls usable, minus our image, the loaded files and the boot info. All memory is identity
 * mapped, so a physical address is also a pointer. */
#ifndef TESSERA_MM_H
#define TESSERA_MM_H

#include <stdint.h>
#include <tessera/pmm.h>

#define PAGE_SIZE 4096ull

extern struct pmm kernel_pmm;

static inline void *phys_to_virt(uint64_t phys) { return (void *)(uintptr_t)phys; }
static inline uint64_t virt_to_phys(const void *p) { return (uint64_t)(uintptr_t)p; }

/* Clears memory with `rep stosq`: byte loops cost millions of emulated instructions. */
void phys_zero(uint64_t phys, uint64_t size);
/* Contiguous, aligned, zeroed; -ENOMEM when no free range is large enough. */
int phys_alloc_zeroed(uint64_t size, uint64_t align, uint64_t *phys);
int page_alloc_zeroed(uint64_t *phys);
/* Contiguous and aligned, not cleared (the caller clears it itself). */
int phys_alloc(uint64_t size, uint64_t align, uint64_t *phys);
void phys_free(uint64_t phys, uint64_t size);

#endif
