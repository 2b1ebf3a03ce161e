/* Framebuffer text console, and VGA text mode where GRUB leaves a BIOS screen in it. Every
 * character is redrawn in full (background included), so nothing is cleared before drawing.
 * Scrolling moves whole scan lines with rep movsq (every instruction counts under Bochs) and moves
 * several text rows at a time (fbcon_set_scroll_step), so a long log does not pay a full-screen
 * copy per line. */
#include <drivers/fbcon.h>
#include <drivers/font.h>
#include <stdint.h>
#include <tessera/errno.h>
#ifndef TESSERA_HOST_TEST
#include <x86/io.h>
#endif

#define TAB_WIDTH 8

struct fbcon {
    int text_mode; /* VGA text memory (BOOT_FB_EGA_TEXT): 2 bytes per cell, no pixels */
    uint8_t *base;
    uint32_t pitch;
    unsigned cols, rows;
    unsigned x, y; /* cursor cell; x == cols means "wrap before the next character" */
    unsigned scroll_step;
    uint32_t fg, bg;
    int ready;
    /* the escape sequences the monitor's prompt line uses: ESC [ K, ESC [ n C, ESC [ n D */
    unsigned esc;       /* 0 none, 1 after ESC, 2 inside ESC [ */
    unsigned esc_count; /* the number parameter so far */
};

static struct fbcon con;

struct console_sink fbcon_sink = { .name = "framebuffer", .write = fbcon_write };

static int channel_ok(uint8_t pos, uint8_t size)
{
    return size >= 1 && size <= 8 && pos + size <= 32;
}

static uint32_t channel(uint8_t value, uint8_t pos, uint8_t size)
{
    return (uint32_t)(value >> (8 - size)) << pos;
}

static uint32_t pack_colour(const struct boot_framebuffer *fb, uint8_t r, uint8_t g, uint8_t b)
{
    return channel(r, fb->red_pos, fb->red_size) | channel(g, fb->green_pos, fb->green_size) |
           channel(b, fb->blue_pos, fb->blue_size);
}

static void fill_qwords(void *dst, uint64_t count, uint32_t colour)
{
    uint64_t v = (uint64_t)colour << 32 | colour;
    __asm__ volatile("rep stosq" : "+D"(dst), "+c"(count) : "a"(v) : "memory");
}

/* A text row is pitch * 16 bytes, a multiple of 64, so rows move and clear as whole qwords. */
/* Forward copy: correct for overlapping ranges as long as dst is below src. */
static void move_qwords(void *dst, const void *src, uint64_t count)
{
    __asm__ volatile("rep movsq" : "+D"(dst), "+S"(src), "+c"(count) : : "memory");
}

/* VGA text mode as GRUB leaves it under BIOS: character + attribute per cell, no glyphs to draw. */
static int text_init(const struct boot_framebuffer *fb)
{
    if (fb->width < 1 || fb->height < 1 || fb->width > 256 || fb->height > 256)
        return -EINVAL;
    con.text_mode = 1;
    con.base = (uint8_t *)(uintptr_t)fb->addr;
    con.cols = fb->width;
    con.rows = fb->height;
    con.pitch = fb->pitch >= fb->width * 2 ? fb->pitch : fb->width * 2;
    con.x = con.y = 0;
    con.scroll_step = 1; /* 4 KB per scroll: cheap */
#ifndef TESSERA_HOST_TEST
    outb(0x3d4, 0x0a); /* CRTC cursor start register: bit 5 hides the blinking cursor */
    outb(0x3d5, 0x20);
#endif
    for (unsigned r = 0; r < con.rows; r++)
        for (unsigned c = 0; c < con.cols; c++)
            *(volatile uint16_t *)(con.base + r * con.pitch + c * 2) = 0x0720;
    con.ready = 1;
    return 0;
}

int fbcon_init(const struct boot_framebuffer *fb)
{
    con.ready = 0;
    con.text_mode = 0;
    if (fb && fb->type == BOOT_FB_EGA_TEXT && fb->addr)
        return text_init(fb);
    if (!fb || fb->type != BOOT_FB_RGB || fb->bpp != 32 || fb->addr == 0)
        return -EINVAL;
    if (fb->width < FONT_CELL_WIDTH || fb->height < FONT_CELL_HEIGHT || fb->pitch % 4 != 0 ||
        fb->pitch / 4 < fb->width)
        return -EINVAL;
    if (!channel_ok(fb->red_pos, fb->red_size) || !channel_ok(fb->green_pos, fb->green_size) ||
        !channel_ok(fb->blue_pos, fb->blue_size))
        return -EINVAL;
    con.base = (uint8_t *)(uintptr_t)fb->addr;
    con.pitch = fb->pitch;
    con.cols = fb->width / FONT_CELL_WIDTH;
    con.rows = fb->height / FONT_CELL_HEIGHT;
    con.x = con.y = 0;
    con.fg = pack_colour(fb, 0xd8, 0xd8, 0xd8);
    con.bg = pack_colour(fb, 0x00, 0x00, 0x00);
    con.scroll_step = con.rows / 4 ? con.rows / 4 : 1;
    void *dst = con.base;
    uint64_t dwords = (uint64_t)con.pitch * fb->height / 4;
    __asm__ volatile("rep stosl" : "+D"(dst), "+c"(dwords) : "a"(con.bg) : "memory");
    con.ready = 1;
    return 0;
}

void fbcon_geometry(unsigned *cols, unsigned *rows)
{
    *cols = con.ready ? con.cols : 0;
    *rows = con.ready ? con.rows : 0;
}

void fbcon_set_scroll_step(unsigned rows)
{
    if (rows < 1)
        rows = 1;
    if (con.ready && rows > con.rows)
        rows = con.rows;
    con.scroll_step = rows;
}

static void draw_glyph(unsigned col, unsigned row, unsigned char c)
{
    if (con.text_mode) {
        /* light grey on black; bytes outside ASCII show as a solid block (code page 437 0xFE) */
        uint16_t ch = c >= 0x20 && c <= 0x7e ? c : 0xfe;
        *(volatile uint16_t *)(con.base + row * con.pitch + col * 2) = (uint16_t)(0x0700 | ch);
        return;
    }
    const uint8_t *g = font_glyph(c);
    uint8_t *line = con.base + (uint64_t)row * FONT_CELL_HEIGHT * con.pitch +
                    (uint64_t)col * FONT_CELL_WIDTH * 4;
    for (unsigned py = 0; py < FONT_CELL_HEIGHT; py++, line += con.pitch) {
        /* Dot column k (bit 4 - k) lands on pixel k + 1: one blank pixel left, two right. */
        unsigned bits = (unsigned)g[py / 2] << 2;
        uint32_t *p = (uint32_t *)line;
        for (unsigned px = 0; px < FONT_CELL_WIDTH; px++)
            p[px] = (bits >> (FONT_CELL_WIDTH - 1 - px)) & 1 ? con.fg : con.bg;
    }
}

static void text_scroll(unsigned step)
{
    volatile uint16_t *cells = (volatile uint16_t *)con.base;
    unsigned stride = con.pitch / 2;
    for (unsigned r = 0; r + step < con.rows; r++)
        for (unsigned c = 0; c < con.cols; c++)
            cells[r * stride + c] = cells[(r + step) * stride + c];
    for (unsigned r = con.rows - step; r < con.rows; r++)
        for (unsigned c = 0; c < con.cols; c++)
            cells[r * stride + c] = 0x0720;
    con.y = con.rows - step;
}

static void scroll(void)
{
    unsigned step = con.scroll_step;
    if (step > con.rows)
        step = con.rows;
    if (con.text_mode) {
        text_scroll(step);
        return;
    }
    uint64_t row_bytes = (uint64_t)con.pitch * FONT_CELL_HEIGHT;
    uint64_t keep = (uint64_t)(con.rows - step) * row_bytes;
    if (keep)
        move_qwords(con.base, con.base + step * row_bytes, keep / 8);
    fill_qwords(con.base + keep, step * row_bytes / 8, con.bg);
    con.y = con.rows - step;
}

static void newline(void)
{
    con.x = 0;
    if (++con.y >= con.rows)
        scroll();
}

/* Clears from the cursor to the end of its row (ESC [ K). */
static void clear_to_end(void)
{
    for (unsigned x = con.x; x < con.cols; x++)
        draw_glyph(x, con.y, ' ');
}

/* Inside ESC [: digits, then K (clear to the end of the row), C (right) or D (left); any other
 * final byte ends the sequence without effect. Returns true while the byte was part of one. */
static int escape(unsigned char c)
{
    if (con.esc == 1) {
        con.esc = c == '[' ? 2 : 0;
        con.esc_count = 0;
        return con.esc == 2;
    }
    if (c >= '0' && c <= '9') {
        if (con.esc_count < 1000)
            con.esc_count = con.esc_count * 10 + (c - '0');
        return 1;
    }
    if (c >= 0x20 && c <= 0x3f)
        return 1; /* other parameter bytes (';', '?'): not used here */
    if (c < 0x20 || c > 0x7e) {
        con.esc = 0; /* not a sequence after all: the byte counts on its own */
        return 0;
    }
    unsigned n = con.esc_count ? con.esc_count : 1;
    con.esc = 0;
    if (c == 'K') {
        clear_to_end();
    } else if (c == 'D') {
        unsigned x = con.x > con.cols - 1 ? con.cols - 1 : con.x;
        con.x = n > x ? 0 : x - n;
    } else if (c == 'C') {
        con.x = con.x + n >= con.cols ? con.cols - 1 : con.x + n;
    }
    return 1;
}

static void put_char(unsigned char c)
{
    if (con.esc && escape(c))
        return;
    switch (c) {
    case 0x1b:
        con.esc = 1;
        return;
    case '\n':
        newline();
        return;
    case '\r':
        con.x = 0;
        return;
    case '\b':
        if (con.x > 0)
            con.x = con.x > con.cols ? con.cols - 1 : con.x - 1;
        return;
    case '\t': {
        unsigned next = (con.x / TAB_WIDTH + 1) * TAB_WIDTH;
        if (next >= con.cols) {
            newline();
            return;
        }
        con.x = next; /* moves only, like a terminal: what the tab skips stays */
        return;
    }
    default:
        break;
    }
    if (c < 0x20)
        return; /* other controls draw nothing */
    if (con.x >= con.cols)
        newline();
    draw_glyph(con.x++, con.y, c);
}

void fbcon_write(const char *s, size_t n)
{
    if (!con.ready || !s)
        return;
    for (size_t i = 0; i < n; i++)
        put_char((unsigned char)s[i]);
}
