/* Console fan-out, kprintf and the console pump. One lock covers the sinks: the hypervisor's own
 * messages take it and write synchronously; VM output reaches the sinks only through the pump
 * (tessera/console_pump.h), which takes the lock only if it is free and does bounded work. */
#include <stdarg.h>
#include <tessera/console.h>
#include <tessera/console_pump.h>
#include <tessera/printf.h>
#include <tessera/spinlock.h>
#include <tessera/string.h>

static struct console_sink *sinks;
static struct spinlock console_lock;
static struct console_pump pump;
/* Set after a VM queues output, cleared by a pump that found nothing left to do: an idle console
 * costs each slice one load (console_pump, inline), not a scan of every queue. */
int console_output_pending;
#define output_pending console_output_pending
/* The monitor's prompt line is on the screen: the next line anyone writes erases it first. */
static bool prompt_visible;
static const char erase_line[] = "\r\x1b[K"; /* to column 0, clear to the end of the line */

/* Under the lock, before a synchronous write: the prompt line goes (the monitor redraws it);
 * in a console session, the VM's unfinished line (a shell's prompt) is ended first. */
static void erase_prompt(void)
{
    if (pump.attached) {
        pump_finish_line(&pump, sinks);
        if (pump.mid_line)
            pump_write_sync(&pump, sinks, "\n", 1);
    }
    if (!prompt_visible)
        return;
    pump_write_sync(&pump, sinks, erase_line, sizeof(erase_line) - 1);
    pump.mid_line = false;
    pump_before_line(&pump, NULL, 0);
    prompt_visible = false;
}

void console_note_output(void)
{
    if (!__atomic_load_n(&output_pending, __ATOMIC_RELAXED))
        __atomic_store_n(&output_pending, 1, __ATOMIC_SEQ_CST);
}

void console_register(struct console_sink *sink)
{
    spin_lock(&console_lock);
    pump_finish_line(&pump, sinks); /* the new sink joins between lines */
    sink->next = NULL;
    sink->pump_sent = 0;
    struct console_sink **p = &sinks;
    while (*p)
        p = &(*p)->next;
    *p = sink;
    spin_unlock(&console_lock);
}

void console_write(const char *s, size_t n)
{
    spin_lock(&console_lock);
    erase_prompt();
    pump_write_sync(&pump, sinks, s, n);
    spin_unlock(&console_lock);
}

void console_write_line(const char *prefix, const char *line, size_t n)
{
    spin_lock(&console_lock);
    erase_prompt();
    pump_write_sync(&pump, sinks, prefix, strlen(prefix));
    pump_write_sync(&pump, sinks, line, n);
    pump_write_sync(&pump, sinks, "\n", 1);
    spin_unlock(&console_lock);
}

int console_add_source(struct pump_source *source, const char *prefix)
{
    spin_lock(&console_lock);
    int err = pump_add_source(&pump, source, prefix);
    spin_unlock(&console_lock);
    return err;
}

static size_t pump_if_free(size_t budget, bool only_nonblocking)
{
    if (!__atomic_load_n(&output_pending, __ATOMIC_RELAXED))
        return 0; /* nothing queued since a pump found every queue done */
    if (!spin_trylock(&console_lock))
        return 0; /* another CPU is at the console: it pumps, we run our guests */
    /* cleared before the queues are read: a producer that queues after this sets it again */
    __atomic_store_n(&output_pending, 0, __ATOMIC_SEQ_CST);
    size_t done = only_nonblocking ? pump_run_nonblocking(&pump, sinks, budget)
                                   : pump_run(&pump, sinks, budget);
    /* stopped by the budget or a full sink, not by running out of lines: more to do */
    if (done >= budget || pump.busy)
        __atomic_store_n(&output_pending, 1, __ATOMIC_SEQ_CST);
    if (pump.erased) { /* a VM line took the prompt's place */
        pump.erased = false;
        prompt_visible = false;
    }
    spin_unlock(&console_lock);
    return done;
}

size_t console_pump_pending(size_t budget)
{
    return pump_if_free(budget, false);
}

size_t console_pump_in_exit(size_t budget)
{
    return pump_if_free(budget, true);
}

bool console_finish_source(struct pump_source *source)
{
    /* the check without the lock first: a queue still draining costs its CPU no lock traffic */
    if (outq_used(&source->queue) || !spin_trylock(&console_lock))
        return false;
    bool drained = outq_used(&source->queue) == 0 && !source->ready;
    if (drained)
        pump_flush_source(&pump, sinks, source); /* now only its partial line */
    spin_unlock(&console_lock);
    return drained;
}

void console_prompt_show(const char *s, size_t n)
{
    spin_lock(&console_lock);
    pump_write_sync(&pump, sinks, s, n);
    prompt_visible = true;
    pump.erased = false;
    pump_before_line(&pump, erase_line, sizeof(erase_line) - 1);
    spin_unlock(&console_lock);
}

void console_prompt_leave(void)
{
    spin_lock(&console_lock);
    if (prompt_visible) {
        pump_before_line(&pump, NULL, 0);
        prompt_visible = false;
        pump_write_sync(&pump, sinks, "\n", 1);
    }
    spin_unlock(&console_lock);
}

bool console_prompt_redraw_due(void)
{
    /* a line in progress (a VM's, or a kprintf without its newline yet) comes first */
    return !__atomic_load_n(&prompt_visible, __ATOMIC_RELAXED) &&
           !__atomic_load_n(&pump.busy, __ATOMIC_RELAXED) &&
           !__atomic_load_n(&pump.mid_line, __ATOMIC_RELAXED);
}

void console_attach(struct pump_source *source)
{
    spin_lock(&console_lock);
    erase_prompt();
    pump_attach(&pump, sinks, source);
    if (!source && pump.mid_line)
        pump_write_sync(&pump, sinks, "\n", 1); /* the session's last partial line ends here */
    __atomic_store_n(&output_pending, 1, __ATOMIC_SEQ_CST); /* held lines may go now */
    spin_unlock(&console_lock);
}

void kprintf(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n > (int)sizeof(buf) - 1)
        n = sizeof(buf) - 1;
    console_write(buf, (size_t)n);
}

/* The fault handler calls this before printing: a fault while a sink held the lock must not
 * deadlock the report. */
void console_emergency(void)
{
    spin_unlock(&console_lock);
}
