/* Text console on a linear 32 bpp framebuffer (any RGB channel positions, any resolution).
 * Draws the font of drivers/font.h in 8x16 cells; handles '\n', '\r', '\t', '\b', wraps long
 * lines and scrolls. A BOOT_FB_EGA_TEXT "framebuffer" (VGA text mode under BIOS) works too: the
 * same text goes into its character cells. */
#ifndef DRIVERS_FBCON_H
#define DRIVERS_FBCON_H

#include <stddef.h>
#include <tessera/boot_info.h>
#include <tessera/console.h>

/* Takes over the framebuffer (which must be mapped) and clears it. 0, or -EINVAL when there is no
 * usable framebuffer (neither RGB nor EGA text, not 32 bpp, smaller than one cell, bad pitch or
 * channel layout). */
int fbcon_init(const struct boot_framebuffer *fb);
void fbcon_write(const char *s, size_t n);
/* Text geometry, 0 x 0 before a successful fbcon_init. */
void fbcon_geometry(unsigned *cols, unsigned *rows);
/* How many text rows one scroll moves (1 = classic; larger values make the frequent scroll-at-
 * bottom cost proportionally less, which matters on slow framebuffer reads and under Bochs).
 * Clamped to 1..rows. The default is a quarter of the screen. */
void fbcon_set_scroll_step(unsigned rows);

/* The sink kernel_main registers after a successful fbcon_init. */
extern struct console_sink fbcon_sink;

#endif
