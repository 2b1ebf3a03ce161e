/* The transient-execution mitigations in force (decided once at boot by arch/x86/spec.c from
 * spec_policy.h) and the mechanisms the VMX entry/exit path runs. */
#ifndef X86_SPEC_H
#define X86_SPEC_H

#include <stdint.h>
#include <x86/cpu.h>
#include <x86/spec_policy.h>

/* Bits of spec_entry_flags. arch/x86/vmx/vmx_entry.asm tests the first five by value: keep
 * them in step. */
#define SPEC_FLAG_VERW (1u << 0)     /* VERW right before VMLAUNCH/VMRESUME */
#define SPEC_FLAG_RSB_FULL (1u << 1) /* 32-entry RSB fill after every VM exit */
#define SPEC_FLAG_RSB_LITE (1u << 2) /* the PBRSB CALL/LFENCE after every VM exit */
#define SPEC_FLAG_L1D_MSR (1u << 3)  /* IA32_FLUSH_CMD before VM entry */
#define SPEC_FLAG_L1D_SW (1u << 4)   /* software L1D flush before VM entry */
#define SPEC_FLAG_IBPB (1u << 5)     /* IA32_PRED_CMD when a CPU changes VM */

/* Written once before any guest runs, read on every entry and exit. */
extern uint32_t spec_entry_flags;

void spec_l1d_flush(uint32_t flags);
extern uint64_t spec_ibpb_count;
static inline void spec_ibpb(void)
{
    wrmsr(MSR_IA32_PRED_CMD, PRED_CMD_IBPB);
    __atomic_fetch_add(&spec_ibpb_count, 1, __ATOMIC_RELAXED);
}
/* This CPU's host IA32_SPEC_CTRL (every CPU that runs guests, before its first entry). */
void spec_cpu_enable(void);

#endif
