/* Conversions between the TSC and a device's own clock (the PIT's 1.193182 MHz, the ACPI PM
 * timer's 3.579545 MHz, the RTC's 32768 Hz) without 128-bit arithmetic: the TSC interval is split
 * into whole TSC seconds and a remainder (rem < tsc_hz), so no product overflows while
 * tsc_hz * hz < 2^64: a 2^42 Hz TSC with the PM timer's 2^22, a 2^43 Hz TSC with the PIT's 2^21. */
#ifndef TESSERA_DEV_CLOCK_H
#define TESSERA_DEV_CLOCK_H

#include <stdint.h>
#include <tessera/dev.h>

/* floor(delta * hz / tsc_hz): the device ticks in delta TSC ticks (tsc_hz >= hz). */
static inline uint64_t dev_clock_ticks(uint64_t delta, uint64_t tsc_hz, uint64_t hz)
{
    uint64_t q = delta / tsc_hz, rem = delta % tsc_hz;
    return q * hz + rem * hz / tsc_hz;
}

/* The first TSC value at which a clock started at base has counted tick ticks:
 * base + ceil(tick * tsc_hz / hz); DEV_NO_DEADLINE when that is beyond the TSC's range. */
static inline uint64_t dev_clock_tsc_of(uint64_t base, uint64_t tsc_hz, uint64_t hz, uint64_t tick)
{
    uint64_t q = tick / hz, rem = tick % hz;
    if (q && q > (UINT64_MAX - base) / tsc_hz)
        return DEV_NO_DEADLINE;
    uint64_t at = base + q * tsc_hz;
    uint64_t part = (rem * tsc_hz + hz - 1) / hz;
    return part > UINT64_MAX - at ? DEV_NO_DEADLINE : at + part;
}

#endif
