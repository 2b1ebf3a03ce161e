/* Guest registers neither VMX nor SVM switches on entry and exit, and the host never uses: they
 * stay in the CPU while a vCPU runs and across its exits, and are swapped only when another vCPU
 * takes the CPU, so no guest ever sees another's values (arch/x86/lazy_regs.c). Which of them a
 * backend must switch itself depends on what its VMCS/VMCB does: the parts mask says. */
#ifndef X86_LAZY_REGS_H
#define X86_LAZY_REGS_H

#include <stdint.h>

#define X86_LAZY_FPU (1u << 0)        /* x87, MMX, SSE, MXCSR (FXSAVE64; XCR0 is x87|SSE) */
#define X86_LAZY_DR0_3 (1u << 1)      /* debug address registers */
#define X86_LAZY_CR2_DR6 (1u << 2)    /* VMX only: the VMCB switches both */
#define X86_LAZY_SYSCALL (1u << 3)    /* STAR, LSTAR, CSTAR, SFMASK, KERNEL_GS_BASE (VMX only) */
#define X86_LAZY_TSC_AUX (1u << 4)    /* when the guest has RDTSCP */

struct x86_lazy_regs {
    uint8_t fxsave[512] __attribute__((aligned(16)));
    uint64_t cr2;
    uint64_t dr[4];
    uint64_t dr6;
    uint64_t star, lstar, cstar, sfmask, kernel_gs_base;
    uint64_t tsc_aux;
};

void x86_lazy_save(struct x86_lazy_regs *l, unsigned parts);
void x86_lazy_load(const struct x86_lazy_regs *l, unsigned parts);
/* The state of these registers after RESET/INIT (SDM Vol. 3A 9.1.1, table 9-1). */
void x86_lazy_reset(struct x86_lazy_regs *l);

#endif
