/* Which transient-execution mitigations run between VMs on this CPU (see spec_policy.h and
 * docs/design.md "Transient-execution mitigations"). The rules follow Linux/KVM and Xen: a CPU is
 * affected unless IA32_ARCH_CAPABILITIES says otherwise, and a CPU without that MSR is affected
 * (Intel); AMD CPUs are not affected by L1TF, MDS or TAA. A mechanism is used only where the CPU
 * enumerates its MSR; VERW, CALL/RET and plain loads work everywhere. */
#include <tessera/printf.h>
#include <tessera/string.h>
#include <x86/spec_policy.h>

static void why(char *dst, const char *text) { str_copy(dst, text, SPEC_REASON_LEN); }

static void decide_auto(const struct spec_cpu *c, struct spec_decision *d);

static bool has_ibpb(const struct spec_cpu *c)
{
    return (c->cpuid7_edx & CPUID7_EDX_IBRS_IBPB) ||
           (c->vendor == SPEC_VENDOR_AMD && (c->ext8_ebx & CPUID_80000008_EBX_IBPB));
}

void spec_decide(const struct spec_cpu *c, struct spec_decision *d)
{
    memset(d, 0, sizeof(*d));
    if (c->off) {
        d->off = true;
        why(d->ibpb_why, "mitigations=off");
        why(d->l1d_why, "mitigations=off");
        why(d->verw_why, "mitigations=off");
        why(d->rsb_why, "mitigations=off");
        why(d->spec_ctrl_why, "mitigations=off");
    } else {
        decide_auto(c, d);
    }
    /* Forced mechanisms (benchmarking), also on top of mitigations=off to measure each alone. */
    if (!d->ibpb && (c->force & SPEC_FORCE_IBPB)) {
        if (has_ibpb(c)) {
            d->ibpb = true;
            why(d->ibpb_why, "vm switch, forced for benchmarking");
        } else {
            why(d->ibpb_why, "cannot force: no IBPB on this CPU");
        }
    }
    if (d->l1d == SPEC_L1D_NONE && (c->force & SPEC_FORCE_L1D_MSR)) {
        if (c->cpuid7_edx & CPUID7_EDX_L1D_FLUSH) {
            d->l1d = SPEC_L1D_MSR;
            why(d->l1d_why, "IA32_FLUSH_CMD, forced for benchmarking");
        } else {
            why(d->l1d_why, "cannot force: no IA32_FLUSH_CMD");
        }
    }
    if (d->l1d == SPEC_L1D_NONE && (c->force & SPEC_FORCE_L1D_SW)) {
        d->l1d = SPEC_L1D_SOFTWARE;
        why(d->l1d_why, "software, forced for benchmarking");
    }
    if (!d->verw && (c->force & SPEC_FORCE_VERW)) {
        d->verw = true;
        why(d->verw_why, "forced for benchmarking");
    }
    if (d->rsb != SPEC_RSB_FULL && (c->force & SPEC_FORCE_RSB)) {
        d->rsb = SPEC_RSB_FULL;
        why(d->rsb_why, "32 entries, forced for benchmarking");
    } else if (d->rsb == SPEC_RSB_NONE && (c->force & SPEC_FORCE_RSB_LITE)) {
        d->rsb = SPEC_RSB_LITE;
        why(d->rsb_why, "PBRSB sequence, forced for benchmarking");
    }
}

static void decide_auto(const struct spec_cpu *c, struct spec_decision *d)
{
    uint32_t edx = c->cpuid7_edx;
    bool caps_valid = edx & CPUID7_EDX_ARCH_CAPS;
    uint64_t caps = caps_valid ? c->arch_caps : 0; /* no MSR: no *_NO bit, assume affected */
    bool amd = c->vendor == SPEC_VENDOR_AMD;
    bool eibrs = caps & ARCH_CAP_IBRS_ALL;
    bool has_spec_ctrl = edx & (CPUID7_EDX_IBRS_IBPB | CPUID7_EDX_STIBP | CPUID7_EDX_SSBD);

    /* IBPB: a VM must not steer another VM's indirect branches through predictions it left. */
    d->ibpb = has_ibpb(c);
    why(d->ibpb_why, d->ibpb ? "vm switch" : "no IBPB on this CPU");

    /* L1TF: a guest's not-present page-table entry may name host or other-VM memory in the L1D. */
    bool l1tf = !amd && !(caps & ARCH_CAP_RDCL_NO);
    if (amd) {
        why(d->l1d_why, "AMD: not affected by L1TF");
    } else if (!l1tf) {
        why(d->l1d_why, "RDCL_NO");
    } else if (caps & ARCH_CAP_SKIP_L1DFL_VMENTRY) {
        why(d->l1d_why, "SKIP_L1DFL_VMENTRY");
    } else if (edx & CPUID7_EDX_L1D_FLUSH) {
        d->l1d = SPEC_L1D_MSR;
        why(d->l1d_why, "L1TF, IA32_FLUSH_CMD");
    } else {
        d->l1d = SPEC_L1D_SOFTWARE;
        why(d->l1d_why, "L1TF, software: no IA32_FLUSH_CMD");
    }
    d->l1tf_smt_warning = d->l1d != SPEC_L1D_NONE && c->smt;

    /* MDS and TAA: VERW overwrites the buffers a guest could sample (with MD_CLEAR microcode).
     * The IA32_FLUSH_CMD L1D flush does the same with MD_CLEAR microcode (Linux,
     * Documentation/admin-guide/hw-vuln/mds.rst, "Virtualization mitigation"); the software
     * flush does not. MMIO stale data needs a guest that can do device MMIO: our
     * guests get no MMIO pass-through, so it adds no VERW of its own. */
    bool mds = !amd && !(caps & ARCH_CAP_MDS_NO);
    bool tsx = c->cpuid7_ebx & (CPUID7_EBX_RTM | CPUID7_EBX_HLE);
    bool taa = !amd && tsx && !(caps & ARCH_CAP_TAA_NO);
    bool mmio = !amd && (caps & (ARCH_CAP_SBDR_SSDP_NO | ARCH_CAP_FBSDP_NO | ARCH_CAP_PSDP_NO)) !=
                            (ARCH_CAP_SBDR_SSDP_NO | ARCH_CAP_FBSDP_NO | ARCH_CAP_PSDP_NO);
    bool md_clear = edx & CPUID7_EDX_MD_CLEAR;
    if (!mds && !taa) {
        why(d->verw_why, amd ? "AMD: not affected by MDS/TAA"
                             : mmio ? "MDS_NO, no TAA; MMIO: no MMIO in guests" : "MDS_NO, no TAA");
    } else if (d->l1d == SPEC_L1D_MSR && md_clear) {
        why(d->verw_why, "done by the L1D flush (MD_CLEAR)");
    } else {
        d->verw = true;
        why(d->verw_why, mds && taa ? (md_clear ? "MDS, TAA" : "MDS, TAA; no MD_CLEAR: no effect")
                         : mds      ? (md_clear ? "MDS" : "MDS; no MD_CLEAR: no effect")
                                    : (md_clear ? "TAA" : "TAA; no MD_CLEAR: no effect"));
    }

    /* RSB: a guest can leave return predictions the host's RETs would use. With enhanced IBRS
     * only the last CALL before the exit can leak past it (PBRSB): one CALL/LFENCE sequence is
     * enough, and nothing where PBRSB_NO; otherwise fill all 32 entries. */
    if (!eibrs) {
        d->rsb = SPEC_RSB_FULL;
        why(d->rsb_why, "32 entries: no eIBRS");
    } else if (!(caps & ARCH_CAP_PBRSB_NO)) {
        d->rsb = SPEC_RSB_LITE;
        why(d->rsb_why, "PBRSB sequence: eIBRS");
    } else {
        why(d->rsb_why, "eIBRS, PBRSB_NO");
    }

    /* Host IA32_SPEC_CTRL, set once per CPU (guests cannot reach the MSR, so it also holds in
     * the guest): IBRS where it is enhanced (always-on by design); STIBP where sibling threads
     * would share predictors without eIBRS. SSBD stays off: store bypass leaks only within one
     * context, and every VM is its own. */
    if (!has_spec_ctrl) {
        why(d->spec_ctrl_why, "no IA32_SPEC_CTRL");
        return;
    }
    if (eibrs && (edx & CPUID7_EDX_IBRS_IBPB))
        d->spec_ctrl |= SPEC_CTRL_IBRS;
    if (!eibrs && c->smt && (edx & CPUID7_EDX_STIBP))
        d->spec_ctrl |= SPEC_CTRL_STIBP;
    d->write_spec_ctrl = d->spec_ctrl != 0;
    why(d->spec_ctrl_why, (d->spec_ctrl & SPEC_CTRL_IBRS)    ? "IBRS: eIBRS; no SSBD"
                          : (d->spec_ctrl & SPEC_CTRL_STIBP) ? "STIBP: SMT without eIBRS; no SSBD"
                                                             : "no eIBRS; no SSBD");
}

int spec_parse_force(const char *s)
{
    int flags = 0;
    while (*s) {
        const char *end = s;
        while (*end && *end != ',')
            end++;
        size_t n = (size_t)(end - s);
        if (n == 4 && strncmp(s, "verw", 4) == 0)
            flags |= SPEC_FORCE_VERW;
        else if (n == 3 && strncmp(s, "rsb", 3) == 0)
            flags |= SPEC_FORCE_RSB;
        else if (n == 8 && strncmp(s, "rsb_lite", 8) == 0)
            flags |= SPEC_FORCE_RSB_LITE;
        else if (n == 6 && strncmp(s, "l1d_sw", 6) == 0)
            flags |= SPEC_FORCE_L1D_SW;
        else if (n == 7 && strncmp(s, "l1d_msr", 7) == 0)
            flags |= SPEC_FORCE_L1D_MSR;
        else if (n == 4 && strncmp(s, "ibpb", 4) == 0)
            flags |= SPEC_FORCE_IBPB;
        else
            return -1;
        s = *end ? end + 1 : end;
    }
    return flags;
}

void spec_describe(const struct spec_decision *d, char *buf, size_t len)
{
    static const char *const l1d[] = { "off", "on", "on" };
    static const char *const rsb[] = { "off", "on", "on" };
    ksnprintf(buf, len,
              "ibpb=%s (%s) l1d_flush=%s (%s) verw=%s (%s) rsb=%s (%s) spec_ctrl=0x%llx (%s)",
              d->ibpb ? "on" : "off", d->ibpb_why, l1d[d->l1d], d->l1d_why,
              d->verw ? "on" : "off", d->verw_why, rsb[d->rsb], d->rsb_why,
              (unsigned long long)d->spec_ctrl, d->spec_ctrl_why);
}
