/* x86 instruction decoder (see x86/insn.h). Table-driven: for each opcode of the one-byte and
 * 0F maps, whether a ModRM byte follows, what immediate, and whether the opcode is undefined
 * (in every mode, or in 64-bit mode only). SDM vol. 2, appendix A, tables. */
#include <tessera/errno.h>
#include <x86/insn.h>

/* Immediate kinds (low nibble of a table entry). */
enum {
    I_NONE = 0,
    I_B = 1,     /* 8 bits */
    I_W = 2,     /* 16 bits */
    I_Z = 3,     /* 16 or 32 bits by operand size (32 for a 64-bit operand size) */
    I_V = 4,     /* 16, 32 or 64 bits by operand size (MOV reg, imm) */
    I_MOFFS = 5, /* address-size offset (MOV A0-A3) */
    I_WB = 6,    /* ENTER: 16 then 8 bits */
    I_PTR = 7,   /* far pointer: offset by operand size, then a 16-bit selector */
    I_GRP3 = 8,  /* F6/F7: TEST (reg 0 or 1) has an immediate (8 bits / I_Z), the rest none */
    I_J = 9,     /* near branch: I_Z, but always 32 bits in 64-bit mode (Intel: 66 ignored) */
};
#define M 0x10    /* a ModRM byte follows */
#define X64 0x20  /* undefined in 64-bit mode */
#define U 0x40    /* undefined in every mode */
#define P 0x80    /* prefix or escape: handled before the table */

#define B I_B
#define W I_W
#define Z I_Z
#define V I_V
#define O I_MOFFS
#define J I_J

static const uint8_t one_byte[256] = {
    /* 00 */ M, M, M, M, B, Z, X64, X64, M, M, M, M, B, Z, X64, P,
    /* 10 */ M, M, M, M, B, Z, X64, X64, M, M, M, M, B, Z, X64, X64,
    /* 20 */ M, M, M, M, B, Z, P, X64, M, M, M, M, B, Z, P, X64,
    /* 30 */ M, M, M, M, B, Z, P, X64, M, M, M, M, B, Z, P, X64,
    /* 40 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* 50 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* 60 */ X64, X64, M | X64, M, P, P, P, P, Z, M | Z, B, M | B, 0, 0, 0, 0,
    /* 70 */ B, B, B, B, B, B, B, B, B, B, B, B, B, B, B, B,
    /* 80 */ M | B, M | Z, M | B | X64, M | B, M, M, M, M, M, M, M, M, M, M, M, M,
    /* 90 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, I_PTR | X64, 0, 0, 0, 0, 0,
    /* a0 */ O, O, O, O, 0, 0, 0, 0, B, Z, 0, 0, 0, 0, 0, 0,
    /* b0 */ B, B, B, B, B, B, B, B, V, V, V, V, V, V, V, V,
    /* c0 */ M | B, M | B, W, 0, M | X64, M | X64, M | B, M | Z, I_WB, 0, W, 0, 0, B, X64, 0,
    /* d0 */ M, M, M, M, B | X64, B | X64, U, 0, M, M, M, M, M, M, M, M,
    /* e0 */ B, B, B, B, B, B, B, B, J, J, I_PTR | X64, B, 0, 0, 0, 0,
    /* f0 */ P, 0, P, P, 0, 0, M | I_GRP3, M | I_GRP3, 0, 0, 0, 0, 0, 0, M, M,
};

static const uint8_t two_byte[256] = {
    /* 00 */ M, M, M, M, U, 0, 0, 0, 0, 0, U, 0, U, M, 0, M | B,
    /* 10 */ M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    /* 20 */ M, M, M, M, U, U, U, U, M, M, M, M, M, M, M, M,
    /* 30 */ 0, 0, 0, 0, 0, 0, U, 0, P, U, P, U, U, U, U, U,
    /* 40 */ M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    /* 50 */ M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    /* 60 */ M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    /* 70 */ M | B, M | B, M | B, M | B, M, M, M, 0, M, M, U, U, M, M, M, M,
    /* 80 */ J, J, J, J, J, J, J, J, J, J, J, J, J, J, J, J,
    /* 90 */ M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    /* a0 */ 0, 0, 0, M, M | B, M, U, U, 0, 0, 0, M, M | B, M, M, M,
    /* b0 */ M, M, M, M, M, M, M, M, M, M, M | B, M, M, M, M, M,
    /* c0 */ M, M, M | B, M, M | B, M | B, M | B, M, 0, 0, 0, 0, 0, 0, 0, 0,
    /* d0 */ M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    /* e0 */ M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    /* f0 */ M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
};

#undef B
#undef W
#undef Z
#undef V
#undef O
#undef J

/* A cursor over the bytes: every read is checked against both the 15-byte limit and len. */
struct cursor {
    const uint8_t *bytes;
    size_t len;
    unsigned pos;
};

/* 0, -EINVAL past 15 bytes, -EAGAIN past len. */
static int need(const struct cursor *c, unsigned n)
{
    if (c->pos + n > INSN_MAX_LENGTH)
        return -EINVAL;
    if (c->pos + n > c->len)
        return -EAGAIN;
    return 0;
}

static uint64_t take_le(struct cursor *c, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)c->bytes[c->pos + i] << (8 * i);
    c->pos += n;
    return v;
}

static int64_t sign_extend(uint64_t v, unsigned bytes)
{
    if (bytes >= 8)
        return (int64_t)v;
    unsigned shift = 64 - 8 * bytes;
    return (int64_t)(v << shift) >> shift;
}

static bool legacy_prefix(struct insn *in, uint8_t b)
{
    switch (b) {
    case 0xf0: in->lock = true; return true;
    case 0xf2: in->repne = true; in->rep = false; return true;
    case 0xf3: in->rep = true; in->repne = false; return true;
    case 0x26: in->segment = INSN_SEG_ES; return true;
    case 0x2e: in->segment = INSN_SEG_CS; return true;
    case 0x36: in->segment = INSN_SEG_SS; return true;
    case 0x3e: in->segment = INSN_SEG_DS; return true;
    case 0x64: in->segment = INSN_SEG_FS; return true;
    case 0x65: in->segment = INSN_SEG_GS; return true;
    case 0x66: in->opsize_prefix = true; return true;
    case 0x67: in->address_size = 0; return true; /* marked; sized below */
    default: return false;
    }
}

/* ModRM, SIB and displacement (SDM vol. 2, 2.1.5, tables 2-1 to 2-3; 2.2.1.6 RIP-relative). */
static int decode_modrm(struct insn *in, struct cursor *c)
{
    int err = need(c, 1);
    if (err)
        return err;
    uint8_t m = (uint8_t)take_le(c, 1);
    uint8_t rex_r = (in->rex >> 2) & 1, rex_x = (in->rex >> 1) & 1, rex_b = in->rex & 1;
    in->has_modrm = true;
    in->modrm = m;
    in->mod = m >> 6;
    in->reg = (uint8_t)(((m >> 3) & 7) | (rex_r << 3));
    in->rm = (uint8_t)((m & 7) | (rex_b << 3));
    in->base = in->index = INSN_NO_REG;
    in->scale = 1;
    /* MOV to/from CRn and DRn (0F 20-23) ignore mod: the operand is always a register, with no
     * SIB or displacement (SDM vol. 2, MOV--Move to/from Control/Debug Registers) */
    if (in->mod == 3 || (in->map == INSN_MAP_0F && (in->opcode & 0xfc) == 0x20))
        return 0;
    in->mem = true;
    unsigned disp = 0;
    if (in->address_size == 2) {
        static const uint8_t base16[8] = { 3, 3, 5, 5, 6, 7, 5, 3 };           /* BX BX BP BP SI DI BP BX */
        static const uint8_t index16[8] = { 6, 7, 6, 7, INSN_NO_REG, INSN_NO_REG, INSN_NO_REG,
                                            INSN_NO_REG };                      /* SI DI SI DI */
        in->rm = m & 7;
        in->base = base16[m & 7];
        in->index = index16[m & 7];
        if (in->mod == 0 && (m & 7) == 6) {
            in->base = INSN_NO_REG;
            disp = 2;
        } else {
            disp = in->mod == 1 ? 1 : in->mod == 2 ? 2 : 0;
        }
    } else {
        in->base = in->rm;
        if ((m & 7) == 4) {
            if ((err = need(c, 1)))
                return err;
            uint8_t s = (uint8_t)take_le(c, 1);
            in->has_sib = true;
            in->sib = s;
            in->scale = (uint8_t)(1u << (s >> 6));
            uint8_t index = (uint8_t)(((s >> 3) & 7) | (rex_x << 3));
            in->index = index == 4 ? INSN_NO_REG : index; /* 100b without REX.X: no index */
            in->base = (uint8_t)((s & 7) | (rex_b << 3));
            if ((s & 7) == 5 && in->mod == 0) {
                in->base = INSN_NO_REG;
                disp = 4;
            }
        } else if ((m & 7) == 5 && in->mod == 0) {
            in->base = INSN_NO_REG;
            in->rip_relative = in->mode == INSN_MODE_64;
            disp = 4;
        }
        if (in->mod == 1)
            disp = 1;
        else if (in->mod == 2)
            disp = 4;
    }
    if (disp) {
        if ((err = need(c, disp)))
            return err;
        in->disp = sign_extend(take_le(c, disp), disp);
        in->disp_size = (uint8_t)disp;
    }
    return 0;
}

static int take_imm(struct insn *in, struct cursor *c, unsigned size)
{
    int err = need(c, size);
    if (err)
        return err;
    in->imm = take_le(c, size);
    in->imm_size = (uint8_t)size;
    return 0;
}

static int decode_immediate(struct insn *in, struct cursor *c, unsigned kind)
{
    unsigned z = in->operand_size == 2 ? 2 : 4;
    int err;
    switch (kind) {
    case I_NONE: return 0;
    case I_B: return take_imm(in, c, 1);
    case I_W: return take_imm(in, c, 2);
    case I_Z: return take_imm(in, c, z);
    case I_V: return take_imm(in, c, in->operand_size);
    case I_MOFFS: return take_imm(in, c, in->address_size);
    case I_J: return take_imm(in, c, in->mode == INSN_MODE_64 ? 4 : z);
    case I_GRP3:
        if (((in->modrm >> 3) & 7) > 1)
            return 0;
        return take_imm(in, c, in->opcode == 0xf6 ? 1 : z);
    case I_WB:
    case I_PTR:
        if ((err = take_imm(in, c, kind == I_WB ? 2 : z)))
            return err;
        if ((err = need(c, kind == I_WB ? 1 : 2)))
            return err;
        in->imm2_size = kind == I_WB ? 1 : 2;
        in->imm2 = (uint16_t)take_le(c, in->imm2_size);
        return 0;
    }
    return -EINVAL;
}

/* VEX (C4/C5), EVEX (62) and XOP (8F) prefixes: the opcode map comes from the prefix, every
 * instruction has a ModRM byte (except VEX 0F 77, VZEROUPPER/VZEROALL), and the immediate
 * follows from the map (SDM vol. 2, 2.3 and 2.7; AMD APM vol. 3, 1.8 for XOP). R, X and B are
 * stored inverted. */
static int decode_vex(struct insn *in, struct cursor *c, uint8_t escape)
{
    unsigned payload = escape == 0xc5 ? 1 : escape == 0x62 ? 3 : 2; /* bytes after the escape */
    int err = need(c, payload);
    if (err)
        return err;
    if (in->lock || in->rep || in->repne || in->opsize_prefix || in->rex)
        return -EINVAL; /* #UD (SDM vol. 2, 2.3.2) */
    const uint8_t *p = c->bytes + c->pos - 1; /* p[0] is the escape byte */
    unsigned rxb = (~p[1] >> 5) & 7; /* R X B, un-inverted */
    unsigned map, imm = I_NONE;
    bool w = false;
    if (escape == 0xc5) {
        rxb = ((~p[1] >> 7) & 1) << 2;
        map = 1;
    } else if (escape == 0x62) {
        map = p[1] & 7;
        w = (p[2] >> 7) & 1;
        if (map == 0 || map == 4 || map == 7)
            return -EINVAL;
    } else if (escape == 0xc4) {
        map = p[1] & 0x1f;
        w = (p[2] >> 7) & 1;
        if (map < 1 || map > 3)
            return -EINVAL;
    } else { /* XOP */
        map = p[1] & 0x1f;
        w = (p[2] >> 7) & 1;
        if (map < 8 || map > 10)
            return -EINVAL;
    }
    c->pos += payload;
    if ((err = need(c, 1)))
        return err;
    in->vex = true;
    if (in->mode == INSN_MODE_64) /* R, X, B extend registers in 64-bit mode only */
        in->rex = (uint8_t)(0x40 | (w ? 8 : 0) | rxb);
    if (w && in->mode == INSN_MODE_64)
        in->operand_size = 8;
    in->opcode = (uint8_t)take_le(c, 1);
    bool modrm = true;
    switch (map) {
    case 1:
        in->map = INSN_MAP_0F;
        modrm = escape == 0x62 || in->opcode != 0x77;
        imm = two_byte[in->opcode] & 0xf;
        break;
    case 2: in->map = INSN_MAP_0F38; break;
    case 3: in->map = INSN_MAP_0F3A; imm = I_B; break;
    case 8: in->map = INSN_MAP_ONE; imm = I_B; break;        /* XOP map 8 */
    case 10: in->map = INSN_MAP_ONE; imm = I_NONE; break;    /* XOP map A: imm32, below */
    default: in->map = INSN_MAP_ONE; break;                  /* EVEX maps 5/6, XOP map 9 */
    }
    if (modrm && (err = decode_modrm(in, c)))
        return err;
    if (escape == 0x8f && map == 10)
        return take_imm(in, c, 4);
    return decode_immediate(in, c, imm);
}

int insn_decode(struct insn *out, const uint8_t *bytes, size_t len, enum insn_mode mode)
{
    if (mode != INSN_MODE_16 && mode != INSN_MODE_32 && mode != INSN_MODE_64)
        return -EINVAL;
    struct insn in = { 0 };
    in.mode = (uint8_t)mode;
    in.segment = INSN_NO_SEGMENT;
    in.base = in.index = INSN_NO_REG;
    in.scale = 1;
    in.address_size = (uint8_t)(mode / 8);
    struct cursor c = { bytes, len, 0 };
    bool addr_prefix = false;
    int err;
    /* Legacy prefixes in any order; a REX prefix counts only right before the opcode. */
    for (;;) {
        if ((err = need(&c, 1)))
            return err;
        uint8_t b = bytes[c.pos];
        if (mode == INSN_MODE_64 && (b & 0xf0) == 0x40) {
            in.rex = b;
            c.pos++;
            continue;
        }
        if (!legacy_prefix(&in, b))
            break;
        if (b == 0x67)
            addr_prefix = true;
        in.rex = 0; /* a REX followed by a legacy prefix is ignored (SDM vol. 2, 2.2.1) */
        c.pos++;
    }
    if (mode == INSN_MODE_64)
        in.address_size = addr_prefix ? 4 : 8;
    else if (mode == INSN_MODE_32)
        in.address_size = addr_prefix ? 2 : 4;
    else
        in.address_size = addr_prefix ? 4 : 2;
    if (mode == INSN_MODE_16)
        in.operand_size = in.opsize_prefix ? 4 : 2;
    else
        in.operand_size = (in.rex & 8) ? 8 : in.opsize_prefix ? 2 : 4;

    uint8_t op = (uint8_t)take_le(&c, 1);
    /* VEX/EVEX/XOP: in 64-bit mode always; elsewhere C4/C5/62 are LES/LDS/BOUND unless the next
     * byte's top bits are 11 (a register ModRM, invalid for those), and 8F is POP r/m unless
     * its ModRM reg field is non-zero. */
    if (op == 0xc4 || op == 0xc5 || op == 0x62 || op == 0x8f) {
        if ((err = need(&c, 1)))
            return err;
        uint8_t next = bytes[c.pos];
        bool vex = op == 0x8f ? ((next >> 3) & 7) != 0
                              : mode == INSN_MODE_64 || (next >> 6) == 3;
        if (vex) {
            if ((err = decode_vex(&in, &c, op)))
                return err;
            in.length = (uint8_t)c.pos;
            *out = in;
            return 0;
        }
    }
    uint8_t attr;
    if (op == 0x0f) {
        if ((err = need(&c, 1)))
            return err;
        op = (uint8_t)take_le(&c, 1);
        if (op == 0x38 || op == 0x3a) {
            in.map = op == 0x38 ? INSN_MAP_0F38 : INSN_MAP_0F3A;
            if ((err = need(&c, 1)))
                return err;
            op = (uint8_t)take_le(&c, 1);
            attr = (uint8_t)(M | (in.map == INSN_MAP_0F3A ? I_B : I_NONE));
        } else {
            in.map = INSN_MAP_0F;
            attr = two_byte[op];
        }
    } else {
        in.map = INSN_MAP_ONE;
        attr = one_byte[op];
    }
    in.opcode = op;
    if ((attr & U) || ((attr & X64) && mode == INSN_MODE_64))
        return -EINVAL;
    if ((attr & M) && (err = decode_modrm(&in, &c)))
        return err;
    if ((err = decode_immediate(&in, &c, attr & 0xf)))
        return err;
    in.length = (uint8_t)c.pos;
    *out = in;
    return 0;
}

/* ---- the forms device memory is reached with ----------------------------------------------- */

/* An 8-bit register operand: without REX, 4-7 are AH, CH, DH, BH (SDM vol. 2, 3.1.1.1). */
static void byte_register(const struct insn *in, uint8_t reg, struct insn_mmio *m)
{
    m->reg_size = 1;
    if (!in->rex && reg >= 4 && reg < 8) {
        m->reg = (uint8_t)(reg - 4);
        m->high_byte = true;
    } else {
        m->reg = reg;
    }
}

int insn_mmio(const struct insn *in, struct insn_mmio *m)
{
    struct insn_mmio r = { 0 };
    if (in->lock || in->vex)
        return -ENOTSUP;
    bool moffs = in->map == INSN_MAP_ONE && in->opcode >= 0xa0 && in->opcode <= 0xa3;
    if (!moffs && !in->mem)
        return -ENOTSUP;
    uint8_t os = in->operand_size;
    if (in->map == INSN_MAP_ONE) {
        switch (in->opcode) {
        case 0x88: /* MOV r/m8, r8 */
        case 0x8a: /* MOV r8, r/m8 */
            r.kind = in->opcode == 0x88 ? INSN_MMIO_STORE : INSN_MMIO_LOAD;
            r.size = 1;
            byte_register(in, in->reg, &r);
            break;
        case 0x89: /* MOV r/m, r */
        case 0x8b: /* MOV r, r/m */
            r.kind = in->opcode == 0x89 ? INSN_MMIO_STORE : INSN_MMIO_LOAD;
            r.size = r.reg_size = os;
            r.reg = in->reg;
            break;
        case 0xc6: /* MOV r/m8, imm8 */
        case 0xc7: /* MOV r/m, imm16/32 (sign-extended to 64) */
            if ((in->modrm >> 3) & 7)
                return -ENOTSUP;
            r.kind = INSN_MMIO_STORE;
            r.size = in->opcode == 0xc6 ? 1 : os;
            r.from_imm = true;
            r.imm = (uint64_t)sign_extend(in->imm, in->imm_size);
            break;
        case 0xa0: /* MOV AL, moffs */
        case 0xa2: /* MOV moffs, AL */
            r.kind = in->opcode == 0xa0 ? INSN_MMIO_LOAD : INSN_MMIO_STORE;
            r.size = r.reg_size = 1;
            r.reg = 0;
            break;
        case 0xa1: /* MOV rAX, moffs */
        case 0xa3: /* MOV moffs, rAX */
            r.kind = in->opcode == 0xa1 ? INSN_MMIO_LOAD : INSN_MMIO_STORE;
            r.size = r.reg_size = os;
            r.reg = 0;
            break;
        default:
            return -ENOTSUP;
        }
    } else if (in->map == INSN_MAP_0F &&
               (in->opcode == 0xb6 || in->opcode == 0xb7 || in->opcode == 0xbe ||
                in->opcode == 0xbf)) {
        r.kind = INSN_MMIO_LOAD;
        r.size = (in->opcode & 1) ? 2 : 1;
        r.sign_extend = in->opcode >= 0xbe;
        r.reg = in->reg;
        r.reg_size = os;
    } else {
        return -ENOTSUP;
    }
    *m = r;
    return 0;
}

static uint64_t mask_of(unsigned bytes)
{
    return bytes >= 8 ? ~0ull : (1ull << (8 * bytes)) - 1;
}

uint64_t insn_mmio_load_result(const struct insn_mmio *m, uint64_t old, uint64_t value)
{
    value &= mask_of(m->size);
    if (m->sign_extend)
        value = (uint64_t)sign_extend(value, m->size);
    switch (m->reg_size) {
    case 1:
        if (m->high_byte)
            return (old & ~0xff00ull) | ((value & 0xff) << 8);
        return (old & ~0xffull) | (value & 0xff);
    case 2:
        return (old & ~0xffffull) | (value & 0xffff);
    case 4:
        return value & 0xffffffffull;
    default:
        return value;
    }
}

uint64_t insn_mmio_store_value(const struct insn_mmio *m, uint64_t reg_value)
{
    if (m->from_imm)
        return m->imm & mask_of(m->size);
    if (m->high_byte)
        reg_value >>= 8;
    return reg_value & mask_of(m->size);
}
