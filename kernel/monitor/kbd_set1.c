/* Scan code set 1 to terminal bytes (tessera/kbd_set1.h). Make codes 0x01..0x58; a release is
 * the make code with bit 7 set; 0xe0 prefixes the extended keys (arrows, right Ctrl); 0xe1
 * starts the six-byte Pause sequence. */
#include <stdbool.h>
#include <tessera/kbd_set1.h>
#include <tessera/string.h>

#define SC_LCTRL 0x1d
#define SC_LSHIFT 0x2a
#define SC_RSHIFT 0x36
#define SC_CAPS 0x3a

/* US layout, unshifted and shifted; 0 = nothing to send */
static const char plain[0x3a] = {
    0, 0x1b, '1', '2', '3', '4', '5', '6', '7', '8', '9', '0', '-', '=', 0x7f, '\t',
    'q', 'w', 'e', 'r', 't', 'y', 'u', 'i', 'o', 'p', '[', ']', '\r', 0, 'a', 's',
    'd', 'f', 'g', 'h', 'j', 'k', 'l', ';', '\'', '`', 0, '\\', 'z', 'x', 'c', 'v',
    'b', 'n', 'm', ',', '.', '/', 0, '*', 0, ' ',
};
static const char shifted[0x3a] = {
    0, 0x1b, '!', '@', '#', '$', '%', '^', '&', '*', '(', ')', '_', '+', 0x7f, '\t',
    'Q', 'W', 'E', 'R', 'T', 'Y', 'U', 'I', 'O', 'P', '{', '}', '\r', 0, 'A', 'S',
    'D', 'F', 'G', 'H', 'J', 'K', 'L', ':', '"', '~', 0, '|', 'Z', 'X', 'C', 'V',
    'B', 'N', 'M', '<', '>', '?', 0, '*', 0, ' ',
};

void kbd_set1_init(struct kbd_set1 *k)
{
    memset(k, 0, sizeof(*k));
}

static size_t sequence(char out[4], char final, char param)
{
    out[0] = 0x1b;
    out[1] = '[';
    if (param) {
        out[2] = param;
        out[3] = final;
        return 4;
    }
    out[2] = final;
    return 3;
}

static size_t extended(struct kbd_set1 *k, uint8_t code, char out[4])
{
    bool release = code & 0x80;
    code &= 0x7f;
    if (code == SC_LCTRL) { /* right Ctrl */
        k->ctrl = release ? (uint8_t)(k->ctrl & ~2) : (uint8_t)(k->ctrl | 2);
        return 0;
    }
    if (release)
        return 0;
    switch (code) {
    case 0x48: return sequence(out, 'A', 0);
    case 0x50: return sequence(out, 'B', 0);
    case 0x4d: return sequence(out, 'C', 0);
    case 0x4b: return sequence(out, 'D', 0);
    case 0x47: return sequence(out, 'H', 0);
    case 0x4f: return sequence(out, 'F', 0);
    case 0x53: return sequence(out, '~', '3');
    case 0x1c: out[0] = '\r'; return 1; /* keypad Enter */
    case 0x35: out[0] = '/'; return 1;  /* keypad / */
    default: return 0; /* fake shifts (0xe0 0x2a), multimedia keys, ... */
    }
}

size_t kbd_set1_feed(struct kbd_set1 *k, uint8_t code, char out[4])
{
    if (k->prefix > 0 && k->prefix < 0xe0) { /* inside Pause: e1 1d 45 e1 9d c5 */
        k->prefix--;
        return 0;
    }
    if (k->prefix == 0xe0) {
        k->prefix = 0;
        return extended(k, code, out);
    }
    if (code == 0xe0) {
        k->prefix = 0xe0;
        return 0;
    }
    if (code == 0xe1) {
        k->prefix = 5;
        return 0;
    }
    bool release = code & 0x80;
    uint8_t make = code & 0x7f;
    switch (make) {
    case SC_LSHIFT:
    case SC_RSHIFT: {
        uint8_t bit = make == SC_LSHIFT ? 1 : 2;
        k->shift = release ? (uint8_t)(k->shift & ~bit) : (uint8_t)(k->shift | bit);
        return 0;
    }
    case SC_LCTRL:
        k->ctrl = release ? (uint8_t)(k->ctrl & ~1) : (uint8_t)(k->ctrl | 1);
        return 0;
    case SC_CAPS:
        if (!release)
            k->caps = !k->caps;
        return 0;
    default:
        break;
    }
    if (release || make >= sizeof(plain))
        return 0; /* releases, F-keys, the keypad (Num Lock state unknown) */
    char c = k->shift ? shifted[make] : plain[make];
    if (!c)
        return 0;
    if (k->caps && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
        c ^= 0x20;
    if (k->ctrl) {
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 1);
        else if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 1);
        else if (c == ']' || c == '}')
            c = 0x1d;
        else if (c == '[' || c == '{')
            c = 0x1b;
        else if (c == '\\' || c == '|')
            c = 0x1c;
        else
            return 0;
    }
    out[0] = c;
    return 1;
}
