/* UNIT-SOURCES: kernel/dev/pit.c */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <tessera/pit.h>

#define HZ3G 3000000000ull
#define BASE 1000ull

static struct pit pit;
static struct dev_region regions[PIT_REGIONS];
static unsigned pulses, raised;
static bool line;

static void irq_set(void *router, unsigned gsi, bool level)
{
    (void)router;
    assert_int_equal(gsi, 0);
    if (level && !line)
        pulses++;
    if (level)
        raised++;
    line = level;
}

static void reset(uint64_t tsc_hz)
{
    struct irq_line irq0 = { irq_set, NULL, 0 };
    pulses = raised = 0;
    line = false;
    pit_init(&pit, tsc_hz, BASE, &irq0);
    pit_regions(&pit, regions);
}

/* The exact TSC of an input-clock tick, with 128-bit arithmetic the model does not use. */
static uint64_t tsc_of(uint64_t tick)
{
    unsigned __int128 t = (unsigned __int128)tick * pit.tsc_hz;
    return BASE + (uint64_t)((t + PIT_HZ - 1) / PIT_HZ);
}

static void outb(uint8_t v, unsigned port, uint64_t now)
{
    const struct dev_region *r = port == 0x61 ? &regions[1] : &regions[0];
    r->ops->write(r->dev, port - r->base, 1, v, now);
}

static uint8_t inb(unsigned port, uint64_t now)
{
    const struct dev_region *r = port == 0x61 ? &regions[1] : &regions[0];
    return (uint8_t)r->ops->read(r->dev, port - r->base, 1, now);
}

/* Linux's i8253 clocksource read: latch channel 0, read low then high. */
static unsigned read_ch0_latched(uint64_t now)
{
    outb(0x00, 0x43, now);
    unsigned lo = inb(0x40, now);
    return lo | inb(0x40, now) << 8;
}

static void test_tick_arithmetic(void **state)
{
    (void)state;
    reset(HZ3G);
    assert_int_equal(pit_tick_at(&pit, BASE), 0);
    assert_int_equal(pit_tick_at(&pit, BASE - 1), 0);
    assert_int_equal(pit_tick_at(&pit, BASE + HZ3G), PIT_HZ);
    /* exact after hours and at the very end of the TSC's range */
    uint64_t hours = 10ull * 3600 * HZ3G + 12345;
    unsigned __int128 exact = (unsigned __int128)hours * PIT_HZ / HZ3G;
    assert_int_equal(pit_tick_at(&pit, BASE + hours), (uint64_t)exact);
    exact = (unsigned __int128)(UINT64_MAX - BASE) * PIT_HZ / HZ3G;
    assert_int_equal(pit_tick_at(&pit, UINT64_MAX), (uint64_t)exact);
    /* a TSC slower than the PIT clock, or absurdly fast, is clamped */
    reset(1000);
    assert_int_equal(pit.tsc_hz, PIT_HZ);
    reset(UINT64_MAX);
    assert_int_equal(pit.tsc_hz, (1ull << 43) - 1);
}

static void test_power_on_idle(void **state)
{
    (void)state;
    reset(HZ3G);
    assert_int_equal(pit_next_deadline(&pit), DEV_NO_DEADLINE);
    pit_advance(&pit, BASE + HZ3G);
    assert_int_equal(pulses, 0);
    assert_int_equal(inb(0x61, BASE) & 0x23, 0); /* gate low, speaker off, OUT2 low */
    assert_int_equal(inb(0x43, BASE), 0xff);
}

/* Linux's periodic clockevent: 0x34 (channel 0, lohi, mode 2), LATCH for HZ=1000. */
static void test_linux_periodic_no_drift(void **state)
{
    (void)state;
    reset(HZ3G);
    const unsigned latch = (PIT_HZ + 500) / 1000;
    uint64_t t0 = BASE + 12345;
    outb(0x34, 0x43, t0);
    outb(latch & 0xff, 0x40, t0);
    outb(latch >> 8, 0x40, t0);
    uint64_t load = pit_tick_at(&pit, t0) + 1;
    for (unsigned k = 1; k <= 2000; k++) {
        uint64_t d = pit_next_deadline(&pit);
        assert_int_equal(d, tsc_of(load + (uint64_t)k * latch));
        pit_advance(&pit, d - 1);
        assert_int_equal(pulses, k - 1);
        pit_advance(&pit, d);
        assert_int_equal(pulses, k);
    }
    /* five hours later, still on the grid; a late advance raises one edge, not thousands */
    uint64_t late = BASE + 5ull * 3600 * HZ3G;
    unsigned before = pulses;
    pit_advance(&pit, late);
    assert_int_equal(pulses, before + 1);
    uint64_t tick = pit_tick_at(&pit, late);
    uint64_t next = load + ((tick - load) / latch + 1) * latch;
    assert_int_equal(pit_next_deadline(&pit), tsc_of(next));
    assert_true(pit_next_deadline(&pit) > late);
    /* the counter reads down from latch to 1 within each period */
    assert_int_equal(read_ch0_latched(tsc_of(next)), latch);
    assert_int_equal(read_ch0_latched(tsc_of(next + 1)), latch - 1);
    assert_true(pit_out(&pit, 0, tsc_of(next + latch - 2)));
    assert_int_equal(read_ch0_latched(tsc_of(next + latch - 1)), 1);
    assert_false(pit_out(&pit, 0, tsc_of(next + latch - 1))); /* low for the last clock */
}

static void test_mode0_and_linux_shutdown(void **state)
{
    (void)state;
    reset(HZ3G);
    uint64_t t0 = BASE + 777;
    outb(0x30, 0x43, t0); /* channel 0, lohi, mode 0 */
    assert_false(pit_out(&pit, 0, t0));
    assert_int_equal(pit_next_deadline(&pit), DEV_NO_DEADLINE); /* no count yet */
    outb(100, 0x40, t0);
    assert_int_equal(pit_next_deadline(&pit), DEV_NO_DEADLINE); /* half a count */
    outb(0, 0x40, t0);
    uint64_t w = pit_tick_at(&pit, t0);
    /* OUT rises N + 1 clocks after the count is written (8254 data sheet, mode 0) */
    assert_int_equal(pit_next_deadline(&pit), tsc_of(w + 101));
    assert_int_equal(read_ch0_latched(tsc_of(w + 1)), 100);
    assert_false(pit_out(&pit, 0, tsc_of(w + 100)));
    assert_true(pit_out(&pit, 0, tsc_of(w + 101)));
    assert_int_equal(read_ch0_latched(tsc_of(w + 101)), 0);
    assert_int_equal(read_ch0_latched(tsc_of(w + 102)), 0xffff); /* keeps counting */
    pit_advance(&pit, tsc_of(w + 5000));
    assert_int_equal(pulses, 1);
    assert_int_equal(pit_next_deadline(&pit), DEV_NO_DEADLINE); /* one shot */
    pit_advance(&pit, tsc_of(w + 100000));
    assert_int_equal(pulses, 1);
    /* Linux's shutdown: mode 0 with count 0 is 65536 clocks, then one edge */
    uint64_t t1 = tsc_of(w + 200000);
    outb(0x30, 0x43, t1);
    outb(0, 0x40, t1);
    outb(0, 0x40, t1);
    uint64_t w1 = pit_tick_at(&pit, t1);
    assert_int_equal(pit_next_deadline(&pit), tsc_of(w1 + 65537));
}

/* Linux's oneshot clockevent: 0x38 (mode 4), then the delta low and high. */
static void test_mode4_oneshot(void **state)
{
    (void)state;
    reset(HZ3G);
    uint64_t t0 = BASE + 5;
    outb(0x38, 0x43, t0);
    assert_true(pit_out(&pit, 0, t0));
    outb(0x10, 0x40, t0);
    outb(0x00, 0x40, t0);
    uint64_t w = pit_tick_at(&pit, t0);
    assert_true(pit_out(&pit, 0, tsc_of(w + 16)));
    assert_false(pit_out(&pit, 0, tsc_of(w + 17))); /* one clock low at terminal count */
    assert_true(pit_out(&pit, 0, tsc_of(w + 18)));
    assert_int_equal(pit_next_deadline(&pit), tsc_of(w + 18));
    pit_advance(&pit, tsc_of(w + 18));
    assert_int_equal(pulses, 1);
    assert_int_equal(pit_next_deadline(&pit), DEV_NO_DEADLINE);
    /* reprogramming restarts it */
    uint64_t t1 = tsc_of(w + 30);
    outb(0x05, 0x40, t1);
    outb(0x00, 0x40, t1);
    assert_int_equal(pit_next_deadline(&pit), tsc_of(w + 30 + 7));
}

static void test_mode3_square_wave(void **state)
{
    (void)state;
    reset(HZ3G);
    uint64_t t0 = BASE;
    outb(0x36, 0x43, t0); /* mode 3, lohi: the BIOS's 18.2 Hz setting, here count 10 */
    outb(10, 0x40, t0);
    outb(0, 0x40, t0);
    uint64_t load = pit_tick_at(&pit, t0) + 1;
    for (unsigned i = 0; i < 5; i++) {
        assert_true(pit_out(&pit, 0, tsc_of(load + i)));
        assert_int_equal(read_ch0_latched(tsc_of(load + i)), 10 - 2 * i);
    }
    for (unsigned i = 5; i < 10; i++) {
        assert_false(pit_out(&pit, 0, tsc_of(load + i)));
        assert_int_equal(read_ch0_latched(tsc_of(load + i)), 10 - 2 * (i - 5));
    }
    assert_true(pit_out(&pit, 0, tsc_of(load + 10)));
    assert_int_equal(pit_next_deadline(&pit), tsc_of(load + 10));
    /* odd count 7: high for 4 clocks, low for 3, counting 6, 4, 2, 0 / 6, 4, 2 */
    uint64_t t1 = tsc_of(load + 100);
    outb(0x36, 0x43, t1);
    outb(7, 0x40, t1);
    outb(0, 0x40, t1);
    uint64_t l1 = pit_tick_at(&pit, t1) + 1;
    static const unsigned values[7] = { 6, 4, 2, 0, 6, 4, 2 };
    for (unsigned i = 0; i < 7; i++) {
        assert_int_equal(pit_out(&pit, 0, tsc_of(l1 + i)), i < 4);
        assert_int_equal(read_ch0_latched(tsc_of(l1 + i)), values[i]);
    }
    pit_advance(&pit, tsc_of(l1 + 6));
    pulses = 0;
    for (unsigned k = 1; k <= 50; k++) {
        assert_int_equal(pit_next_deadline(&pit), tsc_of(l1 + 7 * k));
        pit_advance(&pit, pit_next_deadline(&pit));
    }
    assert_int_equal(pulses, 50);
}

static void test_new_count_at_period_end(void **state)
{
    (void)state;
    reset(HZ3G);
    outb(0x34, 0x43, BASE);
    outb(100, 0x40, BASE);
    outb(0, 0x40, BASE);
    uint64_t load = 1;
    uint64_t t = tsc_of(load + 250); /* in the third period */
    outb(40, 0x40, t);
    outb(0, 0x40, t);
    assert_int_equal(read_ch0_latched(tsc_of(load + 260)), 40); /* old period continues */
    assert_int_equal(pit_next_deadline(&pit), tsc_of(load + 300));
    pit_advance(&pit, tsc_of(load + 300));
    assert_int_equal(pit_next_deadline(&pit), tsc_of(load + 340));
    assert_int_equal(read_ch0_latched(tsc_of(load + 301)), 39);
    /* the status byte shows null count until the new count is loaded */
    outb(0x34, 0x43, tsc_of(1000));
    outb(0xe2, 0x43, tsc_of(1000)); /* read-back: status of channel 0 */
    assert_int_equal(inb(0x40, tsc_of(1000)), 0x80 | 0x40 | 0x30 | 0x04);
    outb(50, 0x40, tsc_of(1000));
    outb(0, 0x40, tsc_of(1000));
    outb(0xe2, 0x43, tsc_of(1001));
    assert_int_equal(inb(0x40, tsc_of(1001)), 0x80 | 0x30 | 0x04);
}

static void test_latch_and_readback(void **state)
{
    (void)state;
    reset(HZ3G);
    outb(0x34, 0x43, BASE);
    outb(0x00, 0x40, BASE);
    outb(0x10, 0x40, BASE); /* 0x1000 */
    /* unlatched reads alternate low and high bytes of the live count */
    assert_int_equal(inb(0x40, tsc_of(0x10)), 0xf1);
    assert_int_equal(inb(0x40, tsc_of(0x10)), 0x0f);
    outb(0x00, 0x43, tsc_of(0x11)); /* latch: 0x1000 - 0x10 */
    outb(0x00, 0x43, tsc_of(0x20)); /* ignored: already latched */
    assert_int_equal(inb(0x40, tsc_of(0x200)), 0xf0);
    assert_int_equal(inb(0x40, tsc_of(0x300)), 0x0f);
    /* read-back latching count and status: status first, then the count */
    outb(0xc2, 0x43, tsc_of(0x400));
    assert_int_equal(inb(0x40, tsc_of(0x500)), 0xb4);
    assert_int_equal(inb(0x40, tsc_of(0x500)), 0x01);
    assert_int_equal(inb(0x40, tsc_of(0x500)), 0x0c);
    /* low-byte-only access (0x14: channel 0, LSB, mode 2) */
    outb(0x14, 0x43, tsc_of(0x600));
    outb(50, 0x40, tsc_of(0x600));
    assert_int_equal(inb(0x40, tsc_of(0x601)), 50);
    assert_int_equal(inb(0x40, tsc_of(0x602)), 49);
    /* high-byte-only (0x24): count 0x0200 */
    outb(0x24, 0x43, tsc_of(0x700));
    outb(0x02, 0x40, tsc_of(0x700));
    assert_int_equal(inb(0x40, tsc_of(0x701 + 0x100)), 0x01);
    /* read-back of channel 2's status while unprogrammed, and a 16-bit read of 0x40 */
    outb(0xe8, 0x43, tsc_of(0x800));
    assert_int_equal(inb(0x42, tsc_of(0x800)), 0x30);
    assert_int_equal(regions[0].ops->read(&pit, 3, 1, tsc_of(0x800)), 0xff);
}

static void test_bcd(void **state)
{
    (void)state;
    reset(HZ3G);
    outb(0x31, 0x43, BASE); /* mode 0, BCD */
    outb(0x00, 0x40, BASE);
    outb(0x10, 0x40, BASE); /* 1000 decimal */
    assert_int_equal(pit_next_deadline(&pit), tsc_of(1001));
    assert_int_equal(read_ch0_latched(tsc_of(1 + 1)), 0x0999);
    assert_int_equal(read_ch0_latched(tsc_of(1 + 1000)), 0x0000);
    assert_int_equal(read_ch0_latched(tsc_of(1 + 1001)), 0x9999); /* wraps in decimal */
    outb(0x35, 0x43, tsc_of(2000)); /* mode 2 BCD, count 0 = 10000 */
    outb(0, 0x40, tsc_of(2000));
    outb(0, 0x40, tsc_of(2000));
    assert_int_equal(pit_next_deadline(&pit), tsc_of(2001 + 10000));
    outb(0xe2, 0x43, tsc_of(2000));
    assert_int_equal(inb(0x40, tsc_of(2000)) & 0x0f, 0x05);
}

/* Linux's pit_calibrate_tsc(): gate high and speaker off via port 0x61, channel 2 in mode 0,
 * then poll port 0x61 bit 5 until OUT2 rises. */
static void test_linux_pit_calibrate_tsc(void **state)
{
    (void)state;
    reset(HZ3G);
    const unsigned latch = PIT_HZ / (1000 / 10); /* 10 ms */
    uint64_t now = BASE + 99;
    outb((inb(0x61, now) & ~0x02) | 0x01, 0x61, now);
    outb(0xb0, 0x43, now);
    outb(latch & 0xff, 0x42, now);
    outb(latch >> 8, 0x42, now);
    uint64_t start = now, loops = 0;
    while (!(inb(0x61, now) & 0x20)) {
        now += 3000; /* 1 us per loop iteration */
        loops++;
        assert_true(loops < 20000);
    }
    /* OUT2 rose latch + 1 clocks after the write: 10 ms of TSC within one loop step */
    uint64_t expect = tsc_of(pit_tick_at(&pit, start) + latch + 1) - start;
    assert_true(now - start >= expect && now - start < expect + 3000);
    assert_int_equal(pit_next_deadline(&pit), DEV_NO_DEADLINE); /* channel 2 has no IRQ */
    assert_int_equal(pulses, 0);
}

/* Linux's quick_pit_calibrate(): channel 2 mode 0 from 0xffff, reading low and high bytes
 * without a latch and watching the MSB step down every 256 clocks. */
static void test_linux_quick_pit_calibrate(void **state)
{
    (void)state;
    reset(HZ3G);
    uint64_t now = BASE;
    outb((inb(0x61, now) & ~0x02) | 0x01, 0x61, now);
    outb(0xb0, 0x43, now);
    outb(0xff, 0x42, now);
    outb(0xff, 0x42, now);
    uint64_t load = pit_tick_at(&pit, now) + 1;
    for (unsigned i = 0; i < 50; i++) {
        uint64_t t = tsc_of(load + 256 * i + 10);
        inb(0x42, t); /* low byte, ignored */
        assert_int_equal(inb(0x42, t), 0xff - i);
    }
}

static void test_gate_modes(void **state)
{
    (void)state;
    reset(HZ3G);
    /* mode 0 on channel 2 with the gate low: loaded but not counting */
    outb(0xb0, 0x43, BASE);
    outb(100, 0x42, BASE);
    outb(0, 0x42, BASE);
    assert_int_equal(inb(0x42, tsc_of(50)), 100);
    assert_int_equal(inb(0x42, tsc_of(50)), 0);
    outb(0x01, 0x61, tsc_of(50)); /* gate high at tick 50 */
    assert_int_equal(inb(0x42, tsc_of(60)), 90);
    assert_int_equal(inb(0x42, tsc_of(60)), 0);
    outb(0x00, 0x61, tsc_of(60)); /* pause at 90 */
    assert_int_equal(inb(0x42, tsc_of(500)), 90);
    inb(0x42, tsc_of(500));
    outb(0x01, 0x61, tsc_of(500));
    assert_false(inb(0x61, tsc_of(589)) & 0x20);
    assert_true(inb(0x61, tsc_of(590)) & 0x20);
    /* mode 2: gate low forces OUT high and stops; the rising edge reloads */
    outb(0xb4, 0x43, tsc_of(1000));
    outb(10, 0x42, tsc_of(1000));
    outb(0, 0x42, tsc_of(1000));
    assert_false(inb(0x61, tsc_of(1010)) & 0x20); /* the last clock of the period */
    outb(0x00, 0x61, tsc_of(1010));
    assert_true(inb(0x61, tsc_of(1010)) & 0x20);
    outb(0x01, 0x61, tsc_of(2000));
    assert_int_equal(inb(0x42, tsc_of(2001)), 10); /* reloaded */
    inb(0x42, tsc_of(2001));
    assert_int_equal(inb(0x42, tsc_of(2003)), 8);
    /* mode 1: nothing until the gate's rising edge, then OUT low for N clocks */
    outb(0x00, 0x61, tsc_of(3000));
    outb(0xb2, 0x43, tsc_of(3000));
    outb(20, 0x42, tsc_of(3000));
    outb(0, 0x42, tsc_of(3000));
    assert_true(inb(0x61, tsc_of(3100)) & 0x20);
    outb(0x01, 0x61, tsc_of(3100));
    assert_false(inb(0x61, tsc_of(3101)) & 0x20);
    assert_false(inb(0x61, tsc_of(3120)) & 0x20);
    assert_true(inb(0x61, tsc_of(3121)) & 0x20);
    /* retrigger */
    outb(0x00, 0x61, tsc_of(3200));
    outb(0x01, 0x61, tsc_of(3200));
    assert_false(inb(0x61, tsc_of(3210)) & 0x20);
    /* mode 1 on channel 0 never triggers: its gate is tied high */
    outb(0x32, 0x43, tsc_of(3300));
    outb(5, 0x40, tsc_of(3300));
    outb(0, 0x40, tsc_of(3300));
    assert_int_equal(pit_next_deadline(&pit), DEV_NO_DEADLINE);
    assert_true(pit_out(&pit, 0, tsc_of(4000)));
}

static void test_port61(void **state)
{
    (void)state;
    reset(HZ3G);
    outb(0xff, 0x61, BASE);
    uint8_t v = inb(0x61, tsc_of(0));
    assert_int_equal(v & 0xcf, 0x0f); /* gate, speaker, NMI bits kept; 7:6 read 0 */
    assert_int_equal(pit.nmi_bits, 0x0c);
    /* refresh toggles every 18 clocks */
    assert_int_equal(inb(0x61, tsc_of(17)) & 0x10, 0);
    assert_int_equal(inb(0x61, tsc_of(18)) & 0x10, 0x10);
    assert_int_equal(inb(0x61, tsc_of(36)) & 0x10, 0);
    /* a control word that takes OUT0 from low to high is an edge on IRQ 0 */
    outb(0x30, 0x43, tsc_of(100));
    outb(0xff, 0x40, tsc_of(100));
    outb(0xff, 0x40, tsc_of(100));
    outb(0x34, 0x43, tsc_of(200));
    assert_int_equal(pulses, 1);
    /* time running backwards does not run the counters backwards */
    outb(0xb0, 0x43, tsc_of(1000));
    outb(0xff, 0x42, tsc_of(1000));
    outb(0xff, 0x42, tsc_of(1000));
    outb(0x80, 0x43, tsc_of(1100));
    unsigned a = inb(0x42, tsc_of(1100)) | inb(0x42, tsc_of(1100)) << 8;
    outb(0x80, 0x43, tsc_of(900));
    unsigned b = inb(0x42, tsc_of(900)) | inb(0x42, tsc_of(900)) << 8;
    assert_int_equal(a, b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tick_arithmetic),
        cmocka_unit_test(test_power_on_idle),
        cmocka_unit_test(test_linux_periodic_no_drift),
        cmocka_unit_test(test_mode0_and_linux_shutdown),
        cmocka_unit_test(test_mode4_oneshot),
        cmocka_unit_test(test_mode3_square_wave),
        cmocka_unit_test(test_new_count_at_period_end),
        cmocka_unit_test(test_latch_and_readback),
        cmocka_unit_test(test_bcd),
        cmocka_unit_test(test_linux_pit_calibrate_tsc),
        cmocka_unit_test(test_linux_quick_pit_calibrate),
        cmocka_unit_test(test_gate_modes),
        cmocka_unit_test(test_port61),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
