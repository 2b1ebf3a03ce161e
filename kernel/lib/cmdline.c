/* Command-line options: whitespace-separated words, each "key" or "key=value". */
#include <tessera/cmdline.h>
#include <tessera/string.h>

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool cmdline_get(const char *cmdline, const char *key, char *val, size_t val_len)
{
    size_t key_len = strlen(key);
    const char *p = cmdline;
    while (p && *p) {
        while (is_space(*p))
            p++;
        const char *word = p;
        while (*p && !is_space(*p))
            p++;
        size_t len = (size_t)(p - word);
        if (len >= key_len && strncmp(word, key, key_len) == 0 &&
            (len == key_len || word[key_len] == '=')) {
            size_t vlen = len == key_len ? 0 : len - key_len - 1;
            if (vlen + 1 > val_len)
                return false;
            memcpy(val, word + key_len + (len == key_len ? 0 : 1), vlen);
            val[vlen] = '\0';
            return true;
        }
    }
    return false;
}

bool cmdline_get_u64(const char *cmdline, const char *key, uint64_t *out)
{
    char buf[24];
    if (!cmdline_get(cmdline, key, buf, sizeof(buf)) || !buf[0])
        return false;
    const char *s = buf;
    unsigned base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
        if (!*s)
            return false;
    }
    uint64_t v = 0;
    for (; *s; s++) {
        unsigned d;
        if (*s >= '0' && *s <= '9')
            d = (unsigned)(*s - '0');
        else if (base == 16 && *s >= 'a' && *s <= 'f')
            d = (unsigned)(*s - 'a' + 10);
        else if (base == 16 && *s >= 'A' && *s <= 'F')
            d = (unsigned)(*s - 'A' + 10);
        else
            return false;
        if (v > (UINT64_MAX - d) / base)
            return false;
        v = v * base + d;
    }
    *out = v;
    return true;
}
