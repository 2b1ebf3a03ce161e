/* SVM backend internals (arch/x86/svm/ only). */
#ifndef ARCH_X86_SVM_SVM_H
#define ARCH_X86_SVM_SVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <tessera/vcpu.h>
#include <x86/guest_cpuid.h>
#include <x86/lazy_regs.h>
#include <x86/vcpu_policy.h>
#include <x86/virt_ops.h>

#include "vmcb.h"

#define MSR_VM_CR 0xc0010114
#define MSR_VM_HSAVE_PA 0xc0010117
#define VM_CR_LOCK (1ull << 3)
#define VM_CR_SVMDIS (1ull << 4)
#define EFER_SVME (1ull << 12)

/* CPUID 0x8000000A EDX (APM vol. 3, appendix E.4.9) */
#define SVM_FEATURE_NPT (1u << 0)
#define SVM_FEATURE_NRIP_SAVE (1u << 3)
#define SVM_FEATURE_VMCB_CLEAN (1u << 5)
#define SVM_FEATURE_FLUSH_BY_ASID (1u << 6)
#define SVM_FEATURE_DECODE_ASSISTS (1u << 7)

struct svm_caps {
    bool present;
    uint32_t features; /* CPUID 0x8000000A EDX */
    uint32_t asids;    /* CPUID 0x8000000A EBX */
    uint32_t revision;
    bool rdtscp;
    unsigned maxphyaddr; /* cpu_maxphyaddr(), read once: CPUID is slow on hardware, an exit nested */
};
extern struct svm_caps svm_caps;

/* Guest general registers the entry stub saves and loads; RAX, RSP and RIP live in the VMCB. */
struct svm_regs {
    uint64_t rbx, rcx, rdx, rsi, rdi, rbp;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
};

/* svm_check.c: which guest state VMRUN refused (APM 15.5.1), one line, "" when none found. */
struct svm_check_state {
    uint64_t efer, cr0, cr3, cr4, dr6, dr7, rflags, g_pat;
    uint16_t cs_attrib;
    uint32_t asid, intercept_misc2;
    uint64_t event_inject;
    unsigned maxphyaddr;
};
struct svm_vcpu {
    struct svm_regs regs;  /* first: the entry stub addresses it directly */
    struct vmcb *vmcb;     /* the stub reads it at 0x70 */
    uint64_t vmcb_phys;
    struct x86_vm *vm;     /* NPT, IOPM, MSRPM, ASID, the VM's RAM */
    struct x86_lazy_regs lazy;
    uint64_t next_rip;     /* of the last exit's instruction, when known */
    uint32_t exit_code;
    struct x86_storm storm;
    uint32_t clean;        /* clean bits for the next VMRUN (0 without VMCB clean support) */
    uint32_t clean_all;    /* svm_clean_after_exit of this CPU's features */
    /* The checked guest state as given to VMRUN after the host last wrote it (host_wrote): a
     * VMEXIT_INVALID may overwrite the VMCB's (QEMU stores its own state there), and the report
     * must name what was refused. A guest cannot make its own state invalid (it gets #GP), so
     * only the VMRUNs after our writes need the copy. */
    struct svm_check_state entry;
    bool host_wrote;
    bool flush_tlb;        /* flush this ASID at the next VMRUN */
    struct x86_guest_cpuid cpuid;    /* the guest's CPUID view and the answers given */
    struct insn_mmio mmio;           /* the access of the last VCPU_EXIT_MMIO, to complete */
    struct vcpu *vcpu;               /* the generic vCPU (its exit counters) */
};

/* arch/x86/svm/svm_entry.asm: CLGI, VMLOAD guest, VMRUN (again at once after each CPUID exit
 * svm_exit_fast answers), VMSAVE guest, VMLOAD host, STGI with interrupts enabled only inside the
 * guest; the RSB fill of the variant's name after each exit. regs is the start of a struct
 * svm_vcpu. */
typedef void (*svm_enter_fn)(struct svm_regs *regs, uint64_t vmcb_phys, uint64_t host_phys,
                             uint32_t spec_flags);
void svm_enter(struct svm_regs *regs, uint64_t vmcb_phys, uint64_t host_phys, uint32_t spec);
void svm_enter_rsb_full(struct svm_regs *regs, uint64_t vmcb_phys, uint64_t host_phys, uint32_t spec);
void svm_enter_rsb_lite(struct svm_regs *regs, uint64_t vmcb_phys, uint64_t host_phys, uint32_t spec);

/* The next RIP after an intercepted instruction of a known length: NRIP save's (the VMCB's
 * nRIP, APM 15.7.1) only when CPUID 0x8000000A:EDX offers it, else RIP + length. */
static inline uint64_t svm_next_rip(uint32_t features, uint64_t rip, uint64_t vmcb_next_rip,
                                    unsigned length)
{
    return (features & SVM_FEATURE_NRIP_SAVE) ? vmcb_next_rip : rip + length;
}

/* What VMRUN may take from its cache after an exit: everything (APM 15.15.3), until a host write
 * clears a bit (vmcb_clean_bit); 0 without VMCB clean bits (CPUID 0x8000000A:EDX[5]). */
static inline uint32_t svm_clean_after_exit(uint32_t features)
{
    return (features & SVM_FEATURE_VMCB_CLEAN) ? SVM_CLEAN_ALL : 0;
}

/* A MOV-to-CR exit whose register decode assists name (EXITINFO1 bit 63 and GPR in 3:0, APM
 * 15.33.1): usable only with decode assists offered, and NRIP save for the next RIP. */
static inline bool svm_decoded_cr_write(uint32_t features, uint64_t exit_info1)
{
    uint32_t need = SVM_FEATURE_DECODE_ASSISTS | SVM_FEATURE_NRIP_SAVE;
    return (features & need) == need && (exit_info1 >> 63);
}

/* svm_vcpu.c: a CPUID exit within the slice, completed without leaving the entry stub (see
 * svm_entry.asm), which then runs the guest again at once; runs with GIF clear and the guest's
 * FS/GS loaded. False: the answer is not in the vCPU's table yet; the exit leaves the stub. */
bool svm_exit_fast(struct svm_vcpu *x);

/* svm.c */
bool svm_report(void);
int svm_cpu_enable(char *why, size_t why_len);
extern uint64_t svm_host_vmcb_phys[]; /* per CPU: the host's VMSAVE area */
extern svm_enter_fn svm_enter_variant;

void svm_explain_invalid(const struct svm_check_state *s, char *out, size_t len);

/* What the probe read: CPUID 0x80000001 ECX.SVM, then (with it) VM_CR and leaf 0x8000000A. */
struct svm_probe_facts {
    bool svm;          /* CPUID.80000001h:ECX.SVM (and leaf 0x8000000A exists) */
    uint64_t vm_cr;    /* MSR VM_CR (APM 15.30.1) */
    uint32_t features; /* CPUID 0x8000000A EDX */
    uint32_t asids;    /* CPUID 0x8000000A EBX */
};
/* Why no guest can run on such a CPU, as one sentence saying what to change (the "bad
 * input"), in out; 0 and an empty out when guests can run, else -ENODEV (no AMD-V), -EPERM
 * (disabled by the firmware), -ENOTSUP (no nested paging, no ASIDs). svm_check.c, pure. */
int svm_refusal(const struct svm_probe_facts *f, char *out, size_t len);

#endif
