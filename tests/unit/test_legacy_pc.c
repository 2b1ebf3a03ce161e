/* UNIT-SOURCES: kernel/dev/legacy_pc.c kernel/dev/pic.c kernel/dev/pit.c kernel/dev/rtc.c kernel/dev/vlapic.c kernel/dev/irq_router.c kernel/dev/ioapic.c kernel/dev/bus.c kernel/vuart.c */
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
#include <errno.h>

#include <tessera/legacy_pc.h>
#include <tessera/rtc.h>

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
    assert_int_equal(legacy_pc_init(&pc, HZ, 0, &uart), 0);
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
    assert_null(dev_bus_find(&bus, DEV_SPACE_PORT, 0x70, 1)); /* the RTC is the VM's own */
    assert_null(dev_bus_find(&bus, DEV_SPACE_PORT, 0x80, 1));
    assert_non_null(dev_bus_find(&bus, DEV_SPACE_MMIO, 0xfee000b0, 4));
    assert_non_null(dev_bus_find(&bus, DEV_SPACE_MMIO, 0xfec00010, 4));
    assert_null(dev_bus_find(&bus, DEV_SPACE_MMIO, 0xfee01000, 4));
    assert_null(dev_bus_find(&bus, DEV_SPACE_MMIO, 0xfed00000, 4)); /* no HPET */
    /* a second attach to the same bus overlaps */
    struct legacy_pc other;
    assert_int_equal(legacy_pc_init(&other, HZ, 0, NULL), 0);
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

/* ---- the APIC path: I/O APIC -> local APIC -> vCPU ---------------------------------------- */

static void mmio_write(uint64_t addr, uint32_t value, uint64_t now)
{
    const struct dev_region *r = dev_bus_find(&bus, DEV_SPACE_MMIO, addr, 4);
    assert_non_null(r);
    r->ops->write(r->dev, addr - r->base, 4, value, now);
}

static uint32_t mmio_read(uint64_t addr, uint64_t now)
{
    const struct dev_region *r = dev_bus_find(&bus, DEV_SPACE_MMIO, addr, 4);
    assert_non_null(r);
    return (uint32_t)r->ops->read(r->dev, addr - r->base, 4, now);
}

#define LAPIC 0xfee00000u
#define IOAPIC 0xfec00000u

static void ioapic_entry(unsigned pin, uint32_t low, uint64_t now)
{
    mmio_write(IOAPIC, 0x10 + 2 * pin + 1, now);
    mmio_write(IOAPIC + 0x10, 0, now); /* destination APIC 0 */
    mmio_write(IOAPIC, 0x10 + 2 * pin, now);
    mmio_write(IOAPIC + 0x10, low, now);
}

/* As Linux sets up the APIC mode: the PIC pair masked, LINT0 masked (no ExtINT), the APIC
 * software-enabled, TPR 0. */
static void apic_mode(void)
{
    outb(0xff, 0x21, 0);
    outb(0xff, 0xa1, 0);
    mmio_write(LAPIC + 0xf0, 0x1ff, 0);      /* SVR: enabled, spurious 0xff */
    mmio_write(LAPIC + 0x350, 0x10000, 0);   /* LVT LINT0 masked */
    mmio_write(LAPIC + 0x80, 0, 0);          /* TPR */
}

/* The PIT's IRQ 0 reaches I/O APIC pin 2 (the MADT override) and, through the local APIC, the
 * vCPU as the pin's vector; the in-service vector blocks the next tick until EOI; the PIC's own
 * request (still raised) goes nowhere with LINT0 masked. */
static void test_pit_through_ioapic_and_lapic(void **state)
{
    (void)state;
    apic_mode();
    outb(0xfa, 0x21, 0); /* even unmasked at the PIC: LINT0 is masked, so no ExtINT */
    ioapic_entry(2, 0xec, 0); /* vector 0xec, fixed, edge, physical, unmasked */
    const unsigned latch = (PIT_HZ + 125) / 250;
    outb(0x34, 0x43, 0);
    outb(latch & 0xff, 0x40, 0);
    outb(latch >> 8, 0x40, 0);
    uint64_t due = legacy_pc_next_deadline(&pc, 0);
    legacy_pc_advance(&pc, due);
    assert_true(legacy_pc_interrupt_pending(&pc));
    struct legacy_pc_entry e = legacy_pc_before_entry(&pc, false);
    assert_int_equal(e.vector, -1);
    assert_true(e.want_window);
    assert_int_equal(vlapic_pending_vector(&pc.apic), 0xec); /* not acknowledged */
    e = legacy_pc_before_entry(&pc, true);
    assert_int_equal(e.vector, 0xec);
    assert_int_equal(pc.pic.chip[0].isr, 0); /* the PIC was not asked */
    assert_int_equal(mmio_read(LAPIC + 0x100 + 0x70, due) & (1u << 12), 1u << 12); /* ISR 0xec */
    /* the next tick while 0xec is in service: held (same priority class) */
    uint64_t due2 = legacy_pc_next_deadline(&pc, due);
    legacy_pc_advance(&pc, due2);
    assert_false(legacy_pc_interrupt_pending(&pc));
    e = legacy_pc_before_entry(&pc, true);
    assert_int_equal(e.vector, -1);
    assert_false(e.want_window);
    mmio_write(LAPIC + 0xb0, 0, due2); /* EOI */
    assert_true(legacy_pc_interrupt_pending(&pc));
    e = legacy_pc_before_entry(&pc, true);
    assert_int_equal(e.vector, 0xec);
}

/* Priority: the highest vector first; a lower one waits while a higher class is in service and
 * while TPR is at or above its class (SDM 11.8.3.1). */
static void test_apic_priority_and_tpr(void **state)
{
    (void)state;
    apic_mode();
    ioapic_entry(4, 0x41, 0); /* the UART */
    ioapic_entry(8, 0x81, 0); /* the RTC */
    mmio_write(LAPIC + 0x80, 0x50, 0); /* TPR class 5: 0x41 is blocked, 0x81 is not */
    assert_true(vlapic_accept(&pc.apic, 0x41, false));
    assert_true(vlapic_accept(&pc.apic, 0x81, false));
    struct legacy_pc_entry e = legacy_pc_before_entry(&pc, true);
    assert_int_equal(e.vector, 0x81);
    e = legacy_pc_before_entry(&pc, true);
    assert_int_equal(e.vector, -1); /* 0x41: below TPR and below the in-service 0x81 */
    assert_false(e.want_window);
    mmio_write(LAPIC + 0xb0, 0, 0); /* EOI 0x81 */
    e = legacy_pc_before_entry(&pc, true);
    assert_int_equal(e.vector, -1); /* still below TPR */
    mmio_write(LAPIC + 0x80, 0, 0);
    assert_true(legacy_pc_interrupt_pending(&pc));
    e = legacy_pc_before_entry(&pc, true);
    assert_int_equal(e.vector, 0x41);
}

/* The RTC's update interrupt (IRQ 8 on the platform's router, as kernel/vm_devices.c wires it)
 * reaches the vCPU through I/O APIC pin 8. */
static void test_rtc_through_ioapic(void **state)
{
    (void)state;
    static struct rtc rtc;
    struct irq_line irq8 = irq_router_line(&pc.router, 8);
    rtc_init(&rtc, HZ, 0, 946684800, &irq8);
    struct dev_region r[RTC_REGIONS];
    rtc_regions(&rtc, r);
    assert_int_equal(dev_bus_add(&bus, &r[0]), 0);
    apic_mode();
    ioapic_entry(8, 0x38, 0);
    outb(0x0b, 0x70, 0);
    outb(0x12, 0x71, 0); /* register B: UIE, 24-hour */
    uint64_t due = rtc_next_deadline(&rtc);
    assert_true(due > 0 && due <= HZ);
    rtc_advance(&rtc, due);
    struct legacy_pc_entry e = legacy_pc_before_entry(&pc, true);
    assert_int_equal(e.vector, 0x38);
    /* the time bytes are the host's time given at init: 2000-01-01 00:00:00 + elapsed */
    outb(0x09, 0x70, due);
    assert_int_equal(inb(0x71, due), 0x00); /* year 00 (BCD) */
    outb(0x32, 0x70, due);
    assert_int_equal(inb(0x71, due), 0x20); /* century */
}

/* The local APIC timer: one-shot at the timer's clock (the TSC here: ratio 1), and
 * TSC-deadline through the MSR; both become the platform's next deadline. */
static void test_lapic_timer_deadlines(void **state)
{
    (void)state;
    apic_mode();
    assert_int_equal(vlapic_timer_hz(&pc.apic), HZ);
    assert_int_equal(vlapic_timer_tsc_ratio(&pc.apic), 1);
    mmio_write(LAPIC + 0x3e0, 0xb, 100);      /* divide by 1 */
    mmio_write(LAPIC + 0x320, 0xef, 100);     /* one-shot, vector 0xef */
    mmio_write(LAPIC + 0x380, 5000, 100);     /* initial count */
    assert_int_equal(legacy_pc_next_deadline(&pc, 100), 5100);
    legacy_pc_advance(&pc, 5100);
    struct legacy_pc_entry e = legacy_pc_before_entry(&pc, true);
    assert_int_equal(e.vector, 0xef);
    mmio_write(LAPIC + 0xb0, 0, 5100);
    assert_int_equal(legacy_pc_next_deadline(&pc, 5100), DEV_NO_DEADLINE);
    /* TSC-deadline mode */
    mmio_write(LAPIC + 0x320, 0xef | (2u << 17), 6000);
    assert_int_equal(legacy_pc_msr_write(&pc, 0x6e0, 9000, 6000), 0);
    assert_int_equal(legacy_pc_next_deadline(&pc, 6000), 9000);
    uint64_t v = 0;
    assert_int_equal(legacy_pc_msr_read(&pc, 0x6e0, &v, 6000), 0);
    assert_int_equal(v, 9000);
    legacy_pc_advance(&pc, 9000);
    e = legacy_pc_before_entry(&pc, true);
    assert_int_equal(e.vector, 0xef);
}

/* IA32_APIC_BASE reads the default base, BSP, enabled; x2APIC (hidden in CPUID) and relocation
 * are refused (#GP); other MSRs are not the platform's. */
static void test_apic_msrs(void **state)
{
    (void)state;
    uint64_t v = 0;
    assert_int_equal(legacy_pc_msr_read(&pc, 0x1b, &v, 0), 0);
    assert_int_equal(v, 0xfee00000u | (1u << 11) | (1u << 8));
    assert_int_equal(legacy_pc_msr_write(&pc, 0x1b, v | (1u << 10), 0), -EINVAL); /* EXTD */
    assert_int_equal(legacy_pc_msr_write(&pc, 0x1b, 0xfed00000u | (1u << 11), 0), -EINVAL);
    assert_int_equal(legacy_pc_msr_read(&pc, 0x802, &v, 0), -EINVAL); /* x2APIC ID */
    assert_int_equal(legacy_pc_msr_write(&pc, 0x80b, 0, 0), -EINVAL); /* x2APIC EOI */
    assert_int_equal(legacy_pc_msr_read(&pc, 0x10, &v, 0), -ENOENT);
    assert_int_equal(legacy_pc_msr_write(&pc, 0x1b, 0xfee00000u | (1u << 11), 0), 0);
}

/* With LINT0 in ExtINT mode (the power-on virtual wire, Linux with nolapic) the PIC's vector
 * comes first, even with an APIC vector pending. */
static void test_extint_first(void **state)
{
    (void)state;
    outb(0xfa, 0x21, 0);
    assert_true(vlapic_extint_enabled(&pc.apic));
    assert_true(vlapic_accept(&pc.apic, 0x81, false));
    irq_router_set(&pc.router, 0, true);
    irq_router_set(&pc.router, 0, false);
    struct legacy_pc_entry e = legacy_pc_before_entry(&pc, true);
    assert_int_equal(e.vector, 0x30);
    e = legacy_pc_before_entry(&pc, true);
    assert_int_equal(e.vector, 0x81);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_regions_on_the_bus, setup),
        cmocka_unit_test_setup(test_nothing_pending_nothing_done, setup),
        cmocka_unit_test_setup(test_timer_tick_window_then_inject, setup),
        cmocka_unit_test_setup(test_uart_irq4_and_held_thre, setup),
        cmocka_unit_test_setup(test_masked_irq_ignored, setup),
        cmocka_unit_test_setup(test_pit_through_ioapic_and_lapic, setup),
        cmocka_unit_test_setup(test_apic_priority_and_tpr, setup),
        cmocka_unit_test_setup(test_rtc_through_ioapic, setup),
        cmocka_unit_test_setup(test_lapic_timer_deadlines, setup),
        cmocka_unit_test_setup(test_apic_msrs, setup),
        cmocka_unit_test_setup(test_extint_first, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
