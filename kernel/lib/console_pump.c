/* Console pump: queued VM output to the sinks, line by line, bounded. See tessera/console_pump.h. */
#include <tessera/console_pump.h>
#include <tessera/errno.h>
#include <tessera/string.h>

int pump_add_source(struct console_pump *p, struct pump_source *s, const char *prefix)
{
    if (p->source_count >= PUMP_MAX_SOURCES)
        return -ENOSPC;
    outq_init(&s->queue);
    linebuf_init(&s->partial);
    s->ready = false;
    size_t n = strlen(prefix);
    if (n > PUMP_PREFIX_MAX)
        n = PUMP_PREFIX_MAX;
    memcpy(s->prefix, prefix, n);
    s->prefix[n] = 0;
    p->sources[p->source_count++] = s;
    return 0;
}

static void take_line(void *ctx, const char *line, size_t len)
{
    struct pump_source *s = ctx;
    memcpy(s->ready_text, line, len);
    s->ready_len = len;
    s->ready = true;
}

/* Feeds queued bytes to s's line assembly until a whole line is ready, the queue is empty, or
 * max bytes were taken; returns how many were taken. One byte completes at most one line, so
 * stopping right after it loses nothing. */
static size_t assemble(struct pump_source *s, size_t max)
{
    size_t taken = 0;
    char chunk[64];
    while (!s->ready && taken < max) {
        size_t want = max - taken < sizeof(chunk) ? max - taken : sizeof(chunk);
        size_t n = outq_peek(&s->queue, chunk, want), used = 0;
        if (n == 0)
            break;
        while (used < n && !s->ready)
            linebuf_putc(&s->partial, chunk[used++], take_line, s);
        outq_discard(&s->queue, used); /* the rest stays queued for the next line */
        taken += used;
    }
    return taken;
}

/* The line in p->line (len bytes after the before_line bytes) goes out next. */
static void begin(struct console_pump *p, struct console_sink *sinks, size_t len)
{
    p->len = len;
    p->mid_line = len && p->line[len - 1] != '\n';
    for (struct console_sink *k = sinks; k; k = k->next)
        k->pump_sent = 0;
    p->busy = true;
}

/* Puts the before_line bytes at the start of p->line; returns how many. */
static size_t take_before_line(struct console_pump *p)
{
    size_t n = p->before_len;
    if (n) {
        memcpy(p->line, p->before_line, n);
        p->before_len = 0;
        p->erased = true;
    }
    return n;
}

static void start_line(struct console_pump *p, struct console_sink *sinks, struct pump_source *s)
{
    size_t n = take_before_line(p);
    if (p->attached != s) {
        size_t prefix = strlen(s->prefix);
        memcpy(p->line + n, s->prefix, prefix);
        n += prefix;
    }
    memcpy(p->line + n, s->ready_text, s->ready_len);
    n += s->ready_len;
    p->line[n++] = '\n';
    s->ready = false;
    begin(p, sinks, n);
}

/* The attached source: what it has, as it comes (a shell's prompt has no newline), up to one
 * newline at a time, with linebuf's byte rules ('\r' dropped, control bytes but tab and
 * backspace shown as '.'). Returns false when it has nothing. */
static bool pick_attached(struct console_pump *p, struct console_sink *sinks, size_t budget,
                          size_t *used)
{
    struct pump_source *s = p->attached;
    if (s->ready) { /* a line assembled before the session began */
        start_line(p, sinks, s);
        return true;
    }
    size_t n = take_before_line(p);
    if (s->partial.len) {
        memcpy(p->line + n, s->partial.text, s->partial.len);
        n += s->partial.len;
        linebuf_init(&s->partial);
        begin(p, sinks, n);
        return true;
    }
    char chunk[64];
    size_t want = budget - *used < sizeof(chunk) ? budget - *used : sizeof(chunk);
    size_t got = outq_peek(&s->queue, chunk, want), taken = 0;
    while (taken < got) {
        unsigned char b = (unsigned char)chunk[taken++];
        if (b == '\r')
            continue;
        if ((b < 0x20 && b != '\t' && b != '\b' && b != '\n') || b >= 0x7f)
            b = '.';
        p->line[n++] = (char)b;
        if (b == '\n')
            break;
    }
    outq_discard(&s->queue, taken);
    *used += taken;
    if (n == 0)
        return false;
    begin(p, sinks, n);
    return true;
}

/* The next source, round-robin, with a whole line: that line becomes the one in progress.
 * Returns false when none has one (or the budget ran out looking). */
static bool pick_line(struct console_pump *p, struct console_sink *sinks, size_t budget,
                      size_t *used)
{
    if (p->attached)
        return pick_attached(p, sinks, budget, used);
    for (unsigned k = 0; k < p->source_count && *used < budget; k++) {
        unsigned index = (p->next + k) % p->source_count;
        struct pump_source *s = p->sources[index];
        *used += assemble(s, budget - *used);
        if (s->ready) {
            start_line(p, sinks, s);
            p->next = (index + 1) % p->source_count;
            return true;
        }
    }
    return false;
}

/* Offers the rest of the line to every sink, within the budget; true when all have taken it. */
static bool push_line(struct console_pump *p, struct console_sink *sinks, size_t budget,
                      size_t *used, bool only_nonblocking)
{
    bool done = true;
    for (struct console_sink *k = sinks; k; k = k->next) {
        if (k->pump_sent >= p->len)
            continue;
        size_t want = p->len - k->pump_sent, room = budget > *used ? budget - *used : 0;
        if (want > room)
            want = room;
        size_t took = 0;
        if (want && k->try_write) {
            took = k->try_write(p->line + k->pump_sent, want);
            if (took > want)
                took = want; /* a sink's bug must not run us past the line */
        } else if (want && !only_nonblocking) {
            k->write(p->line + k->pump_sent, want);
            took = want;
        }
        k->pump_sent += took;
        *used += took;
        if (k->pump_sent < p->len)
            done = false;
    }
    return done;
}

static size_t run(struct console_pump *p, struct console_sink *sinks, size_t budget,
                  bool only_nonblocking)
{
    size_t used = 0;
    while (used < budget) {
        if (!p->busy && !pick_line(p, sinks, budget, &used))
            break;
        if (!push_line(p, sinks, budget, &used, only_nonblocking))
            break; /* a sink is full, or the budget is spent: resume next time */
        p->busy = false;
    }
    return used;
}

size_t pump_run(struct console_pump *p, struct console_sink *sinks, size_t budget)
{
    return run(p, sinks, budget, false);
}

size_t pump_run_nonblocking(struct console_pump *p, struct console_sink *sinks, size_t budget)
{
    return run(p, sinks, budget, true);
}

void pump_finish_line(struct console_pump *p, struct console_sink *sinks)
{
    if (!p->busy)
        return;
    for (struct console_sink *k = sinks; k; k = k->next)
        if (k->pump_sent < p->len) {
            k->write(p->line + k->pump_sent, p->len - k->pump_sent);
            k->pump_sent = p->len;
        }
    p->busy = false;
}

static void write_all(struct console_sink *sinks, const char *s, size_t n)
{
    for (struct console_sink *k = sinks; k; k = k->next)
        k->write(s, n);
}

void pump_write_sync(struct console_pump *p, struct console_sink *sinks, const char *s, size_t n)
{
    pump_finish_line(p, sinks);
    write_all(sinks, s, n);
    if (n)
        p->mid_line = s[n - 1] != '\n';
}

void pump_attach(struct console_pump *p, struct console_sink *sinks, struct pump_source *s)
{
    pump_finish_line(p, sinks);
    p->attached = s;
}

void pump_before_line(struct console_pump *p, const char *s, size_t n)
{
    if (!s || n >= sizeof(p->before_line))
        n = 0;
    if (n)
        memcpy(p->before_line, s, n);
    p->before_len = n;
}

void pump_flush_source(struct console_pump *p, struct console_sink *sinks, struct pump_source *s)
{
    pump_finish_line(p, sinks);
    for (;;) {
        assemble(s, OUTQ_SIZE);
        if (!s->ready && !linebuf_flush(&s->partial, take_line, s))
            return; /* queue empty, nothing partial */
        start_line(p, sinks, s);
        pump_finish_line(p, sinks);
    }
}
