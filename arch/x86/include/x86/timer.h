/* TSC frequency details behind arch_tsc_hz() (arch/x86/timer.c). */
#ifndef X86_TIMER_H
#define X86_TIMER_H

#include <stdint.h>

/* What CPUID 0x15/0x16 claims (0: not reported) and what PIT channel 2 measured (0: no PIT). */
uint64_t x86_tsc_hz_cpuid(void);
uint64_t x86_tsc_hz_pit(void);

#endif
