/* halter: the scheduler's blocking path. Each round arms the SET_TIMER hypercall, executes HLT
 * (the vCPU should sleep until the timer), then reads the TIME hypercall and checks that the
 * clock moved forward. cmdline: rounds=N (default 5), period_us=N (default 10000). */
#include "guest.h"
#include "start64.h"

int guest_main(const struct tessera_start_info *info)
{
    (void)info;
    guest_printf("halter: start\n");
    if (!tessera_detect(NULL, NULL)) {
        guest_printf("halter: not running under Tessera\n");
        return 1;
    }
    uint64_t rounds, period_us;
    if (cmdline_u64_option("halter", guest_cmdline, "rounds", 5, 1, 1000000, &rounds) < 0 ||
        cmdline_u64_option("halter", guest_cmdline, "period_us", 10000, 1, 10000000,
                           &period_us) < 0)
        return 2;

    struct tessera_time before;
    long rc = tessera_time(&before);
    if (rc != 0) {
        guest_printf("halter: TIME failed rc=%ld\n", rc);
        return 1;
    }
    /* ticks per period; a hypervisor reporting 0 Hz gets a fixed 1M ticks */
    uint64_t ticks = before.tsc_hz ? before.tsc_hz / 1000000 * period_us : 1000000;
    if (ticks == 0)
        ticks = 1;
    guest_printf("halter: rounds=%llu period_us=%llu tsc_hz=%llu timer_ticks=%llu\n",
                 (unsigned long long)rounds, (unsigned long long)period_us,
                 (unsigned long long)before.tsc_hz, (unsigned long long)ticks);

    uint64_t wakes = 0;
    for (uint64_t round = 1; round <= rounds; round++) {
        rc = tessera_set_timer(ticks);
        if (rc != 0) {
            guest_printf("halter: SET_TIMER failed rc=%ld\n", rc);
            return 1;
        }
        __asm__ volatile("hlt" : : : "memory");
        wakes++;
        struct tessera_time now;
        rc = tessera_time(&now);
        if (rc != 0) {
            guest_printf("halter: TIME failed rc=%ld\n", rc);
            return 1;
        }
        bool forward = now.ticks > before.ticks && now.ns >= before.ns;
        guest_printf("halter: wake %llu/%llu slept_ticks=%llu forward=%s\n",
                     (unsigned long long)wakes, (unsigned long long)rounds,
                     (unsigned long long)(now.ticks - before.ticks), forward ? "yes" : "no");
        if (!forward) {
            guest_printf("halter: time did not move forward\n");
            return 1;
        }
        before = now;
    }
    guest_printf("halter: done wakes=%llu\n", (unsigned long long)wakes);
    return 0;
}
