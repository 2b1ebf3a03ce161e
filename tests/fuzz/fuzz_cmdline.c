/* Command-line options: input = one byte (value buffer size), a key, a NUL, the command line.
 * Checks that lookups stay inside their buffers, that a value found is NUL-terminated and as long
 * as returned, and that numbers parse as strtoull parses them.
 * FUZZ-SOURCES: kernel/lib/cmdline.c kernel/lib/string.c */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <tessera/cmdline.h>

/* strtoull as the reference for cmdline_parse_u64 (decimal or 0x-hex, digits only) */
static int reference_u64(const char *s, size_t len, uint64_t *out)
{
    char *buf;
    size_t start = len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? 2 : 0;
    int base = start ? 16 : 10;
    char *end;

    if (len == start)
        return -1;
    for (size_t i = start; i < len; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') ||
              (base == 16 && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))))
            return -1;
    }
    buf = malloc(len - start + 1);
    if (!buf)
        abort();
    memcpy(buf, s + start, len - start);
    buf[len - start] = 0;
    errno = 0;
    *out = strtoull(buf, &end, base);
    int bad = errno == ERANGE || *end;
    free(buf);
    return bad ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t value_size = data[0];
    const uint8_t *nul = memchr(data + 1, 0, size - 1);
    if (!nul)
        return 0;
    size_t key_len = (size_t)(nul - (data + 1));
    size_t line_len = size - 1 - key_len - 1;
    char *key = malloc(key_len + 1), *line = malloc(line_len + 1);
    char *value = malloc(value_size ? value_size : 1);
    uint64_t got, want;
    int r;

    if (!key || !line || !value)
        abort();
    memcpy(key, data + 1, key_len);
    key[key_len] = 0;
    memcpy(line, nul + 1, line_len);
    line[line_len] = 0; /* may hold NULs earlier: the line then simply ends there */

    r = cmdline_get(line, key, value, value_size);
    if (r >= 0) {
        if ((size_t)r >= value_size || strlen(value) != (size_t)r || !strstr(line, key))
            abort();
        if (r > 0 && !strstr(line, value))
            abort();
    } else if (r != -ENOENT && r != -E2BIG) {
        abort();
    }

    r = cmdline_get_u64(line, key, &got);
    if (r != 0 && r != -ENOENT && r != -EINVAL)
        abort();

    /* the whole line as one number, against the reference */
    size_t n = strlen(line);
    r = cmdline_parse_u64(line, n, &got);
    if ((r == 0) != (reference_u64(line, n, &want) == 0) || (r == 0 && got != want))
        abort();
    free(key);
    free(line);
    free(value);
    return 0;
}
