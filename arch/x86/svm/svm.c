/* AMD-V discovery, per-CPU enabling (EFER.SVME, the host save area) and the local APIC timer that
 * ends time slices (SVM has no preemption timer). */
#include <tessera/arch.h>
#include <tessera/errno.h>
#include <tessera/mm.h>
#include <tessera/printf.h>
#include <tessera/string.h>
#include <x86/cpu.h>
#include <x86/desc.h>
#include <x86/lapic.h>
#include <x86/percpu.h>
#include <x86/spec.h>
#include <x86/timer.h>

#include "svm.h"

struct svm_caps svm_caps;
uint64_t svm_host_vmcb_phys[X86_MAX_CPUS];
svm_enter_fn svm_enter_variant = svm_enter;
static char svm_refusal[200]; /* why guests cannot run, empty when they can */
static uint32_t apic_ticks_per_mhz_tsc[X86_MAX_CPUS]; /* one-shot mode: APIC counts per 2^20 TSC ticks */
static uint64_t armed_deadline[X86_MAX_CPUS];        /* what the slice timer counts towards */

#define MSR_TSC_DEADLINE 0x6e0
#define LAPIC_REG_TIMER_INITIAL 0x380
#define LAPIC_REG_TIMER_CURRENT 0x390
#define LAPIC_REG_TIMER_DIVIDE 0x3e0
#define LVT_TIMER_TSC_DEADLINE (2u << 17)

static int svm_probe(void)
{
    struct svm_caps *c = &svm_caps;
    memset(c, 0, sizeof(*c));
    svm_refusal[0] = '\0';
    if (cpuid_max_ext_leaf() < 0x8000000au || !(cpuid(0x80000001u, 0).ecx & (1u << 2))) {
        ksnprintf(svm_refusal, sizeof(svm_refusal),
                  "this CPU does not offer AMD-V (CPUID.80000001h:ECX.SVM = 0), so no guest can run");
        return -ENODEV;
    }
    c->present = true;
    struct cpuid_regs r = cpuid(0x8000000au, 0);
    c->revision = r.eax & 0xff;
    c->asids = r.ebx;
    c->features = r.edx;
    c->tsc_deadline = (cpuid(1, 0).ecx & (1u << 24)) != 0;
    c->rdtscp = (cpuid(0x80000001u, 0).edx & (1u << 27)) != 0;
    c->maxphyaddr = cpu_maxphyaddr();
    /* APM 15.4: firmware may disable SVM with VM_CR.SVMDIS and lock it; EFER.SVME then #GPs. */
    if (rdmsr(MSR_VM_CR) & VM_CR_SVMDIS) {
        ksnprintf(svm_refusal, sizeof(svm_refusal),
                  "AMD-V is disabled by the firmware (VM_CR.SVMDIS = 1%s): enable \"SVM Mode\" "
                  "(AMD-V) in the firmware setup",
                  (rdmsr(MSR_VM_CR) & VM_CR_LOCK) ? ", locked" : "");
        return -EPERM;
    }
    if (!(c->features & SVM_FEATURE_NPT)) {
        ksnprintf(svm_refusal, sizeof(svm_refusal),
                  "this CPU's AMD-V lacks nested paging (CPUID.8000000Ah:EDX.NP = 0): no firmware "
                  "setting adds it; under another hypervisor, give the virtual CPU nested paging "
                  "(QEMU: -cpu max or +npt)");
        return -ENOTSUP;
    }
    if (c->asids < 2) {
        ksnprintf(svm_refusal, sizeof(svm_refusal), "this CPU's AMD-V has no guest ASIDs");
        return -ENOTSUP;
    }
    return 0;
}

bool svm_report(void)
{
    struct svm_caps *c = &svm_caps;
    int err = svm_probe();
    if (!c->present) {
        kprintf("tessera: svm: not available: %s\n", svm_refusal);
        return false;
    }
    kprintf("tessera: svm: present, revision %u, %u ASIDs, NPT=%s NRIP-save=%s VMCB-clean=%s "
            "flush-by-ASID=%s decode-assists=%s timer=%s\n",
            c->revision, c->asids, (c->features & SVM_FEATURE_NPT) ? "yes" : "no",
            (c->features & SVM_FEATURE_NRIP_SAVE) ? "yes" : "no",
            (c->features & SVM_FEATURE_VMCB_CLEAN) ? "yes" : "no",
            (c->features & SVM_FEATURE_FLUSH_BY_ASID) ? "yes" : "no",
            (c->features & SVM_FEATURE_DECODE_ASSISTS) ? "yes" : "no",
            c->tsc_deadline ? "APIC TSC-deadline" : "APIC one-shot");
    if (err) {
        kprintf("tessera: svm: cannot run guests: %s\n", svm_refusal);
        return false;
    }
    if (!lapic_present()) {
        kprintf("tessera: svm: cannot run guests: no local APIC for the time-slice timer\n");
        svm_refusal[0] = '!';
        return false;
    }
    kprintf("tessera: svm: usable\n");
    return true;
}

/* One-shot mode without TSC-deadline: how many APIC timer counts (divide by 1) pass per 2^20 TSC
 * ticks on this CPU, measured over about a millisecond. */
static void timer_calibrate(void)
{
    unsigned cpu = x86_cpu_index();
    lapic_write(LAPIC_REG_TIMER_DIVIDE, 0xb); /* divide by 1 */
    lapic_write(LAPIC_REG_LVT_TIMER, LAPIC_LVT_MASKED | LAPIC_TIMER_VECTOR);
    lapic_write(LAPIC_REG_TIMER_INITIAL, 0xffffffffu);
    uint64_t t0 = arch_now();
    x86_delay_us(1000);
    uint64_t dt = arch_now() - t0;
    uint32_t counted = 0xffffffffu - lapic_read(LAPIC_REG_TIMER_CURRENT);
    lapic_write(LAPIC_REG_TIMER_INITIAL, 0);
    uint64_t per = dt ? (((uint64_t)counted << 20) / dt) : 1;
    apic_ticks_per_mhz_tsc[cpu] = per ? (uint32_t)(per > 0xffffffffu ? 0xffffffffu : per) : 1;
}

/* Still counting towards the deadline armed last: the TSC-deadline MSR reads 0 once it fired
 * (SDM Vol. 3A 11.5.4.1), the one-shot current count likewise. */
static bool timer_pending(void)
{
    if (svm_caps.tsc_deadline)
        return rdmsr(MSR_TSC_DEADLINE) != 0;
    return lapic_read(LAPIC_REG_TIMER_CURRENT) != 0;
}

/* Armed for each run of a slice, but the exits that go to generic code and come straight back
 * (I/O, HLT, hypercalls) run again with the same deadline: the timer armed for it is kept as
 * long as it has not fired. It is never disarmed: one that fires after its slice is taken by the
 * host (x86/trap.c) or ends the next guest run through the INTR intercept, both harmless, and
 * every VMRUN has a timer pending for a deadline no later than its own. */
void svm_timer_arm(uint64_t deadline)
{
    unsigned cpu = x86_cpu_index();
    if (armed_deadline[cpu] == deadline && timer_pending())
        return;
    armed_deadline[cpu] = deadline;
    if (svm_caps.tsc_deadline) {
        lapic_write(LAPIC_REG_LVT_TIMER, LVT_TIMER_TSC_DEADLINE | LAPIC_TIMER_VECTOR);
        wrmsr(MSR_TSC_DEADLINE, deadline);
        return;
    }
    uint64_t now = arch_now();
    uint64_t ticks = deadline > now ? deadline - now : 1;
    uint64_t count = (ticks >> 20) * apic_ticks_per_mhz_tsc[cpu] +
                     (((ticks & 0xfffff) * apic_ticks_per_mhz_tsc[cpu]) >> 20);
    lapic_write(LAPIC_REG_LVT_TIMER, LAPIC_TIMER_VECTOR);
    lapic_write(LAPIC_REG_TIMER_INITIAL, count > 0xffffffffu ? 0xffffffffu : (count ? (uint32_t)count : 1));
}

int svm_cpu_enable(char *why, size_t why_len)
{
    struct svm_caps *c = &svm_caps;
    if (!c->present || svm_refusal[0]) {
        ksnprintf(why, why_len, "%s", svm_refusal[0] ? svm_refusal : "AMD-V not probed");
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
    if (!c->tsc_deadline)
        timer_calibrate();
    spec_cpu_enable(); /* before this CPU's first VMRUN */
    return 0;
}
