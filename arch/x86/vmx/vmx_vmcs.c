/* VMX vCPUs, part 1: VMCS set-up. Creating the VMCS, the host state an exit loads, the controls
 * every guest runs with, the guest start states, moving a VMCS between CPUs, and teardown. */
#include <tessera/arch.h>
#include <tessera/errno.h>
#include <tessera/mm.h>
#include <tessera/printf.h>
#include <tessera/string.h>
#include <x86/cpu.h>
#include <x86/desc.h>
#include <x86/lazy_regs.h>
#include <x86/percpu.h>
#include <x86/spec.h>
#include <x86/vcpu_policy.h>

#include "vmx_vcpu.h"


/* Segment access rights in the VMCS format (SDM 25.4.1, table 25-2). */
#define AR_UNUSABLE (1u << 16)
#define AR_CODE_REAL 0x009b
#define AR_DATA_REAL 0x0093
#define AR_CODE_32 0xc09b
#define AR_DATA_32 0xc093
#define AR_CODE_64 0xa09b
#define AR_TSS_BUSY_32 0x008b /* also the 64-bit busy TSS type */

/* Whose VMCS and lazy registers are on each CPU now. */
struct vcpu *vmx_loaded[X86_MAX_CPUS];
#define loaded_vcpu (vmx_loaded[x86_cpu_index()])
/* The VM whose vCPU each CPU loaded last (kept across unloads): an IBPB when it changes. */
static const struct vm *last_vm[X86_MAX_CPUS];

/* ---- VMCS loading and lazy register switching ------------------------------------------ */

static bool vmptrld(uint64_t phys)
{
    uint8_t failed;
    __asm__ volatile("vmptrld %1; setbe %0" : "=qm"(failed) : "m"(phys) : "cc", "memory");
    return !failed;
}

static void vmclear(uint64_t phys)
{
    __asm__ volatile("vmclear %0" : : "m"(phys) : "cc", "memory");
}

/* STAR, LSTAR, CSTAR, SFMASK and (with RDTSCP) TSC_AUX change only by WRMSR, which exits
 * (vmx_wrmsr_reg_write): the vCPU's copy in lazy is always current, so a switch never reads
 * them, and writes them only when they differ from what this CPU holds (hw_wrmsr_regs): not at
 * all between two vCPUs that never set them. KERNEL_GS_BASE changes by SWAPGS without an exit:
 * read and written on every switch. */
struct wrmsr_regs {
    bool known;   /* the values below were read from this CPU */
    bool nonzero; /* one of them is not 0 */
    uint64_t star, lstar, cstar, sfmask, tsc_aux;
};
static struct wrmsr_regs hw_wrmsr_regs[X86_MAX_CPUS];

static bool has_rdtscp(void)
{
    return (vmx_caps.proc2 & PROC2_RDTSCP) != 0;
}

static __attribute__((noinline)) void wrmsr_regs_update(struct wrmsr_regs *h,
                                                        const struct x86_lazy_regs *l)
{
    if (!h->known) {
        h->star = rdmsr(MSR_STAR);
        h->lstar = rdmsr(MSR_LSTAR);
        h->cstar = rdmsr(MSR_CSTAR);
        h->sfmask = rdmsr(MSR_SFMASK);
        h->tsc_aux = has_rdtscp() ? rdmsr(MSR_TSC_AUX) : 0;
        h->known = true;
    }
    if (h->star != l->star)
        wrmsr(MSR_STAR, h->star = l->star);
    if (h->lstar != l->lstar)
        wrmsr(MSR_LSTAR, h->lstar = l->lstar);
    if (h->cstar != l->cstar)
        wrmsr(MSR_CSTAR, h->cstar = l->cstar);
    if (h->sfmask != l->sfmask)
        wrmsr(MSR_SFMASK, h->sfmask = l->sfmask);
    if (has_rdtscp() && h->tsc_aux != l->tsc_aux)
        wrmsr(MSR_TSC_AUX, h->tsc_aux = l->tsc_aux);
    h->nonzero = !!(h->star | h->lstar | h->cstar | h->sfmask | h->tsc_aux);
}

static inline void wrmsr_regs_load(unsigned cpu, const struct vmx_vcpu *x)
{
    struct wrmsr_regs *h = &hw_wrmsr_regs[cpu];
    if (h->known && !h->nonzero && !x->wrmsr_regs_nonzero)
        return; /* all 0 in the CPU and in the vCPU */
    wrmsr_regs_update(h, &x->lazy);
}

/* DR0-DR3 of a vCPU with MOV-DR exiting on are 0 (any access exits first): each CPU knows whether
 * its own are 0, so a switch between such vCPUs neither reads nor writes them (KVM switches
 * debug registers this way too). */
static bool hw_dr0_3_zero[X86_MAX_CPUS];

static bool mov_dr_exiting_available(void)
{
    return (vmx_caps.proc_allowed1 & PROC_MOV_DR_EXITING) != 0;
}

void vmx_debug_registers_used(struct vmx_vcpu *x)
{
    /* the CPU holds this vCPU's DR0-DR3 (0, see lazy_load) */
    x->dr_exiting = false;
    hw_dr0_3_zero[x86_cpu_index()] = false; /* the guest may write them now */
    vmcs_write32(VMCS_PROC_CONTROLS, vmx_proc_controls(x));
}

/* Saves what the guest of x can change in the CPU without an exit. (Constant masks: only the
 * named registers' code remains of x86_lazy_save/load.) */
static inline void lazy_save(struct vmx_vcpu *x)
{
    x86_lazy_save(&x->lazy, vmx_lazy_parts());
    if (!x->dr_exiting)
        x86_lazy_save(&x->lazy, X86_LAZY_DR0_3);
    x->lazy.kernel_gs_base = rdmsr(MSR_KERNEL_GS_BASE);
}

/* Puts the lazily switched registers of x in the CPU (x is loaded on it). */
static inline void lazy_load(unsigned cpu, struct vmx_vcpu *x)
{
    x86_lazy_load(&x->lazy, vmx_lazy_parts());
    if (!x->dr_exiting || !hw_dr0_3_zero[cpu]) {
        x86_lazy_load(&x->lazy, X86_LAZY_DR0_3); /* with exiting on, its are 0 */
        hw_dr0_3_zero[cpu] = x->dr_exiting;
    }
    wrmsr(MSR_KERNEL_GS_BASE, x->lazy.kernel_gs_base);
    wrmsr_regs_load(cpu, x);
}

/* Canonical for 4-level paging (bits 63:47 equal): a WRMSR of LSTAR or CSTAR outside that
 * raises #GP (SDM Vol. 4, IA32_LSTAR); 5-level addresses are not offered to guests. */
static bool canonical48(uint64_t a)
{
    return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

int vmx_wrmsr_reg_write(struct vmx_vcpu *x, uint32_t msr, uint64_t value)
{
    struct x86_lazy_regs *l = &x->lazy;
    switch (msr) {
    case MSR_STAR:
        l->star = value; /* every bit is writable */
        break;
    case MSR_LSTAR:
    case MSR_CSTAR:
        if (!canonical48(value))
            return -1;
        *(msr == MSR_LSTAR ? &l->lstar : &l->cstar) = value;
        break;
    case MSR_SFMASK:
    case MSR_TSC_AUX:
        if (msr == MSR_TSC_AUX && !has_rdtscp())
            return 0; /* not offered: the MSR policy answers */
        if (value >> 32)
            return -1; /* bits 63:32 are reserved */
        *(msr == MSR_SFMASK ? &l->sfmask : &l->tsc_aux) = value;
        break;
    default:
        return 0;
    }
    x->wrmsr_regs_nonzero = !!(l->star | l->lstar | l->cstar | l->sfmask | l->tsc_aux);
    wrmsr_regs_update(&hw_wrmsr_regs[x86_cpu_index()], l); /* live now */
    return 1;
}

static inline __attribute__((always_inline)) bool switch_to(struct vcpu *v)
{
    unsigned cpu = x86_cpu_index();
    if (!vmx_on[cpu])
        return false; /* e.g. reporting a VM whose CPU could not enable VMX */
    if (vmx_loaded[cpu])
        lazy_save(vmx_of(vmx_loaded[cpu]));
    if (!vmptrld(vmx_of(v)->vmcs_phys))
        return false;
    lazy_load(cpu, vmx_of(v));
    vmx_loaded[cpu] = v;
    /* Branch predictions another VM trained must not steer this one: IBPB (Intel, "Speculative
     * Execution Side Channel Mitigations", indirect branch predictor barrier). */
    if (last_vm[cpu] != v->vm) {
        if (spec_entry_flags & SPEC_FLAG_IBPB)
            spec_ibpb();
        last_vm[cpu] = v->vm;
    }
    return true;
}

bool vmx_vcpu_load_other(struct vcpu *v)
{
    return switch_to(v);
}

void vmx_vcpu_switch_and_enter(struct vcpu *v, uint64_t deadline, struct vcpu_exit *exit)
{
    if (!switch_to(v)) {
        x86_exit_fault(exit, "VMPTRLD failed");
        return;
    }
    vmx_enter_loaded(v, deadline, exit);
}

/* After a run of VMWRITEs started with vmcs_first_failed_write = 0: names the first field that
 * failed (a bug in our field table), if any. */
static bool vmcs_writes_failed(char *why, size_t why_len)
{
    if (!vmcs_first_failed_write)
        return false;
    ksnprintf(why, why_len, "VMWRITE to field 0x%x failed", vmcs_first_failed_write);
    return true;
}

/* ---- creation ------------------------------------------------------------------------- */

void vmx_vcpu_destroy(struct vcpu *v);

static void msr_bitmap_allow(uint8_t *bitmap, uint32_t msr)
{
    /* Read bitmaps at 0 (low MSRs) and 0x400 (0xc0000000+), write bitmaps 0x800 later (SDM
     * 25.6.9). */
    unsigned base = msr >= 0xc0000000u ? 0x400 : 0;
    unsigned bit = msr & 0x1fff;
    bitmap[base + bit / 8] &= ~(1u << (bit % 8));
    bitmap[base + 0x800 + bit / 8] &= ~(1u << (bit % 8));
}

static void msr_bitmap_allow_read(uint8_t *bitmap, uint32_t msr)
{
    unsigned base = msr >= 0xc0000000u ? 0x400 : 0;
    unsigned bit = msr & 0x1fff;
    bitmap[base + bit / 8] &= ~(1u << (bit % 8));
}

/* The MSRs guests use directly: those the VMCS switches and those swapped lazily. */
void vmx_msr_map_init(uint8_t *msr)
{
    static const uint32_t direct_msrs[] = {
        MSR_IA32_FS_BASE, MSR_IA32_GS_BASE, MSR_IA32_EFER, MSR_IA32_PAT, /* VMCS-switched */
        MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
        MSR_KERNEL_GS_BASE, /* swapped by us */
    };
    for (unsigned i = 0; i < sizeof(direct_msrs) / sizeof(direct_msrs[0]); i++)
        msr_bitmap_allow(msr, direct_msrs[i]);
    /* swapped by us too, but their writes exit, so a switch need not read them */
    static const uint32_t read_msrs[] = { MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SFMASK };
    for (unsigned i = 0; i < sizeof(read_msrs) / sizeof(read_msrs[0]); i++)
        msr_bitmap_allow_read(msr, read_msrs[i]);
    if (vmx_caps.proc2 & PROC2_RDTSCP)
        msr_bitmap_allow_read(msr, MSR_TSC_AUX); /* RDTSCP reads it: the guest's own */
}

/* The host state a VM exit loads (SDM 28.5): this CPU's own tables from x86/desc.h. */
static void host_state_write(void)
{
    unsigned cpu = x86_cpu_index();
    extern char vmx_exit_landing[], vmx_exit_landing_rsb_full[], vmx_exit_landing_rsb_lite[];
    /* the RSB refill is chosen here, once, so the exit path has no branch before it */
    const char *landing = (spec_entry_flags & SPEC_FLAG_RSB_FULL)   ? vmx_exit_landing_rsb_full
                          : (spec_entry_flags & SPEC_FLAG_RSB_LITE) ? vmx_exit_landing_rsb_lite
                                                                    : vmx_exit_landing;

    vmcs_writenat(VMCS_HOST_CR0, read_cr0());
    vmcs_writenat(VMCS_HOST_CR3, read_cr3());
    vmcs_writenat(VMCS_HOST_CR4, read_cr4());
    vmcs_write16(VMCS_HOST_CS_SEL, GDT_SEL_KERNEL_CODE);
    vmcs_write16(VMCS_HOST_SS_SEL, GDT_SEL_KERNEL_DATA);
    vmcs_write16(VMCS_HOST_DS_SEL, GDT_SEL_KERNEL_DATA);
    vmcs_write16(VMCS_HOST_ES_SEL, GDT_SEL_KERNEL_DATA);
    vmcs_write16(VMCS_HOST_FS_SEL, 0);
    vmcs_write16(VMCS_HOST_GS_SEL, 0);
    vmcs_write16(VMCS_HOST_TR_SEL, GDT_SEL_TSS); /* must be non-zero (SDM 26.2.3) */
    vmcs_writenat(VMCS_HOST_FS_BASE, 0);
    vmcs_writenat(VMCS_HOST_GS_BASE, rdmsr(MSR_IA32_GS_BASE)); /* this CPU's per-CPU block */
    vmcs_writenat(VMCS_HOST_TR_BASE, x86_tss_base(cpu));
    vmcs_writenat(VMCS_HOST_GDTR_BASE, x86_gdt_base(cpu));
    vmcs_writenat(VMCS_HOST_IDTR_BASE, x86_idt_base());
    vmcs_write32(VMCS_HOST_SYSENTER_CS, 0);
    vmcs_writenat(VMCS_HOST_SYSENTER_ESP, 0);
    vmcs_writenat(VMCS_HOST_SYSENTER_EIP, 0);
    vmcs_write64(VMCS_HOST_EFER, rdmsr(MSR_IA32_EFER));
    vmcs_write64(VMCS_HOST_PAT, rdmsr(MSR_IA32_PAT));
    vmcs_writenat(VMCS_HOST_RIP, (uint64_t)(uintptr_t)landing);
}

/* Bits of CR0/CR4 the guest may not own: the VMX fixed bits (SDM A.7, A.8). With unrestricted
 * guest, CR0.PE and CR0.PG are the guest's own (SDM 26.3.1.1). */
uint64_t vmx_cr0_fixed0(void)
{
    return vmx_caps.cr0_fixed0 & ~(CR0_PE | CR0_PG);
}

/* CD and NW too: VM entries and exits leave them as they are (SDM 26.3.2.1, 28.5.1), so a guest
 * that set them in the real CR0 would slow the host and every other guest on this CPU. The guest
 * sees its own values in the shadow; the CPU keeps caching on (EPT makes RAM write-back). */
static uint64_t cr0_host_owned(void)
{
    return vmx_cr0_fixed0() | ~vmx_caps.cr0_fixed1 | CR0_CD | CR0_NW;
}

/* A change the CPU would have flushed the TLB for happened by emulation: flush this vCPU's
 * linear translations ourselves (SDM 29.4.3.3). */
void vmx_flush_guest_tlb(struct vcpu *v)
{
    if (!(vmx_caps.proc2 & PROC2_VPID))
        return; /* without VPID every VM entry and exit flushes */
    /* single-context INVVPID when offered (IA32_VMX_EPT_VPID_CAP bit 41), else all contexts */
    uint64_t type = (vmx_caps.ept_vpid & (1ull << 41)) ? 1 : 2;
    struct {
        uint64_t vpid, addr;
    } desc = { vmx_of(v)->vm->tag, 0 };
    __asm__ volatile("invvpid %0, %1" : : "m"(desc), "r"(type) : "cc", "memory");
}

/* Owned bits exit when the guest changes them (SDM 25.6.6): the fixed bits, and every bit the
 * guest may not have (cr4_guest_allowed refuses those), so none reaches the real register. */
static uint64_t cr4_host_owned(void)
{
    return vmx_caps.cr4_fixed0 | ~vmx_caps.cr4_fixed1 | ~X86_CR4_GUEST_ALLOWED;
}

static void controls_write(struct vcpu *v)
{
    struct vmx_vcpu *x = vmx_of(v);
    struct vmx_caps *c = &vmx_caps;
    vmcs_write32(VMCS_PIN_CONTROLS, c->pin);
    vmcs_write32(VMCS_PROC_CONTROLS, c->proc);
    x->window_exiting = false;
    vmcs_write32(VMCS_PROC_CONTROLS2, c->proc2);
    vmcs_write32(VMCS_EXIT_CONTROLS, c->exit);
    vmcs_write32(VMCS_ENTRY_CONTROLS, c->entry);
    vmcs_write32(VMCS_EXCEPTION_BITMAP, X86_WATCHED_EXCEPTIONS);
    vmcs_write32(VMCS_PF_ERROR_MASK, 0);
    vmcs_write32(VMCS_PF_ERROR_MATCH, 0);
    vmcs_write32(VMCS_CR3_TARGET_COUNT, 0);
    vmcs_write32(VMCS_EXIT_MSR_STORE_COUNT, 0);
    vmcs_write32(VMCS_EXIT_MSR_LOAD_COUNT, 0);
    vmcs_write32(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
    vmcs_write32(VMCS_ENTRY_INTR_INFO, 0);
    vmcs_write64(VMCS_IO_BITMAP_A, x->vm->io_map_phys);
    vmcs_write64(VMCS_IO_BITMAP_B, x->vm->io_map_phys + PAGE_SIZE);
    vmcs_write64(VMCS_MSR_BITMAP, x->vm->msr_map_phys);
    vmcs_write64(VMCS_EPT_POINTER, slat_ept_pointer(&x->vm->slat));
    if (c->proc2 & PROC2_VPID)
        vmcs_write16(VMCS_VPID, x->vm->tag); /* non-zero: 0 is the host's */
    vmcs_write64(VMCS_TSC_OFFSET, 0);
    vmcs_writenat(VMCS_CR0_MASK, cr0_host_owned());
    vmcs_writenat(VMCS_CR4_MASK, cr4_host_owned());
    vmcs_write64(VMCS_LINK_POINTER, ~0ull); /* no shadow VMCS (SDM 26.3.1.5) */
}

int vmx_vcpu_create(struct vcpu *v, struct x86_vm *vm, char *why, size_t why_len)
{
    uint64_t backend_phys;
    if (sizeof(struct vmx_vcpu) > PAGE_SIZE || page_alloc_zeroed(&backend_phys)) {
        ksnprintf(why, why_len, "no memory for the vCPU");
        return -ENOMEM;
    }
    struct vmx_vcpu *x = phys_to_virt(backend_phys);
    v->backend = x;
    x->vcpu = v;
    x->vm = vm;
    x86_guest_cpuid_init(&x->cpuid, &(struct vcpu_guest_cpu){ 0 }, cpuid_max_leaf());
    if (page_alloc_zeroed(&x->vmcs_phys)) {
        ksnprintf(why, why_len, "no memory for the VMCS");
        vmx_vcpu_destroy(v);
        return -ENOMEM;
    }
    /* A fresh VMCS: revision id, VMCLEAR (launch state "clear"), then load and fill it. */
    *(uint32_t *)phys_to_virt(x->vmcs_phys) = vmx_caps.revision;
    vmclear(x->vmcs_phys);
    if (!vmx_vcpu_load(v)) {
        ksnprintf(why, why_len, "VMPTRLD of the new VMCS failed");
        vmx_vcpu_destroy(v);
        return -EIO;
    }
    vmcs_first_failed_write = 0;
    host_state_write();
    controls_write(v);
    if (vmcs_writes_failed(why, why_len)) {
        vmx_vcpu_destroy(v);
        return -EIO;
    }
    return 0;
}

/* ---- start states --------------------------------------------------------------------- */

static void segment_write(unsigned index, uint16_t sel, uint64_t base, uint32_t limit, uint32_t ar)
{
    /* ES, CS, SS, DS, FS, GS, LDTR, TR: consecutive encodings, 2 apart (SDM appendix B). */
    vmcs_write16((enum vmcs_field)(VMCS_GUEST_ES_SEL + 2 * index), sel);
    vmcs_writenat((enum vmcs_field)(VMCS_GUEST_ES_BASE + 2 * index), base);
    vmcs_write32((enum vmcs_field)(VMCS_GUEST_ES_LIMIT + 2 * index), limit);
    vmcs_write32((enum vmcs_field)(VMCS_GUEST_ES_AR + 2 * index), ar);
}

enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR, SEG_TR };

int vmx_vcpu_reset(struct vcpu *v, const struct guest_boot_state *s, char *why, size_t why_len)
{
    struct vmx_vcpu *x = vmx_of(v);
    if (!vmx_vcpu_load(v)) {
        ksnprintf(why, why_len, "VMPTRLD failed");
        return -EIO;
    }
    memset(&x->regs, 0, sizeof(x->regs));
    x->tpr = 0;
    x86_lazy_reset(&x->lazy);
    x->wrmsr_regs_nonzero = false;
    x->dr_exiting = mov_dr_exiting_available(); /* else DR0-DR3 are switched every time */
    vmcs_write32(VMCS_PROC_CONTROLS, vmx_proc_controls(x));
    lazy_load(x86_cpu_index(), x); /* the vCPU is loaded here: its registers are live */
    x86_storm_reset(&x->storm);
    x->regs.rax = s->rax;
    x->regs.rbx = s->rbx;
    x->regs.rcx = s->rcx;
    x->regs.rdx = s->rdx;
    x->regs.rsi = s->rsi;
    x->regs.rdi = s->rdi;

    uint64_t cr4_fixed = vmx_caps.cr4_fixed0;
    uint64_t cr0, cr0_shadow, cr4 = cr4_fixed, cr4_shadow = 0, efer = 0;
    uint32_t entry = vmx_caps.entry & ~ENTRY_IA32E_GUEST;
    uint32_t code_ar, data_ar, seg_limit;
    switch (s->mode) {
    case GUEST_MODE_REAL16:
        cr0 = CR0_ET | vmx_cr0_fixed0();
        cr0_shadow = CR0_ET | CR0_CD | CR0_NW; /* 0x60000010, the CPU's state after reset */
        code_ar = AR_CODE_REAL;
        data_ar = AR_DATA_REAL;
        seg_limit = 0xffff;
        break;
    case GUEST_MODE_PROT32:
        cr0 = CR0_PE | CR0_ET | vmx_cr0_fixed0();
        cr0_shadow = cr0;
        code_ar = AR_CODE_32;
        data_ar = AR_DATA_32;
        seg_limit = 0xffffffff;
        break;
    case GUEST_MODE_LONG64:
        cr0 = CR0_PE | CR0_PG | CR0_ET | vmx_cr0_fixed0();
        cr0_shadow = cr0;
        cr4 |= CR4_PAE;
        cr4_shadow = CR4_PAE;
        efer = EFER_LME | EFER_LMA;
        entry |= ENTRY_IA32E_GUEST;
        code_ar = AR_CODE_64;
        data_ar = AR_DATA_32;
        seg_limit = 0xffffffff;
        break;
    default:
        ksnprintf(why, why_len, "unknown start mode %u", s->mode);
        return -EINVAL;
    }
    vmcs_first_failed_write = 0;
    vmcs_write32(VMCS_ENTRY_CONTROLS, entry);
    vmcs_writenat(VMCS_GUEST_CR0, cr0);
    vmcs_writenat(VMCS_CR0_SHADOW, cr0_shadow);
    vmcs_writenat(VMCS_GUEST_CR3, s->cr3);
    vmcs_writenat(VMCS_GUEST_CR4, cr4);
    vmcs_writenat(VMCS_CR4_SHADOW, cr4_shadow);
    vmcs_write64(VMCS_GUEST_EFER, efer);
    vmcs_write64(VMCS_GUEST_PAT, PAT_POWER_ON);
    vmcs_write64(VMCS_GUEST_DEBUGCTL, 0);
    vmcs_writenat(VMCS_GUEST_DR7, 0x400);

    /* Real mode: segment bases are selector * 16, the GDT is unused and the IDT is the
     * interrupt vector table at 0. Otherwise flat segments from the loader's GDT, and no IDT
     * until the guest installs its own. */
    bool real = s->mode == GUEST_MODE_REAL16;
    uint16_t cs = s->cs_selector, ds = s->ds_selector;
    segment_write(SEG_CS, cs, real ? (uint64_t)cs << 4 : 0, seg_limit, code_ar);
    for (unsigned seg = SEG_ES; seg <= SEG_GS; seg++)
        if (seg != SEG_CS)
            segment_write(seg, ds, real ? (uint64_t)ds << 4 : 0, seg_limit, data_ar);
    vmcs_writenat(VMCS_GUEST_GDTR_BASE, real ? 0 : s->gdt_base);
    vmcs_write32(VMCS_GUEST_GDTR_LIMIT, real ? 0xffff : s->gdt_limit);
    vmcs_writenat(VMCS_GUEST_IDTR_BASE, 0);
    vmcs_write32(VMCS_GUEST_IDTR_LIMIT, real ? 0x3ff : 0);
    segment_write(SEG_LDTR, 0, 0, 0, AR_UNUSABLE);
    /* TR must be a busy TSS even when the guest never uses it (SDM 26.3.1.2). */
    segment_write(SEG_TR, 0, 0, 0xffff, AR_TSS_BUSY_32);

    vmcs_writenat(VMCS_GUEST_RSP, s->rsp);
    vmcs_writenat(VMCS_GUEST_RIP, s->rip);
    vmcs_writenat(VMCS_GUEST_RFLAGS, RFLAGS_RESERVED1);
    vmcs_write32(VMCS_GUEST_INTERRUPTIBILITY, 0);
    vmcs_write32(VMCS_GUEST_ACTIVITY_STATE, 0);
    vmcs_writenat(VMCS_GUEST_PENDING_DEBUG, 0);
    vmcs_write32(VMCS_GUEST_SYSENTER_CS, 0);
    vmcs_writenat(VMCS_GUEST_SYSENTER_ESP, 0);
    vmcs_writenat(VMCS_GUEST_SYSENTER_EIP, 0);
    vmcs_write32(VMCS_ENTRY_INTR_INFO, 0);
    if (vmcs_writes_failed(why, why_len))
        return -EIO;
    /* A restarted VM must not see stale translations of its previous life. */
    vmx_flush_guest_tlb(v);
    return 0;
}

/* ---- moving between CPUs, test hook, teardown ----------------------------------------- */

/* Moving a VMCS to another CPU: VMCLEAR where it was loaded, VMPTRLD and fresh host state on
 * the new one (SDM Vol. 3C 25.11.1). */
void vmx_vcpu_unload(struct vcpu *v)
{
    struct vmx_vcpu *x = vmx_of(v);
    if (loaded_vcpu == v) {
        lazy_save(x);
        loaded_vcpu = NULL;
    }
    vmclear(x->vmcs_phys);
    x->launched = false;
}

int vmx_vcpu_adopt(struct vcpu *v, char *why, size_t why_len)
{
    x86_guest_cpuid_forget(&vmx_of(v)->cpuid); /* this CPU's own answers differ */
    if (!vmx_vcpu_load(v)) {
        ksnprintf(why, why_len, "VMPTRLD on CPU %u failed", x86_cpu_index());
        return -EIO;
    }
    vmcs_first_failed_write = 0;
    host_state_write();
    if (vmcs_writes_failed(why, why_len))
        return -EIO;
    return 0;
}

void vmx_vcpu_test_corrupt_state(struct vcpu *v)
{
    if (!vmx_vcpu_load(v))
        return;
    /* RFLAGS bit 1 must be 1 on VM entry (SDM 26.3.1.4): clearing it fails the entry. */
    vmcs_writenat(VMCS_GUEST_RFLAGS, vmcs_readnat(VMCS_GUEST_RFLAGS) & ~RFLAGS_RESERVED1);
}

void vmx_vcpu_destroy(struct vcpu *v)
{
    struct vmx_vcpu *x = vmx_of(v);
    if (!x)
        return;
    if (loaded_vcpu == v)
        loaded_vcpu = NULL;
    if (x->vmcs_phys) {
        vmclear(x->vmcs_phys);
        phys_free(x->vmcs_phys, PAGE_SIZE);
    }
    phys_free(virt_to_phys(x), PAGE_SIZE);
    v->backend = NULL; /* the VM's arch object is virt.c's */
}
