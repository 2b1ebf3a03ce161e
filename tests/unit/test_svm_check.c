/* VMEXIT_INVALID explanations: each consistency check of APM 15.5.1 we can break is named, and a
 * valid state names none. A CPU whose AMD-V cannot run guests gets one sentence saying what to
 * change: firmware-disabled (VM_CR.SVMDIS, which QEMU cannot set: only tested here), no nested
 * paging, no AMD-V at all. */
/* UNIT-SOURCES: arch/x86/svm/svm_check.c kernel/lib/printf.c kernel/lib/string.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <tessera/errno.h>

#include "../../arch/x86/svm/svm.h"

static struct svm_check_state valid_long(void)
{
    struct svm_check_state s = {
        .efer = (1ull << 12) | (1ull << 8) | (1ull << 10), .cr0 = 0x80000011, .cr3 = 0x1000,
        .cr4 = 1u << 5, .dr6 = 0xffff0ff0, .dr7 = 0x400, .rflags = 2, .cs_attrib = 0x29b,
        .asid = 1, .intercept_misc2 = SVM_INTERCEPT_VMRUN, .maxphyaddr = 40,
        .g_pat = 0x0007040600070406ull,
    };
    return s;
}

static void expect(const struct svm_check_state *s, const char *want)
{
    char out[160];
    svm_explain_invalid(s, out, sizeof(out));
    assert_string_equal(out, want);
}

static void test_valid(void **state)
{
    (void)state;
    struct svm_check_state s = valid_long();
    expect(&s, "");
    s.efer = 1ull << 12;
    s.cr0 = 0x10;
    s.cr4 = 0;
    s.cs_attrib = 0x9b; /* real mode */
    expect(&s, "");
}

static void test_each_check(void **state)
{
    (void)state;
    struct svm_check_state s = valid_long();
    s.efer &= ~(1ull << 12);
    expect(&s, "guest EFER.SVME is clear");
    s = valid_long();
    s.cr0 |= 1ull << 29;
    expect(&s, "guest CR0.NW is set without CR0.CD");
    s.cr0 |= 1ull << 30; /* CD and NW together are allowed */
    expect(&s, "");
    s = valid_long();
    s.cr4 = 0;
    expect(&s, "guest EFER.LME and CR0.PG are set with CR4.PAE clear");
    s = valid_long();
    s.cs_attrib |= 1u << 10;
    expect(&s, "guest in long mode with both CS.L and CS.D set");
    s = valid_long();
    s.intercept_misc2 = 0;
    expect(&s, "the VMRUN intercept is clear");
    s = valid_long();
    s.asid = 0;
    expect(&s, "the guest ASID is 0 (the host's)");
    s = valid_long();
    s.efer |= 1ull << 3;
    expect(&s, "guest EFER has reserved bits set");
    s = valid_long();
    s.event_inject = SVM_EVENT_VALID | SVM_EVENT_TYPE_EXCEPTION | 2;
    expect(&s, "the event to inject is invalid");
    s = valid_long();
    s.g_pat = 0x0007040600070402ull; /* type 2 is reserved */
    expect(&s, "guest G_PAT holds a reserved memory type");
    s = valid_long();
    s.dr7 = 1ull << 40;
    expect(&s, "guest DR7 bits 63:32 are not zero");
}

/* QEMU 7.2 -cpu max: leaf 0x8000000A EDX = NPT and two bits we do not use, 16 ASIDs */
static const struct svm_probe_facts qemu_max = { true, 0, 0x10010001u, 16 };

static void test_refusals(void **state)
{
    (void)state;
    char out[200];
    struct svm_probe_facts f = qemu_max;
    assert_int_equal(svm_refusal(&f, out, sizeof(out)), 0);
    assert_string_equal(out, "");

    f.vm_cr = VM_CR_SVMDIS;
    assert_int_equal(svm_refusal(&f, out, sizeof(out)), -EPERM);
    assert_string_equal(out, "AMD-V is disabled by the firmware (VM_CR.SVMDIS = 1): enable \"SVM Mode\" "
                             "(AMD-V) in the firmware setup");
    f.vm_cr = VM_CR_SVMDIS | VM_CR_LOCK;
    assert_int_equal(svm_refusal(&f, out, sizeof(out)), -EPERM);
    assert_non_null(strstr(out, "(VM_CR.SVMDIS = 1, locked)"));
    f.vm_cr = VM_CR_LOCK; /* locked with SVM enabled: fine */
    assert_int_equal(svm_refusal(&f, out, sizeof(out)), 0);

    f = qemu_max;
    f.features &= ~SVM_FEATURE_NPT; /* QEMU's default CPU */
    assert_int_equal(svm_refusal(&f, out, sizeof(out)), -ENOTSUP);
    assert_non_null(strstr(out, "lacks nested paging (CPUID.8000000Ah:EDX.NP = 0)"));
    /* firmware-disabled comes first: that one the user can change */
    f.vm_cr = VM_CR_SVMDIS;
    assert_int_equal(svm_refusal(&f, out, sizeof(out)), -EPERM);

    f = qemu_max;
    f.asids = 1;
    assert_int_equal(svm_refusal(&f, out, sizeof(out)), -ENOTSUP);
    assert_string_equal(out, "this CPU's AMD-V has no guest ASIDs");

    f = (struct svm_probe_facts){ 0 };
    assert_int_equal(svm_refusal(&f, out, sizeof(out)), -ENODEV);
    assert_non_null(strstr(out, "does not offer AMD-V (CPUID.80000001h:ECX.SVM = 0)"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_each_check),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
