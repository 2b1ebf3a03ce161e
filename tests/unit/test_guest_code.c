/* Reading guest instruction bytes through the guest's own page tables: paging off, 4-level long
 * mode with 4 KiB and 2 MiB pages, PAE, 32-bit paging with 4 MiB pages, a read across a page
 * boundary into a non-adjacent frame, and refusals (not present, tables or bytes outside RAM). */
/* UNIT-SOURCES: arch/x86/guest_code.c kernel/mm/guest_mem.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <x86/guest_code.h>

#define RAM (4u << 20)
static uint8_t *ram;
static struct vcpu_memory mem;

static int setup(void **state)
{
    (void)state;
    ram = aligned_alloc(4096, RAM);
    memset(ram, 0, RAM);
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

static void put64(uint64_t gpa, uint64_t v) { memcpy(ram + gpa, &v, 8); }
static void put32(uint64_t gpa, uint32_t v) { memcpy(ram + gpa, &v, 4); }

#define PG (1ull << 31)
#define PE 1ull

static void test_paging_off(void **state)
{
    (void)state;
    struct x86_paging p = { 0x10, 0, 0, 0 };
    memcpy(ram + 0x7c00, "\x0f\x01\xc1", 3);
    uint8_t b[3];
    assert_true(x86_guest_code_bytes(&mem, &p, 0x7c00, b, 3));
    assert_memory_equal(b, "\x0f\x01\xc1", 3);
    assert_false(x86_guest_code_bytes(&mem, &p, RAM - 2, b, 3)); /* runs past RAM */
    assert_true(x86_guest_code_bytes(&mem, &p, RAM - 3, b, 3));
}

static void test_long_mode(void **state)
{
    (void)state;
    /* PML4 at 0x1000, PDPT 0x2000, PD 0x3000: linear 0x200000 -> 2 MiB page at 0x0;
     * linear 0x400000 -> PT 0x4000: 0x400000 -> 0x5000, 0x401000 -> 0x9000 */
    put64(0x1000, 0x2000 | 3);
    put64(0x2000, 0x3000 | 3);
    put64(0x3000 + 8 * 1, 0x000000 | 0x83);
    put64(0x3000 + 8 * 2, 0x4000 | 3);
    put64(0x4000 + 8 * 0, 0x5000 | 3);
    put64(0x4000 + 8 * 1, 0x9000 | 3);
    struct x86_paging p = { PG | PE, 0x1000, 1u << 5, (1u << 8) | (1u << 10) };
    uint64_t gpa;
    assert_true(x86_guest_translate(&mem, &p, 0x200123, &gpa));
    assert_int_equal(gpa, 0x123);
    assert_true(x86_guest_translate(&mem, &p, 0x400abc, &gpa));
    assert_int_equal(gpa, 0x5abc);
    /* bytes across the page boundary come from two frames */
    ram[0x5ffe] = 0x0f;
    ram[0x5fff] = 0x01;
    ram[0x9000] = 0xd9;
    uint8_t b[3];
    assert_true(x86_guest_code_bytes(&mem, &p, 0x400ffe, b, 3));
    assert_memory_equal(b, "\x0f\x01\xd9", 3);
    /* not present */
    assert_false(x86_guest_translate(&mem, &p, 0x402000, &gpa));
    assert_false(x86_guest_translate(&mem, &p, 0x40000000, &gpa));
    /* a table outside RAM */
    put64(0x4000 + 8 * 3, (RAM + 0x1000) | 3);
    put64(0x3000 + 8 * 3, (RAM + 0x100000) | 3);
    assert_false(x86_guest_translate(&mem, &p, 0x600000, &gpa));
}

static void test_pae_and_32bit(void **state)
{
    (void)state;
    /* PAE: PDPT at 0x6000 (32-byte aligned), PD at 0x7000 with a 2 MiB page */
    put64(0x6000 + 8 * 0, 0x7000 | 1);
    put64(0x7000 + 8 * 1, 0x200000 | 0x83);
    struct x86_paging pae = { PG | PE, 0x6000, 1u << 5, 0 };
    uint64_t gpa;
    assert_true(x86_guest_translate(&mem, &pae, 0x200010, &gpa));
    assert_int_equal(gpa, 0x200010);
    /* 32-bit paging: PD at 0x8000, a 4 MiB page for linear 0 (PSE), a PT for 0x400000 */
    put32(0x8000, 0x000000 | 0x83);
    put32(0x8004, 0xa000 | 3);
    put32(0xa000 + 4 * 2, 0x3000 | 3);
    struct x86_paging p32 = { PG | PE, 0x8000, 1u << 4, 0 };
    assert_true(x86_guest_translate(&mem, &p32, 0x123456, &gpa));
    assert_int_equal(gpa, 0x123456);
    assert_true(x86_guest_translate(&mem, &p32, 0x402010, &gpa));
    assert_int_equal(gpa, 0x3010);
    /* without CR4.PSE the PS bit means nothing: entry 0 is a table at 0, whose entry 0 (zero)
     * is not present */
    p32.cr4 = 0;
    assert_false(x86_guest_translate(&mem, &p32, 0x000010, &gpa));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paging_off),
        cmocka_unit_test(test_long_mode),
        cmocka_unit_test(test_pae_and_32bit),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
