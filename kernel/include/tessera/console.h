/* The hypervisor's consoles: every sink (serial, framebuffer) gets every line. Writers hand over
 * whole lines, so output from different sources (the hypervisor, each VM) never mixes mid-line.
 * The hypervisor's messages are written synchronously; VM output goes through per-VM queues and
 * the console pump, in bounded steps. */
#ifndef TESSERA_CONSOLE_H
#define TESSERA_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>

struct console_sink {
    const char *name;
    /* Blocking (bounded by the device's own timeouts): every byte is taken. */
    void (*write)(const char *s, size_t n);
    /* Optional, never waits: takes what the device can take now (maybe 0) and returns how much.
     * Without it the pump uses write. */
    size_t (*try_write)(const char *s, size_t n);
    struct console_sink *next;
    size_t pump_sent; /* the console pump's: how much of its line in progress this sink took */
};

void console_register(struct console_sink *sink);
void console_write(const char *s, size_t n);
/* prefix + line + '\n' as one unit. */
void console_write_line(const char *prefix, const char *line, size_t n);

/* VM output (kernel/vm.c): each VM's bytes go into its source's queue (outq_write, on the VM's
 * own CPU), and reach the sinks through the pump as whole lines "PREFIX text". */
struct pump_source;
/* Registers a source once, before its producer writes; -ENOSPC when the pump is full. */
int console_add_source(struct pump_source *source, const char *prefix);
/* Moves queued lines to the sinks, round-robin between sources, about budget bytes of work at
 * most. Never waits: returns 0 at once when another CPU holds the console. Each CPU calls it
 * between guest slices and while idle. Returns the work done. */
size_t console_pump_pending(size_t budget);
extern int console_output_pending; /* see console.c */
static inline size_t console_pump(size_t budget)
{
    if (!__atomic_load_n(&console_output_pending, __ATOMIC_RELAXED))
        return 0; /* nothing queued since a pump found every queue done */
    return console_pump_pending(budget);
}
/* A VM's producer calls this after queueing output, so the next pump looks at the queues. */
void console_note_output(void);
/* The same from inside a guest's exit: only sinks that never wait (the serial port's FIFO) get
 * bytes; the screen, whose scrolling costs far more than its bytes, waits for console_pump. */
size_t console_pump_in_exit(size_t budget);
/* When its VM has ended: once the pump has emitted everything source queued (no byte queued, no
 * whole line waiting), emits its partial line (at most LINEBUF_MAX bytes, after the line in
 * progress) and returns true. Otherwise, or while another CPU holds the console, does nothing
 * and returns false: bounded work, called again later. */
bool console_finish_source(struct pump_source *source);
/* Work per console_pump call between slices, and on a VM's own output exits (kernel/vm.c). */
#define CONSOLE_PUMP_BUDGET 512
#define CONSOLE_PUMP_EXIT_BUDGET 64

/* The monitor's prompt line (kernel/monitor/monitor.c): console_prompt_show writes it (it starts
 * with "\r" and ends with clear-to-end-of-line) and marks it shown; the next line written by
 * anyone (a VM line from the pump, a kprintf) first erases it ("\r", clear to the end), after
 * which console_prompt_redraw_due says the monitor should draw it again. console_prompt_leave
 * ends it with a newline, leaving what was typed on the screen. */
void console_prompt_show(const char *s, size_t n);
void console_prompt_leave(void);
bool console_prompt_redraw_due(void);
/* The monitor's console session: only source's output reaches the sinks, unprefixed and as it
 * comes; the other VMs' lines wait in their queues. NULL ends the session. */
void console_attach(struct pump_source *source);

/* Drops the console lock unconditionally: only for the fatal-exception path. */
void console_emergency(void);

#endif
