/* What a VM exit means on x86, whichever vendor's extension reported it: the CPUID and MSR views a
 * guest gets, exception folding (double and triple faults) and storm detection, and the merge of
 * an IN result into RAX. Pure functions (arch/x86/vcpu_policy.c): the VMX and SVM backends call
 * them with the values they read from their VMCS/VMCB, host unit tests call them directly. */
#ifndef X86_VCPU_POLICY_H
#define X86_VCPU_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#define X86_VECTOR_DE 0
#define X86_VECTOR_DB 1
#define X86_VECTOR_NMI 2
#define X86_VECTOR_BP 3
#define X86_VECTOR_UD 6
#define X86_VECTOR_DF 8
#define X86_VECTOR_TS 10
#define X86_VECTOR_NP 11
#define X86_VECTOR_SS 12
#define X86_VECTOR_GP 13
#define X86_VECTOR_PF 14
#define X86_VECTOR_AC 17

/* Guest exceptions both backends intercept (to catch storms and double faults); all are
 * re-injected. #DB and #AC must be among them: a guest can otherwise make the CPU deliver them to
 * itself forever without reaching an instruction boundary (CVE-2015-5307, CVE-2015-8104). #UD is
 * where the other vendor's hypercall instruction lands. */
#define X86_WATCHED_EXCEPTIONS                                                                     \
    ((1u << X86_VECTOR_DE) | (1u << X86_VECTOR_DB) | (1u << X86_VECTOR_UD) |                       \
     (1u << X86_VECTOR_DF) | (1u << X86_VECTOR_TS) | (1u << X86_VECTOR_NP) |                       \
     (1u << X86_VECTOR_SS) | (1u << X86_VECTOR_GP) | (1u << X86_VECTOR_AC))
#define X86_EXCEPTION_STORM_LIMIT 1000 /* identical guest exceptions in a row */

/* CR4 bits a guest may own: an allow-list of what both backends can give it safely. Everything
 * else a CPU without the feature refuses with #GP (SDM 2.5), and CPUID hides it: VMXE/SVME (no
 * nested virtualization), SMXE, OSXSAVE (XCR0 stays the host's x87|SSE), PKE and PKS (PKRU and
 * IA32_PKRS are not switched), CET, and anything newer (UINTR, LAM, LASS, FRED, ...). */
#define X86_CR4_GUEST_ALLOWED                                                                      \
    ((1ull << 0) | (1ull << 1) | (1ull << 2) | (1ull << 3) | (1ull << 4) | (1ull << 5) |          \
     (1ull << 6) | (1ull << 7) | (1ull << 8) | (1ull << 9) | (1ull << 10) | (1ull << 11) |        \
     (1ull << 12) | (1ull << 16) | (1ull << 17) | (1ull << 20) | (1ull << 21))

struct x86_cpuid {
    uint32_t eax, ebx, ecx, edx;
};

/* True for the hypervisor's own leaves (0x40000000-0x400000ff): x86_cpuid_filter fills them
 * without the hardware's answer. */
bool x86_cpuid_is_hypervisor_leaf(uint32_t leaf);
/* What the guest sees for CPUID leaf/sub, given in r the CPU's own answer (ignored for the
 * hypervisor leaves). Each leaf has its own named function below, so additions slot in. */
void x86_cpuid_filter(uint32_t leaf, uint32_t sub, struct x86_cpuid *r);
void x86_cpuid_hypervisor_leaves(uint32_t leaf, struct x86_cpuid *r);
void x86_cpuid_leaf1(struct x86_cpuid *r);
void x86_cpuid_leaf7(uint32_t sub, struct x86_cpuid *r);
void x86_cpuid_ext_leaf1(struct x86_cpuid *r);

/* MSRs a backend does not pass through. Nothing is read from the host on a guest's behalf: a guest
 * must never make the host touch an MSR that may not exist. now is the guest's TSC. Returns true
 * and the value, or false for #GP. */
bool x86_msr_read(uint32_t msr, uint64_t now, uint64_t *value);
/* true: accepted (and ignored), false: #GP. */
bool x86_msr_write(uint32_t msr, uint64_t value);

#define X86_MSR_TSC 0x10
#define X86_MSR_FEATURE_CONTROL 0x3a
#define X86_MSR_MICROCODE_REV 0x8b
#define X86_MSR_MTRRCAP 0xfe
#define X86_MSR_MISC_ENABLE 0x1a0
#define X86_MSR_MTRR_DEF_TYPE 0x2ff
#define X86_MSR_VM_CR 0xc0010114
#define X86_MSR_VM_HSAVE_PA 0xc0010117

/* Exceptions (SDM Vol. 3A 6.3.1, table 6-5; APM vol. 2 8.2.9). */
bool x86_exception_has_error_code(unsigned vector);
bool x86_exception_is_contributory(unsigned vector);
enum x86_fold {
    X86_FOLD_DELIVER,      /* deliver the second exception as it is */
    X86_FOLD_DOUBLE_FAULT, /* deliver #DF (error code 0) instead */
    X86_FOLD_TRIPLE_FAULT, /* the guest shuts down */
};
/* A second exception raised while the first (a hardware exception) was being delivered. */
enum x86_fold x86_exception_fold(unsigned first, unsigned second);

/* Storm detection: the same exception at the same instruction, over and over, with no other in
 * between. Guests that probe with #GP or #UD fault at many places. #DB is not counted:
 * single-stepping a loop repeats #DB at one RIP legitimately. */
struct x86_storm {
    uint64_t rip;
    uint32_t vector;
    uint32_t count;
};
void x86_storm_reset(struct x86_storm *s);
/* Notes one exception; true when it is the X86_EXCEPTION_STORM_LIMIT-th in a row. */
bool x86_storm_note(struct x86_storm *s, unsigned vector, uint64_t rip);

/* RAX after IN of size bytes returned value: only the accessed part changes; a 32-bit result
 * zero-extends (the rule for 32-bit register writes in 64-bit mode). */
uint64_t x86_io_merge(uint64_t rax, unsigned size, uint32_t value);

/* The hypercall instructions: VMCALL (0F 01 C1) and VMMCALL (0F 01 D9). A guest built for the
 * other vendor executes the one that raises #UD here; the backend reads 3 bytes at RIP and asks. */
bool x86_is_hypercall_instruction(const uint8_t bytes[3]);

#endif
