/* Vendor-neutral guest policy (x86/vcpu_policy.h): pure functions, no hardware access. */
#include <x86/vcpu_policy.h>

#include <tessera/hypercall_abi.h>

#define CPUID1_ECX_MONITOR (1u << 3)
#define CPUID1_ECX_VMX (1u << 5)
#define CPUID1_ECX_SMX (1u << 6)
#define CPUID1_ECX_FMA (1u << 12)
#define CPUID1_ECX_X2APIC (1u << 21)
#define CPUID1_ECX_TSC_DEADLINE (1u << 24)
#define CPUID1_ECX_XSAVE (1u << 26)
#define CPUID1_ECX_OSXSAVE (1u << 27)
#define CPUID1_ECX_AVX (1u << 28)
#define CPUID1_ECX_F16C (1u << 29)
#define CPUID1_ECX_HYPERVISOR (1u << 31)
#define CPUID1_EDX_MCE (1u << 7)
#define CPUID1_EDX_APIC (1u << 9)
#define CPUID1_EDX_MCA (1u << 14)
/* AVX2 and AVX-512 (leaf 7): they need XCR0 state we do not give guests. */
#define CPUID7_EBX_AVX_FAMILY ((1u << 5) | (1u << 16) | (1u << 17) | (1u << 21) | (1u << 26) |   \
                               (1u << 27) | (1u << 28) | (1u << 30) | (1u << 31))
/* Leaf 7 EDX features whose MSRs guests may not touch (they raise #GP): IBRS/IBPB (SPEC_CTRL,
 * PRED_CMD), STIBP, L1D_FLUSH, ARCH_CAPABILITIES, SSBD. */
#define CPUID7_EDX_HIDDEN_MSRS ((1u << 26) | (1u << 27) | (1u << 28) | (1u << 29) | (1u << 31))
#define CPUID7_ECX_AVX_FAMILY ((1u << 1) | (1u << 6) | (1u << 11) | (1u << 12) | (1u << 14))
#define CPUID7_ECX_PKU ((1u << 3) | (1u << 4)) /* PKU, OSPKE: PKRU is not switched */
/* Features whose CR4 bit a guest may not set (X86_CR4_GUEST_ALLOWED): CET shadow stacks (ECX 7),
 * Key Locker (ECX 23), PKS (ECX 31); UINTR (EDX 5), CET IBT (EDX 20); leaf 7.1 EAX: LASS (6),
 * FRED (17), LAM (26). */
#define CPUID7_ECX_NO_CR4_BIT ((1u << 7) | (1u << 23) | (1u << 31))
#define CPUID7_EDX_NO_CR4_BIT ((1u << 5) | (1u << 20))
#define CPUID7_1_EAX_NO_CR4_BIT ((1u << 6) | (1u << 17) | (1u << 26))
/* 0x80000001 ECX: SVM (bit 2, no nested virtualization), MONITORX (bit 29, not intercepted
 * separately: MWAITX would sleep the host CPU). */
#define CPUIDX1_ECX_SVM (1u << 2)
#define CPUIDX1_ECX_MONITORX (1u << 29)

bool x86_cpuid_is_hypervisor_leaf(uint32_t leaf)
{
    return leaf >= TESSERA_CPUID_BASE && leaf <= 0x400000ffu;
}

void x86_cpuid_hypervisor_leaves(uint32_t leaf, struct x86_cpuid *r)
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
void x86_cpuid_leaf1(struct x86_cpuid *r)
{
    r->ecx &= ~(CPUID1_ECX_MONITOR | CPUID1_ECX_VMX | CPUID1_ECX_SMX | CPUID1_ECX_FMA |
                CPUID1_ECX_X2APIC | CPUID1_ECX_TSC_DEADLINE | CPUID1_ECX_XSAVE |
                CPUID1_ECX_OSXSAVE | CPUID1_ECX_AVX | CPUID1_ECX_F16C);
    r->ecx |= CPUID1_ECX_HYPERVISOR;
    r->edx &= ~(CPUID1_EDX_APIC | CPUID1_EDX_MCE | CPUID1_EDX_MCA);
}

void x86_cpuid_leaf7(uint32_t sub, struct x86_cpuid *r)
{
    if (sub == 0) {
        r->ebx &= ~CPUID7_EBX_AVX_FAMILY;
        r->ecx &= ~(CPUID7_ECX_AVX_FAMILY | CPUID7_ECX_PKU | CPUID7_ECX_NO_CR4_BIT);
        r->edx &= ~(CPUID7_EDX_HIDDEN_MSRS | CPUID7_EDX_NO_CR4_BIT);
    } else if (sub == 1) {
        r->eax &= ~CPUID7_1_EAX_NO_CR4_BIT;
    }
}

void x86_cpuid_ext_leaf1(struct x86_cpuid *r)
{
    r->ecx &= ~(CPUIDX1_ECX_SVM | CPUIDX1_ECX_MONITORX);
}

void x86_cpuid_filter(uint32_t leaf, uint32_t sub, struct x86_cpuid *r)
{
    if (x86_cpuid_is_hypervisor_leaf(leaf)) {
        x86_cpuid_hypervisor_leaves(leaf, r);
        return;
    }
    switch (leaf) {
    case 1:
        x86_cpuid_leaf1(r);
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

#define MTRR_DEF_TYPE_ENABLED_WB 0x806ull /* E = 1, default type write-back */
/* fast strings on; BTS and PEBS unavailable (no performance monitoring for guests) */
#define MISC_ENABLE_GUEST 0x1801ull
#define VM_CR_SVMDIS (1ull << 4)
#define VM_CR_LOCK (1ull << 3)

bool x86_msr_read(uint32_t msr, uint64_t now, uint64_t *value)
{
    switch (msr) {
    case X86_MSR_TSC:
        *value = now;
        return true;
    case X86_MSR_FEATURE_CONTROL:
        *value = 1; /* locked, VMX off: matches CPUID */
        return true;
    case X86_MSR_MISC_ENABLE:
        *value = MISC_ENABLE_GUEST;
        return true;
    case X86_MSR_MTRRCAP:
        *value = 0; /* no variable or fixed ranges, no WC: nothing for the guest to set */
        return true;
    case X86_MSR_MTRR_DEF_TYPE:
        *value = MTRR_DEF_TYPE_ENABLED_WB;
        return true;
    case X86_MSR_MICROCODE_REV:
        *value = 0;
        return true;
    case X86_MSR_VM_CR:
        *value = VM_CR_LOCK | VM_CR_SVMDIS; /* SVM off and locked: matches CPUID */
        return true;
    default:
        return false;
    }
}

bool x86_msr_write(uint32_t msr, uint64_t value)
{
    (void)value;
    switch (msr) {
    case X86_MSR_MTRR_DEF_TYPE: /* memory types are the host's (the second level says WB) */
        return true;
    default:
        return false;
    }
}

bool x86_exception_has_error_code(unsigned vector)
{
    return vector == X86_VECTOR_DF || (vector >= X86_VECTOR_TS && vector <= X86_VECTOR_PF) ||
           vector == X86_VECTOR_AC;
}

bool x86_exception_is_contributory(unsigned vector)
{
    return vector == X86_VECTOR_DE || (vector >= X86_VECTOR_TS && vector <= X86_VECTOR_GP);
}

enum x86_fold x86_exception_fold(unsigned first, unsigned second)
{
    if (first == X86_VECTOR_DF)
        return X86_FOLD_TRIPLE_FAULT;
    bool first_serious = x86_exception_is_contributory(first) || first == X86_VECTOR_PF;
    bool second_folds = x86_exception_is_contributory(second) ||
                        (first == X86_VECTOR_PF && second == X86_VECTOR_PF);
    return first_serious && second_folds ? X86_FOLD_DOUBLE_FAULT : X86_FOLD_DELIVER;
}

void x86_storm_reset(struct x86_storm *s)
{
    s->rip = 0;
    s->vector = ~0u;
    s->count = 0;
}

bool x86_storm_note(struct x86_storm *s, unsigned vector, uint64_t rip)
{
    if (vector == X86_VECTOR_DB)
        return false; /* a #DB delivery loop exits every time: the slice deadline ends it */
    if (vector == s->vector && rip == s->rip) {
        if (s->count < X86_EXCEPTION_STORM_LIMIT)
            s->count++;
        return s->count >= X86_EXCEPTION_STORM_LIMIT;
    }
    s->vector = vector;
    s->rip = rip;
    s->count = 1;
    return false;
}

uint64_t x86_io_merge(uint64_t rax, unsigned size, uint32_t value)
{
    if (size == 1)
        return (rax & ~0xffull) | (value & 0xff);
    if (size == 2)
        return (rax & ~0xffffull) | (value & 0xffff);
    return value;
}

bool x86_is_hypercall_instruction(const uint8_t b[3])
{
    return b[0] == 0x0f && b[1] == 0x01 && (b[2] == 0xc1 || b[2] == 0xd9);
}
