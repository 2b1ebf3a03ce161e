/* VT-x discovery, per-CPU enabling (VMXON) and the controls every guest runs with. */
#include <tessera/errno.h>
#include <tessera/mm.h>
#include <tessera/printf.h>
#include <tessera/string.h>
#include <x86/cpu.h>
#include <x86/desc.h>
#include <x86/percpu.h>
#include <x86/spec.h>

#include "vmcs.h"
#include "vmx.h"

struct vmx_caps vmx_caps;
enum vmcs_field vmcs_failed_write[X86_MAX_CPUS];
bool vmx_on[X86_MAX_CPUS];

#define FEATURE_CONTROL_LOCK (1ull << 0)
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX (1ull << 2)

#define EPT_CAP_WALK4 (1ull << 6)
#define EPT_CAP_WB (1ull << 14)
#define EPT_CAP_2M (1ull << 16)
#define EPT_CAP_1G (1ull << 17)
#define EPT_CAP_INVEPT (1ull << 20)
#define EPT_CAP_INVEPT_ALL (1ull << 26)
#define VPID_CAP_INVVPID (1ull << 32)

static char vmx_refusal[160]; /* why guests cannot run, empty when they can */

static void split_caps(uint32_t msr, uint32_t *allowed0, uint32_t *allowed1)
{
    uint64_t v = rdmsr(msr);
    *allowed0 = (uint32_t)v;         /* bits that must be 1 */
    *allowed1 = (uint32_t)(v >> 32); /* bits that may be 1 */
}

/* Wanted controls plus whatever the CPU forces on; fails if a required bit cannot be set. */
static bool pick_controls(uint32_t allowed0, uint32_t allowed1, uint32_t wanted, uint32_t required,
                          uint32_t *out)
{
    uint32_t v = (wanted | allowed0) & allowed1;
    *out = v;
    return (v & required) == required;
}

static void refuse(const char *what)
{
    if (!vmx_refusal[0])
        ksnprintf(vmx_refusal, sizeof(vmx_refusal), "this CPU's VT-x lacks %s", what);
}

static int vmx_probe(void)
{
    struct vmx_caps *c = &vmx_caps;
    memset(c, 0, sizeof(*c));
    vmx_refusal[0] = '\0';
    if (!(cpuid(1, 0).ecx & (1u << 5))) {
        ksnprintf(vmx_refusal, sizeof(vmx_refusal),
                  "this CPU does not offer VT-x (CPUID.1:ECX.VMX = 0), so no guest can run");
        return -ENODEV;
    }
    c->present = true;
    c->feature_control = rdmsr(MSR_IA32_FEATURE_CONTROL);
    c->basic = rdmsr(MSR_VMX_BASIC);
    c->revision = (uint32_t)c->basic & 0x7fffffff;
    bool true_ctls = c->basic & (1ull << 55);
    split_caps(true_ctls ? MSR_VMX_TRUE_PINBASED : MSR_VMX_PINBASED, &c->pin_allowed0,
               &c->pin_allowed1);
    split_caps(true_ctls ? MSR_VMX_TRUE_PROCBASED : MSR_VMX_PROCBASED, &c->proc_allowed0,
               &c->proc_allowed1);
    split_caps(true_ctls ? MSR_VMX_TRUE_EXIT : MSR_VMX_EXIT, &c->exit_allowed0, &c->exit_allowed1);
    split_caps(true_ctls ? MSR_VMX_TRUE_ENTRY : MSR_VMX_ENTRY, &c->entry_allowed0,
               &c->entry_allowed1);
    if (c->proc_allowed1 & PROC_SECONDARY)
        c->proc2_allowed1 = (uint32_t)(rdmsr(MSR_VMX_PROCBASED2) >> 32);
    if (c->proc2_allowed1 & (PROC2_EPT | PROC2_VPID))
        c->ept_vpid = rdmsr(MSR_VMX_EPT_VPID_CAP);
    c->preemption_rate = rdmsr(MSR_VMX_MISC) & 0x1f;
    c->cr0_fixed0 = rdmsr(MSR_VMX_CR0_FIXED0);
    c->cr0_fixed1 = rdmsr(MSR_VMX_CR0_FIXED1);
    c->cr4_fixed0 = rdmsr(MSR_VMX_CR4_FIXED0);
    c->cr4_fixed1 = rdmsr(MSR_VMX_CR4_FIXED1);

    if ((c->feature_control & FEATURE_CONTROL_LOCK) &&
        !(c->feature_control & FEATURE_CONTROL_VMX_OUTSIDE_SMX)) {
        ksnprintf(vmx_refusal, sizeof(vmx_refusal),
                  "VT-x is disabled by the firmware (IA32_FEATURE_CONTROL locked without VMX): "
                  "enable Intel Virtualization Technology in the firmware setup");
        return -EPERM;
    }
    if (!(c->basic & (1ull << 54)))
        refuse("INS/OUTS exit information (IA32_VMX_BASIC bit 54)");
    if (((c->basic >> 50) & 0xf) != 6)
        refuse("write-back VMCS memory (IA32_VMX_BASIC memory type)");

    /* Pin: external interrupts and NMIs exit so the host keeps control; the preemption timer
     * ends time slices (SDM 26.5.1). */
    if (!pick_controls(c->pin_allowed0, c->pin_allowed1,
                       PIN_EXTERNAL_INTERRUPT_EXITING | PIN_NMI_EXITING | PIN_PREEMPTION_TIMER,
                       PIN_EXTERNAL_INTERRUPT_EXITING | PIN_NMI_EXITING | PIN_PREEMPTION_TIMER,
                       &c->pin))
        refuse("the VMX-preemption timer");
    /* Primary: HLT, MWAIT/MONITOR and RDPMC exit. CR3 accesses need not (EPT): we leave CR3
     * exiting off unless the CPU forces it (only the TRUE controls let it be cleared); the exit
     * handler emulates MOV CR3 for CPUs that force it. I/O and MSR bitmaps decide the rest. */
    /* CR8 exits keep a guest's MOV CR8 off the host's real APIC TPR (SDM 25.3). */
    uint32_t proc_want = PROC_HLT_EXITING | PROC_MWAIT_EXITING | PROC_MONITOR_EXITING |
                         PROC_RDPMC_EXITING | PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING |
                         PROC_USE_IO_BITMAPS | PROC_USE_MSR_BITMAPS | PROC_SECONDARY;
    if (!pick_controls(c->proc_allowed0, c->proc_allowed1, proc_want, proc_want, &c->proc))
        refuse("I/O bitmaps, MSR bitmaps, HLT exiting or secondary controls");
    /* WBINVD exits: a guest must not flush caches every other guest shares (it has no device
     * that would need it). */
    uint32_t proc2_want = PROC2_EPT | PROC2_VPID | PROC2_UNRESTRICTED_GUEST | PROC2_RDTSCP |
                          PROC2_INVPCID | PROC2_WBINVD_EXITING;
    c->proc2 = proc2_want & c->proc2_allowed1;
    if (!(c->proc2 & PROC2_EPT))
        refuse("EPT (extended page tables)");
    if (!(c->proc2 & PROC2_UNRESTRICTED_GUEST))
        refuse("unrestricted guest (needed for real-mode guests)");
    if ((c->proc2 & PROC2_EPT) &&
        (c->ept_vpid & (EPT_CAP_WALK4 | EPT_CAP_WB | EPT_CAP_2M | EPT_CAP_INVEPT)) !=
            (EPT_CAP_WALK4 | EPT_CAP_WB | EPT_CAP_2M | EPT_CAP_INVEPT))
        refuse("4-level write-back EPT with 2 MiB pages and INVEPT");
    if ((c->proc2 & PROC2_VPID) && !(c->ept_vpid & VPID_CAP_INVVPID))
        c->proc2 &= ~PROC2_VPID; /* VPID without INVVPID: run untagged instead */

    /* Acknowledging a host interrupt on exit takes it out of the interrupt controller, so a
     * stray one cannot make every VM entry exit again at once (SDM 27.2.2). */
    /* Saving the debug controls keeps a guest's DR7 and DEBUGCTL across exits (an exit sets
     * DR7 to 0x400, SDM 28.5.1); the TRUE controls let both bits be 0, so ask. */
    uint32_t exit_need = EXIT_SAVE_DEBUG_CONTROLS | EXIT_HOST_64BIT | EXIT_SAVE_PAT |
                         EXIT_LOAD_PAT | EXIT_SAVE_EFER | EXIT_LOAD_EFER |
                         EXIT_SAVE_PREEMPTION_TIMER;
    if (!pick_controls(c->exit_allowed0, c->exit_allowed1, exit_need | EXIT_ACK_INTERRUPT,
                       exit_need, &c->exit))
        refuse("64-bit host exits with PAT/EFER switching and a saved preemption timer");
    uint32_t entry_want = ENTRY_LOAD_DEBUG_CONTROLS | ENTRY_LOAD_PAT | ENTRY_LOAD_EFER;
    if (!pick_controls(c->entry_allowed0 & ~ENTRY_IA32E_GUEST, c->entry_allowed1, entry_want,
                       entry_want, &c->entry))
        refuse("PAT/EFER loading on VM entry");
    return vmx_refusal[0] ? -ENOTSUP : 0;
}

bool vmx_report(void)
{
    struct vmx_caps *c = &vmx_caps;
    int err = vmx_probe();
    if (!c->present) {
        kprintf("tessera: vmx: not available: %s\n", vmx_refusal);
        return false;
    }
    uint64_t fc = c->feature_control;
    kprintf("tessera: vmx: present, IA32_FEATURE_CONTROL=0x%llx (%s, VMX outside SMX %s)\n",
            (unsigned long long)fc, (fc & FEATURE_CONTROL_LOCK) ? "locked" : "unlocked",
            (fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX)
                ? "enabled"
                : ((fc & FEATURE_CONTROL_LOCK) ? "disabled" : "off, we will enable it"));
    kprintf("tessera: vmx: VMCS revision 0x%x, EPT=%s VPID=%s unrestricted-guest=%s "
            "preemption-timer=%s (rate 2^%u) 1G-pages=%s\n",
            c->revision, (c->proc2_allowed1 & PROC2_EPT) ? "yes" : "no",
            (c->proc2_allowed1 & PROC2_VPID) ? "yes" : "no",
            (c->proc2_allowed1 & PROC2_UNRESTRICTED_GUEST) ? "yes" : "no",
            (c->pin_allowed1 & PIN_PREEMPTION_TIMER) ? "yes" : "no", c->preemption_rate,
            (c->ept_vpid & EPT_CAP_1G) ? "yes" : "no");
    if (err) {
        kprintf("tessera: vmx: cannot run guests: %s\n", vmx_refusal);
        return false;
    }
    kprintf("tessera: vmx: usable (pin 0x%x proc 0x%x proc2 0x%x exit 0x%x entry 0x%x)\n", c->pin,
            c->proc, c->proc2, c->exit, c->entry);
    return true;
}

int vmx_cpu_enable(char *why, size_t why_len)
{
    struct vmx_caps *c = &vmx_caps;
    if (!c->present || vmx_refusal[0]) {
        ksnprintf(why, why_len, "%s", vmx_refusal[0] ? vmx_refusal : "VT-x not probed");
        return -ENODEV;
    }
    /* Firmware sets this MSR per CPU, and some lock it differently on different CPUs: VMXON
     * would #GP where VMX is locked off, so check it here, on this CPU. */
    uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
    if ((fc & FEATURE_CONTROL_LOCK) && !(fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX)) {
        ksnprintf(why, why_len, "VT-x is disabled by the firmware on this CPU "
                  "(IA32_FEATURE_CONTROL=0x%llx, locked)", (unsigned long long)fc);
        return -EPERM;
    }
    if (!(fc & FEATURE_CONTROL_LOCK)) {
        /* Firmware left it open (OVMF does): allow VMX outside SMX and lock it (SDM 24.7). */
        wrmsr(MSR_IA32_FEATURE_CONTROL, fc | FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_OUTSIDE_SMX);
    }
    /* CR0/CR4 must respect the VMX fixed bits in VMX operation (SDM 24.8, A.7, A.8). */
    uint64_t cr0 = read_cr0();
    cr0 = (cr0 | c->cr0_fixed0) & c->cr0_fixed1;
    write_cr0(cr0);
    uint64_t cr4 = read_cr4() | CR4_VMXE;
    cr4 = (cr4 | c->cr4_fixed0) & c->cr4_fixed1;
    write_cr4(cr4);

    uint64_t region;
    int err = page_alloc_zeroed(&region);
    if (err) {
        ksnprintf(why, why_len, "no memory for the VMXON region");
        return err;
    }
    *(uint32_t *)phys_to_virt(region) = c->revision;
    uint8_t failed;
    __asm__ volatile("vmxon %1; setbe %0" : "=qm"(failed) : "m"(region) : "cc", "memory");
    if (failed) {
        ksnprintf(why, why_len, "VMXON failed (CR0=0x%llx CR4=0x%llx)", (unsigned long long)cr0,
                  (unsigned long long)cr4);
        phys_free(region, PAGE_SIZE);
        return -EIO;
    }
    /* Start from clean translations: nothing cached may predate our EPTs (SDM 29.4.3.1). */
    struct {
        uint64_t eptp, zero;
    } desc = { 0, 0 };
    if (c->ept_vpid & EPT_CAP_INVEPT_ALL)
        __asm__ volatile("invept %0, %1" : : "m"(desc), "r"(2ull) : "cc", "memory");
    vmx_on[x86_cpu_index()] = true;
    spec_cpu_enable(); /* before this CPU's first VM entry */
    return 0;
}

const char *vmx_exit_reason_name(uint32_t reason)
{
    static const char *const names[] = {
        [0] = "exception or NMI", [1] = "external interrupt", [2] = "triple fault",
        [3] = "INIT signal", [4] = "SIPI", [7] = "interrupt window", [8] = "NMI window",
        [9] = "task switch", [10] = "CPUID", [11] = "GETSEC", [12] = "HLT", [13] = "INVD",
        [14] = "INVLPG", [15] = "RDPMC", [16] = "RDTSC", [18] = "VMCALL", [19] = "VMCLEAR",
        [20] = "VMLAUNCH", [21] = "VMPTRLD", [22] = "VMPTRST", [23] = "VMREAD",
        [24] = "VMRESUME", [25] = "VMWRITE", [26] = "VMXOFF", [27] = "VMXON",
        [28] = "control-register access", [29] = "MOV DR", [30] = "I/O instruction",
        [31] = "RDMSR", [32] = "WRMSR", [33] = "invalid guest state",
        [34] = "MSR loading", [36] = "MWAIT", [37] = "monitor trap flag",
        [39] = "MONITOR", [40] = "PAUSE", [41] = "machine check during VM entry",
        [43] = "TPR below threshold", [44] = "APIC access", [46] = "GDTR/IDTR access",
        [47] = "LDTR/TR access", [48] = "EPT violation", [49] = "EPT misconfiguration",
        [50] = "INVEPT", [51] = "RDTSCP", [52] = "VMX-preemption timer expired",
        [53] = "INVVPID", [54] = "WBINVD", [55] = "XSETBV", [56] = "APIC write",
        [57] = "RDRAND", [58] = "INVPCID", [59] = "VMFUNC", [60] = "ENCLS", [61] = "RDSEED",
        [63] = "XSAVES", [64] = "XRSTORS",
    };
    if (reason < sizeof(names) / sizeof(names[0]) && names[reason])
        return names[reason];
    return "unknown";
}
