/* UNIT-SOURCES: kernel/dev/pit.c kernel/dev/pic.c kernel/dev/rtc.c kernel/dev/bus.c kernel/dev/irq_router.c kernel/dev/ioapic.c */
/* The PIT's IRQ 0 (and the RTC's IRQ 8) wired to the PIC, on a device bus and through the
 * interrupt router, driven as a run loop and Linux would: advance to the earliest deadline,
 * inject while INTR is up, EOI from the "guest". */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <tessera/dev.h>
#include <tessera/irq_router.h>
#include <tessera/pic.h>
#include <tessera/pit.h>
#include <tessera/rtc.h>

#define HZ 5000000ull

static struct dev_bus bus;
static struct pic pic;
static struct pit pit;

static void outb(uint8_t v, unsigned port, uint64_t now)
{
    const struct dev_region *r = dev_bus_find(&bus, DEV_SPACE_PORT, port, 1);
    assert_non_null(r);
    r->ops->write(r->dev, port - r->base, 1, v, now);
}

static void setup(void)
{
    struct dev_region regions[PIC_REGIONS + PIT_REGIONS];
    struct irq_line irq0 = { pic_irq_line_set, &pic, 0 };
    dev_bus_init(&bus);
    pic_init(&pic, NULL, NULL);
    pit_init(&pit, HZ, 0, &irq0);
    pic_regions(&pic, regions);
    pit_regions(&pit, regions + PIC_REGIONS);
    for (unsigned i = 0; i < PIC_REGIONS + PIT_REGIONS; i++)
        assert_int_equal(dev_bus_add(&bus, &regions[i]), 0);
    /* Linux: init_8259A, unmask IRQ 0, PIT periodic at HZ=250 */
    static const uint8_t master[] = { 0x11, 0x30, 0x04, 0x01 };
    static const uint8_t slave[] = { 0x11, 0x38, 0x02, 0x01 };
    for (unsigned i = 0; i < 4; i++) {
        outb(master[i], i ? 0x21 : 0x20, 0);
        outb(slave[i], i ? 0xa1 : 0xa0, 0);
    }
    outb(0xfa, 0x21, 0);
    outb(0xff, 0xa1, 0);
}

static void test_periodic_tick_through_pic(void **state)
{
    (void)state;
    setup();
    const unsigned latch = (PIT_HZ + 125) / 250;
    outb(0x34, 0x43, 0);
    outb(latch & 0xff, 0x40, 0);
    outb(latch >> 8, 0x40, 0);
    unsigned ticks = 0;
    uint64_t now = 0;
    for (unsigned i = 0; i < 250; i++) {
        uint64_t deadline = pit_next_deadline(&pit);
        assert_true(deadline > now);
        now = deadline;
        pit_advance(&pit, now);
        assert_true(pic_has_interrupt(&pic));
        assert_int_equal(pic_acknowledge(&pic), 0x30);
        ticks++;
        outb(0x60, 0x20, now); /* specific EOI for IRQ 0 */
        assert_false(pic_has_interrupt(&pic));
    }
    /* 250 periods of 4773 clocks at 1193182 Hz: one second and a little */
    uint64_t expect = (uint64_t)((unsigned __int128)(1 + 250ull * latch) * HZ / PIT_HZ);
    assert_true(now >= expect && now <= expect + 1);
    assert_int_equal(ticks, 250);
}

static void test_tick_while_in_service_waits(void **state)
{
    (void)state;
    setup();
    outb(0x34, 0x43, 0);
    outb(100, 0x40, 0);
    outb(0, 0x40, 0);
    pit_advance(&pit, pit_next_deadline(&pit));
    assert_int_equal(pic_acknowledge(&pic), 0x30);
    /* the guest is slow: two more periods pass before its EOI, one edge is remembered */
    pit_advance(&pit, pit_next_deadline(&pit));
    pit_advance(&pit, pit_next_deadline(&pit));
    assert_false(pic_has_interrupt(&pic));
    outb(0x20, 0x20, 0);
    assert_true(pic_has_interrupt(&pic));
    assert_int_equal(pic_acknowledge(&pic), 0x30);
    outb(0x20, 0x20, 0);
    assert_false(pic_has_interrupt(&pic));
    /* masked at the PIC, the timer still runs and its edges wait in IRR */
    outb(0xfb, 0x21, 0);
    pit_advance(&pit, pit_next_deadline(&pit));
    assert_false(pic_has_interrupt(&pic));
    outb(0xfa, 0x21, 0);
    assert_int_equal(pic_acknowledge(&pic), 0x30);
}

/* Through the interrupt router (no I/O APIC: PIC mode): the PIT on GSI 0 and the RTC's update
 * interrupt on GSI 8 reach the PIC as IRQ 0 and IRQ 8. */
static void test_through_router(void **state)
{
    (void)state;
    struct irq_router router;
    struct rtc rtc;
    setup();
    irq_router_init(&router, NULL, pic_irq_line_set, &pic, 0);
    struct irq_line irq0 = irq_router_line(&router, 0), irq8 = irq_router_line(&router, 8);
    pit_init(&pit, HZ, 0, &irq0);
    rtc_init(&rtc, HZ, 0, 1700000000, &irq8);
    outb(0xf8, 0x21, 0); /* IRQ 0 and the cascade */
    outb(0xfe, 0xa1, 0); /* IRQ 8 */
    outb(0x34, 0x43, 0);
    outb(0x00, 0x40, 0);
    outb(0x00, 0x40, 0); /* 65536 clocks: 18.2 Hz */
    rtc_ops.write(&rtc, 0, 1, RTC_REG_B, 0);
    rtc_ops.write(&rtc, 1, 1, RTC_B_24H | RTC_B_UIE, 0);
    unsigned timer = 0, clock = 0;
    uint64_t now = 0;
    while (now < 3 * HZ) {
        uint64_t a = pit_next_deadline(&pit), b = rtc_next_deadline(&rtc);
        now = a < b ? a : b;
        pit_advance(&pit, now);
        rtc_advance(&rtc, now);
        while (pic_has_interrupt(&pic)) {
            int vector = pic_acknowledge(&pic);
            if (vector == 0x30) {
                timer++;
                outb(0x60, 0x20, now);
            } else {
                assert_int_equal(vector, 0x38);
                clock++;
                rtc_ops.write(&rtc, 0, 1, RTC_REG_C, now);
                assert_true(rtc_ops.read(&rtc, 1, 1, now) & RTC_C_IRQF);
                outb(0x60, 0xa0, now);
                outb(0x62, 0x20, now);
            }
        }
    }
    /* three seconds: 55 timer ticks (18.2 Hz) and three updates */
    assert_int_equal(timer, (3 * HZ * PIT_HZ / HZ - 1) / 65536);
    assert_int_equal(clock, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_periodic_tick_through_pic),
        cmocka_unit_test(test_tick_while_in_service_waits),
        cmocka_unit_test(test_through_router),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
