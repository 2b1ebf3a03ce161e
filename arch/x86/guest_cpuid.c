/* The table of a vCPU's CPUID answers: filling a slot (x86/guest_cpuid.h). */
#include <x86/cpu.h>
#include <x86/guest_cpuid.h>

__attribute__((cold)) void x86_guest_cpuid_fill(struct x86_guest_cpuid *c, uint32_t leaf, uint32_t sub)
{
    struct x86_cpuid r = { 0, 0, 0, 0 };
    if (!x86_cpuid_is_hypervisor_leaf(leaf)) {
        struct cpuid_regs hw = cpuid(leaf, sub);
        r = (struct x86_cpuid){ hw.eax, hw.ebx, hw.ecx, hw.edx };
    }
    x86_cpuid_guest_view(&c->cpu, c->host_max_leaf, leaf, sub, &r);
    struct x86_cpuid_slot *s = &c->slot[x86_cpuid_slot_of(leaf)];
    s->leaf = leaf;
    s->sub = sub;
    s->r = r;
}
