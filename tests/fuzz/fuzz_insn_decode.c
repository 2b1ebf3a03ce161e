/* MOV CRn decoder: any bytes, either mode. Never reads past n, never reports more than 15 bytes
 * or more than it was given, and its fields stay in range; the same bytes decode the same way
 * when more trailing bytes follow. */
/* FUZZ-SOURCES: arch/x86/insn_decode.c */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <x86/insn_decode.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bool lm = data[0] & 1;
    const uint8_t *b = data + 1;
    size_t n = size - 1;
    uint8_t *copy = malloc(n ? n : 1); /* exact size: ASan catches any over-read */
    memcpy(copy, b, n);
    struct x86_mov_cr m;
    if (x86_decode_mov_cr(copy, n, lm, &m)) {
        if (m.length > X86_MAX_INSN_LEN || m.length > n || m.length < 3 || m.cr > 15 || m.gpr > 15)
            abort();
        struct x86_mov_cr again;
        if (!x86_decode_mov_cr(copy, m.length, lm, &again) || again.length != m.length ||
            again.cr != m.cr || again.gpr != m.gpr || again.to_cr != m.to_cr)
            abort();
    }
    free(copy);
    return 0;
}
