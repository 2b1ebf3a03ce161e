/* The few instructions the hypervisor must decode itself where the CPU does not (SVM without
 * decode assists or NRIP save, as under QEMU TCG): MOV to/from a control register. Pure and
 * bounded: at most X86_MAX_INSN_LEN bytes are looked at. Another decoder (for MMIO emulation)
 * may replace this one; the interface is kept to one call. */
#ifndef X86_INSN_DECODE_H
#define X86_INSN_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define X86_MAX_INSN_LEN 15

struct x86_mov_cr {
    bool to_cr;      /* MOV CRn, reg (0F 22); else MOV reg, CRn (0F 20) */
    unsigned cr;     /* 0-15 (LOCK MOV CR0 is CR8 on AMD, "AltMovCr8") */
    unsigned gpr;    /* 0-15, in the ModRM order: RAX RCX RDX RBX RSP RBP RSI RDI R8-R15 */
    unsigned length; /* bytes, prefixes included */
};

/* Decodes the instruction at bytes[0..n). long_mode: 64-bit code (REX prefixes exist). Returns
 * true for MOV to/from CRn with out filled; false for anything else, a truncated instruction or
 * one longer than 15 bytes. */
bool x86_decode_mov_cr(const uint8_t *bytes, size_t n, bool long_mode, struct x86_mov_cr *out);

#endif
