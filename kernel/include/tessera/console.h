/* The hypervisor's consoles: every sink (serial, framebuffer) gets every line. Writers hand over
 * whole lines, so output from different sources (the hypervisor, each VM) never mixes mid-line. */
#ifndef TESSERA_CONSOLE_H
#define TESSERA_CONSOLE_H

#include <stddef.h>

struct console_sink {
    const char *name;
    void (*write)(const char *s, size_t n);
    struct console_sink *next;
};

void console_register(struct console_sink *sink);
void console_write(const char *s, size_t n);
/* prefix + line + '\n' as one unit. */
void console_write_line(const char *prefix, const char *line, size_t n);

/* Drops the console lock unconditionally: only for the fatal-exception path. */
void console_emergency(void);

#endif
