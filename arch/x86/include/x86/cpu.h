/* CPU primitives: CPUID, MSRs, control registers. Thin inline wrappers, no policy. */
#ifndef X86_CPU_H
#define X86_CPU_H

#include <stdbool.h>
#include <stdint.h>

#define MSR_IA32_APIC_BASE 0x1b
#define MSR_IA32_FEATURE_CONTROL 0x3a
#define MSR_IA32_PAT 0x277
#define MSR_IA32_EFER 0xc0000080
#define MSR_IA32_FS_BASE 0xc0000100
#define MSR_IA32_GS_BASE 0xc0000101
/* the state both backends give guests directly or swap (SYSCALL/SYSENTER, SWAPGS, RDTSCP) */
#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SFMASK 0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_TSC_AUX 0xc0000103
#define PAT_POWER_ON 0x0007040600070406ull /* IA32_PAT at power-up and reset (SDM Vol. 3A, PAT) */

#define CR0_PE (1ULL << 0)
#define CR0_ET (1ULL << 4)
#define CR0_NE (1ULL << 5)
#define CR0_WP (1ULL << 16)
#define CR0_NW (1ULL << 29)
#define CR0_CD (1ULL << 30)
#define CR0_PG (1ULL << 31)
#define CR4_VME (1ULL << 0)
#define CR4_PVI (1ULL << 1)
#define CR4_TSD (1ULL << 2)
#define CR4_DE (1ULL << 3)
#define CR4_PSE (1ULL << 4)
#define CR4_PAE (1ULL << 5)
#define CR4_MCE (1ULL << 6)
#define CR4_PGE (1ULL << 7)
#define CR4_PCE (1ULL << 8)
#define CR4_OSFXSR (1ULL << 9)     /* FXSAVE/FXRSTOR cover the SSE state */
#define CR4_OSXMMEXCPT (1ULL << 10)
#define CR4_UMIP (1ULL << 11)
#define CR4_LA57 (1ULL << 12)
#define CR4_VMXE (1ULL << 13)
#define CR4_FSGSBASE (1ULL << 16)
#define CR4_PCIDE (1ULL << 17)
#define CR4_SMXE (1ULL << 14)
#define CR4_OSXSAVE (1ULL << 18)
#define CR4_SMEP (1ULL << 20)
#define CR4_SMAP (1ULL << 21)
#define CR4_PKE (1ULL << 22)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)
#define EFER_NXE (1ULL << 11)

struct cpuid_regs {
    uint32_t eax, ebx, ecx, edx;
};

static inline struct cpuid_regs cpuid(uint32_t leaf, uint32_t subleaf)
{
    struct cpuid_regs r;
    __asm__ volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
                     : "a"(leaf), "c"(subleaf));
    return r;
}

static inline uint32_t cpuid_max_leaf(void) { return cpuid(0, 0).eax; }
static inline uint32_t cpuid_max_ext_leaf(void) { return cpuid(0x80000000u, 0).eax; }

#define CPUID1_EDX_MCE (1u << 7)
#define CPUID1_EDX_APIC (1u << 9)
#define CPUID1_EDX_MCA (1u << 14)

/* Physical-address width (CPUID 0x80000008 EAX[7:0]); 36 when absent or implausible. */
static inline unsigned cpu_maxphyaddr(void)
{
    unsigned bits = cpuid_max_ext_leaf() >= 0x80000008u ? (cpuid(0x80000008u, 0).eax & 0xff) : 36;
    return bits < 32 || bits > 52 ? 36 : bits;
}

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

#define X86_DEFINE_CR(n)                                                                     \
    static inline uint64_t read_cr##n(void)                                                  \
    {                                                                                        \
        uint64_t v;                                                                          \
        __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));                                    \
        return v;                                                                            \
    }                                                                                        \
    static inline void write_cr##n(uint64_t v)                                               \
    {                                                                                        \
        __asm__ volatile("mov %0, %%cr" #n : : "r"(v) : "memory");                           \
    }
X86_DEFINE_CR(0)
X86_DEFINE_CR(2)
X86_DEFINE_CR(3)
X86_DEFINE_CR(4)
#undef X86_DEFINE_CR

static inline void cpu_relax(void) { __builtin_ia32_pause(); }

#endif
