/* A pure x86 instruction decoder (arch/x86/insn.c): prefixes (legacy, REX, VEX, EVEX), opcode
 * maps 0F / 0F38 / 0F3A, ModRM, SIB, displacement (RIP-relative in 64-bit mode) and immediates,
 * for 16-, 32- and 64-bit code. It finds the length and the operands of any instruction it
 * decodes, without knowing what most of them do: enough to step past an instruction (SVM without
 * NRIP save) and, with insn_mmio, to emulate the few that reach device memory. Vendor-neutral,
 * no hardware access, host-tested (tests/unit/test_insn.c) and fuzzed (tests/fuzz/fuzz_insn.c).
 * References: Intel SDM vol. 2, chapter 2 (instruction format) and appendix A (opcode maps). */
#ifndef X86_INSN_H
#define X86_INSN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INSN_MAX_LENGTH 15 /* longer is #GP on the CPU (SDM vol. 2, 2.3.11) */

enum insn_mode { INSN_MODE_16 = 16, INSN_MODE_32 = 32, INSN_MODE_64 = 64 };

enum insn_map { INSN_MAP_ONE = 0, INSN_MAP_0F = 1, INSN_MAP_0F38 = 2, INSN_MAP_0F3A = 3 };

#define INSN_NO_REG 0xff
#define INSN_NO_SEGMENT 0xff
enum insn_segment { INSN_SEG_ES, INSN_SEG_CS, INSN_SEG_SS, INSN_SEG_DS, INSN_SEG_FS, INSN_SEG_GS };

struct insn {
    uint8_t length;          /* bytes, prefixes to the last immediate byte */
    uint8_t mode;            /* enum insn_mode decoded for */
    uint8_t map;             /* enum insn_map */
    uint8_t opcode;          /* the byte after the prefixes and escapes */
    uint8_t operand_size;    /* 2, 4 or 8 (for instructions whose operand size prefixes set) */
    uint8_t address_size;    /* 2, 4 or 8 */
    uint8_t segment;         /* enum insn_segment override, or INSN_NO_SEGMENT */
    uint8_t rex;             /* the REX byte in effect (0: none) */
    bool lock, rep, repne, opsize_prefix;
    bool vex;                /* VEX- or EVEX-encoded */
    bool has_modrm;
    uint8_t modrm, mod, reg, rm; /* reg and rm extended by REX.R / REX.B (0-15) */
    bool has_sib;
    uint8_t sib;
    /* A memory operand (has_modrm and mod != 3): base and index register numbers (0-15, or
     * INSN_NO_REG), scale 1/2/4/8, displacement; rip_relative: base is the next instruction. */
    bool mem;
    uint8_t base, index, scale;
    bool rip_relative;
    int64_t disp;
    uint8_t disp_size;
    uint64_t imm;            /* the first immediate, zero-extended (imm2: ENTER's second one,
                              * a far pointer's selector) */
    uint8_t imm_size;
    uint16_t imm2;
    uint8_t imm2_size;
};

/* Decodes one instruction from bytes[0, len) in mode. 0 and *out filled; -EAGAIN: len ends
 * inside it (give more bytes, up to INSN_MAX_LENGTH); -EINVAL: longer than 15 bytes, or an
 * opcode that is undefined in that mode (the CPU would raise #UD). Reads no byte at or past len. */
int insn_decode(struct insn *out, const uint8_t *bytes, size_t len, enum insn_mode mode);

/* A decoded instruction as an access to device memory: the forms a guest's MMIO accessors
 * compile to. MOV r/m,reg (88/89), MOV reg,r/m (8A/8B), MOV r/m,imm (C6/C7 /0), MOV moffs
 * (A0-A3), MOVZX/MOVSX (0F B6/B7/BE/BF). */
enum insn_mmio_kind { INSN_MMIO_LOAD = 1, INSN_MMIO_STORE = 2 };
struct insn_mmio {
    uint8_t kind;      /* enum insn_mmio_kind */
    uint8_t size;      /* bytes accessed in memory: 1, 2, 4 or 8 */
    /* LOAD: destination register (0-15) and its width in bytes; high_byte: AH/CH/DH/BH (reg
     * 4-7 without REX). STORE from a register: the same for the source. */
    uint8_t reg, reg_size;
    bool high_byte;
    bool sign_extend;  /* LOAD: MOVSX */
    bool from_imm;     /* STORE: the value is imm (already sign-extended to size) */
    uint64_t imm;
};
/* 0, or -ENOTSUP for any other instruction (including register-only forms and LOCK). */
int insn_mmio(const struct insn *insn, struct insn_mmio *out);

/* The general register after a LOAD of value (zero- or sign-extended per out) into old: 32-bit
 * destinations zero the upper half as in 64-bit mode, 8- and 16-bit ones keep the rest. */
uint64_t insn_mmio_load_result(const struct insn_mmio *m, uint64_t old, uint64_t value);
/* The value a STORE writes, from the source register's value (ignored for from_imm). */
uint64_t insn_mmio_store_value(const struct insn_mmio *m, uint64_t reg_value);

#endif
