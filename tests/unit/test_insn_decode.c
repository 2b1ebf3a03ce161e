/* MOV CRn decoding for SVM without decode assists: lengths with prefixes and REX, the register
 * fields, AMD's LOCK MOV CR0 = CR8, and refusals (other opcodes, truncation, > 15 bytes). */
/* UNIT-SOURCES: arch/x86/insn_decode.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <x86/insn_decode.h>

static struct x86_mov_cr decode_ok(const uint8_t *b, size_t n, bool lm)
{
    struct x86_mov_cr m = { 0 };
    assert_true(x86_decode_mov_cr(b, n, lm, &m));
    return m;
}

static void test_plain(void **state)
{
    (void)state;
    const uint8_t mov_cr4_rax[] = { 0x0f, 0x22, 0xe0 }; /* mov cr4, rax */
    struct x86_mov_cr m = decode_ok(mov_cr4_rax, sizeof(mov_cr4_rax), true);
    assert_true(m.to_cr);
    assert_int_equal(m.cr, 4);
    assert_int_equal(m.gpr, 0);
    assert_int_equal(m.length, 3);
    const uint8_t mov_rbx_cr4[] = { 0x0f, 0x20, 0xe3 }; /* mov rbx, cr4 */
    m = decode_ok(mov_rbx_cr4, sizeof(mov_rbx_cr4), false);
    assert_false(m.to_cr);
    assert_int_equal(m.cr, 4);
    assert_int_equal(m.gpr, 3);
    const uint8_t mov_cr0_edi[] = { 0x0f, 0x22, 0xc7 };
    m = decode_ok(mov_cr0_edi, 3, false);
    assert_int_equal(m.cr, 0);
    assert_int_equal(m.gpr, 7);
}

static void test_prefixes_and_rex(void **state)
{
    (void)state;
    const uint8_t r12[] = { 0x41, 0x0f, 0x22, 0xe4 }; /* mov cr4, r12 */
    struct x86_mov_cr m = decode_ok(r12, sizeof(r12), true);
    assert_int_equal(m.cr, 4);
    assert_int_equal(m.gpr, 12);
    assert_int_equal(m.length, 4);
    const uint8_t cr8[] = { 0x44, 0x0f, 0x22, 0xc0 }; /* mov cr8, rax */
    m = decode_ok(cr8, sizeof(cr8), true);
    assert_int_equal(m.cr, 8);
    /* outside long mode 0x41 is INC ECX, not a prefix */
    struct x86_mov_cr none;
    assert_false(x86_decode_mov_cr(r12, sizeof(r12), false, &none));
    const uint8_t lock_cr0[] = { 0xf0, 0x0f, 0x22, 0xc0 }; /* AMD: mov cr8, eax */
    m = decode_ok(lock_cr0, sizeof(lock_cr0), false);
    assert_int_equal(m.cr, 8);
    assert_int_equal(m.length, 4);
    const uint8_t seg[] = { 0x2e, 0x66, 0x0f, 0x22, 0xe1 };
    m = decode_ok(seg, sizeof(seg), false);
    assert_int_equal(m.length, 5);
    assert_int_equal(m.gpr, 1);
    const uint8_t mod0[] = { 0x0f, 0x22, 0x20 }; /* mod 00 is still a register operand */
    m = decode_ok(mod0, 3, false);
    assert_int_equal(m.cr, 4);
    assert_int_equal(m.gpr, 0);
    assert_int_equal(m.length, 3);
}

static void test_refusals(void **state)
{
    (void)state;
    struct x86_mov_cr m;
    const uint8_t cpuid[] = { 0x0f, 0xa2, 0x00 };
    assert_false(x86_decode_mov_cr(cpuid, 3, true, &m));
    const uint8_t truncated[] = { 0x0f, 0x22 };
    assert_false(x86_decode_mov_cr(truncated, 2, true, &m));
    assert_false(x86_decode_mov_cr(truncated, 0, true, &m));
    uint8_t long_one[20];
    for (unsigned i = 0; i < 14; i++)
        long_one[i] = 0x66;
    long_one[14] = 0x0f;
    long_one[15] = 0x22;
    long_one[16] = 0xe0;
    assert_false(x86_decode_mov_cr(long_one, sizeof(long_one), true, &m)); /* 17 bytes */
    long_one[12] = 0x0f;
    long_one[13] = 0x22;
    long_one[14] = 0xe0;
    m = decode_ok(long_one, sizeof(long_one), true); /* exactly 15 */
    assert_int_equal(m.length, 15);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_prefixes_and_rex),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
