/* The CPUID leaves that describe the devices generic code emulates for a guest (struct
 * vcpu_guest_cpu): the local APIC and TSC-deadline bits, the initial APIC ID, and the TSC and
 * crystal rates of leaves 0x15/0x16 (Intel SDM vol. 2A, CPUID). Vendor-neutral and pure
 * (tests/unit/test_guest_cpuid.c): a backend applies it after its own CPUID policy. */
#ifndef X86_GUEST_CPUID_H
#define X86_GUEST_CPUID_H

#include <stdint.h>
#include <tessera/vcpu.h>

struct guest_cpuid_regs {
    uint32_t eax, ebx, ecx, edx;
};

/* Adjusts r, the answer for (leaf, sub) so far; host_max_leaf is the host's CPUID.0:EAX. */
void guest_cpuid_apply(const struct vcpu_guest_cpu *g, uint32_t host_max_leaf, uint32_t leaf,
                       uint32_t sub, struct guest_cpuid_regs *r);

#endif
