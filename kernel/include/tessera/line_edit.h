/* The monitor's line editor: bytes typed on a terminal (serial or keyboard, already ASCII with
 * VT100 escape sequences for the arrows) in, an edited line out. Pure: no I/O; the caller draws
 * the line with line_edit_render after every change.
 *
 * Keys: printable ASCII inserts at the cursor; Backspace (0x08, 0x7f) deletes before it; Ctrl-U
 * empties the line; Ctrl-A / Ctrl-E (and Home / End) move to its start / end; Left / Right move
 * by one; Delete (ESC [ 3 ~) deletes under the cursor; Up / Down walk the history; Ctrl-C drops
 * the line; Enter (CR, LF, or CR LF as one) hands it over. A byte that would make the line longer
 * than LINE_EDIT_MAX is refused and remembered (overlong), as is the first other control byte
 * (not inserted): the caller answers such a line with one error line instead of running it. */
#ifndef TESSERA_LINE_EDIT_H
#define TESSERA_LINE_EDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LINE_EDIT_MAX 120
#define LINE_EDIT_HISTORY 16
#define LINE_EDIT_ESC_MAX 8 /* parameter bytes of an escape sequence kept before giving up */

enum line_edit_event {
    LINE_EDIT_NONE,    /* nothing visible changed */
    LINE_EDIT_CHANGED, /* redraw the line */
    LINE_EDIT_ENTER,   /* a line is ready in done/done_len (the edit line is empty again) */
    LINE_EDIT_CANCEL,  /* Ctrl-C: the line was dropped */
};

struct line_edit {
    char buf[LINE_EDIT_MAX + 1];
    size_t len, cursor;
    bool overlong;          /* a byte was refused because the line was full */
    uint8_t bad_control;    /* the first unsupported control byte typed (0: none) */
    bool after_cr;          /* the last byte was CR: a following LF is the same Enter */
    unsigned esc;           /* 0, or where in an escape sequence we are */
    unsigned esc_len;
    char esc_param[LINE_EDIT_ESC_MAX];
    char history[LINE_EDIT_HISTORY][LINE_EDIT_MAX + 1];
    unsigned history_count; /* entries kept, at most LINE_EDIT_HISTORY */
    unsigned history_next;  /* slot the next entry goes to */
    int browse;             /* -1, or how many entries back Up has gone (0 = newest) */
    /* the line handed over by LINE_EDIT_ENTER, with what was wrong with it */
    char done[LINE_EDIT_MAX + 1];
    size_t done_len;
    bool done_overlong;
    uint8_t done_bad_control;
};

void line_edit_init(struct line_edit *e);
/* Empties the line being edited (history stays). */
void line_edit_clear(struct line_edit *e);
enum line_edit_event line_edit_feed(struct line_edit *e, uint8_t byte);
/* "\r" PROMPT LINE, clear to the end of the terminal line, cursor back to its place. Returns the
 * length written (NUL-terminated; cut to size). */
size_t line_edit_render(const struct line_edit *e, const char *prompt, char *out, size_t size);

#endif
