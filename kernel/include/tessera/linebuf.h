/* Assembles one source's console output (a VM's UART, the hypervisor log) into whole lines, so
 * that lines from different sources never mix mid-line on a shared console. Pure.
 *
 * Rules:
 *   - '\n' ends a line; the line is emitted without it (an empty line is emitted too);
 *   - '\r' is dropped everywhere: "\r\n" ends one line, and a lone '\r' (a progress indicator
 *     redrawing its line) does not start a new line, so no spurious blank lines appear;
 *   - tab is kept; every other control byte and every byte >= 0x7f becomes '.', so a guest can
 *     never send escape sequences to the host terminal;
 *   - a line longer than LINEBUF_MAX is emitted in pieces of LINEBUF_MAX characters (a piece is
 *     emitted when the character after it arrives, so a line of exactly LINEBUF_MAX characters
 *     followed by '\n' is one line). */
#ifndef TESSERA_LINEBUF_H
#define TESSERA_LINEBUF_H

#include <stddef.h>

#define LINEBUF_MAX 160

/* line is NUL-terminated (line[len] == 0) and only valid during the call. */
typedef void (*linebuf_emit_fn)(void *ctx, const char *line, size_t len);

struct linebuf {
    size_t len;
    char text[LINEBUF_MAX + 1];
};

void linebuf_init(struct linebuf *lb);
void linebuf_putc(struct linebuf *lb, char c, linebuf_emit_fn emit, void *ctx);
void linebuf_write(struct linebuf *lb, const char *s, size_t n, linebuf_emit_fn emit, void *ctx);
/* Emits a pending partial line, if any; returns 1 if it emitted one, 0 if nothing was pending. */
int linebuf_flush(struct linebuf *lb, linebuf_emit_fn emit, void *ctx);
size_t linebuf_pending(const struct linebuf *lb);

#endif
