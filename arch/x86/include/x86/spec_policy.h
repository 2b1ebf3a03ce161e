/* Transient-execution mitigations between VMs: which ones this CPU needs, decided from CPUID and
 * IA32_ARCH_CAPABILITIES the way Linux/KVM and Xen do. Pure (host-tested); arch/x86/spec.c
 * gathers the inputs, applies the result and prints it. */
#ifndef X86_SPEC_POLICY_H
#define X86_SPEC_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* CPUID.(EAX=7,ECX=0):EDX */
#define CPUID7_EDX_MD_CLEAR (1u << 10)  /* VERW overwrites the CPU buffers */
#define CPUID7_EDX_IBRS_IBPB (1u << 26) /* IA32_SPEC_CTRL.IBRS and IA32_PRED_CMD.IBPB */
#define CPUID7_EDX_STIBP (1u << 27)
#define CPUID7_EDX_L1D_FLUSH (1u << 28) /* IA32_FLUSH_CMD */
#define CPUID7_EDX_ARCH_CAPS (1u << 29) /* IA32_ARCH_CAPABILITIES */
#define CPUID7_EDX_SSBD (1u << 31)
/* CPUID.(EAX=7,ECX=0):EBX */
#define CPUID7_EBX_HLE (1u << 4)
#define CPUID7_EBX_RTM (1u << 11)
/* CPUID.80000008H:EBX (AMD) */
#define CPUID_80000008_EBX_IBPB (1u << 12)

/* IA32_ARCH_CAPABILITIES (MSR 0x10a), Intel "CPUID Enumeration and Architectural MSRs". */
#define ARCH_CAP_RDCL_NO (1ull << 0)            /* not affected by Meltdown / L1TF */
#define ARCH_CAP_IBRS_ALL (1ull << 1)           /* enhanced IBRS */
#define ARCH_CAP_RSBA (1ull << 2)
#define ARCH_CAP_SKIP_L1DFL_VMENTRY (1ull << 3) /* no L1D flush needed on VM entry */
#define ARCH_CAP_SSB_NO (1ull << 4)
#define ARCH_CAP_MDS_NO (1ull << 5)
#define ARCH_CAP_TAA_NO (1ull << 8)
#define ARCH_CAP_SBDR_SSDP_NO (1ull << 13)
#define ARCH_CAP_FBSDP_NO (1ull << 14)
#define ARCH_CAP_PSDP_NO (1ull << 15)
#define ARCH_CAP_FB_CLEAR (1ull << 17)          /* VERW clears the fill buffers again */
#define ARCH_CAP_PBRSB_NO (1ull << 24)          /* no post-barrier RSB predictions */

#define MSR_IA32_SPEC_CTRL 0x48
#define MSR_IA32_PRED_CMD 0x49
#define MSR_IA32_ARCH_CAPABILITIES 0x10a
#define MSR_IA32_FLUSH_CMD 0x10b
#define SPEC_CTRL_IBRS (1ull << 0)
#define SPEC_CTRL_STIBP (1ull << 1)
#define SPEC_CTRL_SSBD (1ull << 2)
#define PRED_CMD_IBPB (1ull << 0)
#define FLUSH_CMD_L1D (1ull << 0)

enum spec_vendor { SPEC_VENDOR_INTEL, SPEC_VENDOR_AMD, SPEC_VENDOR_OTHER };

/* Mechanisms the command line may force on for benchmarking (mitigations_force=). The first four
 * are architecturally safe on any x86-64 CPU (VERW, CALL/RET, loads); the MSR ones apply only
 * where the CPU enumerates the MSR. */
#define SPEC_FORCE_VERW (1u << 0)
#define SPEC_FORCE_RSB (1u << 1)      /* full RSB stuffing */
#define SPEC_FORCE_L1D_SW (1u << 2)   /* the software L1D flush */
#define SPEC_FORCE_RSB_LITE (1u << 3) /* the short PBRSB sequence */
#define SPEC_FORCE_IBPB (1u << 4)     /* only with IA32_PRED_CMD */
#define SPEC_FORCE_L1D_MSR (1u << 5)  /* only with IA32_FLUSH_CMD */

struct spec_cpu {
    enum spec_vendor vendor;
    uint32_t cpuid7_edx, cpuid7_ebx;
    uint32_t ext8_ebx;     /* CPUID.80000008H:EBX, 0 when absent */
    uint64_t arch_caps;    /* only meaningful with CPUID7_EDX_ARCH_CAPS */
    bool smt;              /* sibling threads share this core */
    bool off;              /* mitigations=off */
    uint32_t force;        /* SPEC_FORCE_* */
};

/* How the L1D is flushed before VM entry. */
enum spec_l1d { SPEC_L1D_NONE, SPEC_L1D_MSR, SPEC_L1D_SOFTWARE };
/* What runs after every VM exit, before the first RET. */
enum spec_rsb { SPEC_RSB_NONE, SPEC_RSB_LITE, SPEC_RSB_FULL };

#define SPEC_REASON_LEN 48

struct spec_decision {
    bool off; /* mitigations=off: all below are off */
    bool ibpb;                 /* IA32_PRED_CMD.IBPB when a CPU changes VM */
    enum spec_l1d l1d;
    bool verw;                 /* VERW right before VMLAUNCH/VMRESUME */
    enum spec_rsb rsb;
    uint64_t spec_ctrl;        /* host IA32_SPEC_CTRL value */
    bool write_spec_ctrl;      /* only where the CPU has the MSR */
    bool l1tf_smt_warning;     /* L1TF-affected with SMT: the flush cannot cover the sibling */
    char ibpb_why[SPEC_REASON_LEN], l1d_why[SPEC_REASON_LEN], verw_why[SPEC_REASON_LEN];
    char rsb_why[SPEC_REASON_LEN], spec_ctrl_why[SPEC_REASON_LEN];
};

void spec_decide(const struct spec_cpu *cpu, struct spec_decision *out);

/* The value of mitigations_force= ("verw,rsb,rsb_lite,l1d_sw,l1d_msr,ibpb"): SPEC_FORCE_* bits, or -1 for an unknown
 * word. */
int spec_parse_force(const char *s);

/* One line: "ibpb=on (vm switch) l1d_flush=off (RDCL_NO) ..." */
void spec_describe(const struct spec_decision *d, char *buf, size_t len);

#endif
