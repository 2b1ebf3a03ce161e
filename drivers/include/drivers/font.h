/* The console font: printable ASCII drawn on a 5x8 dot grid (7 rows above the baseline, one
 * descender row), bit 4 = leftmost dot. fbcon renders each dot 1 pixel wide and 2 tall, giving
 * 8x16 character cells. */
#ifndef DRIVERS_FONT_H
#define DRIVERS_FONT_H

#include <stdint.h>

#define FONT_DOT_COLUMNS 5
#define FONT_DOT_ROWS 8
#define FONT_CELL_WIDTH 8
#define FONT_CELL_HEIGHT 16

/* The glyph for c; a hollow box for anything outside 0x20..0x7e. */
const uint8_t *font_glyph(unsigned char c);

#endif
