/* VMX vCPUs, part 3: the run loop (enter, dispatch the exit through vmx_exit_handlers, re-enter
 * or return to generic code) and the vCPU interface's register calls. */
#include <tessera/arch.h>
#include <tessera/errno.h>
#include <tessera/printf.h>
#include <x86/cpu.h>
#include <x86/reg_dump.h>
#include <x86/spec.h>
#include <x86/vcpu_policy.h>

#include "vmx_fast_exits.h"
#include "vmx_vcpu.h"

/* ---- registers ------------------------------------------------------------------------ */

/* General register by the 4-bit number exit qualifications use (SDM table 28-3). */
static uint64_t *gpr_slot(struct vmx_vcpu *x, unsigned n)
{
    uint64_t *slots[16] = {
        &x->regs.rax, &x->regs.rcx, &x->regs.rdx, &x->regs.rbx, NULL /* rsp */, &x->regs.rbp,
        &x->regs.rsi, &x->regs.rdi, &x->regs.r8, &x->regs.r9, &x->regs.r10, &x->regs.r11,
        &x->regs.r12, &x->regs.r13, &x->regs.r14, &x->regs.r15,
    };
    return slots[n & 15];
}

uint64_t vmx_gpr_read(struct vmx_vcpu *x, unsigned n)
{
    uint64_t *p = gpr_slot(x, n);
    return p ? *p : vmcs_readnat(VMCS_GUEST_RSP);
}

void vmx_gpr_write(struct vmx_vcpu *x, unsigned n, uint64_t value)
{
    uint64_t *p = gpr_slot(x, n);
    if (p)
        *p = value;
    else
        vmcs_writenat(VMCS_GUEST_RSP, value);
}

uint64_t vmx_vcpu_get_reg(struct vcpu *v, enum vcpu_reg reg)
{
    struct vmx_vcpu *x = vmx_of(v);
    switch (reg) {
    case VCPU_REG_RAX: return x->regs.rax;
    case VCPU_REG_RBX: return x->regs.rbx;
    case VCPU_REG_RCX: return x->regs.rcx;
    case VCPU_REG_RDX: return x->regs.rdx;
    case VCPU_REG_RSI: return x->regs.rsi;
    case VCPU_REG_RDI: return x->regs.rdi;
    case VCPU_REG_RBP: return x->regs.rbp;
    case VCPU_REG_RSP: vmx_vcpu_load(v); return vmcs_readnat(VMCS_GUEST_RSP);
    case VCPU_REG_RIP: vmx_vcpu_load(v); return vmcs_readnat(VMCS_GUEST_RIP);
    }
    return 0;
}

void vmx_vcpu_set_reg(struct vcpu *v, enum vcpu_reg reg, uint64_t value)
{
    struct vmx_vcpu *x = vmx_of(v);
    switch (reg) {
    case VCPU_REG_RAX: x->regs.rax = value; break;
    case VCPU_REG_RBX: x->regs.rbx = value; break;
    case VCPU_REG_RCX: x->regs.rcx = value; break;
    case VCPU_REG_RDX: x->regs.rdx = value; break;
    case VCPU_REG_RSI: x->regs.rsi = value; break;
    case VCPU_REG_RDI: x->regs.rdi = value; break;
    case VCPU_REG_RBP: x->regs.rbp = value; break;
    case VCPU_REG_RSP: vmx_vcpu_load(v); vmcs_writenat(VMCS_GUEST_RSP, value); break;
    case VCPU_REG_RIP: vmx_vcpu_load(v); vmcs_writenat(VMCS_GUEST_RIP, value); break;
    }
}

/* 64-bit code: IA-32e mode (the CPU keeps the entry control equal to EFER.LMA on every exit,
 * SDM 28.2) and CS.L. Reads the loaded VMCS. */
bool vmx_guest_64bit(void)
{
    return (vmcs_read32(VMCS_ENTRY_CONTROLS) & ENTRY_IA32E_GUEST) &&
           (vmcs_read32(VMCS_GUEST_CS_AR) & (1u << 13));
}

/* Operand width of the guest's current code: 16, 32 or 64. Reads the loaded VMCS. */
unsigned vmx_guest_mode_bits(void)
{
    if (!(vmcs_readnat(VMCS_GUEST_CR0) & CR0_PE))
        return 16;
    if (vmx_guest_64bit())
        return 64;
    return (vmcs_read32(VMCS_GUEST_CS_AR) & (1u << 14)) ? 32 : 16;
}

/* The guest's CPL: SS.DPL always equals it in protected and long mode (SDM Vol. 3C 25.4.1, guest
 * segment state); real mode runs at 0 and virtual-8086 mode at 3 (SDM Vol. 3A 20.2). VM entry
 * already requires SS.DPL 0 in real mode and 3 in virtual-8086 mode, so SS.DPL 0 (every call
 * from a guest kernel) needs no second read. */
static unsigned guest_cpl(void)
{
    unsigned dpl = (vmcs_read32(VMCS_GUEST_SS_AR) >> 5) & 3;
    if (dpl == 0 || !(vmcs_readnat(VMCS_GUEST_CR0) & CR0_PE))
        return 0;
    if (vmcs_readnat(VMCS_GUEST_RFLAGS) & RFLAGS_VM)
        return 3;
    return dpl;
}

/* Only the register width matters: 64-bit code (IA-32e mode and CS.L) passes 64-bit arguments,
 * everything else 32-bit ones. */
void vmx_vcpu_hypercall_args(struct vcpu *v, struct vcpu_hypercall *hc)
{
    struct vmx_vcpu *x = vmx_of(v);
    hc->cpl = guest_cpl();
    hc->width_mask = vmx_guest_64bit() ? ~0ull : 0xffffffffull;
    hc->nr = x->regs.rax & hc->width_mask;
    hc->arg1 = x->regs.rbx & hc->width_mask;
    hc->arg2 = x->regs.rcx & hc->width_mask;
    hc->arg3 = x->regs.rdx & hc->width_mask;
}

void vmx_vcpu_hypercall_return(struct vcpu *v, const struct vcpu_hypercall *hc, uint64_t ret)
{
    struct vmx_vcpu *x = vmx_of(v);
    x->regs.rax = ret & hc->width_mask;
    vmx_skip_instruction(x);
}

void vmx_vcpu_skip_instruction(struct vcpu *v)
{
    vmx_vcpu_load(v);
    /* only HLT's completion comes here (kernel/vmm.c), and with TF set vmx_exit_dispatch
     * (exit_hlt_stepping) raised the trap and went on without generic code */
    vmx_skip_bytes_only(vmx_of(v)->exit_instruction_len);
}

static inline void complete_io(struct vmx_vcpu *x, uint32_t value)
{
    uint64_t q = x->exit_qualification; /* read by vmx_handle_io */
    if (q & (1u << 3)) /* IN */
        x->regs.rax = x86_io_merge(x->regs.rax, (q & 7) + 1, value);
    vmx_skip_exit_instruction();
}

static __attribute__((noinline)) void complete_io_load(struct vcpu *v, uint32_t value)
{
    vmx_vcpu_load_other(v);
    complete_io(vmx_of(v), value);
}

void vmx_vcpu_complete_io(struct vcpu *v, uint32_t value)
{
    if (vmx_loaded[x86_cpu_index()] != v) {
        complete_io_load(v, value); /* the call out of line: no registers saved on the way */
        return;
    }
    complete_io(vmx_of(v), value);
}

void vmx_vcpu_complete_mmio(struct vcpu *v, uint64_t value)
{
    struct vmx_vcpu *x = vmx_of(v);
    vmx_vcpu_load(v);
    if (x->mmio.kind == INSN_MMIO_LOAD)
        vmx_gpr_write(x, x->mmio.reg,
                      insn_mmio_load_result(&x->mmio, vmx_gpr_read(x, x->mmio.reg), value));
    vmx_skip_bytes(x->exit_instruction_len); /* the decoded length */
}

void vmx_vcpu_set_guest_cpu(struct vcpu *v, const struct vcpu_guest_cpu *cpu)
{
    struct vmx_vcpu *x = vmx_of(v);
    x86_guest_cpuid_init(&x->cpuid, cpu, x->cpuid.host_max_leaf);
}

/* The guest's paging state for the walker, from the loaded VMCS. */
void vmx_paging_state(struct gpt_state *s)
{
    s->cr0 = vmcs_readnat(VMCS_GUEST_CR0);
    s->cr3 = vmcs_readnat(VMCS_GUEST_CR3);
    s->cr4 = vmcs_readnat(VMCS_GUEST_CR4);
    s->efer = vmcs_read64(VMCS_GUEST_EFER);
    for (unsigned i = 0; i < 4; i++) /* the PDPTEs the CPU holds in PAE mode (SDM 25.4.2) */
        s->pdpte[i] = vmcs_read64((enum vmcs_field)(VMCS_GUEST_PDPTE0 + 2 * i));
    s->cpl = guest_cpl();
    s->rflags_ac = (vmcs_readnat(VMCS_GUEST_RFLAGS) >> 18) & 1;
    s->maxphyaddr = cpu_maxphyaddr();
}

/* ---- the run loop --------------------------------------------------------------------- */

static void set_preemption_timer(uint64_t ticks)
{
    uint64_t timer = ticks >> vmx_caps.preemption_rate;
    vmcs_write_hot(VMCS_PREEMPTION_TIMER, timer > 0xffffffffull ? 0xffffffffu : (timer ? (uint32_t)timer : 1));
}

/* Generic code's answer from the last exit: an external interrupt to deliver at this entry
 * (it checked interruptible, so no event is pending: SDM 26.3.1.4), and whether to exit once the
 * guest can take one (interrupt-window exiting, SDM 25.6.2; the exit comes before any guest
 * instruction when the window is already open, 26.7.5). The vector is written as is: the
 * external-interrupt type has no error code and no vector restriction (26.2.1.3). */
static inline void apply_interrupt_requests(struct vcpu *v, struct vcpu_exit *exit)
{
    struct vmx_vcpu *x = vmx_of(v);
    /* generic code asks only when interruptible said no event is pending, so the check below
     * never drops an acknowledged vector (a completion that injects must clear interruptible) */
    if (exit->inject_vector >= 0) {
        if (!(vmcs_read32(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID)) {
            vmcs_write32(VMCS_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_EXTERNAL |
                                                   ((uint32_t)exit->inject_vector & 0xff));
            v->stats[VCPU_STAT_IRQ]++;
        }
        exit->inject_vector = -1;
    }
    bool want = exit->want_interrupt_window &&
                (vmx_caps.proc_allowed1 & PROC_INTERRUPT_WINDOW_EXITING);
    if (want != x->window_exiting) {
        x->window_exiting = want;
        vmcs_write32(VMCS_PROC_CONTROLS, vmx_proc_controls(x));
    }
}

/* What generic code needs to decide the next injection, from the state the guest will enter
 * with (SDM 25.4.2: interruptibility bits 0 STI and 1 MOV-SS blocking; a completion with TF set
 * leaves a pending #DB, which an injected interrupt would discard, SDM 27.7.3). */
static inline __attribute__((always_inline)) void report_interrupt_state(struct vcpu_exit *exit)
{
    uint64_t rflags = vmcs_readnat(VMCS_GUEST_RFLAGS);
    bool enabled = (rflags & RFLAGS_IF) != 0;
    exit->interrupts_enabled = enabled;
    exit->interruptible = enabled && !(vmcs_read32(VMCS_GUEST_INTERRUPTIBILITY) & 3) &&
                          !(vmcs_read32(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID) &&
                          !((rflags & X86_RFLAGS_TF) && vcpu_exit_completes(exit->kind));
}

/* The flags of an entry: the entry stub does what they ask (the L1D flush, VERW) right
 * before VMLAUNCH/VMRESUME. */
static inline uint32_t entry_flags(void)
{
    return spec_entry_flags;
}

/* Enters the guest (v loaded). The exits the backend handles itself re-enter from the exit
 * landing (vmx_exit_dispatch); the others fill exit there, and vmx_enter, called last, returns
 * straight to vcpu_run's caller. A failed VMLAUNCH/VMRESUME is reported by vmx_entry_failed. */
static inline __attribute__((always_inline)) void enter(struct vcpu *v, uint64_t deadline,
                                                        struct vcpu_exit *exit)
{
    struct vmx_vcpu *x = vmx_of(v);
    apply_interrupt_requests(v, exit);
    uint64_t now = arch_now();
    set_preemption_timer(deadline > now ? deadline - now : 1);
    x->exit = exit;
    x->deadline = deadline;
    vmx_enter(&x->regs, x->launched, entry_flags());
}

void vmx_enter_loaded(struct vcpu *v, uint64_t deadline, struct vcpu_exit *exit)
{
    enter(v, deadline, exit);
}

void vmx_vcpu_run(struct vcpu *v, uint64_t deadline, struct vcpu_exit *exit)
{
    if (vmx_loaded[x86_cpu_index()] != v) {
        vmx_vcpu_switch_and_enter(v, deadline, exit); /* a VM switch: out of line */
        return;
    }
    enter(v, deadline, exit);
}

void vmx_entry_failed(struct vmx_regs *regs)
{
    struct vmx_vcpu *x = (struct vmx_vcpu *)regs; /* regs is its first member */
    uint32_t error = vmcs_read32(VMCS_INSTRUCTION_ERROR);
    x86_exit_fault(x->exit, "%s failed: VM-instruction error %u%s", x->launched ? "VMRESUME" : "VMLAUNCH",
                   error, error == 7 || error == 8 ? " (invalid control or host-state field)" : "");
}

/* Back to generic code with exit filled in, and with the interrupt state when it asked. */
static inline uint32_t leave_with(struct vcpu_exit *exit)
{
    if (exit->want_interrupt_state && exit->kind != VCPU_EXIT_FAULT)
        report_interrupt_state(exit);
    return 0;
}

static inline uint32_t leave(struct vmx_vcpu *x)
{
    struct vcpu_exit *exit = x->exit;
    if (exit->want_interrupt_state && exit->kind != VCPU_EXIT_FAULT)
        report_interrupt_state(exit);
    return 0;
}

/* After an exit handled here: re-enter at once, unless the slice is over. The preemption timer
 * only counts in VMX non-root operation and resumes from its saved value (SDM 26.5.1, 27.2), so
 * it measures guest time; the deadline adds the time spent here, so a guest cannot stretch its
 * slice by exiting often. */
static inline uint32_t reenter_or_end_slice(struct vmx_vcpu *x)
{
    if (__builtin_expect(arch_now() >= x->deadline, 0)) {
        x->vcpu->stats[VCPU_STAT_PREEMPT]++;
        x->exit->kind = VCPU_EXIT_PREEMPTED;
        return leave(x);
    }
    return entry_flags() | VMX_REENTER;
}

/* One small function per hot exit, each a tail call from vmx_exit_dispatch: an exit pays only
 * for the registers its own handler needs. */
static __attribute__((noinline)) uint32_t exit_cpuid(struct vmx_vcpu *x)
{
    vmx_handle_cpuid(x->vcpu, x, x->exit);
    return reenter_or_end_slice(x);
}

static __attribute__((noinline, cold)) uint32_t exit_string_io(struct vmx_vcpu *x, uint64_t q)
{
    x86_exit_fault(x->exit, "string I/O (INS/OUTS) on port 0x%llx is not supported",
                   (unsigned long long)(q >> 16));
    return 0;
}

/* vmx_handle_io, written out so that it calls nothing on its common path. */
static __attribute__((noinline)) uint32_t exit_io(struct vmx_vcpu *x)
{
    struct vcpu_exit *exit = x->exit;
    x->vcpu->stats[VCPU_STAT_IO]++;
    uint64_t q = vmx_read_qualification(x); /* for vmx_vcpu_complete_io too */
    if (q & (1u << 4))
        return exit_string_io(x, q);
    exit->kind = VCPU_EXIT_IO;
    exit->io = (struct vcpu_io){ .port = (uint16_t)(q >> 16), .size = (uint8_t)((q & 7) + 1),
                                 .write = !(q & (1u << 3)), .value = (uint32_t)x->regs.rax };
    if (exit->want_interrupt_state)
        report_interrupt_state(exit);
    return 0;
}

static __attribute__((noinline)) uint32_t exit_other(struct vmx_vcpu *x, uint32_t reason)
{
    if (reason & EXIT_REASON_ENTRY_FAILURE) {
        x86_exit_fault(x->exit, "VM entry failed: %s (exit reason %u, qualification %llu)",
                       vmx_exit_reason_name(reason & 0xffff), reason & 0xffff,
                       (unsigned long long)vmx_read_qualification(x));
        return 0;
    }
    reason &= 0xffff; /* the basic reason (SDM 25.9.1) */
    vmx_exit_handler h = reason < EXIT_REASON_COUNT ? vmx_exit_handlers[reason] : vmx_exit_unexpected;
    if (!h(x->vcpu, x, x->exit))
        return leave(x);
    return reenter_or_end_slice(x);
}

/* A CPUID exit, from the exit landing before it stores the guest's RBX, RBP and R12-R15: they
 * stay live in the CPU across this call (the ABI's callee-saved registers) and the landing
 * reloads only the others, RBX with the answer. Only an answer already in the vCPU's table is
 * given here, so nothing is called on this path. 0: left alone (an L1D flush is due before the
 * entry, which the landing's fast re-entry does not do; the slice is over; the question is new):
 * the landing stores the six and vmx_exit_dispatch answers it. */
__attribute__((flatten, optimize("omit-frame-pointer"))) uint32_t vmx_exit_cpuid_fast(struct vmx_regs *regs)
{
    struct vmx_vcpu *x = (struct vmx_vcpu *)regs; /* regs is its first member */
    uint32_t spec = entry_flags();
    if ((spec & (SPEC_FLAG_L1D_MSR | SPEC_FLAG_L1D_SW)) || arch_now() >= x->deadline)
        return 0;
    uint32_t leaf = (uint32_t)regs->rax;
    const struct x86_cpuid_slot *s = x86_cpuid_slot(&x->cpuid, leaf);
    if (!x86_cpuid_slot_holds(s, leaf, (uint32_t)regs->rcx))
        return 0;
    x->launched = true;
    x->exit_reason = EXIT_REASON_CPUID;
    vmx_cpuid_answer(x->vcpu, x, &s->r);
    return entry_flags() | VMX_REENTER; /* read again: spec in a register across the rare
                                         * single-step call would cost a move on every CPUID */
}

/* HLT with TF set: on into the #DB (vmx_single_step_hlt), else an ordinary HLT exit. */
static __attribute__((noinline, cold)) uint32_t exit_hlt_stepping(struct vmx_vcpu *x)
{
    struct vcpu *v = x->vcpu;
    x->exit_instruction_len = vmcs_read32(VMCS_EXIT_INSTRUCTION_LEN);
    if (vmx_single_step_hlt(x)) {
        v->stats[VCPU_STAT_HLT]++;
        return reenter_or_end_slice(x);
    }
    vmx_handle_hlt(v, x, x->exit);
    return leave(x);
}

/* reason: the exit reason, read by the landing. */
uint32_t vmx_exit_dispatch(struct vmx_regs *regs, uint32_t reason)
{
    struct vmx_vcpu *x = (struct vmx_vcpu *)regs; /* regs is its first member */
    x->launched = true;
    x->exit_reason = reason;
    /* the hottest exits first (with no other bit of the reason set), the rest through the
     * table */
    if (reason == EXIT_REASON_IO)
        return exit_io(x);
    struct vcpu_exit *exit = x->exit;
    if (reason == EXIT_REASON_VMCALL) {
        vmx_handle_vmcall(x->vcpu, x, exit);
        return leave_with(exit);
    }
    if (reason == EXIT_REASON_CPUID)
        return exit_cpuid(x);
    switch (reason) {
    case EXIT_REASON_HLT:
        if (__builtin_expect(vmcs_readnat(VMCS_GUEST_RFLAGS) & X86_RFLAGS_TF, 0))
            return exit_hlt_stepping(x); /* a tail call: no frame here for it */
        vmx_handle_hlt(x->vcpu, x, exit);
        return leave_with(exit);
    case EXIT_REASON_PREEMPTION_TIMER:
        vmx_handle_preemption_timer(x->vcpu, x, exit);
        return leave_with(exit);
    default:
        return exit_other(x, reason);
    }
}

/* ---- reports -------------------------------------------------------------------------- */

void vmx_vcpu_dump(struct vcpu *v, const char *prefix)
{
    struct vmx_vcpu *x = vmx_of(v);
    if (!vmx_vcpu_load(v)) {
        kprintf("%sregisters unavailable: its VMCS cannot be loaded on this CPU\n", prefix);
        return;
    }
    struct vmx_regs *r = &x->regs;
    const struct x86_reg_dump d = {
        vmcs_readnat(VMCS_GUEST_RIP), vmcs_readnat(VMCS_GUEST_RSP),
        vmcs_readnat(VMCS_GUEST_RFLAGS), vmx_guest_mode_bits(), r->rax, r->rbx, r->rcx, r->rdx,
        r->rsi, r->rdi, r->rbp, r->r8, r->r9, r->r10, r->r11, r->r12, r->r13, r->r14, r->r15,
    };
    x86_dump_gprs(prefix, &d);
    kprintf("%sCR0=%016llx (guest sees %016llx) CR3=%016llx CR4=%016llx (guest sees %016llx)\n",
            prefix, (unsigned long long)vmcs_readnat(VMCS_GUEST_CR0),
            (unsigned long long)vmcs_readnat(VMCS_CR0_SHADOW),
            (unsigned long long)vmcs_readnat(VMCS_GUEST_CR3),
            (unsigned long long)vmcs_readnat(VMCS_GUEST_CR4),
            (unsigned long long)vmcs_readnat(VMCS_CR4_SHADOW));
    kprintf("%sEFER=%llx CS=%04x base=%llx ar=%x DS=%04x SS=%04x GDTR=%llx/%x IDTR=%llx/%x\n",
            prefix, (unsigned long long)vmcs_read64(VMCS_GUEST_EFER),
            vmcs_read16(VMCS_GUEST_CS_SEL), (unsigned long long)vmcs_readnat(VMCS_GUEST_CS_BASE),
            vmcs_read32(VMCS_GUEST_CS_AR), vmcs_read16(VMCS_GUEST_DS_SEL),
            vmcs_read16(VMCS_GUEST_SS_SEL), (unsigned long long)vmcs_readnat(VMCS_GUEST_GDTR_BASE),
            vmcs_read32(VMCS_GUEST_GDTR_LIMIT), (unsigned long long)vmcs_readnat(VMCS_GUEST_IDTR_BASE),
            vmcs_read32(VMCS_GUEST_IDTR_LIMIT));
    kprintf("%slast exit: reason %u (%s) qualification 0x%llx\n", prefix, x->exit_reason & 0xffff,
            vmx_exit_reason_name(x->exit_reason & 0xffff),
            (unsigned long long)vmcs_readnat(VMCS_EXIT_QUALIFICATION));
}

const struct virt_ops vmx_ops = {
    .name = "VT-x",
    .slat_fault_name = "EPT violation",
    .slat_format = SLAT_FORMAT_EPT,
    .io_map_pages = 2, /* bitmaps A (ports 0-0x7fff) and B, adjacent (SDM 25.6.4) */
    .msr_map_pages = 1,
    .msr_map_init = vmx_msr_map_init,
    .report = vmx_report,
    .cpu_enable = vmx_cpu_enable,
    .vcpu_create = vmx_vcpu_create,
    .vcpu_reset = vmx_vcpu_reset,
    .vcpu_run = vmx_vcpu_run,
    .vcpu_complete_io = vmx_vcpu_complete_io,
    .vcpu_complete_mmio = vmx_vcpu_complete_mmio,
    .vcpu_complete_msr = vmx_vcpu_complete_msr,
    .vcpu_set_guest_cpu = vmx_vcpu_set_guest_cpu,
    .vcpu_skip_instruction = vmx_vcpu_skip_instruction,
    .vcpu_get_reg = vmx_vcpu_get_reg,
    .vcpu_set_reg = vmx_vcpu_set_reg,
    .vcpu_hypercall_args = vmx_vcpu_hypercall_args,
    .vcpu_hypercall_return = vmx_vcpu_hypercall_return,
    .vcpu_dump = vmx_vcpu_dump,
    .vcpu_destroy = vmx_vcpu_destroy,
    .vcpu_test_corrupt_state = vmx_vcpu_test_corrupt_state,
    .vcpu_unload = vmx_vcpu_unload,
    .vcpu_adopt = vmx_vcpu_adopt,
};
