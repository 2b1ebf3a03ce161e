/* Per-CPU data, reached through the GS base (the VMCS restores it on every VM exit). */
#ifndef X86_PERCPU_H
#define X86_PERCPU_H

#include <stdint.h>

struct x86_percpu {
    struct x86_percpu *self; /* at %gs:0 */
    unsigned index;          /* at %gs:8: 0 = the boot CPU */
    uint32_t apic_id;
};

/* Points GS at this CPU's block. */
void x86_percpu_init(unsigned index, uint32_t apic_id);
/* The local APIC ID of CPU index cpu (online). */
uint32_t x86_cpu_apic_id(unsigned cpu);

static inline unsigned x86_cpu_index(void)
{
    unsigned index;
    __asm__ volatile("movl %%gs:8, %0" : "=r"(index));
    return index;
}

#endif
