/* AMD-V discovery, per-CPU enabling (EFER.SVME, the host save area) and the local APIC timer that
 * ends time slices (SVM has no preemption timer). */
#include <tessera/arch.h>
#include <tessera/errno.h>
#include <tessera/mm.h>
#include <tessera/printf.h>
#include <tessera/string.h>
#include <x86/apic_timer.h>
#include <x86/cpu.h>
#include <x86/desc.h>
#include <x86/lapic.h>
#include <x86/percpu.h>
#include <x86/spec.h>

#include "svm.h"

struct svm_caps svm_caps;
uint64_t svm_host_vmcb_phys[X86_MAX_CPUS];
svm_enter_fn svm_enter_variant = svm_enter;
static char svm_refusal_text[200]; /* why guests cannot run, empty when they can */

static int svm_probe(void)
{
    struct svm_caps *c = &svm_caps;
    memset(c, 0, sizeof(*c));
    struct svm_probe_facts f = { 0 };
    f.svm = cpuid_max_ext_leaf() >= 0x8000000au && (cpuid(0x80000001u, 0).ecx & (1u << 2));
    if (f.svm) {
        c->present = true;
        struct cpuid_regs r = cpuid(0x8000000au, 0);
        c->revision = r.eax & 0xff;
        c->asids = f.asids = r.ebx;
        c->features = f.features = r.edx;
        c->rdtscp = (cpuid(0x80000001u, 0).edx & (1u << 27)) != 0;
        c->maxphyaddr = cpu_maxphyaddr();
        f.vm_cr = rdmsr(MSR_VM_CR); /* exists wherever CPUID offers SVM (APM 15.30.1) */
    }
    return svm_refusal(&f, svm_refusal_text, sizeof(svm_refusal_text));
}

bool svm_report(void)
{
    struct svm_caps *c = &svm_caps;
    int err = svm_probe();
    if (!c->present) {
        kprintf("tessera: svm: not available: %s\n", svm_refusal_text);
        return false;
    }
    kprintf("tessera: svm: present, revision %u, %u ASIDs, NPT=%s NRIP-save=%s VMCB-clean=%s "
            "flush-by-ASID=%s decode-assists=%s timer=%s\n",
            c->revision, c->asids, (c->features & SVM_FEATURE_NPT) ? "yes" : "no",
            (c->features & SVM_FEATURE_NRIP_SAVE) ? "yes" : "no",
            (c->features & SVM_FEATURE_VMCB_CLEAN) ? "yes" : "no",
            (c->features & SVM_FEATURE_FLUSH_BY_ASID) ? "yes" : "no",
            (c->features & SVM_FEATURE_DECODE_ASSISTS) ? "yes" : "no",
            apic_timer_tsc_deadline() ? "APIC TSC-deadline" : "APIC one-shot");
    if (err) {
        kprintf("tessera: svm: cannot run guests: %s\n", svm_refusal_text);
        return false;
    }
    if (!lapic_present()) {
        kprintf("tessera: svm: cannot run guests: no local APIC for the time-slice timer\n");
        svm_refusal_text[0] = '!';
        return false;
    }
    kprintf("tessera: svm: usable\n");
    return true;
}

int svm_cpu_enable(char *why, size_t why_len)
{
    struct svm_caps *c = &svm_caps;
    if (!c->present || svm_refusal_text[0]) {
        ksnprintf(why, why_len, "%s", svm_refusal_text[0] ? svm_refusal_text : "AMD-V not probed");
        return -ENODEV;
    }
    /* Firmware sets VM_CR per CPU: check it here, on this CPU (EFER.SVME would #GP). */
    if (rdmsr(MSR_VM_CR) & VM_CR_SVMDIS) {
        ksnprintf(why, why_len, "AMD-V is disabled by the firmware on this CPU (VM_CR.SVMDIS = 1): "
                  "enable \"SVM Mode\" in the firmware setup");
        return -EPERM;
    }
    unsigned cpu = x86_cpu_index();
    uint64_t hsave, host_vmcb;
    if (page_alloc_zeroed(&hsave) || page_alloc_zeroed(&host_vmcb)) {
        ksnprintf(why, why_len, "no memory for the host save area");
        return -ENOMEM;
    }
    wrmsr(MSR_IA32_EFER, rdmsr(MSR_IA32_EFER) | EFER_SVME);
    wrmsr(MSR_VM_HSAVE_PA, hsave); /* where VMRUN keeps the host state (APM 15.30.4) */
    /* The host's FS, GS (the per-CPU block), TR and syscall MSRs: loaded back after each exit. */
    __asm__ volatile("vmsave %%rax" : : "a"(host_vmcb) : "memory");
    svm_host_vmcb_phys[cpu] = host_vmcb;
    svm_enter_variant = (spec_entry_flags & SPEC_FLAG_RSB_FULL)   ? svm_enter_rsb_full
                        : (spec_entry_flags & SPEC_FLAG_RSB_LITE) ? svm_enter_rsb_lite
                                                                  : svm_enter;
    apic_timer_cpu_init(); /* the slice timer */
    spec_cpu_enable(); /* before this CPU's first VMRUN */
    return 0;
}
