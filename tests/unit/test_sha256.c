/* SHA-256 against the FIPS 180-2/NIST example vectors, one-shot and in chunks.
 * UNIT-SOURCES: kernel/lib/sha256.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <tessera/sha256.h>

static void assert_digest_hex(const uint8_t digest[32], const char *expected)
{
    char hex[65];
    sha256_hex(digest, hex);
    assert_string_equal(hex, expected);
}

static void check_oneshot(const char *msg, const char *expected)
{
    uint8_t d[32];
    sha256(msg, strlen(msg), d);
    assert_digest_hex(d, expected);
}

#define HASH_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define HASH_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define MSG_448 "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
#define HASH_448 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
#define MSG_896 "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno" \
                "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"
#define HASH_896 "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
#define HASH_MILLION_A "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"

static void test_empty(void **state)
{
    (void)state;
    check_oneshot("", HASH_EMPTY);
    /* No update at all is the same message. */
    struct sha256_ctx ctx;
    uint8_t d[32];
    sha256_init(&ctx);
    sha256_final(&ctx, d);
    assert_digest_hex(d, HASH_EMPTY);
}

static void test_abc(void **state)
{
    (void)state;
    check_oneshot("abc", HASH_ABC);
}

static void test_448_bits(void **state)
{
    (void)state;
    assert_int_equal(strlen(MSG_448), 56); /* padding spills into a second block */
    check_oneshot(MSG_448, HASH_448);
}

static void test_896_bits(void **state)
{
    (void)state;
    assert_int_equal(strlen(MSG_896), 112);
    check_oneshot(MSG_896, HASH_896);
}

static void test_million_a(void **state)
{
    (void)state;
    size_t n = 1000000;
    char *buf = malloc(n);
    assert_non_null(buf);
    memset(buf, 'a', n);
    uint8_t d[32];
    sha256(buf, n, d);
    assert_digest_hex(d, HASH_MILLION_A);

    /* The same in odd-sized pieces that straddle block boundaries. */
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    size_t done = 0, step = 1;
    while (done < n) {
        size_t take = step < n - done ? step : n - done;
        sha256_update(&ctx, buf + done, take);
        done += take;
        step = step * 7 % 997 + 1;
    }
    sha256_final(&ctx, d);
    assert_digest_hex(d, HASH_MILLION_A);
    free(buf);
}

/* Every split point of the 896-bit message, and byte-by-byte feeding. */
static void test_chunked_all_splits(void **state)
{
    (void)state;
    size_t len = strlen(MSG_896);
    for (size_t split = 0; split <= len; split++) {
        struct sha256_ctx ctx;
        uint8_t d[32];
        sha256_init(&ctx);
        sha256_update(&ctx, MSG_896, split);
        sha256_update(&ctx, MSG_896 + split, len - split);
        sha256_final(&ctx, d);
        assert_digest_hex(d, HASH_896);
    }
    struct sha256_ctx ctx;
    uint8_t d[32];
    sha256_init(&ctx);
    for (size_t i = 0; i < len; i++)
        sha256_update(&ctx, MSG_896 + i, 1);
    sha256_update(&ctx, "", 0);
    sha256_final(&ctx, d);
    assert_digest_hex(d, HASH_896);
}

/* Lengths 55, 56, 63, 64, 65 exercise every padding case; compare chunked to one-shot. */
static void test_padding_edges(void **state)
{
    (void)state;
    uint8_t msg[130];
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)(i * 31 + 7);
    for (size_t len = 0; len <= sizeof(msg); len++) {
        uint8_t one[32], parts[32];
        sha256(msg, len, one);
        struct sha256_ctx ctx;
        sha256_init(&ctx);
        sha256_update(&ctx, msg, len / 3);
        sha256_update(&ctx, msg + len / 3, len - len / 3);
        sha256_final(&ctx, parts);
        assert_memory_equal(one, parts, 32);
    }
    /* A known 64-byte message: 64 'a' characters. */
    uint8_t d[32];
    memset(msg, 'a', 64);
    sha256(msg, 64, d);
    assert_digest_hex(d, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

static void test_hex_format(void **state)
{
    (void)state;
    uint8_t d[32];
    char hex[65];
    memset(d, 0xa5, sizeof(d));
    d[0] = 0x00;
    d[1] = 0x0f;
    d[31] = 0xff;
    memset(hex, 'X', sizeof(hex));
    sha256_hex(d, hex);
    assert_int_equal(hex[64], '\0');
    assert_int_equal(strlen(hex), 64);
    assert_memory_equal(hex, "00", 2);
    assert_memory_equal(hex + 2, "0f", 2);
    assert_memory_equal(hex + 4, "a5a5", 4);
    assert_memory_equal(hex + 62, "ff", 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_abc),
        cmocka_unit_test(test_448_bits),
        cmocka_unit_test(test_896_bits),
        cmocka_unit_test(test_million_a),
        cmocka_unit_test(test_chunked_all_splits),
        cmocka_unit_test(test_padding_edges),
        cmocka_unit_test(test_hex_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
