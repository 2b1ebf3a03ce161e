/* What the three parts of a VMX vCPU share (arch/x86/vmx/ only): vmx_vmcs.c sets the VMCS up,
 * vmx_exits.c handles exits (a table indexed by exit reason), vmx_run.c runs the guest and
 * answers the vCPU interface's register calls. */
#ifndef ARCH_X86_VMX_VMX_VCPU_H
#define ARCH_X86_VMX_VMX_VCPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <tessera/vcpu.h>
#include <x86/cpu.h>
#include <x86/gpt_walk.h>
#include <x86/percpu.h>
#include <x86/vcpu_policy.h>
#include <x86/virt_ops.h>

#include "vmcs.h"
#include "vmx.h"

#define EXIT_REASON_EXCEPTION_NMI 0
#define EXIT_REASON_EXTERNAL_INTERRUPT 1
#define EXIT_REASON_TRIPLE_FAULT 2
#define EXIT_REASON_INTERRUPT_WINDOW 7
#define EXIT_REASON_CPUID 10
#define EXIT_REASON_HLT 12
#define EXIT_REASON_INVD 13
#define EXIT_REASON_RDPMC 15
#define EXIT_REASON_VMCALL 18
#define EXIT_REASON_CR_ACCESS 28
#define EXIT_REASON_MOV_DR 29
#define EXIT_REASON_IO 30
#define EXIT_REASON_RDMSR 31
#define EXIT_REASON_WRMSR 32
#define EXIT_REASON_MWAIT 36
#define EXIT_REASON_MONITOR 39
#define EXIT_REASON_EPT_VIOLATION 48
#define EXIT_REASON_PREEMPTION_TIMER 52
#define EXIT_REASON_WBINVD 54
#define EXIT_REASON_COUNT 65 /* the table covers reasons 0-64 (SDM appendix C) */
#define EXIT_REASON_ENTRY_FAILURE (1u << 31)

#define INTR_INFO_VALID (1u << 31)
#define INTR_INFO_ERROR_CODE (1u << 11)
#define INTR_TYPE_EXTERNAL (0u << 8)
#define INTR_TYPE_NMI (2u << 8)
#define INTR_TYPE_HW_EXCEPTION (3u << 8)
#define INTR_TYPE_PRIV_SW_EXCEPTION (5u << 8) /* ICEBP (INT1) */
#define INTR_TYPE_MASK (7u << 8)
#define INTERRUPTIBILITY_NMI (1u << 3) /* blocking by NMI (SDM Vol. 3C 25.4.2, table 25-3) */

#define RFLAGS_RESERVED1 (1ull << 1)
#define RFLAGS_IF (1ull << 9)
#define RFLAGS_VM (1ull << 17) /* virtual-8086 mode */

static inline struct vmx_vcpu *vmx_of(struct vcpu *v) { return v->backend; }

/* An exit handler: true to re-enter the guest at once, false to return exit to generic code. */
typedef bool (*vmx_exit_handler)(struct vcpu *v, struct vmx_vcpu *x, struct vcpu_exit *exit);
extern const vmx_exit_handler vmx_exit_handlers[EXIT_REASON_COUNT];
bool vmx_exit_unexpected(struct vcpu *v, struct vmx_vcpu *x, struct vcpu_exit *exit);

/* vmx_vmcs.c */
int vmx_vcpu_create(struct vcpu *v, struct x86_vm *vm, char *why, size_t why_len);
int vmx_vcpu_reset(struct vcpu *v, const struct guest_boot_state *s, char *why, size_t why_len);
void vmx_vcpu_destroy(struct vcpu *v);
void vmx_vcpu_test_corrupt_state(struct vcpu *v);
void vmx_vcpu_unload(struct vcpu *v);
int vmx_vcpu_adopt(struct vcpu *v, char *why, size_t why_len);
void vmx_msr_map_init(uint8_t *map);
/* Whose VMCS and lazy registers are on each CPU now. */
extern struct vcpu *vmx_loaded[];
bool vmx_vcpu_load_other(struct vcpu *v);
/* vmx_vcpu_run's part after a VM switch: loads v here (vmx_vcpu_load_other), then
 * vmx_enter_loaded (vmx_run.c), which enters. */
void vmx_vcpu_switch_and_enter(struct vcpu *v, uint64_t deadline, struct vcpu_exit *exit);
void vmx_enter_loaded(struct vcpu *v, uint64_t deadline, struct vcpu_exit *exit);
/* VMPTRLD and the lazy registers, if v is not loaded on this CPU already (inline: every exit
 * that returns to generic code comes back through here). */
static inline bool vmx_vcpu_load(struct vcpu *v)
{
    return vmx_loaded[x86_cpu_index()] == v || vmx_vcpu_load_other(v);
}
uint64_t vmx_cr0_fixed0(void);
void vmx_flush_guest_tlb(struct vcpu *v);

/* Registers the VMCS does not switch and guests use directly (x86/lazy_regs.h): CR2, DR0-DR3
 * and DR6, the x87/SSE state; the syscall MSRs and TSC_AUX are vmx_vmcs.c's own (their writes
 * exit, KERNEL_GS_BASE is swapped every time). DR7 and DEBUGCTL are loaded and saved through the
 * VMCS (the debug-controls entry and exit controls). */
static inline unsigned vmx_lazy_parts(void)
{
    return X86_LAZY_FPU | X86_LAZY_CR2_DR6; /* DR0-DR3: vmx_vmcs.c, with MOV-DR exiting */
}

/* The primary processor-based controls for x's state (SDM 25.6.2). */
static inline uint32_t vmx_proc_controls(const struct vmx_vcpu *x)
{
    return vmx_caps.proc | (x->window_exiting ? PROC_INTERRUPT_WINDOW_EXITING : 0) |
           (x->dr_exiting ? PROC_MOV_DR_EXITING : 0);
}
/* The loaded vCPU x's first MOV to or from a debug register: from now on its DR0-DR3 are
 * switched with it, and its MOV DR run without exits. */
void vmx_debug_registers_used(struct vmx_vcpu *x);
/* A WRMSR of STAR, LSTAR, CSTAR, SFMASK or (with RDTSCP) TSC_AUX by the loaded vCPU x: 1 done,
 * -1 #GP (a value the CPU refuses), 0 not one of them. */
int vmx_wrmsr_reg_write(struct vmx_vcpu *x, uint32_t msr, uint64_t value);

/* vmx_exits.c */
void vmx_vcpu_complete_msr(struct vcpu *v, bool ok, uint64_t value);

/* vmx_run.c */
void vmx_vcpu_run(struct vcpu *v, uint64_t deadline, struct vcpu_exit *exit);
void vmx_vcpu_complete_io(struct vcpu *v, uint32_t value);
void vmx_vcpu_complete_mmio(struct vcpu *v, uint64_t value);
void vmx_vcpu_set_guest_cpu(struct vcpu *v, const struct vcpu_guest_cpu *cpu);
void vmx_paging_state(struct gpt_state *s);
void vmx_vcpu_skip_instruction(struct vcpu *v);
uint64_t vmx_vcpu_get_reg(struct vcpu *v, enum vcpu_reg reg);
void vmx_vcpu_set_reg(struct vcpu *v, enum vcpu_reg reg, uint64_t value);
void vmx_vcpu_hypercall_args(struct vcpu *v, struct vcpu_hypercall *hc);
void vmx_vcpu_hypercall_return(struct vcpu *v, const struct vcpu_hypercall *hc, uint64_t ret);
void vmx_vcpu_dump(struct vcpu *v, const char *prefix);
uint64_t vmx_gpr_read(struct vmx_vcpu *x, unsigned n);
void vmx_gpr_write(struct vmx_vcpu *x, unsigned n, uint64_t value);
bool vmx_guest_64bit(void);
unsigned vmx_guest_mode_bits(void);

/* The single-step #DB after an instruction completed for the guest (vmx_exits.c). */
void vmx_single_step_trap(void);

/* Steps past len bytes, the instruction of the last exit. Stepping past an instruction ends
 * STI/MOV-SS blocking (SDM 25.4.2). Reads the loaded VMCS. */
static inline void vmx_skip_bytes_only(uint32_t len)
{
    vmcs_write_hot(VMCS_GUEST_RIP, vmcs_readnat(VMCS_GUEST_RIP) + len);
    uint32_t intr = vmcs_read32(VMCS_GUEST_INTERRUPTIBILITY);
    if (intr & 3)
        vmcs_write32(VMCS_GUEST_INTERRUPTIBILITY, intr & ~3u);
}

/* The same, and with RFLAGS.TF set the single-step trap the instruction would have raised (out
 * of line: TF is rarely set). */
static inline void vmx_skip_bytes(uint32_t len)
{
    vmx_skip_bytes_only(len);
    if (__builtin_expect(vmcs_readnat(VMCS_GUEST_RFLAGS) & X86_RFLAGS_TF, 0))
        vmx_single_step_trap();
}

/* Steps past the instruction of the last exit, whose length the exit gives (SDM 28.2.5: every
 * exit this is used for is an instruction exit). */
static inline void vmx_skip_exit_instruction(void)
{
    vmx_skip_bytes(vmcs_read32(VMCS_EXIT_INSTRUCTION_LEN));
}

/* Steps past the instruction a hypercall's or HLT's completion finishes (x->exit_instruction_len,
 * which their exits set). */
static inline void vmx_skip_instruction(struct vmx_vcpu *x)
{
    vmx_skip_bytes(x->exit_instruction_len);
}

/* The exit qualification of the last exit, kept for its completion and reports. */
static inline uint64_t vmx_read_qualification(struct vmx_vcpu *x)
{
    return x->exit_qualification = vmcs_readnat(VMCS_EXIT_QUALIFICATION);
}

#endif
