/* UNIT-SOURCES: kernel/lib/ring.c */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <tessera/ring.h>
#include <tessera/errno.h>

static void expect_contents(const struct ring *r, const char *want)
{
    char out[256];
    size_t n = strlen(want);

    memset(out, 0x5a, sizeof(out));
    assert_int_equal(ring_size(r), n);
    assert_int_equal(ring_copy_out(r, out, sizeof(out)), n);
    assert_memory_equal(out, want, n);
    assert_int_equal((unsigned char)out[n], 0x5a); /* nothing written past n */
}

static void test_init_errors(void **state)
{
    (void)state;
    struct ring r;
    uint8_t buf[4];

    assert_int_equal(ring_init(&r, NULL, 4), -EINVAL);
    assert_int_equal(ring_init(&r, buf, 0), -EINVAL);
    assert_int_equal(ring_init(NULL, buf, 4), -EINVAL);
    assert_int_equal(ring_init(&r, buf, 4), 0);
    expect_contents(&r, "");
}

static void test_fill_without_wrap(void **state)
{
    (void)state;
    struct ring r;
    uint8_t buf[8];

    assert_int_equal(ring_init(&r, buf, sizeof(buf)), 0);
    ring_write(&r, "abc", 3);
    expect_contents(&r, "abc");
    ring_write(&r, "defgh", 5);
    expect_contents(&r, "abcdefgh");
    ring_write(&r, "", 0);
    expect_contents(&r, "abcdefgh");
}

static void test_wrap_around_keeps_newest(void **state)
{
    (void)state;
    struct ring r;
    uint8_t buf[8];

    assert_int_equal(ring_init(&r, buf, sizeof(buf)), 0);
    ring_write(&r, "abcdef", 6);
    ring_write(&r, "ghijk", 5); /* crosses the end of storage */
    expect_contents(&r, "defghijk");
    ring_putc(&r, 'l');
    expect_contents(&r, "efghijkl");
}

static void test_write_longer_than_capacity(void **state)
{
    (void)state;
    struct ring r;
    uint8_t buf[5];

    assert_int_equal(ring_init(&r, buf, sizeof(buf)), 0);
    ring_write(&r, "xy", 2);
    ring_write(&r, "0123456789", 10);
    expect_contents(&r, "56789");
    ring_write(&r, "ABCDE", 5); /* exactly capacity */
    expect_contents(&r, "ABCDE");
    ring_write(&r, "F", 1);
    expect_contents(&r, "BCDEF");
}

static void test_copy_out_limited(void **state)
{
    (void)state;
    struct ring r;
    uint8_t buf[8];
    char out[8];

    assert_int_equal(ring_init(&r, buf, sizeof(buf)), 0);
    ring_write(&r, "abcdefghijk", 11); /* holds defghijk */
    assert_int_equal(ring_copy_out(&r, out, 3), 3);
    assert_memory_equal(out, "ijk", 3); /* the most recent three */
    ring_write(&r, "lm", 2);            /* holds fghijklm, straddling the end */
    assert_int_equal(ring_copy_out(&r, out, 5), 5);
    assert_memory_equal(out, "ijklm", 5);
    assert_int_equal(ring_copy_out(&r, out, 0), 0);
}

static void test_capacity_one(void **state)
{
    (void)state;
    struct ring r;
    uint8_t buf[1];

    assert_int_equal(ring_init(&r, buf, 1), 0);
    expect_contents(&r, "");
    ring_putc(&r, 'a');
    expect_contents(&r, "a");
    ring_putc(&r, 'b');
    expect_contents(&r, "b");
    ring_write(&r, "xyz", 3);
    expect_contents(&r, "z");
}

static void test_clear(void **state)
{
    (void)state;
    struct ring r;
    uint8_t buf[4];

    assert_int_equal(ring_init(&r, buf, 4), 0);
    ring_write(&r, "abcdef", 6);
    ring_clear(&r);
    expect_contents(&r, "");
    ring_write(&r, "gh", 2);
    expect_contents(&r, "gh");
}

/* Random write sizes (every third one byte by byte) against a model that keeps every byte ever
 * written. */
static void test_matches_model(void **state)
{
    (void)state;
    static const size_t caps[] = { 1, 2, 3, 7, 16, 61 };
    unsigned seed = 12345;

    for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
        uint8_t storage[64], model[8192], out[128], chunk[80];
        size_t written = 0;
        struct ring r;

        assert_int_equal(ring_init(&r, storage, caps[c]), 0);
        for (int step = 0; step < 60; step++) {
            seed = seed * 1103515245u + 12345u;
            size_t len = (seed >> 16) % 70;
            for (size_t i = 0; i < len; i++)
                chunk[i] = model[written + i] = (uint8_t)(written + i);
            if (step % 3 == 0) /* byte by byte: ring_putc must keep the same contents */
                for (size_t i = 0; i < len; i++)
                    ring_putc(&r, chunk[i]);
            else
                ring_write(&r, chunk, len);
            written += len;
            size_t want = written < caps[c] ? written : caps[c];
            assert_int_equal(ring_size(&r), want);
            assert_int_equal(ring_copy_out(&r, out, sizeof(out)), want);
            assert_memory_equal(out, model + written - want, want);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_errors),
        cmocka_unit_test(test_fill_without_wrap),
        cmocka_unit_test(test_wrap_around_keeps_newest),
        cmocka_unit_test(test_write_longer_than_capacity),
        cmocka_unit_test(test_copy_out_limited),
        cmocka_unit_test(test_capacity_one),
        cmocka_unit_test(test_clear),
        cmocka_unit_test(test_matches_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
