/* halter: the scheduler's blocking path. Each round arms the SET_TIMER hypercall, executes HLT
 * (the vCPU should sleep until the timer), then reads the TIME hypercall and checks that the
 * clock moved forward. cmdline: rounds=N (default 5), period_us=N (default 10000),
 * period_ticks=N (the timer in TSC ticks, instead of period_us), duration_us=N (stop earlier,
 * once that much time has passed), quiet=1 (no line per wake: only SET_TIMER and HLT per round,
 * then one line with how late the wakes were), warmup=N (leave the first N wakes out of that:
 * other VMs' start-up output can delay them). */
#include "guest.h"
#include "start64.h"

/* Reads TIME and prints the wake line; nonzero when the clock did not move forward. */
static int report_wake(uint64_t wakes, uint64_t rounds, struct tessera_time *before)
{
    struct tessera_time now;
    long rc = tessera_time(&now);
    if (rc != 0) {
        guest_printf("halter: TIME failed rc=%ld\n", rc);
        return 1;
    }
    bool forward = now.ticks > before->ticks && now.ns >= before->ns;
    guest_printf("halter: wake %llu/%llu slept_ticks=%llu forward=%s\n",
                 (unsigned long long)wakes, (unsigned long long)rounds,
                 (unsigned long long)(now.ticks - before->ticks), forward ? "yes" : "no");
    if (!forward) {
        guest_printf("halter: time did not move forward\n");
        return 1;
    }
    *before = now;
    return 0;
}

int guest_main(const struct tessera_start_info *info)
{
    (void)info;
    guest_printf("halter: start\n");
    if (!tessera_detect(NULL, NULL)) {
        guest_printf("halter: not running under Tessera\n");
        return 1;
    }
    uint64_t rounds, period_us, period_ticks, duration_us, quiet, warmup;
    if (cmdline_u64_option("halter", guest_cmdline, "rounds", 5, 1, 1000000, &rounds) < 0 ||
        cmdline_u64_option("halter", guest_cmdline, "period_us", 10000, 1, 10000000,
                           &period_us) < 0 ||
        cmdline_u64_option("halter", guest_cmdline, "period_ticks", 0, 0, 1ull << 40,
                           &period_ticks) < 0 ||
        cmdline_u64_option("halter", guest_cmdline, "duration_us", 0, 0, 1000000000,
                           &duration_us) < 0 ||
        cmdline_u64_option("halter", guest_cmdline, "quiet", 0, 0, 1, &quiet) < 0 ||
        cmdline_u64_option("halter", guest_cmdline, "warmup", 0, 0, 1000000, &warmup) < 0)
        return 2;

    struct tessera_time before;
    long rc = tessera_time(&before);
    if (rc != 0) {
        guest_printf("halter: TIME failed rc=%ld\n", rc);
        return 1;
    }
    /* ticks per period; a hypervisor reporting 0 Hz gets a fixed 1M ticks */
    uint64_t ticks = before.tsc_hz ? before.tsc_hz / 1000000 * period_us : 1000000;
    if (period_ticks)
        ticks = period_ticks;
    if (ticks == 0)
        ticks = 1;
    guest_printf("halter: rounds=%llu period_us=%llu tsc_hz=%llu timer_ticks=%llu\n",
                 (unsigned long long)rounds, (unsigned long long)period_us,
                 (unsigned long long)before.tsc_hz, (unsigned long long)ticks);

    /* the guest's TSC is the host's (no offset): the hypervisor's deadline is at least
     * armed + ticks, so late is an upper bound on how long after its deadline the vCPU ran */
    uint64_t started = rdtsc(), wakes = 0, late_max = 0, late_total = 0;
    uint64_t duration_ticks = before.tsc_hz / 1000000 * duration_us;
    for (uint64_t round = 1; round <= rounds; round++) {
        uint64_t armed = rdtsc();
        rc = tessera_set_timer(ticks);
        if (rc != 0) {
            guest_printf("halter: SET_TIMER failed rc=%ld\n", rc);
            return 1;
        }
        __asm__ volatile("hlt" : : : "memory");
        uint64_t woke = rdtsc();
        wakes++;
        uint64_t late = woke > armed + ticks ? woke - (armed + ticks) : 0;
        if (wakes > warmup) {
            late_total += late;
            if (late > late_max)
                late_max = late;
        }
        if (!quiet && report_wake(wakes, rounds, &before) != 0)
            return 1;
        if (duration_us && rdtsc() - started >= duration_ticks)
            break;
    }
    if (quiet)
        guest_printf("halter: wakes=%llu ticks=%llu late_max=%llu late_mean=%llu\n",
                     (unsigned long long)wakes, (unsigned long long)(rdtsc() - started),
                     (unsigned long long)late_max,
                     (unsigned long long)(wakes > warmup ? late_total / (wakes - warmup) : 0));
    guest_printf("halter: done wakes=%llu\n", (unsigned long long)wakes);
    return 0;
}
