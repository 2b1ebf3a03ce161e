/* UNIT-SOURCES: kernel/lib/cmdline.c kernel/lib/string.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <tessera/cmdline.h>
#include <tessera/errno.h>

static void test_get_values_and_flags(void **state)
{
    (void)state;
    char v[16];
    const char *cl = "/boot/k.elf exit=qemu  verbose\tquantum_us=500 exitcode=3";
    assert_int_equal(cmdline_get(cl, "exit", v, sizeof(v)), 4);
    assert_string_equal(v, "qemu");
    assert_int_equal(cmdline_get(cl, "verbose", v, sizeof(v)), 0);
    assert_string_equal(v, "");
    assert_int_equal(cmdline_get(cl, "exitcode", v, sizeof(v)), 1);
    assert_string_equal(v, "3");
    /* a prefix of a key is not the key */
    assert_int_equal(cmdline_get(cl, "exi", v, sizeof(v)), -ENOENT);
    assert_int_equal(cmdline_get(cl, "quantum", v, sizeof(v)), -ENOENT);
    assert_int_equal(cmdline_get("", "exit", v, sizeof(v)), -ENOENT);
    assert_int_equal(cmdline_get(NULL, "exit", v, sizeof(v)), -ENOENT);
}

static void test_value_too_long(void **state)
{
    (void)state;
    char v[4];
    assert_int_equal(cmdline_get("k=abcd", "k", v, sizeof(v)), -E2BIG);
    assert_int_equal(cmdline_get("k=abc", "k", v, sizeof(v)), 3);
    assert_int_equal(cmdline_get("k=abc", "k", v, 0), -E2BIG);
}

static void test_numbers(void **state)
{
    (void)state;
    uint64_t n = 7;
    assert_int_equal(cmdline_get_u64("a=42 b=0x1F c=0x d=12z e=18446744073709551615 "
                                     "f=18446744073709551616 g=0x10000000000000000", "a", &n), 0);
    assert_int_equal(n, 42);
    assert_int_equal(cmdline_get_u64("b=0x1F", "b", &n), 0);
    assert_int_equal(n, 0x1f);
    assert_int_equal(cmdline_get_u64("c=0x", "c", &n), -EINVAL);
    assert_int_equal(cmdline_get_u64("d=12z", "d", &n), -EINVAL);
    assert_int_equal(cmdline_get_u64("e=18446744073709551615", "e", &n), 0);
    assert_int_equal(n, UINT64_MAX);
    assert_int_equal(cmdline_get_u64("f=18446744073709551616", "f", &n), -EINVAL);
    assert_int_equal(cmdline_get_u64("g=0x10000000000000000", "g", &n), -EINVAL);
    assert_int_equal(cmdline_get_u64("h", "h", &n), -EINVAL); /* a flag has no number */
    assert_int_equal(cmdline_get_u64("x=1", "h", &n), -ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_values_and_flags),
        cmocka_unit_test(test_value_too_long),
        cmocka_unit_test(test_numbers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
