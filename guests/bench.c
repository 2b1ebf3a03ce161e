/* bench: times the hypervisor's exit paths from inside a VM (tests/tools/bench.sh, `make bench`).
 * Under Bochs the TSC advances one tick per emulated instruction and VM entry/exit cost ~0
 * ticks, so an rdtsc delta around one exit is the hypervisor's path length in instructions.
 *
 * Method: each operation runs in a loop that reads the TSC once per iteration; the same loop with
 * the exiting instruction replaced by a NOP (same register set-up, same clobbers, so the compiler
 * emits the same code around it) is the baseline. per_op = the most frequent per-iteration delta
 * of the operation loop minus that of its baseline loop: the hypervisor's instructions per round
 * trip, plus the exiting instruction's own tick against the NOP's. Slices that end inside a loop
 * (preemption) give a few larger deltas; the most frequent value ignores them, and the totals
 * and extremes are printed too so nothing is hidden.
 *
 * cmdline: mode=exits|pingpong|ept|watch (default exits), n=N (iterations, default 1000),
 *   spin_ticks=T (exits: how long the preemption spin runs, default 1000000),
 *   watch_ticks=T (watch: how long to watch for gaps, default 3000000).
 * Output: machine-readable `bench: ...` lines (see docs/benchmarks.md). */
#include <tessera/errno.h>
#include <tessera/string.h>
#include "guest.h"
#include "start64.h"

#define BENCH_MAX_N 4000
#define BENCH_WARMUP 20 /* iterations before and after the counted ones (ping-pong start/end) */
#define BENCH_SLOTS (BENCH_MAX_N + 2 * BENCH_WARMUP)
#define BENCH_MAX_GAPS 64
#define GAP_THRESHOLD 200 /* ticks: far above the spin loop body, far below any exit round trip */

static uint64_t deltas[BENCH_SLOTS];
static uint64_t sorted[BENCH_SLOTS];

struct stats {
    uint64_t n, total, min, median, max, mode, mode_count;
};

static void shell_sort(uint64_t *a, unsigned n)
{
    static const unsigned gaps[] = { 701, 301, 132, 57, 23, 10, 4, 1 }; /* Ciura's sequence */
    for (unsigned g = 0; g < sizeof(gaps) / sizeof(gaps[0]); g++) {
        unsigned gap = gaps[g];
        for (unsigned i = gap; i < n; i++) {
            uint64_t v = a[i];
            unsigned j = i;
            for (; j >= gap && a[j - gap] > v; j -= gap)
                a[j] = a[j - gap];
            a[j] = v;
        }
    }
}

/* Statistics of deltas[first .. first + n). */
static struct stats stats_of(unsigned first, unsigned n)
{
    struct stats s = { .n = n };
    for (unsigned i = 0; i < n; i++) {
        sorted[i] = deltas[first + i];
        s.total += sorted[i];
    }
    shell_sort(sorted, n);
    s.min = sorted[0];
    s.max = sorted[n - 1];
    s.median = sorted[n / 2];
    for (unsigned i = 0; i < n;) {
        unsigned j = i;
        while (j < n && sorted[j] == sorted[i])
            j++;
        if (j - i > s.mode_count) {
            s.mode_count = j - i;
            s.mode = sorted[i];
        }
        i = j;
    }
    return s;
}

/* Runs `count` iterations of ASM, storing each iteration's TSC delta in deltas[]. */
#define TIMED_LOOP(count, ASM, ...)                                                               \
    do {                                                                                          \
        uint64_t prev_ = rdtsc();                                                                 \
        for (unsigned i_ = 0; i_ < (count); i_++) {                                               \
            __asm__ volatile(ASM : : : __VA_ARGS__);                                              \
            uint64_t now_ = rdtsc();                                                              \
            deltas[i_] = now_ - prev_;                                                            \
            prev_ = now_;                                                                         \
        }                                                                                         \
    } while (0)

static void report(const char *op, const struct stats *o, const struct stats *b)
{
    guest_printf("bench: op=%s n=%llu total=%llu per_op=%llu baseline_per_iter=%llu "
                 "op_per_iter=%llu baseline_total=%llu per_op_mean=%llu\n",
                 op, (unsigned long long)o->n, (unsigned long long)o->total,
                 (unsigned long long)(o->mode - b->mode), (unsigned long long)b->mode,
                 (unsigned long long)o->mode, (unsigned long long)b->total,
                 (unsigned long long)(o->total > b->total ? (o->total - b->total) / o->n : 0));
    guest_printf("bench: detail op=%s min=%llu median=%llu max=%llu mode=%llu mode_count=%llu "
                 "baseline_min=%llu baseline_max=%llu baseline_mode_count=%llu\n",
                 op, (unsigned long long)o->min, (unsigned long long)o->median,
                 (unsigned long long)o->max, (unsigned long long)o->mode,
                 (unsigned long long)o->mode_count, (unsigned long long)b->min,
                 (unsigned long long)b->max, (unsigned long long)b->mode_count);
}

/* One operation against its NOP baseline. OP and BASE differ only in the exiting instruction. */
#define MEASURE(name, n, OP, BASE, ...)                                                           \
    do {                                                                                          \
        TIMED_LOOP(n, BASE, __VA_ARGS__);                                                         \
        struct stats b_ = stats_of(0, n);                                                         \
        TIMED_LOOP(n, OP, __VA_ARGS__);                                                           \
        struct stats o_ = stats_of(0, n);                                                         \
        report(name, &o_, &b_);                                                                   \
    } while (0)

/* A 64-byte line (63 characters and '\n') written byte by byte to THR: the host prints it. */
static void uart_line(void)
{
    static const char line[] = "bench: uart line 0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ\n";
    _Static_assert(sizeof(line) == 65, "64 bytes and the terminator");
    for (unsigned i = 0; i < 64; i++)
        outb(COM1_BASE + UART_DATA, (uint8_t)line[i]);
}

/* Spins for `ticks`; every iteration longer than GAP_THRESHOLD is time the vCPU did not run. */
static void spin_gaps(const char *what, uint64_t ticks)
{
    unsigned gaps = 0;
    uint64_t body_min = ~0ull, start = rdtsc(), prev = start, now;
    do {
        now = rdtsc();
        uint64_t d = now - prev;
        if (d > GAP_THRESHOLD) {
            if (gaps < BENCH_SLOTS)
                deltas[gaps] = d;
            gaps++;
        } else if (d < body_min) {
            body_min = d;
        }
        prev = now;
    } while (now - start < ticks);
    if (gaps == 0 || gaps > BENCH_SLOTS) {
        guest_printf("bench: op=%s no usable gaps (%u) in %llu ticks\n", what, gaps,
                     (unsigned long long)ticks);
        return;
    }
    struct stats g = stats_of(0, gaps);
    guest_printf("bench: op=%s n=%u total=%llu per_op=%llu baseline_per_iter=%llu "
                 "op_per_iter=%llu spin_ticks=%llu\n",
                 what, gaps, (unsigned long long)g.total, (unsigned long long)(g.mode - body_min),
                 (unsigned long long)body_min, (unsigned long long)g.mode,
                 (unsigned long long)ticks);
    guest_printf("bench: detail op=%s min=%llu median=%llu max=%llu mode=%llu mode_count=%llu\n",
                 what, (unsigned long long)g.min, (unsigned long long)g.median,
                 (unsigned long long)g.max, (unsigned long long)g.mode,
                 (unsigned long long)g.mode_count);
}

static int mode_exits(unsigned n, uint64_t spin_ticks)
{
    MEASURE("empty", n, "", "", "memory");
    MEASURE("cpuid", n, "xor %%eax, %%eax; xor %%ecx, %%ecx; cpuid",
            "xor %%eax, %%eax; xor %%ecx, %%ecx; nop", "rax", "rbx", "rcx", "rdx", "memory");
    MEASURE("cpuid_hv", n, "mov $0x40000000, %%eax; xor %%ecx, %%ecx; cpuid",
            "mov $0x40000000, %%eax; xor %%ecx, %%ecx; nop", "rax", "rbx", "rcx", "rdx", "memory");
    /* UART scratch register: trap, decode, virtual 16550 register write, resume. */
    MEASURE("uart_scr", n, "mov $0x3ff, %%edx; mov $0x5a, %%al; outb %%al, %%dx",
            "mov $0x3ff, %%edx; mov $0x5a, %%al; nop", "rax", "rdx", "memory");
    /* UART THR: the byte also goes through the VM's output ring and line buffer. '\r' keeps the
     * line buffer from printing (it drops CR), so this is the per-byte cost without the line. */
    MEASURE("uart_thr", n, "mov $0x3f8, %%edx; mov $0x0d, %%al; outb %%al, %%dx",
            "mov $0x3f8, %%edx; mov $0x0d, %%al; nop", "rax", "rdx", "memory");
    /* A UART status read (LSR): what a polled driver does before every byte. */
    MEASURE("uart_lsr", n, "mov $0x3fd, %%edx; inb %%dx, %%al",
            "mov $0x3fd, %%edx; nop", "rax", "rdx", "memory");
    MEASURE("vmcall_vm_id", n, "mov $3, %%eax; vmcall", "mov $3, %%eax; nop", "rax", "memory");
    MEASURE("hlt", n, "hlt", "nop", "memory");

    /* Whole printed lines: 64 THR exits and one line on the host console. */
    unsigned lines = n / 50 ? n / 50 : 1;
    uint64_t prev = rdtsc();
    for (unsigned i = 0; i < lines; i++) {
        uart_line();
        uint64_t now = rdtsc();
        deltas[i] = now - prev;
        prev = now;
    }
    struct stats l = stats_of(0, lines);
    guest_printf("bench: op=uart_line64 n=%u total=%llu per_op=%llu min=%llu max=%llu "
                 "mode_count=%llu\n", lines, (unsigned long long)l.total,
                 (unsigned long long)l.mode, (unsigned long long)l.min, (unsigned long long)l.max,
                 (unsigned long long)l.mode_count);

    spin_gaps("preempt", spin_ticks);
    return 0;
}

/* Two VMs running this alternate through YIELD. Each iteration's delta is one round trip: our
 * VMCALL, a switch to the other VM, its loop body and VMCALL, and a switch back. */
static int mode_pingpong(unsigned n)
{
    unsigned total = n + 2 * BENCH_WARMUP;
    TIMED_LOOP(total, "mov $2, %%eax; nop", "rax", "memory");
    struct stats b = stats_of(BENCH_WARMUP, n);
    TIMED_LOOP(total, "mov $2, %%eax; vmcall", "rax", "memory");
    struct stats o = stats_of(BENCH_WARMUP, n);
    report("yield_roundtrip", &o, &b);
    return 0;
}

/* The watcher: spins and prints every gap (start and end TSC) in which it did not run. */
static int mode_watch(uint64_t watch_ticks)
{
    uint64_t gap_start[BENCH_MAX_GAPS], gap_end[BENCH_MAX_GAPS];
    unsigned gaps = 0;
    uint64_t body_min = ~0ull, start = rdtsc(), prev = start, now;
    do {
        now = rdtsc();
        uint64_t d = now - prev;
        if (d > GAP_THRESHOLD) {
            if (gaps < BENCH_MAX_GAPS) {
                gap_start[gaps] = prev;
                gap_end[gaps] = now;
            }
            gaps++;
        } else if (d < body_min) {
            body_min = d;
        }
        prev = now;
    } while (now - start < watch_ticks);
    guest_printf("bench: watch gaps=%u body=%llu\n", gaps, (unsigned long long)body_min);
    for (unsigned i = 0; i < gaps && i < BENCH_MAX_GAPS; i++)
        guest_printf("bench: watch gap start=%llu end=%llu len=%llu\n",
                     (unsigned long long)gap_start[i], (unsigned long long)gap_end[i],
                     (unsigned long long)(gap_end[i] - gap_start[i]));
    return 0;
}

/* Touches the first 2 MiB page above our RAM through the loader's own page tables (CR3 ->
 * PML4[0] -> PDPT[0] -> PD, identity, 2 MiB pages), so the access reaches EPT. R12 holds the
 * TSC read four instructions before the faulting load: the hypervisor's register dump shows it. */
static int mode_ept(void)
{
    if (!guest_mem_size || guest_mem_size >= (1ull << 30)) {
        guest_printf("bench: ept needs a VM smaller than 1 GiB (mem_size=0x%llx)\n",
                     (unsigned long long)guest_mem_size);
        return 2;
    }
    uint64_t target = (guest_mem_size + 0x1fffff) & ~0x1fffffull;
    uint64_t cr3;
    __asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
    uint64_t *pml4 = (uint64_t *)(uintptr_t)(cr3 & ~0xfffull);
    uint64_t *pdpt = (uint64_t *)(uintptr_t)(pml4[0] & 0x000ffffffffff000ull);
    uint64_t *pd = (uint64_t *)(uintptr_t)(pdpt[0] & 0x000ffffffffff000ull);
    pd[target >> 21] = target | 0x83; /* present, writable, 2 MiB page */
    __asm__ volatile("invlpg (%0)" : : "r"(target) : "memory");
    guest_printf("bench: ept touching gpa=0x%llx (RAM ends at 0x%llx); R12 = TSC before it\n",
                 (unsigned long long)target, (unsigned long long)guest_mem_size);
    serial_drain();
    __asm__ volatile("lfence; rdtsc; shl $32, %%rdx; or %%rdx, %%rax; mov %%rax, %%r12;"
                     "mov (%0), %%rax"
                     : : "r"(target) : "rax", "rdx", "r12", "memory");
    guest_printf("bench: ept ESCAPED: the read outside RAM returned\n");
    return 1;
}

int guest_main(const struct tessera_start_info *info)
{
    (void)info;
    char mode[16] = "exits";
    int rc = cmdline_get(guest_cmdline, "mode", mode, sizeof(mode));
    if (rc < 0 && rc != -ENOENT) {
        guest_printf("bench: bad option mode: too long\n");
        return 2;
    }
    uint64_t n, spin_ticks, watch_ticks;
    if (cmdline_u64_option("bench", guest_cmdline, "n", 1000, 1, BENCH_MAX_N, &n) < 0 ||
        cmdline_u64_option("bench", guest_cmdline, "spin_ticks", 1000000, 1000, 1ull << 40,
                           &spin_ticks) < 0 ||
        cmdline_u64_option("bench", guest_cmdline, "watch_ticks", 3000000, 1000, 1ull << 40,
                           &watch_ticks) < 0)
        return 2;
    bool tessera = tessera_detect(NULL, NULL);
    guest_printf("bench: start mode=%s n=%llu under=%s vm_id=%ld\n", mode, (unsigned long long)n,
                 tessera ? "tessera" : "other", tessera ? tessera_vm_id() : -1L);
    if (!tessera)
        return 1; /* every measurement needs the hypervisor */
    if (strcmp(mode, "exits") == 0)
        rc = mode_exits((unsigned)n, spin_ticks);
    else if (strcmp(mode, "pingpong") == 0)
        rc = mode_pingpong((unsigned)n);
    else if (strcmp(mode, "watch") == 0)
        rc = mode_watch(watch_ticks);
    else if (strcmp(mode, "ept") == 0)
        rc = mode_ept();
    else {
        guest_printf("bench: unknown mode=%s (exits, pingpong, ept, watch)\n", mode);
        return 2;
    }
    guest_printf("bench: done mode=%s status=%d\n", mode, rc);
    return rc;
}
