/* spinner: CPU-bound counted work for the scheduler share test. Prints a progress line every
 * `report` iterations with the TSC, then the final count and a checksum of the work.
 * cmdline: iterations=N (default 1000000), report=N (default 100000), cpuid=1 (a CPUID, an
 * exit the hypervisor answers at once, in every iteration: a VM that exits all the time must still
 * get only its share). */
#include "guest.h"
#include "start64.h"

int guest_main(const struct tessera_start_info *info)
{
    (void)info;
    uint64_t iterations, report, use_cpuid;
    if (cmdline_u64_option("spinner", guest_cmdline, "iterations", 1000000, 1,
                           1000000000000ull, &iterations) < 0 ||
        cmdline_u64_option("spinner", guest_cmdline, "report", 100000, 1, 1000000000000ull,
                           &report) < 0 ||
        cmdline_u64_option("spinner", guest_cmdline, "cpuid", 0, 0, 1, &use_cpuid) < 0)
        return 2;
    guest_printf("spinner: start iterations=%llu report=%llu%s\n", (unsigned long long)iterations,
                 (unsigned long long)report, use_cpuid ? " cpuid=1" : "");

    uint64_t x = 0x9e3779b97f4a7c15ull, sum = 0;
    uint64_t start = rdtsc(), next_report = report;
    for (uint64_t i = 1; i <= iterations; i++) {
        /* a few dependent integer operations per iteration (xorshift64) */
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        sum += x;
        if (use_cpuid) {
            uint32_t a = 0, b, c = 0, d;
            __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
        }
        if (i == next_report) {
            guest_printf("spinner: progress %llu/%llu tsc=%llu\n", (unsigned long long)i,
                         (unsigned long long)iterations, (unsigned long long)(rdtsc() - start));
            next_report += report;
        }
    }
    guest_printf("spinner: done iterations=%llu checksum=0x%016llx tsc=%llu\n",
                 (unsigned long long)iterations, (unsigned long long)sum,
                 (unsigned long long)(rdtsc() - start));
    return 0;
}
