/* The monitor's line editor (tessera/line_edit.h). */
#include <tessera/line_edit.h>
#include <tessera/printf.h>
#include <tessera/string.h>

enum { ESC_NONE, ESC_START, ESC_CSI, ESC_SS3 };

void line_edit_clear(struct line_edit *e)
{
    e->len = 0;
    e->cursor = 0;
    e->buf[0] = '\0';
    e->overlong = false;
    e->bad_control = 0;
    e->browse = -1;
}

void line_edit_init(struct line_edit *e)
{
    memset(e, 0, sizeof(*e));
    line_edit_clear(e);
}

static void set_line(struct line_edit *e, const char *text)
{
    size_t n = strlen(text);
    memcpy(e->buf, text, n + 1);
    e->len = n;
    e->cursor = n;
}

static const char *history_entry(const struct line_edit *e, unsigned back)
{
    unsigned slot = (e->history_next + LINE_EDIT_HISTORY - 1 - back) % LINE_EDIT_HISTORY;
    return e->history[slot];
}

static void history_add(struct line_edit *e, const char *line, size_t len)
{
    if (len == 0)
        return;
    if (e->history_count && strcmp(history_entry(e, 0), line) == 0)
        return; /* the same command twice in a row is kept once */
    memcpy(e->history[e->history_next], line, len + 1);
    e->history_next = (e->history_next + 1) % LINE_EDIT_HISTORY;
    if (e->history_count < LINE_EDIT_HISTORY)
        e->history_count++;
}

static enum line_edit_event history_move(struct line_edit *e, int step)
{
    int target = e->browse + step;
    if (target >= (int)e->history_count)
        return LINE_EDIT_NONE; /* already at the oldest */
    if (target < -1)
        return LINE_EDIT_NONE;
    e->browse = target;
    set_line(e, target < 0 ? "" : history_entry(e, (unsigned)target));
    e->overlong = false;
    e->bad_control = 0;
    return LINE_EDIT_CHANGED;
}

static enum line_edit_event enter(struct line_edit *e)
{
    memcpy(e->done, e->buf, e->len + 1);
    e->done_len = e->len;
    e->done_overlong = e->overlong;
    e->done_bad_control = e->bad_control;
    if (!e->overlong && !e->bad_control)
        history_add(e, e->buf, e->len);
    line_edit_clear(e);
    return LINE_EDIT_ENTER;
}

static enum line_edit_event insert(struct line_edit *e, char c)
{
    if (e->len >= LINE_EDIT_MAX) {
        e->overlong = true;
        return LINE_EDIT_NONE;
    }
    memmove(e->buf + e->cursor + 1, e->buf + e->cursor, e->len - e->cursor + 1);
    e->buf[e->cursor++] = c;
    e->len++;
    return LINE_EDIT_CHANGED;
}

static enum line_edit_event delete_at(struct line_edit *e, size_t at)
{
    if (at >= e->len)
        return LINE_EDIT_NONE;
    memmove(e->buf + at, e->buf + at + 1, e->len - at); /* with the NUL */
    e->len--;
    if (e->cursor > at)
        e->cursor--;
    return LINE_EDIT_CHANGED;
}

static enum line_edit_event move_to(struct line_edit *e, size_t to)
{
    if (to > e->len || to == e->cursor)
        return LINE_EDIT_NONE;
    e->cursor = to;
    return LINE_EDIT_CHANGED;
}

/* The final byte of ESC [ ... or ESC O ...: what the terminals send for the keys we know. */
static enum line_edit_event escape_done(struct line_edit *e, uint8_t final)
{
    switch (final) {
    case 'A':
        return history_move(e, +1);
    case 'B':
        return history_move(e, -1);
    case 'C':
        return e->cursor < e->len ? move_to(e, e->cursor + 1) : LINE_EDIT_NONE;
    case 'D':
        return e->cursor ? move_to(e, e->cursor - 1) : LINE_EDIT_NONE;
    case 'H':
        return move_to(e, 0);
    case 'F':
        return move_to(e, e->len);
    case '~':
        if (e->esc_len == 1 && (e->esc_param[0] == '1' || e->esc_param[0] == '7'))
            return move_to(e, 0);
        if (e->esc_len == 1 && (e->esc_param[0] == '4' || e->esc_param[0] == '8'))
            return move_to(e, e->len);
        if (e->esc_len == 1 && e->esc_param[0] == '3')
            return delete_at(e, e->cursor);
        return LINE_EDIT_NONE;
    default:
        return LINE_EDIT_NONE; /* a key we do not use: dropped whole */
    }
}

static enum line_edit_event escape_byte(struct line_edit *e, uint8_t byte)
{
    if (e->esc == ESC_START) {
        if (byte == '[') {
            e->esc = ESC_CSI;
            e->esc_len = 0;
            return LINE_EDIT_NONE;
        }
        if (byte == 'O') {
            e->esc = ESC_SS3;
            e->esc_len = 0;
            return LINE_EDIT_NONE;
        }
        e->esc = ESC_NONE; /* a lone ESC: dropped, the byte after it counts on its own */
        return line_edit_feed(e, byte);
    }
    if (byte >= 0x40 && byte <= 0x7e) { /* final byte */
        e->esc = ESC_NONE;
        return escape_done(e, byte);
    }
    if (byte >= 0x20 && byte <= 0x3f && e->esc == ESC_CSI && e->esc_len < LINE_EDIT_ESC_MAX) {
        e->esc_param[e->esc_len++] = (char)byte;
        return LINE_EDIT_NONE;
    }
    /* not a well-formed sequence (or far too long): leave it, the byte counts on its own */
    e->esc = ESC_NONE;
    return line_edit_feed(e, byte);
}

enum line_edit_event line_edit_feed(struct line_edit *e, uint8_t byte)
{
    bool after_cr = e->after_cr;
    e->after_cr = false;
    if (e->esc != ESC_NONE)
        return escape_byte(e, byte);
    if (byte >= 0x20 && byte <= 0x7e) {
        e->browse = -1;
        return insert(e, (char)byte);
    }
    switch (byte) {
    case '\r':
        e->after_cr = true;
        return enter(e);
    case '\n':
        return after_cr ? LINE_EDIT_NONE : enter(e);
    case 0x08:
    case 0x7f:
        return e->cursor ? delete_at(e, e->cursor - 1) : LINE_EDIT_NONE;
    case 0x15: /* Ctrl-U */
        if (!e->len)
            return LINE_EDIT_NONE;
        line_edit_clear(e);
        return LINE_EDIT_CHANGED;
    case 0x01: /* Ctrl-A */
        return move_to(e, 0);
    case 0x05: /* Ctrl-E */
        return move_to(e, e->len);
    case 0x03: /* Ctrl-C */
        line_edit_clear(e);
        return LINE_EDIT_CANCEL;
    case 0x1b:
        e->esc = ESC_START;
        return LINE_EDIT_NONE;
    case 0x00:
        return LINE_EDIT_NONE; /* a break or padding from the terminal */
    default:
        if (!e->bad_control)
            e->bad_control = byte;
        return LINE_EDIT_NONE;
    }
}

size_t line_edit_render(const struct line_edit *e, const char *prompt, char *out, size_t size)
{
    int n;
    size_t back = e->len - e->cursor;
    if (back)
        n = ksnprintf(out, size, "\r%s%s\x1b[K\x1b[%uD", prompt, e->buf, (unsigned)back);
    else
        n = ksnprintf(out, size, "\r%s%s\x1b[K", prompt, e->buf);
    if (n < 0)
        return 0;
    return (size_t)n < size ? (size_t)n : (size ? size - 1 : 0);
}
