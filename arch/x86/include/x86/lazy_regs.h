/* Guest registers neither VMX nor SVM switches on entry and exit, and the host never uses: they
 * stay in the CPU while a vCPU runs and across its exits, and are swapped only when another vCPU
 * takes the CPU, so no guest ever sees another's values (arch/x86/lazy_regs.c). Which of them a
 * backend must switch itself depends on what its VMCS/VMCB does: the parts mask says. */
#ifndef X86_LAZY_REGS_H
#define X86_LAZY_REGS_H

#include <stdint.h>
#include <x86/cpu.h>

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

/* Inline: with a constant parts mask only the switched registers' code remains (VM switches
 * run this). */
#define X86_LAZY_MSR_STAR 0xc0000081
#define X86_LAZY_MSR_LSTAR 0xc0000082
#define X86_LAZY_MSR_CSTAR 0xc0000083
#define X86_LAZY_MSR_SFMASK 0xc0000084
#define X86_LAZY_MSR_KERNEL_GS_BASE 0xc0000102
#define X86_LAZY_MSR_TSC_AUX 0xc0000103

static inline void x86_lazy_save(struct x86_lazy_regs *l, unsigned parts)
{
    if (parts & X86_LAZY_SYSCALL) {
        l->star = rdmsr(X86_LAZY_MSR_STAR);
        l->lstar = rdmsr(X86_LAZY_MSR_LSTAR);
        l->cstar = rdmsr(X86_LAZY_MSR_CSTAR);
        l->sfmask = rdmsr(X86_LAZY_MSR_SFMASK);
        l->kernel_gs_base = rdmsr(X86_LAZY_MSR_KERNEL_GS_BASE);
    }
    if (parts & X86_LAZY_TSC_AUX)
        l->tsc_aux = rdmsr(X86_LAZY_MSR_TSC_AUX);
    if (parts & X86_LAZY_CR2_DR6) {
        l->cr2 = read_cr2();
        __asm__ volatile("mov %%dr6, %0" : "=r"(l->dr6));
    }
    if (parts & X86_LAZY_DR0_3) {
        __asm__ volatile("mov %%dr0, %0" : "=r"(l->dr[0]));
        __asm__ volatile("mov %%dr1, %0" : "=r"(l->dr[1]));
        __asm__ volatile("mov %%dr2, %0" : "=r"(l->dr[2]));
        __asm__ volatile("mov %%dr3, %0" : "=r"(l->dr[3]));
    }
    if (parts & X86_LAZY_FPU)
        __asm__ volatile("fxsave64 %0" : "=m"(l->fxsave));
}

static inline void x86_lazy_load(const struct x86_lazy_regs *l, unsigned parts)
{
    if (parts & X86_LAZY_SYSCALL) {
        wrmsr(X86_LAZY_MSR_STAR, l->star);
        wrmsr(X86_LAZY_MSR_LSTAR, l->lstar);
        wrmsr(X86_LAZY_MSR_CSTAR, l->cstar);
        wrmsr(X86_LAZY_MSR_SFMASK, l->sfmask);
        wrmsr(X86_LAZY_MSR_KERNEL_GS_BASE, l->kernel_gs_base);
    }
    if (parts & X86_LAZY_TSC_AUX)
        wrmsr(X86_LAZY_MSR_TSC_AUX, l->tsc_aux);
    if (parts & X86_LAZY_CR2_DR6) {
        write_cr2(l->cr2);
        __asm__ volatile("mov %0, %%dr6" : : "r"(l->dr6));
    }
    if (parts & X86_LAZY_DR0_3) {
        __asm__ volatile("mov %0, %%dr0" : : "r"(l->dr[0]));
        __asm__ volatile("mov %0, %%dr1" : : "r"(l->dr[1]));
        __asm__ volatile("mov %0, %%dr2" : : "r"(l->dr[2]));
        __asm__ volatile("mov %0, %%dr3" : : "r"(l->dr[3]));
    }
    if (parts & X86_LAZY_FPU)
        __asm__ volatile("fxrstor64 %0" : : "m"(l->fxsave));
}

/* The state of these registers after RESET/INIT (SDM Vol. 3A 9.1.1, table 9-1). */
void x86_lazy_reset(struct x86_lazy_regs *l);

#endif
