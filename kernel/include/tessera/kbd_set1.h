/* PS/2 keyboard scan code set 1 (what the i8042 controller hands over with translation on, the
 * PC default) to terminal bytes: letters, digits, punctuation, Space, Enter, Backspace, Tab,
 * Escape, Shift, Caps Lock, Ctrl (Ctrl-letter gives 0x01..0x1a; Ctrl-] gives 0x1d), and the arrow,
 * Home, End and Delete keys as the VT100 sequences a serial terminal sends. Pure. */
#ifndef TESSERA_KBD_SET1_H
#define TESSERA_KBD_SET1_H

#include <stddef.h>
#include <stdint.h>

struct kbd_set1 {
    uint8_t shift, ctrl; /* left/right bits */
    uint8_t caps;
    uint8_t prefix;      /* 0xe0 after an extended-key prefix; counts down a Pause sequence */
};

void kbd_set1_init(struct kbd_set1 *k);
/* Takes one byte from the controller; writes what the key means to out (at most 4 bytes) and
 * returns how many (0 for releases, modifiers and keys without a meaning here). */
size_t kbd_set1_feed(struct kbd_set1 *k, uint8_t code, char out[4]);

#endif
