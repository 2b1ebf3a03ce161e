/* Second-level table builder: mappings, leaf sizes, exact entry bits, EPTP, errors and rollback
 * (EPT format), and the NPT format's entry bits, N_CR3 and translation. */
/* UNIT-SOURCES: arch/x86/slat.c */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <x86/slat.h>

#define POOL_MAX 64
#define POOL_BASE 0x40000000ull /* fake host-physical address of page 0 of the pool */
#define K4 0x1000ull
#define M2 0x200000ull
#define G1 0x40000000ull
#define G512 0x8000000000ull

struct pool {
    uint64_t *pages[POOL_MAX];
    unsigned used;
    unsigned limit;    /* allocations allowed before -ENOMEM */
    int bad_phys;      /* 1: misaligned, 2: zero, 3: beyond 52 bits */
    int p2v_fail;      /* p2v returns NULL */
    unsigned visited;  /* slat_for_each_table callback count */
    uint64_t visit_order[POOL_MAX];
};

static int pool_alloc(void *ctx, uint64_t *phys)
{
    struct pool *p = ctx;
    if (p->used >= p->limit || p->used >= POOL_MAX)
        return -ENOMEM;
    if (p->bad_phys == 1) {
        *phys = POOL_BASE + 8;
        return 0;
    }
    if (p->bad_phys == 2) {
        *phys = 0;
        return 0;
    }
    if (p->bad_phys == 3) {
        *phys = 1ull << 52;
        return 0;
    }
    uint64_t *page = aligned_alloc(4096, 4096);
    assert_non_null(page);
    memset(page, 0xff, 4096); /* dirty on purpose: the builder must zero it */
    p->pages[p->used] = page;
    *phys = POOL_BASE + p->used * K4;
    p->used++;
    return 0;
}

static void *pool_p2v(void *ctx, uint64_t phys)
{
    struct pool *p = ctx;
    if (p->p2v_fail || phys < POOL_BASE || (phys & (K4 - 1)) != 0)
        return NULL;
    uint64_t i = (phys - POOL_BASE) / K4;
    return i < p->used ? p->pages[i] : NULL;
}

static int setup(void **state)
{
    struct pool *p = calloc(1, sizeof(*p));
    p->limit = POOL_MAX;
    *state = p;
    return 0;
}

static int teardown(void **state)
{
    struct pool *p = *state;
    for (unsigned i = 0; i < p->used; i++)
        free(p->pages[i]);
    free(p);
    return 0;
}

static void init_ept(struct pool *p, struct slat *e)
{
    assert_int_equal(slat_init(e, SLAT_FORMAT_EPT, pool_alloc, pool_p2v, p), 0);
}

/* Raw entry at a level (3 = PML4 .. 0 = PT) for gpa; fails the test if the walk stops earlier. */
static uint64_t raw_entry(struct pool *p, const struct slat *e, uint64_t gpa, int level)
{
    uint64_t *table = pool_p2v(p, e->pml4_phys);
    for (int l = 3;; l--) {
        assert_non_null(table);
        uint64_t entry = table[(gpa >> (12 + 9 * l)) & 511];
        if (l == level)
            return entry;
        assert_int_equal(entry & 7, 7);
        assert_int_equal(entry & 0x80, 0);
        table = pool_p2v(p, entry & SLAT_ENTRY_ADDR_MASK);
    }
}

/* Level of the leaf mapping gpa (2: 1G, 1: 2M, 0: 4K), -1 if unmapped. */
static int leaf_level(struct pool *p, const struct slat *e, uint64_t gpa)
{
    uint64_t *table = pool_p2v(p, e->pml4_phys);
    for (int l = 3; l >= 0; l--) {
        uint64_t entry = table[(gpa >> (12 + 9 * l)) & 511];
        if ((entry & 7) == 0)
            return -1;
        if (l == 0 || (entry & 0x80))
            return l;
        table = pool_p2v(p, entry & SLAT_ENTRY_ADDR_MASK);
    }
    return -1;
}

static void expect_translation(const struct slat *e, uint64_t gpa, uint64_t hpa, uint32_t perms)
{
    uint64_t got = 0;
    uint32_t got_perms = 0;
    assert_int_equal(slat_translate(e, gpa, &got, &got_perms), 0);
    assert_int_equal(got, hpa);
    assert_int_equal(got_perms, perms);
}

static void expect_unmapped(const struct slat *e, uint64_t gpa)
{
    uint64_t got = 0xdead;
    assert_int_equal(slat_translate(e, gpa, &got, NULL), -ENOENT);
    assert_int_equal(got, 0xdead);
}

/* The 4 KiB leaf of gpa in NPT format (every level present). */
static uint64_t raw_entry_npt(struct pool *p, const struct slat *e, uint64_t gpa)
{
    uint64_t *table = pool_p2v(p, e->pml4_phys);
    for (int l = 3;; l--) {
        assert_non_null(table);
        uint64_t entry = table[(gpa >> (12 + 9 * l)) & 511];
        if (l == 0)
            return entry;
        assert_int_equal(entry & 0x87, 7);
        table = pool_p2v(p, entry & SLAT_ENTRY_ADDR_MASK);
    }
}

static void test_init_and_pointer(void **state)
{
    struct pool *p = *state;
    struct slat e;
    init_ept(p, &e);
    assert_int_equal(e.table_pages, 1);
    assert_int_equal(e.pml4_phys, POOL_BASE);
    assert_false(e.allow_1g);
    /* The dirty page was zeroed: nothing is mapped. */
    for (unsigned i = 0; i < 512; i++)
        assert_int_equal(p->pages[0][i], 0);
    expect_unmapped(&e, 0);
    /* WB (6) in bits 2:0, walk length 4 - 1 = 3 in bits 5:3, A/D (bit 6) off. */
    assert_int_equal(slat_ept_pointer(&e), POOL_BASE | 0x1e);
}

static void test_init_errors(void **state)
{
    struct pool *p = *state;
    struct slat e;
    assert_int_equal(slat_init(NULL, SLAT_FORMAT_EPT, pool_alloc, pool_p2v, p), -EINVAL);
    assert_int_equal(slat_init(&e, SLAT_FORMAT_EPT, NULL, pool_p2v, p), -EINVAL);
    assert_int_equal(slat_init(&e, SLAT_FORMAT_EPT, pool_alloc, NULL, p), -EINVAL);
    p->limit = 0;
    assert_int_equal(slat_init(&e, SLAT_FORMAT_EPT, pool_alloc, pool_p2v, p), -ENOMEM);
    assert_int_equal(e.table_pages, 0);
    p->limit = POOL_MAX;
    for (int mode = 1; mode <= 3; mode++) {
        p->bad_phys = mode;
        assert_int_equal(slat_init(&e, SLAT_FORMAT_EPT, pool_alloc, pool_p2v, p), -EINVAL);
        assert_int_equal(e.table_pages, 0);
    }
    p->bad_phys = 0;
    p->p2v_fail = 1;
    assert_int_equal(slat_init(&e, SLAT_FORMAT_EPT, pool_alloc, pool_p2v, p), -EFAULT);
    assert_int_equal(e.table_pages, 0);
}

static void test_map_4k_exact_bits(void **state)
{
    struct pool *p = *state;
    struct slat e;
    init_ept(p, &e);
    uint64_t gpa = 0x123000, hpa = 0x7654000;
    assert_int_equal(slat_map(&e, gpa, hpa, K4, SLAT_READ | SLAT_WRITE), 0);
    assert_int_equal(e.table_pages, 4);
    expect_translation(&e, gpa, hpa, SLAT_READ | SLAT_WRITE);
    expect_translation(&e, gpa + 0xabc, hpa + 0xabc, SLAT_READ | SLAT_WRITE);
    expect_translation(&e, gpa + 0xfff, hpa + 0xfff, SLAT_READ | SLAT_WRITE);
    expect_unmapped(&e, gpa - 1);
    expect_unmapped(&e, gpa + K4);
    /* Leaf: address | WB << 3 | perms; no bit 7, no ignore-PAT, no A/D. */
    assert_int_equal(raw_entry(p, &e, gpa, 0), hpa | 0x30 | 3);
    /* Non-leaf: next table | RWX, nothing else. */
    assert_int_equal(raw_entry(p, &e, gpa, 3), (POOL_BASE + 1 * K4) | 7);
    assert_int_equal(raw_entry(p, &e, gpa, 2), (POOL_BASE + 2 * K4) | 7);
    assert_int_equal(raw_entry(p, &e, gpa, 1), (POOL_BASE + 3 * K4) | 7);
}

static void test_map_2m_exact_bits(void **state)
{
    struct pool *p = *state;
    struct slat e;
    init_ept(p, &e);
    assert_int_equal(slat_map(&e, 4 * M2, 0x80000000ull, 2 * M2, SLAT_READ | SLAT_EXEC), 0);
    assert_int_equal(e.table_pages, 3); /* PML4, PDPT, PD: no page table */
    assert_int_equal(leaf_level(p, &e, 4 * M2), 1);
    assert_int_equal(leaf_level(p, &e, 5 * M2), 1);
    assert_int_equal(raw_entry(p, &e, 4 * M2, 1), 0x80000000ull | 0x80 | 0x30 | 5);
    assert_int_equal(raw_entry(p, &e, 5 * M2, 1), (0x80000000ull + M2) | 0x80 | 0x30 | 5);
    expect_translation(&e, 4 * M2 + 0x12345, 0x80012345ull, SLAT_READ | SLAT_EXEC);
    expect_translation(&e, 6 * M2 - 1, 0x80000000ull + 2 * M2 - 1, SLAT_READ | SLAT_EXEC);
    expect_unmapped(&e, 6 * M2);
    expect_unmapped(&e, 4 * M2 - K4);
}

static void test_unaligned_head_and_tail(void **state)
{
    struct pool *p = *state;
    struct slat e;
    init_ept(p, &e);
    uint64_t gpa = 0x1ff000, hpa = 0x101ff000ull, size = 2 * M2 + 2 * K4;
    assert_int_equal(slat_map(&e, gpa, hpa, size, SLAT_READ | SLAT_WRITE | SLAT_EXEC), 0);
    assert_int_equal(leaf_level(p, &e, 0x1ff000), 0);
    assert_int_equal(leaf_level(p, &e, 0x200000), 1);
    assert_int_equal(leaf_level(p, &e, 0x400000), 1);
    assert_int_equal(leaf_level(p, &e, 0x600000), 0);
    /* PML4, PDPT, PD, the head's PT and the tail's PT. */
    assert_int_equal(e.table_pages, 5);
    for (uint64_t off = 0; off < size; off += K4)
        expect_translation(&e, gpa + off + 0x10, hpa + off + 0x10, 7);
    expect_unmapped(&e, gpa - K4);
    expect_unmapped(&e, gpa + size);
}

static void test_misaligned_hpa_uses_4k(void **state)
{
    struct pool *p = *state;
    struct slat e;
    init_ept(p, &e);
    /* gpa is 2M-aligned, hpa is not: every page must be 4K. */
    assert_int_equal(slat_map(&e, M2, 0x5001000ull, M2, SLAT_READ), 0);
    assert_int_equal(e.table_pages, 4);
    for (uint64_t off = 0; off < M2; off += K4) {
        assert_int_equal(leaf_level(p, &e, M2 + off), 0);
        expect_translation(&e, M2 + off, 0x5001000ull + off, SLAT_READ);
    }
    /* Same with hpa aligned and gpa not. */
    assert_int_equal(slat_map(&e, 8 * M2 + K4, 0x40000000ull, M2, SLAT_READ), 0);
    assert_int_equal(leaf_level(p, &e, 8 * M2 + K4), 0);
    assert_int_equal(leaf_level(p, &e, 9 * M2), 0);
    expect_translation(&e, 9 * M2, 0x40000000ull + M2 - K4, SLAT_READ);
}

static void test_size_smaller_than_2m_uses_4k(void **state)
{
    struct pool *p = *state;
    struct slat e;
    init_ept(p, &e);
    assert_int_equal(slat_map(&e, M2, M2, M2 - K4, SLAT_READ), 0);
    assert_int_equal(leaf_level(p, &e, M2), 0);
    expect_unmapped(&e, 2 * M2 - K4);
}

static void test_1g_boundary(void **state)
{
    struct pool *p = *state;
    struct slat e;
    init_ept(p, &e);
    assert_int_equal(slat_map(&e, G1 - M2, 0x200000000ull, 2 * M2, SLAT_READ), 0);
    /* Two PDPT entries, so two PDs. */
    assert_int_equal(e.table_pages, 4);
    assert_int_equal(leaf_level(p, &e, G1 - M2), 1);
    assert_int_equal(leaf_level(p, &e, G1), 1);
    expect_translation(&e, G1 - 1, 0x200000000ull + M2 - 1, SLAT_READ);
    expect_translation(&e, G1, 0x200000000ull + M2, SLAT_READ);
    expect_unmapped(&e, G1 + M2);
}

static void test_512g_boundary(void **state)
{
    struct pool *p = *state;
    struct slat e;
    init_ept(p, &e);
    assert_int_equal(slat_map(&e, G512 - K4, 0x3000ull, 2 * K4, SLAT_READ), 0);
    /* Two PML4 entries, each with its own PDPT, PD and PT. */
    assert_int_equal(e.table_pages, 7);
    expect_translation(&e, G512 - K4, 0x3000, SLAT_READ);
    expect_translation(&e, G512, 0x4000, SLAT_READ);
    expect_unmapped(&e, G512 + K4);
    expect_unmapped(&e, G512 - 2 * K4);
}

static void test_top_of_48_bits(void **state)
{
    struct pool *p = *state;
    struct slat e;
    init_ept(p, &e);
    uint64_t top = SLAT_GPA_LIMIT - K4;
    assert_int_equal(slat_map(&e, top, 0x9000, K4, SLAT_READ), 0);
    expect_translation(&e, SLAT_GPA_LIMIT - 1, 0x9fff, SLAT_READ);
    assert_int_equal(slat_translate(&e, SLAT_GPA_LIMIT, NULL, NULL), -EINVAL);
    /* hpa up to the 52-bit limit is fine. */
    assert_int_equal(slat_map(&e, 0, SLAT_HPA_LIMIT - K4, K4, SLAT_READ), 0);
    expect_translation(&e, 0, SLAT_HPA_LIMIT - K4, SLAT_READ);
}

static void test_1g_pages_behind_flag(void **state)
{
    struct pool *p = *state;
    struct slat e;
    init_ept(p, &e);
    /* Without the flag: 512 2M leaves in one PD. */
    assert_int_equal(slat_map(&e, G1, G1, G1, SLAT_READ | SLAT_WRITE), 0);
    assert_int_equal(e.table_pages, 3);
    assert_int_equal(leaf_level(p, &e, G1), 1);
    assert_int_equal(leaf_level(p, &e, 2 * G1 - M2), 1);

    e.allow_1g = true;
    assert_int_equal(slat_map(&e, 2 * G1, 4 * G1, G1, SLAT_READ | SLAT_WRITE), 0);
    assert_int_equal(e.table_pages, 3); /* the leaf sits in the existing PDPT */
    assert_int_equal(leaf_level(p, &e, 2 * G1), 2);
    assert_int_equal(raw_entry(p, &e, 2 * G1, 2), 4 * G1 | 0x80 | 0x30 | 3);
    expect_translation(&e, 3 * G1 - 1, 5 * G1 - 1, SLAT_READ | SLAT_WRITE);
    expect_translation(&e, 2 * G1 + 0x1234567, 4 * G1 + 0x1234567, SLAT_READ | SLAT_WRITE);
    /* 1G allowed but hpa only 2M-aligned: 2M leaves. */
    assert_int_equal(slat_map(&e, 3 * G1, 8 * G1 + M2, G1, SLAT_READ), 0);
    assert_int_equal(leaf_level(p, &e, 3 * G1), 1);
    assert_int_equal(e.table_pages, 4);
}

static void test_perms_per_mapping(void **state)
{
    struct pool *p = *state;
    struct slat e;
    init_ept(p, &e);
    const uint32_t perms[] = {SLAT_READ, SLAT_READ | SLAT_WRITE, SLAT_READ | SLAT_EXEC,
                              SLAT_READ | SLAT_WRITE | SLAT_EXEC, SLAT_EXEC};
    for (unsigned i = 0; i < 5; i++)
        assert_int_equal(slat_map(&e, i * K4, 0x100000 + i * K4, K4, perms[i]), 0);
    for (unsigned i = 0; i < 5; i++)
        expect_translation(&e, i * K4, 0x100000 + i * K4, perms[i]);
}

static void test_overlap_is_eexist(void **state)
{
    struct pool *p = *state;
    struct slat e;
    init_ept(p, &e);
    assert_int_equal(slat_map(&e, 2 * M2, 0x10000000ull, M2, SLAT_READ), 0);
    assert_int_equal(slat_map(&e, 4 * M2, 0x10400000ull, K4, SLAT_READ), 0);
    unsigned pages = e.table_pages;

    /* Inside a 2M leaf. */
    assert_int_equal(slat_map(&e, 2 * M2 + K4, 0x1000, K4, SLAT_READ), -EEXIST);
    /* A range whose head is free and whose tail hits the 2M leaf: nothing of it is mapped. */
    assert_int_equal(slat_map(&e, M2, 0x1000000ull, M2 + K4, SLAT_READ), -EEXIST);
    expect_unmapped(&e, M2);
    expect_unmapped(&e, 2 * M2 - K4);
    /* Tail hits a 4K leaf. */
    assert_int_equal(slat_map(&e, 3 * M2, 0x2000000ull, M2 + K4, SLAT_READ), -EEXIST);
    expect_unmapped(&e, 3 * M2);
    /* A 2M-aligned range over a PD slot holding a page table with one 4K leaf. */
    assert_int_equal(slat_map(&e, 4 * M2, 0x3000000ull, M2, SLAT_READ), -EEXIST);
    assert_int_equal(e.table_pages, pages);
    /* The existing mappings are untouched. */
    expect_translation(&e, 2 * M2, 0x10000000ull, SLAT_READ);
    expect_translation(&e, 4 * M2, 0x10400000ull, SLAT_READ);
    /* A range needing new tables before it reaches a mapped page allocates none. */
    assert_int_equal(slat_map(&e, 2 * G1, 0x1000, K4, SLAT_READ), 0);
    pages = e.table_pages;
    assert_int_equal(slat_map(&e, G1, 0x2000, G1 + K4, SLAT_READ), -EEXIST);
    assert_int_equal(e.table_pages, pages);
    expect_unmapped(&e, G1);
    /* Exactly adjacent ranges are fine. */
    assert_int_equal(slat_map(&e, M2, 0x1000000ull, M2, SLAT_READ), 0);
    assert_int_equal(slat_map(&e, 3 * M2, 0x2000000ull, M2, SLAT_READ), 0);
    assert_int_equal(slat_map(&e, 4 * M2 + K4, 0x3001000ull, K4, SLAT_READ), 0);
}

static void test_invalid_arguments(void **state)
{
    struct pool *p = *state;
    struct slat e;
    init_ept(p, &e);
    const uint32_t rw = SLAT_READ | SLAT_WRITE;
    assert_int_equal(slat_map(NULL, 0, 0, K4, rw), -EINVAL);
    assert_int_equal(slat_map(&e, 0, 0, 0, rw), -EINVAL);
    assert_int_equal(slat_map(&e, 0x800, 0, K4, rw), -EINVAL);
    assert_int_equal(slat_map(&e, 0, 0x800, K4, rw), -EINVAL);
    assert_int_equal(slat_map(&e, 0, 0, K4 + 1, rw), -EINVAL);
    assert_int_equal(slat_map(&e, 0, 0, K4, 0), -EINVAL);
    assert_int_equal(slat_map(&e, 0, 0, K4, 8), -EINVAL);
    assert_int_equal(slat_map(&e, 0, 0, K4, SLAT_READ | 0x100), -EINVAL);
    assert_int_equal(slat_map(&e, 0, 0, K4, SLAT_WRITE), -EINVAL);
    assert_int_equal(slat_map(&e, 0, 0, K4, SLAT_WRITE | SLAT_EXEC), -EINVAL);
    /* Guest-physical beyond 48 bits, or a range crossing the limit or wrapping. */
    assert_int_equal(slat_map(&e, SLAT_GPA_LIMIT, 0, K4, rw), -EINVAL);
    assert_int_equal(slat_map(&e, SLAT_GPA_LIMIT - K4, 0, 2 * K4, rw), -EINVAL);
    assert_int_equal(slat_map(&e, K4, 0, UINT64_MAX & ~0xfffull, rw), -EINVAL);
    /* Host-physical beyond 52 bits or crossing the limit. */
    assert_int_equal(slat_map(&e, 0, SLAT_HPA_LIMIT, K4, rw), -EINVAL);
    assert_int_equal(slat_map(&e, 0, SLAT_HPA_LIMIT - K4, 2 * K4, rw), -EINVAL);
    assert_int_equal(slat_map(&e, 0, 0xfffffffffffff000ull, K4, rw), -EINVAL);
    /* None of it mapped or allocated anything. */
    assert_int_equal(e.table_pages, 1);
    expect_unmapped(&e, 0);
    assert_int_equal(slat_translate(NULL, 0, NULL, NULL), -EINVAL);
}

static void test_enomem_rolls_back(void **state)
{
    struct pool *p = *state;
    struct slat e;
    init_ept(p, &e);
    /* hpa is 4K off from gpa: all 4K leaves, two page tables, 5 tables in all. Allow 4. */
    p->limit = 4;
    assert_int_equal(slat_map(&e, 0, K4, 2 * M2, SLAT_READ), -ENOMEM);
    assert_int_equal(e.table_pages, 4);
    /* The first 512 pages had been written, and were rolled back. */
    expect_unmapped(&e, 0);
    expect_unmapped(&e, M2 - K4);
    expect_unmapped(&e, M2);

    /* With memory again the same map succeeds, reusing the empty tables. */
    p->limit = POOL_MAX;
    assert_int_equal(slat_map(&e, 0, K4, 2 * M2, SLAT_READ), 0);
    assert_int_equal(e.table_pages, 5);
    expect_translation(&e, 0, K4, SLAT_READ);
    expect_translation(&e, 2 * M2 - K4, 2 * M2, SLAT_READ);
}

static void count_table(void *ctx, uint64_t phys)
{
    struct pool *p = ctx;
    assert_true(p->visited < POOL_MAX);
    p->visit_order[p->visited++] = phys;
}

static void test_empty_table_reused_for_2m_range(void **state)
{
    struct pool *p = *state;
    struct slat e;
    init_ept(p, &e);
    /* A failed 4K map leaves an empty page table in PD slot 0. */
    p->limit = 4;
    assert_int_equal(slat_map(&e, 0, K4, 2 * M2, SLAT_READ), -ENOMEM);
    p->limit = POOL_MAX;
    /* A 2M-aligned map over that slot goes through the existing table (4K leaves) instead of
     * dropping it, so every table stays reachable for freeing. */
    assert_int_equal(slat_map(&e, 0, M2, M2, SLAT_READ), 0);
    assert_int_equal(e.table_pages, 4);
    assert_int_equal(leaf_level(p, &e, 0), 0);
    expect_translation(&e, M2 - 1, 2 * M2 - 1, SLAT_READ);
    slat_for_each_table(&e, count_table, p);
    assert_int_equal(p->visited, 4);
}

static void test_for_each_table(void **state)
{
    struct pool *p = *state;
    struct slat e;
    init_ept(p, &e);
    assert_int_equal(slat_map(&e, G512 - K4, 0x3000ull, 2 * K4, SLAT_READ), 0);
    assert_int_equal(slat_map(&e, 0, 0, 4 * M2, SLAT_READ), 0); /* 2M leaves are not tables */
    /* PML4; PML4[0]: PDPT, PD, PT, plus a PD for gpa 0; PML4[1]: PDPT, PD, PT. */
    assert_int_equal(e.table_pages, 8);
    slat_for_each_table(&e, count_table, p);
    assert_int_equal(p->visited, e.table_pages);
    assert_int_equal(p->visit_order[p->visited - 1], e.pml4_phys); /* parents after children */
    for (unsigned i = 0; i < p->visited; i++)
        for (unsigned j = i + 1; j < p->visited; j++)
            assert_int_not_equal(p->visit_order[i], p->visit_order[j]);
    /* Nothing to visit without an EPT or a callback. */
    p->visited = 0;
    slat_for_each_table(NULL, count_table, p);
    slat_for_each_table(&e, NULL, p);
    assert_int_equal(p->visited, 0);
}

static void test_unreachable_tables_are_efault(void **state)
{
    struct pool *p = *state;
    struct slat e;
    init_ept(p, &e);
    assert_int_equal(slat_map(&e, 0, 0, K4, SLAT_READ), 0);
    p->p2v_fail = 1;
    assert_int_equal(slat_map(&e, M2, 0, K4, SLAT_READ), -EFAULT);
    assert_int_equal(slat_translate(&e, 0, NULL, NULL), -EFAULT);
    p->p2v_fail = 0;
    expect_unmapped(&e, M2);
    /* An allocator handing out a misaligned page fails the map cleanly. */
    p->bad_phys = 1;
    assert_int_equal(slat_map(&e, G1, 0, K4, SLAT_READ), -EINVAL);
    p->bad_phys = 0;
    expect_unmapped(&e, G1);
    expect_translation(&e, 0, 0, SLAT_READ);
}

/* NPT: every level P|RW|US (nested walks are user accesses, APM 15.25.5), leaves with PS at 2M,
 * NX without execute, PAT/PWT/PCD clear (write-back); N_CR3 is the PML4's address. */
static void test_npt_format(void **state)
{
    struct pool *p = *state;
    struct slat e;
    assert_int_equal(slat_init(&e, SLAT_FORMAT_NPT, pool_alloc, pool_p2v, p), 0);
    assert_int_equal(slat_npt_cr3(&e), POOL_BASE);
    assert_int_equal(slat_map(&e, 0, 0x40000000, 0x200000 + K4, SLAT_READ | SLAT_WRITE | SLAT_EXEC), 0);
    uint64_t *pml4 = pool_p2v(p, e.pml4_phys);
    assert_int_equal(pml4[0] & 0xfff, 7);
    assert_int_equal(pml4[0] >> 63, 0);
    uint64_t *pdpt = pool_p2v(p, pml4[0] & SLAT_ENTRY_ADDR_MASK);
    assert_int_equal(pdpt[0] & 0xfff, 7);
    uint64_t *pd = pool_p2v(p, pdpt[0] & SLAT_ENTRY_ADDR_MASK);
    assert_int_equal(pd[0], 0x40000000ull | 0x80 | 7); /* 2 MiB leaf: PS, P, RW, US */
    assert_int_equal(pd[1] & 0xfff, 7);                /* a table for the 4 KiB rest */
    uint64_t *pt = pool_p2v(p, pd[1] & SLAT_ENTRY_ADDR_MASK);
    assert_int_equal(pt[0], 0x40200000ull | 7);
    expect_translation(&e, 0x1234, 0x40001234, SLAT_READ | SLAT_WRITE | SLAT_EXEC);
    expect_translation(&e, 0x200fff, 0x40200fff, SLAT_READ | SLAT_WRITE | SLAT_EXEC);
    expect_unmapped(&e, 0x201000);
    /* read-only, no execute */
    assert_int_equal(slat_map(&e, 0x400000, 0x50000000, K4, SLAT_READ), 0);
    expect_translation(&e, 0x400000, 0x50000000, SLAT_READ);
    assert_int_equal(raw_entry_npt(p, &e, 0x400000), 0x50000000ull | 5 | (1ull << 63));
    assert_int_equal(slat_map(&e, 0x500000, 0x50000000, K4, SLAT_WRITE), -EINVAL);
    assert_int_equal(slat_map(&e, 0x1000, 0x60000000, K4, SLAT_READ), -EEXIST);
    assert_int_equal(slat_init(&e, (enum slat_format)7, pool_alloc, pool_p2v, p), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_init_and_pointer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_init_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_4k_exact_bits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_2m_exact_bits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unaligned_head_and_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_misaligned_hpa_uses_4k, setup, teardown),
        cmocka_unit_test_setup_teardown(test_size_smaller_than_2m_uses_4k, setup, teardown),
        cmocka_unit_test_setup_teardown(test_1g_boundary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_512g_boundary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_top_of_48_bits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_1g_pages_behind_flag, setup, teardown),
        cmocka_unit_test_setup_teardown(test_perms_per_mapping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overlap_is_eexist, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enomem_rolls_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_table_reused_for_2m_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_for_each_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unreachable_tables_are_efault, setup, teardown),
        cmocka_unit_test_setup_teardown(test_npt_format, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
