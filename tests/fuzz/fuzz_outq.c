/* libFuzzer harness for the per-VM output queues and the console pump (kernel/lib/outq.c,
 * kernel/lib/console_pump.c). The input is a program: writes into three sources, pump runs with
 * varying budgets against a sink that takes a varying number of bytes per call, hypervisor
 * messages, and source flushes. Checked throughout: a write never takes more than fits, pump_run
 * stays within its budget. Checked at the end, after everything is flushed: both sinks got the
 * same bytes; they are whole lines, each a hypervisor message or "PREFIX text"; and each source's
 * lines are exactly, in order, what its line assembly (kernel/lib/linebuf.c, the rules the
 * console promises) makes of the bytes its queue accepted.
 * Build: clang -fsanitize=fuzzer,address,undefined -DTESSERA_HOST_TEST -Ikernel/include
 *        -Iarch/x86/include -Idrivers/include tests/fuzz/fuzz_outq.c + the sources below. */
/* FUZZ-SOURCES: kernel/lib/outq.c kernel/lib/console_pump.c kernel/lib/linebuf.c */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tessera/console_pump.h>
#include <tessera/linebuf.h>
#include <tessera/outq.h>

#define SOURCES 3
#define OUT_MAX (1 << 20)
#define MESSAGE "tessera: a hypervisor message\n"

static const char *const prefixes[SOURCES] = { "[a] ", "[bb] ", "[ccc] " };

struct text {
    char *s;
    size_t len;
};

static void append(struct text *t, const char *s, size_t n)
{
    if (t->len + n > OUT_MAX)
        abort(); /* cannot happen with inputs libFuzzer makes: OUT_MAX is far above */
    memcpy(t->s + t->len, s, n);
    t->len += n;
}

static struct text seen_a, seen_b, expected[SOURCES];
static size_t a_per_call; /* what sink A's try_write takes per call */

static void write_a(const char *s, size_t n) { append(&seen_a, s, n); }
static void write_b(const char *s, size_t n) { append(&seen_b, s, n); }
static size_t try_a(const char *s, size_t n)
{
    if (n > a_per_call)
        n = a_per_call;
    append(&seen_a, s, n);
    return n;
}

/* The model: what the console should show for each source. */
struct model {
    struct linebuf lb;
    unsigned index;
};
static struct model models[SOURCES];

static void model_line(void *ctx, const char *line, size_t len)
{
    struct model *m = ctx;
    append(&expected[m->index], prefixes[m->index], strlen(prefixes[m->index]));
    append(&expected[m->index], line, len);
    append(&expected[m->index], "\n", 1);
}

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_outq: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct console_pump pump;
    static struct pump_source sources[SOURCES];
    static struct console_sink sink_a = { .name = "a", .write = write_a, .try_write = try_a };
    static struct console_sink sink_b = { .name = "b", .write = write_b };

    if (!seen_a.s) {
        seen_a.s = malloc(OUT_MAX);
        seen_b.s = malloc(OUT_MAX);
        for (int i = 0; i < SOURCES; i++)
            expected[i].s = malloc(OUT_MAX);
    }
    seen_a.len = seen_b.len = 0;
    memset(&pump, 0, sizeof(pump));
    for (unsigned i = 0; i < SOURCES; i++) {
        expected[i].len = 0;
        check(pump_add_source(&pump, &sources[i], prefixes[i]) == 0, "add source");
        linebuf_init(&models[i].lb);
        models[i].index = i;
    }
    sink_a.next = &sink_b;
    sink_b.next = NULL;
    a_per_call = 16;

    size_t at = 0;
    while (at < size) {
        uint8_t op = data[at++];
        unsigned k = (op >> 3) % SOURCES;
        switch (op & 7) {
        case 0: case 1: case 2: { /* a write of the next n input bytes (n up to 8 K) */
            size_t n = (size_t)(op >> 3) * 256 + (at < size ? data[at++] : 0);
            if (n > size - at)
                n = size - at;
            size_t room = outq_space(&sources[k].queue);
            size_t took = outq_write(&sources[k].queue, data + at, n);
            check(took == (n < room ? n : room), "write took what fits");
            linebuf_write(&models[k].lb, (const char *)data + at, took, model_line, &models[k]);
            at += n;
            break;
        }
        case 3: case 4: case 5: { /* a pump step */
            size_t budget = (size_t)(at < size ? data[at++] : 0) * 4 + 1;
            a_per_call = (op >> 3) % 20; /* 0: the sink is busy */
            size_t before = seen_a.len;
            size_t used = pump_run(&pump, &sink_a, budget);
            check(used <= budget, "pump_run within its budget");
            check(seen_a.len - before <= budget, "sink bytes within the budget");
            break;
        }
        case 6:
            pump_write_sync(&pump, &sink_a, MESSAGE, strlen(MESSAGE));
            break;
        case 7:
            pump_flush_source(&pump, &sink_a, &sources[k]);
            check(outq_used(&sources[k].queue) == 0, "flush empties the queue");
            linebuf_flush(&models[k].lb, model_line, &models[k]);
            break;
        }
    }
    /* the end: every source flushed, in order */
    a_per_call = SIZE_MAX;
    for (unsigned i = 0; i < SOURCES; i++) {
        pump_flush_source(&pump, &sink_a, &sources[i]);
        linebuf_flush(&models[i].lb, model_line, &models[i]);
    }
    check(!pump.busy, "no line in progress after the flushes");

    check(seen_a.len == seen_b.len && memcmp(seen_a.s, seen_b.s, seen_a.len) == 0,
          "both sinks got the same bytes");
    /* split into lines, route each to its source, compare */
    size_t got_at[SOURCES] = { 0 };
    size_t pos = 0;
    while (pos < seen_a.len) {
        const char *line = seen_a.s + pos;
        const char *nl = memchr(line, '\n', seen_a.len - pos);
        check(nl != NULL, "output ends with a whole line");
        size_t len = (size_t)(nl - line) + 1;
        if (len == strlen(MESSAGE) && memcmp(line, MESSAGE, len) == 0) {
            pos += len;
            continue;
        }
        int owner = -1;
        for (int i = 0; i < SOURCES; i++)
            if (len >= strlen(prefixes[i]) && memcmp(line, prefixes[i], strlen(prefixes[i])) == 0)
                owner = i;
        check(owner >= 0, "every line starts with a source's prefix");
        check(len <= strlen(prefixes[owner]) + LINEBUF_MAX + 1, "no line beyond the limit");
        struct text *want = &expected[owner];
        check(got_at[owner] + len <= want->len &&
                  memcmp(want->s + got_at[owner], line, len) == 0,
              "a source's lines are what it wrote, in order");
        got_at[owner] += len;
        pos += len;
    }
    for (int i = 0; i < SOURCES; i++)
        check(got_at[i] == expected[i].len, "every line of every source arrived");
    return 0;
}
