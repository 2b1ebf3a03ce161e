/* CPUID for the emulated devices (see x86/guest_cpuid.h). */
#include <x86/guest_cpuid.h>

#define CPUID1_EDX_APIC (1u << 9)
#define CPUID1_ECX_X2APIC (1u << 21)
#define CPUID1_ECX_TSC_DEADLINE (1u << 24)
#define TSC_LEAVES_MAX 0x16u

void guest_cpuid_apply(const struct vcpu_guest_cpu *g, uint32_t host_max_leaf, uint32_t leaf,
                       uint32_t sub, struct x86_cpuid *r)
{
    (void)sub;
    bool tsc = g->crystal_hz && g->crystal_ratio;
    if (leaf == 0) {
        /* leaves 0x15/0x16 must be within the range the guest is told about */
        if (tsc && r->eax < TSC_LEAVES_MAX)
            r->eax = TSC_LEAVES_MAX;
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
        r->ecx &= ~CPUID1_ECX_X2APIC; /* the x2APIC MSR interface is not offered */
        if (g->apic) {
            r->edx |= CPUID1_EDX_APIC;
            r->ecx |= CPUID1_ECX_TSC_DEADLINE;
            r->ebx = (r->ebx & 0x00ffffffu) | ((uint32_t)g->apic_id << 24);
        } else {
            r->edx &= ~CPUID1_EDX_APIC;
            r->ecx &= ~CPUID1_ECX_TSC_DEADLINE;
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
