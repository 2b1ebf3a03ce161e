/* The console pump: moves VM output from the per-VM queues (tessera/outq.h) to the console sinks
 * as whole lines "PREFIX text\n", in bounded steps. Pure: the caller holds the console (one
 * consumer at a time) and supplies the sinks.
 *
 * - Line rules are linebuf's (tessera/linebuf.h): '\r' dropped, control bytes shown as '.', a
 *   line longer than LINEBUF_MAX broken into pieces.
 * - Fair: the sources are served round-robin, one line each per turn.
 * - Bounded: pump_run does at most `budget` bytes of work: bytes taken from queues plus bytes
 *   the sinks took (a sink is never offered more than the budget left; its own work per byte,
 *   drawing a glyph or an outb, is its bound).
 * - Non-blocking: a sink's try_write takes what it can now (maybe nothing); the line in progress
 *   resumes at the next pump_run, and nothing else reaches any sink before it is finished, so
 *   lines never tear. pump_write_sync (the hypervisor's own messages) first finishes that one
 *   line with the sinks' blocking write. */
#ifndef TESSERA_CONSOLE_PUMP_H
#define TESSERA_CONSOLE_PUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <tessera/console.h>
#include <tessera/linebuf.h>
#include <tessera/outq.h>

#define PUMP_PREFIX_MAX 40 /* "[name] ", longer prefixes are cut */
#define PUMP_LINE_MAX (8 + PUMP_PREFIX_MAX + LINEBUF_MAX + 1) /* before_line, prefix, text, '\n' */
#define PUMP_MAX_SOURCES 32

/* One producer of lines (a VM). The queue is the producer's; the rest belongs to the pump. */
struct pump_source {
    struct outq queue;
    char prefix[PUMP_PREFIX_MAX + 1];
    struct linebuf partial;      /* the line being assembled from the queue */
    bool ready;                  /* a whole line waits in ready_text */
    size_t ready_len;
    char ready_text[LINEBUF_MAX + 1];
};

struct console_pump {
    struct pump_source *sources[PUMP_MAX_SOURCES];
    /* The monitor's console session (pump_attach): only this source is served, its bytes go out
     * as they arrive, without prefix; the other sources wait. NULL: lines from all, prefixed. */
    struct pump_source *attached;
    /* Sent before the next line the pump starts, then forgotten (the monitor's prompt line is
     * erased this way: "\r" and clear-to-end); erased says that happened. */
    char before_line[8];
    size_t before_len;
    bool erased;
    bool mid_line;                /* the last byte to the sinks was not '\n' */
    unsigned source_count;
    unsigned next;                /* round-robin: the source asked first */
    bool busy;                    /* a line is on its way to the sinks */
    size_t len;                   /* each sink's share sent so far: sink->pump_sent */
    char line[PUMP_LINE_MAX];
};

/* A zeroed struct console_pump is an empty pump. */
/* Adds a source (empties its queue); -ENOSPC when PUMP_MAX_SOURCES are there. */
int pump_add_source(struct console_pump *p, struct pump_source *s, const char *prefix);

/* Moves lines to the sinks until budget bytes of work are done, no source has a whole
 * line, or a sink takes no more. Returns the work done. */
size_t pump_run(struct console_pump *p, struct console_sink *sinks, size_t budget);
/* The same, but only sinks with a try_write get bytes: a sink whose work is not bounded by its
 * bytes (a framebuffer scroll reads most of the screen back) waits for the next pump_run, and
 * the line in progress with it. For pumping from inside a guest's exit. */
size_t pump_run_nonblocking(struct console_pump *p, struct console_sink *sinks, size_t budget);

/* Serves only s (NULL: every source again), see struct console_pump; between lines. */
void pump_attach(struct console_pump *p, struct console_sink *sinks, struct pump_source *s);
/* Sets the bytes sent before the next line (at most 7; NULL/0: none). */
void pump_before_line(struct console_pump *p, const char *s, size_t n);

/* Finishes the line in progress, if any, with blocking writes (at most one line). */
void pump_finish_line(struct console_pump *p, struct console_sink *sinks);

/* Writes s to every sink with blocking writes, after the line in progress. */
void pump_write_sync(struct console_pump *p, struct console_sink *sinks, const char *s, size_t n);

/* Emits everything s has queued, its partial line included, with blocking writes (after the line
 * in progress): when its producer ends. At most OUTQ_SIZE bytes of queue. */
void pump_flush_source(struct console_pump *p, struct console_sink *sinks, struct pump_source *s);

#endif
