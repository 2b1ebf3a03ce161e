/* UNIT-SOURCES: kernel/mm/guest_mem.c */
/* guest_mem_range: the one check between a guest-physical range and a host pointer. Edges of RAM,
 * ranges crossing its end, 2^64 wrap, length 0, huge lengths, and a host range that would wrap. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <tessera/guest_mem.h>

#define MiB 0x100000ULL
#define GiB 0x40000000ULL
#define BASE 0x1000000ULL /* a host-physical base as the allocator hands them out */

static const struct vcpu_memory ram4m = { BASE, 4 * MiB };

static uint64_t addr_of(const void *p) { return (uint64_t)(uintptr_t)p; }

static void test_inside(void **state)
{
    (void)state;
    assert_int_equal(addr_of(guest_mem_range(&ram4m, 0, 1)), BASE);
    assert_int_equal(addr_of(guest_mem_range(&ram4m, 0, 4 * MiB)), BASE); /* all of RAM */
    assert_int_equal(addr_of(guest_mem_range(&ram4m, 0x1234, 100)), BASE + 0x1234);
    /* a PAE CR3 at offset 0x800 of the last page: the pointer is base + gpa, nothing added */
    assert_int_equal(addr_of(guest_mem_range(&ram4m, 0x3ff800, 32)), BASE + 0x3ff800);
    assert_int_equal(addr_of(guest_mem_range(&ram4m, 0x3fffe0, 32)), BASE + 0x3fffe0);
}

static void test_last_byte_and_one_past(void **state)
{
    (void)state;
    assert_int_equal(addr_of(guest_mem_range(&ram4m, 4 * MiB - 1, 1)), BASE + 4 * MiB - 1);
    assert_null(guest_mem_range(&ram4m, 4 * MiB, 1));
    assert_null(guest_mem_range(&ram4m, 4 * MiB + 1, 1));
    assert_null(guest_mem_range(&ram4m, 0, 4 * MiB + 1));
}

static void test_crossing_the_end(void **state)
{
    (void)state;
    assert_int_equal(addr_of(guest_mem_range(&ram4m, 4 * MiB - 16, 16)), BASE + 4 * MiB - 16);
    assert_null(guest_mem_range(&ram4m, 4 * MiB - 16, 17));
    assert_null(guest_mem_range(&ram4m, 4 * MiB - 8, 16));
    assert_null(guest_mem_range(&ram4m, 0x3ffff0, 32)); /* PDPTEs straddling the end */
    assert_null(guest_mem_range(&ram4m, 1, 4 * MiB));
}

static void test_wrap(void **state)
{
    (void)state;
    /* gpa + len wraps past 2^64 to a small number that would pass a naive end check */
    assert_null(guest_mem_range(&ram4m, UINT64_MAX - 15, 32));
    assert_null(guest_mem_range(&ram4m, UINT64_MAX, 1));
    assert_null(guest_mem_range(&ram4m, UINT64_MAX, UINT64_MAX));
    assert_null(guest_mem_range(&ram4m, 16, UINT64_MAX - 15)); /* sum is exactly 2^64 */
    assert_null(guest_mem_range(&ram4m, 16, UINT64_MAX));
    /* a 32-bit guest's view: 0xfffffff0 + 0x20 wraps in 32 bits, not here */
    const struct vcpu_memory ram4g = { BASE, 4 * GiB };
    const struct vcpu_memory ram8g = { BASE, 8 * GiB };
    assert_null(guest_mem_range(&ram4g, 0xfffffff0, 0x20));
    assert_int_equal(addr_of(guest_mem_range(&ram8g, 0xfffffff0, 0x20)), BASE + 0xfffffff0);
}

static void test_empty_and_huge(void **state)
{
    (void)state;
    assert_null(guest_mem_range(&ram4m, 0, 0));
    assert_null(guest_mem_range(&ram4m, 4 * MiB, 0));
    assert_null(guest_mem_range(&ram4m, UINT64_MAX, 0));
    assert_null(guest_mem_range(&ram4m, 0, UINT64_MAX));
    assert_null(guest_mem_range(&ram4m, 0, 1ULL << 63));
    assert_null(guest_mem_range(NULL, 0, 1));
    const struct vcpu_memory none = { BASE, 0 };
    assert_null(guest_mem_range(&none, 0, 1));
}

/* A description whose host range would run past 2^64 is refused; one ending exactly at the top
 * of the address space is not. */
static void test_host_range_wrap(void **state)
{
    (void)state;
    const struct vcpu_memory top = { UINT64_MAX - 0xfff, 0x1000 };
    assert_int_equal(addr_of(guest_mem_range(&top, 0xfff, 1)), UINT64_MAX);
    const struct vcpu_memory wraps = { UINT64_MAX - 0xfff, 0x2000 };
    assert_null(guest_mem_range(&wraps, 0, 1));
    const struct vcpu_memory whole = { 1, UINT64_MAX };
    assert_int_equal(addr_of(guest_mem_range(&whole, UINT64_MAX - 1, 1)), UINT64_MAX);
    assert_null(guest_mem_range(&whole, UINT64_MAX - 1, 2));
    /* RAM at host-physical 0 would turn guest-physical 0 into NULL: refused outright */
    const struct vcpu_memory at_zero = { 0, 4 * MiB };
    assert_null(guest_mem_range(&at_zero, 0, 1));
    assert_null(guest_mem_range(&at_zero, 0x1000, 1));
}

/* Every small (size, gpa, len): a pointer exactly when 0 < len and gpa + len <= size. */
static void test_exhaustive_small(void **state)
{
    (void)state;
    for (uint64_t size = 0; size <= 40; size++) {
        const struct vcpu_memory m = { BASE, size };
        for (uint64_t gpa = 0; gpa <= 48; gpa++)
            for (uint64_t len = 0; len <= 48; len++) {
                void *p = guest_mem_range(&m, gpa, len);
                if (len > 0 && gpa + len <= size)
                    assert_int_equal(addr_of(p), BASE + gpa);
                else
                    assert_null(p);
            }
    }
}

/* The pointer is usable: writes through it land at the right byte of real memory. */
static void test_real_buffer(void **state)
{
    (void)state;
    static uint8_t buf[4096];
    memset(buf, 0, sizeof(buf));
    const struct vcpu_memory m = { addr_of(buf), sizeof(buf) };
    uint8_t *p = guest_mem_range(&m, 4090, 6);
    assert_non_null(p);
    memcpy(p, "abcdef", 6);
    assert_memory_equal(buf + 4090, "abcdef", 6);
    assert_null(guest_mem_range(&m, 4090, 7));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inside),
        cmocka_unit_test(test_last_byte_and_one_past),
        cmocka_unit_test(test_crossing_the_end),
        cmocka_unit_test(test_wrap),
        cmocka_unit_test(test_empty_and_huge),
        cmocka_unit_test(test_host_range_wrap),
        cmocka_unit_test(test_exhaustive_small),
        cmocka_unit_test(test_real_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
