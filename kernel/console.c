/* Console fan-out and kprintf. One lock covers a whole write so lines stay whole. */
#include <stdarg.h>
#include <tessera/console.h>
#include <tessera/printf.h>
#include <tessera/spinlock.h>
#include <tessera/string.h>

static struct console_sink *sinks;
static struct spinlock console_lock;

void console_register(struct console_sink *sink)
{
    spin_lock(&console_lock);
    sink->next = NULL;
    struct console_sink **p = &sinks;
    while (*p)
        p = &(*p)->next;
    *p = sink;
    spin_unlock(&console_lock);
}

static void write_all(const char *s, size_t n)
{
    for (struct console_sink *k = sinks; k; k = k->next)
        k->write(s, n);
}

void console_write(const char *s, size_t n)
{
    spin_lock(&console_lock);
    write_all(s, n);
    spin_unlock(&console_lock);
}

void console_write_line(const char *prefix, const char *line, size_t n)
{
    spin_lock(&console_lock);
    write_all(prefix, strlen(prefix));
    write_all(line, n);
    write_all("\n", 1);
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
