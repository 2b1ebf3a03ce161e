/* The hypervisor's own identity-mapped 4-level page tables (arch/x86/paging.c). */
#ifndef X86_PAGING_H
#define X86_PAGING_H

#include <stdint.h>

#define PTE_PRESENT (1ULL << 0)
#define PTE_WRITE (1ULL << 1)
#define PTE_PWT (1ULL << 3)
#define PTE_PCD (1ULL << 4)
#define PTE_LARGE (1ULL << 7)      /* PS in a PDPTE or PDE */
#define PTE_PAT_4K (1ULL << 7)     /* PAT bit in a 4 KiB PTE */
#define PTE_PAT_LARGE (1ULL << 12) /* PAT bit in a 2 MiB / 1 GiB entry */
#define PTE_ADDR_MASK 0x000ffffffffff000ULL

/* Memory types we map with. The PAT is programmed so that PWT alone selects write-combining:
 * entries 0..3 = WB, WC, UC-, UC (and the same for 4..7). */
enum x86_cache {
    X86_CACHE_WB,
    X86_CACHE_WC,
    X86_CACHE_UC,
};


/* Loads the hypervisor's PAT on this CPU (application processors). */
void x86_pat_init_this_cpu(void);

#endif
