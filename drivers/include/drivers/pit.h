/* The legacy 8254 PIT, used only as a known clock to calibrate the TSC: channel 2, gated through
 * port 0x61, polled (no interrupt). */
#ifndef DRIVERS_PIT_H
#define DRIVERS_PIT_H

#include <stdint.h>

#define PIT_HZ 1193182u

/* Counts TSC ticks across `ms` milliseconds of PIT channel 2 (1..54 ms). Returns the TSC delta,
 * or 0 when the PIT did not finish (absent or broken: the caller falls back). */
uint64_t pit_measure_tsc(unsigned ms);

#endif
