/* VMX vCPUs: VMCS set-up, guest start states, and the exits the backend handles itself
 * (CPUID, control registers, MSRs, exceptions). Everything a generic layer must decide (I/O,
 * hypercalls, HLT, time slices, faults) goes back to kernel/ as a struct vcpu_exit. */
#include <tessera/arch.h>
#include <tessera/errno.h>
#include <tessera/guest_mem.h>
#include <tessera/hypercall_abi.h>
#include <tessera/mm.h>
#include <tessera/printf.h>
#include <tessera/string.h>
#include <x86/cpu.h>
#include <x86/desc.h>
#include <x86/lapic.h>
#include <x86/percpu.h>
#include <x86/spec.h>

#include "vmcs.h"
#include "vmx.h"

#define MSR_IA32_TSC 0x10
#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_IA32_MTRRCAP 0xfe
#define MSR_IA32_MTRR_DEF_TYPE 0x2ff
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SFMASK 0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_TSC_AUX 0xc0000103

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
#define EXIT_REASON_IO 30
#define EXIT_REASON_RDMSR 31
#define EXIT_REASON_WRMSR 32
#define EXIT_REASON_MWAIT 36
#define EXIT_REASON_MONITOR 39
#define EXIT_REASON_EPT_VIOLATION 48
#define EXIT_REASON_PREEMPTION_TIMER 52
#define EXIT_REASON_WBINVD 54
#define EXIT_REASON_ENTRY_FAILURE (1u << 31)

#define INTR_INFO_VALID (1u << 31)
#define INTR_INFO_ERROR_CODE (1u << 11)
#define INTR_TYPE_EXTERNAL (0u << 8)
#define INTR_TYPE_NMI (2u << 8)
#define INTR_TYPE_HW_EXCEPTION (3u << 8)
#define INTR_TYPE_PRIV_SW_EXCEPTION (5u << 8) /* ICEBP (INT1) */
#define INTR_TYPE_MASK (7u << 8)

#define VECTOR_DE 0
#define VECTOR_DB 1
#define VECTOR_UD 6
#define VECTOR_DF 8
#define VECTOR_TS 10
#define VECTOR_NP 11
#define VECTOR_SS 12
#define VECTOR_GP 13
#define VECTOR_PF 14
#define VECTOR_AC 17

/* Guest exceptions we watch (to catch storms and double faults); all are re-injected. #DB and
 * #AC must be among them: a guest can otherwise make the CPU deliver them to itself forever
 * without reaching an instruction boundary (CVE-2015-5307, CVE-2015-8104). */
#define WATCHED_EXCEPTIONS                                                                        \
    ((1u << VECTOR_DE) | (1u << VECTOR_DB) | (1u << VECTOR_UD) | (1u << VECTOR_DF) | (1u << VECTOR_TS) |              \
     (1u << VECTOR_NP) | (1u << VECTOR_SS) | (1u << VECTOR_GP) | (1u << VECTOR_AC))
#define EXCEPTION_STORM_LIMIT 1000 /* identical guest exceptions in a row */

#define RFLAGS_RESERVED1 (1ull << 1)
#define RFLAGS_IF (1ull << 9)
#define RFLAGS_VM (1ull << 17) /* virtual-8086 mode */
#define PAT_POWER_ON 0x0007040600070406ull

#define CPUID1_ECX_MONITOR (1u << 3)
#define CPUID1_ECX_VMX (1u << 5)
#define CPUID1_ECX_SMX (1u << 6)
#define CPUID1_ECX_FMA (1u << 12)
#define CPUID1_ECX_X2APIC (1u << 21)
#define CPUID1_ECX_TSC_DEADLINE (1u << 24)
#define CPUID1_ECX_XSAVE (1u << 26)
#define CPUID1_ECX_OSXSAVE (1u << 27)
#define CPUID1_ECX_AVX (1u << 28)
#define CPUID1_ECX_F16C (1u << 29)
#define CPUID1_ECX_HYPERVISOR (1u << 31)
/* Leaf 6 (thermal and power management): only ARAT (EAX 2) is left. Every other bit names MSRs a
 * guest gets #GP for (thermal status and interrupt, HWP, ENERGY_PERF_BIAS, and APERF/MPERF in
 * ECX 0, which Linux 6.x reads on every timer tick: two MSR exits and two #GPs a tick). */
#define CPUID6_EAX_ARAT (1u << 2)
/* AVX2 and AVX-512 (leaf 7): they need XCR0 state we do not give guests. */
#define CPUID7_EBX_AVX_FAMILY ((1u << 5) | (1u << 16) | (1u << 17) | (1u << 21) | (1u << 26) |   \
                               (1u << 27) | (1u << 28) | (1u << 30) | (1u << 31))
/* Leaf 7 EDX features whose MSRs guests may not touch (they raise #GP): IBRS/IBPB (SPEC_CTRL,
 * PRED_CMD), STIBP, L1D_FLUSH, ARCH_CAPABILITIES, SSBD. */
#define CPUID7_EDX_HIDDEN_MSRS ((1u << 26) | (1u << 27) | (1u << 28) | (1u << 29) | (1u << 31))
#define CPUID7_ECX_AVX_FAMILY ((1u << 1) | (1u << 6) | (1u << 11) | (1u << 12) | (1u << 14))
#define CPUID7_ECX_PKU ((1u << 3) | (1u << 4)) /* PKU, OSPKE: PKRU is not switched */
/* Features whose CR4 bit a guest may not set (cr4_guest_allowed): CET shadow stacks (ECX 7),
 * Key Locker (ECX 23), PKS (ECX 31); UINTR (EDX 5), CET IBT (EDX 20); leaf 7.1 EAX: LASS (6),
 * FRED (17), LAM (26). */
#define CPUID7_ECX_NO_CR4_BIT ((1u << 7) | (1u << 23) | (1u << 31))
#define CPUID7_EDX_NO_CR4_BIT ((1u << 5) | (1u << 20))
#define CPUID7_1_EAX_NO_CR4_BIT ((1u << 6) | (1u << 17) | (1u << 26))

/* Segment access rights in the VMCS format (SDM 25.4.1, table 25-2). */
#define AR_UNUSABLE (1u << 16)
#define AR_CODE_REAL 0x009b
#define AR_DATA_REAL 0x0093
#define AR_CODE_32 0xc09b
#define AR_DATA_32 0xc093
#define AR_CODE_64 0xa09b
#define AR_TSS_BUSY_32 0x008b /* also the 64-bit busy TSS type */


/* Whose VMCS and MSRs are on each CPU now. */
static struct vcpu *loaded[X86_MAX_CPUS];
#define loaded_vcpu (loaded[x86_cpu_index()])
/* The VM whose vCPU each CPU loaded last (kept across unloads): an IBPB when it changes. */
static const struct vm *last_vm[X86_MAX_CPUS];

static inline struct vmx_vcpu *vmx_of(struct vcpu *v) { return v->backend; }

static void fault(struct vcpu_exit *exit, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fault(struct vcpu_exit *exit, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(exit->reason, sizeof(exit->reason), fmt, ap);
    va_end(ap);
    exit->kind = VCPU_EXIT_FAULT;
}

/* ---- VMCS loading and MSR switching --------------------------------------------------- */

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

/* Registers the VMCS does not switch and guests use directly: MSRs, CR2, the debug address and
 * status registers, the x87/SSE state. The host never touches them, so they stay in the CPU
 * across exits and are swapped only when another vCPU takes the CPU: no guest ever sees another's
 * values. (DR7 and DEBUGCTL are loaded and saved through the VMCS, the debug-controls entry and
 * exit controls; XCR0 is pinned to x87|SSE, so FXSAVE covers all extended state.) */
static void lazy_save(struct vmx_lazy_state *l)
{
    struct vmx_msrs *m = &l->msrs;
    m->star = rdmsr(MSR_STAR);
    m->lstar = rdmsr(MSR_LSTAR);
    m->cstar = rdmsr(MSR_CSTAR);
    m->sfmask = rdmsr(MSR_SFMASK);
    m->kernel_gs_base = rdmsr(MSR_KERNEL_GS_BASE);
    if (vmx_caps.proc2 & PROC2_RDTSCP)
        m->tsc_aux = rdmsr(MSR_TSC_AUX);
    l->cr2 = read_cr2();
    __asm__ volatile("mov %%dr0, %0" : "=r"(l->dr[0]));
    __asm__ volatile("mov %%dr1, %0" : "=r"(l->dr[1]));
    __asm__ volatile("mov %%dr2, %0" : "=r"(l->dr[2]));
    __asm__ volatile("mov %%dr3, %0" : "=r"(l->dr[3]));
    __asm__ volatile("mov %%dr6, %0" : "=r"(l->dr6));
    __asm__ volatile("fxsave64 %0" : "=m"(l->fxsave));
}

static void lazy_load(const struct vmx_lazy_state *l)
{
    const struct vmx_msrs *m = &l->msrs;
    wrmsr(MSR_STAR, m->star);
    wrmsr(MSR_LSTAR, m->lstar);
    wrmsr(MSR_CSTAR, m->cstar);
    wrmsr(MSR_SFMASK, m->sfmask);
    wrmsr(MSR_KERNEL_GS_BASE, m->kernel_gs_base);
    if (vmx_caps.proc2 & PROC2_RDTSCP)
        wrmsr(MSR_TSC_AUX, m->tsc_aux);
    write_cr2(l->cr2);
    __asm__ volatile("mov %0, %%dr0" : : "r"(l->dr[0]));
    __asm__ volatile("mov %0, %%dr1" : : "r"(l->dr[1]));
    __asm__ volatile("mov %0, %%dr2" : : "r"(l->dr[2]));
    __asm__ volatile("mov %0, %%dr3" : : "r"(l->dr[3]));
    __asm__ volatile("mov %0, %%dr6" : : "r"(l->dr6));
    __asm__ volatile("fxrstor64 %0" : : "m"(l->fxsave));
}

/* The state of these registers after RESET/INIT (SDM Vol. 3A 9.1.1, table 9-1). */
static void lazy_reset(struct vmx_lazy_state *l)
{
    memset(l, 0, sizeof(*l));
    l->dr6 = 0xffff0ff0;
    uint16_t fcw = 0x037f;
    uint32_t mxcsr = 0x1f80;
    memcpy(&l->fxsave[0], &fcw, sizeof(fcw)); /* FCW: all exceptions masked, 64-bit precision */
    memcpy(&l->fxsave[24], &mxcsr, sizeof(mxcsr));
}

static bool vcpu_load(struct vcpu *v)
{
    if (loaded_vcpu == v)
        return true;
    if (!vmx_on[x86_cpu_index()])
        return false; /* e.g. reporting a VM whose CPU could not enable VMX */
    if (loaded_vcpu)
        lazy_save(&vmx_of(loaded_vcpu)->lazy);
    if (!vmptrld(vmx_of(v)->vmcs_phys))
        return false;
    lazy_load(&vmx_of(v)->lazy);
    loaded_vcpu = v;
    /* Branch predictions another VM trained must not steer this one: IBPB (Intel, "Speculative
     * Execution Side Channel Mitigations", indirect branch predictor barrier). */
    if (last_vm[x86_cpu_index()] != v->vm) {
        if (spec_entry_flags & SPEC_FLAG_IBPB)
            spec_ibpb();
        last_vm[x86_cpu_index()] = v->vm;
    }
    return true;
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

static int ept_page_alloc(void *ctx, uint64_t *phys)
{
    (void)ctx;
    return page_alloc_zeroed(phys);
}

static void *ept_p2v(void *ctx, uint64_t phys)
{
    (void)ctx;
    return phys_to_virt(phys);
}

static void ept_free_table(void *ctx, uint64_t phys)
{
    (void)ctx;
    phys_free(phys, PAGE_SIZE);
}

static void msr_bitmap_allow(uint8_t *bitmap, uint32_t msr)
{
    /* Read bitmaps at 0 (low MSRs) and 0x400 (0xc0000000+), write bitmaps 0x800 later. */
    unsigned base = msr >= 0xc0000000u ? 0x400 : 0;
    unsigned bit = msr & 0x1fff;
    bitmap[base + bit / 8] &= ~(1u << (bit % 8));
    bitmap[base + 0x800 + bit / 8] &= ~(1u << (bit % 8));
}

static void io_bitmap_allow(uint8_t *bitmaps, uint16_t first, uint16_t last)
{
    for (uint32_t port = first; port <= last; port++)
        bitmaps[port / 8] &= ~(1u << (port % 8)); /* A and B are adjacent pages */
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
static uint64_t cr0_fixed0(void)
{
    return vmx_caps.cr0_fixed0 & ~(CR0_PE | CR0_PG);
}

/* CD and NW too: VM entries and exits leave them as they are (SDM 26.3.2.1, 28.5.1), so a guest
 * that set them in the real CR0 would slow the host and every other guest on this CPU. The guest
 * sees its own values in the shadow; the CPU keeps caching on (EPT makes RAM write-back). */
static uint64_t cr0_host_owned(void)
{
    return cr0_fixed0() | ~vmx_caps.cr0_fixed1 | CR0_CD | CR0_NW;
}

/* A change the CPU would have flushed the TLB for happened by emulation: flush this vCPU's
 * linear translations ourselves (SDM 29.4.3.3). */
static void flush_guest_tlb(struct vcpu *v)
{
    if (!(vmx_caps.proc2 & PROC2_VPID))
        return; /* without VPID every VM entry and exit flushes */
    /* single-context INVVPID when offered (IA32_VMX_EPT_VPID_CAP bit 41), else all contexts */
    uint64_t type = (vmx_caps.ept_vpid & (1ull << 41)) ? 1 : 2;
    struct {
        uint64_t vpid, addr;
    } desc = { v->id, 0 };
    __asm__ volatile("invvpid %0, %1" : : "m"(desc), "r"(type) : "cc", "memory");
}

/* CR4 bits a guest may own: an allow-list of what we can give it safely, within what VMX allows.
 * Everything else a CPU without the feature refuses with #GP (SDM 2.5), and CPUID hides it:
 * VMXE (no nested VMX), SMXE (GETSEC would exit), OSXSAVE (XSETBV would exit; XCR0 stays the
 * host's x87|SSE), PKE and PKS (PKRU and IA32_PKRS are not switched), CET (its MSRs are not
 * switched), and any feature newer than this list (UINTR, LAM, LASS, FRED, ...): a new CR4 bit
 * stays refused until its state is switched between guests. */
#define CR4_GUEST_ALLOWED                                                                          \
    (CR4_VME | CR4_PVI | CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_MCE | CR4_PGE | CR4_PCE |     \
     CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_UMIP | CR4_LA57 | CR4_FSGSBASE | CR4_PCIDE | CR4_SMEP |    \
     CR4_SMAP)
/* Owned bits exit when the guest changes them (SDM 25.6.6): the fixed bits, and every bit the
 * guest may not have (cr4_guest_allowed refuses those), so none reaches the real register. */
static uint64_t cr4_host_owned(void)
{
    return vmx_caps.cr4_fixed0 | ~vmx_caps.cr4_fixed1 | ~CR4_GUEST_ALLOWED;
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
    vmcs_write32(VMCS_EXCEPTION_BITMAP, WATCHED_EXCEPTIONS);
    vmcs_write32(VMCS_PF_ERROR_MASK, 0);
    vmcs_write32(VMCS_PF_ERROR_MATCH, 0);
    vmcs_write32(VMCS_CR3_TARGET_COUNT, 0);
    vmcs_write32(VMCS_EXIT_MSR_STORE_COUNT, 0);
    vmcs_write32(VMCS_EXIT_MSR_LOAD_COUNT, 0);
    vmcs_write32(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
    vmcs_write32(VMCS_ENTRY_INTR_INFO, 0);
    vmcs_write64(VMCS_IO_BITMAP_A, x->io_bitmap_phys);
    vmcs_write64(VMCS_IO_BITMAP_B, x->io_bitmap_phys + PAGE_SIZE);
    vmcs_write64(VMCS_MSR_BITMAP, x->msr_bitmap_phys);
    vmcs_write64(VMCS_EPT_POINTER, ept_pointer(&x->ept));
    if (c->proc2 & PROC2_VPID)
        vmcs_write16(VMCS_VPID, (uint16_t)v->id); /* non-zero: 0 is the host's */
    vmcs_write64(VMCS_TSC_OFFSET, 0);
    vmcs_writenat(VMCS_CR0_MASK, cr0_host_owned());
    vmcs_writenat(VMCS_CR4_MASK, cr4_host_owned());
    vmcs_write64(VMCS_LINK_POINTER, ~0ull); /* no shadow VMCS (SDM 26.3.1.5) */
}

int vmx_vcpu_create(struct vcpu *v, const struct vcpu_memory *mem,
                    const struct vcpu_port_range *ports, unsigned port_count, char *why,
                    size_t why_len)
{
    uint64_t backend_phys;
    if (sizeof(struct vmx_vcpu) > PAGE_SIZE || page_alloc_zeroed(&backend_phys)) {
        ksnprintf(why, why_len, "no memory for the vCPU");
        return -ENOMEM;
    }
    struct vmx_vcpu *x = phys_to_virt(backend_phys);
    v->backend = x;
    x->mem = *mem;
    int err = page_alloc_zeroed(&x->vmcs_phys);
    if (!err)
        err = phys_alloc_zeroed(2 * PAGE_SIZE, PAGE_SIZE, &x->io_bitmap_phys);
    if (!err)
        err = page_alloc_zeroed(&x->msr_bitmap_phys);
    if (!err)
        err = ept_init(&x->ept, ept_page_alloc, ept_p2v, NULL);
    if (!err) /* the VM's RAM and nothing else (SDM 29.3) */
        err = ept_map(&x->ept, 0, mem->host_base, mem->size, EPT_READ | EPT_WRITE | EPT_EXEC);
    if (err) {
        ksnprintf(why, why_len, "cannot set up VMX structures (error %d)", err);
        vmx_vcpu_destroy(v);
        return err;
    }

    uint8_t *io = phys_to_virt(x->io_bitmap_phys);
    memset(io, 0xff, 2 * PAGE_SIZE); /* every port exits unless the VM owns it */
    for (unsigned i = 0; i < port_count; i++)
        io_bitmap_allow(io, ports[i].first, ports[i].last);
    uint8_t *msr = phys_to_virt(x->msr_bitmap_phys);
    memset(msr, 0xff, PAGE_SIZE); /* every MSR exits unless listed here */
    static const uint32_t direct_msrs[] = {
        MSR_IA32_FS_BASE, MSR_IA32_GS_BASE, MSR_IA32_EFER, MSR_IA32_PAT, /* VMCS-switched */
        MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
        MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SFMASK, MSR_KERNEL_GS_BASE, /* swapped by us */
    };
    for (unsigned i = 0; i < sizeof(direct_msrs) / sizeof(direct_msrs[0]); i++)
        msr_bitmap_allow(msr, direct_msrs[i]);
    if (vmx_caps.proc2 & PROC2_RDTSCP)
        msr_bitmap_allow(msr, MSR_TSC_AUX); /* RDTSCP reads it: the guest's own, swapped */

    /* A fresh VMCS: revision id, VMCLEAR (launch state "clear"), then load and fill it. */
    *(uint32_t *)phys_to_virt(x->vmcs_phys) = vmx_caps.revision;
    vmclear(x->vmcs_phys);
    if (!vcpu_load(v)) {
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
    if (!vcpu_load(v)) {
        ksnprintf(why, why_len, "VMPTRLD failed");
        return -EIO;
    }
    memset(&x->regs, 0, sizeof(x->regs));
    x->tpr = 0;
    lazy_reset(&x->lazy);
    lazy_load(&x->lazy); /* the vCPU is loaded here: its registers are live */
    x->storm_count = 0;
    x->storm_vector = ~0u;
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
        cr0 = CR0_ET | cr0_fixed0();
        cr0_shadow = CR0_ET | CR0_CD | CR0_NW; /* 0x60000010, the CPU's state after reset */
        code_ar = AR_CODE_REAL;
        data_ar = AR_DATA_REAL;
        seg_limit = 0xffff;
        break;
    case GUEST_MODE_PROT32:
        cr0 = CR0_PE | CR0_ET | cr0_fixed0();
        cr0_shadow = cr0;
        code_ar = AR_CODE_32;
        data_ar = AR_DATA_32;
        seg_limit = 0xffffffff;
        break;
    case GUEST_MODE_LONG64:
        cr0 = CR0_PE | CR0_PG | CR0_ET | cr0_fixed0();
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
    flush_guest_tlb(v);
    return 0;
}

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

static uint64_t gpr_read(struct vmx_vcpu *x, unsigned n)
{
    uint64_t *p = gpr_slot(x, n);
    return p ? *p : vmcs_readnat(VMCS_GUEST_RSP);
}

static void gpr_write(struct vmx_vcpu *x, unsigned n, uint64_t value)
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
    case VCPU_REG_RSP: vcpu_load(v); return vmcs_readnat(VMCS_GUEST_RSP);
    case VCPU_REG_RIP: vcpu_load(v); return vmcs_readnat(VMCS_GUEST_RIP);
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
    case VCPU_REG_RSP: vcpu_load(v); vmcs_writenat(VMCS_GUEST_RSP, value); break;
    case VCPU_REG_RIP: vcpu_load(v); vmcs_writenat(VMCS_GUEST_RIP, value); break;
    }
}

/* 64-bit code: IA-32e mode (the CPU keeps the entry control equal to EFER.LMA on every exit,
 * SDM 28.2) and CS.L. Reads the loaded VMCS. */
static bool guest_64bit(void)
{
    return (vmcs_read32(VMCS_ENTRY_CONTROLS) & ENTRY_IA32E_GUEST) &&
           (vmcs_read32(VMCS_GUEST_CS_AR) & (1u << 13));
}

/* Operand width of the guest's current code: 16, 32 or 64. Reads the loaded VMCS. */
static unsigned guest_mode_bits(void)
{
    if (!(vmcs_readnat(VMCS_GUEST_CR0) & CR0_PE))
        return 16;
    if (guest_64bit())
        return 64;
    return (vmcs_read32(VMCS_GUEST_CS_AR) & (1u << 14)) ? 32 : 16;
}

static void skip_instruction(struct vmx_vcpu *x)
{
    vmcs_writenat(VMCS_GUEST_RIP, vmcs_readnat(VMCS_GUEST_RIP) + x->exit_instruction_len);
    /* Stepping past an instruction ends STI/MOV-SS blocking (SDM 25.4.2). */
    uint32_t intr = vmcs_read32(VMCS_GUEST_INTERRUPTIBILITY);
    if (intr & 3)
        vmcs_write32(VMCS_GUEST_INTERRUPTIBILITY, intr & ~3u);
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
    hc->width_mask = guest_64bit() ? ~0ull : 0xffffffffull;
    hc->nr = x->regs.rax & hc->width_mask;
    hc->arg1 = x->regs.rbx & hc->width_mask;
    hc->arg2 = x->regs.rcx & hc->width_mask;
    hc->arg3 = x->regs.rdx & hc->width_mask;
}

void vmx_vcpu_hypercall_return(struct vcpu *v, const struct vcpu_hypercall *hc, uint64_t ret)
{
    struct vmx_vcpu *x = vmx_of(v);
    x->regs.rax = ret & hc->width_mask;
    skip_instruction(x);
}

void vmx_vcpu_skip_instruction(struct vcpu *v)
{
    vcpu_load(v);
    skip_instruction(vmx_of(v));
}

void vmx_vcpu_complete_io(struct vcpu *v, uint32_t value)
{
    struct vmx_vcpu *x = vmx_of(v);
    vcpu_load(v);
    uint64_t q = x->exit_qualification;
    if (q & (1u << 3)) { /* IN: only the accessed part of RAX changes */
        unsigned size = (q & 7) + 1;
        if (size == 1)
            x->regs.rax = (x->regs.rax & ~0xffull) | (value & 0xff);
        else if (size == 2)
            x->regs.rax = (x->regs.rax & ~0xffffull) | (value & 0xffff);
        else
            x->regs.rax = value; /* a 32-bit write zero-extends in 64-bit mode */
    }
    skip_instruction(x);
}

/* ---- event injection ------------------------------------------------------------------ */

static bool exception_has_error_code(unsigned vector)
{
    return vector == VECTOR_DF || (vector >= VECTOR_TS && vector <= VECTOR_PF) ||
           vector == VECTOR_AC;
}

static void inject_event(unsigned vector, uint32_t type, uint32_t error_code)
{
    uint32_t info = INTR_INFO_VALID | type | vector;
    if (type == INTR_TYPE_PRIV_SW_EXCEPTION) /* ICEBP: delivered past the instruction */
        vmcs_write32(VMCS_ENTRY_INSTRUCTION_LEN, vmcs_read32(VMCS_EXIT_INSTRUCTION_LEN));
    /* Real mode delivers no error code; with unrestricted guest, asking for one is an invalid
     * entry (SDM 26.2.1.3). */
    if (exception_has_error_code(vector) && (vmcs_readnat(VMCS_GUEST_CR0) & CR0_PE)) {
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

static bool is_contributory(unsigned vector)
{
    return vector == VECTOR_DE || (vector >= VECTOR_TS && vector <= VECTOR_GP);
}

/* ---- exits handled here --------------------------------------------------------------- */

static void handle_cpuid(struct vmx_vcpu *x)
{
    uint32_t leaf = (uint32_t)x->regs.rax, sub = (uint32_t)x->regs.rcx;
    struct cpuid_regs r;
    if (leaf >= TESSERA_CPUID_BASE && leaf <= 0x400000ffu) {
        r.eax = r.ebx = r.ecx = r.edx = 0;
        if (leaf == TESSERA_CPUID_BASE) {
            r.eax = TESSERA_CPUID_MAX;
            r.ebx = TESSERA_CPUID_SIG_EBX;
            r.ecx = TESSERA_CPUID_SIG_ECX;
            r.edx = TESSERA_CPUID_SIG_EDX;
        } else if (leaf == TESSERA_CPUID_BASE + 1) {
            r.eax = TESSERA_ABI_VERSION;
        }
    } else {
        r = cpuid(leaf, sub);
        switch (leaf) { /* one jump, not a compare per filtered leaf */
        case 1:
            /* What a guest does not get: VMX, SMX, MONITOR/MWAIT (intercepted), XSAVE and the
             * AVX family (XSETBV is not emulated, so XCR0 stays x87-only), a local APIC
             * (none is virtualised yet: its page is not mapped), and machine-check
             * architecture (the MCG/MCi MSRs raise #GP: a guest that saw MCA would take that
             * as a broken CPU, as Linux does). */
            r.ecx &= ~(CPUID1_ECX_MONITOR | CPUID1_ECX_VMX | CPUID1_ECX_SMX | CPUID1_ECX_FMA |
                       CPUID1_ECX_X2APIC | CPUID1_ECX_TSC_DEADLINE | CPUID1_ECX_XSAVE |
                       CPUID1_ECX_OSXSAVE | CPUID1_ECX_AVX | CPUID1_ECX_F16C);
            r.ecx |= CPUID1_ECX_HYPERVISOR;
            r.edx &= ~(CPUID1_EDX_APIC | CPUID1_EDX_MCE | CPUID1_EDX_MCA);
            break;
        case 6:
            r.eax &= CPUID6_EAX_ARAT;
            r.ebx = r.ecx = r.edx = 0;
            break;
        case 7:
            if (sub == 0) {
                r.ebx &= ~CPUID7_EBX_AVX_FAMILY;
                r.ecx &= ~(CPUID7_ECX_AVX_FAMILY | CPUID7_ECX_PKU | CPUID7_ECX_NO_CR4_BIT);
                r.edx &= ~(CPUID7_EDX_HIDDEN_MSRS | CPUID7_EDX_NO_CR4_BIT);
            } else if (sub == 1) {
                r.eax &= ~CPUID7_1_EAX_NO_CR4_BIT;
            }
            break;
        case 0xa:
        case 0xd:
            /* no architectural performance monitoring (RDPMC and its MSRs are refused), no
             * XSAVE state components */
            r.eax = r.ebx = r.ecx = r.edx = 0;
            break;
        default:
            break;
        }
    }
    x->regs.rax = r.eax;
    x->regs.rbx = r.ebx;
    x->regs.rcx = r.ecx;
    x->regs.rdx = r.edx;
    skip_instruction(x);
}

/* PAE paging without long mode: the CPU takes PDPTEs from the VMCS, so a CR0/CR3/CR4 write we
 * emulate must load them the way the instruction would (SDM 26.3.2.4, 4.4.1): the 32 bytes at
 * CR3[31:5]. They come from the VM's RAM only. Outside it, the load the CPU makes itself (through
 * EPT, SDM Vol. 3C "Changes to Instruction Behavior in VMX Non-Root Operation", MOV to CR0) would
 * be an EPT violation ("EPT-Induced VM Exits", 28.3.3 in the 2022 edition), which stops the VM:
 * so -EFAULT here, and the caller stops it the same way. */
static int load_pdptes(struct vcpu *v, uint64_t cr3)
{
    const uint64_t *table = guest_mem_range(&vmx_of(v)->mem, cr3 & 0xffffffe0ull, 4 * 8);
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
        fault(exit, "PAE page-directory pointers outside guest RAM (CR3=0x%llx)",
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
    inject_exception(VECTOR_GP, 0);
    return true;
}

/* MOV to CR0 whose host-owned bits differ from the shadow (SDM 25.3): keep the fixed bits set
 * in the real register, show the guest its own value, and do what the CPU would do on a
 * paging change: EFER.LMA and the IA-32e entry control, PDPTEs for PAE. */
static bool emulate_cr0_write(struct vcpu *v, uint64_t value, struct vcpu_exit *exit)
{
    if ((value >> 32) || ((value & CR0_PG) && !(value & CR0_PE)) ||
        ((value & CR0_NW) && !(value & CR0_CD))) {
        inject_exception(VECTOR_GP, 0); /* reserved bits or an invalid combination */
        return true;
    }
    uint64_t old = vmcs_readnat(VMCS_GUEST_CR0);
    uint64_t real = ((value & ~(CR0_CD | CR0_NW)) | cr0_fixed0()) & vmx_caps.cr0_fixed1;
    uint64_t efer = vmcs_read64(VMCS_GUEST_EFER);
    uint64_t cr4 = vmcs_readnat(VMCS_GUEST_CR4);
    uint32_t entry = vmcs_read32(VMCS_ENTRY_CONTROLS);
    bool paging_changed = (value & CR0_PG) != (old & CR0_PG);
    if (paging_changed && !(value & CR0_PG) &&
        ((cr4 & CR4_PCIDE) || guest_64bit())) {
        inject_exception(VECTOR_GP, 0); /* paging off from 64-bit code or with PCIDE (SDM MOV CR) */
        return true;
    }
    if (paging_changed && (efer & EFER_LME)) {
        if (value & CR0_PG) {
            if (!(cr4 & CR4_PAE)) {
                inject_exception(VECTOR_GP, 0);
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
        flush_guest_tlb(v);
    return true;
}

static uint64_t cr4_guest_allowed(void)
{
    return vmx_caps.cr4_fixed1 & CR4_GUEST_ALLOWED;
}

static bool emulate_cr4_write(struct vcpu *v, uint64_t value, struct vcpu_exit *exit)
{
    if (value & ~cr4_guest_allowed()) {
        inject_exception(VECTOR_GP, 0); /* reserved for this guest */
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
        flush_guest_tlb(v);
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
    flush_guest_tlb(v);
    return true;
}

static bool handle_cr_access(struct vcpu *v, struct vcpu_exit *exit)
{
    struct vmx_vcpu *x = vmx_of(v);
    uint64_t q = x->exit_qualification;
    unsigned cr = q & 15, type = (q >> 4) & 3, reg = (q >> 8) & 15;
    bool ok = true;
    if (type == 0) { /* MOV to CR */
        uint64_t value = gpr_read(x, reg);
        if (!guest_64bit())
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
                inject_exception(VECTOR_GP, 0);
            else
                x->tpr = (uint8_t)value;
        } else {
            fault(exit, "unexpected MOV to CR%u", cr);
            return false;
        }
    } else if (type == 1 && cr == 3) { /* MOV from CR3 (only when the CPU forces CR3 exits) */
        gpr_write(x, reg, vmcs_readnat(VMCS_GUEST_CR3));
    } else if (type == 1 && cr == 8) {
        gpr_write(x, reg, x->tpr);
    } else {
        fault(exit, "unexpected control-register access (qualification 0x%llx)",
              (unsigned long long)q);
        return false;
    }
    if (!ok)
        return false;
    if (!(vmcs_read32(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID))
        skip_instruction(x);
    return true;
}

/* MSRs that are not passed through: a few emulated facts; everything else is #GP, as on a CPU
 * without that MSR. Nothing is read from the host on a guest's behalf: a guest must never make
 * the host touch an MSR that may not exist (emulators and nested hypervisors lack some). */
#define MTRR_DEF_TYPE_ENABLED_WB 0x806ull /* E = 1, default type write-back */
/* fast strings on; BTS and PEBS unavailable (no performance monitoring for guests) */
#define MISC_ENABLE_GUEST 0x1801ull
static void handle_msr(struct vmx_vcpu *x, bool write)
{
    uint32_t msr = (uint32_t)x->regs.rcx;
    uint64_t value = 0;
    bool ok = true;
    if (write) {
        switch (msr) {
        case MSR_IA32_MTRR_DEF_TYPE: /* memory types are the host's (EPT says WB): ignored */
            break;
        default:
            ok = false;
        }
    } else {
        switch (msr) {
        case MSR_IA32_TSC:
            value = arch_now();
            break;
        case MSR_IA32_FEATURE_CONTROL:
            value = 1; /* locked, VMX off: matches CPUID */
            break;
        case MSR_IA32_MISC_ENABLE:
            value = MISC_ENABLE_GUEST;
            break;
        case MSR_IA32_MTRRCAP:
            value = 0; /* no variable or fixed ranges, no WC: nothing for the guest to set */
            break;
        case MSR_IA32_MTRR_DEF_TYPE:
            value = MTRR_DEF_TYPE_ENABLED_WB;
            break;
        case 0x8b: /* microcode revision */
            value = 0;
            break;
        default:
            ok = false;
        }
    }
    if (!ok) {
        inject_exception(VECTOR_GP, 0);
        return;
    }
    if (!write) {
        x->regs.rax = (uint32_t)value;
        x->regs.rdx = value >> 32;
    }
    skip_instruction(x);
}

/* A watched guest exception: pass it on as the CPU would have, but count it, combine it with an
 * interrupted delivery (double fault rules, SDM Vol. 3A table 6-5) and stop a storm. */
static bool handle_exception(struct vcpu *v, struct vcpu_exit *exit)
{
    uint32_t info = vmcs_read32(VMCS_EXIT_INTR_INFO);
    unsigned vector = info & 0xff;
    if ((info & INTR_TYPE_MASK) == INTR_TYPE_NMI) {
        v->stats[VCPU_STAT_INTR]++;
        reinject_interrupted_event(); /* a host NMI: nothing for the guest, but what it cut */
        return true;
    }
    v->stats[VCPU_STAT_EXCEPTION]++;
    uint32_t error = (info & INTR_INFO_ERROR_CODE) ? vmcs_read32(VMCS_EXIT_INTR_ERROR) : 0;
    uint32_t type = info & INTR_TYPE_MASK;
    if (vector == VECTOR_DB) {
        /* A #DB exit leaves DR6 and DR7 alone; its news is in the qualification (SDM 28.2.1):
         * B0-B3, BD, BS, RTM. Delivering the #DB would have updated DR6 and cleared DR7.GD
         * (SDM 18.2.3, 18.2.4); injection does neither (27.6.1.2), so do it here. The guest's
         * DR6 is live in the CPU while its vCPU is loaded; RTM is active-low. */
        uint64_t q = vmx_of(v)->exit_qualification;
        uint64_t dr6;
        __asm__ volatile("mov %%dr6, %0" : "=r"(dr6));
        dr6 = ((dr6 & ~0xfull) | (1ull << 16) | (q & 0x600f)) & ~(q & (1ull << 16));
        __asm__ volatile("mov %0, %%dr6" : : "r"(dr6));
        if (q & (1ull << 13))
            vmcs_writenat(VMCS_GUEST_DR7, vmcs_readnat(VMCS_GUEST_DR7) & ~(1ull << 13));
    }
    /* A storm: the same exception at the same instruction, over and over, with no other
     * exception in between. Guests that probe with #GP or #UD fault at many places. */
    struct vmx_vcpu *x = vmx_of(v);
    uint64_t rip = vmcs_readnat(VMCS_GUEST_RIP);
    if (vector == VECTOR_DB) {
        /* not counted: single-stepping a loop repeats #DB at one RIP legitimately; a #DB
         * delivery loop now exits every time, so the slice deadline still ends it */
    } else if (vector == x->storm_vector && rip == x->storm_rip) {
        if (++x->storm_count >= EXCEPTION_STORM_LIMIT) {
            fault(exit, "exception storm: vector %u (error 0x%x) raised %u times in a row at "
                  "RIP 0x%llx", vector, error, x->storm_count, (unsigned long long)rip);
            return false;
        }
    } else {
        x->storm_vector = vector;
        x->storm_rip = rip;
        x->storm_count = 1;
    }
    uint32_t idt = vmcs_read32(VMCS_IDT_VECTORING_INFO);
    if ((idt & INTR_INFO_VALID) && (idt & INTR_TYPE_MASK) == INTR_TYPE_HW_EXCEPTION) {
        unsigned first = idt & 0xff;
        if (first == VECTOR_DF) {
            fault(exit, "triple fault (vector %u while delivering a double fault)", vector);
            return false;
        }
        if ((is_contributory(first) || first == VECTOR_PF) &&
            (is_contributory(vector) || (first == VECTOR_PF && vector == VECTOR_PF))) {
            inject_exception(VECTOR_DF, 0);
            return true;
        }
    }
    inject_event(vector, type == INTR_TYPE_PRIV_SW_EXCEPTION ? type : INTR_TYPE_HW_EXCEPTION,
                 error);
    return true;
}

static void describe_ept_violation(struct vmx_vcpu *x, struct vcpu_exit *exit)
{
    uint64_t q = x->exit_qualification;
    uint64_t gpa = vmcs_read64(VMCS_GUEST_PHYSICAL_ADDRESS);
    const char *access = (q & 4) ? "instruction fetch" : (q & 2) ? "write" : "read";
    if (q & (1u << 7))
        fault(exit, "EPT violation: %s at guest-physical 0x%llx (guest-linear 0x%llx), outside "
              "the VM's memory", access, (unsigned long long)gpa,
              (unsigned long long)vmcs_readnat(VMCS_GUEST_LINEAR_ADDRESS));
    else
        fault(exit, "EPT violation: %s at guest-physical 0x%llx, outside the VM's memory", access,
              (unsigned long long)gpa);
}

static void set_preemption_timer(uint64_t ticks)
{
    uint64_t timer = ticks >> vmx_caps.preemption_rate;
    vmcs_write32(VMCS_PREEMPTION_TIMER, timer > 0xffffffffull ? 0xffffffffu : (timer ? (uint32_t)timer : 1));
}

/* ---- the run loop --------------------------------------------------------------------- */

/* Generic code's answer from the last exit: an external interrupt to deliver at this entry
 * (it checked interruptible, so no event is pending: SDM 26.3.1.4), and whether to exit once the
 * guest can take one (interrupt-window exiting, SDM 25.6.2; the exit comes before any guest
 * instruction when the window is already open, 26.7.5). The vector is written as is: the
 * external-interrupt type has no error code and no vector restriction (26.2.1.3). */
static void apply_interrupt_requests(struct vcpu *v, struct vcpu_exit *exit)
{
    struct vmx_vcpu *x = vmx_of(v);
    if (exit->inject_vector >= 0 && !(vmcs_read32(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID)) {
        vmcs_write32(VMCS_ENTRY_INTR_INFO,
                     INTR_INFO_VALID | INTR_TYPE_EXTERNAL | ((uint32_t)exit->inject_vector & 0xff));
        v->stats[VCPU_STAT_IRQ]++;
    }
    exit->inject_vector = -1;
    bool want = exit->want_interrupt_window &&
                (vmx_caps.proc_allowed1 & PROC_INTERRUPT_WINDOW_EXITING);
    if (want != x->window_exiting) {
        x->window_exiting = want;
        vmcs_write32(VMCS_PROC_CONTROLS,
                     want ? vmx_caps.proc | PROC_INTERRUPT_WINDOW_EXITING : vmx_caps.proc);
    }
}

/* What generic code needs to decide the next injection, from the state the guest will enter
 * with (SDM 25.4.2: interruptibility bits 0 STI and 1 MOV-SS blocking). */
static void report_interrupt_state(struct vcpu_exit *exit)
{
    bool enabled = (vmcs_readnat(VMCS_GUEST_RFLAGS) & RFLAGS_IF) != 0;
    exit->interrupts_enabled = enabled;
    exit->interruptible = enabled && !(vmcs_read32(VMCS_GUEST_INTERRUPTIBILITY) & 3) &&
                          !(vmcs_read32(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID);
}

static void run_guest(struct vcpu *v, uint64_t deadline, struct vcpu_exit *exit);

void vmx_vcpu_run(struct vcpu *v, uint64_t deadline, struct vcpu_exit *exit)
{
    if (!vcpu_load(v)) {
        fault(exit, "VMPTRLD failed");
        return;
    }
    apply_interrupt_requests(v, exit);
    run_guest(v, deadline, exit);
    if (exit->want_interrupt_state && exit->kind != VCPU_EXIT_FAULT)
        report_interrupt_state(exit);
}

static void run_guest(struct vcpu *v, uint64_t deadline, struct vcpu_exit *exit)
{
    struct vmx_vcpu *x = vmx_of(v);
    uint64_t now = arch_now();
    set_preemption_timer(deadline > now ? deadline - now : 1);

    for (;;) {
        uint32_t spec = spec_entry_flags;
        if (spec & (SPEC_FLAG_L1D_MSR | SPEC_FLAG_L1D_SW))
            spec_l1d_flush(spec); /* L1TF: nothing of the host's or another VM's in the L1D */
        if (vmx_enter(&x->regs, x->launched, spec)) {
            uint32_t error = vmcs_read32(VMCS_INSTRUCTION_ERROR);
            fault(exit, "%s failed: VM-instruction error %u%s", x->launched ? "VMRESUME" : "VMLAUNCH",
                  error, error == 7 || error == 8 ? " (invalid control or host-state field)" : "");
            return;
        }
        x->launched = true;
        uint32_t reason = vmcs_read32(VMCS_EXIT_REASON);
        x->exit_reason = reason;
        x->exit_qualification = vmcs_readnat(VMCS_EXIT_QUALIFICATION);
        x->exit_instruction_len = vmcs_read32(VMCS_EXIT_INSTRUCTION_LEN);
        if (reason & EXIT_REASON_ENTRY_FAILURE) {
            fault(exit, "VM entry failed: %s (exit reason %u, qualification %llu)",
                  vmx_exit_reason_name(reason & 0xffff), reason & 0xffff,
                  (unsigned long long)x->exit_qualification);
            return;
        }
        switch (reason & 0xffff) {
        case EXIT_REASON_CPUID:
            v->stats[VCPU_STAT_CPUID]++;
            handle_cpuid(x);
            break;
        case EXIT_REASON_CR_ACCESS:
            v->stats[VCPU_STAT_CR]++;
            if (!handle_cr_access(v, exit))
                return;
            break;
        case EXIT_REASON_RDMSR:
        case EXIT_REASON_WRMSR:
            v->stats[VCPU_STAT_MSR]++;
            handle_msr(x, (reason & 0xffff) == EXIT_REASON_WRMSR);
            break;
        case EXIT_REASON_EXCEPTION_NMI:
            if (!handle_exception(v, exit))
                return;
            break;
        case EXIT_REASON_EXTERNAL_INTERRUPT:
            /* The host runs with every interrupt source masked: whatever arrived was acked on
             * exit; the local APIC gets its EOI and the interrupt is dropped. */
            v->stats[VCPU_STAT_INTR]++;
            uint32_t intr = vmcs_read32(VMCS_EXIT_INTR_INFO); /* valid only if acked */
            if ((intr & INTR_INFO_VALID) && (intr & 0xff) != LAPIC_SPURIOUS_VECTOR &&
                lapic_present())
                lapic_eoi(); /* a spurious interrupt takes no EOI (SDM 11.9) */
            reinject_interrupted_event();
            break;
        case EXIT_REASON_MWAIT:
        case EXIT_REASON_MONITOR:
        case EXIT_REASON_RDPMC:
            v->stats[VCPU_STAT_OTHER]++;
            inject_exception(VECTOR_UD, 0); /* hidden in CPUID */
            break;
        case EXIT_REASON_INVD:
        case EXIT_REASON_WBINVD:
            v->stats[VCPU_STAT_OTHER]++;
            skip_instruction(x); /* caches stay coherent; dropping them would hurt others */
            break;
        case EXIT_REASON_IO: {
            v->stats[VCPU_STAT_IO]++;
            uint64_t q = x->exit_qualification;
            if (q & (1u << 4)) {
                fault(exit, "string I/O (INS/OUTS) on port 0x%llx is not supported",
                      (unsigned long long)(q >> 16));
                return;
            }
            exit->kind = VCPU_EXIT_IO;
            exit->io.port = (uint16_t)(q >> 16);
            exit->io.size = (uint8_t)((q & 7) + 1);
            exit->io.write = !(q & (1u << 3));
            exit->io.value = (uint32_t)x->regs.rax;
            return;
        }
        case EXIT_REASON_VMCALL:
            v->stats[VCPU_STAT_HYPERCALL]++;
            exit->kind = VCPU_EXIT_HYPERCALL;
            return;
        case EXIT_REASON_INTERRUPT_WINDOW:
            v->stats[VCPU_STAT_WINDOW]++;
            x->window_exiting = false;
            vmcs_write32(VMCS_PROC_CONTROLS, vmx_caps.proc);
            exit->kind = VCPU_EXIT_INTERRUPT_WINDOW;
            return;
        case EXIT_REASON_HLT:
            v->stats[VCPU_STAT_HLT]++;
            exit->kind = VCPU_EXIT_HLT;
            return;
        case EXIT_REASON_PREEMPTION_TIMER:
            v->stats[VCPU_STAT_PREEMPT]++;
            exit->kind = VCPU_EXIT_PREEMPTED;
            return;
        case EXIT_REASON_EPT_VIOLATION:
            v->stats[VCPU_STAT_NPF]++;
            describe_ept_violation(x, exit);
            return;
        case EXIT_REASON_TRIPLE_FAULT:
            v->stats[VCPU_STAT_OTHER]++;
            fault(exit, "triple fault (shutdown)");
            return;
        case 19 ... 27: case 50: case 53: /* VMX instructions */
            v->stats[VCPU_STAT_OTHER]++;
            fault(exit, "the guest executed %s (VMX instructions are not available to guests)",
                  vmx_exit_reason_name(reason & 0xffff));
            return;
        default:
            v->stats[VCPU_STAT_OTHER]++;
            fault(exit, "unexpected VM exit: reason %u (%s), qualification 0x%llx", reason & 0xffff,
                  vmx_exit_reason_name(reason & 0xffff), (unsigned long long)x->exit_qualification);
            return;
        }
        /* Exits handled here re-enter directly. The preemption timer only counts in VMX
         * non-root operation and resumes from its saved value (SDM 26.5.1, 27.2), so it measures
         * guest time; the deadline adds the time spent here, so a guest cannot stretch its
         * slice by exiting often. */
        if (arch_now() >= deadline) {
            v->stats[VCPU_STAT_PREEMPT]++;
            exit->kind = VCPU_EXIT_PREEMPTED;
            return;
        }
    }
}


/* Moving a VMCS to another CPU: VMCLEAR where it was loaded, VMPTRLD and fresh host state on
 * the new one (SDM Vol. 3C 25.11.1). */
void vmx_vcpu_unload(struct vcpu *v)
{
    struct vmx_vcpu *x = vmx_of(v);
    if (loaded_vcpu == v) {
        lazy_save(&x->lazy);
        loaded_vcpu = NULL;
    }
    vmclear(x->vmcs_phys);
    x->launched = false;
}

int vmx_vcpu_adopt(struct vcpu *v, char *why, size_t why_len)
{
    if (!vcpu_load(v)) {
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
    if (!vcpu_load(v))
        return;
    /* RFLAGS bit 1 must be 1 on VM entry (SDM 26.3.1.4): clearing it fails the entry. */
    vmcs_writenat(VMCS_GUEST_RFLAGS, vmcs_readnat(VMCS_GUEST_RFLAGS) & ~RFLAGS_RESERVED1);
}

/* ---- reports and teardown --------------------------------------------------------------- */

void vmx_vcpu_dump(struct vcpu *v, const char *prefix)
{
    struct vmx_vcpu *x = vmx_of(v);
    if (!vcpu_load(v)) {
        kprintf("%sregisters unavailable: its VMCS cannot be loaded on this CPU\n", prefix);
        return;
    }
    struct vmx_regs *r = &x->regs;
    kprintf("%sRIP=%016llx RSP=%016llx RFLAGS=%016llx mode=%u-bit\n", prefix,
            (unsigned long long)vmcs_readnat(VMCS_GUEST_RIP),
            (unsigned long long)vmcs_readnat(VMCS_GUEST_RSP),
            (unsigned long long)vmcs_readnat(VMCS_GUEST_RFLAGS), guest_mode_bits());
    kprintf("%sRAX=%016llx RBX=%016llx RCX=%016llx RDX=%016llx\n", prefix,
            (unsigned long long)r->rax, (unsigned long long)r->rbx, (unsigned long long)r->rcx,
            (unsigned long long)r->rdx);
    kprintf("%sRSI=%016llx RDI=%016llx RBP=%016llx R8 =%016llx\n", prefix,
            (unsigned long long)r->rsi, (unsigned long long)r->rdi, (unsigned long long)r->rbp,
            (unsigned long long)r->r8);
    kprintf("%sR9 =%016llx R10=%016llx R11=%016llx R12=%016llx\n", prefix,
            (unsigned long long)r->r9, (unsigned long long)r->r10, (unsigned long long)r->r11,
            (unsigned long long)r->r12);
    kprintf("%sR13=%016llx R14=%016llx R15=%016llx\n", prefix, (unsigned long long)r->r13,
            (unsigned long long)r->r14, (unsigned long long)r->r15);
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
            vmx_exit_reason_name(x->exit_reason & 0xffff), (unsigned long long)x->exit_qualification);
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
    if (x->io_bitmap_phys)
        phys_free(x->io_bitmap_phys, 2 * PAGE_SIZE);
    if (x->msr_bitmap_phys)
        phys_free(x->msr_bitmap_phys, PAGE_SIZE);
    if (x->ept.pml4_phys)
        ept_for_each_table(&x->ept, ept_free_table, NULL);
    phys_free(virt_to_phys(x), PAGE_SIZE);
    v->backend = NULL;
}
