/* Time helpers of the x86 layer (arch/x86/timer.c); the TSC rate itself is arch_tsc_hz(). */
#ifndef X86_TIMER_H
#define X86_TIMER_H

#include <stdint.h>

/* Busy-waits us microseconds (TSC once calibrated, port 0x80 reads before). */
void x86_delay_us(uint64_t us);

#endif
