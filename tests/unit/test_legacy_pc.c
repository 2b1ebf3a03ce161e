/* UNIT-SOURCES: kernel/dev/legacy_pc.c kernel/dev/pic.c kernel/dev/pit.c kernel/dev/irq_router.c kernel/dev/ioapic.c kernel/dev/bus.c kernel/vuart.c */
/* The legacy PC interrupt path of a Linux VM (kernel/dev/legacy_pc.c): the PIT's IRQ 0 and the
 * UART's IRQ 4 reach the PIC pair, and the decision before each VM entry injects only when the
 * guest can take an interrupt, asks for the window otherwise, and does nothing when nothing is
 * pending. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <tessera/legacy_pc.h>

#define HZ 5000000ull

static struct legacy_pc pc;
static struct dev_bus bus;
static struct vuart uart;
static bool queue_full;

static bool sink(void *ctx, uint8_t byte)
{
    (void)ctx;
    (void)byte;
    return !queue_full;
}

static bool busy(void *ctx, unsigned need)
{
    (void)ctx;
    (void)need;
    return queue_full;
}

static void outb(uint8_t v, unsigned port, uint64_t now)
{
    const struct dev_region *r = dev_bus_find(&bus, DEV_SPACE_PORT, port, 1);
    assert_non_null(r);
    r->ops->write(r->dev, port - r->base, 1, v, now);
}

static uint8_t inb(unsigned port, uint64_t now)
{
    const struct dev_region *r = dev_bus_find(&bus, DEV_SPACE_PORT, port, 1);
    assert_non_null(r);
    return (uint8_t)r->ops->read(r->dev, port - r->base, 1, now);
}

/* As Linux does: init_8259A (vectors 0x30/0x38), everything masked but the cascade. */
static int setup(void **state)
{
    (void)state;
    queue_full = false;
    vuart_init(&uart, sink, busy, NULL);
    dev_bus_init(&bus);
    const struct dev_region com1 = { DEV_SPACE_PORT, 0x3f8, 8, &vuart_ops, &uart, "uart" };
    assert_int_equal(dev_bus_add(&bus, &com1), 0);
    legacy_pc_init(&pc, HZ, 0, &uart);
    assert_int_equal(legacy_pc_attach(&pc, &bus), 0);
    static const uint8_t master[] = { 0x11, 0x30, 0x04, 0x01 };
    static const uint8_t slave[] = { 0x11, 0x38, 0x02, 0x01 };
    for (unsigned i = 0; i < 4; i++) {
        outb(master[i], i ? 0x21 : 0x20, 0);
        outb(slave[i], i ? 0xa1 : 0xa0, 0);
    }
    outb(0xfb, 0x21, 0);
    outb(0xff, 0xa1, 0);
    return 0;
}

static void test_regions_on_the_bus(void **state)
{
    (void)state;
    static const unsigned ports[] = { 0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1, 0x40, 0x43, 0x61 };
    for (unsigned i = 0; i < sizeof(ports) / sizeof(ports[0]); i++)
        assert_non_null(dev_bus_find(&bus, DEV_SPACE_PORT, ports[i], 1));
    assert_null(dev_bus_find(&bus, DEV_SPACE_PORT, 0x70, 1));
    /* a second attach to the same bus overlaps */
    struct legacy_pc other;
    legacy_pc_init(&other, HZ, 0, NULL);
    assert_int_not_equal(legacy_pc_attach(&other, &bus), 0);
}

static void test_nothing_pending_nothing_done(void **state)
{
    (void)state;
    legacy_pc_advance(&pc, 1000);
    assert_false(legacy_pc_interrupt_pending(&pc));
    for (int interruptible = 0; interruptible < 2; interruptible++) {
        struct legacy_pc_entry e = legacy_pc_before_entry(&pc, interruptible);
        assert_int_equal(e.vector, -1);
        assert_false(e.want_window);
    }
    assert_int_equal(legacy_pc_next_deadline(&pc, 1000), DEV_NO_DEADLINE);
}

/* PIT channel 0 periodic at 250 Hz: the deadline is the next edge; at it IRQ 0 is pending; a
 * guest that cannot take it gets a window request and the PIC is not acknowledged; one that can
 * gets vector 0x30 and the request moves to in-service. */
static void test_timer_tick_window_then_inject(void **state)
{
    (void)state;
    outb(0xfa, 0x21, 0); /* unmask IRQ 0 */
    const unsigned latch = (PIT_HZ + 125) / 250;
    outb(0x34, 0x43, 0);
    outb(latch & 0xff, 0x40, 0);
    outb(latch >> 8, 0x40, 0);
    uint64_t due = legacy_pc_next_deadline(&pc, 0);
    assert_true(due > HZ / 250 - HZ / 1000 && due < HZ / 250 + HZ / 1000);
    legacy_pc_advance(&pc, due - 1);
    assert_false(legacy_pc_interrupt_pending(&pc));
    legacy_pc_advance(&pc, due);
    assert_true(legacy_pc_interrupt_pending(&pc));

    struct legacy_pc_entry e = legacy_pc_before_entry(&pc, false);
    assert_int_equal(e.vector, -1);
    assert_true(e.want_window);
    assert_int_equal(pc.pic.chip[0].isr, 0); /* not acknowledged */
    assert_true(legacy_pc_interrupt_pending(&pc));

    e = legacy_pc_before_entry(&pc, true);
    assert_int_equal(e.vector, 0x30);
    assert_false(e.want_window);
    assert_int_equal(pc.pic.chip[0].isr, 0x01);
    assert_false(legacy_pc_interrupt_pending(&pc));
    e = legacy_pc_before_entry(&pc, true);
    assert_int_equal(e.vector, -1); /* one tick, one injection */
    outb(0x20, 0x20, due); /* EOI */
    assert_true(legacy_pc_next_deadline(&pc, due) > due);
}

/* The UART's THR-empty interrupt on IRQ 4 (OUT2 gates it), held while its queue is full: then
 * the next deadline is a look 1 ms later, and once the queue has room it is delivered. */
static void test_uart_irq4_and_held_thre(void **state)
{
    (void)state;
    outb(0xea, 0x21, 0); /* unmask IRQ 4 (and keep the cascade) */
    outb(0x02, 0x3f9, 0); /* IER: THRI */
    legacy_pc_advance(&pc, 10);
    assert_false(legacy_pc_interrupt_pending(&pc)); /* OUT2 clear: no line */
    outb(0x08, 0x3fc, 10); /* MCR: OUT2 */
    legacy_pc_advance(&pc, 20);
    assert_true(legacy_pc_interrupt_pending(&pc));
    struct legacy_pc_entry e = legacy_pc_before_entry(&pc, true);
    assert_int_equal(e.vector, 0x34);
    assert_int_equal(inb(0x3fa, 30) & 0x0f, 0x02); /* IIR: THRI, which acknowledges it */
    outb(0x20, 0x20, 30);                          /* EOI */
    legacy_pc_advance(&pc, 40);
    assert_false(pc.uart_level);

    /* the guest writes a byte that fills the queue: THR interrupt due but held */
    queue_full = false;
    outb('x', 0x3f8, 50);
    queue_full = true;
    legacy_pc_advance(&pc, 60);
    assert_false(legacy_pc_interrupt_pending(&pc));
    assert_int_equal(legacy_pc_next_deadline(&pc, 60), 60 + HZ / 1000);
    queue_full = false; /* the console pump drained it */
    legacy_pc_advance(&pc, 60 + HZ / 1000);
    assert_true(legacy_pc_interrupt_pending(&pc));
    e = legacy_pc_before_entry(&pc, true);
    assert_int_equal(e.vector, 0x34);
    assert_int_equal(legacy_pc_next_deadline(&pc, 70 + HZ / 1000), DEV_NO_DEADLINE);
}

/* A masked IRQ is never injected and asks for no window. */
static void test_masked_irq_ignored(void **state)
{
    (void)state;
    outb(0x02, 0x3f9, 0);
    outb(0x08, 0x3fc, 0);
    legacy_pc_advance(&pc, 10); /* IRQ 4 up, but masked */
    struct legacy_pc_entry e = legacy_pc_before_entry(&pc, false);
    assert_int_equal(e.vector, -1);
    assert_false(e.want_window);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_regions_on_the_bus, setup),
        cmocka_unit_test_setup(test_nothing_pending_nothing_done, setup),
        cmocka_unit_test_setup(test_timer_tick_window_then_inject, setup),
        cmocka_unit_test_setup(test_uart_irq4_and_held_thre, setup),
        cmocka_unit_test_setup(test_masked_irq_ignored, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
