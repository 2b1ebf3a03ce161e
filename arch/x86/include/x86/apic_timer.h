/* The local APIC timer as a one-shot towards a TSC deadline (arch/x86/apic_timer.c): it ends the
 * AMD-V backend's time slices (SVM has no preemption timer) and wakes an idle CPU. TSC-deadline
 * mode where CPUID.1:ECX[24] offers it (SDM Vol. 3A 11.5.4.1), else one-shot counts calibrated
 * against the TSC on each CPU. */
#ifndef X86_APIC_TIMER_H
#define X86_APIC_TIMER_H

#include <stdbool.h>
#include <stdint.h>

/* This CPU's timer made ready (its LVT entry; the calibration, about a millisecond, without
 * TSC-deadline mode), with its local APIC enabled; does nothing the second time. Before the
 * CPU's first apic_timer_arm. */
void apic_timer_cpu_init(void);
/* true: TSC-deadline mode, false: calibrated one-shot counts. */
bool apic_timer_tsc_deadline(void);
/* Fires LAPIC_TIMER_VECTOR once the TSC reaches deadline (at once if it has). A timer already
 * counting towards the same deadline is kept. */
void apic_timer_arm(uint64_t deadline);
/* Stops a timer that has not fired. */
void apic_timer_disarm(void);

#endif
