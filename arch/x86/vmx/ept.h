/* Extended page tables (Intel SDM Vol. 3C, ch. 29.3): the guest-physical to host-physical map of
 * one VM. 4-level tables, write-back memory, 2 MiB leaves where alignment allows (1 GiB when
 * allow_1g is set), 4 KiB otherwise. The builder only writes memory: table pages come from a
 * callback, so the same code runs in the hypervisor and in host unit tests. */
#ifndef TESSERA_X86_EPT_H
#define TESSERA_X86_EPT_H

#include <stdbool.h>
#include <stdint.h>

/* Returns 0 and the physical address of a zeroed, 4 KiB-aligned page, or a negative errno. */
typedef int (*ept_alloc_page_fn)(void *ctx, uint64_t *phys);
/* Where the builder can write the page at phys (NULL: not accessible). */
typedef void *(*ept_phys_to_virt_fn)(void *ctx, uint64_t phys);

struct ept {
    uint64_t pml4_phys;
    ept_alloc_page_fn alloc;
    ept_phys_to_virt_fn p2v;
    void *ctx;
    unsigned table_pages; /* tables allocated so far, the PML4 included */
    bool allow_1g;        /* set only if IA32_VMX_EPT_VPID_CAP bit 17 reports 1 GiB pages */
};

#define EPT_READ 1u
#define EPT_WRITE 2u
#define EPT_EXEC 4u

#define EPT_GPA_LIMIT (1ull << 48) /* a 4-level walk covers 48 bits of guest-physical space */
#define EPT_HPA_LIMIT (1ull << 52) /* architectural maximum MAXPHYADDR */

/* Entry bits (SDM 29.3.2, tables 29-1..29-6). */
#define EPT_ENTRY_RWX 7ull
#define EPT_ENTRY_MEMTYPE_SHIFT 3
#define EPT_ENTRY_MEMTYPE_WB (6ull << EPT_ENTRY_MEMTYPE_SHIFT)
#define EPT_ENTRY_LARGE (1ull << 7)
#define EPT_ENTRY_ADDR_MASK 0x000ffffffffff000ull

/* Allocates the PML4. allow_1g starts false. */
int ept_init(struct ept *e, ept_alloc_page_fn alloc, ept_phys_to_virt_fn p2v, void *ctx);

/* Maps [gpa, gpa+size) to [hpa, hpa+size) with perms (a non-empty mix of EPT_READ/WRITE/EXEC;
 * write without read is refused, SDM 29.3.3.1). All three 4 KiB-aligned, size > 0.
 * -EINVAL: bad arguments, beyond 48 (gpa) or 52 (hpa) bits, or wrap-around.
 * -EEXIST: some page of the range is already mapped (nothing is changed).
 * -ENOMEM / -EFAULT / callback errors: no new mapping is left behind (empty tables may remain;
 * ept_for_each_table still finds them). */
int ept_map(struct ept *e, uint64_t gpa, uint64_t hpa, uint64_t size, uint32_t perms);

/* Host-physical address and EPT_* perms of gpa. -ENOENT if unmapped, -EINVAL beyond 48 bits,
 * -EFAULT if a table is not accessible. hpa and perms may be NULL. */
int ept_translate(const struct ept *e, uint64_t gpa, uint64_t *hpa, uint32_t *perms);

/* EPTP for the VMCS (SDM 25.6.11): WB paging-structure memory, page-walk length 4, A/D off. */
uint64_t ept_pointer(const struct ept *e);

/* Calls fn once per table page, children before parents, the PML4 last: fn may free the page. */
void ept_for_each_table(const struct ept *e, void (*fn)(void *ctx, uint64_t phys), void *ctx);

#endif
