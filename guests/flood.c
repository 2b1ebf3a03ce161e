/* flood: floods the console through CONSOLE_WRITE and measures what one such hypercall costs.
 * Per round: a marker line, one 4096-byte buffer of newlines (4096 empty lines, the most console
 * lines one call can carry), a marker, a 4096-byte buffer of long lines (399 characters each,
 * which the console breaks at 160), and a closing marker. Every call is timed with RDTSC around
 * the VMCALL alone (one exit), at the start of a slice; a short write (the hypervisor's queue is full) is retried after a
 * YIELD. Ends with `flood: done rounds=R max_exit_ticks=T calls=C short=S bytes=B`.
 * With raw=N it then writes N bytes of short numbered lines straight to THR without looking at
 * LSR, as a careless driver would: what it writes while the queue is full is lost, and the
 * hypervisor says how much when the VM ends.
 * With burst=N it first writes N lines `flood: burst I` in one buffer (one CONSOLE_WRITE when they
 * fit the queue): a neighbour whose lines are all queued at once, to see the console alternate.
 * With fill_exit=1 it then writes 4096-byte buffers of newlines through CONSOLE_WRITE without
 * yielding until one write is short (its queue is full), and at once ends with the EXIT
 * hypercall, its status the number of newlines the hypervisor took: a VM that ends with a full
 * queue, whose lines must all still arrive, before the hypervisor's "exited" line.
 * With watch=T (first, instead of everything else) it samples RDTSC in a loop for T ticks and
 * prints `flood: watch ticks=T samples=S max_gap=G`: G, the largest step between two samples,
 * is the longest time it was kept off the CPU (a neighbour's slice plus the hypervisor's work).
 * cmdline: rounds=N (default 2, 0..1000), raw=N (default 0), burst=N (default 0, at most 200),
 * fill_exit=0|1, watch=T (default 0). */
#include "guest.h"
#include "start64.h"
#include <tessera/printf.h>

#define FLOOD_BUF 4096
#define LONG_LINE 399 /* characters before each '\n' */

static char newlines[FLOOD_BUF];
static char long_lines[FLOOD_BUF];
static uint64_t max_ticks, calls, short_writes, bytes;

/* 10 lines of LONG_LINE characters, then one shorter line filling the buffer to the byte. */
static void fill_long_lines(unsigned round)
{
    size_t at = 0;
    for (unsigned line = 0; at < FLOOD_BUF; line++) {
        size_t room = FLOOD_BUF - at - 1, len = room < LONG_LINE ? room : LONG_LINE;
        char head[48];
        int n = ksnprintf(head, sizeof(head), "flood: long round=%u line=%u ", round, line);
        for (size_t i = 0; i < len; i++)
            long_lines[at + i] = i < (size_t)n ? head[i] : (char)('a' + i % 26);
        long_lines[at + len] = '\n';
        at += len + 1;
    }
}

/* All of buf through CONSOLE_WRITE, each call timed alone. Returns false on an error. Each call
 * starts a fresh slice (YIELD first): a call made near the end of a slice would otherwise let the
 * slice end during its exit, and the time until the VM runs again (its neighbours' slices) would
 * be counted as the exit's. From a fresh slice only an exit longer than the slice (far above the
 * test's bound) can be cut that way. */
static bool write_timed(const char *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        tessera_yield();
        uint64_t t0 = rdtsc();
        long rc = tessera_hypercall(TESSERA_HC_CONSOLE_WRITE, (unsigned long)(uintptr_t)(buf + done),
                                    len - done, 0, NULL);
        uint64_t ticks = rdtsc() - t0;
        calls++;
        if (ticks > max_ticks)
            max_ticks = ticks;
        if (rc < 0 || (size_t)rc > len - done) {
            guest_printf("flood: console_write rc=%ld for %llu bytes\n", rc,
                         (unsigned long long)(len - done));
            return false;
        }
        done += (size_t)rc;
        bytes += (uint64_t)rc;
        if (done < len)
            short_writes++; /* the next call's YIELD lets the console drain */
    }
    return true;
}

int guest_main(const struct tessera_start_info *info)
{
    (void)info;
    uint64_t rounds, raw, burst, fill_exit, watch;
    if (cmdline_u64_option("flood", guest_cmdline, "rounds", 2, 0, 1000, &rounds) < 0 ||
        cmdline_u64_option("flood", guest_cmdline, "fill_exit", 0, 0, 1, &fill_exit) < 0 ||
        cmdline_u64_option("flood", guest_cmdline, "watch", 0, 0, 1ull << 40, &watch) < 0 ||
        cmdline_u64_option("flood", guest_cmdline, "raw", 0, 0, 1ull << 30, &raw) < 0 ||
        cmdline_u64_option("flood", guest_cmdline, "burst", 0, 0, 200, &burst) < 0)
        return 2;
    if (watch) {
        uint64_t start = rdtsc(), last = start, gap = 0, samples = 0;
        guest_printf("flood: watch start\n");
        while (last - start < watch) {
            uint64_t now = rdtsc();
            if (now - last > gap)
                gap = now - last;
            last = now;
            samples++;
        }
        guest_printf("flood: watch ticks=%llu samples=%llu max_gap=%llu\n",
                     (unsigned long long)watch, (unsigned long long)samples,
                     (unsigned long long)gap);
        return 0;
    }
    for (size_t i = 0; i < FLOOD_BUF; i++)
        newlines[i] = '\n';
    guest_printf("flood: start rounds=%llu\n", (unsigned long long)rounds);
    if (burst) { /* 200 lines of at most 18 bytes fit long_lines */
        size_t len = 0;
        for (unsigned i = 0; i < burst; i++)
            len += (size_t)ksnprintf(long_lines + len, FLOOD_BUF - len, "flood: burst %u\n", i);
        if (!write_timed(long_lines, len))
            return 1;
    }
    for (unsigned r = 0; r < rounds; r++) {
        guest_printf("flood: round %u newlines\n", r);
        if (!write_timed(newlines, FLOOD_BUF))
            return 1;
        fill_long_lines(r);
        guest_printf("flood: round %u long lines\n", r);
        if (!write_timed(long_lines, FLOOD_BUF))
            return 1;
        guest_printf("flood: round %u end\n", r);
    }
    for (uint64_t i = 0; i < raw;) { /* "flood: raw N\n" lines, cut at exactly raw bytes */
        char line[40];
        int n = ksnprintf(line, sizeof(line), "flood: raw %llu\n", (unsigned long long)i);
        for (int k = 0; k < n && i < raw; k++, i++)
            outb(COM1_BASE + UART_DATA, (uint8_t)line[k]);
    }
    if (raw)
        serial_putc('\n'); /* careful again: ends the last raw line, so the next is whole */
    if (fill_exit) {
        unsigned long taken = 0;
        for (;;) {
            long rc = tessera_hypercall(TESSERA_HC_CONSOLE_WRITE,
                                        (unsigned long)(uintptr_t)newlines, FLOOD_BUF, 0, NULL);
            if (rc < 0)
                return 1;
            taken += (unsigned long)rc;
            if (rc < FLOOD_BUF)
                tessera_exit(taken); /* with a full queue */
        }
    }
    guest_printf("flood: done rounds=%llu max_exit_ticks=%llu calls=%llu short=%llu bytes=%llu\n",
                 (unsigned long long)rounds, (unsigned long long)max_ticks,
                 (unsigned long long)calls, (unsigned long long)short_writes,
                 (unsigned long long)bytes);
    return 0;
}
