/* Per-VM output queues and the console pump: backpressure, wrap-around, whole lines, fairness,
 * the work budget, sinks that take a few bytes at a time, overlong lines, flushing. */
/* UNIT-SOURCES: kernel/lib/outq.c kernel/lib/console_pump.c kernel/lib/linebuf.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <tessera/console_pump.h>
#include <tessera/outq.h>

/* ---- the queue ------------------------------------------------------------------------------ */

static void test_queue_backpressure(void **state)
{
    (void)state;
    static struct outq q;
    static uint8_t big[OUTQ_SIZE + 100];
    memset(big, 'x', sizeof(big));
    outq_init(&q);
    assert_int_equal(outq_space(&q), OUTQ_SIZE);
    assert_int_equal(outq_write(&q, big, 100), 100);
    /* more than fits: a short write, never an overwrite */
    assert_int_equal(outq_write(&q, big, sizeof(big)), OUTQ_SIZE - 100);
    assert_int_equal(outq_space(&q), 0);
    assert_int_equal(outq_write(&q, big, 1), 0);
    assert_int_equal(outq_used(&q), OUTQ_SIZE);
    uint8_t out[10];
    assert_int_equal(outq_read(&q, out, sizeof(out)), 10);
    assert_int_equal(outq_space(&q), 10);
    assert_int_equal(outq_write(&q, big, 50), 10);
}

static void test_queue_wraps_in_order(void **state)
{
    (void)state;
    static struct outq q;
    outq_init(&q);
    uint8_t in[1000], out[1000];
    unsigned next_in = 0, next_out = 0;
    /* many laps of the ring with odd-sized writes and reads: every byte comes out once, in order */
    for (int round = 0; round < 200; round++) {
        size_t n = (size_t)(round * 37 % 997) + 1;
        for (size_t i = 0; i < n; i++)
            in[i] = (uint8_t)(next_in + i);
        size_t w = outq_write(&q, in, n);
        next_in += (unsigned)w;
        size_t r = outq_read(&q, out, (size_t)(round * 53 % 991) + 1);
        for (size_t i = 0; i < r; i++)
            assert_int_equal(out[i], (uint8_t)(next_out + i));
        next_out += (unsigned)r;
    }
    assert_int_equal(outq_used(&q), next_in - next_out);
}

/* outq_put: one byte, the same queue as outq_write; refused when full, in order across the wrap
 * of the buffer and of the 32-bit indices. */
static void test_queue_put(void **state)
{
    (void)state;
    static struct outq q;
    outq_init(&q);
    q.head = q.tail = UINT32_MAX - 2;
    for (unsigned i = 0; i < OUTQ_SIZE; i++)
        assert_true(outq_put(&q, (uint8_t)i));
    assert_false(outq_put(&q, 0xaa));
    assert_int_equal(outq_space(&q), 0);
    assert_int_equal(outq_used(&q), OUTQ_SIZE);
    uint8_t out[3];
    assert_int_equal(outq_read(&q, out, sizeof(out)), 3);
    assert_int_equal(out[0], 0);
    assert_int_equal(out[2], 2);
    assert_true(outq_put(&q, 0xbb));
    assert_int_equal(outq_space(&q), 2);
    static uint8_t rest[OUTQ_SIZE];
    assert_int_equal(outq_read(&q, rest, sizeof(rest)), OUTQ_SIZE - 2);
    for (unsigned i = 0; i < OUTQ_SIZE - 3; i++)
        assert_int_equal(rest[i], (uint8_t)(i + 3));
    assert_int_equal(rest[OUTQ_SIZE - 3], 0xbb);
}

static void test_queue_indices_wrap_at_2_32(void **state)
{
    (void)state;
    static struct outq q;
    outq_init(&q);
    q.head = q.tail = UINT32_MAX - 5; /* as after 4 G bytes */
    assert_int_equal(outq_write(&q, "abcdefghij", 10), 10);
    assert_int_equal(outq_used(&q), 10);
    char out[16];
    assert_int_equal(outq_read(&q, out, sizeof(out)), 10);
    assert_memory_equal(out, "abcdefghij", 10);
    assert_int_equal(outq_space(&q), OUTQ_SIZE);
}

static void test_queue_peek_then_discard(void **state)
{
    (void)state;
    static struct outq q;
    outq_init(&q);
    outq_write(&q, "hello", 5);
    char out[8];
    assert_int_equal(outq_peek(&q, out, 3), 3);
    assert_memory_equal(out, "hel", 3);
    assert_int_equal(outq_used(&q), 5); /* peeking takes nothing */
    outq_discard(&q, 2);
    assert_int_equal(outq_read(&q, out, sizeof(out)), 3);
    assert_memory_equal(out, "llo", 3);
    outq_discard(&q, 10); /* more than there is: only what there is */
    assert_int_equal(outq_used(&q), 0);
    assert_int_equal(outq_space(&q), OUTQ_SIZE);
}

/* ---- sinks that record what they got ---------------------------------------------------------- */

#define LOG_MAX (1 << 20)
struct record {
    char text[LOG_MAX];
    size_t len;
    size_t per_call; /* try_write takes at most this many (0: nothing) */
    unsigned calls;
};
static struct record rec_a, rec_b;

static void record(struct record *r, const char *s, size_t n)
{
    assert_true(r->len + n < LOG_MAX);
    memcpy(r->text + r->len, s, n);
    r->len += n;
    r->text[r->len] = 0;
}
static void write_a(const char *s, size_t n) { record(&rec_a, s, n); }
static void write_b(const char *s, size_t n) { record(&rec_b, s, n); }
/* A sink that takes at most per_call bytes a call. */
static size_t try_record(struct record *r, const char *s, size_t n)
{
    r->calls++;
    if (n > r->per_call)
        n = r->per_call;
    record(r, s, n);
    return n;
}
static size_t try_a(const char *s, size_t n) { return try_record(&rec_a, s, n); }
static size_t try_b(const char *s, size_t n) { return try_record(&rec_b, s, n); }

static struct console_sink sink_a = { .name = "a", .write = write_a, .try_write = try_a };
static struct console_sink sink_b = { .name = "b", .write = write_b, .try_write = try_b };
static struct console_sink sink_plain = { .name = "plain", .write = write_b };

static struct console_pump pump;
static struct pump_source src[3];

static int setup(void **state)
{
    (void)state;
    memset(&pump, 0, sizeof(pump));
    memset(&rec_a, 0, sizeof(rec_a));
    memset(&rec_b, 0, sizeof(rec_b));
    rec_a.per_call = rec_b.per_call = SIZE_MAX;
    sink_a.next = NULL;
    sink_b.next = NULL;
    sink_plain.next = NULL;
    assert_int_equal(pump_add_source(&pump, &src[0], "[flood] "), 0);
    assert_int_equal(pump_add_source(&pump, &src[1], "[quiet] "), 0);
    assert_int_equal(pump_add_source(&pump, &src[2], "[third] "), 0);
    return 0;
}

static void put(int i, const char *s)
{
    assert_int_equal(outq_write(&src[i].queue, s, strlen(s)), strlen(s));
}

static void run_all(struct console_sink *sinks)
{
    for (int i = 0; i < 100000 && pump_run(&pump, sinks, 64); i++)
        ;
}

static void test_whole_lines_with_prefix(void **state)
{
    (void)state;
    put(0, "one\r\ntwo\n\x1b[2Jthree");
    run_all(&sink_a);
    /* the partial "three" waits for its end */
    assert_string_equal(rec_a.text, "[flood] one\n[flood] two\n");
    put(0, "\n");
    run_all(&sink_a);
    assert_string_equal(rec_a.text, "[flood] one\n[flood] two\n[flood] .[2Jthree\n");
}

/* A VM that floods does not keep a quiet one's line waiting more than one line. */
static void test_fair_between_flooding_and_quiet(void **state)
{
    (void)state;
    char many[OUTQ_SIZE];
    memset(many, '\n', sizeof(many));
    assert_int_equal(outq_write(&src[0].queue, many, sizeof(many)), sizeof(many));
    put(1, "hello\n");
    put(1, "again\n");
    run_all(&sink_a);
    /* line 1: the flood's (its turn first), line 2: quiet's, line 3: flood, line 4: quiet */
    const char *want = "[flood] \n[quiet] hello\n[flood] \n[quiet] again\n[flood] \n";
    assert_memory_equal(rec_a.text, want, strlen(want));
    /* and every flood line arrived */
    size_t flood = 0;
    for (const char *p = rec_a.text; (p = strstr(p, "[flood] \n")); p++)
        flood++;
    assert_int_equal(flood, OUTQ_SIZE);
}

/* A sink that takes 3 bytes per call: lines still come out whole and unmixed, on every sink. */
static void test_no_tearing_with_slow_sink(void **state)
{
    (void)state;
    sink_a.next = &sink_b;
    rec_a.per_call = 3;
    rec_b.per_call = 1;
    put(0, "alpha beta gamma\n");
    put(1, "quiet line\n");
    put(2, "third\n");
    size_t before = rec_a.len;
    pump_run(&pump, &sink_a, 1000);
    assert_true(rec_a.len - before <= 3); /* try_write said no more: the pump stopped */
    /* a hypervisor message in the middle: it waits for the line in progress, then goes whole */
    pump_write_sync(&pump, &sink_a, "tessera: hello\n", 15);
    run_all(&sink_a);
    const char *want = "[flood] alpha beta gamma\ntessera: hello\n[quiet] quiet line\n[third] third\n";
    assert_string_equal(rec_a.text, want);
    assert_string_equal(rec_b.text, want);
}

/* pump_run does at most budget bytes of work: queue bytes taken plus sink bytes. */
static void test_budget_bound(void **state)
{
    (void)state;
    char many[OUTQ_SIZE];
    memset(many, 'y', sizeof(many));
    for (size_t i = 99; i < sizeof(many); i += 100)
        many[i] = '\n';
    outq_write(&src[0].queue, many, sizeof(many));
    size_t before = rec_a.len;
    size_t used = pump_run(&pump, &sink_a, 50);
    assert_true(used <= 50);
    assert_true(rec_a.len - before <= 50);
    /* with budget 50 and 100-byte lines, each call moves the line on but never beyond it */
    for (int i = 0; i < 10; i++) {
        before = rec_a.len;
        used = pump_run(&pump, &sink_a, 50);
        assert_true(used <= 50);
        assert_true(rec_a.len - before <= 50);
    }
    run_all(&sink_a);
    assert_int_equal(rec_a.len, (sizeof(many) / 100) * (8 + 99 + 1));
}

/* A sink that takes nothing blocks nobody's exit: pump_run returns, the line waits. */
static void test_stuck_sink_returns(void **state)
{
    (void)state;
    rec_a.per_call = 0;
    put(0, "x\n");
    assert_int_equal(pump_run(&pump, &sink_a, 1000), 2); /* two queue bytes taken, none sent */
    assert_int_equal(pump_run(&pump, &sink_a, 1000), 0);
    assert_int_equal(rec_a.len, 0);
    rec_a.per_call = SIZE_MAX;
    run_all(&sink_a);
    assert_string_equal(rec_a.text, "[flood] x\n");
}

static void test_overlong_line_broken(void **state)
{
    (void)state;
    char line[LINEBUF_MAX * 2 + 11];
    for (size_t i = 0; i < sizeof(line) - 1; i++)
        line[i] = (char)('a' + i % 26);
    line[sizeof(line) - 1] = '\n';
    outq_write(&src[0].queue, line, sizeof(line));
    run_all(&sink_plain);
    char want[4 * LINEBUF_MAX];
    int n = snprintf(want, sizeof(want), "[flood] %.*s\n[flood] %.*s\n[flood] %.*s\n",
                     LINEBUF_MAX, line, LINEBUF_MAX, line + LINEBUF_MAX, 10, line + 2 * LINEBUF_MAX);
    assert_int_equal(rec_b.len, (size_t)n);
    assert_string_equal(rec_b.text, want);
}

/* A source's end: everything queued and the partial line go out at once, after the line in
 * progress, and the queue is empty afterwards. */
static void test_flush_source(void **state)
{
    (void)state;
    rec_a.per_call = 4;
    put(1, "quiet one\n");
    put(0, "a\nb\nno end");
    pump_run(&pump, &sink_a, 1000); /* "[flood] a\n" in progress, 4 bytes out */
    pump_flush_source(&pump, &sink_a, &src[1]);
    assert_string_equal(rec_a.text, "[flood] a\n[quiet] quiet one\n");
    pump_flush_source(&pump, &sink_a, &src[0]);
    assert_string_equal(rec_a.text, "[flood] a\n[quiet] quiet one\n[flood] b\n[flood] no end\n");
    assert_int_equal(outq_used(&src[0].queue), 0);
    pump_flush_source(&pump, &sink_a, &src[0]); /* nothing left: nothing printed */
    assert_int_equal(rec_a.len, strlen("[flood] a\n[quiet] quiet one\n[flood] b\n[flood] no end\n"));
}

static void test_source_limit(void **state)
{
    (void)state;
    static struct pump_source many[PUMP_MAX_SOURCES + 1];
    static struct console_pump p;
    memset(&p, 0, sizeof(p));
    for (int i = 0; i < PUMP_MAX_SOURCES; i++)
        assert_int_equal(pump_add_source(&p, &many[i], "[x] "), 0);
    assert_true(pump_add_source(&p, &many[PUMP_MAX_SOURCES], "[x] ") < 0);
}

/* From inside an exit only sinks that never wait get bytes: the blocking one (a framebuffer,
 * whose scroll costs far more than its bytes) waits, and the line with it, for a normal pump. */
static void test_nonblocking_pump_skips_blocking_sinks(void **state)
{
    (void)state;
    sink_a.next = &sink_plain;
    put(0, "first\n");
    put(1, "second\n");
    for (int i = 0; i < 10; i++)
        pump_run_nonblocking(&pump, &sink_a, 64);
    assert_string_equal(rec_a.text, "[flood] first\n"); /* the serial side of one line */
    assert_int_equal(rec_b.len, 0);                     /* the blocking sink was never called */
    run_all(&sink_a);
    assert_string_equal(rec_a.text, "[flood] first\n[quiet] second\n");
    assert_string_equal(rec_b.text, "[flood] first\n[quiet] second\n");
}

/* The monitor's console session: only the attached source goes out, unprefixed and as it comes
 * (a shell prompt without a newline included), with linebuf's byte rules; the others wait and
 * follow, prefixed, once it ends. */
static void test_attached_source_raw_others_held(void **state)
{
    (void)state;
    put(0, "before\nhalf");
    put(1, "quiet line\n");
    pump_attach(&pump, &sink_a, &src[0]);
    run_all(&sink_a);
    /* its assembled line and its partial one, then nothing of src[1] */
    assert_string_equal(rec_a.text, "before\nhalf");
    put(0, "~ # \x1b[6n\r\n");
    run_all(&sink_a);
    assert_string_equal(rec_a.text, "before\nhalf~ # .[6n\n");
    assert_false(pump.mid_line);
    put(0, "\tab\bc");
    run_all(&sink_a);
    assert_string_equal(rec_a.text, "before\nhalf~ # .[6n\n\tab\bc");
    assert_true(pump.mid_line);
    assert_int_equal(outq_used(&src[1].queue), strlen("quiet line\n")); /* held */
    pump_attach(&pump, &sink_a, NULL);
    put(0, "d\n");
    run_all(&sink_a);
    assert_string_equal(rec_a.text, "before\nhalf~ # .[6n\n\tab\bc[flood] d\n[quiet] quiet line\n");
}

/* The prompt's erase goes before the next line started, once; pump_write_sync tracks mid_line. */
static void test_before_line_once(void **state)
{
    (void)state;
    pump_write_sync(&pump, &sink_a, "prompt> ", 8);
    assert_true(pump.mid_line);
    pump_before_line(&pump, "\r\x1b[K", 4);
    put(1, "x\n");
    put(2, "y\n");
    run_all(&sink_a);
    assert_string_equal(rec_a.text, "prompt> \r\x1b[K[quiet] x\n[third] y\n");
    assert_true(pump.erased);
    assert_false(pump.mid_line);
    pump_before_line(&pump, "toolongforit", 12); /* refused: nothing is sent */
    put(1, "z\n");
    run_all(&sink_a);
    assert_string_equal(rec_a.text, "prompt> \r\x1b[K[quiet] x\n[third] y\n[quiet] z\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_queue_backpressure),
        cmocka_unit_test(test_queue_wraps_in_order),
        cmocka_unit_test(test_queue_indices_wrap_at_2_32),
        cmocka_unit_test(test_queue_put),
        cmocka_unit_test(test_queue_peek_then_discard),
        cmocka_unit_test_setup(test_whole_lines_with_prefix, setup),
        cmocka_unit_test_setup(test_fair_between_flooding_and_quiet, setup),
        cmocka_unit_test_setup(test_no_tearing_with_slow_sink, setup),
        cmocka_unit_test_setup(test_budget_bound, setup),
        cmocka_unit_test_setup(test_stuck_sink_returns, setup),
        cmocka_unit_test_setup(test_overlong_line_broken, setup),
        cmocka_unit_test_setup(test_flush_source, setup),
        cmocka_unit_test_setup(test_nonblocking_pump_skips_blocking_sinks, setup),
        cmocka_unit_test(test_source_limit),
        cmocka_unit_test_setup(test_attached_source_raw_others_held, setup),
        cmocka_unit_test_setup(test_before_line_once, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
