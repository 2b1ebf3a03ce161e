/* Console line assembly. See tessera/linebuf.h for the rules. */
#include <tessera/linebuf.h>

void linebuf_init(struct linebuf *lb)
{
    lb->len = 0;
    lb->text[0] = 0;
}

static void emit_line(struct linebuf *lb, linebuf_emit_fn emit, void *ctx)
{
    lb->text[lb->len] = 0;
    emit(ctx, lb->text, lb->len);
    lb->len = 0;
}

void linebuf_putc(struct linebuf *lb, char c, linebuf_emit_fn emit, void *ctx)
{
    unsigned char b = (unsigned char)c;

    if (b == '\n') {
        emit_line(lb, emit, ctx);
        return;
    }
    if (b == '\r')
        return;
    if ((b < 0x20 && b != '\t') || b >= 0x7f)
        b = '.';
    if (lb->len == LINEBUF_MAX)
        emit_line(lb, emit, ctx);
    lb->text[lb->len++] = (char)b;
}

void linebuf_write(struct linebuf *lb, const char *s, size_t n, linebuf_emit_fn emit, void *ctx)
{
    for (size_t i = 0; i < n; i++)
        linebuf_putc(lb, s[i], emit, ctx);
}

int linebuf_flush(struct linebuf *lb, linebuf_emit_fn emit, void *ctx)
{
    if (lb->len == 0)
        return 0;
    emit_line(lb, emit, ctx);
    return 1;
}

size_t linebuf_pending(const struct linebuf *lb)
{
    return lb->len;
}
