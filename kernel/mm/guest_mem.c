/* Guest-physical range -> host pointer (tessera/guest_mem.h). Pure: no global state, so the same
 * code runs in the host unit test and the fuzz harness. */
#include <tessera/guest_mem.h>
#include <tessera/mm.h>

void *guest_mem_range(const struct vcpu_memory *mem, uint64_t gpa, uint64_t len)
{
    /* host_base 0 would make guest-physical 0 a NULL pointer: no VM's RAM starts there */
    if (!mem || mem->host_base == 0 || len == 0)
        return NULL;
    /* gpa + len <= size, written so that nothing wraps: gpa < size, then len <= size - gpa */
    if (gpa >= mem->size || len > mem->size - gpa)
        return NULL;
    /* host_base + size - 1 must not wrap (size > 0 here, since gpa < size) */
    if (mem->size - 1 > UINT64_MAX - mem->host_base)
        return NULL;
    return phys_to_virt(mem->host_base + gpa);
}
