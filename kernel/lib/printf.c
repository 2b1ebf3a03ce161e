/* kvsnprintf: a small, C99-compatible subset of vsnprintf (see tessera/printf.h). Returns the
 * length the full output would have, like snprintf, and always terminates when size > 0. */
#include <stdint.h>
#include <stdbool.h>
#include <tessera/printf.h>

struct out {
    char *buf;
    size_t size;
    size_t len;
};

static void out_char(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void out_pad(struct out *o, char c, int n)
{
    while (n-- > 0)
        out_char(o, c);
}

/* Formats an unsigned value in base 10 or 16; digits come out in reverse order. */
static int utoa(uint64_t v, unsigned base, bool upper, char *tmp)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    int n = 0;
    if (v == 0)
        tmp[n++] = '0';
    while (v) {
        if (base == 16) {
            tmp[n++] = digits[v & 15];
            v >>= 4;
        } else {
#if defined(__x86_64__)
            uint64_t q = v / 10, r = v % 10;
#else
            /* v / 10 by shift-and-subtract: 32-bit guests build this without libgcc */
            uint64_t q = 0, r = 0;
            for (int bit = 63; bit >= 0; bit--) {
                r = (r << 1) | ((v >> bit) & 1);
                if (r >= 10) {
                    r -= 10;
                    q |= (uint64_t)1 << bit;
                }
            }
#endif
            tmp[n++] = digits[r];
            v = q;
        }
    }
    return n; /* digits in reverse order */
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = { buf, size, 0 };

    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            out_char(&o, *p);
            continue;
        }
        p++;
        bool left = false, zero = false;
        for (;; p++) {
            if (*p == '-')
                left = true;
            else if (*p == '0')
                zero = true;
            else
                break;
        }
        int width = 0;
        if (*p == '*') {
            width = va_arg(ap, int);
            if (width < 0) {
                left = true;
                width = -width;
            }
            p++;
        } else {
            while (*p >= '0' && *p <= '9')
                width = width * 10 + (*p++ - '0');
        }
        int precision = -1;
        if (*p == '.') {
            p++;
            precision = 0;
            if (*p == '*') {
                precision = va_arg(ap, int);
                p++;
            } else {
                while (*p >= '0' && *p <= '9')
                    precision = precision * 10 + (*p++ - '0');
            }
        }
        int lng = 0; /* 0 int, 1 long, 2 long long, -1 short, -2 char, 3 size_t */
        for (;; p++) {
            if (*p == 'l')
                lng = lng >= 1 ? 2 : 1;
            else if (*p == 'h')
                lng = lng <= -1 ? -2 : -1;
            else if (*p == 'z')
                lng = 3;
            else
                break;
        }

        char tmp[24];
        int n = 0;
        bool neg = false;
        const char *prefix = "";
        switch (*p) {
        case 'd':
        case 'i': {
            int64_t v;
            if (lng == 2)
                v = va_arg(ap, long long);
            else if (lng == 1)
                v = va_arg(ap, long);
            else if (lng == 3)
                v = (int64_t)va_arg(ap, size_t);
            else
                v = va_arg(ap, int);
            if (lng == -1)
                v = (short)v;
            else if (lng == -2)
                v = (signed char)v;
            uint64_t u = (uint64_t)v;
            if (v < 0) {
                neg = true;
                u = -u;
            }
            n = utoa(u, 10, false, tmp);
            break;
        }
        case 'u':
        case 'x':
        case 'X':
        case 'p': {
            uint64_t u;
            if (*p == 'p') {
                u = (uintptr_t)va_arg(ap, void *);
                prefix = "0x";
            } else if (lng == 2) {
                u = va_arg(ap, unsigned long long);
            } else if (lng == 1) {
                u = va_arg(ap, unsigned long);
            } else if (lng == 3) {
                u = va_arg(ap, size_t);
            } else {
                u = va_arg(ap, unsigned int);
            }
            if (lng == -1)
                u = (unsigned short)u;
            else if (lng == -2)
                u = (unsigned char)u;
            n = utoa(u, *p == 'u' ? 10 : 16, *p == 'X', tmp);
            break;
        }
        case 'c':
            tmp[0] = (char)va_arg(ap, int);
            n = 1;
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            int len = 0;
            while ((precision < 0 || len < precision) && s[len])
                len++;
            if (!left)
                out_pad(&o, ' ', width - len);
            for (int i = 0; i < len; i++)
                out_char(&o, s[i]);
            if (left)
                out_pad(&o, ' ', width - len);
            continue;
        }
        case '%':
            out_char(&o, '%');
            continue;
        case '\0':
            p--; /* lone '%' at the end */
            continue;
        default: /* unknown conversion: print it verbatim */
            out_char(&o, '%');
            out_char(&o, *p);
            continue;
        }

        int plen = 0;
        while (prefix[plen])
            plen++;
        int body = n + (neg ? 1 : 0) + plen;
        if (!left && !zero)
            out_pad(&o, ' ', width - body);
        if (neg)
            out_char(&o, '-');
        for (int i = 0; i < plen; i++)
            out_char(&o, prefix[i]);
        if (!left && zero)
            out_pad(&o, '0', width - body);
        while (n > 0)
            out_char(&o, tmp[--n]);
        if (left)
            out_pad(&o, ' ', width - body);
    }
    if (size)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return (int)o.len;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

int kreason(char *reason, size_t reason_len, int err, const char *fmt, ...)
{
    if (reason && reason_len > 0) {
        va_list ap;
        va_start(ap, fmt);
        kvsnprintf(reason, reason_len, fmt, ap);
        va_end(ap);
    }
    return err;
}
