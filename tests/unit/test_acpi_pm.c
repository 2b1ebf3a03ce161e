/* UNIT-SOURCES: kernel/dev/acpi_pm.c kernel/dev/bus.c kernel/lib/string.c */
/* The ACPI PM device: the PM timer against 128-bit arithmetic (rate, 24/32-bit wrap, the far end
 * of the TSC), TMR_STS/TMR_EN and the SCI level, PM1 write-1-to-clear and byte accesses,
 * Linux's S5 sequence, the reset register at 0xcf9 beside the PCI probe at 0xcf8, pvpanic. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <tessera/acpi_gen.h>
#include <tessera/acpi_pm.h>

#define BASE 1000ull
#define HZ25M 25000000ull

static struct acpi_pm pm;
static struct dev_bus bus;
static bool sci;
static unsigned sci_changes;

static void sci_set(void *router, unsigned gsi, bool level)
{
    (void)router;
    assert_int_equal(gsi, ACPI_GEN_SCI_IRQ);
    assert_true(level != sci); /* only changes are driven */
    sci = level;
    sci_changes++;
}

static void reset(uint64_t tsc_hz, bool ext)
{
    struct irq_line line = { sci_set, NULL, ACPI_GEN_SCI_IRQ };
    struct dev_region r[ACPI_PM_REGIONS];
    sci = false;
    sci_changes = 0;
    acpi_pm_init(&pm, tsc_hz, BASE, ext, ACPI_GEN_S5_SLP_TYP, &line);
    acpi_pm_regions(&pm, r);
    dev_bus_init(&bus);
    for (unsigned i = 0; i < ACPI_PM_REGIONS; i++)
        assert_int_equal(dev_bus_add(&bus, &r[i]), 0);
}

static uint32_t in(uint16_t port, unsigned size, uint64_t now)
{
    const struct dev_region *r = dev_bus_find(&bus, DEV_SPACE_PORT, port, size);
    assert_non_null(r);
    return (uint32_t)r->ops->read(r->dev, port - r->base, size, now);
}

static void out(uint16_t port, unsigned size, uint32_t value, uint64_t now)
{
    const struct dev_region *r = dev_bus_find(&bus, DEV_SPACE_PORT, port, size);
    assert_non_null(r);
    r->ops->write(r->dev, port - r->base, size, value, now);
}

static uint64_t ticks_of(uint64_t delta, uint64_t hz)
{
    return (uint64_t)((unsigned __int128)delta * ACPI_PM_TIMER_HZ / hz);
}

static void test_regions_match_fadt(void **state)
{
    (void)state;
    reset(HZ25M, true);
    /* exactly the blocks the generated FADT and DSDT name */
    assert_non_null(dev_bus_find(&bus, DEV_SPACE_PORT, ACPI_GEN_PM1A_EVT_PORT, 4));
    assert_non_null(dev_bus_find(&bus, DEV_SPACE_PORT, ACPI_GEN_PM1A_CNT_PORT, 2));
    assert_non_null(dev_bus_find(&bus, DEV_SPACE_PORT, ACPI_GEN_PM_TMR_PORT, 4));
    assert_non_null(dev_bus_find(&bus, DEV_SPACE_PORT, ACPI_GEN_RESET_PORT, 1));
    assert_non_null(dev_bus_find(&bus, DEV_SPACE_PORT, ACPI_GEN_PVPANIC_PORT, 1));
    assert_null(dev_bus_find(&bus, DEV_SPACE_PORT, 0x60c, 1));
    assert_null(dev_bus_find(&bus, DEV_SPACE_PORT, 0x5ff, 1));
    assert_null(dev_bus_find(&bus, DEV_SPACE_PORT, 0xcfc, 1));
}

static void test_timer_rate(void **state)
{
    (void)state;
    static const uint64_t rates[] = { 5000000, HZ25M, 2999999999ull, ACPI_PM_TIMER_HZ };
    for (unsigned k = 0; k < 4; k++) {
        uint64_t hz = rates[k];
        reset(hz, true);
        assert_int_equal(in(ACPI_GEN_PM_TMR_PORT, 4, BASE), 0);
        assert_int_equal(in(ACPI_GEN_PM_TMR_PORT, 4, BASE + hz), ACPI_PM_TIMER_HZ); /* 1 s */
        /* five hours, odd offsets: exact, the value modulo 2^32 */
        for (uint64_t d = hz * 18000; d < hz * 18000 + 5000; d += 997) {
            uint64_t want = ticks_of(d, hz) & 0xffffffffu;
            assert_int_equal(in(ACPI_GEN_PM_TMR_PORT, 4, BASE + d), want);
        }
    }
    /* the far end of the TSC: no overflow */
    reset(HZ25M, true);
    uint64_t d = UINT64_MAX - BASE;
    assert_int_equal(acpi_pm_timer(&pm, BASE + d), (uint32_t)ticks_of(d, HZ25M));
    /* 24 bits: the value wraps at 2^24 */
    reset(HZ25M, false);
    d = HZ25M * 10; /* 35795450 ticks */
    assert_int_equal(in(ACPI_GEN_PM_TMR_PORT, 4, BASE + d), ticks_of(d, HZ25M) & 0xffffff);
    /* byte and word reads of the 32-bit value */
    reset(HZ25M, true);
    d = HZ25M * 1000 + 12345;
    uint32_t v = (uint32_t)ticks_of(d, HZ25M);
    assert_int_equal(in(ACPI_GEN_PM_TMR_PORT, 2, BASE + d), v & 0xffff);
    assert_int_equal(in(ACPI_GEN_PM_TMR_PORT + 2, 2, BASE + d), v >> 16);
    assert_int_equal(in(ACPI_GEN_PM_TMR_PORT + 3, 1, BASE + d), v >> 24);
    /* writes are ignored; time never runs backwards */
    out(ACPI_GEN_PM_TMR_PORT, 4, 0, BASE + d);
    assert_int_equal(in(ACPI_GEN_PM_TMR_PORT, 4, BASE + d), v);
    assert_int_equal(in(ACPI_GEN_PM_TMR_PORT, 4, BASE), v);
}

/* Linux's acpi_pm clocksource reads the counter and checks it moves monotonically (modulo the
 * wrap); its calibration (pit_hpet_ptimer_calibrate_cpu) counts PM ticks over PIT time. */
static void test_timer_monotonic(void **state)
{
    (void)state;
    reset(HZ25M, true);
    uint32_t prev = 0;
    for (uint64_t t = BASE; t < BASE + HZ25M / 10; t += 7) {
        uint32_t v = in(ACPI_GEN_PM_TMR_PORT, 4, t);
        assert_true(v >= prev && v - prev <= 2);
        prev = v;
    }
}

static void test_timer_status_and_sci(void **state)
{
    (void)state;
    reset(HZ25M, false); /* 24 bits: bit 23 toggles every 2^23 ticks, 2.34 s */
    assert_int_equal(acpi_pm_next_deadline(&pm), DEV_NO_DEADLINE); /* TMR_EN clear */
    out(ACPI_GEN_PM1A_EVT_PORT + 2, 2, ACPI_PM1_TMR_STS, BASE); /* TMR_EN */
    assert_int_equal(in(ACPI_GEN_PM1A_EVT_PORT + 2, 2, BASE), ACPI_PM1_TMR_STS);
    uint64_t dl = acpi_pm_next_deadline(&pm);
    /* the first TSC value at which the timer reads 2^23 */
    assert_int_equal(ticks_of(dl - BASE, HZ25M), 1u << 23);
    assert_int_equal(ticks_of(dl - 1 - BASE, HZ25M), (1u << 23) - 1);
    acpi_pm_advance(&pm, dl - 1);
    assert_false(sci);
    assert_int_equal(in(ACPI_GEN_PM1A_EVT_PORT, 2, dl - 1) & ACPI_PM1_TMR_STS, 0);
    acpi_pm_advance(&pm, dl);
    assert_true(sci);
    assert_int_equal(acpi_pm_next_deadline(&pm), DEV_NO_DEADLINE); /* asserted: nothing more */
    assert_int_equal(in(ACPI_GEN_PM1A_EVT_PORT, 2, dl), ACPI_PM1_TMR_STS);
    /* writing 0 changes nothing, writing 1 clears it and drops the SCI */
    out(ACPI_GEN_PM1A_EVT_PORT, 2, 0, dl);
    assert_true(sci);
    out(ACPI_GEN_PM1A_EVT_PORT, 2, ACPI_PM1_TMR_STS, dl);
    assert_false(sci);
    assert_int_equal(in(ACPI_GEN_PM1A_EVT_PORT, 2, dl), 0);
    /* the next toggle (bit 23 back to 0 at 2^24) is the next deadline, in the future */
    uint64_t dl2 = acpi_pm_next_deadline(&pm);
    assert_true(dl2 > dl);
    assert_int_equal(ticks_of(dl2 - BASE, HZ25M), 1u << 24);
    /* a status set while disabled does not assert the SCI; enabling it then does */
    out(ACPI_GEN_PM1A_EVT_PORT + 2, 2, 0, dl2);
    acpi_pm_advance(&pm, dl2 + 5);
    assert_false(sci);
    assert_int_equal(in(ACPI_GEN_PM1A_EVT_PORT, 2, dl2 + 5), ACPI_PM1_TMR_STS);
    out(ACPI_GEN_PM1A_EVT_PORT + 2, 1, ACPI_PM1_TMR_STS, dl2 + 5); /* byte write of PM1_EN */
    assert_true(sci);
    /* a 32-bit write covering both: clears the status, leaves TMR_EN set */
    out(ACPI_GEN_PM1A_EVT_PORT, 4, ACPI_PM1_TMR_STS | (uint32_t)ACPI_PM1_TMR_STS << 16, dl2 + 5);
    assert_false(sci);
    assert_int_equal(in(ACPI_GEN_PM1A_EVT_PORT, 4, dl2 + 5), (uint32_t)ACPI_PM1_TMR_STS << 16);
    /* 32-bit timer: the deadline is 2^31 ticks away (600 s) */
    reset(HZ25M, true);
    out(ACPI_GEN_PM1A_EVT_PORT + 2, 2, ACPI_PM1_TMR_STS, BASE);
    assert_int_equal(ticks_of(acpi_pm_next_deadline(&pm) - BASE, HZ25M), 1u << 31);
}

static void test_power_button(void **state)
{
    (void)state;
    reset(HZ25M, true);
    /* the enable bits ACPICA checks stick (GBL_EN, RTC_EN, SLPBTN_EN too); no others */
    out(ACPI_GEN_PM1A_EVT_PORT + 2, 2, 0xffff, BASE);
    assert_int_equal(in(ACPI_GEN_PM1A_EVT_PORT + 2, 2, BASE), 0x0721);
    out(ACPI_GEN_PM1A_EVT_PORT + 2, 2, ACPI_PM1_PWRBTN_STS | 0x0420, BASE);
    assert_int_equal(in(ACPI_GEN_PM1A_EVT_PORT + 2, 2, BASE), ACPI_PM1_PWRBTN_STS | 0x0420);
    /* status bits of events that never happen cannot be set or seen */
    assert_int_equal(in(ACPI_GEN_PM1A_EVT_PORT, 2, BASE), 0);
    assert_false(sci);
    acpi_pm_press_power_button(&pm, BASE + 10);
    assert_true(sci);
    assert_int_equal(in(ACPI_GEN_PM1A_EVT_PORT + 1, 1, BASE + 10), ACPI_PM1_PWRBTN_STS >> 8);
    out(ACPI_GEN_PM1A_EVT_PORT + 1, 1, ACPI_PM1_PWRBTN_STS >> 8, BASE + 10); /* byte w1c */
    assert_false(sci);
    assert_int_equal(sci_changes, 2);
    assert_int_equal(acpi_pm_take_request(&pm), ACPI_PM_NONE);
}

/* Linux's acpi_hw_legacy_sleep for S5: SLP_TYP written first, then SLP_TYP | SLP_EN, the
 * other bits as read (SCI_EN). */
static void test_s5(void **state)
{
    (void)state;
    reset(HZ25M, true);
    uint16_t cnt = (uint16_t)in(ACPI_GEN_PM1A_CNT_PORT, 2, BASE);
    assert_int_equal(cnt, ACPI_PM1_CNT_SCI_EN); /* always in ACPI mode */
    out(ACPI_GEN_PM1A_CNT_PORT, 2, 0, BASE); /* SCI_EN cannot be cleared */
    assert_int_equal(in(ACPI_GEN_PM1A_CNT_PORT, 2, BASE), ACPI_PM1_CNT_SCI_EN);
    cnt = (uint16_t)(cnt | ACPI_GEN_S5_SLP_TYP << ACPI_PM1_CNT_SLP_TYP_SHIFT);
    out(ACPI_GEN_PM1A_CNT_PORT, 2, cnt, BASE);
    assert_int_equal(in(ACPI_GEN_PM1A_CNT_PORT, 2, BASE), cnt);
    assert_int_equal(acpi_pm_take_request(&pm), ACPI_PM_NONE);
    out(ACPI_GEN_PM1A_CNT_PORT, 2, cnt | ACPI_PM1_CNT_SLP_EN, BASE);
    assert_int_equal(acpi_pm_take_request(&pm), ACPI_PM_POWER_OFF);
    assert_int_equal(acpi_pm_take_request(&pm), ACPI_PM_NONE); /* taken */
    assert_int_equal(in(ACPI_GEN_PM1A_CNT_PORT, 2, BASE), cnt); /* SLP_EN reads 0 */
    /* other sleep types with SLP_EN: ignored (no \_S1-\_S4) */
    for (unsigned typ = 0; typ < 8; typ++) {
        if (typ == ACPI_GEN_S5_SLP_TYP)
            continue;
        out(ACPI_GEN_PM1A_CNT_PORT, 2, typ << ACPI_PM1_CNT_SLP_TYP_SHIFT | ACPI_PM1_CNT_SLP_EN, BASE);
        assert_int_equal(acpi_pm_take_request(&pm), ACPI_PM_NONE);
    }
    /* a byte write of the high byte: SLP_TYP 5 and SLP_EN */
    out(ACPI_GEN_PM1A_CNT_PORT + 1, 1, (ACPI_GEN_S5_SLP_TYP << 2) | 0x20, BASE);
    assert_int_equal(acpi_pm_take_request(&pm), ACPI_PM_POWER_OFF);
    /* the low byte alone never powers off */
    out(ACPI_GEN_PM1A_CNT_PORT, 1, 0xff, BASE);
    assert_int_equal(acpi_pm_take_request(&pm), ACPI_PM_NONE);
}

static void test_reset_register(void **state)
{
    (void)state;
    reset(HZ25M, true);
    /* Linux's PCI type 1 probe: dword accesses at 0xcf8 are no reset, read all ones */
    out(0xcfb, 1, 0x01, BASE);
    assert_int_equal(in(0xcf8, 4, BASE), 0xffffffffu);
    out(0xcf8, 4, 0x80000000u, BASE);
    out(0xcf8, 4, 0xffffffffu, BASE);
    out(0xcf8, 2, 0x0400, BASE);
    assert_int_equal(in(0xcf8, 4, BASE), 0xffffffffu);
    assert_int_equal(acpi_pm_take_request(&pm), ACPI_PM_NONE);
    /* reboot=pci: 0x02 then 0x06; ACPI's RESET_VALUE is 0x06 */
    out(ACPI_GEN_RESET_PORT, 1, 0x02, BASE);
    assert_int_equal(in(ACPI_GEN_RESET_PORT, 1, BASE), 0x02);
    assert_int_equal(acpi_pm_take_request(&pm), ACPI_PM_NONE);
    out(ACPI_GEN_RESET_PORT, 1, ACPI_GEN_RESET_VALUE, BASE);
    assert_int_equal(acpi_pm_take_request(&pm), ACPI_PM_RESET);
    assert_int_equal(in(ACPI_GEN_RESET_PORT, 1, BASE), 0x02); /* RST_CPU reads 0 */
    out(ACPI_GEN_RESET_PORT, 1, 0x04, BASE);
    assert_int_equal(acpi_pm_take_request(&pm), ACPI_PM_RESET);
}

static void test_pvpanic(void **state)
{
    (void)state;
    reset(HZ25M, true);
    /* Linux's pvpanic driver reads the events the device supports: PANICKED only */
    assert_int_equal(in(ACPI_GEN_PVPANIC_PORT, 1, BASE), ACPI_PM_PVPANIC_PANICKED);
    out(ACPI_GEN_PVPANIC_PORT, 1, 0x02, BASE); /* CRASH_LOADED: not supported, ignored */
    assert_int_equal(acpi_pm_take_request(&pm), ACPI_PM_NONE);
    out(ACPI_GEN_PVPANIC_PORT, 1, ACPI_PM_PVPANIC_PANICKED, BASE);
    /* the first request stays until taken */
    out(ACPI_GEN_RESET_PORT, 1, ACPI_GEN_RESET_VALUE, BASE);
    assert_int_equal(acpi_pm_take_request(&pm), ACPI_PM_PANIC);
    assert_int_equal(acpi_pm_take_request(&pm), ACPI_PM_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_regions_match_fadt),
        cmocka_unit_test(test_timer_rate),
        cmocka_unit_test(test_timer_monotonic),
        cmocka_unit_test(test_timer_status_and_sci),
        cmocka_unit_test(test_power_button),
        cmocka_unit_test(test_s5),
        cmocka_unit_test(test_reset_register),
        cmocka_unit_test(test_pvpanic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
