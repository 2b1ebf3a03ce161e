/* The SVM backend's optional features (NRIP save, decode assists, VMCB clean bits) are used only
 * when CPUID 0x8000000A:EDX offers them, and the clean-bit bookkeeping follows APM 15.15.3 table
 * 15-9: QEMU's TCG offers none of them, so these paths run nowhere else. */
/* UNIT-SOURCES: */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../arch/x86/svm/svm.h"

#define ALL_FEATURES (SVM_FEATURE_NPT | SVM_FEATURE_NRIP_SAVE | SVM_FEATURE_VMCB_CLEAN | \
                      SVM_FEATURE_FLUSH_BY_ASID | SVM_FEATURE_DECODE_ASSISTS)
#define QEMU_TCG_FEATURES 0x10010001u /* -cpu max: NPT and two bits we do not use */

static void next_rip_without_nrip_save_is_rip_plus_length(void **state)
{
    (void)state;
    assert_int_equal(svm_next_rip(QEMU_TCG_FEATURES, 0x1000, 0xdead, 2), 0x1002);
    assert_int_equal(svm_next_rip(0, 0xfffffffffffffffeull, 0, 3), 0x1);
    assert_int_equal(svm_next_rip(ALL_FEATURES & ~SVM_FEATURE_NRIP_SAVE, 0x7c00, 0x9999, 1), 0x7c01);
}

static void next_rip_with_nrip_save_is_the_vmcb_s(void **state)
{
    (void)state;
    assert_int_equal(svm_next_rip(SVM_FEATURE_NRIP_SAVE, 0x1000, 0x1005, 2), 0x1005);
    assert_int_equal(svm_next_rip(ALL_FEATURES, 0x1000, 0x1003, 3), 0x1003);
}

static void clean_bits_only_when_offered(void **state)
{
    (void)state;
    assert_int_equal(svm_clean_after_exit(QEMU_TCG_FEATURES), 0);
    assert_int_equal(svm_clean_after_exit(ALL_FEATURES & ~SVM_FEATURE_VMCB_CLEAN), 0);
    assert_int_equal(svm_clean_after_exit(SVM_FEATURE_VMCB_CLEAN), SVM_CLEAN_ALL);
}

static void decode_assists_need_nrip_save_too(void **state)
{
    (void)state;
    uint64_t valid = (1ull << 63) | 3;
    assert_false(svm_decoded_cr_write(QEMU_TCG_FEATURES, valid));
    assert_false(svm_decoded_cr_write(SVM_FEATURE_DECODE_ASSISTS, valid));
    assert_false(svm_decoded_cr_write(SVM_FEATURE_NRIP_SAVE, valid));
    assert_false(svm_decoded_cr_write(ALL_FEATURES, 3)); /* bit 63 clear: not decoded */
    assert_true(svm_decoded_cr_write(ALL_FEATURES, valid));
}

#define BIT_OF(field) vmcb_clean_bit(offsetof(struct vmcb, field))

/* Table 15-9, field by field, for every field the backend writes and a few it does not. */
static void clean_bit_of_each_field(void **state)
{
    (void)state;
    assert_int_equal(BIT_OF(intercept_cr), SVM_CLEAN_INTERCEPTS);
    assert_int_equal(BIT_OF(intercept_exceptions), SVM_CLEAN_INTERCEPTS);
    assert_int_equal(BIT_OF(intercept_misc1), SVM_CLEAN_INTERCEPTS);
    assert_int_equal(BIT_OF(intercept_misc2), SVM_CLEAN_INTERCEPTS);
    assert_int_equal(BIT_OF(pause_filter_count), SVM_CLEAN_INTERCEPTS);
    assert_int_equal(BIT_OF(tsc_offset), SVM_CLEAN_INTERCEPTS);
    assert_int_equal(BIT_OF(iopm_base_pa), SVM_CLEAN_IOPM);
    assert_int_equal(BIT_OF(msrpm_base_pa), SVM_CLEAN_IOPM);
    assert_int_equal(BIT_OF(asid), SVM_CLEAN_ASID);
    assert_int_equal(BIT_OF(vintr), SVM_CLEAN_TPR);
    assert_int_equal(BIT_OF(np_control), SVM_CLEAN_NP);
    assert_int_equal(BIT_OF(n_cr3), SVM_CLEAN_NP);
    assert_int_equal(BIT_OF(g_pat), SVM_CLEAN_NP);
    assert_int_equal(BIT_OF(efer), SVM_CLEAN_CR);
    assert_int_equal(BIT_OF(cr0), SVM_CLEAN_CR);
    assert_int_equal(BIT_OF(cr3), SVM_CLEAN_CR);
    assert_int_equal(BIT_OF(cr4), SVM_CLEAN_CR);
    assert_int_equal(BIT_OF(dr6), SVM_CLEAN_DR);
    assert_int_equal(BIT_OF(dr7), SVM_CLEAN_DR);
    assert_int_equal(BIT_OF(gdtr), SVM_CLEAN_DT);
    assert_int_equal(BIT_OF(idtr), SVM_CLEAN_DT);
    assert_int_equal(BIT_OF(es), SVM_CLEAN_SEG);
    assert_int_equal(BIT_OF(cs), SVM_CLEAN_SEG);
    assert_int_equal(BIT_OF(cs.attrib), SVM_CLEAN_SEG);
    assert_int_equal(BIT_OF(ds), SVM_CLEAN_SEG);
    assert_int_equal(BIT_OF(cpl), SVM_CLEAN_SEG);
    assert_int_equal(BIT_OF(cr2), SVM_CLEAN_CR2);
    assert_int_equal(BIT_OF(dbgctl), SVM_CLEAN_LBR);
    /* read at every VMRUN, or moved by VMLOAD/VMSAVE: no clean bit */
    assert_int_equal(BIT_OF(rip), 0);
    assert_int_equal(BIT_OF(rsp), 0);
    assert_int_equal(BIT_OF(rax), 0);
    assert_int_equal(BIT_OF(rflags), 0);
    assert_int_equal(BIT_OF(event_inject), 0);
    assert_int_equal(BIT_OF(tlb_control), 0);
    assert_int_equal(BIT_OF(interrupt_shadow), 0);
    assert_int_equal(BIT_OF(clean), 0);
    assert_int_equal(BIT_OF(fs), 0);
    assert_int_equal(BIT_OF(gs), 0);
    assert_int_equal(BIT_OF(tr), 0);
    assert_int_equal(BIT_OF(ldtr), 0);
    assert_int_equal(BIT_OF(kernel_gs_base), 0);
    assert_int_equal(BIT_OF(lstar), 0);
}

/* Every bit of SVM_CLEAN_ALL is some field's, and no field names a bit outside it. */
static void clean_bits_cover_exactly_all(void **state)
{
    (void)state;
    uint32_t seen = 0;
    for (size_t off = 0; off < sizeof(struct vmcb); off++)
        seen |= vmcb_clean_bit(off);
    assert_int_equal(seen, SVM_CLEAN_ALL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(next_rip_without_nrip_save_is_rip_plus_length),
        cmocka_unit_test(next_rip_with_nrip_save_is_the_vmcb_s),
        cmocka_unit_test(clean_bits_only_when_offered),
        cmocka_unit_test(decode_assists_need_nrip_save_too),
        cmocka_unit_test(clean_bit_of_each_field),
        cmocka_unit_test(clean_bits_cover_exactly_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
