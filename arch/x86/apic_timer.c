/* The local APIC timer as a one-shot towards a TSC deadline (x86/apic_timer.h). */
#include <tessera/arch.h>
#include <x86/apic_timer.h>
#include <x86/cpu.h>
#include <x86/desc.h>
#include <x86/lapic.h>
#include <x86/percpu.h>
#include <x86/timer.h>

#define MSR_TSC_DEADLINE 0x6e0
#define LAPIC_REG_TIMER_INITIAL 0x380
#define LAPIC_REG_TIMER_CURRENT 0x390
#define LAPIC_REG_TIMER_DIVIDE 0x3e0
#define LVT_TIMER_TSC_DEADLINE (2u << 17)

static bool tsc_deadline_mode; /* apic_timer_tsc_deadline(), read once */
static bool ready[X86_MAX_CPUS];
static uint32_t apic_ticks_per_mhz_tsc[X86_MAX_CPUS]; /* one-shot mode: APIC counts per 2^20 TSC ticks */
static uint64_t armed_deadline[X86_MAX_CPUS];        /* what the timer counts towards */

bool apic_timer_tsc_deadline(void) { return (cpuid(1, 0).ecx & (1u << 24)) != 0; }

/* One-shot mode: how many APIC timer counts (divide by 1) pass per 2^20 TSC ticks on this CPU,
 * measured over about a millisecond. */
static void calibrate(void)
{
    unsigned cpu = x86_cpu_index();
    lapic_write(LAPIC_REG_TIMER_DIVIDE, 0xb); /* divide by 1 */
    lapic_write(LAPIC_REG_LVT_TIMER, LAPIC_LVT_MASKED | LAPIC_TIMER_VECTOR);
    lapic_write(LAPIC_REG_TIMER_INITIAL, 0xffffffffu);
    uint64_t t0 = arch_now();
    x86_delay_us(1000);
    uint64_t dt = arch_now() - t0;
    uint32_t counted = 0xffffffffu - lapic_read(LAPIC_REG_TIMER_CURRENT);
    lapic_write(LAPIC_REG_TIMER_INITIAL, 0);
    uint64_t per = dt ? (((uint64_t)counted << 20) / dt) : 1;
    apic_ticks_per_mhz_tsc[cpu] = per ? (uint32_t)(per > 0xffffffffu ? 0xffffffffu : per) : 1;
}

/* The LVT entry is written once here, so arming is one write. In xAPIC mode the memory-mapped
 * write that selects TSC-deadline mode must reach the APIC before any WRMSR to
 * IA32_TSC_DEADLINE: MFENCE orders them (SDM Vol. 3A 11.5.4.1). */
void apic_timer_cpu_init(void)
{
    unsigned cpu = x86_cpu_index();
    if (ready[cpu])
        return;
    tsc_deadline_mode = apic_timer_tsc_deadline(); /* the same on every CPU */
    if (tsc_deadline_mode) {
        lapic_write(LAPIC_REG_LVT_TIMER, LVT_TIMER_TSC_DEADLINE | LAPIC_TIMER_VECTOR);
        __asm__ volatile("mfence" ::: "memory");
    } else {
        calibrate();
        lapic_write(LAPIC_REG_LVT_TIMER, LAPIC_TIMER_VECTOR); /* one-shot, divide by 1 */
    }
    ready[cpu] = true;
}

/* Still counting towards the deadline armed last: the TSC-deadline MSR reads 0 once it fired
 * (SDM Vol. 3A 11.5.4.1), the one-shot current count likewise. */
static bool pending(void)
{
    if (tsc_deadline_mode)
        return rdmsr(MSR_TSC_DEADLINE) != 0;
    return lapic_read(LAPIC_REG_TIMER_CURRENT) != 0;
}

void apic_timer_arm(uint64_t deadline)
{
    unsigned cpu = x86_cpu_index();
    if (armed_deadline[cpu] == deadline && pending())
        return;
    armed_deadline[cpu] = deadline;
    if (tsc_deadline_mode) {
        wrmsr(MSR_TSC_DEADLINE, deadline ? deadline : 1); /* 0 would disarm it */
        return;
    }
    uint64_t now = arch_now();
    uint64_t ticks = deadline > now ? deadline - now : 1;
    uint64_t count = (ticks >> 20) * apic_ticks_per_mhz_tsc[cpu] +
                     (((ticks & 0xfffff) * apic_ticks_per_mhz_tsc[cpu]) >> 20);
    lapic_write(LAPIC_REG_TIMER_INITIAL, count > 0xffffffffu ? 0xffffffffu : (count ? (uint32_t)count : 1));
}

void apic_timer_disarm(void)
{
    if (tsc_deadline_mode)
        wrmsr(MSR_TSC_DEADLINE, 0);
    else
        lapic_write(LAPIC_REG_TIMER_INITIAL, 0);
}
