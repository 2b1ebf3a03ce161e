/* UNIT-SOURCES: kernel/lib/linebuf.c */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <tessera/linebuf.h>

/* Collects emitted lines, checking each is NUL-terminated at len. */
struct sink {
    int count;
    char lines[16][LINEBUF_MAX + 1];
    size_t lens[16];
    const char *tag;   /* which source, for the interleaving test */
    char log[2048];    /* "tag:line\n" for every emitted line, in order */
};

static void collect(void *ctx, const char *line, size_t len)
{
    struct sink *s = ctx;

    assert_true(len <= LINEBUF_MAX);
    assert_int_equal(strlen(line), len);
    assert_true(s->count < 16);
    memcpy(s->lines[s->count], line, len + 1);
    s->lens[s->count] = len;
    s->count++;
}

static void put(struct linebuf *lb, const char *s, struct sink *sink)
{
    linebuf_write(lb, s, strlen(s), collect, sink);
}

static void test_newline_emits_line_without_newline(void **state)
{
    (void)state;
    struct linebuf lb;
    struct sink s = { 0 };

    linebuf_init(&lb);
    put(&lb, "hello", &s);
    assert_int_equal(s.count, 0); /* nothing until the line ends */
    assert_int_equal(linebuf_pending(&lb), 5);
    put(&lb, "\nworld\n", &s);
    assert_int_equal(s.count, 2);
    assert_string_equal(s.lines[0], "hello");
    assert_string_equal(s.lines[1], "world");
    assert_int_equal(linebuf_pending(&lb), 0);
}

static void test_empty_lines_are_emitted(void **state)
{
    (void)state;
    struct linebuf lb;
    struct sink s = { 0 };

    linebuf_init(&lb);
    put(&lb, "\n\na\n", &s);
    assert_int_equal(s.count, 3);
    assert_int_equal(s.lens[0], 0);
    assert_int_equal(s.lens[1], 0);
    assert_string_equal(s.lines[2], "a");
}

static void test_carriage_returns_dropped(void **state)
{
    (void)state;
    struct linebuf lb;
    struct sink s = { 0 };

    linebuf_init(&lb);
    put(&lb, "dos line\r\n", &s);
    put(&lb, "10%\r20%\r30%\n", &s); /* lone CRs: one line, no blank lines */
    put(&lb, "\r\n", &s);
    assert_int_equal(s.count, 3);
    assert_string_equal(s.lines[0], "dos line");
    assert_string_equal(s.lines[1], "10%20%30%");
    assert_string_equal(s.lines[2], "");
}

static void test_control_and_non_ascii_replaced(void **state)
{
    (void)state;
    struct linebuf lb;
    struct sink s = { 0 };

    linebuf_init(&lb);
    put(&lb, "a\tb\x1b[31mred\x7f\x01\xc3\xa9~ \n", &s);
    linebuf_putc(&lb, '\0', collect, &s);
    linebuf_putc(&lb, '\n', collect, &s);
    assert_int_equal(s.count, 2);
    assert_string_equal(s.lines[0], "a\tb.[31mred....~ ");
    assert_string_equal(s.lines[1], ".");
}

static void test_full_buffer_emits_and_continues(void **state)
{
    (void)state;
    struct linebuf lb;
    struct sink s = { 0 };
    char longline[2 * LINEBUF_MAX + 11];

    for (size_t i = 0; i < sizeof(longline) - 1; i++)
        longline[i] = (char)('a' + i % 26);
    longline[sizeof(longline) - 1] = 0;

    linebuf_init(&lb);
    put(&lb, longline, &s);
    assert_int_equal(s.count, 2);
    assert_int_equal(s.lens[0], LINEBUF_MAX);
    assert_int_equal(s.lens[1], LINEBUF_MAX);
    assert_memory_equal(s.lines[0], longline, LINEBUF_MAX);
    assert_memory_equal(s.lines[1], longline + LINEBUF_MAX, LINEBUF_MAX);
    assert_int_equal(linebuf_pending(&lb), 10);
    put(&lb, "\n", &s);
    assert_int_equal(s.count, 3);
    assert_string_equal(s.lines[2], longline + 2 * LINEBUF_MAX);
}

static void test_exactly_full_line_then_newline_is_one_line(void **state)
{
    (void)state;
    struct linebuf lb;
    struct sink s = { 0 };
    char line[LINEBUF_MAX + 2];

    memset(line, 'x', LINEBUF_MAX);
    line[LINEBUF_MAX] = '\n';
    line[LINEBUF_MAX + 1] = 0;
    linebuf_init(&lb);
    put(&lb, line, &s);
    assert_int_equal(s.count, 1);
    assert_int_equal(s.lens[0], LINEBUF_MAX);
    put(&lb, "y\n", &s);
    assert_int_equal(s.count, 2);
    assert_string_equal(s.lines[1], "y");
}

static void test_flush(void **state)
{
    (void)state;
    struct linebuf lb;
    struct sink s = { 0 };

    linebuf_init(&lb);
    assert_int_equal(linebuf_flush(&lb, collect, &s), 0);
    assert_int_equal(s.count, 0);
    put(&lb, "partial", &s);
    assert_int_equal(linebuf_flush(&lb, collect, &s), 1);
    assert_int_equal(s.count, 1);
    assert_string_equal(s.lines[0], "partial");
    assert_int_equal(linebuf_flush(&lb, collect, &s), 0); /* nothing left */
    put(&lb, "next\n", &s);
    assert_string_equal(s.lines[1], "next");
}

/* Two sources writing byte by byte, interleaved: each line reaches the console whole. */
static void to_console(void *ctx, const char *line, size_t len)
{
    struct sink *s = ctx;
    (void)len;
    size_t used = strlen(s->log);
    snprintf(s->log + used, sizeof(s->log) - used, "[%s] %s\n", s->tag, line);
}

static void test_two_sources_never_mix(void **state)
{
    (void)state;
    struct linebuf a, b;
    static struct sink console;
    const char *ta = "one\ntwo\n", *tb = "alpha\nbeta\n";
    size_t la = strlen(ta), lb = strlen(tb);

    memset(&console, 0, sizeof(console));
    linebuf_init(&a);
    linebuf_init(&b);
    for (size_t i = 0; i < la || i < lb; i++) { /* byte by byte, alternating sources */
        if (i < la) {
            console.tag = "a";
            linebuf_putc(&a, ta[i], to_console, &console);
        }
        if (i < lb) {
            console.tag = "b";
            linebuf_putc(&b, tb[i], to_console, &console);
        }
    }
    assert_string_equal(console.log, "[a] one\n[b] alpha\n[a] two\n[b] beta\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_newline_emits_line_without_newline),
        cmocka_unit_test(test_empty_lines_are_emitted),
        cmocka_unit_test(test_carriage_returns_dropped),
        cmocka_unit_test(test_control_and_non_ascii_replaced),
        cmocka_unit_test(test_full_buffer_emits_and_continues),
        cmocka_unit_test(test_exactly_full_line_then_newline_is_one_line),
        cmocka_unit_test(test_flush),
        cmocka_unit_test(test_two_sources_never_mix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
