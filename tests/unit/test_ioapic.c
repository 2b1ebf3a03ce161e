/* UNIT-SOURCES: kernel/dev/ioapic.c */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <tessera/ioapic.h>

static struct ioapic io;
static unsigned sent;
static uint8_t sent_vector;
static bool sent_level;
static bool accepting;
static uint8_t logical_id;

static bool deliver(void *ctx, uint8_t vector, bool level)
{
    assert_ptr_equal(ctx, &io);
    if (!accepting)
        return false;
    sent++;
    sent_vector = vector;
    sent_level = level;
    return true;
}

static bool match_logical(void *ctx, uint8_t dest)
{
    (void)ctx;
    return (dest & logical_id) != 0;
}

static void setup(void)
{
    struct ioapic_config c = { .id = 1, .apic_id = 0, .deliver = deliver,
                               .match_logical = match_logical, .ctx = &io };
    ioapic_init(&io, &c);
    sent = 0;
    sent_vector = 0;
    sent_level = false;
    accepting = true;
    logical_id = 1;
}

static uint32_t rd(uint32_t index)
{
    io.regsel = 0; /* make sure the MMIO path really selects */
    ioapic_mmio_ops.write(&io, IOAPIC_REGSEL, 4, index, 0);
    return (uint32_t)ioapic_mmio_ops.read(&io, IOAPIC_WINDOW, 4, 0);
}

static void wr(uint32_t index, uint32_t value)
{
    ioapic_mmio_ops.write(&io, IOAPIC_REGSEL, 4, index, 0);
    ioapic_mmio_ops.write(&io, IOAPIC_WINDOW, 4, value, 0);
}

/* As Linux's ioapic_write_entry: high dword first, then low. */
static void program(unsigned pin, uint64_t entry)
{
    wr(IOAPIC_REG_REDIR + 2 * pin + 1, (uint32_t)(entry >> 32));
    wr(IOAPIC_REG_REDIR + 2 * pin, (uint32_t)entry);
}

static uint64_t entry(unsigned pin)
{
    return (uint64_t)rd(IOAPIC_REG_REDIR + 2 * pin + 1) << 32 | rd(IOAPIC_REG_REDIR + 2 * pin);
}

static void test_registers(void **state)
{
    (void)state;
    setup();
    assert_int_equal(rd(IOAPIC_REG_VERSION), 0x00170011);
    assert_int_equal(((rd(IOAPIC_REG_VERSION) >> 16) & 0xff) + 1, 24);
    assert_int_equal(rd(IOAPIC_REG_ID), 1u << 24);
    assert_int_equal(rd(IOAPIC_REG_ARBITRATION), 1u << 24);
    wr(IOAPIC_REG_ID, 0xff000000);
    assert_int_equal(rd(IOAPIC_REG_ID), 0x0f000000);
    wr(IOAPIC_REG_VERSION, 0);
    assert_int_equal(rd(IOAPIC_REG_VERSION), 0x00170011);
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
        assert_int_equal(entry(pin), IOAPIC_MASKED);
    assert_int_equal(rd(0x03), 0);
    assert_int_equal(rd(0x40), 0); /* past entry 23 */
    /* writable bits only: delivery status (12) and remote IRR (14) are read-only */
    program(5, 0xffffffffffffffffull);
    assert_int_equal(entry(5), 0xff0000000001afffull);
    /* IOREGSEL keeps 8 bits and reads back */
    ioapic_mmio_ops.write(&io, IOAPIC_REGSEL, 4, 0x1234, 0);
    assert_int_equal(ioapic_mmio_ops.read(&io, IOAPIC_REGSEL, 4, 0), 0x34);
    ioapic_mmio_ops.write(&io, IOAPIC_REGSEL, 1, 0x01, 0);
    assert_int_equal(ioapic_mmio_ops.read(&io, IOAPIC_WINDOW, 4, 0), 0x00170011);
    /* partial reads of the window; other offsets read 0 */
    assert_int_equal(ioapic_mmio_ops.read(&io, IOAPIC_WINDOW + 2, 1, 0), 0x17);
    assert_int_equal(ioapic_mmio_ops.read(&io, IOAPIC_WINDOW, 2, 0), 0x0011);
    assert_int_equal(ioapic_mmio_ops.read(&io, IOAPIC_WINDOW + 4, 4, 0), 0);
    assert_int_equal(ioapic_mmio_ops.read(&io, 0x20, 4, 0), 0);
    assert_int_equal(ioapic_mmio_ops.read(&io, 0xffc, 4, 0), 0);
    /* only 4-byte window writes count */
    ioapic_mmio_ops.write(&io, IOAPIC_REGSEL, 4, IOAPIC_REG_REDIR + 2 * 6, 0);
    ioapic_mmio_ops.write(&io, IOAPIC_WINDOW, 2, 0x30, 0);
    ioapic_mmio_ops.write(&io, IOAPIC_WINDOW + 1, 4, 0x30, 0);
    ioapic_mmio_ops.write(&io, IOAPIC_WINDOW, 8, 0x30, 0);
    assert_int_equal(entry(6), IOAPIC_MASKED);
}

static void test_edge(void **state)
{
    (void)state;
    setup();
    program(4, 0x34); /* edge, high, fixed, physical 0, unmasked */
    ioapic_set_irq(&io, 4, true);
    assert_int_equal(sent, 1);
    assert_int_equal(sent_vector, 0x34);
    assert_false(sent_level);
    ioapic_set_irq(&io, 4, true); /* no new edge */
    assert_int_equal(sent, 1);
    ioapic_set_irq(&io, 4, false);
    ioapic_set_irq(&io, 4, true);
    assert_int_equal(sent, 2);
    assert_int_equal(entry(4) & IOAPIC_REMOTE_IRR, 0);
    ioapic_set_irq(&io, 4, false);
    /* an edge on a masked pin is lost; unmasking does not bring it back */
    program(4, IOAPIC_MASKED | 0x34);
    ioapic_set_irq(&io, 4, true);
    ioapic_set_irq(&io, 4, false);
    program(4, 0x34);
    assert_int_equal(sent, 2);
    ioapic_set_irq(&io, 24, true); /* no such pin */
    ioapic_set_irq(&io, 1000, true);
    assert_int_equal(sent, 2);
}

static void test_level_and_eoi(void **state)
{
    (void)state;
    setup();
    program(10, IOAPIC_LEVEL | 0x3a);
    ioapic_set_irq(&io, 10, true);
    assert_int_equal(sent, 1);
    assert_true(sent_level);
    assert_int_not_equal(entry(10) & IOAPIC_REMOTE_IRR, 0);
    ioapic_set_irq(&io, 10, true); /* still waiting for EOI */
    assert_int_equal(sent, 1);
    ioapic_eoi(&io, 0x3b); /* someone else's vector */
    assert_int_equal(sent, 1);
    assert_int_not_equal(entry(10) & IOAPIC_REMOTE_IRR, 0);
    ioapic_eoi(&io, 0x3a); /* still asserted: delivered again */
    assert_int_equal(sent, 2);
    assert_int_not_equal(entry(10) & IOAPIC_REMOTE_IRR, 0);
    ioapic_set_irq(&io, 10, false);
    ioapic_eoi(&io, 0x3a);
    assert_int_equal(sent, 2);
    assert_int_equal(entry(10) & IOAPIC_REMOTE_IRR, 0);
    assert_int_equal(entry(10) & IOAPIC_DELIVERY_STATUS, 0);
    /* masked while asserted: held until unmasked */
    program(10, IOAPIC_MASKED | IOAPIC_LEVEL | 0x3a);
    ioapic_set_irq(&io, 10, true);
    assert_int_equal(sent, 2);
    program(10, IOAPIC_LEVEL | 0x3a);
    assert_int_equal(sent, 3);
    /* Linux's EOI for version < 0x20: mask + edge, then the entry back: Remote IRR cleared and
     * the still-asserted line delivered again */
    program(10, IOAPIC_MASKED | 0x3a);
    assert_int_equal(entry(10) & IOAPIC_REMOTE_IRR, 0);
    program(10, IOAPIC_LEVEL | 0x3a);
    assert_int_equal(sent, 4);
    /* two pins sharing a vector: one EOI clears both */
    program(11, IOAPIC_LEVEL | 0x3a);
    ioapic_set_irq(&io, 11, true);
    assert_int_equal(sent, 5);
    ioapic_set_irq(&io, 10, false);
    ioapic_set_irq(&io, 11, false);
    ioapic_eoi(&io, 0x3a);
    assert_int_equal(entry(10) & IOAPIC_REMOTE_IRR, 0);
    assert_int_equal(entry(11) & IOAPIC_REMOTE_IRR, 0);
}

static void test_polarity(void **state)
{
    (void)state;
    setup();
    /* active low level: an idle-high wire is not asserted, a low wire is */
    ioapic_set_irq(&io, 9, true);
    program(9, IOAPIC_LEVEL | IOAPIC_ACTIVE_LOW | 0x49);
    assert_int_equal(sent, 0);
    ioapic_set_irq(&io, 9, false);
    assert_int_equal(sent, 1);
    assert_int_equal(sent_vector, 0x49);
    ioapic_set_irq(&io, 9, true);
    ioapic_eoi(&io, 0x49);
    assert_int_equal(sent, 1);
    /* active low edge: the falling wire is the edge */
    program(3, IOAPIC_ACTIVE_LOW | 0x43);
    ioapic_set_irq(&io, 3, true);
    assert_int_equal(sent, 1);
    ioapic_set_irq(&io, 3, false);
    assert_int_equal(sent, 2);
}

static void test_destinations_and_modes(void **state)
{
    (void)state;
    setup();
    program(1, (1ull << IOAPIC_DEST_SHIFT) | 0x41); /* physical 1: not our vCPU */
    ioapic_set_irq(&io, 1, true);
    assert_int_equal(sent, 0);
    assert_int_equal(io.unrouted, 1);
    ioapic_set_irq(&io, 1, false);
    program(1, (0xffull << IOAPIC_DEST_SHIFT) | 0x41); /* broadcast */
    ioapic_set_irq(&io, 1, true);
    assert_int_equal(sent, 1);
    ioapic_set_irq(&io, 1, false);
    program(1, (0x02ull << IOAPIC_DEST_SHIFT) | IOAPIC_DEST_LOGICAL | 0x41);
    ioapic_set_irq(&io, 1, true);
    assert_int_equal(sent, 1);
    ioapic_set_irq(&io, 1, false);
    logical_id = 2;
    ioapic_set_irq(&io, 1, true);
    assert_int_equal(sent, 2);
    ioapic_set_irq(&io, 1, false);
    program(1, (0x02ull << IOAPIC_DEST_SHIFT) | IOAPIC_DEST_LOGICAL | (1 << 8) | 0x42);
    ioapic_set_irq(&io, 1, true); /* lowest priority: the one vCPU */
    assert_int_equal(sent, 3);
    assert_int_equal(sent_vector, 0x42);
    ioapic_set_irq(&io, 1, false);
    /* NMI, SMI, INIT, ExtINT: refused */
    static const unsigned modes[] = { 2, 3, 4, 5, 6, 7 };
    for (unsigned i = 0; i < 6; i++) {
        program(1, (uint64_t)modes[i] << 8 | 0x41);
        ioapic_set_irq(&io, 1, true);
        ioapic_set_irq(&io, 1, false);
    }
    assert_int_equal(sent, 3);
    assert_int_equal(io.refused, 6);
    /* without a logical-match callback any non-zero logical destination is the vCPU */
    struct ioapic_config c = { .deliver = deliver, .ctx = &io };
    ioapic_init(&io, &c);
    program(2, (0x80ull << IOAPIC_DEST_SHIFT) | IOAPIC_DEST_LOGICAL | 0x50);
    ioapic_set_irq(&io, 2, true);
    assert_int_equal(sent, 4);
    program(3, IOAPIC_DEST_LOGICAL | 0x51);
    ioapic_set_irq(&io, 3, true);
    assert_int_equal(sent, 4);
}

/* Found by fuzz_ioapic: a level line held back only by its destination is delivered as soon as
 * the high dword names the vCPU, without waiting for another low-dword write. */
static void test_destination_change_delivers(void **state)
{
    (void)state;
    setup();
    program(7, (1ull << IOAPIC_DEST_SHIFT) | IOAPIC_LEVEL | 0x47);
    ioapic_set_irq(&io, 7, true);
    assert_int_equal(sent, 0);
    wr(IOAPIC_REG_REDIR + 2 * 7 + 1, 0);
    assert_int_equal(sent, 1);
    assert_int_equal(sent_vector, 0x47);
    assert_int_not_equal(entry(7) & IOAPIC_REMOTE_IRR, 0);
}

static void test_refused_delivery_retries(void **state)
{
    (void)state;
    setup();
    accepting = false; /* e.g. the vCPU's APIC is software-disabled */
    program(12, IOAPIC_LEVEL | 0x5c);
    ioapic_set_irq(&io, 12, true);
    assert_int_equal(sent, 0);
    assert_int_equal(entry(12) & IOAPIC_REMOTE_IRR, 0); /* not stuck */
    accepting = true;
    program(12, IOAPIC_LEVEL | 0x5c); /* any reprogramming re-evaluates */
    assert_int_equal(sent, 1);
    assert_int_not_equal(entry(12) & IOAPIC_REMOTE_IRR, 0);
}

/* Linux's io_apic.c at boot: read the version for the entry count, clear_IO_APIC masks every
 * pin, then setup_IO_APIC_irqs programs each with high dword first; check_timer expects the
 * PIT on pin 2 as edge, and level PCI/ACPI pins active low. */
static void test_linux_boot_sequence(void **state)
{
    (void)state;
    setup();
    unsigned entries = ((rd(IOAPIC_REG_VERSION) >> 16) & 0xff) + 1;
    assert_int_equal(entries, 24);
    for (unsigned pin = 0; pin < entries; pin++) {
        uint64_t e = entry(pin);
        program(pin, e | IOAPIC_MASKED);
    }
    ioapic_set_irq(&io, 9, true); /* idle high for an active-low line */
    program(2, 0x30); /* timer via ISO 0 -> 2 */
    program(9, IOAPIC_LEVEL | IOAPIC_ACTIVE_LOW | 0x39);
    assert_int_equal(sent, 0);
    for (unsigned i = 0; i < 3; i++) {
        ioapic_set_irq(&io, 2, true);
        ioapic_set_irq(&io, 2, false);
    }
    assert_int_equal(sent, 3);
    assert_int_equal(sent_vector, 0x30);
    ioapic_set_irq(&io, 9, false);
    assert_int_equal(sent, 4);
    assert_int_equal(sent_vector, 0x39);
    assert_true(sent_level);
    ioapic_set_irq(&io, 9, true);
    ioapic_eoi(&io, 0x39);
    assert_int_equal(entry(9) & IOAPIC_REMOTE_IRR, 0);
    assert_int_equal(sent, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registers),
        cmocka_unit_test(test_edge),
        cmocka_unit_test(test_level_and_eoi),
        cmocka_unit_test(test_polarity),
        cmocka_unit_test(test_destinations_and_modes),
        cmocka_unit_test(test_destination_change_delivers),
        cmocka_unit_test(test_refused_delivery_retries),
        cmocka_unit_test(test_linux_boot_sequence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
