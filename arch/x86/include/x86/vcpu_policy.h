/* What a VM exit means on x86, whichever vendor's extension reported it: the CPUID and MSR views a
 * guest gets, exception folding (double and triple faults) and storm detection, and the merge of
 * an IN result into RAX. Pure functions (arch/x86/vcpu_policy.c): the VMX and SVM backends call
 * them with the values they read from their VMCS/VMCB, host unit tests call them directly. */
#ifndef X86_VCPU_POLICY_H
#define X86_VCPU_POLICY_H

#include <stdbool.h>
#include <stdint.h>
#include <tessera/hypercall_abi.h>

#define X86_VECTOR_DE 0
#define X86_VECTOR_DB 1
#define X86_VECTOR_NMI 2
#define X86_VECTOR_BP 3
#define X86_VECTOR_UD 6
#define X86_VECTOR_DF 8
#define X86_VECTOR_TS 10
#define X86_VECTOR_NP 11
#define X86_VECTOR_SS 12
#define X86_VECTOR_GP 13
#define X86_VECTOR_PF 14
#define X86_VECTOR_AC 17

/* Guest exceptions both backends intercept (to catch storms and double faults); all are
 * re-injected. #DB and #AC must be among them: a guest can otherwise make the CPU deliver them to
 * itself forever without reaching an instruction boundary (CVE-2015-5307, CVE-2015-8104). #UD is
 * where the other vendor's hypercall instruction lands. */
#define X86_WATCHED_EXCEPTIONS                                                                     \
    ((1u << X86_VECTOR_DE) | (1u << X86_VECTOR_DB) | (1u << X86_VECTOR_UD) |                       \
     (1u << X86_VECTOR_DF) | (1u << X86_VECTOR_TS) | (1u << X86_VECTOR_NP) |                       \
     (1u << X86_VECTOR_SS) | (1u << X86_VECTOR_GP) | (1u << X86_VECTOR_AC))
#define X86_EXCEPTION_STORM_LIMIT 1000 /* identical guest exceptions in a row */

/* CR4 bits a guest may own: an allow-list of what both backends can give it safely. Everything
 * else a CPU without the feature refuses with #GP (SDM 2.5), and CPUID hides it: VMXE/SVME (no
 * nested virtualization), SMXE, OSXSAVE (XCR0 stays the host's x87|SSE), PKE and PKS (PKRU and
 * IA32_PKRS are not switched), CET, and anything newer (UINTR, LAM, LASS, FRED, ...). */
#define X86_CR4_GUEST_ALLOWED                                                                      \
    ((1ull << 0) | (1ull << 1) | (1ull << 2) | (1ull << 3) | (1ull << 4) | (1ull << 5) |          \
     (1ull << 6) | (1ull << 7) | (1ull << 8) | (1ull << 9) | (1ull << 10) | (1ull << 11) |        \
     (1ull << 12) | (1ull << 16) | (1ull << 17) | (1ull << 20) | (1ull << 21))

struct x86_cpuid {
    uint32_t eax, ebx, ecx, edx;
};

/* What the guest sees for CPUID leaf/sub, given in r the CPU's own answer (ignored for the
 * hypervisor leaves). Each leaf has its own named function, so additions slot in. Inline: this
 * runs on every CPUID exit. */
#define X86_HIDE_CPUID1_ECX_MONITOR (1u << 3)
#define X86_HIDE_CPUID1_ECX_VMX (1u << 5)
#define X86_HIDE_CPUID1_ECX_SMX (1u << 6)
#define X86_HIDE_CPUID1_ECX_FMA (1u << 12)
#define X86_HIDE_CPUID1_ECX_X2APIC (1u << 21)
#define X86_HIDE_CPUID1_ECX_TSC_DEADLINE (1u << 24)
#define X86_HIDE_CPUID1_ECX_XSAVE (1u << 26)
#define X86_HIDE_CPUID1_ECX_OSXSAVE (1u << 27)
#define X86_HIDE_CPUID1_ECX_AVX (1u << 28)
#define X86_HIDE_CPUID1_ECX_F16C (1u << 29)
#define X86_HIDE_CPUID1_ECX_HYPERVISOR (1u << 31)
#define X86_HIDE_CPUID1_EDX_MCE (1u << 7)
#define X86_HIDE_CPUID1_EDX_APIC (1u << 9)
#define X86_HIDE_CPUID1_EDX_MCA (1u << 14)
/* AVX2 and AVX-512 (leaf 7): they need XCR0 state we do not give guests. */
#define X86_HIDE_CPUID7_EBX_AVX_FAMILY ((1u << 5) | (1u << 16) | (1u << 17) | (1u << 21) | (1u << 26) |   \
                               (1u << 27) | (1u << 28) | (1u << 30) | (1u << 31))
/* Leaf 7 EDX features whose MSRs guests may not touch (they raise #GP): IBRS/IBPB (SPEC_CTRL,
 * PRED_CMD), STIBP, L1D_FLUSH, ARCH_CAPABILITIES, SSBD. */
#define X86_HIDE_CPUID7_EDX_HIDDEN_MSRS ((1u << 26) | (1u << 27) | (1u << 28) | (1u << 29) | (1u << 31))
/* TSC_ADJUST (EBX 1): its MSR (0x3b) raises #GP, so a guest that saw the bit would take the #GP
 * as a broken CPU (Linux reads it from idle about once a second and warns). */
#define X86_HIDE_CPUID7_EBX_TSC_ADJUST (1u << 1)
#define X86_HIDE_CPUID7_ECX_AVX_FAMILY ((1u << 1) | (1u << 6) | (1u << 11) | (1u << 12) | (1u << 14))
#define X86_HIDE_CPUID7_ECX_PKU ((1u << 3) | (1u << 4)) /* PKU, OSPKE: PKRU is not switched */
/* Features whose CR4 bit a guest may not set (X86_CR4_GUEST_ALLOWED): CET shadow stacks (ECX 7),
 * Key Locker (ECX 23), PKS (ECX 31); UINTR (EDX 5), CET IBT (EDX 20); leaf 7.1 EAX: LASS (6),
 * FRED (17), LAM (26). */
#define X86_HIDE_CPUID7_ECX_NO_CR4_BIT ((1u << 7) | (1u << 23) | (1u << 31))
#define X86_HIDE_CPUID7_EDX_NO_CR4_BIT ((1u << 5) | (1u << 20))
#define X86_HIDE_CPUID7_1_EAX_NO_CR4_BIT ((1u << 6) | (1u << 17) | (1u << 26))
/* 0x80000001 ECX: SVM (bit 2, no nested virtualization), MONITORX (bit 29, not intercepted
 * separately: MWAITX would sleep the host CPU). */
#define X86_HIDE_CPUIDX1_ECX_SVM (1u << 2)
#define X86_HIDE_CPUIDX1_ECX_MONITORX (1u << 29)

static inline bool x86_cpuid_is_hypervisor_leaf(uint32_t leaf)
{
    return leaf >= TESSERA_CPUID_BASE && leaf <= 0x400000ffu;
}

static inline void x86_cpuid_hypervisor_leaves(uint32_t leaf, struct x86_cpuid *r)
{
    r->eax = r->ebx = r->ecx = r->edx = 0;
    if (leaf == TESSERA_CPUID_BASE) {
        r->eax = TESSERA_CPUID_MAX;
        r->ebx = TESSERA_CPUID_SIG_EBX;
        r->ecx = TESSERA_CPUID_SIG_ECX;
        r->edx = TESSERA_CPUID_SIG_EDX;
    } else if (leaf == TESSERA_CPUID_BASE + 1) {
        r->eax = TESSERA_ABI_VERSION;
    }
}

/* What a guest does not get: VMX, SMX, MONITOR/MWAIT (intercepted), XSAVE and the AVX family
 * (XSETBV is not emulated, so XCR0 stays x87-only), a local APIC (none is virtualised yet: its
 * page is not mapped), and machine-check architecture (the MCG/MCi MSRs raise #GP: a guest that
 * saw MCA would take that as a broken CPU, as Linux does). */
static inline void x86_cpuid_leaf1(struct x86_cpuid *r)
{
    r->ecx &= ~(X86_HIDE_CPUID1_ECX_MONITOR | X86_HIDE_CPUID1_ECX_VMX | X86_HIDE_CPUID1_ECX_SMX | X86_HIDE_CPUID1_ECX_FMA |
                X86_HIDE_CPUID1_ECX_X2APIC | X86_HIDE_CPUID1_ECX_TSC_DEADLINE | X86_HIDE_CPUID1_ECX_XSAVE |
                X86_HIDE_CPUID1_ECX_OSXSAVE | X86_HIDE_CPUID1_ECX_AVX | X86_HIDE_CPUID1_ECX_F16C);
    r->ecx |= X86_HIDE_CPUID1_ECX_HYPERVISOR;
    r->edx &= ~(X86_HIDE_CPUID1_EDX_APIC | X86_HIDE_CPUID1_EDX_MCE | X86_HIDE_CPUID1_EDX_MCA);
}

static inline void x86_cpuid_leaf7(uint32_t sub, struct x86_cpuid *r)
{
    if (sub == 0) {
        r->ebx &= ~(X86_HIDE_CPUID7_EBX_AVX_FAMILY | X86_HIDE_CPUID7_EBX_TSC_ADJUST);
        r->ecx &= ~(X86_HIDE_CPUID7_ECX_AVX_FAMILY | X86_HIDE_CPUID7_ECX_PKU | X86_HIDE_CPUID7_ECX_NO_CR4_BIT);
        r->edx &= ~(X86_HIDE_CPUID7_EDX_HIDDEN_MSRS | X86_HIDE_CPUID7_EDX_NO_CR4_BIT);
    } else if (sub == 1) {
        r->eax &= ~X86_HIDE_CPUID7_1_EAX_NO_CR4_BIT;
    }
}

static inline void x86_cpuid_ext_leaf1(struct x86_cpuid *r)
{
    r->ecx &= ~(X86_HIDE_CPUIDX1_ECX_SVM | X86_HIDE_CPUIDX1_ECX_MONITORX);
}

#define X86_CPUID6_EAX_ARAT (1u << 2)

/* A hardware leaf (not x86_cpuid_is_hypervisor_leaf): the CPU's answer in r, filtered. */
static inline void x86_cpuid_filter_cpu(uint32_t leaf, uint32_t sub, struct x86_cpuid *r)
{
    switch (leaf) {
    case 1:
        x86_cpuid_leaf1(r);
        break;
    case 6:
        /* Thermal and power management: only ARAT (EAX 2). Every other bit names MSRs a guest
         * gets #GP for (thermal status and interrupt, HWP, ENERGY_PERF_BIAS, and APERF/MPERF in
         * ECX 0, which Linux 6.x reads on every timer tick: two MSR exits and two #GPs a tick). */
        r->eax &= X86_CPUID6_EAX_ARAT;
        r->ebx = r->ecx = r->edx = 0;
        break;
    case 7:
        x86_cpuid_leaf7(sub, r);
        break;
    case 0xa: /* no architectural performance monitoring (RDPMC and its MSRs are refused) */
    case 0xd: /* no XSAVE state components */
    case 0x8000000au: /* no SVM features (SVM itself is hidden) */
        r->eax = r->ebx = r->ecx = r->edx = 0;
        break;
    case 0x80000001u:
        x86_cpuid_ext_leaf1(r);
        break;
    default:
        break;
    }
}

static inline void x86_cpuid_filter(uint32_t leaf, uint32_t sub, struct x86_cpuid *r)
{
    if (x86_cpuid_is_hypervisor_leaf(leaf))
        x86_cpuid_hypervisor_leaves(leaf, r);
    else
        x86_cpuid_filter_cpu(leaf, sub, r);
}

/* MSRs a backend does not pass through. Nothing is read from the host on a guest's behalf: a guest
 * must never make the host touch an MSR that may not exist. now is the guest's TSC. Returns true
 * and the value, or false for #GP. */
bool x86_msr_read(uint32_t msr, uint64_t now, uint64_t *value);
/* true: accepted (and ignored), false: #GP. */
bool x86_msr_write(uint32_t msr, uint64_t value);

#define X86_MSR_TSC 0x10
#define X86_MSR_FEATURE_CONTROL 0x3a
#define X86_MSR_MICROCODE_REV 0x8b
#define X86_MSR_MTRRCAP 0xfe
#define X86_MSR_MISC_ENABLE 0x1a0
#define X86_MSR_MTRR_DEF_TYPE 0x2ff
#define X86_MSR_VM_CR 0xc0010114
#define X86_MSR_VM_HSAVE_PA 0xc0010117

/* Exceptions (SDM Vol. 3A 6.3.1, table 6-5; APM vol. 2 8.2.9). */
bool x86_exception_has_error_code(unsigned vector);
bool x86_exception_is_contributory(unsigned vector);
enum x86_fold {
    X86_FOLD_DELIVER,      /* deliver the second exception as it is */
    X86_FOLD_DOUBLE_FAULT, /* deliver #DF (error code 0) instead */
    X86_FOLD_TRIPLE_FAULT, /* the guest shuts down */
};
/* A second exception raised while the first (a hardware exception) was being delivered. */
enum x86_fold x86_exception_fold(unsigned first, unsigned second);

/* Storm detection: the same exception at the same instruction, over and over, with no other in
 * between. Guests that probe with #GP or #UD fault at many places. #DB is not counted:
 * single-stepping a loop repeats #DB at one RIP legitimately. */
struct x86_storm {
    uint64_t rip;
    uint32_t vector;
    uint32_t count;
};
void x86_storm_reset(struct x86_storm *s);
/* Notes one exception; true when it is the X86_EXCEPTION_STORM_LIMIT-th in a row. */
bool x86_storm_note(struct x86_storm *s, unsigned vector, uint64_t rip);

/* Single-step over an instruction the hypervisor carried out for the guest (emulated, then
 * stepped past: CPUID, hypercalls, port I/O, MSRs, MMIO, HLT). With RFLAGS.TF set when the
 * instruction began, the CPU would raise a #DB trap right after it, DR6.BS set (SDM Vol. 3B
 * 17.3.1.4, table 17-2; APM vol. 2 13.1, single-step): the backend has to do it. None of these
 * instructions changes TF, so the exit's RFLAGS is the one at the start. No trap when:
 *  - DEBUGCTL.BTF is set: TF then steps over branches only (SDM 17.4.3), and none is a branch;
 *  - the instruction did not complete: the fault it raised (#GP for an MSR, ...) is delivered
 *    instead, and a fault is not a trap (SDM 17.3.1.4: "after" the instruction);
 *  - an event is already pending injection: it is delivered first, from the state before the
 *    instruction (an exit that cut an event's delivery: nothing was executed). */
#define X86_RFLAGS_TF (1ull << 8)
#define X86_DEBUGCTL_BTF (1ull << 1)
#define X86_DR6_BS (1ull << 14)
bool x86_single_step_trap(uint64_t rflags, uint64_t debugctl, bool completed, bool event_pending);
/* DR6 as the single-step #DB leaves it: BS set, the rest kept (B0-B3 "may" be cleared, nothing
 * else is ever cleared by the CPU: SDM 17.2.3). */
static inline uint64_t x86_dr6_single_step(uint64_t dr6) { return dr6 | X86_DR6_BS; }

/* RAX after IN of size bytes returned value: only the accessed part changes; a 32-bit result
 * zero-extends (the rule for 32-bit register writes in 64-bit mode). */
static inline uint64_t x86_io_merge(uint64_t rax, unsigned size, uint32_t value)
{
    if (size == 1)
        return (rax & ~0xffull) | (value & 0xff);
    if (size == 2)
        return (rax & ~0xffffull) | (value & 0xffff);
    return value;
}

/* The hypercall instructions: VMCALL (0F 01 C1) and VMMCALL (0F 01 D9). A guest built for the
 * other vendor executes the one that raises #UD here; the backend reads 3 bytes at RIP and asks. */
bool x86_is_hypercall_instruction(const uint8_t bytes[3]);

#endif
