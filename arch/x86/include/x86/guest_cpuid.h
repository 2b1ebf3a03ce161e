/* The CPUID leaves that describe the devices generic code emulates for a guest (struct
 * vcpu_guest_cpu): the local APIC and TSC-deadline bits, the initial APIC ID, and the TSC and
 * crystal rates of leaves 0x15/0x16 (Intel SDM vol. 2A, CPUID). Vendor-neutral and pure
 * (tests/unit/test_guest_cpuid.c): a backend applies it after its own CPUID policy. */
#ifndef X86_GUEST_CPUID_H
#define X86_GUEST_CPUID_H

#include <stdint.h>
#include <tessera/vcpu.h>
#include <x86/vcpu_policy.h>

/* Adjusts r, the answer for (leaf, sub) so far; host_max_leaf is the host's CPUID.0:EAX. */
void guest_cpuid_apply(const struct vcpu_guest_cpu *g, uint32_t host_max_leaf, uint32_t leaf,
                       uint32_t sub, struct x86_cpuid *r);

/* The whole CPUID view both backends give a guest: r holds the CPU's answer for a hardware leaf
 * (anything for a hypervisor leaf); the backend's policy (x86_cpuid_filter), then the devices. */
static inline void x86_cpuid_guest_view(const struct vcpu_guest_cpu *g, uint32_t host_max_leaf,
                                        uint32_t leaf, uint32_t sub, struct x86_cpuid *r)
{
    x86_cpuid_filter(leaf, sub, r);
    if (!x86_cpuid_is_hypervisor_leaf(leaf))
        guest_cpuid_apply(g, host_max_leaf, leaf, sub, r);
}

#endif
