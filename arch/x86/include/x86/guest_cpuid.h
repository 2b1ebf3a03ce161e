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

/* ---- a vCPU's answers, remembered --------------------------------------------------------- */

/* A guest's answer for (leaf, sub) depends only on them, its struct vcpu_guest_cpu and the CPU it
 * runs on (the host's own answers, which differ between CPUs in the APIC IDs of leaves 1, 0xB and
 * 0x1F); on nothing the guest changes as it runs (the bits that follow guest state on hardware,
 * as OSXSAVE follows CR4 or the APIC bit IA32_APIC_BASE, are hidden or fixed by the view: a view
 * that followed such state would have to empty the table when it changes). So each vCPU keeps the answers it gave in a small direct-mapped table, as KVM keeps a
 * CPUID table per vCPU: a repeated CPUID exit is a compare and four loads, with no CPUID in the
 * host and no policy (the exit stubs' fast paths answer only such questions, through
 * x86_cpuid_slot and x86_cpuid_slot_holds; the ordinary exit path fills the table). The table is
 * emptied when the guest CPU is set and when the vCPU moves to another CPU (a backend's
 * vcpu_adopt). */
#define X86_CPUID_SLOTS 16
struct x86_cpuid_slot {
    uint32_t leaf, sub; /* the question */
    struct x86_cpuid r; /* the answer */
    uint64_t pad;       /* 32 bytes: the slot's offset is one shift */
};
struct x86_guest_cpuid {
    struct x86_cpuid_slot slot[X86_CPUID_SLOTS];
    struct vcpu_guest_cpu cpu; /* what CPUID shows of the emulated devices */
    uint32_t host_max_leaf;    /* CPUID.0:EAX of the host */
};

/* Leaves 0-15 get a slot each; the hypervisor's (0x4000000x) and the extended ones (0x8000000x)
 * share them, shifted by 4 and 8. */
static inline unsigned x86_cpuid_slot_of(uint32_t leaf) { return (leaf ^ (leaf >> 28)) % X86_CPUID_SLOTS; }

/* Empties the table: slot i gets leaf i ^ 1, which x86_cpuid_slot_of puts in another slot, so
 * no question matches it. */
static inline void x86_guest_cpuid_forget(struct x86_guest_cpuid *c)
{
    for (unsigned i = 0; i < X86_CPUID_SLOTS; i++)
        c->slot[i].leaf = i ^ 1u;
}

static inline void x86_guest_cpuid_init(struct x86_guest_cpuid *c, const struct vcpu_guest_cpu *cpu,
                                        uint32_t host_max_leaf)
{
    c->cpu = *cpu;
    c->host_max_leaf = host_max_leaf;
    x86_guest_cpuid_forget(c);
}

/* A question not in the table: the CPU's answer (for a hardware leaf) through the guest view,
 * written to its slot (arch/x86/guest_cpuid.c). */
void x86_guest_cpuid_fill(struct x86_guest_cpuid *c, uint32_t leaf, uint32_t sub);

/* The slot that holds (leaf, sub) when the table has it. */
static inline const struct x86_cpuid_slot *x86_cpuid_slot(const struct x86_guest_cpuid *c, uint32_t leaf)
{
    return &c->slot[x86_cpuid_slot_of(leaf)];
}

static inline bool x86_cpuid_slot_holds(const struct x86_cpuid_slot *s, uint32_t leaf, uint32_t sub)
{
    return s->leaf == leaf && s->sub == sub;
}

/* The guest's answer for (leaf, sub): what x86_cpuid_guest_view gives on this CPU. */
static inline const struct x86_cpuid *x86_guest_cpuid(struct x86_guest_cpuid *c, uint32_t leaf, uint32_t sub)
{
    const struct x86_cpuid_slot *s = x86_cpuid_slot(c, leaf);
    if (__builtin_expect(!x86_cpuid_slot_holds(s, leaf, sub), 0))
        x86_guest_cpuid_fill(c, leaf, sub); /* into s */
    return &s->r;
}

#endif
