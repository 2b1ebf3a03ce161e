/* Second-level address translation: the guest-physical to host-physical map of one VM, in either
 * vendor's format: Intel extended page tables (SDM Vol. 3C 29.3) or AMD nested page tables (APM
 * vol. 2 15.25; ordinary long-mode page tables walked with the guest-physical address). 4-level
 * tables, write-back memory, 2 MiB leaves where alignment allows (1 GiB when allow_1g is set),
 * 4 KiB otherwise. The builder only writes memory: table pages come from a callback, so the same
 * code runs in the hypervisor and in host unit tests. */
#ifndef TESSERA_X86_SLAT_H
#define TESSERA_X86_SLAT_H

#include <stdbool.h>
#include <stdint.h>

/* Returns 0 and the physical address of a zeroed, 4 KiB-aligned page, or a negative errno. */
typedef int (*slat_alloc_page_fn)(void *ctx, uint64_t *phys);
/* Where the builder can write the page at phys (NULL: not accessible). */
typedef void *(*slat_phys_to_virt_fn)(void *ctx, uint64_t phys);

enum slat_format {
    SLAT_FORMAT_EPT, /* read/write/execute bits 2:0, memory type in the leaf */
    SLAT_FORMAT_NPT, /* P, R/W, U/S (required at every level, APM 15.25.5), NX in bit 63 */
};

struct slat {
    enum slat_format format;
    uint64_t pml4_phys;
    slat_alloc_page_fn alloc;
    slat_phys_to_virt_fn p2v;
    void *ctx;
    unsigned table_pages; /* tables allocated so far, the PML4 included */
    bool allow_1g;        /* set only if the CPU reports 1 GiB pages for this format */
};

#define SLAT_READ 1u
#define SLAT_WRITE 2u
#define SLAT_EXEC 4u

#define SLAT_GPA_LIMIT (1ull << 48) /* a 4-level walk covers 48 bits of guest-physical space */
#define SLAT_HPA_LIMIT (1ull << 52) /* architectural maximum MAXPHYADDR */

/* EPT entry bits (SDM 29.3.2, tables 29-1..29-6). */
#define EPT_ENTRY_RWX 7ull
#define EPT_ENTRY_MEMTYPE_SHIFT 3
#define EPT_ENTRY_MEMTYPE_WB (6ull << EPT_ENTRY_MEMTYPE_SHIFT)
#define SLAT_ENTRY_LARGE (1ull << 7) /* both formats */
/* NPT entry bits (APM vol. 2 5.3.3, 5.4.1). */
#define NPT_ENTRY_PRESENT (1ull << 0)
#define NPT_ENTRY_WRITE (1ull << 1)
#define NPT_ENTRY_USER (1ull << 2)
#define NPT_ENTRY_NX (1ull << 63)
#define SLAT_ENTRY_ADDR_MASK 0x000ffffffffff000ull

/* Allocates the PML4. allow_1g starts false. */
int slat_init(struct slat *e, enum slat_format format, slat_alloc_page_fn alloc,
              slat_phys_to_virt_fn p2v, void *ctx);

/* Maps [gpa, gpa+size) to [hpa, hpa+size) with perms (a non-empty mix of SLAT_READ/WRITE/EXEC;
 * write without read is refused in both formats, SDM 29.3.3.1). All three 4 KiB-aligned, size > 0.
 * -EINVAL: bad arguments, beyond 48 (gpa) or 52 (hpa) bits, or wrap-around.
 * -EEXIST: some page of the range is already mapped (nothing is changed).
 * -ENOMEM / -EFAULT / callback errors: no new mapping is left behind (empty tables may remain;
 * slat_for_each_table still finds them). */
int slat_map(struct slat *e, uint64_t gpa, uint64_t hpa, uint64_t size, uint32_t perms);

/* Host-physical address and SLAT_* perms of gpa. -ENOENT if unmapped, -EINVAL beyond 48 bits,
 * -EFAULT if a table is not accessible. hpa and perms may be NULL. */
int slat_translate(const struct slat *e, uint64_t gpa, uint64_t *hpa, uint32_t *perms);

/* EPTP for the VMCS (SDM 25.6.11): WB paging-structure memory, page-walk length 4, A/D off. */
uint64_t slat_ept_pointer(const struct slat *e);
/* N_CR3 for the VMCB (APM 15.25.4): the PML4's address, PWT/PCD clear (write-back walks). */
uint64_t slat_npt_cr3(const struct slat *e);

/* Calls fn once per table page, children before parents, the PML4 last: fn may free the page. */
void slat_for_each_table(const struct slat *e, void (*fn)(void *ctx, uint64_t phys), void *ctx);

#endif
