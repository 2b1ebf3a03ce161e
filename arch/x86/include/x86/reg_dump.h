/* The general registers of a guest in a failure report or the monitor's `regs`: the same lines
 * for both backends (each adds what only it knows: control registers as it holds them, the last
 * exit in its own terms). */
#ifndef X86_REG_DUMP_H
#define X86_REG_DUMP_H

#include <stdint.h>

struct x86_reg_dump {
    uint64_t rip, rsp, rflags;
    unsigned mode_bits; /* 16, 32 or 64 */
    uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
};

void x86_dump_gprs(const char *prefix, const struct x86_reg_dump *d);

#endif
