/* MOV CRn decoding (SDM Vol. 2B "MOV-Move to/from Control Registers", APM vol. 3 "MOV CRn"). */
#include <x86/insn_decode.h>

static bool is_legacy_prefix(uint8_t b)
{
    switch (b) {
    case 0x66: case 0x67: case 0xf0: case 0xf2: case 0xf3:
    case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
        return true;
    default:
        return false;
    }
}

bool x86_decode_mov_cr(const uint8_t *b, size_t n, bool long_mode, struct x86_mov_cr *out)
{
    if (n > X86_MAX_INSN_LEN)
        n = X86_MAX_INSN_LEN;
    size_t i = 0;
    bool lock = false;
    uint8_t rex = 0;
    while (i < n && is_legacy_prefix(b[i])) {
        lock |= b[i] == 0xf0;
        i++;
    }
    /* REX counts only right before the opcode (a legacy prefix after it cancels it) */
    if (long_mode && i < n && (b[i] & 0xf0) == 0x40)
        rex = b[i++];
    if (i + 3 > n || b[i] != 0x0f || (b[i + 1] != 0x20 && b[i + 1] != 0x22))
        return false;
    uint8_t modrm = b[i + 2];
    /* The mod field is ignored: the operand is always a register (SDM MOV CR, "mod bits are
     * ignored"). */
    out->to_cr = b[i + 1] == 0x22;
    out->cr = ((modrm >> 3) & 7) | ((rex & 4) ? 8 : 0);
    if (lock)
        out->cr |= 8;
    out->gpr = (modrm & 7) | ((rex & 1) ? 8 : 0);
    out->length = (unsigned)(i + 3);
    return true;
}
