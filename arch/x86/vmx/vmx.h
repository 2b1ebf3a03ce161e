/* VMX backend internals (arch/x86/vmx/ only). */
#ifndef ARCH_X86_VMX_VMX_H
#define ARCH_X86_VMX_VMX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <tessera/vcpu.h>
#include <x86/guest_cpuid.h>
#include <x86/insn.h>
#include <x86/lazy_regs.h>
#include <x86/vcpu_policy.h>
#include <x86/virt_ops.h>

#define MSR_VMX_BASIC 0x480
#define MSR_VMX_PINBASED 0x481
#define MSR_VMX_PROCBASED 0x482
#define MSR_VMX_EXIT 0x483
#define MSR_VMX_ENTRY 0x484
#define MSR_VMX_MISC 0x485
#define MSR_VMX_CR0_FIXED0 0x486
#define MSR_VMX_CR0_FIXED1 0x487
#define MSR_VMX_CR4_FIXED0 0x488
#define MSR_VMX_CR4_FIXED1 0x489
#define MSR_VMX_PROCBASED2 0x48b
#define MSR_VMX_EPT_VPID_CAP 0x48c
#define MSR_VMX_TRUE_PINBASED 0x48d
#define MSR_VMX_TRUE_PROCBASED 0x48e
#define MSR_VMX_TRUE_EXIT 0x48f
#define MSR_VMX_TRUE_ENTRY 0x490

/* Pin-based controls (SDM 25.6.1) */
#define PIN_EXTERNAL_INTERRUPT_EXITING (1u << 0)
#define PIN_NMI_EXITING (1u << 3)
#define PIN_PREEMPTION_TIMER (1u << 6)
/* Primary processor-based controls (SDM 25.6.2) */
#define PROC_INTERRUPT_WINDOW_EXITING (1u << 2)
#define PROC_HLT_EXITING (1u << 7)
#define PROC_MWAIT_EXITING (1u << 10)
#define PROC_RDPMC_EXITING (1u << 11)
#define PROC_CR8_LOAD_EXITING (1u << 19)
#define PROC_CR8_STORE_EXITING (1u << 20)
#define PROC_MOV_DR_EXITING (1u << 23)
#define PROC_USE_IO_BITMAPS (1u << 25)
#define PROC_USE_MSR_BITMAPS (1u << 28)
#define PROC_MONITOR_EXITING (1u << 29)
#define PROC_SECONDARY (1u << 31)
/* Secondary processor-based controls */
#define PROC2_EPT (1u << 1)
#define PROC2_RDTSCP (1u << 3)
#define PROC2_VPID (1u << 5)
#define PROC2_WBINVD_EXITING (1u << 6)
#define PROC2_UNRESTRICTED_GUEST (1u << 7)
#define PROC2_INVPCID (1u << 12)
/* VM-exit controls (SDM 25.7.1) */
#define EXIT_SAVE_DEBUG_CONTROLS (1u << 2)
#define EXIT_HOST_64BIT (1u << 9)
#define EXIT_ACK_INTERRUPT (1u << 15)
#define EXIT_SAVE_PAT (1u << 18)
#define EXIT_LOAD_PAT (1u << 19)
#define EXIT_SAVE_EFER (1u << 20)
#define EXIT_LOAD_EFER (1u << 21)
#define EXIT_SAVE_PREEMPTION_TIMER (1u << 22)
/* VM-entry controls (SDM 25.8.1) */
#define ENTRY_LOAD_DEBUG_CONTROLS (1u << 2)
#define ENTRY_IA32E_GUEST (1u << 9)
#define ENTRY_LOAD_PAT (1u << 14)
#define ENTRY_LOAD_EFER (1u << 15)

/* What this CPU lets us set, computed once from the TRUE_* capability MSRs. */
struct vmx_caps {
    bool present;          /* CPUID.1:ECX.VMX */
    uint64_t feature_control;
    uint64_t basic;
    uint32_t revision;
    uint64_t ept_vpid;
    unsigned preemption_rate; /* timer counts down every 2^rate TSC ticks */
    uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1; /* SDM A.7, A.8 */
    uint32_t pin_allowed0, pin_allowed1;
    uint32_t proc_allowed0, proc_allowed1;
    uint32_t proc2_allowed1;
    uint32_t exit_allowed0, exit_allowed1;
    uint32_t entry_allowed0, entry_allowed1;
    uint32_t pin, proc, proc2, exit, entry; /* the controls we run every guest with */
};

extern struct vmx_caps vmx_caps;
/* VMXON done on that CPU: VMX instructions may run there (they #UD otherwise). */
extern bool vmx_on[];

/* Guest general registers the entry stub saves and loads (RSP and RIP live in the VMCS). */
struct vmx_regs {
    uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
};

struct vmx_vcpu {
    struct vmx_regs regs;           /* first: the entry stub addresses it directly */
    uint64_t vmcs_phys;
    struct x86_vm *vm;              /* EPT, I/O and MSR bitmaps, the VM's RAM */
    struct x86_lazy_regs lazy;
    bool wrmsr_regs_nonzero;        /* lazy's STAR, LSTAR, CSTAR, SFMASK or TSC_AUX is not 0 */
    bool launched;
    uint8_t tpr;                    /* the guest's CR8, kept virtual */
    bool window_exiting;            /* interrupt-window exiting is on in the VMCS */
    bool dr_exiting;                /* MOV-DR exiting is on: this life has not touched DR0-DR7
                                     * yet, so its DR0-DR3 are 0 and need no switching */
    uint32_t exit_reason;           /* of the last exit */
    uint64_t exit_qualification;    /* of the last exit, read by the handlers that use it */
    uint32_t exit_instruction_len;  /* what the completion of a VMCALL, VMMCALL (#UD), HLT or
                                     * MMIO exit steps past: the exit's or a decoded length */
    /* The run in progress (vmx_exit_dispatch, called from the exit landing, finds them here): */
    struct vcpu *vcpu;
    struct vcpu_exit *exit;
    uint64_t deadline;
    struct x86_storm storm;         /* exception-storm detection */
    struct x86_guest_cpuid cpuid;    /* the guest's CPUID view and the answers given */
    struct insn_mmio mmio;           /* the access of the last VCPU_EXIT_MMIO, to complete */
};

/* arch/x86/vmx/vmx_entry.asm: enters the guest (VMLAUNCH when launched is 0, else VMRESUME),
 * with VERW last when spec_flags has SPEC_FLAG_VERW; after each exit, the RSB fill that
 * spec_entry_flags asks for and vmx_exit_dispatch. Returns 0 after a VM exit that generic code
 * must see; 1 when the instruction failed (VMfailValid/VMfailInvalid), after vmx_entry_failed
 * has reported it. */
int vmx_enter(struct vmx_regs *regs, int launched, uint32_t spec_flags);
/* Called by the exit landing with the guest's registers saved and the exit reason read: handles
 * the exit. Returns 0 to leave vmx_enter (exit filled in for generic code, or an entry failure),
 * else the flags of the next entry (spec_entry_flags) with VMX_REENTER set: the stub re-enters at
 * once. */
#define VMX_REENTER 0x80000000u
uint32_t vmx_exit_dispatch(struct vmx_regs *regs, uint32_t reason);
/* The landing's CPUID path, before RBX, RBP and R12-R15 are saved: the same result, or 0 when
 * vmx_exit_dispatch must take the exit. */
uint32_t vmx_exit_cpuid_fast(struct vmx_regs *regs);
/* Called by the entry stub when VMLAUNCH/VMRESUME failed: fills the run's exit as a fault. */
void vmx_entry_failed(struct vmx_regs *regs);

int vmx_cpu_enable(char *why, size_t why_len);
bool vmx_report(void);
const char *vmx_exit_reason_name(uint32_t reason);

#endif
