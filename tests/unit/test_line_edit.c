/* The monitor's line editor: insert, backspace, Ctrl-U, arrows by escape sequence, history,
 * CR LF, overlong lines and control bytes (each reported on the line, never inserted). */
/* UNIT-SOURCES: kernel/monitor/line_edit.c kernel/lib/printf.c kernel/lib/string.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <tessera/line_edit.h>

static struct line_edit ed;

static int setup(void **state)
{
    (void)state;
    line_edit_init(&ed);
    return 0;
}

/* Feeds s; returns the last event other than NONE (NONE if all were). */
static enum line_edit_event type(const char *s)
{
    enum line_edit_event last = LINE_EDIT_NONE;
    for (; *s; s++) {
        enum line_edit_event e = line_edit_feed(&ed, (uint8_t)*s);
        if (e != LINE_EDIT_NONE)
            last = e;
    }
    return last;
}

static void enter_gives(const char *want)
{
    assert_int_equal(line_edit_feed(&ed, '\r'), LINE_EDIT_ENTER);
    assert_string_equal(ed.done, want);
    assert_int_equal(ed.done_len, strlen(want));
}

static void test_insert_and_enter(void **state)
{
    (void)state;
    assert_int_equal(type("list"), LINE_EDIT_CHANGED);
    assert_string_equal(ed.buf, "list");
    assert_int_equal(ed.cursor, 4);
    enter_gives("list");
    assert_int_equal(ed.len, 0);
    assert_false(ed.done_overlong);
    assert_int_equal(ed.done_bad_control, 0);
}

static void test_cr_lf_is_one_enter(void **state)
{
    (void)state;
    type("a");
    assert_int_equal(line_edit_feed(&ed, '\r'), LINE_EDIT_ENTER);
    assert_int_equal(line_edit_feed(&ed, '\n'), LINE_EDIT_NONE);
    assert_int_equal(line_edit_feed(&ed, '\n'), LINE_EDIT_ENTER); /* a second LF is a line */
    assert_string_equal(ed.done, "");
}

static void test_backspace_and_kill(void **state)
{
    (void)state;
    type("stopx\x7f");
    assert_string_equal(ed.buf, "stop");
    type("\b\b");
    assert_string_equal(ed.buf, "st");
    assert_int_equal(type("\x15"), LINE_EDIT_CHANGED);
    assert_string_equal(ed.buf, "");
    assert_int_equal(type("\x7f"), LINE_EDIT_NONE); /* nothing to delete */
    assert_int_equal(type("\x15"), LINE_EDIT_NONE);
}

static void test_arrows_move_and_insert_in_the_middle(void **state)
{
    (void)state;
    type("stats hlo");
    type("\x1b[D\x1b[D"); /* left twice: before "lo" */
    assert_int_equal(ed.cursor, 7);
    type("e");
    assert_string_equal(ed.buf, "stats helo");
    type("\x1b[C"); /* right */
    type("l");
    assert_string_equal(ed.buf, "stats hello");
    type("\x1bOH"); /* Home, SS3 form */
    assert_int_equal(ed.cursor, 0);
    type("\x1b[3~"); /* Delete under the cursor */
    assert_string_equal(ed.buf, "tats hello");
    type("\x05"); /* Ctrl-E */
    assert_int_equal(ed.cursor, ed.len);
    assert_int_equal(type("\x1b[C"), LINE_EDIT_NONE); /* already at the end */
    type("\x01\x1b[D"); /* Ctrl-A, then Left at the start: nothing */
    assert_int_equal(ed.cursor, 0);
}

static void test_history(void **state)
{
    (void)state;
    type("list\r");
    type("cpus\r");
    type("cpus\r"); /* kept once */
    type("mem\r");
    assert_int_equal(ed.history_count, 3);
    type("\x1b[A");
    assert_string_equal(ed.buf, "mem");
    type("\x1b[A");
    assert_string_equal(ed.buf, "cpus");
    type("\x1b[A");
    assert_string_equal(ed.buf, "list");
    assert_int_equal(type("\x1b[A"), LINE_EDIT_NONE); /* the oldest */
    type("\x1b[B\x1b[B");
    assert_string_equal(ed.buf, "mem");
    type("\x1b[B");
    assert_string_equal(ed.buf, ""); /* past the newest: an empty line */
    type("\x1b[A x\r");
    assert_string_equal(ed.done, "mem x");
}

static void test_history_keeps_only_the_newest(void **state)
{
    (void)state;
    char line[16];
    for (int i = 0; i < LINE_EDIT_HISTORY + 5; i++) {
        snprintf(line, sizeof(line), "c%d\r", i);
        type(line);
    }
    assert_int_equal(ed.history_count, LINE_EDIT_HISTORY);
    for (int i = 0; i < LINE_EDIT_HISTORY; i++)
        type("\x1b[A");
    snprintf(line, sizeof(line), "c%d", 5);
    assert_string_equal(ed.buf, line);
}

static void test_overlong_line_is_flagged_not_cut_silently(void **state)
{
    (void)state;
    for (int i = 0; i < LINE_EDIT_MAX + 30; i++)
        line_edit_feed(&ed, 'x');
    assert_int_equal(ed.len, LINE_EDIT_MAX);
    assert_int_equal(line_edit_feed(&ed, '\r'), LINE_EDIT_ENTER);
    assert_true(ed.done_overlong);
    assert_int_equal(ed.history_count, 0); /* a refused line is not history */
    type("ok\r");
    assert_false(ed.done_overlong); /* the next line starts clean */
}

static void test_control_bytes_are_flagged(void **state)
{
    (void)state;
    type("li\x02st\x04\r");
    assert_string_equal(ed.done, "list");
    assert_int_equal(ed.done_bad_control, 0x02); /* the first one */
    type("\xffx\r");
    assert_int_equal(ed.done_bad_control, 0xff);
    type("\x1dx\r"); /* Ctrl-] means nothing here */
    assert_int_equal(ed.done_bad_control, 0x1d);
    assert_int_equal(line_edit_feed(&ed, 0x00), LINE_EDIT_NONE); /* NUL (a break): quietly */
    type("x\r");
    assert_int_equal(ed.done_bad_control, 0);
}

static void test_escape_sequences_never_insert(void **state)
{
    (void)state;
    type("\x1b[1;5D"); /* Ctrl-Left: parameters, a known final byte */
    type("\x1b[200~"); /* bracketed paste start: unknown, dropped whole */
    type("\x1b[99999999999999999999A"); /* far too long: abandoned, the rest is typed */
    type("\x1bx"); /* a lone ESC: the x counts */
    type("\x1b");
    type("\x1b[");
    type("\x03"); /* Ctrl-C inside a sequence: ends it, counts on its own */
    assert_int_equal(ed.len, 0);
    type("ab");
    assert_string_equal(ed.buf, "ab");
}

static void test_ctrl_c_cancels(void **state)
{
    (void)state;
    type("restart x");
    assert_int_equal(line_edit_feed(&ed, 0x03), LINE_EDIT_CANCEL);
    assert_int_equal(ed.len, 0);
}

static void test_render(void **state)
{
    (void)state;
    char out[256];
    type("stats hello");
    size_t n = line_edit_render(&ed, "> ", out, sizeof(out));
    assert_string_equal(out, "\r> stats hello\x1b[K");
    assert_int_equal(n, strlen(out));
    type("\x1b[D\x1b[D\x1b[D");
    line_edit_render(&ed, "> ", out, sizeof(out));
    assert_string_equal(out, "\r> stats hello\x1b[K\x1b[3D");
    n = line_edit_render(&ed, "> ", out, 6); /* cut, still terminated */
    assert_int_equal(n, 5);
    assert_int_equal(strlen(out), 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_insert_and_enter, setup),
        cmocka_unit_test_setup(test_cr_lf_is_one_enter, setup),
        cmocka_unit_test_setup(test_backspace_and_kill, setup),
        cmocka_unit_test_setup(test_arrows_move_and_insert_in_the_middle, setup),
        cmocka_unit_test_setup(test_history, setup),
        cmocka_unit_test_setup(test_history_keeps_only_the_newest, setup),
        cmocka_unit_test_setup(test_overlong_line_is_flagged_not_cut_silently, setup),
        cmocka_unit_test_setup(test_control_bytes_are_flagged, setup),
        cmocka_unit_test_setup(test_escape_sequences_never_insert, setup),
        cmocka_unit_test_setup(test_ctrl_c_cancels, setup),
        cmocka_unit_test_setup(test_render, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
