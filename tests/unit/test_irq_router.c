/* UNIT-SOURCES: kernel/dev/irq_router.c kernel/dev/ioapic.c kernel/dev/vlapic.c */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <tessera/dev.h>
#include <tessera/ioapic.h>
#include <tessera/irq_router.h>
#include <tessera/vlapic.h>

/* A stand-in for the 8259 pair: remembers each input's level and how often it changed. */
struct fake_pic {
    bool level[16];
    unsigned changes[16];
};

static void pic_set(void *opaque, unsigned irq, bool level)
{
    struct fake_pic *pic = opaque;
    assert_true(irq < 16);
    pic->level[irq] = level;
    pic->changes[irq]++;
}

static struct fake_pic pic;
static struct ioapic io;
static struct irq_router router;
static struct vlapic apic;

static bool to_lapic(void *ctx, uint8_t vector, bool level)
{
    return vlapic_accept(ctx, vector, level);
}

static bool vlapic_logical(void *ctx, uint8_t dest)
{
    return vlapic_match_destination(ctx, dest, true);
}

static void to_ioapic(void *ctx, uint8_t vector)
{
    ioapic_eoi(ctx, vector);
}

/* The wiring as the run loop will do it. */
static void setup(uint32_t active_low)
{
    memset(&pic, 0, sizeof(pic));
    struct vlapic_config lc = { .apic_id = 0, .bsp = true, .tsc_hz = 5000000,
                               .eoi_level = to_ioapic, .ctx = &io };
    assert_int_equal(vlapic_init(&apic, &lc), 0);
    struct ioapic_config ic = { .id = 0, .apic_id = 0, .deliver = to_lapic,
                                .match_logical = vlapic_logical, .ctx = &apic };
    ioapic_init(&io, &ic);
    irq_router_init(&router, &io, pic_set, &pic, active_low);
}

static void program(unsigned pin, uint64_t entry)
{
    ioapic_write_register(&io, IOAPIC_REG_REDIR + 2 * pin + 1, (uint32_t)(entry >> 32));
    ioapic_write_register(&io, IOAPIC_REG_REDIR + 2 * pin, (uint32_t)entry);
}

static void test_routes(void **state)
{
    (void)state;
    setup(0);
    for (unsigned pin = 0; pin < 24; pin++)
        program(pin, IOAPIC_MASKED | (0x40 + pin)); /* masked: look at the wires only */
    struct irq_line pit = irq_router_line(&router, 0);
    irq_line_set(&pit, true);
    assert_true(pic.level[0]);
    assert_true((io.wire >> 2) & 1); /* ISO 0 -> 2 */
    assert_false(io.wire & 1);
    irq_line_set(&pit, false);
    assert_false(pic.level[0]);
    assert_int_equal(io.wire, 0);
    irq_router_set(&router, 2, true); /* the cascade: nothing */
    assert_int_equal(pic.changes[2], 0);
    assert_int_equal(io.wire, 0);
    irq_router_set(&router, 4, true);
    assert_true(pic.level[4]);
    assert_int_equal(io.wire, 1u << 4);
    irq_router_set(&router, 4, false);
    irq_router_set(&router, 15, true);
    assert_true(pic.level[15]);
    assert_int_equal(io.wire, 1u << 15);
    irq_router_set(&router, 15, false);
    irq_router_set(&router, 17, true); /* PCI-style GSI: I/O APIC only */
    assert_int_equal(io.wire, 1u << 17);
    for (unsigned i = 0; i < 16; i++)
        assert_int_equal(pic.changes[i], i == 0 || i == 4 || i == 15 ? 2 : 0);
    irq_router_set(&router, 24, true);
    irq_router_set(&router, 0xffffffffu, true);
    assert_int_equal(io.wire, 1u << 17);
    /* without a PIC or an I/O APIC */
    irq_router_init(&router, NULL, NULL, NULL, 0);
    irq_router_set(&router, 4, true);
    struct irq_line none = { 0 };
    irq_line_set(&none, true);
    irq_line_set(NULL, true);
}

static void test_active_low(void **state)
{
    (void)state;
    setup(1u << 9);
    assert_int_equal(io.wire, 1u << 9); /* idle high from the start */
    program(9, IOAPIC_LEVEL | IOAPIC_ACTIVE_LOW | 0x39);
    assert_int_equal(vlapic_pending_vector(&apic), -1);
    irq_router_set(&router, 9, true);  /* device asserts: wire goes low */
    assert_int_equal(io.wire, 0);
    assert_true(pic.level[9]);        /* the PIC sees the logical level */
    assert_int_equal(vlapic_pending_vector(&apic), 0x39);
}

/* End to end: device line -> router -> I/O APIC -> local APIC -> injection -> EOI -> I/O APIC. */
static void test_wired_level_interrupt(void **state)
{
    (void)state;
    setup(0);
    program(10, IOAPIC_LEVEL | 0x3a);
    program(2, 0x30);
    struct irq_line nic = irq_router_line(&router, 10);
    irq_line_set(&nic, true);
    assert_int_equal(vlapic_pending_vector(&apic), 0x3a);
    assert_true(vlapic_acknowledge(&apic, 0x3a));
    /* a PIT pulse while 0x3a is in service: 0x30 is in 0x3a's class (3): it waits */
    struct irq_line pit = irq_router_line(&router, 0);
    irq_line_set(&pit, true);
    irq_line_set(&pit, false);
    assert_int_equal(vlapic_pending_vector(&apic), -1);
    /* EOI while the device still asserts: Remote IRR cleared and the line re-delivered */
    vlapic_mmio_ops.write(&apic, VLAPIC_EOI, 4, 0, 0);
    assert_int_equal(vlapic_pending_vector(&apic), 0x3a);
    assert_true(vlapic_acknowledge(&apic, 0x3a));
    irq_line_set(&nic, false); /* the driver quiets the device, then EOIs */
    vlapic_mmio_ops.write(&apic, VLAPIC_EOI, 4, 0, 0);
    assert_int_equal(io.redir[10] & IOAPIC_REMOTE_IRR, 0);
    assert_int_equal(vlapic_pending_vector(&apic), 0x30); /* the PIT's edge was kept */
    assert_true(vlapic_acknowledge(&apic, 0x30));
    vlapic_mmio_ops.write(&apic, VLAPIC_EOI, 4, 0, 0);
    assert_int_equal(vlapic_pending_vector(&apic), -1);
    /* logical destination through vlapic_match_destination (flat, LDR bit 0) */
    vlapic_mmio_ops.write(&apic, VLAPIC_LDR, 4, 0x01000000, 0);
    program(5, (0x01ull << IOAPIC_DEST_SHIFT) | IOAPIC_DEST_LOGICAL | 0x45);
    irq_router_set(&router, 5, true);
    assert_int_equal(vlapic_pending_vector(&apic), 0x45);
    /* a software-disabled APIC refuses: the level line is not left with Remote IRR set */
    vlapic_mmio_ops.write(&apic, VLAPIC_SVR, 4, 0xff, 0);
    program(11, IOAPIC_LEVEL | 0x5b);
    irq_router_set(&router, 11, true);
    assert_int_equal(io.redir[11] & IOAPIC_REMOTE_IRR, 0);
    vlapic_mmio_ops.write(&apic, VLAPIC_SVR, 4, 0x1ff, 0);
    program(11, IOAPIC_LEVEL | 0x5b);
    assert_int_not_equal(io.redir[11] & IOAPIC_REMOTE_IRR, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_active_low),
        cmocka_unit_test(test_wired_level_interrupt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
