/* Lazy switching of the registers in x86/lazy_regs.h. */
#include <tessera/string.h>
#include <x86/cpu.h>
#include <x86/lazy_regs.h>

#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SFMASK 0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_TSC_AUX 0xc0000103

void x86_lazy_save(struct x86_lazy_regs *l, unsigned parts)
{
    if (parts & X86_LAZY_SYSCALL) {
        l->star = rdmsr(MSR_STAR);
        l->lstar = rdmsr(MSR_LSTAR);
        l->cstar = rdmsr(MSR_CSTAR);
        l->sfmask = rdmsr(MSR_SFMASK);
        l->kernel_gs_base = rdmsr(MSR_KERNEL_GS_BASE);
    }
    if (parts & X86_LAZY_TSC_AUX)
        l->tsc_aux = rdmsr(MSR_TSC_AUX);
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

void x86_lazy_load(const struct x86_lazy_regs *l, unsigned parts)
{
    if (parts & X86_LAZY_SYSCALL) {
        wrmsr(MSR_STAR, l->star);
        wrmsr(MSR_LSTAR, l->lstar);
        wrmsr(MSR_CSTAR, l->cstar);
        wrmsr(MSR_SFMASK, l->sfmask);
        wrmsr(MSR_KERNEL_GS_BASE, l->kernel_gs_base);
    }
    if (parts & X86_LAZY_TSC_AUX)
        wrmsr(MSR_TSC_AUX, l->tsc_aux);
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

void x86_lazy_reset(struct x86_lazy_regs *l)
{
    memset(l, 0, sizeof(*l));
    l->dr6 = 0xffff0ff0;
    uint16_t fcw = 0x037f; /* all exceptions masked, 64-bit precision */
    uint32_t mxcsr = 0x1f80;
    memcpy(&l->fxsave[0], &fcw, sizeof(fcw));
    memcpy(&l->fxsave[24], &mxcsr, sizeof(mxcsr));
}
