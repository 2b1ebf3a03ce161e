/* VMX vCPUs, part 2: the exits the backend handles itself, one handler per exit reason in
 * vmx_exit_handlers. What an exit means on x86 (the CPUID and MSR views, exception folding, storm
 * detection) is x86/vcpu_policy.h's; what is left here is reading and writing the VMCS. */
#include <tessera/arch.h>
#include <tessera/errno.h>
#include <tessera/guest_mem.h>
#include <tessera/printf.h>
#include <tessera/string.h>
#include <x86/cpu.h>
#include <x86/desc.h>
#include <x86/gpt_walk.h>
#include <x86/insn.h>
#include <x86/lapic.h>
#include <x86/vcpu_policy.h>

#include "vmx_fast_exits.h"
#include "vmx_vcpu.h"

/* ---- event injection ------------------------------------------------------------------ */

static void inject_event(unsigned vector, uint32_t type, uint32_t error_code)
{
    uint32_t info = INTR_INFO_VALID | type | vector;
    if (type == INTR_TYPE_PRIV_SW_EXCEPTION) /* ICEBP: delivered past the instruction */
        vmcs_write32(VMCS_ENTRY_INSTRUCTION_LEN, vmcs_read32(VMCS_EXIT_INSTRUCTION_LEN));
    /* Real mode delivers no error code; with unrestricted guest, asking for one is an invalid
     * entry (SDM 26.2.1.3). */
    if (x86_exception_has_error_code(vector) && (vmcs_readnat(VMCS_GUEST_CR0) & CR0_PE)) {
        info |= INTR_INFO_ERROR_CODE;
        vmcs_write32(VMCS_ENTRY_EXCEPTION_ERROR, error_code);
    }
    vmcs_write32(VMCS_ENTRY_INTR_INFO, info);
}

static void inject_exception(unsigned vector, uint32_t error_code)
{
    inject_event(vector, INTR_TYPE_HW_EXCEPTION, error_code);
}

/* An exit that interrupted the delivery of an event must hand that event back (SDM 28.2.4). */
static void reinject_interrupted_event(void)
{
    uint32_t idt = vmcs_read32(VMCS_IDT_VECTORING_INFO);
    if (!(idt & INTR_INFO_VALID))
        return;
    vmcs_write32(VMCS_ENTRY_INTR_INFO, idt & ~(1u << 12));
    if (idt & INTR_INFO_ERROR_CODE)
        vmcs_write32(VMCS_ENTRY_EXCEPTION_ERROR, vmcs_read32(VMCS_IDT_VECTORING_ERROR));
    vmcs_write32(VMCS_ENTRY_INSTRUCTION_LEN, vmcs_read32(VMCS_EXIT_INSTRUCTION_LEN));
}

/* The single-step trap after an instruction completed for the guest, when x86_single_step_trap
 * says it is due: BS in the guest's pending debug exceptions. The CPU delivers the #DB right
 * after VM entry and sets DR6.BS (SDM Vol. 3C 27.7.3), or, #DB being intercepted, exits with
 * BS in the qualification and handle_exception updates DR6 and re-injects it. DR6 itself is not
 * in the VMCS. An injected event would discard the pending #DB (27.7.3): x86_single_step_trap
 * leaves it alone then, and the exit reports the guest not interruptible, so none is added. */
__attribute__((noinline, cold)) void vmx_single_step_trap(void)
{
    bool pending = (vmcs_read32(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID) != 0;
    if (x86_single_step_trap(vmcs_readnat(VMCS_GUEST_RFLAGS), vmcs_read64(VMCS_GUEST_DEBUGCTL),
                             true, pending))
        vmcs_writenat(VMCS_GUEST_PENDING_DEBUG,
                      vmcs_readnat(VMCS_GUEST_PENDING_DEBUG) | X86_DR6_BS);
}

/* HLT with TF set (x->exit_instruction_len read): true when the trap is due, the HLT then
 * stepped past. */
__attribute__((noinline, cold)) bool vmx_single_step_hlt(struct vmx_vcpu *x)
{
    bool pending = (vmcs_read32(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID) != 0;
    if (!x86_single_step_trap(vmcs_readnat(VMCS_GUEST_RFLAGS), vmcs_read64(VMCS_GUEST_DEBUGCTL),
                              true, pending))
        return false;
    vmx_skip_instruction(x); /* and the #DB */
    return true;
}

/* ---- exits handled here --------------------------------------------------------------- */


/* PAE paging without long mode: the CPU takes PDPTEs from the VMCS, so a CR0/CR3/CR4 write we
 * emulate must load them the way the instruction would (SDM 26.3.2.4, 4.4.1): the 32 bytes at
 * CR3[31:5]. They come from the VM's RAM only. Outside it, the load the CPU makes itself (through
 * EPT, SDM Vol. 3C "Changes to Instruction Behavior in VMX Non-Root Operation", MOV to CR0) would
 * be an EPT violation ("EPT-Induced VM Exits", 28.3.3 in the 2022 edition), which stops the VM:
 * so -EFAULT here, and the caller stops it the same way. */
static int load_pdptes(struct vcpu *v, uint64_t cr3)
{
    const uint64_t *table = guest_mem_range(&vmx_of(v)->vm->mem, cr3 & 0xffffffe0ull, 4 * 8);
    if (!table)
        return -EFAULT;
    uint64_t pdpte[4];
    memcpy(pdpte, table, sizeof(pdpte)); /* checked and loaded from one read */
    /* present with reserved bits set (2:1, 8:5, and MAXPHYADDR and above): #GP (SDM 4.4.1) */
    uint64_t reserved = 0x1e6 | ~((1ull << cpu_maxphyaddr()) - 1);
    for (unsigned i = 0; i < 4; i++)
        if ((pdpte[i] & 1) && (pdpte[i] & reserved))
            return -EINVAL;
    for (unsigned i = 0; i < 4; i++)
        vmcs_write64((enum vmcs_field)(VMCS_GUEST_PDPTE0 + 2 * i), pdpte[i]);
    return 0;
}

enum pdpte_result { PDPTE_OK, PDPTE_GP, PDPTE_FAULT };

static bool pae_without_long_mode(uint64_t cr0, uint64_t cr4, uint64_t efer)
{
    return (cr0 & CR0_PG) && (cr4 & CR4_PAE) && !(efer & EFER_LME);
}

/* Loads the PDPTEs for cr3 when the new paging state is PAE without long mode, as the
 * instruction being emulated would. PDPTE_GP: a reserved bit is set (the guest gets #GP);
 * PDPTE_FAULT: they lie outside its RAM (exit says why, the VM stops). */
static enum pdpte_result pdptes_for(struct vcpu *v, uint64_t cr0, uint64_t cr4, uint64_t efer,
                                    uint64_t cr3, struct vcpu_exit *exit)
{
    if (!pae_without_long_mode(cr0, cr4, efer))
        return PDPTE_OK;
    int err = load_pdptes(v, cr3);
    if (err == -EFAULT) {
        x86_exit_fault(exit, "PAE page-directory pointers outside guest RAM (CR3=0x%llx)",
              (unsigned long long)cr3);
        return PDPTE_FAULT;
    }
    return err ? PDPTE_GP : PDPTE_OK;
}

/* What an emulated control-register write returns when its PDPTEs were refused. */
static bool pdpte_failure(enum pdpte_result r)
{
    if (r == PDPTE_FAULT)
        return false;
    inject_exception(X86_VECTOR_GP, 0);
    return true;
}

/* MOV to CR0 whose host-owned bits differ from the shadow (SDM 25.3): keep the fixed bits set
 * in the real register, show the guest its own value, and do what the CPU would do on a
 * paging change: EFER.LMA and the IA-32e entry control, PDPTEs for PAE. */
static bool emulate_cr0_write(struct vcpu *v, uint64_t value, struct vcpu_exit *exit)
{
    if ((value >> 32) || ((value & CR0_PG) && !(value & CR0_PE)) ||
        ((value & CR0_NW) && !(value & CR0_CD))) {
        inject_exception(X86_VECTOR_GP, 0); /* reserved bits or an invalid combination */
        return true;
    }
    uint64_t old = vmcs_readnat(VMCS_GUEST_CR0);
    uint64_t real = ((value & ~(CR0_CD | CR0_NW)) | vmx_cr0_fixed0()) & vmx_caps.cr0_fixed1;
    uint64_t efer = vmcs_read64(VMCS_GUEST_EFER);
    uint64_t cr4 = vmcs_readnat(VMCS_GUEST_CR4);
    uint32_t entry = vmcs_read32(VMCS_ENTRY_CONTROLS);
    bool paging_changed = (value & CR0_PG) != (old & CR0_PG);
    if (paging_changed && !(value & CR0_PG) &&
        ((cr4 & CR4_PCIDE) || vmx_guest_64bit())) {
        inject_exception(X86_VECTOR_GP, 0); /* paging off from 64-bit code or with PCIDE (SDM MOV CR) */
        return true;
    }
    if (paging_changed && (efer & EFER_LME)) {
        if (value & CR0_PG) {
            if (!(cr4 & CR4_PAE)) {
                inject_exception(X86_VECTOR_GP, 0);
                return true;
            }
            efer |= EFER_LMA;
            entry |= ENTRY_IA32E_GUEST;
        } else {
            efer &= ~EFER_LMA;
            entry &= ~ENTRY_IA32E_GUEST;
        }
    }
    enum pdpte_result pdpte = pdptes_for(v, real, cr4, efer, vmcs_readnat(VMCS_GUEST_CR3), exit);
    if (pdpte != PDPTE_OK)
        return pdpte_failure(pdpte);
    vmcs_write64(VMCS_GUEST_EFER, efer);
    vmcs_write32(VMCS_ENTRY_CONTROLS, entry);
    vmcs_writenat(VMCS_GUEST_CR0, real);
    vmcs_writenat(VMCS_CR0_SHADOW, value);
    if (paging_changed)
        vmx_flush_guest_tlb(v);
    return true;
}

static uint64_t cr4_guest_allowed(void)
{
    return vmx_caps.cr4_fixed1 & X86_CR4_GUEST_ALLOWED;
}

static bool emulate_cr4_write(struct vcpu *v, uint64_t value, struct vcpu_exit *exit)
{
    if (value & ~cr4_guest_allowed()) {
        inject_exception(X86_VECTOR_GP, 0); /* reserved for this guest */
        return true;
    }
    uint64_t real = value | vmx_caps.cr4_fixed0;
    uint64_t old = vmcs_readnat(VMCS_GUEST_CR4);
    enum pdpte_result pdpte = pdptes_for(v, vmcs_readnat(VMCS_GUEST_CR0), real,
                                         vmcs_read64(VMCS_GUEST_EFER),
                                         vmcs_readnat(VMCS_GUEST_CR3), exit);
    if (pdpte != PDPTE_OK)
        return pdpte_failure(pdpte);
    vmcs_writenat(VMCS_GUEST_CR4, real);
    vmcs_writenat(VMCS_CR4_SHADOW, value);
    if ((old ^ real) & (CR4_PAE | CR4_PGE | CR4_PSE | CR4_PCIDE))
        vmx_flush_guest_tlb(v);
    return true;
}

static bool emulate_cr3_write(struct vcpu *v, uint64_t value, struct vcpu_exit *exit)
{
    if (vmcs_readnat(VMCS_GUEST_CR4) & CR4_PCIDE)
        value &= ~(1ull << 63); /* "do not flush" hint, never part of CR3 (SDM 4.10.4.1) */
    enum pdpte_result pdpte = pdptes_for(v, vmcs_readnat(VMCS_GUEST_CR0),
                                         vmcs_readnat(VMCS_GUEST_CR4),
                                         vmcs_read64(VMCS_GUEST_EFER), value, exit);
    if (pdpte != PDPTE_OK)
        return pdpte_failure(pdpte);
    vmcs_writenat(VMCS_GUEST_CR3, value);
    vmx_flush_guest_tlb(v);
    return true;
}

static bool handle_cr_access(struct vcpu *v, struct vmx_vcpu *x, struct vcpu_exit *exit)
{
    v->stats[VCPU_STAT_CR]++;
    uint64_t q = vmx_read_qualification(x);
    unsigned cr = q & 15, type = (q >> 4) & 3, reg = (q >> 8) & 15;
    bool ok = true;
    if (type == 0) { /* MOV to CR */
        uint64_t value = vmx_gpr_read(x, reg);
        if (!vmx_guest_64bit())
            value &= 0xffffffffull;
        if (cr == 0) {
            ok = emulate_cr0_write(v, value, exit);
        } else if (cr == 4) {
            ok = emulate_cr4_write(v, value, exit);
        } else if (cr == 3) {
            ok = emulate_cr3_write(v, value, exit);
        } else if (cr == 8) {
            /* The task-priority register stays virtual: the real one is the host's APIC. */
            if (value > 15)
                inject_exception(X86_VECTOR_GP, 0);
            else
                x->tpr = (uint8_t)value;
        } else {
            x86_exit_fault(exit, "unexpected MOV to CR%u", cr);
            return false;
        }
    } else if (type == 1 && cr == 3) { /* MOV from CR3 (only when the CPU forces CR3 exits) */
        vmx_gpr_write(x, reg, vmcs_readnat(VMCS_GUEST_CR3));
    } else if (type == 1 && cr == 8) {
        vmx_gpr_write(x, reg, x->tpr);
    } else {
        x86_exit_fault(exit, "unexpected control-register access (qualification 0x%llx)",
              (unsigned long long)q);
        return false;
    }
    if (!ok)
        return false;
    if (!(vmcs_read32(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID))
        vmx_skip_exit_instruction();
    return true;
}

/* MSRs the policy does not know go to generic code (VCPU_EXIT_MSR: the APIC base, ...), which
 * answers through vmx_vcpu_complete_msr. */
static bool handle_msr(struct vcpu *v, struct vmx_vcpu *x, struct vcpu_exit *exit)
{
    v->stats[VCPU_STAT_MSR]++;
    uint32_t msr = (uint32_t)x->regs.rcx;
    bool write = (x->exit_reason & 0xffff) == EXIT_REASON_WRMSR;
    uint64_t value = write ? (x->regs.rdx << 32) | (uint32_t)x->regs.rax : 0;
    int lazy = write ? vmx_wrmsr_reg_write(x, msr, value) : 0;
    if (lazy) {
        if (lazy < 0)
            inject_exception(X86_VECTOR_GP, 0);
        else
            vmx_skip_exit_instruction();
        return true;
    }
    bool ok = write ? x86_msr_write(msr, value) : x86_msr_read(msr, arch_now(), &value);
    if (!ok) {
        x86_msr_exit(exit, msr, write, write ? value : 0);
        return false;
    }
    if (!write) {
        x->regs.rax = (uint32_t)value;
        x->regs.rdx = value >> 32;
    }
    vmx_skip_exit_instruction();
    return true;
}

void vmx_vcpu_complete_msr(struct vcpu *v, bool ok, uint64_t value)
{
    struct vmx_vcpu *x = vmx_of(v);
    vmx_vcpu_load(v);
    if (!ok) {
        inject_exception(X86_VECTOR_GP, 0);
        return;
    }
    if ((x->exit_reason & 0xffff) == EXIT_REASON_RDMSR) {
        x->regs.rax = (uint32_t)value;
        x->regs.rdx = value >> 32;
    }
    vmx_skip_exit_instruction();
}

/* VMMCALL (AMD's hypercall) raises #UD under VMX: a guest built for the other vendor gets the
 * same hypercall. The bytes at CS:RIP come through the guest's own page tables. */
static bool hypercall_of_other_vendor(struct vmx_vcpu *x, uint64_t rip)
{
    struct gpt_state ps;
    vmx_paging_state(&ps);
    uint64_t linear = vmx_guest_mode_bits() == 64
                          ? rip : (vmcs_readnat(VMCS_GUEST_CS_BASE) + rip) & 0xffffffffull;
    uint8_t bytes[3];
    if (gpt_read(&x->vm->mem, &ps, linear, GPT_FETCH, bytes, sizeof(bytes)) != sizeof(bytes))
        return false;
    if (!x86_is_hypercall_instruction(bytes))
        return false;
    x->exit_instruction_len = 3; /* the hypercall return steps past it */
    return true;
}

/* A watched guest exception: pass it on as the CPU would have, but count it, combine it with an
 * interrupted delivery (double fault rules, SDM Vol. 3A table 6-5) and stop a storm. */
static bool handle_exception(struct vcpu *v, struct vmx_vcpu *x, struct vcpu_exit *exit)
{
    uint32_t info = vmcs_read32(VMCS_EXIT_INTR_INFO);
    unsigned vector = info & 0xff;
    if ((info & INTR_TYPE_MASK) == INTR_TYPE_NMI) {
        /* A host NMI: nothing for the guest, but what it cut. The exit left NMIs blocked until
         * the host executes IRET (SDM Vol. 3C 28.1, "Architectural State before a VM Exit": "An
         * NMI causes subsequent NMIs to be blocked, but only after the VM exit completes";
         * 27.1 in older editions), and this loop has none: the host's
         * own NMI handler (x86/trap.c, which counts it) takes it through INT 2, and its IRET
         * ends the blocking (SDM Vol. 3A 6.7.1), as the AMD-V backend's STGI lets it in. */
        v->stats[VCPU_STAT_INTR]++;
        reinject_interrupted_event();
        __asm__ volatile("int $2" ::: "memory");
        /* The blocking is the host's: the guest's saved interruptibility is that of before the
         * exit (28.3.4), blocking by NMI clear. Made sure of: with NMI exiting, blocking by NMI
         * entered into the guest would last as long as it runs (27.7.1), and no later NMI would
         * exit (Bochs 2.7 saves it set here). */
        uint32_t intr = vmcs_read32(VMCS_GUEST_INTERRUPTIBILITY);
        if (intr & INTERRUPTIBILITY_NMI)
            vmcs_write32(VMCS_GUEST_INTERRUPTIBILITY, intr & ~INTERRUPTIBILITY_NMI);
        kprintf("tessera: vmx: host NMI during a guest's run, taken by the hypervisor (%llu host "
                "NMIs so far)\n", (unsigned long long)__atomic_load_n(&x86_nmi_count, __ATOMIC_RELAXED));
        return true;
    }
    v->stats[VCPU_STAT_EXCEPTION]++;
    uint32_t error = (info & INTR_INFO_ERROR_CODE) ? vmcs_read32(VMCS_EXIT_INTR_ERROR) : 0;
    uint32_t type = info & INTR_TYPE_MASK;
    if (vector == X86_VECTOR_DB) {
        /* A #DB exit leaves DR6 and DR7 alone; its news is in the qualification (SDM 28.2.1):
         * B0-B3, BD, BS, RTM. Delivering the #DB would have updated DR6 and cleared DR7.GD
         * (SDM 18.2.3, 18.2.4); injection does neither (27.6.1.2), so do it here. The guest's
         * DR6 is live in the CPU while its vCPU is loaded; RTM is active-low. */
        uint64_t q = vmx_read_qualification(x);
        uint64_t dr6;
        __asm__ volatile("mov %%dr6, %0" : "=r"(dr6));
        dr6 = ((dr6 & ~0xfull) | (1ull << 16) | (q & 0x600f)) & ~(q & (1ull << 16));
        __asm__ volatile("mov %0, %%dr6" : : "r"(dr6));
        if (q & (1ull << 13))
            vmcs_writenat(VMCS_GUEST_DR7, vmcs_readnat(VMCS_GUEST_DR7) & ~(1ull << 13));
    }
    uint64_t rip = vmcs_readnat(VMCS_GUEST_RIP);
    if (vector == X86_VECTOR_UD && hypercall_of_other_vendor(x, rip)) {
        v->stats[VCPU_STAT_HYPERCALL]++;
        exit->kind = VCPU_EXIT_HYPERCALL;
        return false;
    }
    if (x86_storm_note(&x->storm, vector, rip)) {
        x86_exit_fault(exit, "exception storm: vector %u (error 0x%x) raised %u times in a row at "
                       "RIP 0x%llx", vector, error, x->storm.count, (unsigned long long)rip);
        return false;
    }
    uint32_t idt = vmcs_read32(VMCS_IDT_VECTORING_INFO);
    if ((idt & INTR_INFO_VALID) && (idt & INTR_TYPE_MASK) == INTR_TYPE_HW_EXCEPTION) {
        switch (x86_exception_fold(idt & 0xff, vector)) {
        case X86_FOLD_TRIPLE_FAULT:
            x86_exit_fault(exit, "triple fault (vector %u while delivering a double fault)", vector);
            return false;
        case X86_FOLD_DOUBLE_FAULT:
            inject_exception(X86_VECTOR_DF, 0);
            return true;
        case X86_FOLD_DELIVER:
            break;
        }
    }
    inject_event(vector, type == INTR_TYPE_PRIV_SW_EXCEPTION ? type : INTR_TYPE_HW_EXCEPTION,
                 error);
    return true;
}

static void describe_ept_violation(struct vmx_vcpu *x, struct vcpu_exit *exit)
{
    uint64_t q = x->exit_qualification; /* read by handle_ept_violation */
    uint64_t gpa = vmcs_read64(VMCS_GUEST_PHYSICAL_ADDRESS);
    const char *access = (q & 4) ? "instruction fetch" : (q & 2) ? "write" : "read";
    if (q & (1u << 7))
        x86_exit_fault(exit, "EPT violation: %s at guest-physical 0x%llx (guest-linear 0x%llx), outside "
              "the VM's memory", access, (unsigned long long)gpa,
              (unsigned long long)vmcs_readnat(VMCS_GUEST_LINEAR_ADDRESS));
    else
        x86_exit_fault(exit, "EPT violation: %s at guest-physical 0x%llx, outside the VM's memory", access,
              (unsigned long long)gpa);
}

/* An EPT violation outside the VM's RAM (EPT maps all of it): a data access by the instruction
 * at CS:RIP, which is fetched through the guest's own page tables and decoded, so generic code
 * can hand the access to a device (VCPU_EXIT_MMIO). The exit gives neither the instruction's
 * length nor its data (SDM 28.2.1, table 28-7): both come from the decode. Anything the decoder
 * does not know as an MMIO form, a fetch from there, or an access made while delivering an event
 * stops the VM. */
static bool handle_ept_violation(struct vcpu *v, struct vmx_vcpu *x, struct vcpu_exit *exit)
{
    v->stats[VCPU_STAT_NPF]++;
    uint64_t q = vmx_read_qualification(x);
    uint64_t gpa = vmcs_read64(VMCS_GUEST_PHYSICAL_ADDRESS);
    if ((q & 4) || (vmcs_read32(VMCS_IDT_VECTORING_INFO) & INTR_INFO_VALID)) {
        describe_ept_violation(x, exit);
        return false;
    }
    struct gpt_state ps;
    vmx_paging_state(&ps);
    uint64_t rip = vmcs_readnat(VMCS_GUEST_RIP);
    unsigned bits = vmx_guest_mode_bits();
    uint64_t la = bits == 64 ? rip : (vmcs_readnat(VMCS_GUEST_CS_BASE) + rip) & 0xffffffffull;
    uint8_t bytes[INSN_MAX_LENGTH];
    size_t n = gpt_read(&x->vm->mem, &ps, la, GPT_FETCH, bytes, sizeof(bytes));
    unsigned length = x86_mmio_exit(bytes, n, bits, (q & 2) != 0, gpa, rip, &x->mmio, exit);
    if (!length)
        return false;
    x->exit_instruction_len = length; /* for vmx_skip_instruction at completion */
    if (exit->mmio.write)
        exit->mmio.value = insn_mmio_store_value(&x->mmio, vmx_gpr_read(x, x->mmio.reg));
    return false;
}

static bool handle_external_interrupt(struct vcpu *v, struct vmx_vcpu *x, struct vcpu_exit *exit)
{
    (void)x;
    (void)exit;
    /* The host runs with every interrupt source masked: whatever arrived was acked on exit; the
     * local APIC gets its EOI and the interrupt is dropped. */
    v->stats[VCPU_STAT_INTR]++;
    uint32_t intr = vmcs_read32(VMCS_EXIT_INTR_INFO); /* valid only if acked */
    if ((intr & INTR_INFO_VALID) && (intr & 0xff) != LAPIC_SPURIOUS_VECTOR && lapic_present())
        lapic_eoi(); /* a spurious interrupt takes no EOI (SDM 11.9) */
    reinject_interrupted_event();
    return true;
}

/* MWAIT, MONITOR, RDPMC: hidden in CPUID. */
static bool handle_undefined(struct vcpu *v, struct vmx_vcpu *x, struct vcpu_exit *exit)
{
    (void)x;
    (void)exit;
    v->stats[VCPU_STAT_OTHER]++;
    inject_exception(X86_VECTOR_UD, 0);
    return true;
}

/* INVD, WBINVD: caches stay coherent; dropping them would hurt others. */
static bool handle_cache_flush(struct vcpu *v, struct vmx_vcpu *x, struct vcpu_exit *exit)
{
    (void)x;
    (void)exit;
    v->stats[VCPU_STAT_OTHER]++;
    vmx_skip_exit_instruction();
    return true;
}



static bool handle_interrupt_window(struct vcpu *v, struct vmx_vcpu *x, struct vcpu_exit *exit)
{
    v->stats[VCPU_STAT_WINDOW]++;
    x->window_exiting = false;
    vmcs_write32(VMCS_PROC_CONTROLS, vmx_proc_controls(x));
    exit->kind = VCPU_EXIT_INTERRUPT_WINDOW;
    return false;
}



/* MOV DR while MOV-DR exiting is on (the vCPU's first in this life): switch its DR0-DR3 from now
 * on and let the instruction run again, now without an exit; the CPU then applies every rule of
 * MOV DR itself (CPL, DR7.GD, CR4.DE). */
static bool handle_mov_dr(struct vcpu *v, struct vmx_vcpu *x, struct vcpu_exit *exit)
{
    (void)exit;
    v->stats[VCPU_STAT_OTHER]++;
    vmx_debug_registers_used(x);
    return true;
}

static bool handle_triple_fault(struct vcpu *v, struct vmx_vcpu *x, struct vcpu_exit *exit)
{
    (void)x;
    v->stats[VCPU_STAT_OTHER]++;
    x86_exit_fault(exit, "triple fault (shutdown)");
    return false;
}

static bool handle_vmx_instruction(struct vcpu *v, struct vmx_vcpu *x, struct vcpu_exit *exit)
{
    v->stats[VCPU_STAT_OTHER]++;
    x86_exit_fault(exit, "the guest executed %s (VMX instructions are not available to guests)",
                   vmx_exit_reason_name(x->exit_reason & 0xffff));
    return false;
}

bool vmx_exit_unexpected(struct vcpu *v, struct vmx_vcpu *x, struct vcpu_exit *exit)
{
    v->stats[VCPU_STAT_OTHER]++;
    uint32_t reason = x->exit_reason & 0xffff;
    x86_exit_fault(exit, "unexpected VM exit: reason %u (%s), qualification 0x%llx", reason,
                   vmx_exit_reason_name(reason), (unsigned long long)vmx_read_qualification(x));
    return false;
}

/* Indexed by basic exit reason; every entry is filled (vmx_exit_unexpected by default), so the
 * run loop needs no NULL check. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
const vmx_exit_handler vmx_exit_handlers[EXIT_REASON_COUNT] = {
    [0 ... EXIT_REASON_COUNT - 1] = vmx_exit_unexpected,
    [EXIT_REASON_EXCEPTION_NMI] = handle_exception,
    [EXIT_REASON_EXTERNAL_INTERRUPT] = handle_external_interrupt,
    [EXIT_REASON_TRIPLE_FAULT] = handle_triple_fault,
    [EXIT_REASON_INTERRUPT_WINDOW] = handle_interrupt_window,
    [EXIT_REASON_CPUID] = vmx_handle_cpuid,
    [EXIT_REASON_HLT] = vmx_handle_hlt, /* vmx_exit_dispatch takes HLT first (and TF) */
    [EXIT_REASON_INVD] = handle_cache_flush,
    [EXIT_REASON_RDPMC] = handle_undefined,
    [EXIT_REASON_VMCALL] = vmx_handle_vmcall,
    [19 ... 27] = handle_vmx_instruction, /* VMCLEAR ... VMXON */
    [EXIT_REASON_CR_ACCESS] = handle_cr_access,
    [EXIT_REASON_MOV_DR] = handle_mov_dr,
    [EXIT_REASON_IO] = vmx_handle_io,
    [EXIT_REASON_RDMSR] = handle_msr,
    [EXIT_REASON_WRMSR] = handle_msr,
    [EXIT_REASON_MWAIT] = handle_undefined,
    [EXIT_REASON_MONITOR] = handle_undefined,
    [EXIT_REASON_EPT_VIOLATION] = handle_ept_violation,
    [50] = handle_vmx_instruction, /* INVEPT */
    [EXIT_REASON_PREEMPTION_TIMER] = vmx_handle_preemption_timer,
    [53] = handle_vmx_instruction, /* INVVPID */
    [EXIT_REASON_WBINVD] = handle_cache_flush,
};
#pragma GCC diagnostic pop
