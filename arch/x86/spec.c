/* Transient-execution mitigations: gathers CPUID and IA32_ARCH_CAPABILITIES, lets
 * spec_decide() choose, prints the choice and provides the mechanisms. */
#include <tessera/arch.h>
#include <tessera/cmdline.h>
#include <tessera/printf.h>
#include <tessera/string.h>
#include <x86/cpu.h>
#include <x86/percpu.h>
#include <x86/spec.h>

uint32_t spec_entry_flags;
uint64_t spec_ibpb_count;
static struct spec_decision active;

/* The software L1D flush (for L1TF-affected CPUs without IA32_FLUSH_CMD, as KVM does): read
 * more than the largest L1D there is (48 KiB), touching every page first so that TLB misses do not
 * leave lines unread. Plain loads: safe on every CPU. */
#define L1D_FLUSH_SIZE (64u * 1024)
static uint8_t l1d_flush_buffer[L1D_FLUSH_SIZE] __attribute__((aligned(4096)));

void spec_l1d_flush(uint32_t flags)
{
    if (flags & SPEC_FLAG_L1D_MSR) {
        wrmsr(MSR_IA32_FLUSH_CMD, FLUSH_CMD_L1D);
        return;
    }
    for (unsigned off = 0; off < L1D_FLUSH_SIZE; off += 4096)
        __asm__ volatile("movzbl %0, %%eax" : : "m"(l1d_flush_buffer[off]) : "eax");
    __asm__ volatile("lfence" ::: "memory");
    /* eight lines per iteration: the loop overhead is a third of the loads, not three times */
    for (unsigned off = 0; off < L1D_FLUSH_SIZE; off += 8 * 64)
        __asm__ volatile("movzbl 0*64(%0), %%eax\n\tmovzbl 1*64(%0), %%eax\n\t"
                         "movzbl 2*64(%0), %%eax\n\tmovzbl 3*64(%0), %%eax\n\t"
                         "movzbl 4*64(%0), %%eax\n\tmovzbl 5*64(%0), %%eax\n\t"
                         "movzbl 6*64(%0), %%eax\n\tmovzbl 7*64(%0), %%eax"
                         : : "r"(&l1d_flush_buffer[off]) : "eax", "memory");
}


static enum spec_vendor cpu_vendor(void)
{
    struct cpuid_regs r = cpuid(0, 0);
    if (r.ebx == 0x756e6547 && r.edx == 0x49656e69 && r.ecx == 0x6c65746e) /* GenuineIntel */
        return SPEC_VENDOR_INTEL;
    if ((r.ebx == 0x68747541 && r.edx == 0x69746e65 && r.ecx == 0x444d4163) || /* AuthenticAMD */
        (r.ebx == 0x6f677948 && r.edx == 0x6e65476e && r.ecx == 0x656e6975))   /* HygonGenuine */
        return SPEC_VENDOR_AMD;
    return SPEC_VENDOR_OTHER;
}

/* Sibling threads: CPUID leaf 0xB's first level is the SMT level, with its logical-processor
 * count. */
static bool cpu_has_smt(void)
{
    if (cpuid_max_leaf() < 0xb)
        return false;
    struct cpuid_regs r = cpuid(0xb, 0);
    return ((r.ecx >> 8) & 0xff) == 1 && (r.ebx & 0xffff) > 1;
}

/* What the running CPU says about itself. */
static void read_cpu(struct spec_cpu *c)
{
    memset(c, 0, sizeof(*c));
    c->vendor = cpu_vendor();
    if (cpuid_max_leaf() >= 7) {
        struct cpuid_regs r = cpuid(7, 0);
        c->cpuid7_edx = r.edx;
        c->cpuid7_ebx = r.ebx;
    }
    if (cpuid_max_ext_leaf() >= 0x80000008u)
        c->ext8_ebx = cpuid(0x80000008u, 0).ebx;
    if (c->cpuid7_edx & CPUID7_EDX_ARCH_CAPS) /* never read an MSR the CPU does not enumerate */
        c->arch_caps = rdmsr(MSR_IA32_ARCH_CAPABILITIES);
    c->smt = cpu_has_smt();
}

static struct spec_cpu boot_cpu; /* the CPU the decision was made on */

/* On every CPU before its first VM entry. The decision is the boot CPU's (one exit path for all);
 * a CPU that enumerates differently (a hybrid part, mismatched microcode) is checked here, and
 * one whose own decision would need a mechanism the boot CPU's lacks is reported. */
void spec_cpu_enable(void)
{
    struct spec_cpu c;
    read_cpu(&c);
    c.off = boot_cpu.off;
    c.force = boot_cpu.force;
    if (c.vendor != boot_cpu.vendor || c.cpuid7_edx != boot_cpu.cpuid7_edx ||
        c.cpuid7_ebx != boot_cpu.cpuid7_ebx || c.ext8_ebx != boot_cpu.ext8_ebx ||
        c.arch_caps != boot_cpu.arch_caps || c.smt != boot_cpu.smt) {
        struct spec_decision own;
        spec_decide(&c, &own);
        bool weaker = (own.ibpb && !active.ibpb) || (own.verw && !active.verw) ||
                      (own.l1d != SPEC_L1D_NONE && active.l1d == SPEC_L1D_NONE) ||
                      (own.rsb == SPEC_RSB_FULL && active.rsb != SPEC_RSB_FULL) ||
                      (own.rsb == SPEC_RSB_LITE && active.rsb == SPEC_RSB_NONE);
        kprintf("tessera: mitigations: cpu %u enumerates differently from the boot CPU "
                "(CPUID.7.EDX=0x%x ARCH_CAPABILITIES=0x%llx)%s\n", x86_cpu_index(), c.cpuid7_edx,
                (unsigned long long)c.arch_caps,
                weaker ? ": WARNING: it needs mitigations the boot CPU's decision lacks" : "");
    }
    /* SPEC_CTRL only where this CPU has it: the boot CPU's value may name bits it lacks */
    if (active.write_spec_ctrl && (c.cpuid7_edx & CPUID7_EDX_IBRS_IBPB))
        wrmsr(MSR_IA32_SPEC_CTRL, active.spec_ctrl);
}

void arch_mitigations_init(const char *cmdline)
{
    struct spec_cpu c;
    read_cpu(&c);

    char value[48];
    int n = cmdline_get(cmdline, "mitigations", value, sizeof(value));
    if (n >= 0 && strcmp(value, "off") == 0)
        c.off = true;
    else if (n >= 0 && strcmp(value, "auto") != 0)
        kprintf("tessera: mitigations: unknown value mitigations=%s (use off or auto): using "
                "auto\n", value);
    if (cmdline_get(cmdline, "mitigations_force", value, sizeof(value)) >= 0) {
        int force = spec_parse_force(value);
        if (force < 0)
            kprintf("tessera: mitigations: mitigations_force=%s not understood (a comma list of "
                    "verw, rsb, rsb_lite, l1d_sw, l1d_msr, ibpb): ignored\n", value);
        else
            c.force = (uint32_t)force;
    }

    spec_decide(&c, &active);
    boot_cpu = c;
    uint32_t f = 0;
    f |= active.verw ? SPEC_FLAG_VERW : 0;
    f |= active.rsb == SPEC_RSB_FULL ? SPEC_FLAG_RSB_FULL : 0;
    f |= active.rsb == SPEC_RSB_LITE ? SPEC_FLAG_RSB_LITE : 0;
    f |= active.l1d == SPEC_L1D_MSR ? SPEC_FLAG_L1D_MSR : 0;
    f |= active.l1d == SPEC_L1D_SOFTWARE ? SPEC_FLAG_L1D_SW : 0;
    f |= active.ibpb ? SPEC_FLAG_IBPB : 0;
    spec_entry_flags = f;

    static const char *const vendors[] = { "Intel", "AMD", "other" };
    char caps[40];
    if (c.cpuid7_edx & CPUID7_EDX_ARCH_CAPS)
        ksnprintf(caps, sizeof(caps), "0x%llx", (unsigned long long)c.arch_caps);
    else
        str_copy(caps, "not enumerated (assumed affected)", sizeof(caps));
    kprintf("tessera: mitigations: cpu vendor=%s CPUID.7.EDX=0x%x CPUID.7.EBX=0x%x "
            "ARCH_CAPABILITIES=%s smt=%s\n", vendors[c.vendor], c.cpuid7_edx, c.cpuid7_ebx, caps,
            c.smt ? "yes" : "no");
    char line[400];
    spec_describe(&active, line, sizeof(line));
    kprintf("tessera: mitigations: %s\n", line);
    if (active.off)
        kprintf("tessera: mitigations: OFF (mitigations=off on the command line): VMs are not "
                "protected from each other's transient-execution attacks; for research "
                "benchmarks only\n");
    if (c.force)
        kprintf("tessera: mitigations: mitigations_force=%s: for benchmarking\n", value);
    if (active.l1tf_smt_warning)
        kprintf("tessera: mitigations: warning: L1TF with SMT: the L1D flush does not cover a "
                "sibling thread running another VM; disable SMT in the firmware\n");
}

void arch_mitigations_report(void)
{
    kprintf("tessera: mitigations: %llu IBPBs on VM switches (ibpb=%s)\n",
            (unsigned long long)__atomic_load_n(&spec_ibpb_count, __ATOMIC_RELAXED),
            active.ibpb ? "on" : "off");
}
