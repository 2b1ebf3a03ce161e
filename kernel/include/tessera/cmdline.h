/* Command lines of the form "key=value flag key2=value2" (pure, host-tested). */
#ifndef TESSERA_CMDLINE_H
#define TESSERA_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Copies the value of key into val (empty for a bare flag). False when key is absent or the value
 * does not fit. */
bool cmdline_get(const char *cmdline, const char *key, char *val, size_t val_len);
/* Decimal or 0x-hex value of key; false when absent or malformed. */
bool cmdline_get_u64(const char *cmdline, const char *key, uint64_t *out);

#endif
