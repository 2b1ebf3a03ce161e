/* UNIT-SOURCES: arch/x86/gpt_walk.c kernel/mm/guest_mem.c */
/* The guest page-table walker: each paging mode (off, 32-bit with 4 KiB and PSE-36 4 MiB pages,
 * PAE, 4-level with 4 KiB/2 MiB/1 GiB pages, 5-level), every access-rights rule of SDM 4.6 with
 * the error code the CPU would report, reserved bits, non-canonical addresses, tables outside
 * the VM's RAM, and reads that cross pages. The tables live in a buffer that stands for the VM's
 * RAM (guest-physical 0 = the buffer's first byte). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <errno.h>
#include <stdlib.h>
#include <cmocka.h>

#include <x86/gpt_walk.h>

#define RAM (4u << 20)
static uint8_t *ram;
static struct vcpu_memory mem;

#define P 1ull
#define RW 2ull
#define US 4ull
#define PS 0x80ull
#define XD (1ull << 63)
#define CR0_PG (1ull << 31)
#define CR0_WP (1ull << 16)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_LA57 (1ull << 12)
#define CR4_SMEP (1ull << 20)
#define CR4_SMAP (1ull << 21)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

static void put64(uint64_t gpa, uint64_t v) { memcpy(ram + gpa, &v, 8); }
static void put32(uint64_t gpa, uint32_t v) { memcpy(ram + gpa, &v, 4); }

static int setup(void **state)
{
    (void)state;
    ram = calloc(1, RAM);
    mem.host_base = (uint64_t)(uintptr_t)ram;
    mem.size = RAM;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(ram);
    return 0;
}

static struct gpt_state long_mode(void)
{
    struct gpt_state s = { 0 };
    s.cr0 = CR0_PG | CR0_WP | 1;
    s.cr3 = 0x1000;
    s.cr4 = CR4_PAE;
    s.efer = EFER_LME | EFER_LMA | EFER_NXE;
    s.maxphyaddr = 39;
    return s;
}

/* 4-level: la 0xffffffff81234567 -> 0x234567 through PML4 0x1000, PDPT 0x2000, PD 0x3000,
 * PT 0x4000, with the given leaf flags; the upper levels are RW|US. */
static void map_4k(uint64_t leaf_flags, uint64_t upper_flags)
{
    memset(ram, 0, 0x10000);
    uint64_t la = 0xffffffff81234567ull;
    put64(0x1000 + ((la >> 39) & 0x1ff) * 8, 0x2000 | upper_flags);
    put64(0x2000 + ((la >> 30) & 0x1ff) * 8, 0x3000 | upper_flags);
    put64(0x3000 + ((la >> 21) & 0x1ff) * 8, 0x4000 | upper_flags);
    put64(0x4000 + ((la >> 12) & 0x1ff) * 8, 0x234000 | leaf_flags);
}

static int tr(const struct gpt_state *s, uint64_t la, unsigned access, uint64_t *gpa,
              uint32_t *pf)
{
    *gpa = 0xdead;
    *pf = 0xdead;
    return gpt_translate(&mem, s, la, access, gpa, pf);
}

static void test_paging_off(void **state)
{
    (void)state;
    struct gpt_state s = { 0 };
    uint64_t gpa;
    uint32_t pf;
    assert_int_equal(tr(&s, 0xfee000f0, 0, &gpa, &pf), 0);
    assert_int_equal(gpa, 0xfee000f0);
    assert_int_equal(tr(&s, 0x1fee000f0ull, GPT_WRITE, &gpa, &pf), 0);
    assert_int_equal(gpa, 0xfee000f0); /* 32-bit linear addresses */
}

static void test_long_mode_4k(void **state)
{
    (void)state;
    struct gpt_state s = long_mode();
    uint64_t gpa;
    uint32_t pf;
    map_4k(P | RW, P | RW | US);
    assert_int_equal(tr(&s, 0xffffffff81234567ull, GPT_FETCH, &gpa, &pf), 0);
    assert_int_equal(gpa, 0x234567);
    assert_int_equal(tr(&s, 0xffffffff81234567ull, GPT_WRITE, &gpa, &pf), 0);
    assert_int_equal(pf, 0);
    /* not present at the leaf: #PF with P = 0, W and I/D as the access was */
    map_4k(0, P | RW | US);
    assert_int_equal(tr(&s, 0xffffffff81234567ull, GPT_WRITE, &gpa, &pf), -EPERM);
    assert_int_equal(pf, GPT_PF_WRITE);
    assert_int_equal(tr(&s, 0xffffffff81234567ull, GPT_FETCH, &gpa, &pf), -EPERM);
    assert_int_equal(pf, GPT_PF_FETCH);
    /* not present higher up */
    map_4k(P | RW, P | RW | US);
    put64(0x1000 + 511 * 8, 0);
    assert_int_equal(tr(&s, 0xffffffff81234567ull, 0, &gpa, &pf), -EPERM);
    assert_int_equal(pf, 0);
}

static void test_rights(void **state)
{
    (void)state;
    struct gpt_state s = long_mode();
    uint64_t gpa, la = 0xffffffff81234567ull;
    uint32_t pf;
    /* read-only leaf: supervisor write faults with WP, not without */
    map_4k(P, P | RW | US);
    assert_int_equal(tr(&s, la, GPT_WRITE, &gpa, &pf), -EPERM);
    assert_int_equal(pf, GPT_PF_PRESENT | GPT_PF_WRITE);
    s.cr0 &= ~CR0_WP;
    assert_int_equal(tr(&s, la, GPT_WRITE, &gpa, &pf), 0);
    /* read-only in an upper level counts too */
    s = long_mode();
    map_4k(P | RW, P | US);
    assert_int_equal(tr(&s, la, GPT_WRITE, &gpa, &pf), -EPERM);
    /* user access to a supervisor page */
    map_4k(P | RW, P | RW | US);
    s.cpl = 3;
    assert_int_equal(tr(&s, la, 0, &gpa, &pf), -EPERM);
    assert_int_equal(pf, GPT_PF_PRESENT | GPT_PF_USER);
    /* user write to a read-only user page, even without WP */
    map_4k(P | US, P | RW | US);
    s.cr0 &= ~CR0_WP;
    assert_int_equal(tr(&s, la, GPT_WRITE, &gpa, &pf), -EPERM);
    assert_int_equal(pf, GPT_PF_PRESENT | GPT_PF_WRITE | GPT_PF_USER);
    assert_int_equal(tr(&s, la, 0, &gpa, &pf), 0);
    /* XD: fetch faults with NXE; without NXE bit 63 is reserved */
    s = long_mode();
    map_4k(P | RW | XD, P | RW);
    assert_int_equal(tr(&s, la, GPT_FETCH, &gpa, &pf), -EPERM);
    assert_int_equal(pf, GPT_PF_PRESENT | GPT_PF_FETCH);
    assert_int_equal(tr(&s, la, 0, &gpa, &pf), 0);
    s.efer &= ~EFER_NXE;
    assert_int_equal(tr(&s, la, 0, &gpa, &pf), -EPERM);
    assert_int_equal(pf, GPT_PF_PRESENT | GPT_PF_RSVD);
    /* SMEP: supervisor fetch from a user page; SMAP: supervisor data access unless AC */
    s = long_mode();
    map_4k(P | RW | US, P | RW | US);
    assert_int_equal(tr(&s, la, GPT_FETCH, &gpa, &pf), 0);
    s.cr4 |= CR4_SMEP;
    assert_int_equal(tr(&s, la, GPT_FETCH, &gpa, &pf), -EPERM);
    assert_int_equal(pf, GPT_PF_PRESENT | GPT_PF_FETCH);
    assert_int_equal(tr(&s, la, 0, &gpa, &pf), 0);
    s.cr4 |= CR4_SMAP;
    assert_int_equal(tr(&s, la, 0, &gpa, &pf), -EPERM);
    assert_int_equal(pf, GPT_PF_PRESENT);
    s.rflags_ac = true;
    assert_int_equal(tr(&s, la, GPT_WRITE, &gpa, &pf), 0);
}

static void test_large_pages_and_reserved(void **state)
{
    (void)state;
    struct gpt_state s = long_mode();
    uint64_t gpa, la = 0xffffffff81234567ull;
    uint32_t pf;
    /* 2 MiB page at 0x200000 */
    map_4k(P | RW, P | RW);
    put64(0x3000 + ((la >> 21) & 0x1ff) * 8, 0x200000 | P | RW | PS);
    assert_int_equal(tr(&s, la, 0, &gpa, &pf), 0);
    assert_int_equal(gpa, 0x200000 | (la & 0x1fffff));
    /* its bit 13 (below the page size, above PAT) is reserved */
    put64(0x3000 + ((la >> 21) & 0x1ff) * 8, 0x202000 | P | RW | PS);
    assert_int_equal(tr(&s, la, 0, &gpa, &pf), -EPERM);
    assert_int_equal(pf, GPT_PF_PRESENT | GPT_PF_RSVD);
    /* 1 GiB page */
    put64(0x2000 + ((la >> 30) & 0x1ff) * 8, 0x40000000 | P | RW | PS);
    assert_int_equal(tr(&s, la, 0, &gpa, &pf), 0);
    assert_int_equal(gpa, 0x40000000 | (la & 0x3fffffff));
    /* PS in a PML4 entry is reserved */
    map_4k(P | RW, P | RW);
    put64(0x1000 + 511 * 8, 0x2000 | P | RW | PS);
    assert_int_equal(tr(&s, la, 0, &gpa, &pf), -EPERM);
    assert_int_equal(pf, GPT_PF_PRESENT | GPT_PF_RSVD);
    /* an address bit at MAXPHYADDR (39) */
    map_4k(P | RW, P | RW);
    put64(0x4000 + ((la >> 12) & 0x1ff) * 8, (1ull << 39) | 0x234000 | P);
    assert_int_equal(tr(&s, la, 0, &gpa, &pf), -EPERM);
    assert_int_equal(pf, GPT_PF_PRESENT | GPT_PF_RSVD);
    /* non-canonical */
    assert_int_equal(tr(&s, 0x0000800000000000ull, 0, &gpa, &pf), -EINVAL);
    /* a table outside RAM */
    map_4k(P | RW, P | RW);
    put64(0x3000 + ((la >> 21) & 0x1ff) * 8, 0xfee00000ull | P | RW);
    assert_int_equal(tr(&s, la, 0, &gpa, &pf), -EFAULT);
    s.cr3 = RAM; /* the PML4 itself */
    assert_int_equal(tr(&s, la, 0, &gpa, &pf), -EFAULT);
}

static void test_five_level(void **state)
{
    (void)state;
    struct gpt_state s = long_mode();
    s.cr4 |= CR4_LA57;
    uint64_t gpa, la = 0xff12345678901234ull; /* canonical with 57 bits */
    uint32_t pf;
    memset(ram, 0, 0x10000);
    s.cr3 = 0x5000;
    put64(0x5000 + ((la >> 48) & 0x1ff) * 8, 0x1000 | P | RW);
    put64(0x1000 + ((la >> 39) & 0x1ff) * 8, 0x2000 | P | RW);
    put64(0x2000 + ((la >> 30) & 0x1ff) * 8, 0x3000 | P | RW);
    put64(0x3000 + ((la >> 21) & 0x1ff) * 8, 0x4000 | P | RW);
    put64(0x4000 + ((la >> 12) & 0x1ff) * 8, 0x7000 | P | RW);
    assert_int_equal(tr(&s, la, 0, &gpa, &pf), 0);
    assert_int_equal(gpa, 0x7000 | (la & 0xfff));
    assert_int_equal(tr(&s, 0x0100000000000000ull, 0, &gpa, &pf), -EINVAL);
}

static void test_pae(void **state)
{
    (void)state;
    struct gpt_state s = { 0 };
    s.cr0 = CR0_PG | CR0_WP | 1;
    s.cr4 = CR4_PAE;
    s.maxphyaddr = 36;
    uint64_t gpa, la = 0xc0345678;
    uint32_t pf;
    memset(ram, 0, 0x10000);
    s.pdpte[3] = 0x3000 | P;
    put64(0x3000 + ((la >> 21) & 0x1ff) * 8, 0x4000 | P | RW);
    put64(0x4000 + ((la >> 12) & 0x1ff) * 8, 0x9000 | P | RW);
    assert_int_equal(tr(&s, la, GPT_WRITE, &gpa, &pf), 0);
    assert_int_equal(gpa, 0x9678);
    /* a PDPTE with a reserved bit (RW is reserved in PAE PDPTEs) */
    s.pdpte[3] = 0x3000 | P | RW;
    assert_int_equal(tr(&s, la, 0, &gpa, &pf), -EPERM);
    assert_int_equal(pf, GPT_PF_PRESENT | GPT_PF_RSVD);
    s.pdpte[3] = 0;
    assert_int_equal(tr(&s, la, 0, &gpa, &pf), -EPERM);
    assert_int_equal(pf, 0);
    /* LA57 without long mode is no paging mode */
    s.cr4 |= CR4_LA57;
    assert_int_equal(tr(&s, la, 0, &gpa, &pf), -EINVAL);
}

static void test_32bit(void **state)
{
    (void)state;
    struct gpt_state s = { 0 };
    s.cr0 = CR0_PG | 1;
    s.cr3 = 0x1000;
    s.maxphyaddr = 36;
    uint64_t gpa;
    uint32_t pf;
    memset(ram, 0, 0x10000);
    uint32_t la = 0xc0101234;
    put32(0x1000 + (la >> 22) * 4, 0x2000 | P | RW);
    put32(0x2000 + ((la >> 12) & 0x3ff) * 4, 0x5000 | P | RW);
    assert_int_equal(tr(&s, la, 0, &gpa, &pf), 0);
    assert_int_equal(gpa, 0x5234);
    /* a 4 MiB page: PS counts only with CR4.PSE; PSE-36 bits 20:13 are address bits 39:32 */
    put32(0x1000 + (la >> 22) * 4, 0x00400000 | (1u << 13) | P | RW | PS);
    s.cr4 = CR4_PSE;
    assert_int_equal(tr(&s, la, 0, &gpa, &pf), 0);
    assert_int_equal(gpa, 0x100400000ull | (la & 0x3fffff));
    put32(0x1000 + (la >> 22) * 4, 0x00400000 | (1u << 21) | P | RW | PS);
    assert_int_equal(tr(&s, la, 0, &gpa, &pf), -EPERM);
    assert_int_equal(pf, GPT_PF_PRESENT | GPT_PF_RSVD);
    /* user page rules as in the other modes */
    put32(0x1000 + (la >> 22) * 4, 0x00400000 | P | RW | PS);
    s.cpl = 3;
    assert_int_equal(tr(&s, la, 0, &gpa, &pf), -EPERM);
    assert_int_equal(pf, GPT_PF_PRESENT | GPT_PF_USER);
}

static void test_read_across_pages(void **state)
{
    (void)state;
    struct gpt_state s = long_mode();
    memset(ram, 0, 0x10000);
    uint64_t la = 0x400ff8; /* 8 bytes before a page boundary */
    put64(0x1000, 0x2000 | P | RW);
    put64(0x2000, 0x3000 | P | RW);
    put64(0x3000 + 2 * 8, 0x4000 | P | RW);
    put64(0x4000 + 0 * 8, 0x8000 | P | RW);
    put64(0x4000 + 1 * 8, 0x6000 | P | RW); /* the next page is elsewhere */
    for (unsigned i = 0; i < 8; i++)
        ram[0x8ff8 + i] = (uint8_t)(0xa0 + i);
    for (unsigned i = 0; i < 8; i++)
        ram[0x6000 + i] = (uint8_t)(0xb0 + i);
    uint8_t buf[15];
    assert_int_equal(gpt_read(&mem, &s, la, GPT_FETCH, buf, 15), 15);
    assert_int_equal(buf[0], 0xa0);
    assert_int_equal(buf[7], 0xa7);
    assert_int_equal(buf[8], 0xb0);
    assert_int_equal(buf[14], 0xb6);
    put64(0x4000 + 1 * 8, 0); /* the second page gone: only the first 8 bytes */
    assert_int_equal(gpt_read(&mem, &s, la, GPT_FETCH, buf, 15), 8);
    put64(0x4000 + 1 * 8, 0x7ff000ull | P); /* the second page outside RAM */
    assert_int_equal(gpt_read(&mem, &s, la, GPT_FETCH, buf, 15), 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paging_off),
        cmocka_unit_test(test_long_mode_4k),
        cmocka_unit_test(test_rights),
        cmocka_unit_test(test_large_pages_and_reserved),
        cmocka_unit_test(test_five_level),
        cmocka_unit_test(test_pae),
        cmocka_unit_test(test_32bit),
        cmocka_unit_test(test_read_across_pages),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
