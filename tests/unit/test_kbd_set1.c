/* PS/2 scan code set 1 to terminal bytes: letters, Shift, Caps Lock, Ctrl (Ctrl-] is the
 * monitor's escape), Enter, Backspace, the arrows as VT100 sequences, releases and prefixes. */
/* UNIT-SOURCES: kernel/monitor/kbd_set1.c kernel/lib/string.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <tessera/kbd_set1.h>

static struct kbd_set1 kbd;
static char typed[64];
static size_t typed_len;

static void keys(const uint8_t *codes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char out[4];
        size_t got = kbd_set1_feed(&kbd, codes[i], out);
        assert_true(got <= 4);
        assert_true(typed_len + got < sizeof(typed));
        memcpy(typed + typed_len, out, got);
        typed_len += got;
    }
    typed[typed_len] = '\0';
}
#define KEYS(...) keys((const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ }))

static int setup(void **state)
{
    (void)state;
    kbd_set1_init(&kbd);
    typed_len = 0;
    typed[0] = '\0';
    return 0;
}

static void test_letters_digits_enter(void **state)
{
    (void)state;
    /* l i s t, each pressed and released, then Enter */
    KEYS(0x26, 0xa6, 0x17, 0x97, 0x1f, 0x9f, 0x14, 0x94, 0x39, 0xb9, 0x02, 0x82, 0x1c, 0x9c);
    assert_string_equal(typed, "list 1\r");
}

static void test_shift_and_caps(void **state)
{
    (void)state;
    KEYS(0x2a, 0x1e, 0x02, 0x27, 0xaa, 0x1e); /* Shift down: A ! : ; Shift up: a */
    assert_string_equal(typed, "A!:a");
    KEYS(0x3a, 0xba, 0x1e, 0x02, 0x2a, 0x1e, 0xaa); /* Caps: A 1, with Shift: a */
    assert_string_equal(typed, "A!:aA1a");
}

static void test_ctrl(void **state)
{
    (void)state;
    KEYS(0x1d, 0x16, 0x1b, 0x2e, 0x9d, 0x16); /* Ctrl-U, Ctrl-], Ctrl-C, then a plain u */
    assert_int_equal(typed_len, 4);
    assert_memory_equal(typed, "\x15\x1d\x03u", 4);
    typed_len = 0;
    KEYS(0xe0, 0x1d, 0x1b, 0xe0, 0x9d, 0x1b); /* right Ctrl-], then ] */
    assert_memory_equal(typed, "\x1d]", 2);
    typed_len = 0;
    KEYS(0x1d, 0x02, 0x9d); /* Ctrl-1 means nothing */
    assert_int_equal(typed_len, 0);
}

static void test_arrows_and_editing_keys(void **state)
{
    (void)state;
    KEYS(0xe0, 0x48, 0xe0, 0xc8, 0xe0, 0x50, 0xe0, 0x4b, 0xe0, 0x4d, 0xe0, 0x47, 0xe0, 0x4f,
         0xe0, 0x53, 0x0e, 0x8e);
    assert_string_equal(typed, "\x1b[A\x1b[B\x1b[D\x1b[C\x1b[H\x1b[F\x1b[3~\x7f");
}

static void test_ignored_codes(void **state)
{
    (void)state;
    /* Pause (e1 1d 45 e1 9d c5), F1, fake shift (e0 2a), keypad 7 (0x47 without e0), 0xff */
    KEYS(0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5, 0x3b, 0xbb, 0xe0, 0x2a, 0x47, 0xff, 0x00);
    assert_int_equal(typed_len, 0);
    KEYS(0x1e);
    assert_string_equal(typed, "a"); /* the state is sane afterwards */
}

static void test_every_code_is_safe(void **state)
{
    (void)state;
    for (unsigned prefix = 0; prefix < 3; prefix++)
        for (unsigned code = 0; code < 256; code++) {
            char out[4];
            if (prefix == 1)
                kbd_set1_feed(&kbd, 0xe0, out);
            if (prefix == 2)
                kbd_set1_feed(&kbd, 0xe1, out);
            assert_true(kbd_set1_feed(&kbd, (uint8_t)code, out) <= 4);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_letters_digits_enter, setup),
        cmocka_unit_test_setup(test_shift_and_caps, setup),
        cmocka_unit_test_setup(test_ctrl, setup),
        cmocka_unit_test_setup(test_arrows_and_editing_keys, setup),
        cmocka_unit_test_setup(test_ignored_codes, setup),
        cmocka_unit_test_setup(test_every_code_is_safe, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
