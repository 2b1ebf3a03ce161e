/* Command lines of the form "key=value flag key2=value2" (pure, host-tested). */
#ifndef TESSERA_CMDLINE_H
#define TESSERA_CMDLINE_H

#include <stddef.h>
#include <stdint.h>

/* Copies the value of key (empty for a bare flag) into value. Returns its length, -ENOENT when
 * the key is absent, -E2BIG when the value does not fit. */
int cmdline_get(const char *cmdline, const char *key, char *value, size_t size);
/* Decimal or 0x-hex value of key: 0, -ENOENT, or -EINVAL (malformed or above 2^64-1). */
int cmdline_get_u64(const char *cmdline, const char *key, uint64_t *out);
/* Parses len characters of decimal or 0x-hex: 0 or -EINVAL. */
int cmdline_parse_u64(const char *s, size_t len, uint64_t *out);

#endif
