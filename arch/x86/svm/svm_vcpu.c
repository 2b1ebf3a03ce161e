/* SVM vCPUs: one VMCB per vCPU (AMD APM vol. 2, ch. 15), its set-up, the run loop, and the exits
 * the backend handles itself, one handler per exit code. What an exit means on x86 (CPUID and MSR
 * views, exception folding, storms) is x86/vcpu_policy.h's, shared with VMX. Without NRIP save
 * (QEMU TCG) the next RIP comes from fixed instruction lengths, IOIO's EXITINFO2, or a decode of
 * the guest's bytes (x86/insn.h, fetched through x86/gpt_walk.h). */
#include <tessera/arch.h>
#include <tessera/errno.h>
#include <tessera/guest_mem.h>
#include <tessera/mm.h>
#include <tessera/printf.h>
#include <tessera/string.h>
#include <x86/apic_timer.h>
#include <x86/cpu.h>
#include <x86/guest_cpuid.h>
#include <x86/insn.h>
#include <x86/desc.h>
#include <x86/gpt_walk.h>
#include <x86/lazy_regs.h>
#include <x86/percpu.h>
#include <x86/reg_dump.h>
#include <x86/spec.h>
#include <x86/vcpu_policy.h>

#include "svm.h"

#define RFLAGS_RESERVED1 (1ull << 1)
#define RFLAGS_IF (1ull << 9)
#define EFER_SCE (1ull << 0)
#define CS_ATTRIB_L (1u << 9)

/* Segment attributes in the VMCB format (APM 15.5.1, "Segment State"): descriptor bits 47:40 in
 * 7:0, bits 55:52 (AVL, L, D/B, G) in 11:8. */
#define ATTR_CODE_REAL 0x09b
#define ATTR_DATA_REAL 0x093
#define ATTR_CODE_32 0xc9b
#define ATTR_DATA_32 0xc93
#define ATTR_CODE_64 0x29b
#define ATTR_TSS_BUSY 0x08b

static struct vcpu *loaded[X86_MAX_CPUS];
#define loaded_vcpu (loaded[x86_cpu_index()])
static const struct vm *last_vm[X86_MAX_CPUS];

static inline struct svm_vcpu *svm_of(struct vcpu *v) { return v->backend; }

/* After a host write to a VMCB field: the clean bit that covers it (vmcb_clean_bit) is cleared. */
#define vmcb_wrote(x, field) ((x)->clean &= ~vmcb_clean_bit(offsetof(struct vmcb, field)))

/* ASIDs (APM 15.16): one per VM while the CPU has enough (QEMU offers 16, real CPUs thousands);
 * beyond that VMs share them. Each CPU remembers which vCPU ran last under each ASID, and a
 * vCPU that finds another's translations under its ASID flushes them before it runs. */
#define ASID_SLOTS 64
static const struct vcpu *asid_owner[X86_MAX_CPUS][ASID_SLOTS];

static uint32_t asid_for(unsigned tag)
{
    uint32_t usable = svm_caps.asids - 1; /* ASID 0 is the host's */
    if (usable > ASID_SLOTS - 1)
        usable = ASID_SLOTS - 1;
    return (uint32_t)((tag - 1) % usable) + 1;
}

/* VMRUN switches CR2, DR6 and DR7 (in the VMCB) and VMLOAD/VMSAVE the syscall MSRs: only the
 * x87/SSE state, DR0-DR3 and TSC_AUX stay for us to swap (x86/lazy_regs.h). */
static unsigned lazy_parts(void)
{
    return X86_LAZY_FPU | X86_LAZY_DR0_3 | (svm_caps.rdtscp ? X86_LAZY_TSC_AUX : 0);
}

static void vcpu_load(struct vcpu *v)
{
    if (loaded_vcpu == v)
        return;
    const struct vcpu **owner = &asid_owner[x86_cpu_index()][svm_of(v)->vmcb->asid % ASID_SLOTS];
    if (*owner != v) {
        svm_of(v)->flush_tlb = true;
        *owner = v;
    }
    if (loaded_vcpu)
        x86_lazy_save(&svm_of(loaded_vcpu)->lazy, lazy_parts());
    x86_lazy_load(&svm_of(v)->lazy, lazy_parts());
    loaded_vcpu = v;
    if (last_vm[x86_cpu_index()] != v->vm) {
        if (spec_entry_flags & SPEC_FLAG_IBPB)
            spec_ibpb();
        last_vm[x86_cpu_index()] = v->vm;
    }
}

/* ---- permission maps and creation ------------------------------------------------------- */

/* MSRPM (APM 15.11): two bits per MSR, read then write, in three 2 KiB ranges. */
static void msrpm_clear(uint8_t *map, uint32_t msr, unsigned bits)
{
    unsigned base;
    if (msr < 0x2000)
        base = 0;
    else if (msr >= 0xc0000000u && msr < 0xc0002000u)
        base = 0x800;
    else if (msr >= 0xc0010000u && msr < 0xc0012000u)
        base = 0x1000;
    else
        return;
    unsigned bit = (msr & 0x1fff) * 2;
    map[base + bit / 8] &= (uint8_t)~(bits << (bit % 8));
}

static void msrpm_allow(uint8_t *map, uint32_t msr) { msrpm_clear(map, msr, 3); }

/* What the guest uses directly: the state VMLOAD/VMSAVE switch, and reads of PAT (nested paging
 * makes it the VMCB's G_PAT, APM 15.25.8). PAT writes are checked here: VMRUN refuses a G_PAT
 * with a reserved type, so the guest's #GP must not depend on the WRMSR itself checking (an
 * emulator that skips a check would otherwise stop the VM). EFER stays intercepted: SVME must
 * stay set and hidden. */
static void svm_msr_map_init(uint8_t *map)
{
    static const uint32_t direct[] = {
        MSR_IA32_FS_BASE, MSR_IA32_GS_BASE, MSR_KERNEL_GS_BASE, MSR_STAR, MSR_LSTAR, MSR_CSTAR,
        MSR_SFMASK, MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
    };
    for (unsigned i = 0; i < sizeof(direct) / sizeof(direct[0]); i++)
        msrpm_allow(map, direct[i]);
    msrpm_clear(map, MSR_IA32_PAT, 1); /* reads only */
    if (svm_caps.rdtscp)
        msrpm_allow(map, MSR_TSC_AUX); /* swapped lazily */
}

static void svm_vcpu_destroy(struct vcpu *v)
{
    struct svm_vcpu *x = svm_of(v);
    if (!x)
        return;
    if (loaded_vcpu == v)
        loaded_vcpu = NULL;
    for (unsigned cpu = 0; cpu < X86_MAX_CPUS; cpu++)
        for (unsigned a = 0; a < ASID_SLOTS; a++)
            if (asid_owner[cpu][a] == v)
                asid_owner[cpu][a] = NULL;
    if (x->vmcb_phys)
        phys_free(x->vmcb_phys, PAGE_SIZE);
    phys_free(virt_to_phys(x), PAGE_SIZE);
    v->backend = NULL;
}

/* The CR4 bits this CPU has, within the shared allow-list: a bit the CPU lacks would make VMRUN
 * fail (reserved), so the guest gets the #GP a CPU without the feature gives. */
static uint64_t cr4_allowed(void)
{
    static uint64_t allowed;
    if (!allowed) {
        struct cpuid_regs l1 = cpuid(1, 0), l7 = { 0, 0, 0, 0 };
        if (cpuid_max_leaf() >= 7)
            l7 = cpuid(7, 0);
        uint64_t a = X86_CR4_GUEST_ALLOWED & ~(CR4_UMIP | CR4_LA57 | CR4_FSGSBASE | CR4_PCIDE |
                                                CR4_SMEP | CR4_SMAP);
        if (l7.ecx & (1u << 2))
            a |= CR4_UMIP;
        if (l7.ecx & (1u << 16))
            a |= CR4_LA57;
        if (l7.ebx & (1u << 0))
            a |= CR4_FSGSBASE;
        if (l1.ecx & (1u << 17))
            a |= CR4_PCIDE;
        if (l7.ebx & (1u << 7))
            a |= CR4_SMEP;
        if (l7.ebx & (1u << 20))
            a |= CR4_SMAP;
        allowed = a;
    }
    return allowed;
}

static int svm_vcpu_create(struct vcpu *v, struct x86_vm *vm, char *why, size_t why_len)
{
    uint64_t phys;
    if (sizeof(struct svm_vcpu) > PAGE_SIZE || page_alloc_zeroed(&phys)) {
        ksnprintf(why, why_len, "no memory for the vCPU");
        return -ENOMEM;
    }
    struct svm_vcpu *x = phys_to_virt(phys);
    v->backend = x;
    x->vcpu = v;
    x->clean_all = svm_clean_after_exit(svm_caps.features);
    x->vm = vm;
    x86_guest_cpuid_init(&x->cpuid, &(struct vcpu_guest_cpu){ 0 }, cpuid_max_leaf());
    if (page_alloc_zeroed(&x->vmcb_phys)) {
        ksnprintf(why, why_len, "no memory for the VMCB");
        svm_vcpu_destroy(v);
        return -ENOMEM;
    }
    struct vmcb *c = x->vmcb = phys_to_virt(x->vmcb_phys);
    /* Intercepts: everything the VMX backend traps. NMIs are the host's (APM 15.13.2): without
     * the intercept one arriving in guest mode goes through the guest's IDT. CR4 writes for the
     * allow-list (CR0, CR3 and CR8 are the guest's own: nested paging, and V_INTR_MASKING keeps
     * CR8 virtual, 15.21.1). */
    c->intercept_cr = 1u << (16 + 4);
    c->intercept_exceptions = X86_WATCHED_EXCEPTIONS;
    c->intercept_misc1 = SVM_INTERCEPT_INTR | SVM_INTERCEPT_NMI | SVM_INTERCEPT_CPUID |
                         SVM_INTERCEPT_HLT | SVM_INTERCEPT_INVD | SVM_INTERCEPT_RDPMC | SVM_INTERCEPT_INVLPGA |
                         SVM_INTERCEPT_IOIO | SVM_INTERCEPT_MSR | SVM_INTERCEPT_TASK_SWITCH |
                         SVM_INTERCEPT_SHUTDOWN | SVM_INTERCEPT_INIT;
    /* VMRUN must be intercepted (15.5.1); the other SVM instructions, MONITOR/MWAIT (hidden in
     * CPUID), WBINVD (caches every guest shares), XSETBV (XCR0 stays the host's) and RDPRU too. */
    c->intercept_misc2 = SVM_INTERCEPT_VMRUN | SVM_INTERCEPT_VMMCALL | SVM_INTERCEPT_VMLOAD |
                         SVM_INTERCEPT_VMSAVE | SVM_INTERCEPT_STGI | SVM_INTERCEPT_CLGI |
                         SVM_INTERCEPT_SKINIT | SVM_INTERCEPT_WBINVD | SVM_INTERCEPT_MONITOR |
                         SVM_INTERCEPT_MWAIT | SVM_INTERCEPT_MWAIT_ARMED | SVM_INTERCEPT_XSETBV |
                         SVM_INTERCEPT_RDPRU;
    c->iopm_base_pa = vm->io_map_phys;
    c->msrpm_base_pa = vm->msr_map_phys;
    c->asid = asid_for(vm->tag); /* never 0 (the host's) */
    c->np_control = 1;
    c->n_cr3 = slat_npt_cr3(&vm->slat);
    /* V_INTR_MASKING: the guest's IF and CR8 govern only virtual interrupts; host interrupts
     * follow the host's IF at VMRUN (set) and exit through the INTR intercept (15.21.1). */
    c->vintr = SVM_VINTR_MASKING;
    x->flush_tlb = true;
    return 0;
}

/* ---- start states --------------------------------------------------------------------- */

static void segment_set(struct vmcb_segment *s, uint16_t sel, uint64_t base, uint32_t limit,
                        uint16_t attrib)
{
    s->selector = sel;
    s->base = base;
    s->limit = limit;
    s->attrib = attrib;
}

static int svm_vcpu_reset(struct vcpu *v, const struct guest_boot_state *s, char *why,
                          size_t why_len)
{
    struct svm_vcpu *x = svm_of(v);
    struct vmcb *c = x->vmcb;
    vcpu_load(v);
    memset(&x->regs, 0, sizeof(x->regs));
    x86_lazy_reset(&x->lazy);
    x86_lazy_load(&x->lazy, lazy_parts()); /* loaded here: its registers are live */
    x86_storm_reset(&x->storm);
    x->regs.rbx = s->rbx;
    x->regs.rcx = s->rcx;
    x->regs.rdx = s->rdx;
    x->regs.rsi = s->rsi;
    x->regs.rdi = s->rdi;
    c->rax = s->rax;

    uint64_t cr0, cr4 = 0, efer = EFER_SVME;
    uint16_t code, data;
    uint32_t limit;
    switch (s->mode) {
    case GUEST_MODE_REAL16:
        /* CD and NW stay clear: with nested paging the guest's CR0.CD would slow its own
         * accesses only, but the reset value is not worth emulating. */
        cr0 = CR0_ET;
        code = ATTR_CODE_REAL;
        data = ATTR_DATA_REAL;
        limit = 0xffff;
        break;
    case GUEST_MODE_PROT32:
        cr0 = CR0_PE | CR0_ET | CR0_NE;
        code = ATTR_CODE_32;
        data = ATTR_DATA_32;
        limit = 0xffffffff;
        break;
    case GUEST_MODE_LONG64:
        cr0 = CR0_PE | CR0_PG | CR0_ET | CR0_NE;
        cr4 = CR4_PAE;
        efer |= EFER_LME | EFER_LMA;
        code = ATTR_CODE_64;
        data = ATTR_DATA_32;
        limit = 0xffffffff;
        break;
    default:
        ksnprintf(why, why_len, "unknown start mode %u", s->mode);
        return -EINVAL;
    }
    c->cr0 = cr0;
    c->cr3 = s->cr3;
    c->cr4 = cr4;
    c->efer = efer;
    c->g_pat = PAT_POWER_ON;
    c->dbgctl = 0;
    c->dr7 = 0x400;
    c->dr6 = 0xffff0ff0;
    c->cr2 = 0;
    bool real = s->mode == GUEST_MODE_REAL16;
    uint16_t cs = s->cs_selector, ds = s->ds_selector;
    segment_set(&c->cs, cs, real ? (uint64_t)cs << 4 : 0, limit, code);
    uint64_t dbase = real ? (uint64_t)ds << 4 : 0;
    segment_set(&c->ds, ds, dbase, limit, data);
    segment_set(&c->es, ds, dbase, limit, data);
    segment_set(&c->ss, ds, dbase, limit, data);
    segment_set(&c->fs, ds, dbase, limit, data);
    segment_set(&c->gs, ds, dbase, limit, data);
    segment_set(&c->gdtr, 0, real ? 0 : s->gdt_base, real ? 0xffff : s->gdt_limit, 0);
    segment_set(&c->idtr, 0, 0, real ? 0x3ff : 0, 0);
    segment_set(&c->ldtr, 0, 0, 0, 0);
    segment_set(&c->tr, 0, 0, 0xffff, ATTR_TSS_BUSY);
    c->cpl = 0;
    c->star = c->lstar = c->cstar = c->sfmask = c->kernel_gs_base = 0;
    c->sysenter_cs = c->sysenter_esp = c->sysenter_eip = 0;
    c->rsp = s->rsp;
    c->rip = s->rip;
    c->rflags = RFLAGS_RESERVED1;
    c->interrupt_shadow = 0;
    c->event_inject = 0;
    x->host_wrote = true;
    c->vintr = SVM_VINTR_MASKING;
    c->intercept_misc1 &= ~SVM_INTERCEPT_VINTR;
    x->clean = 0;
    x->flush_tlb = true; /* a restarted VM must not see stale translations of its ASID */
    return 0;
}

/* ---- registers ------------------------------------------------------------------------ */

/* General register by its ModRM number (RAX RCX RDX RBX RSP RBP RSI RDI R8-R15). */
static uint64_t *gpr_slot(struct svm_vcpu *x, unsigned n)
{
    struct svm_regs *r = &x->regs;
    uint64_t *slots[16] = {
        &x->vmcb->rax, &r->rcx, &r->rdx, &r->rbx, &x->vmcb->rsp, &r->rbp, &r->rsi, &r->rdi,
        &r->r8, &r->r9, &r->r10, &r->r11, &r->r12, &r->r13, &r->r14, &r->r15,
    };
    return slots[n & 15];
}

static uint64_t svm_vcpu_get_reg(struct vcpu *v, enum vcpu_reg reg)
{
    struct svm_vcpu *x = svm_of(v);
    switch (reg) {
    case VCPU_REG_RAX: return x->vmcb->rax;
    case VCPU_REG_RBX: return x->regs.rbx;
    case VCPU_REG_RCX: return x->regs.rcx;
    case VCPU_REG_RDX: return x->regs.rdx;
    case VCPU_REG_RSI: return x->regs.rsi;
    case VCPU_REG_RDI: return x->regs.rdi;
    case VCPU_REG_RBP: return x->regs.rbp;
    case VCPU_REG_RSP: return x->vmcb->rsp;
    case VCPU_REG_RIP: return x->vmcb->rip;
    }
    return 0;
}

static void svm_vcpu_set_reg(struct vcpu *v, enum vcpu_reg reg, uint64_t value)
{
    struct svm_vcpu *x = svm_of(v);
    switch (reg) {
    case VCPU_REG_RAX: x->vmcb->rax = value; break;
    case VCPU_REG_RBX: x->regs.rbx = value; break;
    case VCPU_REG_RCX: x->regs.rcx = value; break;
    case VCPU_REG_RDX: x->regs.rdx = value; break;
    case VCPU_REG_RSI: x->regs.rsi = value; break;
    case VCPU_REG_RDI: x->regs.rdi = value; break;
    case VCPU_REG_RBP: x->regs.rbp = value; break;
    case VCPU_REG_RSP: x->vmcb->rsp = value; break;
    case VCPU_REG_RIP: x->vmcb->rip = value; break;
    }
}

static bool guest_64bit(const struct vmcb *c)
{
    return (c->efer & EFER_LMA) && (c->cs.attrib & CS_ATTRIB_L);
}

static unsigned guest_mode_bits(const struct vmcb *c)
{
    if (!(c->cr0 & CR0_PE))
        return 16;
    if (guest_64bit(c))
        return 64;
    return (c->cs.attrib & (1u << 10)) ? 32 : 16;
}

static void inject_exception(struct svm_vcpu *x, unsigned vector, uint32_t error);

/* The single-step trap the CPU would have raised after the instruction just completed for the
 * guest (x86_single_step_trap): DR6.BS in the VMCB (VMRUN loads it, 15.5.1) and #DB through
 * EVENTINJ (15.20), delivered before anything else at the next VMRUN, as a trap on the previous
 * instruction comes before interrupts (SDM 6.9, table 6-2). */
static __attribute__((noinline, cold)) void single_step_trap(struct svm_vcpu *x)
{
    struct vmcb *c = x->vmcb;
    if (!x86_single_step_trap(c->rflags, c->dbgctl, true, (c->event_inject & SVM_EVENT_VALID) != 0))
        return;
    c->dr6 = x86_dr6_single_step(c->dr6);
    vmcb_wrote(x, dr6);
    inject_exception(x, X86_VECTOR_DB, 0);
}

/* Steps past the last exit's instruction; that ends an STI/MOV-SS shadow (APM 15.21.5). */
static inline void skip_instruction_only(struct svm_vcpu *x)
{
    x->vmcb->rip = x->next_rip;
    x->vmcb->interrupt_shadow = 0;
}

/* The same, and with RFLAGS.TF set the single-step #DB after the instruction. */
static void skip_instruction(struct svm_vcpu *x)
{
    skip_instruction_only(x);
    if (__builtin_expect(x->vmcb->rflags & X86_RFLAGS_TF, 0))
        single_step_trap(x);
}

/* The next RIP of an instruction of fixed length (svm_next_rip, svm.h). */
static void set_next_rip(struct svm_vcpu *x, unsigned length)
{
    x->next_rip = svm_next_rip(svm_caps.features, x->vmcb->rip, x->vmcb->next_rip, length);
}

static void svm_vcpu_hypercall_args(struct vcpu *v, struct vcpu_hypercall *hc)
{
    struct svm_vcpu *x = svm_of(v);
    hc->cpl = x->vmcb->cpl & 3; /* the VMCB keeps the CPL itself (15.5.1) */
    hc->width_mask = guest_64bit(x->vmcb) ? ~0ull : 0xffffffffull;
    hc->nr = x->vmcb->rax & hc->width_mask;
    hc->arg1 = x->regs.rbx & hc->width_mask;
    hc->arg2 = x->regs.rcx & hc->width_mask;
    hc->arg3 = x->regs.rdx & hc->width_mask;
}

static void svm_vcpu_hypercall_return(struct vcpu *v, const struct vcpu_hypercall *hc,
                                      uint64_t ret)
{
    struct svm_vcpu *x = svm_of(v);
    x->vmcb->rax = ret & hc->width_mask;
    skip_instruction(x);
}

/* Only HLT's completion comes here (kernel/vmm.c): with TF set, handle_hlt raised the trap and
 * went on without generic code. */
static void svm_vcpu_skip_instruction(struct vcpu *v) { skip_instruction_only(svm_of(v)); }

static void svm_vcpu_complete_io(struct vcpu *v, uint32_t value)
{
    struct svm_vcpu *x = svm_of(v);
    uint64_t info = x->vmcb->exit_info1;
    if (info & 1) /* IN */
        x->vmcb->rax = x86_io_merge(x->vmcb->rax, (info >> 4) & 7, value);
    skip_instruction(x);
}

static void svm_vcpu_complete_mmio(struct vcpu *v, uint64_t value)
{
    struct svm_vcpu *x = svm_of(v);
    if (x->mmio.kind == INSN_MMIO_LOAD) {
        uint64_t *reg = gpr_slot(x, x->mmio.reg);
        *reg = insn_mmio_load_result(&x->mmio, *reg, value);
    }
    skip_instruction(x);
}

static void svm_vcpu_set_guest_cpu(struct vcpu *v, const struct vcpu_guest_cpu *cpu)
{
    struct svm_vcpu *x = svm_of(v);
    x86_guest_cpuid_init(&x->cpuid, cpu, x->cpuid.host_max_leaf);
}

/* An MSR generic code answered (VCPU_EXIT_MSR): #GP for a refusal, else the value of a read. */
static void svm_vcpu_complete_msr(struct vcpu *v, bool ok, uint64_t value)
{
    struct svm_vcpu *x = svm_of(v);
    if (!ok) {
        inject_exception(x, X86_VECTOR_GP, 0);
        return;
    }
    if (!(x->vmcb->exit_info1 & 1)) { /* RDMSR */
        x->vmcb->rax = (uint32_t)value;
        x->regs.rdx = value >> 32;
    }
    skip_instruction(x);
}

/* ---- event injection ------------------------------------------------------------------ */

static void inject_exception(struct svm_vcpu *x, unsigned vector, uint32_t error)
{
    uint64_t ev = SVM_EVENT_VALID | SVM_EVENT_TYPE_EXCEPTION | vector;
    /* real mode delivers no error code (15.20) */
    if (x86_exception_has_error_code(vector) && (x->vmcb->cr0 & CR0_PE))
        ev |= SVM_EVENT_ERROR_VALID | ((uint64_t)error << 32);
    x->vmcb->event_inject = ev;
    x->host_wrote = true;
}

/* ---- exits handled here --------------------------------------------------------------- */

typedef bool (*svm_exit_handler)(struct vcpu *v, struct svm_vcpu *x, struct vcpu_exit *exit);

/* Gives the guest r, the answer to its CPUID, and steps past the instruction. Touches no per-CPU
 * data: svm_exit_fast runs it with the guest's GS base loaded. */
static inline __attribute__((always_inline)) void cpuid_answer(struct svm_vcpu *x, const struct x86_cpuid *r)
{
    struct vmcb *c = x->vmcb;
    uint64_t rip = c->rip, nrip = c->next_rip;
    c->rax = r->eax;
    x->regs.rbx = r->ebx;
    x->regs.rcx = r->ecx;
    x->regs.rdx = r->edx;
    c->rip = svm_next_rip(svm_caps.features, rip, nrip, 2);
    c->interrupt_shadow = 0; /* as skip_instruction */
}

/* The guest's view of CPUID (x86/guest_cpuid.h), through the vCPU's table of answers. */
static bool handle_cpuid(struct vcpu *v, struct svm_vcpu *x, struct vcpu_exit *exit)
{
    (void)exit;
    v->stats[VCPU_STAT_CPUID]++;
    cpuid_answer(x, x86_guest_cpuid(&x->cpuid, (uint32_t)x->vmcb->rax, (uint32_t)x->regs.rcx));
    if (x->vmcb->rflags & X86_RFLAGS_TF) /* svm_exit_fast leaves these to us */
        single_step_trap(x);
    return true;
}

/* EFER through the MSR intercept: SVME stays set underneath and hidden (VMRUN refuses a guest
 * without it, 15.5.1); LMA is the CPU's; SCE, LME, NXE are the guest's. */
#define EFER_GUEST_BITS (EFER_SCE | EFER_LME | EFER_NXE)
static bool efer_write(struct svm_vcpu *x, uint64_t value)
{
    uint64_t old = x->vmcb->efer;
    if (value & ~(EFER_GUEST_BITS | EFER_LMA))
        return false;
    if ((x->vmcb->cr0 & CR0_PG) && ((value ^ old) & EFER_LME))
        return false; /* LME cannot change while paging is on (APM 14.6.1) */
    x->vmcb->efer = (value & EFER_GUEST_BITS) | (old & EFER_LMA) | EFER_SVME;
    x->host_wrote = true;
    vmcb_wrote(x, efer);
    return true;
}

/* Each of the 8 PAT entries must be a defined type: UC 0, WC 1, WT 4, WP 5, WB 6, UC- 7 (SDM
 * 11.12.2; a reserved type is #GP). */
static bool pat_write(struct svm_vcpu *x, uint64_t value)
{
    for (unsigned i = 0; i < 8; i++) {
        unsigned type = (value >> (8 * i)) & 0xff;
        if (type == 2 || type == 3 || type > 7)
            return false;
    }
    x->vmcb->g_pat = value;
    vmcb_wrote(x, g_pat);
    x->host_wrote = true;
    return true;
}

/* MSRs neither EFER/PAT nor the policy answer go to generic code (VCPU_EXIT_MSR: the APIC base,
 * ...), which completes them through svm_vcpu_complete_msr. */
static bool handle_msr(struct vcpu *v, struct svm_vcpu *x, struct vcpu_exit *exit)
{
    v->stats[VCPU_STAT_MSR]++;
    uint32_t msr = (uint32_t)x->regs.rcx;
    bool write = x->vmcb->exit_info1 & 1;
    uint64_t value = write ? (x->regs.rdx << 32) | (uint32_t)x->vmcb->rax : 0;
    bool ok;
    set_next_rip(x, 2);
    if (write) {
        ok = msr == MSR_IA32_EFER ? efer_write(x, value)
             : msr == MSR_IA32_PAT ? pat_write(x, value)
                                   : x86_msr_write(msr, value);
    } else if (msr == MSR_IA32_EFER) {
        value = x->vmcb->efer & ~EFER_SVME;
        ok = true;
    } else {
        ok = x86_msr_read(msr, arch_now(), &value);
    }
    if (!ok && msr != MSR_IA32_EFER && msr != MSR_IA32_PAT) {
        x86_msr_exit(exit, msr, write, write ? value : 0);
        return false;
    }
    if (!ok) {
        inject_exception(x, X86_VECTOR_GP, 0);
        return true;
    }
    if (!write) {
        x->vmcb->rax = (uint32_t)value;
        x->regs.rdx = value >> 32;
    }
    skip_instruction(x);
    return true;
}

static size_t guest_code(struct svm_vcpu *x, uint8_t *buf, size_t len);

/* MOV to CR4. With decode assists EXITINFO1 names the register (15.33.1); without them the
 * instruction is decoded from the guest's memory. */
static bool handle_cr4_write(struct vcpu *v, struct svm_vcpu *x, struct vcpu_exit *exit)
{
    v->stats[VCPU_STAT_CR]++;
    struct vmcb *c = x->vmcb;
    unsigned gpr, length;
    /* the register from decode assists needs NRIP save's next RIP too (the length is unknown) */
    if (svm_decoded_cr_write(svm_caps.features, c->exit_info1)) {
        gpr = c->exit_info1 & 15;
        length = 0;
    } else {
        uint8_t bytes[INSN_MAX_LENGTH];
        size_t n = guest_code(x, bytes, sizeof(bytes));
        struct insn in;
        /* LOCK MOV CR0 is MOV CR8 on AMD (AltMovCr8): not CR4 either way */
        if (insn_decode(&in, bytes, n, (enum insn_mode)guest_mode_bits(c)) ||
            in.map != INSN_MAP_0F || in.opcode != 0x22 || in.reg != 4 || in.lock) {
            x86_exit_fault(exit, "CR4 write exit at RIP 0x%llx that does not decode as MOV CR4",
                           (unsigned long long)c->rip);
            return false;
        }
        gpr = in.rm;
        length = in.length;
    }
    uint64_t value = *gpr_slot(x, gpr);
    if (!guest_64bit(c))
        value &= 0xffffffffull;
    uint64_t old = c->cr4;
    if ((value & ~cr4_allowed()) || ((c->efer & EFER_LMA) && !(value & CR4_PAE)) ||
        ((c->efer & EFER_LMA) && ((value ^ old) & CR4_LA57))) {
        inject_exception(x, X86_VECTOR_GP, 0);
        return true;
    }
    c->cr4 = value;
    x->host_wrote = true;
    vmcb_wrote(x, cr4);
    if ((old ^ value) & (CR4_PAE | CR4_PGE | CR4_PSE | CR4_PCIDE | CR4_SMEP | CR4_SMAP))
        x->flush_tlb = true; /* what the instruction itself would have flushed */
    if (length)
        x->next_rip = c->rip + length;
    else
        x->next_rip = c->next_rip;
    skip_instruction(x);
    return true;
}

static bool handle_io(struct vcpu *v, struct svm_vcpu *x, struct vcpu_exit *exit)
{
    v->stats[VCPU_STAT_IO]++;
    uint64_t info = x->vmcb->exit_info1; /* 15.10.2, figure 15-2 */
    if (info & (1u << 2)) {
        x86_exit_fault(exit, "string I/O (INS/OUTS) on port 0x%llx is not supported",
                       (unsigned long long)(info >> 16) & 0xffff);
        return false;
    }
    x->next_rip = x->vmcb->exit_info2; /* IOIO always gives the next RIP */
    exit->kind = VCPU_EXIT_IO;
    exit->io.port = (uint16_t)(info >> 16);
    exit->io.size = (uint8_t)((info >> 4) & 7);
    exit->io.write = !(info & 1);
    exit->io.value = (uint32_t)x->vmcb->rax;
    return false;
}

static bool handle_vmmcall(struct vcpu *v, struct svm_vcpu *x, struct vcpu_exit *exit)
{
    v->stats[VCPU_STAT_HYPERCALL]++;
    set_next_rip(x, 3);
    exit->kind = VCPU_EXIT_HYPERCALL;
    return false;
}

/* HLT with TF set: the single-step trap right after it is a debug exception, which resumes a
 * halted CPU at once (SDM vol. 2 HLT; VM entry in the HLT state treats TF as a pending BS, SDM
 * Vol. 3C 27.3.1.5): the guest goes on in its #DB handler, it does not halt. */
static __attribute__((noinline, cold)) bool hlt_single_step(struct svm_vcpu *x)
{
    struct vmcb *c = x->vmcb;
    if (!x86_single_step_trap(c->rflags, c->dbgctl, true, (c->event_inject & SVM_EVENT_VALID) != 0))
        return false;
    skip_instruction(x); /* and the #DB */
    return true;
}

static bool handle_hlt(struct vcpu *v, struct svm_vcpu *x, struct vcpu_exit *exit)
{
    v->stats[VCPU_STAT_HLT]++;
    set_next_rip(x, 1);
    if (__builtin_expect(x->vmcb->rflags & X86_RFLAGS_TF, 0) && hlt_single_step(x))
        return true;
    exit->kind = VCPU_EXIT_HLT;
    return false;
}

/* A host interrupt arrived in the guest: it is still pending (GIF was clear at the exit); take
 * it now with interrupts enabled for one instruction (the timer's handler sends EOI). */
static bool handle_intr(struct vcpu *v, struct svm_vcpu *x, struct vcpu_exit *exit)
{
    (void)x;
    (void)exit;
    v->stats[VCPU_STAT_INTR]++;
    __asm__ volatile("sti; nop; cli" ::: "memory");
    return true;
}

/* A host NMI arrived in the guest (15.13.2): it stays pending while GIF is clear and the entry
 * stub's STGI let the host's handler take it (x86/trap.c counts it). As VMX's NMI exit: nothing
 * for the guest; an event delivery it cut is handed back by run_guest. */
static bool handle_nmi(struct vcpu *v, struct svm_vcpu *x, struct vcpu_exit *exit)
{
    (void)x;
    (void)exit;
    v->stats[VCPU_STAT_INTR]++;
    kprintf("tessera: svm: host NMI during a guest's run, taken by the hypervisor (%llu host "
            "NMIs so far)\n", (unsigned long long)__atomic_load_n(&x86_nmi_count, __ATOMIC_RELAXED));
    return true;
}

static bool handle_vintr(struct vcpu *v, struct svm_vcpu *x, struct vcpu_exit *exit)
{
    v->stats[VCPU_STAT_WINDOW]++;
    x->vmcb->vintr &= ~(SVM_VINTR_V_IRQ | SVM_VINTR_IGN_TPR | (0xfull << SVM_VINTR_PRIO_SHIFT));
    x->vmcb->intercept_misc1 &= ~SVM_INTERCEPT_VINTR;
    vmcb_wrote(x, vintr);
    vmcb_wrote(x, intercept_misc1);
    exit->kind = VCPU_EXIT_INTERRUPT_WINDOW;
    return false;
}

/* INVD, WBINVD (0F 08, 0F 09): caches stay coherent; dropping them would hurt others. */
static bool handle_cache_flush(struct vcpu *v, struct svm_vcpu *x, struct vcpu_exit *exit)
{
    (void)exit;
    v->stats[VCPU_STAT_OTHER]++;
    set_next_rip(x, 2);
    skip_instruction(x);
    return true;
}

/* MONITOR/MWAIT, RDPMC, XSETBV, RDPRU, and the SVM instructions: #UD, as on a CPU whose CPUID
 * hides them (EFER.SVME reads as clear). */
static bool handle_undefined(struct vcpu *v, struct svm_vcpu *x, struct vcpu_exit *exit)
{
    (void)exit;
    v->stats[VCPU_STAT_OTHER]++;
    inject_exception(x, X86_VECTOR_UD, 0);
    return true;
}

/* VMCALL (Intel's hypercall) raises #UD here: a guest built for the other vendor gets the same
 * hypercall. */
static bool is_vmcall(struct svm_vcpu *x)
{
    uint8_t bytes[3];
    return guest_code(x, bytes, sizeof(bytes)) == sizeof(bytes) &&
           x86_is_hypercall_instruction(bytes);
}

static bool handle_exception(struct vcpu *v, struct svm_vcpu *x, struct vcpu_exit *exit)
{
    struct vmcb *c = x->vmcb;
    unsigned vector = x->exit_code - SVM_EXIT_EXCEPTION_BASE;
    uint32_t error = (uint32_t)c->exit_info1;
    if (vector == X86_VECTOR_UD && !(c->exit_int_info & SVM_EVENT_VALID) && is_vmcall(x)) {
        v->stats[VCPU_STAT_HYPERCALL]++;
        x->next_rip = c->rip + 3;
        exit->kind = VCPU_EXIT_HYPERCALL;
        return false;
    }
    v->stats[VCPU_STAT_EXCEPTION]++;
    if (x86_storm_note(&x->storm, vector, c->rip)) {
        x86_exit_fault(exit, "exception storm: vector %u (error 0x%x) raised %u times in a row at "
                       "RIP 0x%llx", vector, error, x->storm.count, (unsigned long long)c->rip);
        return false;
    }
    uint64_t interrupted = c->exit_int_info;
    if ((interrupted & SVM_EVENT_VALID) &&
        (interrupted & SVM_EVENT_TYPE_MASK) == SVM_EVENT_TYPE_EXCEPTION) {
        switch (x86_exception_fold(interrupted & 0xff, vector)) {
        case X86_FOLD_TRIPLE_FAULT:
            x86_exit_fault(exit, "triple fault (vector %u while delivering a double fault)", vector);
            return false;
        case X86_FOLD_DOUBLE_FAULT:
            inject_exception(x, X86_VECTOR_DF, 0);
            return true;
        case X86_FOLD_DELIVER:
            break;
        }
    }
    inject_exception(x, vector, error);
    return true;
}

/* The paging state for the walker. The VMCB holds no PDPTEs (VMX's VMCS does): for a PAE guest
 * they are read from its memory at CR3, as a nested-paging walk does. */
static void paging_state(struct svm_vcpu *x, struct gpt_state *s)
{
    const struct vmcb *c = x->vmcb;
    *s = (struct gpt_state){ .cr0 = c->cr0, .cr3 = c->cr3, .cr4 = c->cr4, .efer = c->efer,
                             .cpl = c->cpl & 3, .rflags_ac = (c->rflags >> 18) & 1,
                             .maxphyaddr = svm_caps.maxphyaddr };
    const uint64_t *pdpte = guest_mem_range(&x->vm->mem, c->cr3 & 0xffffffe0ull, 32);
    if (pdpte && !(c->efer & EFER_LMA))
        memcpy(s->pdpte, pdpte, sizeof(s->pdpte));
}

/* Up to len bytes of the instruction at CS:RIP, through the guest's page tables. */
static size_t guest_code(struct svm_vcpu *x, uint8_t *buf, size_t len)
{
    const struct vmcb *c = x->vmcb;
    struct gpt_state ps;
    paging_state(x, &ps);
    uint64_t la = guest_64bit(c) ? c->rip : (c->cs.base + c->rip) & 0xffffffffull;
    return gpt_read(&x->vm->mem, &ps, la, GPT_FETCH, buf, len);
}

/* NPT maps all of the VM's RAM, so a nested page fault is an access outside it. A data access by
 * an ordinary instruction (not during event delivery) becomes VCPU_EXIT_MMIO: the instruction
 * comes from decode assists' bytes when the CPU gave them (APM 15.35.3), else from the guest's
 * memory through its page tables, and is decoded for its operand and length (NPF gives no next
 * RIP). Anything else stops the VM. */
static bool handle_npf(struct vcpu *v, struct svm_vcpu *x, struct vcpu_exit *exit)
{
    v->stats[VCPU_STAT_NPF]++;
    struct vmcb *c = x->vmcb;
    uint64_t info = c->exit_info1; /* a page-fault error code (15.25.6) */
    uint64_t gpa = c->exit_info2;
    if ((info & 16) || (c->exit_int_info & SVM_EVENT_VALID)) {
        const char *access = (info & 16) ? "instruction fetch" : (info & 2) ? "write" : "read";
        x86_exit_fault(exit, "nested page fault: %s at guest-physical 0x%llx, outside the VM's "
                       "memory", access, (unsigned long long)gpa);
        return false;
    }
    uint8_t bytes[INSN_MAX_LENGTH];
    size_t n;
    if ((svm_caps.features & SVM_FEATURE_DECODE_ASSISTS) && c->insn_len) {
        n = c->insn_len < sizeof(bytes) ? c->insn_len : sizeof(bytes);
        memcpy(bytes, c->insn_bytes, n);
    } else {
        n = guest_code(x, bytes, sizeof(bytes));
    }
    unsigned length = x86_mmio_exit(bytes, n, guest_mode_bits(c), (info & 2) != 0, gpa, c->rip,
                                    &x->mmio, exit);
    if (!length)
        return false;
    x->next_rip = c->rip + length; /* for skip_instruction at completion */
    if (exit->mmio.write)
        exit->mmio.value = insn_mmio_store_value(&x->mmio, *gpr_slot(x, x->mmio.reg));
    return false;
}

static bool handle_shutdown(struct vcpu *v, struct svm_vcpu *x, struct vcpu_exit *exit)
{
    (void)x;
    v->stats[VCPU_STAT_OTHER]++;
    x86_exit_fault(exit, "triple fault (shutdown)");
    return false;
}

static bool handle_unexpected(struct vcpu *v, struct svm_vcpu *x, struct vcpu_exit *exit)
{
    v->stats[VCPU_STAT_OTHER]++;
    x86_exit_fault(exit, "unexpected #VMEXIT: exit code 0x%x, EXITINFO1 0x%llx, EXITINFO2 0x%llx",
                   x->exit_code, (unsigned long long)x->vmcb->exit_info1,
                   (unsigned long long)x->vmcb->exit_info2);
    return false;
}

static bool handle_task_switch(struct vcpu *v, struct svm_vcpu *x, struct vcpu_exit *exit)
{
    (void)x;
    v->stats[VCPU_STAT_OTHER]++;
    x86_exit_fault(exit, "hardware task switch (not supported)");
    return false;
}

/* Indexed by exit code below SVM_EXIT_COUNT; nested page faults (0x400) are checked apart. */
static const svm_exit_handler exit_handlers[SVM_EXIT_COUNT] = {
    [SVM_EXIT_WRITE_CR4] = handle_cr4_write,
    [SVM_EXIT_EXCEPTION_BASE ... SVM_EXIT_EXCEPTION_BASE + 31] = handle_exception,
    [SVM_EXIT_INTR] = handle_intr,
    [SVM_EXIT_NMI] = handle_nmi,
    [SVM_EXIT_VINTR] = handle_vintr,
    [SVM_EXIT_RDPMC] = handle_undefined,
    [SVM_EXIT_CPUID] = handle_cpuid,
    [SVM_EXIT_INVD] = handle_cache_flush,
    [SVM_EXIT_HLT] = handle_hlt,
    [SVM_EXIT_INVLPGA] = handle_undefined,
    [SVM_EXIT_IOIO] = handle_io,
    [SVM_EXIT_MSR] = handle_msr,
    [SVM_EXIT_TASK_SWITCH] = handle_task_switch,
    [SVM_EXIT_SHUTDOWN] = handle_shutdown,
    [SVM_EXIT_VMRUN] = handle_undefined,
    [SVM_EXIT_VMMCALL] = handle_vmmcall,
    [SVM_EXIT_VMLOAD ... SVM_EXIT_SKINIT] = handle_undefined,
    [SVM_EXIT_WBINVD] = handle_cache_flush,
    [SVM_EXIT_MONITOR ... SVM_EXIT_RDPRU] = handle_undefined,
};

/* ---- the run loop --------------------------------------------------------------------- */

/* Generic code's answer: an external interrupt to inject (EVENTINJ, 15.20), and whether to
 * exit once the guest can take one (a virtual interrupt request with the VINTR intercept,
 * 15.21.4: the exit comes when the guest could take it). */
static void apply_interrupt_requests(struct vcpu *v, struct svm_vcpu *x, struct vcpu_exit *exit)
{
    struct vmcb *c = x->vmcb;
    if (exit->inject_vector >= 0 && !(c->event_inject & SVM_EVENT_VALID)) {
        c->event_inject = SVM_EVENT_VALID | SVM_EVENT_TYPE_INTR | ((uint64_t)exit->inject_vector & 0xff);
        x->host_wrote = true;
        v->stats[VCPU_STAT_IRQ]++;
    }
    exit->inject_vector = -1;
    bool on = (c->intercept_misc1 & SVM_INTERCEPT_VINTR) != 0;
    if (exit->want_interrupt_window != on) {
        if (exit->want_interrupt_window) {
            c->vintr |= SVM_VINTR_V_IRQ | SVM_VINTR_IGN_TPR | (0xfull << SVM_VINTR_PRIO_SHIFT);
            c->intercept_misc1 |= SVM_INTERCEPT_VINTR;
        } else {
            c->vintr &= ~(SVM_VINTR_V_IRQ | SVM_VINTR_IGN_TPR | (0xfull << SVM_VINTR_PRIO_SHIFT));
            c->intercept_misc1 &= ~SVM_INTERCEPT_VINTR;
        }
        vmcb_wrote(x, vintr);
        vmcb_wrote(x, intercept_misc1);
    }
}

static void report_interrupt_state(struct svm_vcpu *x, struct vcpu_exit *exit)
{
    const struct vmcb *c = x->vmcb;
    bool enabled = (c->rflags & RFLAGS_IF) != 0;
    exit->interrupts_enabled = enabled;
    /* a completion that steps past the instruction with TF set raises #DB, which then occupies
     * the entry's injection: an interrupt injected beside it would be lost */
    exit->interruptible = enabled && !(c->interrupt_shadow & 1) &&
                          !(c->event_inject & SVM_EVENT_VALID) &&
                          !((c->rflags & X86_RFLAGS_TF) && vcpu_exit_completes(exit->kind));
}

static void snapshot_entry_state(struct svm_vcpu *x)
{
    const struct vmcb *c = x->vmcb;
    struct svm_check_state *s = &x->entry;
    s->efer = c->efer;
    s->cr0 = c->cr0;
    s->cr3 = c->cr3;
    s->cr4 = c->cr4;
    s->dr6 = c->dr6;
    s->dr7 = c->dr7;
    s->rflags = c->rflags;
    s->cs_attrib = c->cs.attrib;
    s->event_inject = c->event_inject;
    s->g_pat = c->g_pat;
}

static void report_invalid(struct svm_vcpu *x, struct vcpu_exit *exit)
{
    struct svm_check_state s = x->entry;
    s.asid = x->vmcb->asid;
    s.intercept_misc2 = x->vmcb->intercept_misc2;
    s.maxphyaddr = cpu_maxphyaddr();
    char why[120];
    svm_explain_invalid(&s, why, sizeof(why));
    x86_exit_fault(exit, "VMRUN rejected the guest state (VMEXIT_INVALID): %s",
                   why[0] ? why : "no check we know of failed");
}

/* Called by the entry stub after a CPUID #VMEXIT (the stub checks the exit code, that no L1D
 * flush is due before entry and that the guest's RFLAGS.TF is clear: the single-step #DB is
 * handle_cpuid's, not injected here), GIF still clear and the guest's VMLOAD state (FS/GS bases, ...)
 * still loaded: nothing here may reach per-CPU data through GS, and the work is bounded. A CPUID
 * whose answer is in the vCPU's table is answered here and the guest re-entered at once (false: a
 * new question, which the stub leaves to handle_cpuid); the slice still ends on time, because
 * its timer, pending by then, makes that VMRUN exit through the INTR intercept at once. Writes
 * only RAX/RBX/RCX/RDX, RIP and the interrupt shadow, none of which a clean bit covers (APM
 * 15.15.3, table 15-9), so the VMCB stays clean; no TLB flush is pending after a VMRUN. */
_Static_assert(offsetof(struct svm_vcpu, vmcb) == 0x70, "svm_entry.asm reads it there");
_Static_assert(offsetof(struct vmcb, rflags) == 0x570, "svm_entry.asm reads it there");
__attribute__((optimize("omit-frame-pointer"))) bool svm_exit_fast(struct svm_vcpu *x)
{
    /* EXITINTINFO needs no look: an instruction intercept never cuts an event's delivery */
    struct vmcb *c = x->vmcb;
    uint32_t leaf = (uint32_t)c->rax;
    const struct x86_cpuid_slot *s = x86_cpuid_slot(&x->cpuid, leaf);
    if (!x86_cpuid_slot_holds(s, leaf, (uint32_t)x->regs.rcx))
        return false;
    cpuid_answer(x, &s->r);
    c->clean = x->clean_all;
    c->tlb_control = 0;
    x->vcpu->stats[VCPU_STAT_CPUID]++; /* last: a store before would make x->vmcb be read again */
    return true;
}

static void run_guest(struct vcpu *v, struct svm_vcpu *x, uint64_t deadline, struct vcpu_exit *exit)
{
    struct vmcb *c = x->vmcb;
    uint64_t host = svm_host_vmcb_phys[x86_cpu_index()];
    uint8_t flush = (svm_caps.features & SVM_FEATURE_FLUSH_BY_ASID) ? 3 : 1; /* 15.16.1 */
    uint32_t clean_all = x->clean_all;
    for (;;) {
        uint32_t spec = spec_entry_flags;
        if (spec & (SPEC_FLAG_L1D_MSR | SPEC_FLAG_L1D_SW))
            spec_l1d_flush(spec);
        c->clean = x->clean;
        c->tlb_control = x->flush_tlb ? flush : 0;
        if (x->host_wrote) { /* only our writes can make VMRUN refuse the state */
            snapshot_entry_state(x);
            x->host_wrote = false;
        }
        svm_enter_variant(&x->regs, x->vmcb_phys, host, spec);
        x->flush_tlb = false;
        x->clean = clean_all;
        uint64_t code = c->exit_code;
        x->exit_code = (uint32_t)code;
        if (code == SVM_EXIT_INVALID || code == ~0ull) {
            report_invalid(x, exit);
            return;
        }
        svm_exit_handler handler = code < SVM_EXIT_COUNT ? exit_handlers[code]
                                   : code == SVM_EXIT_NPF ? handle_npf
                                                          : NULL;
        /* An exit that cut the delivery of an event hands it back (15.7.2); an exception
         * handler decides itself (double faults). */
        if ((c->exit_int_info & SVM_EVENT_VALID) && handler != handle_exception) {
            c->event_inject = c->exit_int_info;
            x->host_wrote = true;
        }
        if (!(handler ? handler : handle_unexpected)(v, x, exit))
            return;
        if (arch_now() >= deadline) {
            v->stats[VCPU_STAT_PREEMPT]++;
            exit->kind = VCPU_EXIT_PREEMPTED;
            return;
        }
    }
}

static void svm_vcpu_run(struct vcpu *v, uint64_t deadline, struct vcpu_exit *exit)
{
    struct svm_vcpu *x = svm_of(v);
    vcpu_load(v);
    apply_interrupt_requests(v, x, exit);
    /* The slice's end (x86/apic_timer.h). Exits that go to generic code and come straight back
     * (I/O, HLT, hypercalls) run again with the same deadline: the timer armed for it is kept
     * while it has not fired. Only an idle CPU's halt disarms it (arch/x86/idle.c): one that
     * fires after its slice is taken by the host (x86/trap.c) or ends the next guest run
     * through the INTR intercept, both harmless, and every VMRUN has a timer pending for a
     * deadline no later than its own. */
    apic_timer_arm(deadline);
    run_guest(v, x, deadline, exit);
    if (exit->want_interrupt_state && exit->kind != VCPU_EXIT_FAULT)
        report_interrupt_state(x, exit);
}

/* ---- moving between CPUs, test hook, reports ------------------------------------------- */

static void svm_vcpu_unload(struct vcpu *v)
{
    if (loaded_vcpu == v) {
        x86_lazy_save(&svm_of(v)->lazy, lazy_parts());
        loaded_vcpu = NULL;
    }
}

/* Another CPU: nothing it caches from this VMCB or ASID may be trusted (15.15.3, 15.16). */
static int svm_vcpu_adopt(struct vcpu *v, char *why, size_t why_len)
{
    (void)why;
    (void)why_len;
    struct svm_vcpu *x = svm_of(v);
    vcpu_load(v);
    x->clean = 0;
    x->flush_tlb = true;
    x86_guest_cpuid_forget(&x->cpuid); /* this CPU's own answers differ */
    return 0;
}

/* CR0.NW without CD is refused by VMRUN (15.5.1): the next entry fails its checks. */
static void svm_vcpu_test_corrupt_state(struct vcpu *v)
{
    struct svm_vcpu *x = svm_of(v);
    x->vmcb->cr0 = (x->vmcb->cr0 | CR0_NW) & ~CR0_CD;
    x->host_wrote = true;
    x->clean = 0;
}

static void svm_vcpu_dump(struct vcpu *v, const char *prefix)
{
    struct svm_vcpu *x = svm_of(v);
    const struct vmcb *c = x->vmcb;
    const struct svm_regs *r = &x->regs;
    const struct x86_reg_dump d = {
        c->rip, c->rsp, c->rflags, guest_mode_bits(c), c->rax, r->rbx, r->rcx, r->rdx, r->rsi,
        r->rdi, r->rbp, r->r8, r->r9, r->r10, r->r11, r->r12, r->r13, r->r14, r->r15,
    };
    x86_dump_gprs(prefix, &d);
    kprintf("%sCR0=%016llx CR2=%016llx CR3=%016llx CR4=%016llx\n", prefix,
            (unsigned long long)c->cr0, (unsigned long long)c->cr2, (unsigned long long)c->cr3,
            (unsigned long long)c->cr4);
    kprintf("%sEFER=%llx CS=%04x base=%llx attrib=%x DS=%04x SS=%04x GDTR=%llx/%x IDTR=%llx/%x "
            "CPL=%u ASID=%u\n",
            prefix, (unsigned long long)c->efer, c->cs.selector, (unsigned long long)c->cs.base,
            c->cs.attrib, c->ds.selector, c->ss.selector, (unsigned long long)c->gdtr.base,
            c->gdtr.limit, (unsigned long long)c->idtr.base, c->idtr.limit, c->cpl, c->asid);
    kprintf("%slast exit: code 0x%x EXITINFO1 0x%llx EXITINFO2 0x%llx EXITINTINFO 0x%llx\n",
            prefix, x->exit_code, (unsigned long long)c->exit_info1,
            (unsigned long long)c->exit_info2, (unsigned long long)c->exit_int_info);
}

const struct virt_ops svm_ops = {
    .name = "AMD-V",
    .slat_fault_name = "nested page fault",
    .slat_format = SLAT_FORMAT_NPT,
    .io_map_pages = 3, /* IOPM: 12 KiB, one bit per port plus the wrap-around bits (15.10.1) */
    .msr_map_pages = 2, /* MSRPM: 8 KiB (15.11) */
    .msr_map_init = svm_msr_map_init,
    .report = svm_report,
    .cpu_enable = svm_cpu_enable,
    .vcpu_create = svm_vcpu_create,
    .vcpu_reset = svm_vcpu_reset,
    .vcpu_run = svm_vcpu_run,
    .vcpu_complete_io = svm_vcpu_complete_io,
    .vcpu_complete_mmio = svm_vcpu_complete_mmio,
    .vcpu_complete_msr = svm_vcpu_complete_msr,
    .vcpu_set_guest_cpu = svm_vcpu_set_guest_cpu,
    .vcpu_skip_instruction = svm_vcpu_skip_instruction,
    .vcpu_get_reg = svm_vcpu_get_reg,
    .vcpu_set_reg = svm_vcpu_set_reg,
    .vcpu_hypercall_args = svm_vcpu_hypercall_args,
    .vcpu_hypercall_return = svm_vcpu_hypercall_return,
    .vcpu_dump = svm_vcpu_dump,
    .vcpu_destroy = svm_vcpu_destroy,
    .vcpu_test_corrupt_state = svm_vcpu_test_corrupt_state,
    .vcpu_unload = svm_vcpu_unload,
    .vcpu_adopt = svm_vcpu_adopt,
};
