/* FUZZ-SOURCES: arch/x86/insn.c */
/* libFuzzer harness for the x86 decoder. Input: a mode byte (16/32/64 by value % 3), then the
 * instruction bytes. Checks: a decoded length is 1-15 and within the input; decoding exactly
 * those bytes gives the same instruction and every shorter prefix of them asks for more; fields
 * stay in range; the MMIO view of it (if any) has a valid size and register, and its load/store
 * helpers keep to their widths. ASan sees any read past the input. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <x86/insn.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const enum insn_mode modes[3] = { INSN_MODE_16, INSN_MODE_32, INSN_MODE_64 };
    enum insn_mode mode = modes[data[0] % 3];
    size_t len = size - 1;
    uint8_t *bytes = malloc(len ? len : 1); /* exactly len bytes: ASan catches over-reads */
    memcpy(bytes, data + 1, len);
    struct insn in;
    int err = insn_decode(&in, bytes, len, mode);
    if (err != 0 && err != -EAGAIN && err != -EINVAL)
        abort();
    if (err == -EAGAIN && len >= INSN_MAX_LENGTH)
        abort(); /* 15 bytes always decide */
    if (err == 0) {
        if (in.length < 1 || in.length > INSN_MAX_LENGTH || in.length > len)
            abort();
        if (in.operand_size != 2 && in.operand_size != 4 && in.operand_size != 8)
            abort();
        if (in.address_size != 2 && in.address_size != 4 && in.address_size != 8)
            abort();
        if (in.has_modrm && (in.reg > 15 || in.rm > 15 || in.mod > 3))
            abort();
        if (in.mem && ((in.base != INSN_NO_REG && in.base > 15) ||
                       (in.index != INSN_NO_REG && in.index > 15)))
            abort();
        if (in.imm_size > 8 || in.disp_size > 4)
            abort();
        struct insn again;
        if (insn_decode(&again, bytes, in.length, mode) != 0 || again.length != in.length ||
            again.opcode != in.opcode || again.map != in.map || again.imm != in.imm ||
            again.disp != in.disp)
            abort();
        for (size_t k = 0; k < in.length; k++)
            if (insn_decode(&again, bytes, k, mode) != -EAGAIN)
                abort();
        struct insn_mmio m;
        int merr = insn_mmio(&in, &m);
        if (merr != 0 && merr != -ENOTSUP)
            abort();
        if (merr == 0) {
            if ((m.size != 1 && m.size != 2 && m.size != 4 && m.size != 8) || m.reg > 15 ||
                (m.kind != INSN_MMIO_LOAD && m.kind != INSN_MMIO_STORE) ||
                (m.high_byte && m.reg > 3))
                abort();
            uint64_t v = insn_mmio_store_value(&m, 0xffffffffffffffffull);
            if (m.size < 8 && (v >> (8 * m.size)))
                abort();
            if (m.kind == INSN_MMIO_LOAD) {
                uint64_t r = insn_mmio_load_result(&m, 0x1122334455667788ull, ~0ull);
                if (m.reg_size == 1 && (r & ~(m.high_byte ? 0xff00ull : 0xffull)) !=
                                           (0x1122334455667788ull & ~(m.high_byte ? 0xff00ull : 0xffull)))
                    abort();
                if (m.reg_size == 4 && (r >> 32))
                    abort();
            }
        }
    }
    free(bytes);
    return 0;
}
