/* A pure walker of a guest's own page tables (arch/x86/gpt_walk.c): linear -> guest-physical the
 * way the CPU translates (Intel SDM vol. 3A chapter 4: paging off, 32-bit, PAE, 4-level and
 * 5-level), with the access-rights checks it makes (4.6: R/W with CR0.WP, U/S, XD with
 * EFER.NXE, SMEP, SMAP with RFLAGS.AC) and its reserved-bit checks (4.7). Every page-table read
 * goes through guest_mem_range (kernel/mm/guest_mem.c): a table outside the VM's RAM is an error,
 * never a host access. Accessed and dirty bits are not set: the walker is used to re-read what the
 * CPU has just translated itself (the instruction of an exit), whose A bits the CPU already set.
 * Host-tested (tests/unit/test_gpt_walk.c) and fuzzed (tests/fuzz/fuzz_gpt_walk.c). */
#ifndef X86_GPT_WALK_H
#define X86_GPT_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <tessera/vcpu.h>

/* The guest's paging state, as the VMCS/VMCB holds it. */
struct gpt_state {
    uint64_t cr0, cr3, cr4, efer;
    uint64_t pdpte[4];   /* PAE paging without long mode: the PDPTEs the CPU holds (SDM 4.4.1) */
    unsigned cpl;        /* 3: user-mode access */
    bool rflags_ac;      /* RFLAGS.AC: SMAP lets supervisor data accesses to user pages through */
    unsigned maxphyaddr; /* physical-address width; bits from it to 51 are reserved (4.7) */
};

#define GPT_WRITE (1u << 0)
#define GPT_FETCH (1u << 1)

/* Page-fault error code bits (SDM 4.7). */
#define GPT_PF_PRESENT (1u << 0)
#define GPT_PF_WRITE (1u << 1)
#define GPT_PF_USER (1u << 2)
#define GPT_PF_RSVD (1u << 3)
#define GPT_PF_FETCH (1u << 4)

/* Translates linear address la for an access (GPT_WRITE, GPT_FETCH or 0 for a data read).
 * 0: *gpa set. -EPERM: the CPU would raise #PF (*pf_error holds its error code). -EFAULT: a
 * paging structure lies outside the VM's RAM. -EINVAL: a non-canonical address in 4/5-level
 * paging (#GP on the CPU) or an inconsistent state (e.g. CR4.LA57 without long mode). */
int gpt_translate(const struct vcpu_memory *mem, const struct gpt_state *s, uint64_t la,
                  unsigned access, uint64_t *gpa, uint32_t *pf_error);

/* Reads up to len bytes at linear la (page by page through gpt_translate and guest_mem_range)
 * into buf; returns how many bytes it read before the first page that failed (0 to len). */
size_t gpt_read(const struct vcpu_memory *mem, const struct gpt_state *s, uint64_t la,
                unsigned access, void *buf, size_t len);

#endif
