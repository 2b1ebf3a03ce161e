/* Transient-execution mitigation policy: the decision for the CPUs our emulators model, for
 * typical real CPUs, the "no IA32_ARCH_CAPABILITIES means affected" rule, mitigations=off and
 * the benchmarking forces. */
/* UNIT-SOURCES: arch/x86/spec_policy.c kernel/lib/printf.c kernel/lib/string.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <x86/spec_policy.h>

/* CPUID.7.EDX and ARCH_CAPABILITIES seen under Bochs 2.7 (tessera boot lines). */
#define BOCHS_TIGERLAKE_EDX 0xfc100510u /* MD_CLEAR, IBRS/IBPB, STIBP, L1D_FLUSH, ARCH_CAPS, SSBD */
#define BOCHS_ICELAKE_EDX 0xbc000110u   /* the same without MD_CLEAR */
#define BOCHS_ARCH_CAPS 0x1full         /* RDCL_NO IBRS_ALL RSBA SKIP_L1DFL_VMENTRY SSB_NO */
#define SPEC_EDX (CPUID7_EDX_IBRS_IBPB | CPUID7_EDX_STIBP | CPUID7_EDX_L1D_FLUSH | CPUID7_EDX_SSBD)

static struct spec_decision decide(enum spec_vendor vendor, uint32_t edx, uint64_t caps, bool smt)
{
    struct spec_cpu c = { .vendor = vendor, .cpuid7_edx = edx, .arch_caps = caps, .smt = smt };
    struct spec_decision d;
    spec_decide(&c, &d);
    return d;
}

/* Bochs corei7_skylake_x, QEMU Skylake-Server: nothing enumerated, so everything affected, and
 * only the mechanisms that need no MSR. */
static void test_nothing_enumerated(void **state)
{
    (void)state;
    struct spec_decision d = decide(SPEC_VENDOR_INTEL, 0, 0, false);
    assert_false(d.off);
    assert_false(d.ibpb);
    assert_string_equal(d.ibpb_why, "no IBPB on this CPU");
    assert_int_equal(d.l1d, SPEC_L1D_SOFTWARE);
    assert_string_equal(d.l1d_why, "L1TF, software: no IA32_FLUSH_CMD");
    assert_true(d.verw);
    assert_string_equal(d.verw_why, "MDS; no MD_CLEAR: no effect");
    assert_int_equal(d.rsb, SPEC_RSB_FULL);
    assert_false(d.write_spec_ctrl);
    assert_string_equal(d.spec_ctrl_why, "no IA32_SPEC_CTRL");
    assert_false(d.l1tf_smt_warning);
}

/* A value read without the CPUID bit (it cannot be read) is never trusted. */
static void test_caps_ignored_without_cpuid_bit(void **state)
{
    (void)state;
    struct spec_decision d = decide(SPEC_VENDOR_INTEL, SPEC_EDX, ~0ull, false);
    assert_int_equal(d.l1d, SPEC_L1D_MSR);
    assert_int_equal(d.rsb, SPEC_RSB_FULL);
    assert_true(d.verw);
}

static void test_bochs_tigerlake(void **state)
{
    (void)state;
    struct spec_decision d = decide(SPEC_VENDOR_INTEL, BOCHS_TIGERLAKE_EDX, BOCHS_ARCH_CAPS, false);
    assert_true(d.ibpb);
    assert_string_equal(d.ibpb_why, "vm switch");
    assert_int_equal(d.l1d, SPEC_L1D_NONE);
    assert_string_equal(d.l1d_why, "RDCL_NO");
    assert_true(d.verw);
    assert_string_equal(d.verw_why, "MDS");
    assert_int_equal(d.rsb, SPEC_RSB_LITE);
    assert_true(d.write_spec_ctrl);
    assert_int_equal(d.spec_ctrl, SPEC_CTRL_IBRS);
    char line[400];
    spec_describe(&d, line, sizeof(line));
    assert_string_equal(line, "ibpb=on (vm switch) l1d_flush=off (RDCL_NO) verw=on (MDS) "
                              "rsb=on (PBRSB sequence: eIBRS) spec_ctrl=0x1 (IBRS: eIBRS; no SSBD)");
}

static void test_bochs_icelake(void **state)
{
    (void)state;
    struct spec_decision d = decide(SPEC_VENDOR_INTEL, BOCHS_ICELAKE_EDX, BOCHS_ARCH_CAPS, false);
    assert_true(d.verw);
    assert_string_equal(d.verw_why, "MDS; no MD_CLEAR: no effect");
    assert_int_equal(d.rsb, SPEC_RSB_LITE);
}

/* Skylake with 2019 microcode: everything enumerated, ARCH_CAPABILITIES with no *_NO bit. The
 * IA32_FLUSH_CMD flush also clears the buffers VERW would, so VERW is skipped; without
 * MD_CLEAR it is not. */
static void test_skylake_microcode(void **state)
{
    (void)state;
    uint32_t edx = SPEC_EDX | CPUID7_EDX_ARCH_CAPS | CPUID7_EDX_MD_CLEAR;
    struct spec_decision d = decide(SPEC_VENDOR_INTEL, edx, ARCH_CAP_RSBA, true);
    assert_true(d.ibpb);
    assert_int_equal(d.l1d, SPEC_L1D_MSR);
    assert_string_equal(d.l1d_why, "L1TF, IA32_FLUSH_CMD");
    assert_false(d.verw);
    assert_string_equal(d.verw_why, "done by the L1D flush (MD_CLEAR)");
    assert_int_equal(d.rsb, SPEC_RSB_FULL);
    assert_int_equal(d.spec_ctrl, SPEC_CTRL_STIBP); /* SMT without eIBRS */
    assert_true(d.write_spec_ctrl);
    assert_true(d.l1tf_smt_warning);

    d = decide(SPEC_VENDOR_INTEL, edx & ~CPUID7_EDX_MD_CLEAR, 0, false);
    assert_true(d.verw);
    assert_int_equal(d.spec_ctrl, 0);
    assert_false(d.write_spec_ctrl); /* nothing to set: the MSR is left alone */
    assert_false(d.l1tf_smt_warning);
}

/* Nested under a hypervisor that flushes itself, or a CPU that flushes on entry. */
static void test_skip_l1d_flush(void **state)
{
    (void)state;
    struct spec_decision d = decide(SPEC_VENDOR_INTEL, SPEC_EDX | CPUID7_EDX_ARCH_CAPS,
                                    ARCH_CAP_SKIP_L1DFL_VMENTRY, true);
    assert_int_equal(d.l1d, SPEC_L1D_NONE);
    assert_string_equal(d.l1d_why, "SKIP_L1DFL_VMENTRY");
    assert_false(d.l1tf_smt_warning);
    assert_true(d.verw); /* MDS still applies */
}

/* A recent part: fixed in hardware, nothing left to do on entry or exit. */
static void test_fixed_in_hardware(void **state)
{
    (void)state;
    uint64_t caps = ARCH_CAP_RDCL_NO | ARCH_CAP_IBRS_ALL | ARCH_CAP_SKIP_L1DFL_VMENTRY |
                    ARCH_CAP_SSB_NO | ARCH_CAP_MDS_NO | ARCH_CAP_TAA_NO | ARCH_CAP_SBDR_SSDP_NO |
                    ARCH_CAP_FBSDP_NO | ARCH_CAP_PSDP_NO | ARCH_CAP_PBRSB_NO;
    struct spec_decision d = decide(SPEC_VENDOR_INTEL, SPEC_EDX | CPUID7_EDX_ARCH_CAPS, caps, true);
    assert_true(d.ibpb);
    assert_int_equal(d.l1d, SPEC_L1D_NONE);
    assert_false(d.verw);
    assert_string_equal(d.verw_why, "MDS_NO, no TAA");
    assert_int_equal(d.rsb, SPEC_RSB_NONE);
    assert_string_equal(d.rsb_why, "eIBRS, PBRSB_NO");
    assert_int_equal(d.spec_ctrl, SPEC_CTRL_IBRS); /* eIBRS covers siblings: no STIBP */
}

/* TAA: MDS_NO parts with TSX still leak through TSX aborts unless TAA_NO. */
static void test_taa(void **state)
{
    (void)state;
    uint32_t edx = SPEC_EDX | CPUID7_EDX_ARCH_CAPS | CPUID7_EDX_MD_CLEAR;
    uint64_t caps = ARCH_CAP_RDCL_NO | ARCH_CAP_IBRS_ALL | ARCH_CAP_MDS_NO;
    struct spec_cpu c = { .vendor = SPEC_VENDOR_INTEL, .cpuid7_edx = edx, .arch_caps = caps,
                          .cpuid7_ebx = CPUID7_EBX_RTM };
    struct spec_decision d;
    spec_decide(&c, &d);
    assert_true(d.verw);
    assert_string_equal(d.verw_why, "TAA");
    c.arch_caps |= ARCH_CAP_TAA_NO;
    spec_decide(&c, &d);
    assert_false(d.verw);
    assert_string_equal(d.verw_why, "MDS_NO, no TAA; MMIO: no MMIO in guests");
    c.cpuid7_ebx = 0;
    c.arch_caps = caps; /* no TSX: no TAA */
    spec_decide(&c, &d);
    assert_false(d.verw);
}

static void test_amd(void **state)
{
    (void)state;
    struct spec_cpu c = { .vendor = SPEC_VENDOR_AMD, .ext8_ebx = CPUID_80000008_EBX_IBPB };
    struct spec_decision d;
    spec_decide(&c, &d);
    assert_true(d.ibpb);
    assert_int_equal(d.l1d, SPEC_L1D_NONE);
    assert_false(d.verw);
    assert_int_equal(d.rsb, SPEC_RSB_FULL);
    assert_false(d.write_spec_ctrl);
    c.ext8_ebx = 0; /* QEMU -cpu max: no IBPB */
    spec_decide(&c, &d);
    assert_false(d.ibpb);
    /* the AMD IBPB bit means nothing on Intel */
    struct spec_decision i = decide(SPEC_VENDOR_INTEL, 0, 0, false);
    c.vendor = SPEC_VENDOR_INTEL;
    c.ext8_ebx = CPUID_80000008_EBX_IBPB;
    spec_decide(&c, &d);
    assert_int_equal(d.ibpb, i.ibpb);
}

/* An unknown vendor is treated as affected (like Intel). */
static void test_other_vendor(void **state)
{
    (void)state;
    struct spec_decision d = decide(SPEC_VENDOR_OTHER, 0, 0, false);
    assert_int_equal(d.l1d, SPEC_L1D_SOFTWARE);
    assert_true(d.verw);
}

static void test_off(void **state)
{
    (void)state;
    struct spec_cpu c = { .vendor = SPEC_VENDOR_INTEL, .cpuid7_edx = BOCHS_TIGERLAKE_EDX,
                          .arch_caps = BOCHS_ARCH_CAPS, .off = true };
    struct spec_decision d;
    spec_decide(&c, &d);
    assert_true(d.off);
    assert_false(d.ibpb);
    assert_int_equal(d.l1d, SPEC_L1D_NONE);
    assert_false(d.verw);
    assert_int_equal(d.rsb, SPEC_RSB_NONE);
    assert_false(d.write_spec_ctrl);
    char line[400];
    spec_describe(&d, line, sizeof(line));
    assert_string_equal(line, "ibpb=off (mitigations=off) l1d_flush=off (mitigations=off) "
                              "verw=off (mitigations=off) rsb=off (mitigations=off) "
                              "spec_ctrl=0x0 (mitigations=off)");
    /* a forced mechanism runs alone on top of off (to measure it) */
    c.force = SPEC_FORCE_RSB_LITE;
    spec_decide(&c, &d);
    assert_int_equal(d.rsb, SPEC_RSB_LITE);
    assert_false(d.verw);
    assert_int_equal(d.l1d, SPEC_L1D_NONE);
}

static void test_force(void **state)
{
    (void)state;
    uint64_t caps = ARCH_CAP_RDCL_NO | ARCH_CAP_IBRS_ALL | ARCH_CAP_MDS_NO | ARCH_CAP_PBRSB_NO;
    struct spec_cpu c = { .vendor = SPEC_VENDOR_AMD, .arch_caps = caps,
                          .force = SPEC_FORCE_VERW | SPEC_FORCE_RSB | SPEC_FORCE_L1D_SW };
    struct spec_decision d;
    spec_decide(&c, &d);
    assert_true(d.verw);
    assert_string_equal(d.verw_why, "forced for benchmarking");
    assert_int_equal(d.rsb, SPEC_RSB_FULL);
    assert_int_equal(d.l1d, SPEC_L1D_SOFTWARE);
    assert_false(d.ibpb);
    /* forcing never downgrades: an IA32_FLUSH_CMD flush stays */
    c.vendor = SPEC_VENDOR_INTEL;
    c.cpuid7_edx = SPEC_EDX;
    spec_decide(&c, &d);
    assert_int_equal(d.l1d, SPEC_L1D_MSR);
    /* rsb_lite does not replace a full fill */
    c.force = SPEC_FORCE_RSB_LITE;
    spec_decide(&c, &d);
    assert_int_equal(d.rsb, SPEC_RSB_FULL);
}

/* The MSR mechanisms are forced only where the CPU has the MSR: never a #GP. */
static void test_force_msr_only_where_enumerated(void **state)
{
    (void)state;
    struct spec_cpu c = { .vendor = SPEC_VENDOR_INTEL, .off = true,
                          .force = SPEC_FORCE_IBPB | SPEC_FORCE_L1D_MSR };
    struct spec_decision d;
    spec_decide(&c, &d);
    assert_false(d.ibpb);
    assert_string_equal(d.ibpb_why, "cannot force: no IBPB on this CPU");
    assert_int_equal(d.l1d, SPEC_L1D_NONE);
    assert_string_equal(d.l1d_why, "cannot force: no IA32_FLUSH_CMD");
    c.cpuid7_edx = BOCHS_TIGERLAKE_EDX;
    c.arch_caps = BOCHS_ARCH_CAPS;
    spec_decide(&c, &d);
    assert_true(d.ibpb);
    assert_int_equal(d.l1d, SPEC_L1D_MSR);
    assert_false(d.verw); /* nothing else */
    assert_int_equal(d.rsb, SPEC_RSB_NONE);
    assert_false(d.write_spec_ctrl);
    /* AMD's IBPB bit counts on AMD */
    struct spec_cpu a = { .vendor = SPEC_VENDOR_AMD, .off = true, .force = SPEC_FORCE_IBPB,
                          .ext8_ebx = CPUID_80000008_EBX_IBPB };
    spec_decide(&a, &d);
    assert_true(d.ibpb);
}

static void test_parse_force(void **state)
{
    (void)state;
    assert_int_equal(spec_parse_force(""), 0);
    assert_int_equal(spec_parse_force("verw"), SPEC_FORCE_VERW);
    assert_int_equal(spec_parse_force("rsb,l1d_sw"), SPEC_FORCE_RSB | SPEC_FORCE_L1D_SW);
    assert_int_equal(spec_parse_force("rsb_lite,verw,"), SPEC_FORCE_RSB_LITE | SPEC_FORCE_VERW);
    assert_int_equal(spec_parse_force("ibpb,l1d_msr"), SPEC_FORCE_IBPB | SPEC_FORCE_L1D_MSR);
    assert_int_equal(spec_parse_force("stibp"), -1);
    assert_int_equal(spec_parse_force("verw,,rsb"), -1);
    assert_int_equal(spec_parse_force("rsbx"), -1);
    assert_int_equal(spec_parse_force("l1d"), -1);
}

/* Every reason fits its buffer, and the line fits what spec.c prints it into. */
static void test_describe_bounded(void **state)
{
    (void)state;
    struct spec_decision d = decide(SPEC_VENDOR_INTEL, 0, 0, true);
    char small[32];
    spec_describe(&d, small, sizeof(small));
    assert_int_equal(strlen(small), sizeof(small) - 1);
    char line[400];
    spec_describe(&d, line, sizeof(line));
    assert_true(strlen(line) < sizeof(line) - 1);
    assert_non_null(strstr(line, "l1d_flush=on (L1TF, software: no IA32_FLUSH_CMD)"));
    assert_non_null(strstr(line, "rsb=on (32 entries: no eIBRS)"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nothing_enumerated),
        cmocka_unit_test(test_caps_ignored_without_cpuid_bit),
        cmocka_unit_test(test_bochs_tigerlake),
        cmocka_unit_test(test_bochs_icelake),
        cmocka_unit_test(test_skylake_microcode),
        cmocka_unit_test(test_skip_l1d_flush),
        cmocka_unit_test(test_fixed_in_hardware),
        cmocka_unit_test(test_taa),
        cmocka_unit_test(test_amd),
        cmocka_unit_test(test_other_vendor),
        cmocka_unit_test(test_off),
        cmocka_unit_test(test_force),
        cmocka_unit_test(test_force_msr_only_where_enumerated),
        cmocka_unit_test(test_parse_force),
        cmocka_unit_test(test_describe_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
