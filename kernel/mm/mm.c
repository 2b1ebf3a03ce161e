/* Kernel-wide wrappers around the physical allocator. */
#include <tessera/errno.h>
#include <tessera/mm.h>
#include <tessera/printf.h>
#include <tessera/spinlock.h>

struct pmm kernel_pmm;
static struct spinlock pmm_lock; /* every CPU allocates (VMX structures, restarts) */

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
    int err = phys_alloc(size, align, phys);
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
    spin_lock(&pmm_lock);
    int err = pmm_free(&kernel_pmm, phys, size);
    spin_unlock(&pmm_lock);
    if (err) /* a double free or a foreign range: a hypervisor bug, worth a line */
        kprintf("tessera: internal error: freeing 0x%llx+0x%llx failed (%d)\n",
                (unsigned long long)phys, (unsigned long long)size, err);
}

int phys_alloc(uint64_t size, uint64_t align, uint64_t *phys)
{
    size = (size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    spin_lock(&pmm_lock);
    int err = pmm_alloc(&kernel_pmm, size, align, phys);
    spin_unlock(&pmm_lock);
    return err;
}
