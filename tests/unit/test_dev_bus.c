/* UNIT-SOURCES: kernel/dev/bus.c */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <tessera/dev.h>
#include <tessera/errno.h>

static uint64_t dummy_read(void *dev, uint64_t offset, unsigned size, uint64_t now)
{
    (void)dev, (void)size, (void)now;
    return offset;
}

static void dummy_write(void *dev, uint64_t offset, unsigned size, uint64_t value, uint64_t now)
{
    (void)dev, (void)offset, (void)size, (void)value, (void)now;
}

static const struct dev_ops ops = { dummy_read, dummy_write };

static struct dev_region region(enum dev_space space, uint64_t base, uint64_t length)
{
    return (struct dev_region){ space, base, length, &ops, NULL, "test" };
}

static void test_add_and_find(void **state)
{
    (void)state;
    struct dev_bus bus;
    dev_bus_init(&bus);
    struct dev_region uart = region(DEV_SPACE_PORT, 0x3f8, 8);
    struct dev_region ioapic = region(DEV_SPACE_MMIO, 0xfec00000, 0x1000);
    assert_int_equal(dev_bus_add(&bus, &uart), 0);
    assert_int_equal(dev_bus_add(&bus, &ioapic), 0);
    /* the same numbers in the other space do not collide */
    struct dev_region low_mmio = region(DEV_SPACE_MMIO, 0x3f8, 8);
    assert_int_equal(dev_bus_add(&bus, &low_mmio), 0);

    assert_ptr_equal(dev_bus_find(&bus, DEV_SPACE_PORT, 0x3f8, 1), &bus.regions[0]);
    assert_ptr_equal(dev_bus_find(&bus, DEV_SPACE_PORT, 0x3fc, 4), &bus.regions[0]);
    assert_null(dev_bus_find(&bus, DEV_SPACE_PORT, 0x3fd, 4)); /* straddles the end */
    assert_null(dev_bus_find(&bus, DEV_SPACE_PORT, 0x3f7, 2)); /* straddles the start */
    assert_null(dev_bus_find(&bus, DEV_SPACE_PORT, 0x400, 1));
    assert_ptr_equal(dev_bus_find(&bus, DEV_SPACE_MMIO, 0xfec00ff8, 8), &bus.regions[1]);
    assert_null(dev_bus_find(&bus, DEV_SPACE_MMIO, 0xfec00ffc, 8));
    assert_ptr_equal(dev_bus_find(&bus, DEV_SPACE_MMIO, 0x3f8, 1), &bus.regions[2]);
    assert_null(dev_bus_find(&bus, DEV_SPACE_MMIO, UINT64_MAX, 2)); /* wraps */
    assert_null(dev_bus_find(&bus, DEV_SPACE_MMIO, 0xfec00000, 0));
}

/* The port lookup's one-entry cache answers exactly what the search would: every access right
 * around the cached region's ends, after hits in it and in another region. */
static void test_port_cache(void **state)
{
    (void)state;
    struct dev_bus bus;
    dev_bus_init(&bus);
    struct dev_region pic = region(DEV_SPACE_PORT, 0x20, 2);
    struct dev_region uart = region(DEV_SPACE_PORT, 0x3f8, 8);
    struct dev_region high = region(DEV_SPACE_PORT, 0xfffc, 4);
    assert_int_equal(dev_bus_add(&bus, &pic), 0);
    assert_int_equal(dev_bus_add(&bus, &uart), 0);
    assert_int_equal(dev_bus_add(&bus, &high), 0);
    for (unsigned warm = 0; warm < 3; warm++) {
        /* warm up the cache with each region in turn, then probe around every region */
        static const uint16_t warmers[] = { 0x20, 0x3f8, 0xfffc };
        assert_non_null(dev_bus_find_port(&bus, warmers[warm], 1));
        for (unsigned i = 0; i < 3; i++) {
            uint64_t base = bus.regions[i].base, length = bus.regions[i].length;
            for (int64_t p = (int64_t)base - 5; p <= (int64_t)(base + length + 4); p++) {
                if (p < 0 || p > 0xffff)
                    continue;
                for (unsigned size = 1; size <= 4; size *= 2) {
                    const struct dev_region *want =
                        dev_bus_find(&bus, DEV_SPACE_PORT, (uint64_t)p, size);
                    assert_non_null(dev_bus_find_port(&bus, warmers[warm], 1));
                    assert_ptr_equal(dev_bus_find_port(&bus, (uint16_t)p, size), want);
                }
            }
        }
    }
    dev_bus_init(&bus); /* a reset bus forgets the cached region */
    assert_null(dev_bus_find_port(&bus, 0x3f8, 1));
}

static void test_refusals(void **state)
{
    (void)state;
    struct dev_bus bus;
    dev_bus_init(&bus);
    struct dev_region r = region(DEV_SPACE_PORT, 0x40, 4);
    assert_int_equal(dev_bus_add(&bus, &r), 0);
    struct dev_region overlap = region(DEV_SPACE_PORT, 0x43, 2);
    assert_int_equal(dev_bus_add(&bus, &overlap), -EEXIST);
    struct dev_region inside = region(DEV_SPACE_PORT, 0x41, 1);
    assert_int_equal(dev_bus_add(&bus, &inside), -EEXIST);
    struct dev_region around = region(DEV_SPACE_PORT, 0x30, 0x20);
    assert_int_equal(dev_bus_add(&bus, &around), -EEXIST);
    struct dev_region empty = region(DEV_SPACE_PORT, 0x80, 0);
    assert_int_equal(dev_bus_add(&bus, &empty), -EINVAL);
    struct dev_region past_ports = region(DEV_SPACE_PORT, 0xfffe, 4);
    assert_int_equal(dev_bus_add(&bus, &past_ports), -EINVAL);
    struct dev_region wraps = region(DEV_SPACE_MMIO, UINT64_MAX - 1, 4);
    assert_int_equal(dev_bus_add(&bus, &wraps), -EINVAL);
    struct dev_region top = region(DEV_SPACE_MMIO, UINT64_MAX - 3, 4);
    assert_int_equal(dev_bus_add(&bus, &top), 0);
    assert_ptr_equal(dev_bus_find(&bus, DEV_SPACE_MMIO, UINT64_MAX, 1), &bus.regions[1]);
    struct dev_region no_ops = region(DEV_SPACE_PORT, 0x90, 1);
    no_ops.ops = NULL;
    assert_int_equal(dev_bus_add(&bus, &no_ops), -EINVAL);
    struct dev_region bad_space = region(DEV_SPACE_PORT, 0x90, 1);
    bad_space.space = 7;
    assert_int_equal(dev_bus_add(&bus, &bad_space), -EINVAL);
    assert_int_equal(bus.count, 2);
}

static void test_full(void **state)
{
    (void)state;
    struct dev_bus bus;
    dev_bus_init(&bus);
    for (unsigned i = 0; i < DEV_BUS_MAX_REGIONS; i++) {
        struct dev_region r = region(DEV_SPACE_PORT, 0x100 + 2 * i, 2);
        assert_int_equal(dev_bus_add(&bus, &r), 0);
    }
    struct dev_region one_more = region(DEV_SPACE_PORT, 0x1000, 1);
    assert_int_equal(dev_bus_add(&bus, &one_more), -ENOSPC);
    for (unsigned i = 0; i < DEV_BUS_MAX_REGIONS; i++)
        assert_ptr_equal(dev_bus_find(&bus, DEV_SPACE_PORT, 0x101 + 2 * i, 1), &bus.regions[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_and_find),
        cmocka_unit_test(test_port_cache),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
