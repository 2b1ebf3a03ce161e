/* The virtual machine control block (AMD APM vol. 2, appendix B): a 4 KiB page, the control area
 * at 0 and the guest state save area at 0x400. Plain memory: fields are read and written
 * directly. Offsets are checked at compile time against appendix B's tables. */
#ifndef ARCH_X86_SVM_VMCB_H
#define ARCH_X86_SVM_VMCB_H

#include <stddef.h>
#include <stdint.h>

struct vmcb_segment {
    uint16_t selector;
    uint16_t attrib; /* the descriptor's bits 55:52 and 47:40 packed as 11:8 and 7:0 */
    uint32_t limit;
    uint64_t base;
};

struct vmcb {
    /* control area (table B-1) */
    uint32_t intercept_cr;        /* 0x000: bits 15:0 reads, 31:16 writes of CR0-15 */
    uint32_t intercept_dr;        /* 0x004 */
    uint32_t intercept_exceptions; /* 0x008 */
    uint32_t intercept_misc1;     /* 0x00c: INTR ... SHUTDOWN */
    uint32_t intercept_misc2;     /* 0x010: VMRUN ... */
    uint32_t intercept_misc3;     /* 0x014 */
    uint8_t reserved1[0x03c - 0x018];
    uint16_t pause_filter_threshold; /* 0x03c */
    uint16_t pause_filter_count;  /* 0x03e */
    uint64_t iopm_base_pa;        /* 0x040 */
    uint64_t msrpm_base_pa;       /* 0x048 */
    uint64_t tsc_offset;          /* 0x050 */
    uint32_t asid;                /* 0x058 */
    uint8_t tlb_control;          /* 0x05c */
    uint8_t reserved2[3];
    uint64_t vintr;               /* 0x060: V_TPR, V_IRQ, V_INTR_PRIO, V_IGN_TPR, V_INTR_MASKING, vector */
    uint64_t interrupt_shadow;    /* 0x068 */
    uint64_t exit_code;           /* 0x070 */
    uint64_t exit_info1;          /* 0x078 */
    uint64_t exit_info2;          /* 0x080 */
    uint64_t exit_int_info;       /* 0x088 */
    uint64_t np_control;          /* 0x090: bit 0 nested paging */
    uint64_t avic_apic_bar;       /* 0x098 */
    uint64_t ghcb_pa;             /* 0x0a0 */
    uint64_t event_inject;        /* 0x0a8 */
    uint64_t n_cr3;               /* 0x0b0 */
    uint64_t virt_ext;            /* 0x0b8 */
    uint32_t clean;               /* 0x0c0 */
    uint32_t reserved3;
    uint64_t next_rip;            /* 0x0c8 */
    uint8_t insn_len;             /* 0x0d0 */
    uint8_t insn_bytes[15];       /* 0x0d1 */
    uint8_t reserved4[0x400 - 0x0e0];
    /* state save area (table B-2) */
    struct vmcb_segment es, cs, ss, ds, fs, gs; /* 0x400 */
    struct vmcb_segment gdtr, ldtr, idtr, tr;   /* 0x460 */
    uint8_t reserved5[0x4cb - 0x4a0];
    uint8_t cpl;                  /* 0x4cb */
    uint32_t reserved6;
    uint64_t efer;                /* 0x4d0 */
    uint8_t reserved7[0x548 - 0x4d8];
    uint64_t cr4;                 /* 0x548 */
    uint64_t cr3;                 /* 0x550 */
    uint64_t cr0;                 /* 0x558 */
    uint64_t dr7;                 /* 0x560 */
    uint64_t dr6;                 /* 0x568 */
    uint64_t rflags;              /* 0x570 */
    uint64_t rip;                 /* 0x578 */
    uint8_t reserved8[0x5d8 - 0x580];
    uint64_t rsp;                 /* 0x5d8 */
    uint8_t reserved9[0x5f8 - 0x5e0];
    uint64_t rax;                 /* 0x5f8 */
    uint64_t star;                /* 0x600 */
    uint64_t lstar;               /* 0x608 */
    uint64_t cstar;               /* 0x610 */
    uint64_t sfmask;              /* 0x618 */
    uint64_t kernel_gs_base;      /* 0x620 */
    uint64_t sysenter_cs;         /* 0x628 */
    uint64_t sysenter_esp;        /* 0x630 */
    uint64_t sysenter_eip;        /* 0x638 */
    uint64_t cr2;                 /* 0x640 */
    uint8_t reserved10[0x668 - 0x648];
    uint64_t g_pat;               /* 0x668 */
    uint64_t dbgctl;              /* 0x670 */
    uint8_t reserved11[0x1000 - 0x678];
};

_Static_assert(offsetof(struct vmcb, iopm_base_pa) == 0x040, "VMCB layout");
_Static_assert(offsetof(struct vmcb, asid) == 0x058, "VMCB layout");
_Static_assert(offsetof(struct vmcb, exit_code) == 0x070, "VMCB layout");
_Static_assert(offsetof(struct vmcb, event_inject) == 0x0a8, "VMCB layout");
_Static_assert(offsetof(struct vmcb, next_rip) == 0x0c8, "VMCB layout");
_Static_assert(offsetof(struct vmcb, es) == 0x400, "VMCB layout");
_Static_assert(offsetof(struct vmcb, tr) == 0x490, "VMCB layout");
_Static_assert(offsetof(struct vmcb, efer) == 0x4d0, "VMCB layout");
_Static_assert(offsetof(struct vmcb, cr4) == 0x548, "VMCB layout");
_Static_assert(offsetof(struct vmcb, rip) == 0x578, "VMCB layout");
_Static_assert(offsetof(struct vmcb, rsp) == 0x5d8, "VMCB layout");
_Static_assert(offsetof(struct vmcb, rax) == 0x5f8, "VMCB layout");
_Static_assert(offsetof(struct vmcb, cr2) == 0x640, "VMCB layout");
_Static_assert(offsetof(struct vmcb, g_pat) == 0x668, "VMCB layout");
_Static_assert(sizeof(struct vmcb) == 0x1000, "VMCB layout");

/* intercept_misc1 (vector 3) */
#define SVM_INTERCEPT_INTR (1u << 0)
#define SVM_INTERCEPT_NMI (1u << 1)
#define SVM_INTERCEPT_SMI (1u << 2)
#define SVM_INTERCEPT_INIT (1u << 3)
#define SVM_INTERCEPT_VINTR (1u << 4)
#define SVM_INTERCEPT_RDPMC (1u << 15)
#define SVM_INTERCEPT_CPUID (1u << 18)
#define SVM_INTERCEPT_INVD (1u << 22)
#define SVM_INTERCEPT_HLT (1u << 24)
#define SVM_INTERCEPT_INVLPGA (1u << 26)
#define SVM_INTERCEPT_IOIO (1u << 27)
#define SVM_INTERCEPT_MSR (1u << 28)
#define SVM_INTERCEPT_TASK_SWITCH (1u << 29)
#define SVM_INTERCEPT_SHUTDOWN (1u << 31)
/* intercept_misc2 (vector 4) */
#define SVM_INTERCEPT_VMRUN (1u << 0)
#define SVM_INTERCEPT_VMMCALL (1u << 1)
#define SVM_INTERCEPT_VMLOAD (1u << 2)
#define SVM_INTERCEPT_VMSAVE (1u << 3)
#define SVM_INTERCEPT_STGI (1u << 4)
#define SVM_INTERCEPT_CLGI (1u << 5)
#define SVM_INTERCEPT_SKINIT (1u << 6)
#define SVM_INTERCEPT_WBINVD (1u << 9)
#define SVM_INTERCEPT_MONITOR (1u << 10)
#define SVM_INTERCEPT_MWAIT (1u << 11)
#define SVM_INTERCEPT_MWAIT_ARMED (1u << 12)
#define SVM_INTERCEPT_XSETBV (1u << 13)
#define SVM_INTERCEPT_RDPRU (1u << 14)

/* vintr (offset 0x060) */
#define SVM_VINTR_V_IRQ (1ull << 8)
#define SVM_VINTR_PRIO_SHIFT 16
#define SVM_VINTR_IGN_TPR (1ull << 20)
#define SVM_VINTR_MASKING (1ull << 24)

/* event_inject and exit_int_info (APM 15.20) */
#define SVM_EVENT_VALID (1ull << 31)
#define SVM_EVENT_ERROR_VALID (1ull << 11)
#define SVM_EVENT_TYPE_INTR (0ull << 8)
#define SVM_EVENT_TYPE_NMI (2ull << 8)
#define SVM_EVENT_TYPE_EXCEPTION (3ull << 8)
#define SVM_EVENT_TYPE_SOFT_INT (4ull << 8)
#define SVM_EVENT_TYPE_MASK (7ull << 8)

/* Exit codes (APM appendix C). */
#define SVM_EXIT_WRITE_CR4 0x014
#define SVM_EXIT_EXCEPTION_BASE 0x040
#define SVM_EXIT_INTR 0x060
#define SVM_EXIT_NMI 0x061
#define SVM_EXIT_SMI 0x062
#define SVM_EXIT_INIT 0x063
#define SVM_EXIT_VINTR 0x064
#define SVM_EXIT_RDPMC 0x06f
#define SVM_EXIT_CPUID 0x072
#define SVM_EXIT_INVD 0x076
#define SVM_EXIT_HLT 0x078
#define SVM_EXIT_INVLPGA 0x07a
#define SVM_EXIT_IOIO 0x07b
#define SVM_EXIT_MSR 0x07c
#define SVM_EXIT_TASK_SWITCH 0x07d
#define SVM_EXIT_SHUTDOWN 0x07f
#define SVM_EXIT_VMRUN 0x080
#define SVM_EXIT_VMMCALL 0x081
#define SVM_EXIT_VMLOAD 0x082
#define SVM_EXIT_VMSAVE 0x083
#define SVM_EXIT_STGI 0x084
#define SVM_EXIT_CLGI 0x085
#define SVM_EXIT_SKINIT 0x086
#define SVM_EXIT_WBINVD 0x089
#define SVM_EXIT_MONITOR 0x08a
#define SVM_EXIT_MWAIT 0x08b
#define SVM_EXIT_MWAIT_ARMED 0x08c
#define SVM_EXIT_XSETBV 0x08d
#define SVM_EXIT_RDPRU 0x08e
#define SVM_EXIT_COUNT 0x090 /* the dispatch table covers 0-0x8f */
#define SVM_EXIT_NPF 0x400
#define SVM_EXIT_INVALID 0xffffffffull /* also seen as the 32-bit value (QEMU) */

/* VMCB clean bits (APM 15.15.3): what the CPU may keep cached from the last VMRUN. */
#define SVM_CLEAN_INTERCEPTS (1u << 0) /* intercepts, TSC offset, pause filter */
#define SVM_CLEAN_IOPM (1u << 1)
#define SVM_CLEAN_ASID (1u << 2)
#define SVM_CLEAN_TPR (1u << 3)        /* V_TPR, V_IRQ, V_INTR_* */
#define SVM_CLEAN_NP (1u << 4)
#define SVM_CLEAN_CR (1u << 5)         /* CR0, CR3, CR4, EFER */
#define SVM_CLEAN_DR (1u << 6)
#define SVM_CLEAN_DT (1u << 7)
#define SVM_CLEAN_SEG (1u << 8)
#define SVM_CLEAN_CR2 (1u << 9)
#define SVM_CLEAN_LBR (1u << 10)
#define SVM_CLEAN_ALL 0x7ffu

/* The clean bit that covers the VMCB byte at offset (APM 15.15.3, table 15-9), 0 for what VMRUN
 * reads every time (RIP, RSP, RAX, RFLAGS, EVENTINJ, TLB_CONTROL, the interrupt shadow, the
 * syscall MSRs VMLOAD moves, ...). A host write to a covered field must clear its bit before the
 * next VMRUN, or a CPU with clean bits may run on its cached copy. */
static inline uint32_t vmcb_clean_bit(size_t offset)
{
    if (offset < 0x018 || (offset >= 0x03c && offset < 0x040) || (offset >= 0x050 && offset < 0x058))
        return SVM_CLEAN_INTERCEPTS; /* intercept vectors, pause filter, TSC offset */
    if (offset >= 0x040 && offset < 0x050)
        return SVM_CLEAN_IOPM; /* IOPM_BASE_PA, MSRPM_BASE_PA */
    if (offset >= 0x058 && offset < 0x05c)
        return SVM_CLEAN_ASID;
    if (offset >= 0x060 && offset < 0x068)
        return SVM_CLEAN_TPR; /* V_TPR, V_IRQ, V_INTR_PRIO, V_IGN_TPR, V_INTR_MASKING, vector */
    if ((offset >= 0x090 && offset < 0x098) || (offset >= 0x0b0 && offset < 0x0b8) ||
        (offset >= 0x668 && offset < 0x670))
        return SVM_CLEAN_NP; /* NP_ENABLE, N_CR3, G_PAT */
    if ((offset >= 0x4d0 && offset < 0x4d8) || (offset >= 0x548 && offset < 0x560))
        return SVM_CLEAN_CR; /* EFER, CR4, CR3, CR0 */
    if (offset >= 0x560 && offset < 0x570)
        return SVM_CLEAN_DR; /* DR7, DR6 */
    if ((offset >= 0x460 && offset < 0x470) || (offset >= 0x480 && offset < 0x490))
        return SVM_CLEAN_DT; /* GDTR, IDTR */
    if (offset >= 0x400 && offset < 0x440)
        return SVM_CLEAN_SEG; /* ES, CS, SS, DS */
    if (offset == 0x4cb)
        return SVM_CLEAN_SEG; /* CPL */
    if (offset >= 0x640 && offset < 0x648)
        return SVM_CLEAN_CR2;
    if (offset >= 0x670 && offset < 0x698)
        return SVM_CLEAN_LBR; /* DBGCTL, the LBR records */
    return 0;
}

#endif
