/* The vendor-neutral x86 guest policy both backends share: CPUID views, MSR answers, exception
 * folding, storm detection, the IN merge, the hypercall instruction check and the single-step
 * trap after an emulated instruction. */
/* UNIT-SOURCES: arch/x86/vcpu_policy.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <tessera/hypercall_abi.h>
#include <x86/vcpu_policy.h>

static struct x86_cpuid filtered(uint32_t leaf, uint32_t sub, struct x86_cpuid raw)
{
    x86_cpuid_filter(leaf, sub, &raw);
    return raw;
}

static void test_cpuid_signature(void **state)
{
    (void)state;
    struct x86_cpuid junk = { 1, 2, 3, 4 };
    struct x86_cpuid r = filtered(TESSERA_CPUID_BASE, 0, junk);
    assert_int_equal(r.eax, TESSERA_CPUID_MAX);
    assert_int_equal(r.ebx, TESSERA_CPUID_SIG_EBX);
    assert_int_equal(r.ecx, TESSERA_CPUID_SIG_ECX);
    assert_int_equal(r.edx, TESSERA_CPUID_SIG_EDX);
    r = filtered(TESSERA_CPUID_BASE + 1, 0, junk);
    assert_int_equal(r.eax, TESSERA_ABI_VERSION);
    assert_int_equal(r.ebx | r.ecx | r.edx, 0);
    r = filtered(0x400000ffu, 0, junk); /* the rest of the range: zeros, never the CPU's */
    assert_int_equal(r.eax | r.ebx | r.ecx | r.edx, 0);
    assert_true(x86_cpuid_is_hypervisor_leaf(0x40000000u));
    assert_false(x86_cpuid_is_hypervisor_leaf(0x3fffffffu));
    assert_false(x86_cpuid_is_hypervisor_leaf(0x40000100u));
}

static void test_cpuid_leaf1(void **state)
{
    (void)state;
    struct x86_cpuid all = { 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu };
    struct x86_cpuid r = filtered(1, 0, all);
    assert_int_equal(r.ecx & (1u << 5), 0);  /* VMX */
    assert_int_equal(r.ecx & (1u << 3), 0);  /* MONITOR */
    assert_int_equal(r.ecx & (1u << 26), 0); /* XSAVE */
    assert_int_equal(r.ecx & (1u << 28), 0); /* AVX */
    assert_int_equal(r.ecx & (1u << 21), 0); /* x2APIC */
    assert_int_not_equal(r.ecx & (1u << 31), 0); /* hypervisor present */
    assert_int_equal(r.edx & (1u << 9), 0);  /* APIC */
    assert_int_equal(r.edx & ((1u << 7) | (1u << 14)), 0); /* MCE, MCA */
    assert_int_not_equal(r.edx & 1u, 0);     /* FPU and the rest stay */
    struct x86_cpuid none = { 0, 0, 0, 0 };
    r = filtered(1, 0, none);
    assert_int_equal(r.ecx, 1u << 31); /* only the hypervisor bit is added */
}

static void test_cpuid_leaf7_and_ext(void **state)
{
    (void)state;
    struct x86_cpuid all = { 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu };
    struct x86_cpuid r = filtered(7, 0, all);
    assert_int_equal(r.ebx & (1u << 5), 0);  /* AVX2 */
    assert_int_equal(r.ebx & (1u << 1), 0);  /* TSC_ADJUST: its MSR #GPs */
    assert_int_equal(r.ecx & (1u << 3), 0);  /* PKU */
    assert_int_equal(r.ecx & (1u << 7), 0);  /* CET shadow stacks */
    assert_int_equal(r.edx & (1u << 26), 0); /* IBRS/IBPB */
    assert_int_not_equal(r.ebx & 1u, 0);     /* FSGSBASE stays */
    r = filtered(7, 1, all);
    assert_int_equal(r.eax & ((1u << 6) | (1u << 17) | (1u << 26)), 0); /* LASS, FRED, LAM */
    r = filtered(0x80000001u, 0, all);
    assert_int_equal(r.ecx & (1u << 2), 0);  /* SVM */
    assert_int_not_equal(r.edx & (1u << 29), 0); /* long mode stays */
    r = filtered(0x8000000au, 0, all);
    assert_int_equal(r.eax | r.ebx | r.ecx | r.edx, 0);
    r = filtered(0xd, 0, all);
    assert_int_equal(r.eax | r.ebx | r.ecx | r.edx, 0);
    r = filtered(6, 0, all); /* thermal/power: only ARAT; no APERF/MPERF (ECX 0), whose MSRs #GP */
    assert_int_equal(r.eax, 1u << 2);
    assert_int_equal(r.ebx | r.ecx | r.edx, 0);
    r = filtered(0, 0, all); /* other leaves pass */
    assert_int_equal(r.ebx, 0xffffffffu);
}

static void test_msrs(void **state)
{
    (void)state;
    uint64_t v = 7;
    assert_true(x86_msr_read(X86_MSR_TSC, 12345, &v));
    assert_int_equal(v, 12345);
    assert_true(x86_msr_read(X86_MSR_FEATURE_CONTROL, 0, &v));
    assert_int_equal(v, 1);
    assert_true(x86_msr_read(X86_MSR_MTRR_DEF_TYPE, 0, &v));
    assert_int_equal(v, 0x806);
    assert_false(x86_msr_read(X86_MSR_VM_CR, 0, &v)); /* SVM is hidden: its MSRs #GP */
    assert_false(x86_msr_read(0x48, 0, &v));        /* SPEC_CTRL: #GP */
    assert_false(x86_msr_read(0x10a, 0, &v));       /* ARCH_CAPABILITIES */
    assert_false(x86_msr_read(X86_MSR_VM_HSAVE_PA, 0, &v));
    assert_true(x86_msr_write(X86_MSR_MTRR_DEF_TYPE, 0));
    assert_false(x86_msr_write(X86_MSR_TSC, 0));
    assert_false(x86_msr_write(X86_MSR_VM_HSAVE_PA, 0x1000));
    assert_false(x86_msr_write(0x49, 1)); /* PRED_CMD */
}

static void test_exception_fold(void **state)
{
    (void)state;
    assert_int_equal(x86_exception_fold(X86_VECTOR_GP, X86_VECTOR_NP), X86_FOLD_DOUBLE_FAULT);
    assert_int_equal(x86_exception_fold(X86_VECTOR_PF, X86_VECTOR_PF), X86_FOLD_DOUBLE_FAULT);
    assert_int_equal(x86_exception_fold(X86_VECTOR_PF, X86_VECTOR_GP), X86_FOLD_DOUBLE_FAULT);
    assert_int_equal(x86_exception_fold(X86_VECTOR_GP, X86_VECTOR_PF), X86_FOLD_DELIVER);
    assert_int_equal(x86_exception_fold(X86_VECTOR_DB, X86_VECTOR_GP), X86_FOLD_DELIVER);
    assert_int_equal(x86_exception_fold(X86_VECTOR_UD, X86_VECTOR_UD), X86_FOLD_DELIVER);
    assert_int_equal(x86_exception_fold(X86_VECTOR_DF, X86_VECTOR_UD), X86_FOLD_TRIPLE_FAULT);
    assert_true(x86_exception_has_error_code(X86_VECTOR_GP));
    assert_true(x86_exception_has_error_code(X86_VECTOR_DF));
    assert_true(x86_exception_has_error_code(X86_VECTOR_AC));
    assert_false(x86_exception_has_error_code(X86_VECTOR_UD));
    assert_false(x86_exception_has_error_code(X86_VECTOR_DB));
}

static void test_storm(void **state)
{
    (void)state;
    struct x86_storm s;
    x86_storm_reset(&s);
    for (unsigned i = 1; i < X86_EXCEPTION_STORM_LIMIT; i++)
        assert_false(x86_storm_note(&s, X86_VECTOR_GP, 0x1000));
    assert_true(x86_storm_note(&s, X86_VECTOR_GP, 0x1000));
    /* another RIP or vector starts over */
    x86_storm_reset(&s);
    for (unsigned i = 0; i < 3 * X86_EXCEPTION_STORM_LIMIT; i++)
        assert_false(x86_storm_note(&s, X86_VECTOR_GP, 0x1000 + (i & 1)));
    for (unsigned i = 0; i < 3 * X86_EXCEPTION_STORM_LIMIT; i++)
        assert_false(x86_storm_note(&s, i & 1 ? X86_VECTOR_GP : X86_VECTOR_UD, 0x1000));
    /* #DB never counts */
    x86_storm_reset(&s);
    for (unsigned i = 0; i < 3 * X86_EXCEPTION_STORM_LIMIT; i++)
        assert_false(x86_storm_note(&s, X86_VECTOR_DB, 0x1000));
}

static void test_io_merge(void **state)
{
    (void)state;
    uint64_t rax = 0x1122334455667788ull;
    assert_int_equal(x86_io_merge(rax, 1, 0xabcdef99u), 0x1122334455667799ull);
    assert_int_equal(x86_io_merge(rax, 2, 0xabcdef99u), 0x112233445566ef99ull);
    assert_int_equal(x86_io_merge(rax, 4, 0xabcdef99u), 0xabcdef99ull);
}

static void test_hypercall_instruction(void **state)
{
    (void)state;
    const uint8_t vmcall[3] = { 0x0f, 0x01, 0xc1 }, vmmcall[3] = { 0x0f, 0x01, 0xd9 };
    const uint8_t vmlaunch[3] = { 0x0f, 0x01, 0xc2 }, ud2[3] = { 0x0f, 0x0b, 0x00 };
    assert_true(x86_is_hypercall_instruction(vmcall));
    assert_true(x86_is_hypercall_instruction(vmmcall));
    assert_false(x86_is_hypercall_instruction(vmlaunch));
    assert_false(x86_is_hypercall_instruction(ud2));
}

/* The single-step #DB after an instruction the hypervisor completed (SDM 17.3.1.4). */
static void test_single_step_trap(void **state)
{
    (void)state;
    const uint64_t tf = X86_RFLAGS_TF | 2, plain = 0x246;
    assert_true(x86_single_step_trap(tf, 0, true, false));
    assert_true(x86_single_step_trap(tf | plain, 0, true, false));
    assert_false(x86_single_step_trap(plain, 0, true, false));           /* TF clear */
    assert_false(x86_single_step_trap(tf, X86_DEBUGCTL_BTF, true, false)); /* branches only */
    assert_true(x86_single_step_trap(tf, 1, true, false));               /* LBR: not BTF */
    assert_false(x86_single_step_trap(tf, 0, false, false));             /* it faulted */
    assert_false(x86_single_step_trap(tf, 0, true, true));               /* an event first */
    assert_false(x86_single_step_trap(0, 0, false, true));
    /* BS set, nothing else cleared (the reserved ones, B0-B3, BD, RTM) */
    assert_int_equal(x86_dr6_single_step(0xffff0ff0ull), 0xffff4ff0ull);
    assert_int_equal(x86_dr6_single_step(0xffff0ff1ull), 0xffff4ff1ull);
    assert_int_equal(x86_dr6_single_step(0xfffe6ff0ull), 0xfffe6ff0ull);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cpuid_signature), cmocka_unit_test(test_cpuid_leaf1),
        cmocka_unit_test(test_cpuid_leaf7_and_ext), cmocka_unit_test(test_msrs),
        cmocka_unit_test(test_exception_fold), cmocka_unit_test(test_storm),
        cmocka_unit_test(test_io_merge), cmocka_unit_test(test_hypercall_instruction),
        cmocka_unit_test(test_single_step_trap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
