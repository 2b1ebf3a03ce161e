/* UNIT-SOURCES: drivers/fbcon.c drivers/font.c */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <drivers/fbcon.h>
#include <drivers/font.h>
#include <tessera/errno.h>

#define POISON 0xa5a5a5a5u
#define FG 0x00d8d8d8u /* light grey in the usual x8r8g8b8 layout */

static uint32_t *screen;
static struct boot_framebuffer fb;

/* A w x h framebuffer (pitch in pixels) in x8r8g8b8, filled with POISON. */
static void make_fb(uint32_t w, uint32_t h, uint32_t pitch_px)
{
    free(screen);
    screen = malloc((size_t)pitch_px * h * 4);
    assert_non_null(screen);
    for (size_t i = 0; i < (size_t)pitch_px * h; i++)
        screen[i] = POISON;
    fb = (struct boot_framebuffer){
        .addr = (uint64_t)(uintptr_t)screen, .width = w, .height = h, .pitch = pitch_px * 4,
        .bpp = 32, .type = BOOT_FB_RGB, .red_pos = 16, .red_size = 8, .green_pos = 8,
        .green_size = 8, .blue_pos = 0, .blue_size = 8,
    };
}

static uint32_t pixel(uint32_t x, uint32_t y)
{
    return screen[(size_t)y * (fb.pitch / 4) + x];
}

/* Does text cell (col, row) show exactly c, drawn in fg on background 0? */
static int cell_shows(unsigned col, unsigned row, unsigned char c, uint32_t fg)
{
    const uint8_t *g = font_glyph(c);
    for (unsigned y = 0; y < 16; y++)
        for (unsigned x = 0; x < 8; x++) {
            int on = x >= 1 && x <= 5 && (g[y / 2] >> (5 - x)) & 1;
            if (pixel(col * 8 + x, row * 16 + y) != (on ? fg : 0))
                return 0;
        }
    return 1;
}

static void write_str(const char *s)
{
    fbcon_write(s, strlen(s));
}

static int teardown(void **state)
{
    (void)state;
    free(screen);
    screen = NULL;
    return 0;
}

static void test_init_rejects_bad_framebuffers(void **state)
{
    (void)state;
    unsigned cols, rows;
    assert_int_equal(fbcon_init(NULL), -EINVAL);
    make_fb(64, 32, 64);
    struct boot_framebuffer good = fb, bad;
    bad = good; bad.type = BOOT_FB_NONE;
    assert_int_equal(fbcon_init(&bad), -EINVAL);
    bad = good; bad.bpp = 24;
    assert_int_equal(fbcon_init(&bad), -EINVAL);
    bad = good; bad.addr = 0;
    assert_int_equal(fbcon_init(&bad), -EINVAL);
    bad = good; bad.width = 7;
    assert_int_equal(fbcon_init(&bad), -EINVAL);
    bad = good; bad.height = 15;
    assert_int_equal(fbcon_init(&bad), -EINVAL);
    bad = good; bad.pitch = 63 * 4; /* shorter than a line */
    assert_int_equal(fbcon_init(&bad), -EINVAL);
    bad = good; bad.pitch = 64 * 4 + 2; /* not whole pixels */
    assert_int_equal(fbcon_init(&bad), -EINVAL);
    bad = good; bad.red_size = 0;
    assert_int_equal(fbcon_init(&bad), -EINVAL);
    bad = good; bad.green_size = 9;
    assert_int_equal(fbcon_init(&bad), -EINVAL);
    bad = good; bad.blue_pos = 28; /* 28 + 8 > 32 */
    assert_int_equal(fbcon_init(&bad), -EINVAL);
    bad = good; bad.type = BOOT_FB_EGA_TEXT; bad.width = 300;
    assert_int_equal(fbcon_init(&bad), -EINVAL);
    /* a rejected framebuffer is left alone, and writing goes nowhere */
    fbcon_geometry(&cols, &rows);
    assert_int_equal(cols, 0);
    assert_int_equal(rows, 0);
    write_str("hello\n");
    for (unsigned i = 0; i < 64 * 32; i++)
        assert_int_equal(screen[i], POISON);
}

static void test_init_clears_and_sizes(void **state)
{
    (void)state;
    unsigned cols, rows;
    make_fb(100, 40, 104); /* odd size with padding: 12 x 2 cells, remainder unused */
    assert_int_equal(fbcon_init(&fb), 0);
    fbcon_geometry(&cols, &rows);
    assert_int_equal(cols, 12);
    assert_int_equal(rows, 2);
    for (unsigned i = 0; i < 104 * 40; i++)
        assert_int_equal(screen[i], 0);
    make_fb(1024, 768, 1024);
    assert_int_equal(fbcon_init(&fb), 0);
    fbcon_geometry(&cols, &rows);
    assert_int_equal(cols, 128);
    assert_int_equal(rows, 48);
}

static void test_draws_glyphs_in_cells(void **state)
{
    (void)state;
    make_fb(80, 48, 80); /* 10 x 3 */
    assert_int_equal(fbcon_init(&fb), 0);
    write_str("Ag~");
    assert_true(cell_shows(0, 0, 'A', FG));
    assert_true(cell_shows(1, 0, 'g', FG));
    assert_true(cell_shows(2, 0, '~', FG));
    assert_true(cell_shows(3, 0, ' ', FG));
    assert_false(cell_shows(0, 0, 'B', FG));
    /* bytes outside printable ASCII show the replacement box; other controls draw nothing */
    write_str("\x80\x01\x1b|");
    assert_true(cell_shows(3, 0, 0x80, FG));
    assert_false(cell_shows(3, 0, ' ', FG));
    assert_true(cell_shows(4, 0, '|', FG));
    assert_true(cell_shows(5, 0, ' ', FG));
}

static void test_channel_layout(void **state)
{
    (void)state;
    make_fb(16, 16, 16);
    /* 6 bits per channel, blue high: grey 0xd8 becomes 0x36 in each field */
    fb.red_pos = 0; fb.red_size = 6;
    fb.green_pos = 8; fb.green_size = 6;
    fb.blue_pos = 16; fb.blue_size = 6;
    assert_int_equal(fbcon_init(&fb), 0);
    write_str("H");
    assert_true(cell_shows(0, 0, 'H', 0x00363636u));
}

static void test_newline_return_tab_backspace(void **state)
{
    (void)state;
    make_fb(160, 64, 160); /* 20 x 4 */
    assert_int_equal(fbcon_init(&fb), 0);
    write_str("ab\ncd\rX\tT\n");
    assert_true(cell_shows(0, 0, 'a', FG));
    assert_true(cell_shows(1, 0, 'b', FG));
    assert_true(cell_shows(0, 1, 'X', FG)); /* \r went back over 'c' */
    assert_true(cell_shows(1, 1, 'd', FG));
    assert_true(cell_shows(8, 1, 'T', FG)); /* tab stop at column 8 */
    assert_true(cell_shows(5, 1, ' ', FG)); /* the tab skipped blank cells */
    write_str("xy\bZ");
    assert_true(cell_shows(0, 2, 'x', FG));
    assert_true(cell_shows(1, 2, 'Z', FG));
    /* a tab past the last stop ends the line */
    write_str("\r0123456789abcdef\tN");
    assert_true(cell_shows(0, 3, 'N', FG));
}

static void test_wraps_long_lines_once(void **state)
{
    (void)state;
    make_fb(32, 64, 32); /* 4 x 4 */
    assert_int_equal(fbcon_init(&fb), 0);
    write_str("abcdefg\nh");
    assert_true(cell_shows(3, 0, 'd', FG));
    assert_true(cell_shows(0, 1, 'e', FG));
    assert_true(cell_shows(2, 1, 'g', FG));
    assert_true(cell_shows(0, 2, 'h', FG));
    /* exactly a full line then '\n': no blank line in between (the '\n' scrolls by one row) */
    write_str("\nwxyz\nk");
    assert_true(cell_shows(0, 2, 'w', FG));
    assert_true(cell_shows(3, 2, 'z', FG));
    assert_true(cell_shows(0, 3, 'k', FG));
    assert_true(cell_shows(0, 1, 'h', FG));
}

static void test_scrolls_by_step(void **state)
{
    (void)state;
    unsigned cols, rows;
    make_fb(16, 64, 16); /* 2 x 4 */
    assert_int_equal(fbcon_init(&fb), 0);
    fbcon_set_scroll_step(1);
    write_str("0\n1\n2\n3\n4");
    fbcon_geometry(&cols, &rows);
    assert_int_equal(rows, 4);
    assert_true(cell_shows(0, 0, '1', FG)); /* "0" scrolled off */
    assert_true(cell_shows(0, 2, '3', FG));
    assert_true(cell_shows(0, 3, '4', FG));
    assert_true(cell_shows(1, 3, ' ', FG));

    assert_int_equal(fbcon_init(&fb), 0);
    fbcon_set_scroll_step(2);
    write_str("0\n1\n2\n3\n4");
    assert_true(cell_shows(0, 0, '2', FG));
    assert_true(cell_shows(0, 1, '3', FG));
    assert_true(cell_shows(0, 2, '4', FG));
    assert_true(cell_shows(0, 3, ' ', FG)); /* cleared by the scroll */

    fbcon_set_scroll_step(99); /* clamped to the screen: a full clear */
    write_str("\n\nQ");
    assert_true(cell_shows(0, 0, 'Q', FG));
    assert_true(cell_shows(0, 1, ' ', FG));
    fbcon_set_scroll_step(0); /* clamped to 1 */
    write_str("\n\n\n\nR");
    assert_true(cell_shows(0, 2, 'Q', FG) == 0);
    assert_true(cell_shows(0, 3, 'R', FG));
}

static void test_ega_text_mode(void **state)
{
    (void)state;
    uint16_t cells[4 * 3 + 2];
    for (unsigned i = 0; i < 14; i++)
        cells[i] = 0xdead;
    struct boot_framebuffer t = { .addr = (uint64_t)(uintptr_t)cells, .width = 4, .height = 3,
                                  .pitch = 8, .bpp = 16, .type = BOOT_FB_EGA_TEXT };
    assert_int_equal(fbcon_init(&t), 0);
    for (unsigned i = 0; i < 12; i++)
        assert_int_equal(cells[i], 0x0720);
    assert_int_equal(cells[12], 0xdead); /* nothing past the screen */
    fbcon_write("ab\ncdefg\x80", 9);
    assert_int_equal(cells[0], 0x0700 | 'a');
    assert_int_equal(cells[1], 0x0700 | 'b');
    assert_int_equal(cells[4], 0x0700 | 'c');
    assert_int_equal(cells[7], 0x0700 | 'f');
    assert_int_equal(cells[8], 0x0700 | 'g');
    assert_int_equal(cells[9], 0x07fe); /* non-ASCII: a block */
    fbcon_write("\nh", 2); /* fourth line: scrolls by one row */
    assert_int_equal(cells[0], 0x0700 | 'c');
    assert_int_equal(cells[4], 0x0700 | 'g');
    assert_int_equal(cells[8], 0x0700 | 'h');
    assert_int_equal(cells[9], 0x0720);
    assert_int_equal(cells[12], 0xdead);
}

/* The monitor's prompt line: ESC [ K clears to the end of the row, ESC [ n D / C move the cursor;
 * other sequences are swallowed whole. */
static void test_prompt_escapes(void **state)
{
    (void)state;
    uint16_t cells[8 * 2];
    struct boot_framebuffer t = { .addr = (uint64_t)(uintptr_t)cells, .width = 8, .height = 2,
                                  .pitch = 16, .bpp = 16, .type = BOOT_FB_EGA_TEXT };
    assert_int_equal(fbcon_init(&t), 0);
    fbcon_write("> abcdef", 8);
    fbcon_write("\r\x1b[K> ab", 9); /* erase the line, redraw shorter */
    assert_int_equal(cells[3], 0x0700 | 'b');
    assert_int_equal(cells[4], 0x0720);
    assert_int_equal(cells[7], 0x0720);
    fbcon_write("\x1b[2DX", 5); /* two left: over 'a' */
    assert_int_equal(cells[2], 0x0700 | 'X');
    fbcon_write("\x1b[99D\x1b[1CY", 11); /* far left stops at 0, then one right */
    assert_int_equal(cells[1], 0x0700 | 'Y');
    fbcon_write("\x1b[?25lZ\x1bQ", 10); /* unknown: no effect, nothing drawn; lone ESC */
    assert_int_equal(cells[2], 0x0700 | 'Z');
    assert_int_equal(cells[3], 0x0700 | 'Q');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_init_rejects_bad_framebuffers, teardown),
        cmocka_unit_test_teardown(test_init_clears_and_sizes, teardown),
        cmocka_unit_test_teardown(test_draws_glyphs_in_cells, teardown),
        cmocka_unit_test_teardown(test_channel_layout, teardown),
        cmocka_unit_test_teardown(test_newline_return_tab_backspace, teardown),
        cmocka_unit_test_teardown(test_wraps_long_lines_once, teardown),
        cmocka_unit_test_teardown(test_scrolls_by_step, teardown),
        cmocka_unit_test_teardown(test_ega_text_mode, teardown),
        cmocka_unit_test_teardown(test_prompt_escapes, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
