/* Formatted output. kvsnprintf is pure (host-testable): %d %i %u %x %X %p %s %c %% with
 * flags '-', '0', width, precision (for %s), and the length modifiers l, ll, z, h, hh. */
#ifndef TESSERA_PRINTF_H
#define TESSERA_PRINTF_H

#include <stdarg.h>
#include <stddef.h>

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* For refusals: writes the sentence into reason (when there is room for one) and returns err. */
int kreason(char *reason, size_t reason_len, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Hypervisor log: one call = whole lines to every console (serial, framebuffer). */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
