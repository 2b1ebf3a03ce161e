/* UNIT-SOURCES: kernel/mm/pmm.c */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>

#include <tessera/pmm.h>
#include <tessera/errno.h>

#define KiB 0x400ULL
#define MiB 0x100000ULL
#define GiB 0x40000000ULL
#define PAGE PMM_PAGE_SIZE

static struct pmm *new_pmm(void)
{
    struct pmm *p = calloc(1, sizeof(*p));
    assert_non_null(p);
    return p;
}

#define R(b, l, t) { .base = (b), .length = (l), .type = (t) }

static void expect_free_list(const struct pmm *p, const struct pmm_range *want, unsigned n)
{
    unsigned i;

    assert_int_equal(p->free_count, n);
    for (i = 0; i < n; i++) {
        assert_int_equal(p->free[i].base, want[i].base);
        assert_int_equal(p->free[i].end, want[i].end);
    }
}

static void test_single_region(void **state)
{
    (void)state;
    struct pmm *p = new_pmm();
    struct boot_mem_region map[] = { R(MiB, 16 * MiB, BOOT_MEM_USABLE) };
    struct pmm_range want[] = { { MiB, 17 * MiB } };

    assert_int_equal(pmm_init(p, map, 1, NULL, 0), 0);
    expect_free_list(p, want, 1);
    assert_int_equal(pmm_total_bytes(p), 16 * MiB);
    assert_int_equal(pmm_free_bytes(p), 16 * MiB);
    assert_int_equal(pmm_largest_free(p), 16 * MiB);
    free(p);
}

/* A typical BIOS e820 map: low RAM, EBDA, ROM hole, main RAM, ACPI tables at the top. */
static void test_bios_map_and_low_megabyte(void **state)
{
    (void)state;
    struct pmm *p = new_pmm();
    struct boot_mem_region map[] = {
        R(0, 0x9fc00, BOOT_MEM_USABLE),
        R(0x9fc00, 0x400, BOOT_MEM_RESERVED),
        R(0xf0000, 0x10000, BOOT_MEM_RESERVED),
        R(MiB, 0x7ee0000 - MiB, BOOT_MEM_USABLE),
        R(0x7ee0000, 0x20000, BOOT_MEM_ACPI_RECLAIM),
        R(0xfffc0000, 0x40000, BOOT_MEM_RESERVED),
    };
    struct pmm_range want[] = { { MiB, 0x7ee0000 } };

    assert_int_equal(pmm_init(p, map, 6, NULL, 0), 0);
    expect_free_list(p, want, 1); /* nothing below 1 MiB, even though it is usable */
    assert_int_equal(pmm_total_bytes(p), 0x7ee0000 - MiB);
    free(p);
}

static void test_low_region_straddling_1m(void **state)
{
    (void)state;
    struct pmm *p = new_pmm();
    struct boot_mem_region map[] = { R(0, 32 * MiB, BOOT_MEM_USABLE) };
    struct pmm_range want[] = { { MiB, 32 * MiB } };

    assert_int_equal(pmm_init(p, map, 1, NULL, 0), 0);
    expect_free_list(p, want, 1);
    free(p);
}

static void test_unaligned_regions_trimmed_inward(void **state)
{
    (void)state;
    struct pmm *p = new_pmm();
    struct boot_mem_region map[] = {
        R(0x100800, 0x102800, BOOT_MEM_USABLE),       /* [0x100800, 0x203000) */
        R(0x300001, 0xffe, BOOT_MEM_USABLE),          /* less than a page after trimming */
        R(0x400000, 0x1fff, BOOT_MEM_USABLE),         /* one whole page */
    };
    struct pmm_range want[] = { { 0x101000, 0x203000 }, { 0x400000, 0x401000 } };

    assert_int_equal(pmm_init(p, map, 3, NULL, 0), 0);
    expect_free_list(p, want, 2);
    assert_int_equal(pmm_total_bytes(p), 0x102000 + 0x1000);
    free(p);
}

/* Reserved, ACPI, MMIO and unknown types all win over usable, whichever comes first, and are
 * widened outward to whole pages. */
static void test_overlapping_regions_non_usable_wins(void **state)
{
    (void)state;
    struct pmm *p = new_pmm();
    struct boot_mem_region map[] = {
        R(0x2000800, 0x800, BOOT_MEM_RESERVED), /* listed before the usable region it hits */
        R(MiB, 63 * MiB, BOOT_MEM_USABLE),
        R(0x3000000, 2 * MiB, BOOT_MEM_USABLE),  /* overlaps the first usable region */
        R(0x3fff000, 0x2000, BOOT_MEM_ACPI_NVS), /* straddles the end */
        R(0x1000000, 0x1000, 99),                /* unknown type: not usable */
        R(0x1800000, 0x10, BOOT_MEM_MMIO),
        R(0x1900000, 0, BOOT_MEM_RESERVED),      /* empty: ignored */
    };
    struct pmm_range want[] = {
        { MiB, 0x1000000 },
        { 0x1001000, 0x1800000 },
        { 0x1801000, 0x2000000 },
        { 0x2001000, 0x3fff000 },
    };

    assert_int_equal(pmm_init(p, map, 7, NULL, 0), 0);
    expect_free_list(p, want, 4);
    assert_int_equal(pmm_total_bytes(p), 63 * MiB - 0x1000 - 0x1000 - 0x1000 - 0x1000);
    free(p);
}

static void test_overlapping_usable_regions_merge(void **state)
{
    (void)state;
    struct pmm *p = new_pmm();
    struct boot_mem_region map[] = {
        R(4 * MiB, 4 * MiB, BOOT_MEM_USABLE),
        R(2 * MiB, 3 * MiB, BOOT_MEM_USABLE),
        R(8 * MiB, 1 * MiB, BOOT_MEM_USABLE), /* adjacent */
        R(6 * MiB, 1 * MiB, BOOT_MEM_USABLE), /* inside */
    };
    struct pmm_range want[] = { { 2 * MiB, 9 * MiB } };

    assert_int_equal(pmm_init(p, map, 4, NULL, 0), 0);
    expect_free_list(p, want, 1);
    assert_int_equal(pmm_total_bytes(p), 7 * MiB); /* counted once, not twice */
    free(p);
}

static void test_excludes(void **state)
{
    (void)state;
    struct pmm *p = new_pmm();
    struct boot_mem_region map[] = { R(0, 64 * MiB, BOOT_MEM_USABLE) };
    struct pmm_range exclude[] = {
        { 0x200000, 0x2345678 },  /* hypervisor image: end widened to 0x2346000 */
        { 0x3000800, 0x3000900 }, /* a module: the whole page goes */
        { 0x3800000, 0x3800000 }, /* empty */
        { 0x3f00000, 0x5000000 }, /* past the end of RAM */
    };
    struct pmm_range want[] = {
        { MiB, 0x200000 },
        { 0x2346000, 0x3000000 },
        { 0x3001000, 0x3f00000 },
    };

    assert_int_equal(pmm_init(p, map, 1, exclude, 4), 0);
    expect_free_list(p, want, 3);
    free(p);
}

static void test_init_bad_arguments(void **state)
{
    (void)state;
    struct pmm *p = new_pmm();
    struct boot_mem_region map[] = { R(0, 64 * MiB, BOOT_MEM_USABLE) };
    struct pmm_range backwards[] = { { 0x300000, 0x200000 } };

    assert_int_equal(pmm_init(p, map, 1, backwards, 1), -EINVAL);
    assert_int_equal(pmm_init(p, NULL, 1, NULL, 0), -EINVAL);
    assert_int_equal(pmm_init(p, map, 1, NULL, 1), -EINVAL);
    assert_int_equal(pmm_init(NULL, map, 1, NULL, 0), -EINVAL);
    /* An empty map is valid: no memory at all. */
    assert_int_equal(pmm_init(p, NULL, 0, NULL, 0), 0);
    assert_int_equal(pmm_total_bytes(p), 0);
    uint64_t phys;
    assert_int_equal(pmm_alloc(p, PAGE, PAGE, &phys), -ENOMEM);
    free(p);
}

static void test_regions_at_top_of_address_space(void **state)
{
    (void)state;
    struct pmm *p = new_pmm();
    struct boot_mem_region map[] = {
        R(MiB, UINT64_MAX, BOOT_MEM_USABLE),                 /* end wraps: clamp */
        R(UINT64_MAX - 0x800, 0x800, BOOT_MEM_USABLE),       /* nothing whole in it */
        R(0xffffffff00000000ULL, UINT64_MAX, BOOT_MEM_RESERVED), /* wraps too */
    };
    struct pmm_range want[] = { { MiB, 0xffffffff00000000ULL } };

    assert_int_equal(pmm_init(p, map, 3, NULL, 0), 0);
    expect_free_list(p, want, 1);
    free(p);
}

/* VM RAM wants 2 MiB alignment; the padding before it stays free. */
static void test_alloc_aligned(void **state)
{
    (void)state;
    struct pmm *p = new_pmm();
    struct boot_mem_region map[] = { R(0x101000, 64 * MiB, BOOT_MEM_USABLE) };
    uint64_t a, b, c;

    assert_int_equal(pmm_init(p, map, 1, NULL, 0), 0);
    assert_int_equal(pmm_alloc(p, 16 * MiB, 2 * MiB, &a), 0);
    assert_int_equal(a, 2 * MiB);
    assert_int_equal(pmm_free_bytes(p), 64 * MiB - 16 * MiB);
    /* The padding [0x101000, 0x200000) is still handed out to page-sized requests. */
    assert_int_equal(pmm_alloc(p, PAGE, PAGE, &b), 0);
    assert_int_equal(b, 0x101000);
    assert_int_equal(pmm_alloc(p, 4 * MiB, 4 * MiB, &c), 0);
    assert_int_equal(c, 20 * MiB);
    assert_int_equal(c % (4 * MiB), 0);
    assert_int_equal(pmm_alloc(p, 1 * GiB, 2 * MiB, &c), -ENOMEM);
    free(p);
}

static void test_alloc_bad_arguments(void **state)
{
    (void)state;
    struct pmm *p = new_pmm();
    struct boot_mem_region map[] = { R(MiB, 64 * MiB, BOOT_MEM_USABLE) };
    uint64_t phys = 0x1234;

    assert_int_equal(pmm_init(p, map, 1, NULL, 0), 0);
    assert_int_equal(pmm_alloc(p, 0, PAGE, &phys), -EINVAL);
    assert_int_equal(pmm_alloc(p, 100, PAGE, &phys), -EINVAL);
    assert_int_equal(pmm_alloc(p, PAGE + 1, PAGE, &phys), -EINVAL);
    assert_int_equal(pmm_alloc(p, PAGE, 0, &phys), -EINVAL);
    assert_int_equal(pmm_alloc(p, PAGE, 0x800, &phys), -EINVAL);
    assert_int_equal(pmm_alloc(p, PAGE, 3 * PAGE, &phys), -EINVAL);
    assert_int_equal(pmm_alloc(p, PAGE, PAGE, NULL), -EINVAL);
    assert_int_equal(phys, 0x1234);
    assert_int_equal(pmm_free_bytes(p), 64 * MiB); /* nothing taken */
    free(p);
}

static void test_alloc_alignment_overflow(void **state)
{
    (void)state;
    struct pmm *p = new_pmm();
    struct boot_mem_region map[] = { R(0xfffffffffff00000ULL, 0xff000, BOOT_MEM_USABLE) };
    uint64_t phys;

    assert_int_equal(pmm_init(p, map, 1, NULL, 0), 0);
    assert_int_equal(pmm_total_bytes(p), 0xff000);
    /* Aligning the base up would wrap: must fail, not hand out address 0. */
    assert_int_equal(pmm_alloc(p, PAGE, 1ULL << 63, &phys), -ENOMEM);
    assert_int_equal(pmm_alloc(p, PAGE, 2 * MiB, &phys), -ENOMEM);
    assert_int_equal(pmm_alloc(p, PAGE, PAGE, &phys), 0);
    assert_int_equal(phys, 0xfffffffffff00000ULL);
    free(p);
}

static void test_exhaustion_and_full_merge(void **state)
{
    (void)state;
    struct pmm *p = new_pmm();
    struct boot_mem_region map[] = {
        R(MiB, MiB, BOOT_MEM_USABLE),
        R(4 * MiB, 2 * MiB, BOOT_MEM_USABLE),
    };
    enum { PAGES = 3 * 256 };
    static uint64_t got[PAGES];
    uint64_t phys;
    unsigned i;

    assert_int_equal(pmm_init(p, map, 2, NULL, 0), 0);
    for (i = 0; i < PAGES; i++) {
        assert_int_equal(pmm_alloc(p, PAGE, PAGE, &got[i]), 0);
        if (i > 0)
            assert_true(got[i] > got[i - 1]); /* lowest first, never twice */
    }
    assert_int_equal(pmm_alloc(p, PAGE, PAGE, &phys), -ENOMEM);
    assert_int_equal(pmm_free_bytes(p), 0);
    assert_int_equal(pmm_largest_free(p), 0);
    assert_int_equal(p->free_count, 0);
    /* Free in a scattered order; everything merges back into the two original ranges. */
    for (i = 0; i < PAGES; i += 2)
        assert_int_equal(pmm_free(p, got[i], PAGE), 0);
    for (i = 1; i < PAGES; i += 2)
        assert_int_equal(pmm_free(p, got[i], PAGE), 0);
    struct pmm_range want[] = { { MiB, 2 * MiB }, { 4 * MiB, 6 * MiB } };
    expect_free_list(p, want, 2);
    assert_int_equal(pmm_free_bytes(p), pmm_total_bytes(p));
    free(p);
}

static void test_free_merges_neighbours(void **state)
{
    (void)state;
    struct pmm *p = new_pmm();
    struct boot_mem_region map[] = { R(MiB, 12 * PAGE, BOOT_MEM_USABLE) };
    uint64_t a, b, c;

    assert_int_equal(pmm_init(p, map, 1, NULL, 0), 0);
    assert_int_equal(pmm_alloc(p, 2 * PAGE, PAGE, &a), 0);
    assert_int_equal(pmm_alloc(p, 3 * PAGE, PAGE, &b), 0);
    assert_int_equal(pmm_alloc(p, 2 * PAGE, PAGE, &c), 0);
    assert_int_equal(b, a + 2 * PAGE);
    assert_int_equal(c, b + 3 * PAGE);
    assert_int_equal(p->free_count, 1); /* [c + 2 pages, end) */

    assert_int_equal(pmm_free(p, b, 3 * PAGE), 0); /* no neighbour free yet */
    assert_int_equal(p->free_count, 2);
    assert_int_equal(pmm_free(p, a, 2 * PAGE), 0); /* merges with b's range */
    assert_int_equal(p->free_count, 2);
    assert_int_equal(p->free[0].base, MiB);
    assert_int_equal(p->free[0].end, c);
    assert_int_equal(pmm_free(p, c, 2 * PAGE), 0); /* joins both sides */
    assert_int_equal(p->free_count, 1);
    assert_int_equal(pmm_largest_free(p), 12 * PAGE);
    free(p);
}

static void test_free_errors(void **state)
{
    (void)state;
    struct pmm *p = new_pmm();
    struct boot_mem_region map[] = {
        R(MiB, 4 * MiB, BOOT_MEM_USABLE),
        R(5 * MiB, MiB, BOOT_MEM_RESERVED),
        R(6 * MiB, 4 * MiB, BOOT_MEM_USABLE),
    };
    uint64_t a, b;

    assert_int_equal(pmm_init(p, map, 3, NULL, 0), 0);
    assert_int_equal(pmm_alloc(p, 4 * PAGE, PAGE, &a), 0);
    assert_int_equal(pmm_alloc(p, 4 * PAGE, PAGE, &b), 0);
    uint64_t before = pmm_free_bytes(p);

    assert_int_equal(pmm_free(p, a, 4 * PAGE), 0);
    assert_int_equal(pmm_free(p, a, 4 * PAGE), -EINVAL);            /* double free */
    assert_int_equal(pmm_free(p, a + PAGE, PAGE), -EINVAL);         /* inside free memory */
    assert_int_equal(pmm_free(p, b - PAGE, 2 * PAGE), -EINVAL);     /* overlaps the free a */
    assert_int_equal(pmm_free(p, b + 3 * PAGE, 2 * PAGE), -EINVAL); /* runs into free tail */
    assert_int_equal(pmm_free(p, b + 1, PAGE), -EINVAL);            /* unaligned base */
    assert_int_equal(pmm_free(p, b, PAGE + 8), -EINVAL);            /* unaligned size */
    assert_int_equal(pmm_free(p, b, 0), -EINVAL);
    assert_int_equal(pmm_free(p, 0xfffffffffffff000ULL, 2 * PAGE), -EINVAL); /* wraps */
    assert_int_equal(pmm_free(p, 5 * MiB, PAGE), -EINVAL);   /* reserved: never ours */
    assert_int_equal(pmm_free(p, 0x1000, PAGE), -EINVAL);    /* below 1 MiB */
    assert_int_equal(pmm_free(p, 5 * MiB - PAGE, 2 * PAGE), -EINVAL); /* crosses into reserved */
    assert_int_equal(pmm_free(NULL, b, PAGE), -EINVAL);
    assert_int_equal(pmm_free_bytes(p), before + 4 * PAGE); /* only the first free counted */
    assert_int_equal(pmm_free(p, b, 4 * PAGE), 0);
    assert_int_equal(pmm_free_bytes(p), pmm_total_bytes(p));
    free(p);
}

static void test_init_capacity_overflow_from_map(void **state)
{
    (void)state;
    struct pmm *p = new_pmm();
    enum { N = PMM_MAX_RANGES + 1 };
    struct boot_mem_region *map = calloc(N, sizeof(*map));
    unsigned i;

    assert_non_null(map);
    for (i = 0; i < N; i++) {
        map[i].base = 16 * MiB + i * 2 * PAGE; /* a page of RAM, a gap, a page of RAM ... */
        map[i].length = PAGE;
        map[i].type = BOOT_MEM_USABLE;
    }
    assert_int_equal(pmm_init(p, map, N - 1, NULL, 0), 0);
    assert_int_equal(p->free_count, PMM_MAX_RANGES);
    assert_int_equal(pmm_init(p, map, N, NULL, 0), -ENOSPC);
    free(map);
    free(p);
}

static void test_init_capacity_overflow_from_excludes(void **state)
{
    (void)state;
    struct pmm *p = new_pmm();
    struct boot_mem_region map[] = { R(MiB, 1 * GiB, BOOT_MEM_USABLE) };
    enum { N = PMM_MAX_RANGES };
    struct pmm_range *ex = calloc(N, sizeof(*ex));
    unsigned i;

    assert_non_null(ex);
    for (i = 0; i < N; i++) { /* each hole splits one range into two */
        ex[i].base = 2 * MiB + i * 2 * PAGE;
        ex[i].end = ex[i].base + PAGE;
    }
    assert_int_equal(pmm_init(p, map, 1, ex, N - 1), 0);
    assert_int_equal(p->free_count, PMM_MAX_RANGES);
    assert_int_equal(pmm_init(p, map, 1, ex, N), -ENOSPC);
    free(ex);
    free(p);
}

/* With the free list full, an allocation that would split a range is skipped (the next range
 * may fit whole), a free that merges with nothing fails with -ENOSPC and changes nothing. */
static void test_full_free_list(void **state)
{
    (void)state;
    struct pmm *p = new_pmm();
    enum { CHUNKS = PMM_MAX_RANGES, PAGES = 4 * CHUNKS };
    struct boot_mem_region map[] = { R(16 * MiB, PAGES * PAGE, BOOT_MEM_USABLE) };
    uint64_t phys, base = 16 * MiB;
    unsigned i;

    assert_int_equal(pmm_init(p, map, 1, NULL, 0), 0);
    assert_int_equal(pmm_alloc(p, PAGES * PAGE, PAGE, &phys), 0);
    assert_int_equal(phys, base);
    /* Free pages 4k+1 .. 4k+3 of every chunk: 512 ranges of 3 pages starting at an odd page. */
    for (i = 0; i < CHUNKS; i++)
        assert_int_equal(pmm_free(p, base + (4 * i + 1) * PAGE, 3 * PAGE), 0);
    assert_int_equal(p->free_count, PMM_MAX_RANGES);
    uint64_t free_before = pmm_free_bytes(p);

    /* Page 4k (allocated) would be a new range between two others: no slot. */
    assert_int_equal(pmm_free(p, base + 4 * PAGE, 2 * PAGE), -EINVAL); /* overlaps: checked first */
    assert_int_equal(pmm_free(p, base, PAGE), 0);          /* merges with chunk 0: no slot needed */
    assert_int_equal(p->free_count, PMM_MAX_RANGES);
    assert_int_equal(pmm_alloc(p, PAGE, PAGE, &phys), 0);  /* takes it back from the front */
    assert_int_equal(phys, base);
    /* Page 4k+2 (8 KiB aligned) of a 3-page range at an odd page would leave pages on both sides:
     * every range would need splitting, so nothing fits. */
    assert_int_equal(pmm_alloc(p, PAGE, 2 * PAGE, &phys), -ENOMEM);
    assert_int_equal(pmm_free_bytes(p), free_before);
    /* Two aligned pages end exactly at the range end: no split needed. */
    assert_int_equal(pmm_alloc(p, 2 * PAGE, 2 * PAGE, &phys), 0);
    assert_int_equal(phys, base + 2 * PAGE);
    assert_int_equal(p->free_count, PMM_MAX_RANGES);

    /* Make the list full of non-adjacent ranges again, then free an isolated page. */
    assert_int_equal(pmm_free(p, base + 2 * PAGE, 2 * PAGE), 0);
    assert_int_equal(pmm_alloc(p, PAGE, PAGE, &phys), 0); /* page 1 of chunk 0 */
    assert_int_equal(pmm_alloc(p, PAGE, PAGE, &phys), 0); /* page 2 of chunk 0 */
    assert_int_equal(p->free_count, PMM_MAX_RANGES);       /* chunk 0 is now just page 3 */
    assert_int_equal(pmm_free(p, base + PAGE, PAGE), -ENOSPC); /* page 2 still allocated */
    assert_int_equal(p->free_count, PMM_MAX_RANGES);
    assert_int_equal(pmm_free(p, base + 2 * PAGE, PAGE), 0); /* merges with page 3 */
    free(p);
}

static void test_many_independent_instances(void **state)
{
    (void)state;
    struct pmm *a = new_pmm(), *b = new_pmm();
    struct boot_mem_region map_a[] = { R(MiB, MiB, BOOT_MEM_USABLE) };
    struct boot_mem_region map_b[] = { R(8 * MiB, MiB, BOOT_MEM_USABLE) };
    uint64_t x, y;

    assert_int_equal(pmm_init(a, map_a, 1, NULL, 0), 0);
    assert_int_equal(pmm_init(b, map_b, 1, NULL, 0), 0);
    assert_int_equal(pmm_alloc(a, PAGE, PAGE, &x), 0);
    assert_int_equal(pmm_alloc(b, PAGE, PAGE, &y), 0);
    assert_int_equal(x, MiB);
    assert_int_equal(y, 8 * MiB);
    assert_int_equal(pmm_free(a, y, PAGE), -EINVAL); /* b's page is not a's */
    free(a);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_region),
        cmocka_unit_test(test_bios_map_and_low_megabyte),
        cmocka_unit_test(test_low_region_straddling_1m),
        cmocka_unit_test(test_unaligned_regions_trimmed_inward),
        cmocka_unit_test(test_overlapping_regions_non_usable_wins),
        cmocka_unit_test(test_overlapping_usable_regions_merge),
        cmocka_unit_test(test_excludes),
        cmocka_unit_test(test_init_bad_arguments),
        cmocka_unit_test(test_regions_at_top_of_address_space),
        cmocka_unit_test(test_alloc_aligned),
        cmocka_unit_test(test_alloc_bad_arguments),
        cmocka_unit_test(test_alloc_alignment_overflow),
        cmocka_unit_test(test_exhaustion_and_full_merge),
        cmocka_unit_test(test_free_merges_neighbours),
        cmocka_unit_test(test_free_errors),
        cmocka_unit_test(test_init_capacity_overflow_from_map),
        cmocka_unit_test(test_init_capacity_overflow_from_excludes),
        cmocka_unit_test(test_full_free_list),
        cmocka_unit_test(test_many_independent_instances),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
