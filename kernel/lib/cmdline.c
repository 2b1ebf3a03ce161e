/* Command-line options: whitespace-separated words, each "key" or "key=value". Shared by the
 * hypervisor and the guests (guests/lib builds this file too), and host-tested. The first word of
 * a Multiboot command line is often the kernel's path, which simply never matches a key. */
#include <stdbool.h>
#include <tessera/cmdline.h>
#include <tessera/errno.h>
#include <tessera/string.h>

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Finds key in cmdline; returns the value's start and length, or NULL. */
static const char *find_value(const char *cmdline, const char *key, size_t *len)
{
    size_t key_len = strlen(key);
    const char *p = cmdline;
    if (!p || key_len == 0)
        return NULL;
    while (*p) {
        while (is_space(*p))
            p++;
        const char *word = p;
        while (*p && !is_space(*p))
            p++;
        size_t word_len = (size_t)(p - word);
        if (word_len < key_len || strncmp(word, key, key_len) != 0)
            continue;
        if (word_len == key_len) {
            *len = 0;
            return word + key_len;
        }
        if (word[key_len] == '=') {
            *len = word_len - key_len - 1;
            return word + key_len + 1;
        }
    }
    return NULL;
}

int cmdline_get(const char *cmdline, const char *key, char *value, size_t size)
{
    size_t len;
    const char *v = find_value(cmdline, key, &len);
    if (!v)
        return -ENOENT;
    if (size == 0 || len >= size)
        return -E2BIG;
    memcpy(value, v, len);
    value[len] = '\0';
    return (int)len;
}

int cmdline_parse_u64(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    unsigned base = 10;
    if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
        len -= 2;
    }
    if (len == 0)
        return -EINVAL;
    for (size_t i = 0; i < len; i++) {
        unsigned digit;
        char c = s[i];
        if (c >= '0' && c <= '9')
            digit = (unsigned)(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f')
            digit = (unsigned)(c - 'a' + 10);
        else if (base == 16 && c >= 'A' && c <= 'F')
            digit = (unsigned)(c - 'A' + 10);
        else
            return -EINVAL;
        /* v * base + digit must stay below 2^64; compare without 64-bit division */
        uint64_t limit = base == 16 ? (UINT64_MAX >> 4) : 1844674407370955161ULL;
        if (v > limit || (v == limit && base == 10 && digit > 5))
            return -EINVAL;
        v = v * base + digit;
    }
    *out = v;
    return 0;
}

int cmdline_get_u64(const char *cmdline, const char *key, uint64_t *out)
{
    size_t len;
    const char *v = find_value(cmdline, key, &len);
    if (!v)
        return -ENOENT;
    return cmdline_parse_u64(v, len, out);
}
