/* UNIT-SOURCES: kernel/dev/rtc.c */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <tessera/rtc.h>

#define HZ 5000000ull /* Bochs's TSC in our tests */
#define T0 123456789ull

static struct rtc rtc;

static void outb(uint8_t v, unsigned port, uint64_t now)
{
    rtc_ops.write(&rtc, port - RTC_BASE, 1, v, now);
}

static uint8_t inb(unsigned port, uint64_t now)
{
    return (uint8_t)rtc_ops.read(&rtc, port - RTC_BASE, 1, now);
}

/* Linux's CMOS_READ / CMOS_WRITE */
static uint8_t cmos_read(unsigned index, uint64_t now)
{
    outb((uint8_t)index, 0x70, now);
    return inb(0x71, now);
}

static void cmos_write(uint8_t v, unsigned index, uint64_t now)
{
    outb((uint8_t)index, 0x70, now);
    outb(v, 0x71, now);
}

static uint64_t seconds_of(uint32_t y, uint8_t mo, uint8_t d, uint8_t h, uint8_t mi, uint8_t s)
{
    struct rtc_date date = { y, mo, d, h, mi, s };
    uint64_t secs;
    assert_true(rtc_date_to_seconds(&date, &secs));
    return secs;
}

static void expect_time(uint64_t now, uint8_t year, uint8_t month, uint8_t day, uint8_t hour,
                        uint8_t min, uint8_t sec, uint8_t weekday, uint8_t century)
{
    assert_int_equal(cmos_read(RTC_SECONDS, now), sec);
    assert_int_equal(cmos_read(RTC_MINUTES, now), min);
    assert_int_equal(cmos_read(RTC_HOURS, now), hour);
    assert_int_equal(cmos_read(RTC_WEEKDAY, now), weekday);
    assert_int_equal(cmos_read(RTC_DAY, now), day);
    assert_int_equal(cmos_read(RTC_MONTH, now), month);
    assert_int_equal(cmos_read(RTC_YEAR, now), year);
    assert_int_equal(cmos_read(RTC_CENTURY, now), century);
}

static void test_date_arithmetic(void **state)
{
    (void)state;
    assert_int_equal(seconds_of(1970, 1, 1, 0, 0, 0), 0);
    assert_int_equal(seconds_of(2000, 1, 1, 0, 0, 0), 946684800);
    assert_int_equal(seconds_of(2000, 2, 29, 0, 0, 0), 951782400);
    assert_int_equal(seconds_of(2038, 1, 19, 3, 14, 8), 2147483648ull);
    assert_int_equal(seconds_of(2100, 3, 1, 0, 0, 0), 4107542400ull);
    assert_int_equal(seconds_of(9999, 12, 31, 23, 59, 59), 253402300799ull);
    struct rtc_date bad[] = {
        { 2100, 2, 29, 0, 0, 0 }, { 2023, 2, 29, 0, 0, 0 }, { 1969, 12, 31, 23, 59, 59 },
        { 2024, 4, 31, 0, 0, 0 }, { 2024, 13, 1, 0, 0, 0 }, { 2024, 1, 0, 0, 0, 0 },
        { 2024, 1, 1, 24, 0, 0 }, { 2024, 1, 1, 0, 60, 0 }, { 2024, 1, 1, 0, 0, 60 },
        { 10000, 1, 1, 0, 0, 0 },
    };
    uint64_t s;
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(rtc_date_to_seconds(&bad[i], &s));
    /* round trips across the range, including 400-year cycles */
    for (uint64_t t = 0; t < 253402300799ull; t += 86400ull * 3659 + 3601) {
        struct rtc_date d;
        rtc_seconds_to_date(t, &d);
        assert_true(rtc_date_to_seconds(&d, &s));
        assert_int_equal(s, t);
    }
    /* every year's first and last second */
    struct rtc_date d;
    for (uint32_t y = 1970; y <= 2900; y++) {
        rtc_seconds_to_date(seconds_of(y, 1, 1, 0, 0, 0), &d);
        assert_true(d.year == y && d.month == 1 && d.day == 1 && d.hour == 0);
        rtc_seconds_to_date(seconds_of(y, 12, 31, 23, 59, 59), &d);
        assert_true(d.year == y && d.month == 12 && d.day == 31 && d.second == 59);
    }
    rtc_seconds_to_date(seconds_of(2400, 2, 29, 12, 0, 0), &d);
    assert_int_equal(d.year, 2400);
    assert_int_equal(d.month, 2);
    assert_int_equal(d.day, 29);
}

static void test_bcd_leap_day_rollover(void **state)
{
    (void)state;
    rtc_init(&rtc, HZ, T0, seconds_of(2024, 2, 29, 23, 59, 58), NULL);
    /* Thursday 29 February 2024 (weekday 5: Sunday is 1) */
    expect_time(T0, 0x24, 0x02, 0x29, 0x23, 0x59, 0x58, 5, 0x20);
    expect_time(T0 + 2 * HZ, 0x24, 0x03, 0x01, 0x00, 0x00, 0x00, 6, 0x20);
    assert_int_equal(cmos_read(RTC_REG_B, T0 + 2 * HZ), RTC_B_24H);
    assert_int_equal(cmos_read(RTC_REG_D, T0 + 2 * HZ), RTC_D_VRT);
    /* New Year 1999 -> 2000, a century byte change */
    rtc_init(&rtc, HZ, T0, seconds_of(1999, 12, 31, 23, 59, 59), NULL);
    expect_time(T0, 0x99, 0x12, 0x31, 0x23, 0x59, 0x59, 6, 0x19);
    expect_time(T0 + HZ, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 7, 0x20);
    /* 2100 is not a leap year */
    rtc_init(&rtc, HZ, T0, seconds_of(2100, 2, 28, 23, 59, 59), NULL);
    expect_time(T0 + HZ, 0x00, 0x03, 0x01, 0x00, 0x00, 0x00, 2, 0x21);
}

static void test_binary_and_12_hour(void **state)
{
    (void)state;
    rtc_init(&rtc, HZ, T0, seconds_of(2023, 7, 14, 23, 5, 9), NULL);
    cmos_write(RTC_B_24H | RTC_B_BINARY, RTC_REG_B, T0);
    expect_time(T0, 23, 7, 14, 23, 5, 9, 6, 20);
    cmos_write(0, RTC_REG_B, T0); /* BCD, 12-hour: 11 PM */
    assert_int_equal(cmos_read(RTC_HOURS, T0), 0x91);
    cmos_write(RTC_B_BINARY, RTC_REG_B, T0);
    assert_int_equal(cmos_read(RTC_HOURS, T0), 0x8b);
    /* midnight is 12 AM, noon 12 PM */
    rtc_init(&rtc, HZ, T0, seconds_of(2023, 7, 14, 0, 30, 0), NULL);
    cmos_write(0, RTC_REG_B, T0);
    assert_int_equal(cmos_read(RTC_HOURS, T0), 0x12);
    assert_int_equal(cmos_read(RTC_HOURS, T0 + 12 * 3600 * HZ), 0x92);
    assert_int_equal(cmos_read(RTC_HOURS, T0 + 13 * 3600 * HZ), 0x81);
    /* a 12-hour write: 7 PM */
    cmos_write(0x87, RTC_HOURS, T0 + 13 * 3600 * HZ);
    cmos_write(RTC_B_24H, RTC_REG_B, T0 + 13 * 3600 * HZ);
    assert_int_equal(cmos_read(RTC_HOURS, T0 + 13 * 3600 * HZ), 0x19);
}

/* UIP reads 1 for the last 2228 us of each second; the new second shows as it falls. */
static void test_uip_window(void **state)
{
    (void)state;
    rtc_init(&rtc, HZ, T0, seconds_of(2024, 1, 1, 0, 0, 0), NULL);
    const uint64_t window = HZ * RTC_UIP_US / 1000000;
    assert_int_equal(cmos_read(RTC_REG_A, T0) & 0x7f, 0x26);
    assert_false(cmos_read(RTC_REG_A, T0) & RTC_A_UIP);
    assert_false(cmos_read(RTC_REG_A, T0 + HZ - window - 1) & RTC_A_UIP);
    assert_true(cmos_read(RTC_REG_A, T0 + HZ - window) & RTC_A_UIP);
    assert_true(cmos_read(RTC_REG_A, T0 + HZ - 1) & RTC_A_UIP);
    assert_int_equal(cmos_read(RTC_SECONDS, T0 + HZ - 1), 0x00);
    assert_false(cmos_read(RTC_REG_A, T0 + HZ) & RTC_A_UIP);
    assert_int_equal(cmos_read(RTC_SECONDS, T0 + HZ), 0x01);
    /* UIP is read-only */
    cmos_write(0xa6, RTC_REG_A, T0 + HZ);
    assert_int_equal(rtc.ram[RTC_REG_A], 0x26);
}

/* Linux's mc146818_get_time(): read seconds, retry (after mdelay(1)) while UIP, read the rest,
 * check UIP and seconds again. From the worst starting points it ends within about 3 ms. */
static void test_linux_get_time_loop(void **state)
{
    (void)state;
    rtc_init(&rtc, HZ, T0, seconds_of(2031, 12, 31, 23, 59, 59), NULL);
    const uint64_t window = HZ * RTC_UIP_US / 1000000;
    const uint64_t ms = HZ / 1000, access = HZ / 1000000; /* one port access: 1 us */
    uint64_t starts[] = { T0, T0 + HZ - window - 5 * access, T0 + HZ - window,
                          T0 + HZ - 1, T0 + 2 * HZ - window - 20 * access };
    for (unsigned i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
        uint64_t now = starts[i] > rtc.last_now ? starts[i] : rtc.last_now, start = now;
        unsigned tries = 0;
        uint8_t sec, year;
        for (;;) {
            tries++;
            assert_true(tries <= 6);
            sec = cmos_read(RTC_SECONDS, now += access);
            if (cmos_read(RTC_REG_A, now += access) & RTC_A_UIP) {
                now += ms;
                continue;
            }
            if (sec != cmos_read(RTC_SECONDS, now += access))
                continue;
            for (unsigned r = 0; r < 6; r++)
                year = cmos_read(RTC_YEAR, now += access);
            bool retry = cmos_read(RTC_REG_A, now += access) & RTC_A_UIP;
            retry |= sec != cmos_read(RTC_SECONDS, now += access);
            if (!retry)
                break;
        }
        /* done within the UIP window, one mdelay(1) and a retry of the reads */
        assert_true(now - start <= window + ms + 30 * access);
        assert_true(year == 0x31 || year == 0x32);
    }
}

/* Linux's mc146818_set_time(): SET and divider reset, the bytes, then B and A restored. */
static void test_linux_set_time(void **state)
{
    (void)state;
    rtc_init(&rtc, HZ, T0, seconds_of(2024, 6, 1, 10, 0, 0), NULL);
    uint64_t now = T0 + HZ / 4;
    uint8_t control = cmos_read(RTC_REG_B, now), freq = cmos_read(RTC_REG_A, now);
    cmos_write(control | RTC_B_SET | RTC_B_UIE, RTC_REG_B, now);
    assert_int_equal(rtc.ram[RTC_REG_B] & RTC_B_UIE, 0); /* SET clears UIE */
    cmos_write(freq | 0x70, RTC_REG_A, now);
    cmos_write(0x25, RTC_YEAR, now);
    cmos_write(0x12, RTC_MONTH, now);
    cmos_write(0x31, RTC_DAY, now);
    cmos_write(0x23, RTC_HOURS, now);
    cmos_write(0x59, RTC_MINUTES, now);
    cmos_write(0x58, RTC_SECONDS, now);
    cmos_write(0x20, RTC_CENTURY, now);
    /* frozen: the bytes read back as written, no UIP, time does not pass */
    now += 10 * HZ;
    assert_int_equal(cmos_read(RTC_SECONDS, now), 0x58);
    assert_false(cmos_read(RTC_REG_A, now) & RTC_A_UIP);
    cmos_write(control, RTC_REG_B, now);
    assert_int_equal(cmos_read(RTC_SECONDS, now + HZ), 0x58); /* divider still in reset */
    now += HZ;
    cmos_write(freq, RTC_REG_A, now);
    assert_int_equal(rtc_now_seconds(&rtc, now), seconds_of(2025, 12, 31, 23, 59, 58));
    /* the first update comes half a second after the divider restarts */
    assert_int_equal(cmos_read(RTC_SECONDS, now + HZ / 2 - 1), 0x58);
    assert_int_equal(cmos_read(RTC_SECONDS, now + HZ / 2), 0x59);
    expect_time(now + HZ / 2 + HZ, 0x26, 0x01, 0x01, 0x00, 0x00, 0x00, 5, 0x20);
    /* an impossible date (31 February) is dropped: the clock runs on from where it was */
    uint64_t later = now + 5 * HZ;
    uint64_t before = rtc_now_seconds(&rtc, later);
    cmos_write(control | RTC_B_SET, RTC_REG_B, later);
    cmos_write(0x31, RTC_DAY, later);
    cmos_write(0x02, RTC_MONTH, later);
    cmos_write(control, RTC_REG_B, later + 3 * HZ);
    assert_int_equal(rtc_now_seconds(&rtc, later + 3 * HZ), before + 3);
}

static void test_running_writes(void **state)
{
    (void)state;
    rtc_init(&rtc, HZ, T0, seconds_of(2024, 6, 1, 10, 0, 0), NULL);
    uint64_t now = T0 + HZ / 3;
    cmos_write(0x30, RTC_MINUTES, now); /* taken at once, phase kept */
    assert_int_equal(rtc_now_seconds(&rtc, now), seconds_of(2024, 6, 1, 10, 30, 0));
    assert_int_equal(cmos_read(RTC_SECONDS, T0 + HZ - 1), 0x00);
    assert_int_equal(cmos_read(RTC_SECONDS, T0 + HZ), 0x01);
    cmos_write(0x5a, RTC_MINUTES, T0 + HZ); /* not BCD: ignored */
    cmos_write(0x31, RTC_MONTH, T0 + HZ);   /* month 31: ignored */
    cmos_write(0x03, RTC_WEEKDAY, T0 + HZ); /* derived from the date: ignored */
    expect_time(T0 + HZ, 0x24, 0x06, 0x01, 0x10, 0x30, 0x01, 7, 0x20);
    /* a year before 1970 is refused */
    cmos_write(0x19, RTC_CENTURY, T0 + HZ);
    assert_int_equal(cmos_read(RTC_CENTURY, T0 + HZ), 0x20);
    /* time never runs backwards */
    assert_int_equal(cmos_read(RTC_SECONDS, T0), 0x01);
}

static void test_register_c_d_and_nmi(void **state)
{
    (void)state;
    rtc_init(&rtc, HZ, T0, seconds_of(2024, 6, 1, 10, 0, 0), NULL);
    assert_int_equal(cmos_read(RTC_REG_C, T0), 0);
    /* an update ended; the periodic flag runs at register A's rate even with PIE off */
    assert_int_equal(cmos_read(RTC_REG_C, T0 + HZ), RTC_C_UF | RTC_C_PF);
    assert_int_equal(cmos_read(RTC_REG_C, T0 + HZ), 0);        /* the read cleared it */
    cmos_write(0x02, RTC_SECONDS, T0 + 2 * HZ); /* rewriting the same time keeps UF */
    assert_int_equal(cmos_read(RTC_REG_C, T0 + 2 * HZ), RTC_C_UF | RTC_C_PF);
    cmos_write(0xff, RTC_REG_C, T0 + HZ);
    cmos_write(0x00, RTC_REG_D, T0 + HZ);
    assert_int_equal(cmos_read(RTC_REG_C, T0 + HZ), 0);
    assert_int_equal(cmos_read(RTC_REG_D, T0 + HZ), RTC_D_VRT);
    /* bit 7 of the index is the NMI mask: recorded per VM, the index is bits 6:0 */
    outb(0x80 | RTC_SECONDS, 0x70, T0);
    assert_true(rtc.nmi_masked);
    assert_int_equal(rtc.index, RTC_SECONDS);
    assert_int_equal(inb(0x71, T0 + 2 * HZ), 0x02);
    assert_int_equal(inb(0x70, T0 + HZ), 0xff);
    outb(0x0d, 0x70, T0 + HZ);
    assert_false(rtc.nmi_masked);
    /* a 16-bit write is the index, then the data byte */
    rtc_ops.write(&rtc, 0, 2, 0x5a40, T0 + HZ);
    assert_int_equal(rtc.ram[0x40], 0x5a);
    assert_int_equal(rtc_ops.read(&rtc, 0, 2, T0 + HZ), 0x5aff);
}

static unsigned pulses;
static bool line8;

static void irq8_set(void *router, unsigned gsi, bool level)
{
    (void)router;
    assert_int_equal(gsi, 8);
    assert_int_not_equal(level, line8);
    line8 = level;
    pulses += level;
}

/* The first TSC value at which 32768 Hz tick t has begun, counted from base. */
static uint64_t tsc_of32(uint64_t base, uint64_t t)
{
    return base + (uint64_t)(((unsigned __int128)t * HZ + 32767) / 32768);
}

static void test_interrupts(void **state)
{
    (void)state;
    struct irq_line irq8 = { irq8_set, NULL, 8 };
    pulses = 0;
    rtc_init(&rtc, HZ, T0, seconds_of(2024, 6, 1, 10, 0, 0), &irq8);
    assert_int_equal(rtc_next_deadline(&rtc), DEV_NO_DEADLINE); /* nothing enabled */
    /* update-ended interrupt, as rtc-cmos enables it for RTC_UIE_ON */
    cmos_write(RTC_B_24H | RTC_B_UIE, RTC_REG_B, T0);
    assert_int_equal(rtc_next_deadline(&rtc), T0 + HZ);
    rtc_advance(&rtc, T0 + HZ - 1);
    assert_int_equal(pulses, 0);
    rtc_advance(&rtc, T0 + HZ);
    assert_int_equal(pulses, 1);
    assert_int_equal(rtc_next_deadline(&rtc), DEV_NO_DEADLINE); /* IRQF high until C is read */
    rtc_advance(&rtc, T0 + 3 * HZ);
    assert_int_equal(pulses, 1);
    assert_int_equal(cmos_read(RTC_REG_C, T0 + 3 * HZ), RTC_C_IRQF | RTC_C_UF | RTC_C_PF);
    assert_int_equal(rtc_next_deadline(&rtc), T0 + 4 * HZ);
    /* late: several seconds pass, one edge */
    rtc_advance(&rtc, T0 + 9 * HZ + 5);
    assert_int_equal(pulses, 2);
    assert_true(cmos_read(RTC_REG_C, T0 + 9 * HZ + 5) & RTC_C_IRQF);
    assert_true(rtc_next_deadline(&rtc) > T0 + 9 * HZ + 5);
    /* periodic at 1024 Hz (RS 6): every 32 ticks of the divider's 32768 Hz */
    cmos_write(RTC_B_24H | RTC_B_PIE, RTC_REG_B, T0 + 10 * HZ);
    assert_int_equal(pulses, 3); /* PF was already set: IRQF rises with PIE */
    cmos_read(RTC_REG_C, T0 + 10 * HZ);
    pulses = 0;
    uint64_t t32 = (10 * HZ) * 32768 / HZ;
    for (unsigned k = 1; k <= 100; k++) {
        uint64_t d = rtc_next_deadline(&rtc);
        assert_int_equal(d, tsc_of32(T0, t32 + 32 * k));
        rtc_advance(&rtc, d);
        assert_int_equal(pulses, k);
        assert_int_equal(cmos_read(RTC_REG_C, d) & (RTC_C_IRQF | RTC_C_PF),
                         RTC_C_IRQF | RTC_C_PF);
    }
    /* 2 Hz (RS 15) */
    cmos_write(0x2f, RTC_REG_A, T0 + 11 * HZ);
    cmos_read(RTC_REG_C, T0 + 11 * HZ);
    assert_int_equal(rtc_next_deadline(&rtc), T0 + 11 * HZ + HZ / 2);
    /* enabling UIE with an update already flagged raises IRQF at once */
    pulses = 0;
    cmos_write(RTC_B_24H, RTC_REG_B, T0 + 11 * HZ);
    rtc_advance(&rtc, T0 + 12 * HZ);
    assert_int_equal(pulses, 0);
    cmos_write(RTC_B_24H | RTC_B_UIE, RTC_REG_B, T0 + 12 * HZ);
    assert_int_equal(pulses, 1);
    /* a stopped clock raises nothing */
    cmos_read(RTC_REG_C, T0 + 12 * HZ);
    cmos_write(RTC_B_SET | RTC_B_24H, RTC_REG_B, T0 + 12 * HZ);
    assert_int_equal(rtc_next_deadline(&rtc), DEV_NO_DEADLINE);
    rtc_advance(&rtc, T0 + 20 * HZ);
    assert_int_equal(cmos_read(RTC_REG_C, T0 + 20 * HZ), 0);
    /* rate 0 switches the periodic flag off */
    cmos_write(0x20, RTC_REG_A, T0 + 20 * HZ);
    cmos_write(RTC_B_24H | RTC_B_PIE, RTC_REG_B, T0 + 20 * HZ);
    assert_int_equal(rtc_next_deadline(&rtc), DEV_NO_DEADLINE);
    assert_int_equal(cmos_read(RTC_REG_C, T0 + 30 * HZ), RTC_C_UF);
    assert_int_equal(pulses, 1);
}

static void test_alarm(void **state)
{
    (void)state;
    struct irq_line irq8 = { irq8_set, NULL, 8 };
    pulses = 0;
    line8 = false;
    rtc_init(&rtc, HZ, T0, seconds_of(2024, 6, 1, 10, 0, 0), &irq8);
    /* rtc-cmos: alarm bytes, then AIE */
    cmos_write(0x05, 0x01, T0);
    cmos_write(0x00, 0x03, T0);
    cmos_write(0x10, 0x05, T0);
    cmos_write(RTC_B_24H | RTC_B_AIE, RTC_REG_B, T0);
    assert_int_equal(rtc_next_deadline(&rtc), T0 + 5 * HZ);
    rtc_advance(&rtc, T0 + 5 * HZ - 1);
    assert_int_equal(pulses, 0);
    rtc_advance(&rtc, T0 + 5 * HZ);
    assert_int_equal(pulses, 1);
    assert_int_equal(cmos_read(RTC_REG_C, T0 + 5 * HZ) & (RTC_C_IRQF | RTC_C_AF),
                     RTC_C_IRQF | RTC_C_AF);
    assert_int_equal(rtc_next_deadline(&rtc), T0 + (86400 + 5) * HZ); /* tomorrow */
    /* "don't care" bytes: any hour and minute, second 30 */
    cmos_write(0x30, 0x01, T0 + 5 * HZ);
    cmos_write(0xff, 0x03, T0 + 5 * HZ);
    cmos_write(0xc0, 0x05, T0 + 5 * HZ);
    assert_int_equal(rtc_next_deadline(&rtc), T0 + 30 * HZ);
    rtc_advance(&rtc, T0 + 30 * HZ);
    cmos_read(RTC_REG_C, T0 + 30 * HZ);
    assert_int_equal(rtc_next_deadline(&rtc), T0 + 90 * HZ);
    /* every second */
    cmos_write(0xff, 0x01, T0 + 30 * HZ);
    assert_int_equal(rtc_next_deadline(&rtc), T0 + 31 * HZ);
    /* a byte that is no BCD value never matches */
    cmos_write(0x5a, 0x01, T0 + 30 * HZ);
    assert_int_equal(rtc_next_deadline(&rtc), DEV_NO_DEADLINE);
    rtc_advance(&rtc, T0 + 200 * HZ);
    assert_int_equal(cmos_read(RTC_REG_C, T0 + 200 * HZ) & RTC_C_AF, 0);
    /* 12-hour mode: 10 PM; AF is set with AIE off too, IRQF is not */
    cmos_write(0x00, 0x01, T0 + 200 * HZ);
    cmos_write(0x00, 0x03, T0 + 200 * HZ);
    cmos_write(0x90, 0x05, T0 + 200 * HZ);
    cmos_write(RTC_B_AIE, RTC_REG_B, T0 + 200 * HZ);
    assert_int_equal(rtc_next_deadline(&rtc), T0 + 12 * 3600 * HZ);
    cmos_write(0, RTC_REG_B, T0 + 200 * HZ);
    unsigned before = pulses;
    rtc_advance(&rtc, T0 + 13 * 3600 * HZ);
    assert_int_equal(pulses, before);
    assert_int_equal(cmos_read(RTC_REG_C, T0 + 13 * 3600 * HZ) & (RTC_C_IRQF | RTC_C_AF),
                     RTC_C_AF);
}

static void test_cmos_ram(void **state)
{
    (void)state;
    rtc_init(&rtc, HZ, T0, 0, NULL);
    static const uint8_t memory_bytes[] = { 0x15, 0x16, 0x17, 0x18, 0x30, 0x31,
                                            0x34, 0x35, 0x5b, 0x5c, 0x5d };
    for (unsigned i = 0; i < sizeof(memory_bytes); i++)
        assert_int_equal(cmos_read(memory_bytes[i], T0), 0);
    assert_true(rtc_cmos_set(&rtc, 0x34, 0x12));
    assert_int_equal(cmos_read(0x34, T0), 0x12);
    assert_false(rtc_cmos_set(&rtc, RTC_CENTURY, 0x20));
    assert_false(rtc_cmos_set(&rtc, RTC_REG_B, 0));
    assert_false(rtc_cmos_set(&rtc, 0x80, 0));
    for (unsigned i = 0x0e; i < 0x80; i++)
        if (i != RTC_CENTURY)
            cmos_write((uint8_t)(i ^ 0xa5), i, T0);
    for (unsigned i = 0x0e; i < 0x80; i++)
        if (i != RTC_CENTURY)
            assert_int_equal(cmos_read(i, T0), i ^ 0xa5);
    /* alarm bytes are plain storage */
    cmos_write(0x45, 0x01, T0);
    assert_int_equal(cmos_read(0x01, T0), 0x45);
    expect_time(T0, 0x70, 0x01, 0x01, 0x00, 0x00, 0x00, 5, 0x19);
    /* per VM: a second clock is untouched by the first */
    struct rtc other;
    rtc_init(&other, HZ, T0, 0, NULL);
    assert_int_equal(other.ram[0x40], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_date_arithmetic),
        cmocka_unit_test(test_bcd_leap_day_rollover),
        cmocka_unit_test(test_binary_and_12_hour),
        cmocka_unit_test(test_uip_window),
        cmocka_unit_test(test_linux_get_time_loop),
        cmocka_unit_test(test_linux_set_time),
        cmocka_unit_test(test_running_writes),
        cmocka_unit_test(test_register_c_d_and_nmi),
        cmocka_unit_test(test_interrupts),
        cmocka_unit_test(test_alarm),
        cmocka_unit_test(test_cmos_ram),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
