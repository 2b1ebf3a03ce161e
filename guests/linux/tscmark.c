/* tscmark: the first thing /init runs in the Linux guest's initramfs. It reads the TSC and prints
 * "TESSERA-LINUX-TSC tsc=N" (decimal). Under Bochs the TSC counts emulated instructions, so N minus
 * the TSC at the kernel's entry (the hypervisor's first entry into the VM, or the same point when
 * the kernel runs bare) is what `make bench` compares (docs/benchmarks.md "Linux in a VM").
 * Static, no libc: built by guests/linux/fetch.sh with the host's cc. */
typedef unsigned long u64;

static long sys_call3(long nr, long a, long b, long c)
{
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "0"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return ret;
}

void _start(void)
{
    unsigned lo, hi;
    __asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi));
    u64 tsc = ((u64)hi << 32) | lo;
    static const char prefix[] = "TESSERA-LINUX-TSC tsc=";
    char line[sizeof(prefix) + 24];
    char digits[24];
    unsigned n = 0, d = 0;
    for (; n < sizeof(prefix) - 1; n++)
        line[n] = prefix[n];
    do {
        digits[d++] = (char)('0' + tsc % 10);
        tsc /= 10;
    } while (tsc);
    while (d)
        line[n++] = digits[--d];
    line[n++] = '\n';
    sys_call3(1 /* write */, 1, (long)line, n);
    sys_call3(60 /* exit */, 0, 0, 0);
    for (;;)
        ;
}
