/* compute: a deterministic, integer-only CPU workload. The checksum depends only on the
 * iteration count, so it is identical on every run and platform; the rdtsc delta around the work
 * is what the benchmark compares between a VM and a bare run. Multiboot 1 so GRUB's `multiboot`
 * (and QEMU -kernel) can run it bare. */
#include "guest.h"
#include "multiboot.h"

#define COMPUTE_WORDS 1024
#define COMPUTE_DEFAULT_ITERATIONS 200
#define COMPUTE_MAX_ITERATIONS 100000000ull

static uint32_t buffer[COMPUTE_WORDS];

static uint32_t xorshift32(uint32_t x)
{
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return x;
}

static uint32_t rotl32(uint32_t x, unsigned r)
{
    return (x << r) | (x >> (32 - r));
}

/* One round: fill the buffer from a generator seeded by the running hash, then fold it in with a
 * multiply-rotate mix (MurmurHash3's constants, written from its published description). */
static uint32_t compute_round(uint32_t hash, uint32_t round)
{
    uint32_t x = hash ^ (round * 0x9e3779b9u) ^ 0xa5a5a5a5u;
    if (x == 0)
        x = 1; /* xorshift must not start at zero */
    for (int i = 0; i < COMPUTE_WORDS; i++) {
        x = xorshift32(x);
        buffer[i] = x;
    }
    for (int i = 0; i < COMPUTE_WORDS; i++) {
        uint32_t k = buffer[i] * 0xcc9e2d51u;
        k = rotl32(k, 15) * 0x1b873593u;
        hash = rotl32(hash ^ k, 13) * 5 + 0xe6546b64u;
    }
    return hash;
}

int multiboot_main(uint32_t magic, const struct multiboot_info *mbi)
{
    (void)mbi;
    bool under_tessera = tessera_detect(NULL, NULL);
    guest_printf("compute: start mode=%s boot=%s\n", under_tessera ? "tessera" : "bare",
                 magic == MULTIBOOT_BOOT_MAGIC ? "multiboot" : "unknown");

    uint64_t iterations, timing;
    if (cmdline_u64_option("compute", guest_cmdline, "iterations", COMPUTE_DEFAULT_ITERATIONS, 1,
                           COMPUTE_MAX_ITERATIONS, &iterations) < 0 ||
        cmdline_u64_option("compute", guest_cmdline, "timing", 1, 0, 1, &timing) < 0)
        return 2;

    uint32_t hash = 0x811c9dc5u;
    uint64_t start = rdtsc();
    for (uint32_t round = 0; round < (uint32_t)iterations; round++)
        hash = compute_round(hash, round);
    uint64_t end = rdtsc();

    /* timing=0: the output is then fixed, so a test can compare it byte for byte */
    if (timing)
        guest_printf("compute: iterations=%llu checksum=0x%08x tsc=%llu\n",
                     (unsigned long long)iterations, hash, (unsigned long long)(end - start));
    else
        guest_printf("compute: iterations=%llu checksum=0x%08x\n", (unsigned long long)iterations,
                     hash);
    guest_printf("compute: done\n");
    return 0;
}
