/* Kernel-wide wrappers around the physical allocator. */
#include <tessera/errno.h>
#include <tessera/mm.h>

struct pmm kernel_pmm;

void phys_zero(uint64_t phys, uint64_t size)
{
    void *p = phys_to_virt(phys);
    uint64_t quads = size / 8;
    __asm__ volatile("rep stosq" : "+D"(p), "+c"(quads) : "a"(0ull) : "memory");
    for (uint64_t i = size & ~7ull; i < size; i++)
        ((volatile uint8_t *)phys_to_virt(phys))[i] = 0;
}

int phys_alloc_zeroed(uint64_t size, uint64_t align, uint64_t *phys)
{
    size = (size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    int err = pmm_alloc(&kernel_pmm, size, align, phys);
    if (err)
        return err;
    phys_zero(*phys, size);
    return 0;
}

int page_alloc_zeroed(uint64_t *phys)
{
    return phys_alloc_zeroed(PAGE_SIZE, PAGE_SIZE, phys);
}

void phys_free(uint64_t phys, uint64_t size)
{
    size = (size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    pmm_free(&kernel_pmm, phys, size);
}
