/* An idle CPU halts (tessera/arch.h, arch_idle_until) and wakes on its local APIC timer, on
 * another CPU's wake IPI or on an NMI. Interrupts stay off everywhere else in the hypervisor:
 * STI;HLT opens them only for the halt, and STI's one-instruction shadow (SDM Vol. 2B, STI)
 * means an interrupt that arrived after the caller's last look is taken at the HLT and ends it
 * at once. */
#include <tessera/arch.h>
#include <x86/apic_timer.h>
#include <x86/cpu.h>
#include <x86/desc.h>
#include <x86/lapic.h>
#include <x86/percpu.h>

#define ICR_FIXED_ASSERT 0x4000u /* fixed delivery, physical destination, level assert */

struct idle_stats {
    uint64_t ticks, halts;
} __attribute__((aligned(64))); /* one cache line per CPU */
static struct idle_stats idle[X86_MAX_CPUS];

void arch_idle_until(uint64_t deadline)
{
    if (!lapic_present()) { /* nothing could wake it: spin */
        cpu_relax();
        return;
    }
    struct idle_stats *s = &idle[x86_cpu_index()];
    apic_timer_cpu_init();
    uint64_t start = arch_now();
    if (start >= deadline)
        return;
    if (deadline != ARCH_NO_DEADLINE)
        apic_timer_arm(deadline);
    __asm__ volatile("sti; hlt; cli" ::: "memory");
    apic_timer_disarm(); /* woken before it fired: it must not end a guest's run later */
    s->ticks += arch_now() - start;
    s->halts++;
}

void arch_wake_cpu(unsigned cpu)
{
    if (lapic_present() && cpu < X86_MAX_CPUS && arch_cpu_online(cpu))
        lapic_send_ipi(x86_cpu_apic_id(cpu), ICR_FIXED_ASSERT | LAPIC_WAKE_VECTOR);
}

void arch_idle_stats(unsigned cpu, uint64_t *ticks, uint64_t *halts)
{
    *ticks = cpu < X86_MAX_CPUS ? __atomic_load_n(&idle[cpu].ticks, __ATOMIC_RELAXED) : 0;
    *halts = cpu < X86_MAX_CPUS ? __atomic_load_n(&idle[cpu].halts, __ATOMIC_RELAXED) : 0;
}
