/* UNIT-SOURCES: kernel/lib/printf.c */
/* kvsnprintf/ksnprintf: every documented conversion, flag, width, precision (for %s) and length
 * modifier, checked against exact strings and, for the whole supported subset, against the C
 * library's snprintf; plus snprintf's truncation and return-value rules. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <tessera/printf.h>

/* Formats with ksnprintf into a large buffer and checks text and return value. */
#define CHECK(want, ...)                                                                    \
    do {                                                                                     \
        char buf_[256];                                                                      \
        memset(buf_, 'Z', sizeof(buf_));                                                     \
        int n_ = ksnprintf(buf_, sizeof(buf_), __VA_ARGS__);                                 \
        assert_string_equal(buf_, (want));                                                   \
        assert_int_equal(n_, (int)strlen(want));                                             \
    } while (0)

/* Same format through ours and the C library's: identical text and return value. */
#define SAME(...)                                                                            \
    do {                                                                                     \
        char ours_[256], libc_[256];                                                         \
        int a_ = ksnprintf(ours_, sizeof(ours_), __VA_ARGS__);                               \
        int b_ = snprintf(libc_, sizeof(libc_), __VA_ARGS__);                                \
        assert_string_equal(ours_, libc_);                                                   \
        assert_int_equal(a_, b_);                                                            \
    } while (0)

static void test_plain_text_and_percent(void **state)
{
    (void)state;
    CHECK("", "%s", "");
    CHECK("hello", "hello");
    CHECK("100%", "100%%");
    CHECK("%%", "%%%%");
}

static void test_signed(void **state)
{
    (void)state;
    CHECK("0", "%d", 0);
    CHECK("42", "%d", 42);
    CHECK("-42", "%i", -42);
    CHECK("2147483647", "%d", INT_MAX);
    CHECK("-2147483648", "%d", INT_MIN);
    CHECK("-9223372036854775808", "%lld", LLONG_MIN);
    CHECK("9223372036854775807", "%lld", LLONG_MAX);
    CHECK("-9223372036854775808", "%ld", LONG_MIN);
    CHECK("-1", "%zd", (ssize_t)-1);
    CHECK("4464", "%hd", 70000);   /* converted to short */
    CHECK("-1", "%hd", 65535);
    CHECK("44", "%hhd", 300);      /* converted to signed char */
    CHECK("-128", "%hhd", 128);
}

static void test_unsigned_and_hex(void **state)
{
    (void)state;
    CHECK("0", "%u", 0u);
    CHECK("4294967295", "%u", UINT_MAX);
    CHECK("18446744073709551615", "%llu", ULLONG_MAX);
    CHECK("18446744073709551615", "%lu", ULONG_MAX);
    CHECK("18446744073709551615", "%zu", SIZE_MAX);
    CHECK("65535", "%hu", -1);
    CHECK("255", "%hhu", -1);
    CHECK("0", "%x", 0u);
    CHECK("deadbeef", "%x", 0xdeadbeefu);
    CHECK("DEADBEEF", "%X", 0xdeadbeefu);
    CHECK("ffffffffffffffff", "%llx", ULLONG_MAX);
    CHECK("123456789abcdef0", "%lx", 0x123456789abcdef0UL);
    CHECK("ffff", "%hx", -1);
    CHECK("ff", "%hhx", -1);
    CHECK("ffffffff", "%x", -1); /* int promoted, printed as unsigned */
}

static void test_pointer_char_string(void **state)
{
    (void)state;
    CHECK("0xdeadbeef", "%p", (void *)0xdeadbeefUL);
    CHECK("0xffff800000001000", "%p", (void *)0xffff800000001000UL);
    CHECK("0x0", "%p", (void *)0); /* glibc says "(nil)"; ours is documented as 0x... */
    CHECK("a", "%c", 'a');
    CHECK("[x  ]", "[%-3c]", 'x');
    CHECK("[  x]", "[%3c]", 'x');
    CHECK("abc", "%s", "abc");
    const char *volatile no_string = NULL; /* hidden from the compiler's format checks */
    CHECK("(null)", "%s", no_string);
    CHECK("a b c", "%s %s %c", "a", "b", 'c');
}

static void test_width_and_flags(void **state)
{
    (void)state;
    CHECK("[   42]", "[%5d]", 42);
    CHECK("[42   ]", "[%-5d]", 42);
    CHECK("[00042]", "[%05d]", 42);
    CHECK("[-0042]", "[%05d]", -42);  /* sign before the zeros */
    CHECK("[  -42]", "[%5d]", -42);
    CHECK("[-42  ]", "[%-5d]", -42);
    const char *minus_zero = "[%-05d]"; /* the compiler warns about this as a literal */
    CHECK("[42   ]", minus_zero, 42);  /* '-' overrides '0' */
    CHECK("[123456]", "[%3d]", 123456); /* never truncates a number */
    CHECK("[0000beef]", "[%08x]", 0xbeefu);
    CHECK("[    BEEF]", "[%8X]", 0xbeefu);
    CHECK("[  0x1000]", "[%8p]", (void *)0x1000);
    CHECK("[0x1000  ]", "[%-8p]", (void *)0x1000);
    CHECK("[  abc]", "[%5s]", "abc");
    CHECK("[abc  ]", "[%-5s]", "abc");
    CHECK("[abcdef]", "[%2s]", "abcdef");
    CHECK("[    7]", "[%*d]", 5, 7);
    CHECK("[7    ]", "[%*d]", -5, 7); /* negative '*' width means '-' */
    CHECK("[7    ]", "[%-*d]", 5, 7);
    CHECK("[   0x0f]", "[%5s%02x]", " 0x", 15u);
}

static void test_string_precision(void **state)
{
    (void)state;
    CHECK("[abc]", "[%.3s]", "abcdef");
    CHECK("[ab]", "[%.5s]", "ab");
    CHECK("[]", "[%.0s]", "abc");
    CHECK("[   ab]", "[%5.2s]", "abc");
    CHECK("[ab   ]", "[%-5.2s]", "abc");
    CHECK("[abcd]", "[%.*s]", 4, "abcdefgh");
    CHECK("[abcdefgh]", "[%.*s]", -1, "abcdefgh"); /* negative precision: none */
}

/* Every supported combination agrees with the C library. */
static void test_matches_libc(void **state)
{
    (void)state;
    static const long long values[] = { 0, 1, -1, 9, 10, -10, 255, 256, 65535, 65536,
                                        INT_MAX, INT_MIN, 1000000007, -123456789 };
    static const char *const int_formats[] = { "%d", "%5d", "%-5d", "%05d", "%12d", "%-12d",
                                               "%012d", "%i", "%1d", "%u", "%8u", "%x",
                                               "%08x", "%-8x|", "%X", "%10X", "%hd", "%hu",
                                               "%hhd", "%hhx" };
    for (size_t v = 0; v < sizeof(values) / sizeof(values[0]); v++) {
        for (size_t f = 0; f < sizeof(int_formats) / sizeof(int_formats[0]); f++)
            SAME(int_formats[f], (int)values[v]);
        SAME("%lld|%llu|%llx|%20lld|%-20llx|%020llu", values[v] * 1000003LL,
             (unsigned long long)values[v] * 3ULL, (unsigned long long)values[v],
             values[v] * 1048576LL, (unsigned long long)values[v], (unsigned long long)values[v]);
        SAME("%ld %lu %lx %zu %zx", (long)values[v], (unsigned long)values[v],
             (unsigned long)values[v], (size_t)values[v], (size_t)values[v]);
    }
    static const char *const strings[] = { "", "a", "hello world", "tab\there" };
    static const char *const str_formats[] = { "%s", "%10s", "%-10s", "%.2s", "%8.3s",
                                               "%-8.3s|", "%.0s", "%1s" };
    for (size_t s = 0; s < sizeof(strings) / sizeof(strings[0]); s++)
        for (size_t f = 0; f < sizeof(str_formats) / sizeof(str_formats[0]); f++)
            SAME(str_formats[f], strings[s]);
    SAME("%c%c%c %5c %-5c|", 'a', 'b', 'c', 'd', 'e');
    SAME("%p %20p %-20p|", (void *)0x1234, (void *)0xffffffff80000000UL, (void *)0x1);
    SAME("mixed %s=%d (%x) at %p%%", "irq", 14, 14u, (void *)0xfee00000UL);
}

static void test_truncation_and_return_value(void **state)
{
    (void)state;
    char buf[8];

    memset(buf, 'Z', sizeof(buf));
    assert_int_equal(ksnprintf(buf, sizeof(buf), "%s", "0123456789"), 10);
    assert_string_equal(buf, "0123456"); /* size-1 characters and the terminator */

    memset(buf, 'Z', sizeof(buf));
    assert_int_equal(ksnprintf(buf, 4, "%d", -123456), 7);
    assert_string_equal(buf, "-12");
    assert_int_equal(buf[4], 'Z'); /* nothing written past size */

    memset(buf, 'Z', sizeof(buf));
    assert_int_equal(ksnprintf(buf, 1, "abc"), 3);
    assert_int_equal(buf[0], 0);
    assert_int_equal(buf[1], 'Z');

    memset(buf, 'Z', sizeof(buf));
    assert_int_equal(ksnprintf(buf, 0, "abc%d", 12345), 8); /* size 0: nothing written */
    assert_int_equal(buf[0], 'Z');
    assert_int_equal(ksnprintf(NULL, 0, "%s-%s", "ab", "cd"), 5); /* measuring only */

    memset(buf, 'Z', sizeof(buf));
    assert_int_equal(ksnprintf(buf, sizeof(buf), "%7s", "x"), 7); /* exactly fits */
    assert_string_equal(buf, "      x");
    assert_int_equal(ksnprintf(buf, sizeof(buf), "%8s", "x"), 8); /* one too many */
    assert_string_equal(buf, "       ");

    /* truncation in the middle of padding and of a number agrees with libc */
    const char *volatile fmt = "[%-6d|%06x]"; /* not a literal: truncating is the point */
    for (size_t size = 0; size <= 12; size++) {
        char ours[16], libc[16];
        memset(ours, 'Z', sizeof(ours));
        memset(libc, 'Z', sizeof(libc));
        int a = ksnprintf(ours, size, fmt, -42, 0xabcu);
        int b = snprintf(libc, size, fmt, -42, 0xabcu);
        assert_int_equal(a, b);
        assert_memory_equal(ours, libc, sizeof(ours));
    }
}

static int call_kv(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

static void test_kvsnprintf_directly(void **state)
{
    (void)state;
    char buf[32];

    assert_int_equal(call_kv(buf, sizeof(buf), "%s:%u:%c", "cpu", 3u, '!'), 7);
    assert_string_equal(buf, "cpu:3:!");
    assert_int_equal(call_kv(buf, 3, "%llx", 0x123456789ULL), 9);
    assert_string_equal(buf, "12");
}

/* Outside C's defined behaviour: ours must at least stay safe and predictable. */
static void test_odd_formats(void **state)
{
    (void)state;
    /* through variables: the compiler would (rightly) reject these formats as literals */
    const char *lone = "abc%", *unknown = "%q", *unknown2 = "a%wb";
    CHECK("abc", lone, 0);     /* lone '%' at the end is dropped */
    CHECK("%q", unknown, 0);   /* unknown conversion printed verbatim */
    CHECK("a%wb", unknown2, 0);
}

/* With a precision, %s must not read past it: the array need not be NUL-terminated
 * (C11 7.21.6.1p8). */
static void test_precision_string_not_terminated(void **state)
{
    (void)state;
    char *raw = malloc(3);
    char buf[8];

    assert_non_null(raw);
    memcpy(raw, "xyz", 3); /* no terminator: ASan reports any read of raw[3] */
    assert_int_equal(ksnprintf(buf, sizeof(buf), "%.3s", raw), 3);
    assert_string_equal(buf, "xyz");
    assert_int_equal(ksnprintf(buf, sizeof(buf), "%.2s", raw), 2);
    assert_string_equal(buf, "xy");
    free(raw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_text_and_percent),
        cmocka_unit_test(test_signed),
        cmocka_unit_test(test_unsigned_and_hex),
        cmocka_unit_test(test_pointer_char_string),
        cmocka_unit_test(test_width_and_flags),
        cmocka_unit_test(test_string_precision),
        cmocka_unit_test(test_matches_libc),
        cmocka_unit_test(test_truncation_and_return_value),
        cmocka_unit_test(test_kvsnprintf_directly),
        cmocka_unit_test(test_odd_formats),
        cmocka_unit_test(test_precision_string_not_terminated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
