/* The CPUID leaves that describe the devices generic code emulates for a guest (struct
 * vcpu_guest_cpu): the local APIC and TSC-deadline bits, the initial APIC ID, and the TSC and
 * crystal rates of leaves 0x15/0x16 (Intel SDM vol. 2A, CPUID). Vendor-neutral and pure
 * (tests/unit/test_guest_cpuid.c): a backend applies it after its own CPUID policy. */
#ifndef X86_GUEST_CPUID_H
#define X86_GUEST_CPUID_H

#include <stdbool.h>
#include <stdint.h>
#include <tessera/vcpu.h>
#include <x86/vcpu_policy.h>

#define GUEST_CPUID1_EDX_APIC (1u << 9)
#define GUEST_CPUID1_ECX_X2APIC (1u << 21)
#define GUEST_CPUID1_ECX_TSC_DEADLINE (1u << 24)
#define GUEST_CPUID_TSC_LEAVES_MAX 0x16u

/* Adjusts r, the answer for (leaf, sub) so far; host_max_leaf is the host's CPUID.0:EAX.
 * Inline: every CPUID exit runs it, and for most leaves it does nothing. */

static inline void guest_cpuid_apply(const struct vcpu_guest_cpu *g, uint32_t host_max_leaf, uint32_t leaf,
                                     uint32_t sub, struct x86_cpuid *r)
{
    (void)sub;
    bool tsc = g->crystal_hz && g->crystal_ratio;
    if (leaf == 0) {
        /* leaves 0x15/0x16 must be within the range the guest is told about */
        if (tsc && r->eax < GUEST_CPUID_TSC_LEAVES_MAX)
            r->eax = GUEST_CPUID_TSC_LEAVES_MAX;
        return;
    }
    if (tsc && leaf > host_max_leaf && leaf < 0x15) {
        /* raised above the host's range: a CPU answers out-of-range leaves with its highest
         * leaf's data, which would mean nothing here */
        r->eax = r->ebx = r->ecx = r->edx = 0;
        return;
    }
    switch (leaf) {
    case 1:
        r->ecx &= ~GUEST_CPUID1_ECX_X2APIC; /* the x2APIC MSR interface is not offered */
        if (g->apic) {
            r->edx |= GUEST_CPUID1_EDX_APIC;
            r->ecx |= GUEST_CPUID1_ECX_TSC_DEADLINE;
            r->ebx = (r->ebx & 0x00ffffffu) | ((uint32_t)g->apic_id << 24);
        } else {
            r->edx &= ~GUEST_CPUID1_EDX_APIC;
            r->ecx &= ~GUEST_CPUID1_ECX_TSC_DEADLINE;
        }
        break;
    case 0xb:
    case 0x1f:
        if (g->apic)
            r->edx = g->apic_id; /* the x2APIC ID the topology leaves report */
        break;
    case 0x15:
        /* TSC = crystal * EBX / EAX; Linux takes the crystal as the APIC timer's clock too
         * (native_calibrate_tsc sets lapic_timer_period from it) */
        if (tsc) {
            r->eax = 1;
            r->ebx = g->crystal_ratio;
            r->ecx = g->crystal_hz;
            r->edx = 0;
        }
        break;
    case 0x16:
        if (tsc) {
            /* base and maximum MHz, bus (reference) MHz: to the nearest MHz */
            r->eax = r->ebx = (uint32_t)((g->tsc_hz + 500000) / 1000000);
            r->ecx = (uint32_t)(((uint64_t)g->crystal_hz + 500000) / 1000000);
            r->edx = 0;
        }
        break;
    default:
        break;
    }
}

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
