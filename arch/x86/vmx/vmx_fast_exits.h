/* The hottest VMX exits, inline: vmx_exit_dispatch (vmx_run.c) takes them before its table (a
 * call less on every CPUID, hypercall, HLT and slice end; port I/O has its own copy there, which
 * calls nothing), and the table (vmx_exits.c) points at the same code. */
#ifndef ARCH_X86_VMX_VMX_FAST_EXITS_H
#define ARCH_X86_VMX_VMX_FAST_EXITS_H

#include <x86/guest_cpuid.h>
#include <x86/vcpu_policy.h>

#include "vmx_vcpu.h"

/* Gives the guest the answer r to its CPUID and steps past it. */
static inline void vmx_cpuid_answer(struct vcpu *v, struct vmx_vcpu *x, const struct x86_cpuid *r)
{
    v->stats[VCPU_STAT_CPUID]++;
    x->regs.rax = r->eax;
    x->regs.rbx = r->ebx;
    x->regs.rcx = r->ecx;
    x->regs.rdx = r->edx;
    vmx_skip_exit_instruction();
}

static inline bool vmx_handle_cpuid(struct vcpu *v, struct vmx_vcpu *x, struct vcpu_exit *exit)
{
    (void)exit;
    vmx_cpuid_answer(v, x, x86_guest_cpuid(&x->cpuid, (uint32_t)x->regs.rax, (uint32_t)x->regs.rcx));
    return true;
}

static inline bool vmx_handle_io(struct vcpu *v, struct vmx_vcpu *x, struct vcpu_exit *exit)
{
    v->stats[VCPU_STAT_IO]++;
    uint64_t q = vmx_read_qualification(x); /* for vmx_vcpu_complete_io too */
    if (q & (1u << 4)) {
        x86_exit_fault(exit, "string I/O (INS/OUTS) on port 0x%llx is not supported",
                       (unsigned long long)(q >> 16));
        return false;
    }
    exit->kind = VCPU_EXIT_IO;
    exit->io.port = (uint16_t)(q >> 16);
    exit->io.size = (uint8_t)((q & 7) + 1);
    exit->io.write = !(q & (1u << 3));
    exit->io.value = (uint32_t)x->regs.rax;
    return false;
}

static inline bool vmx_handle_vmcall(struct vcpu *v, struct vmx_vcpu *x, struct vcpu_exit *exit)
{
    x->exit_instruction_len = vmcs_read32(VMCS_EXIT_INSTRUCTION_LEN); /* for the return */
    v->stats[VCPU_STAT_HYPERCALL]++;
    exit->kind = VCPU_EXIT_HYPERCALL;
    return false;
}

/* HLT with TF set does not halt: the single-step trap right after it is a debug exception,
 * which resumes a halted CPU at once (SDM vol. 2 HLT; SDM Vol. 3C 27.3.1.5 treats TF at a VM
 * entry into the HLT state as a pending BS): the guest goes on into its #DB handler. True when
 * so (the HLT stepped past, the trap raised). vmx_exit_dispatch asks before vmx_handle_hlt. */
bool vmx_single_step_hlt(struct vmx_vcpu *x);

static inline bool vmx_handle_hlt(struct vcpu *v, struct vmx_vcpu *x, struct vcpu_exit *exit)
{
    x->exit_instruction_len = vmcs_read32(VMCS_EXIT_INSTRUCTION_LEN); /* vcpu_skip_instruction */
    v->stats[VCPU_STAT_HLT]++;
    exit->kind = VCPU_EXIT_HLT;
    return false;
}

static inline bool vmx_handle_preemption_timer(struct vcpu *v, struct vmx_vcpu *x, struct vcpu_exit *exit)
{
    (void)x;
    v->stats[VCPU_STAT_PREEMPT]++;
    exit->kind = VCPU_EXIT_PREEMPTED;
    return false;
}

#endif
