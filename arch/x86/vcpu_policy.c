/* Vendor-neutral guest policy (x86/vcpu_policy.h): pure functions, no hardware access. */
#include <x86/vcpu_policy.h>

#include <tessera/hypercall_abi.h>


#define MTRR_DEF_TYPE_ENABLED_WB 0x806ull /* E = 1, default type write-back */
/* fast strings on; BTS and PEBS unavailable (no performance monitoring for guests) */
#define MISC_ENABLE_GUEST 0x1801ull
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

bool x86_single_step_trap(uint64_t rflags, uint64_t debugctl, bool completed, bool event_pending)
{
    return (rflags & X86_RFLAGS_TF) && !(debugctl & X86_DEBUGCTL_BTF) && completed &&
           !event_pending;
}

bool x86_is_hypercall_instruction(const uint8_t b[3])
{
    return b[0] == 0x0f && b[1] == 0x01 && (b[2] == 0xc1 || b[2] == 0xd9);
}
