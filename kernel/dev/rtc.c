/* MC146818A-compatible CMOS RTC (Motorola MC146818A data sheet; Intel 82801 ICH "Real Time
 * Clock" registers A-D). The time of day is a count of seconds kept as (base_seconds at
 * base_tsc); the date registers are computed from it when read. While SET is 1 or the divider
 * is not running, the time bytes are plain RAM the guest writes, and the clock restarts from
 * them when it runs again (how Linux's mc146818_set_time sets the clock). */
#include <tessera/dev_clock.h>
#include <tessera/rtc.h>
#include <tessera/string.h>

#define A_DIVIDER 0x70 /* DV2:0; 010 = 32.768 kHz time base, running */
#define A_DIVIDER_RUN 0x20
#define A_DIVIDER_RESET 0x60 /* 11x: divider chain held in reset */
#define T32_HZ 32768u /* the divider chain's clock */
#define SECONDS_PER_DAY 86400u
#define DAYS_PER_400_YEARS 146097u

static const uint8_t time_regs[] = { RTC_SECONDS, RTC_MINUTES, RTC_HOURS, RTC_WEEKDAY,
                                     RTC_DAY, RTC_MONTH, RTC_YEAR, RTC_CENTURY };

static bool is_time_reg(unsigned index)
{
    for (unsigned i = 0; i < sizeof(time_regs); i++)
        if (time_regs[i] == index)
            return true;
    return false;
}

static bool leap(uint64_t year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static unsigned days_in_month(uint64_t year, unsigned month)
{
    static const uint8_t days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return days[month - 1] + (month == 2 && leap(year));
}

/* Leap years in [1, year]. */
static uint64_t leaps_through(uint64_t year)
{
    return year / 4 - year / 100 + year / 400;
}

bool rtc_date_to_seconds(const struct rtc_date *d, uint64_t *seconds)
{
    if (d->year < 1970 || d->year > 9999 || d->month < 1 || d->month > 12 || d->day < 1 ||
        d->day > days_in_month(d->year, d->month) || d->hour > 23 || d->minute > 59 ||
        d->second > 59)
        return false;
    uint64_t days = 365ull * (d->year - 1970) + leaps_through(d->year - 1) - leaps_through(1969);
    for (unsigned m = 1; m < d->month; m++)
        days += days_in_month(d->year, m);
    days += d->day - 1u;
    *seconds = days * SECONDS_PER_DAY + d->hour * 3600u + d->minute * 60u + d->second;
    return true;
}

/* Days from 1 January of year `from` to 1 January of year `from + years`. */
static uint64_t days_between(uint64_t from, uint64_t years)
{
    return 365 * years + leaps_through(from + years - 1) - leaps_through(from - 1);
}

/* Any seconds count, in constant time: whole 400-year cycles (always 146097 days) from
 * 2000-01-01 first; within a cycle, days / 366 years is at most two short of the answer. */
void rtc_seconds_to_date(uint64_t seconds, struct rtc_date *d)
{
    uint64_t days = seconds / SECONDS_PER_DAY, sod = seconds % SECONDS_PER_DAY;
    uint64_t from = 1970;
    const uint64_t to_2000 = 10957; /* days from 1970-01-01 to 2000-01-01 */
    if (days >= to_2000) {
        uint64_t cycles = (days - to_2000) / DAYS_PER_400_YEARS;
        from = 2000 + 400 * cycles;
        days -= to_2000 + cycles * DAYS_PER_400_YEARS;
    }
    uint64_t years = days / 366;
    while (days_between(from, years + 1) <= days)
        years++;
    days -= days_between(from, years);
    uint64_t year = from + years;
    unsigned month = 1;
    while (days >= days_in_month(year, month)) {
        days -= days_in_month(year, month);
        month++;
    }
    d->year = (uint32_t)(year > UINT32_MAX ? UINT32_MAX : year);
    d->month = (uint8_t)month;
    d->day = (uint8_t)(days + 1);
    d->hour = (uint8_t)(sod / 3600);
    d->minute = (uint8_t)(sod / 60 % 60);
    d->second = (uint8_t)(sod % 60);
}

static bool running_with(uint8_t a, uint8_t b)
{
    return !(b & RTC_B_SET) && (a & A_DIVIDER) == A_DIVIDER_RUN;
}

static uint64_t clock_now(struct rtc *rtc, uint64_t now)
{
    if (now > rtc->last_now)
        rtc->last_now = now;
    return rtc->last_now;
}

static uint64_t elapsed_ticks(const struct rtc *rtc)
{
    return rtc->last_now > rtc->base_tsc ? rtc->last_now - rtc->base_tsc : 0;
}

/* The clock's second (after clock_now): frozen clocks still count from their base. */
static uint64_t current_seconds(const struct rtc *rtc)
{
    uint64_t s = rtc->base_seconds + elapsed_ticks(rtc) / rtc->tsc_hz;
    return s < rtc->base_seconds ? UINT64_MAX : s;
}

uint64_t rtc_now_seconds(struct rtc *rtc, uint64_t now)
{
    clock_now(rtc, now);
    return current_seconds(rtc);
}

static bool from_reg(const struct rtc *rtc, uint8_t r, unsigned *v);

#define ALARM_ANY (-1)
#define ALARM_NEVER (-2)

/* An alarm byte as a number; values 0xc0-0xff are "don't care" (MC146818A, alarm). A byte that
 * is no valid value in the current format never matches. */
static int alarm_field(const struct rtc *rtc, uint8_t r, unsigned max, bool hours)
{
    unsigned v;
    if ((r & 0xc0) == 0xc0)
        return ALARM_ANY;
    if (hours && !(rtc->ram[RTC_REG_B] & RTC_B_24H)) {
        if (!from_reg(rtc, r & 0x7f, &v) || v < 1 || v > 12)
            return ALARM_NEVER;
        return (int)(v % 12 + (r & 0x80 ? 12 : 0));
    }
    if (!from_reg(rtc, r, &v) || v > max)
        return ALARM_NEVER;
    return (int)v;
}

/* The first second of the day after `after` (-1: from midnight) matching the alarm fields
 * (second, minute, hour), or -1. At most 24 * 60 steps. */
static int64_t next_in_day(const int f[3], int64_t after)
{
    for (int h = 0; h < 24; h++) {
        if ((f[2] >= 0 && h != f[2]) || h * 3600 + 3599 <= after)
            continue;
        for (int m = 0; m < 60; m++) {
            int64_t base = h * 3600 + m * 60;
            if ((f[1] >= 0 && m != f[1]) || base + 59 <= after)
                continue;
            if (f[0] < 0)
                return base > after ? base : after + 1;
            if (base + f[0] > after)
                return base + f[0];
        }
    }
    return -1;
}

/* The first clock second after `from` whose time of day matches the alarm, UINT64_MAX for none:
 * it is today or tomorrow. */
static uint64_t next_alarm(const struct rtc *rtc, uint64_t from)
{
    int f[3] = { alarm_field(rtc, rtc->ram[1], 59, false), alarm_field(rtc, rtc->ram[3], 59, false),
                 alarm_field(rtc, rtc->ram[5], 23, true) };
    if (f[0] == ALARM_NEVER || f[1] == ALARM_NEVER || f[2] == ALARM_NEVER)
        return UINT64_MAX;
    uint64_t day = from - from % SECONDS_PER_DAY;
    int64_t t = next_in_day(f, (int64_t)(from % SECONDS_PER_DAY));
    if (t >= 0)
        return day + (uint64_t)t;
    t = next_in_day(f, -1);
    if (t < 0 || day > UINT64_MAX - SECONDS_PER_DAY - (uint64_t)t)
        return UINT64_MAX;
    return day + SECONDS_PER_DAY + (uint64_t)t;
}

/* The clock second at a 32768 Hz tick. */
static uint64_t second_at(const struct rtc *rtc, uint64_t tick32)
{
    uint64_t s = rtc->base_seconds + tick32 / T32_HZ;
    return s < rtc->base_seconds ? UINT64_MAX : s;
}

/* 32768 Hz ticks since base_tsc (after clock_now), split like the PIT's conversion so nothing
 * overflows: rem < 2^43, rem * 2^15 < 2^58. Saturates for absurd times. */
static uint64_t tick32_now(const struct rtc *rtc)
{
    uint64_t e = elapsed_ticks(rtc), q = e / rtc->tsc_hz;
    if (q > (UINT64_MAX >> 15) - 1)
        return UINT64_MAX;
    return dev_clock_ticks(e, rtc->tsc_hz, T32_HZ);
}

/* The first TSC value at which tick32_now reaches t. */
static uint64_t tsc_of_tick32(const struct rtc *rtc, uint64_t t)
{
    return dev_clock_tsc_of(rtc->base_tsc, rtc->tsc_hz, T32_HZ, t);
}

/* Register A's rate select as a period in 32768 Hz ticks; 0 = off (MC146818A table 4). */
static uint32_t periodic_ticks(uint8_t a)
{
    unsigned rs = a & 0x0f;
    if (rs == 0)
        return 0;
    if (rs <= 2)
        return 1u << (rs + 6); /* 256 and 128 Hz, as for RS 8 and 9 */
    return 1u << (rs - 1);     /* 8192 Hz down to 2 Hz */
}

/* Sets UF for every second boundary, AF when a second entered matched the alarm, and PF for every
 * periodic edge since the last call. A stopped clock has none (while SET alone holds it the
 * chip's periodic flag would run on; not modelled). */
static void accrue(struct rtc *rtc)
{
    if (rtc->frozen)
        return;
    uint64_t t = tick32_now(rtc);
    if (t <= rtc->tick32)
        return;
    if (t / T32_HZ != rtc->tick32 / T32_HZ) {
        rtc->flags |= RTC_C_UF;
        if (next_alarm(rtc, second_at(rtc, rtc->tick32)) <= second_at(rtc, t))
            rtc->flags |= RTC_C_AF;
    }
    uint32_t p = periodic_ticks(rtc->ram[RTC_REG_A]);
    if (p && t / p != rtc->tick32 / p)
        rtc->flags |= RTC_C_PF;
    rtc->tick32 = t;
}

/* IRQF = PF & PIE | AF & AIE | UF & UIE (the flag and enable bits share positions). IRQ 8 is
 * edge-triggered at the PIC, so its rise is one pulse; the line stays quiet until register C is
 * read. */
static bool irqf(const struct rtc *rtc)
{
    return rtc->flags & rtc->ram[RTC_REG_B] & (RTC_B_PIE | RTC_B_AIE | RTC_B_UIE);
}

static void update_irq(struct rtc *rtc)
{
    bool high = irqf(rtc);
    if (high && !rtc->irq_high) {
        irq_line_set(&rtc->irq8, true);
        irq_line_set(&rtc->irq8, false);
    }
    rtc->irq_high = high;
}

void rtc_advance(struct rtc *rtc, uint64_t now)
{
    clock_now(rtc, now);
    accrue(rtc);
    update_irq(rtc);
}

static uint64_t next_multiple(uint64_t t, uint64_t p)
{
    uint64_t n = t / p * p;
    return n > UINT64_MAX - p ? UINT64_MAX : n + p;
}

uint64_t rtc_next_deadline(const struct rtc *rtc)
{
    uint8_t enabled = rtc->ram[RTC_REG_B] & (RTC_B_PIE | RTC_B_AIE | RTC_B_UIE);
    uint32_t p = periodic_ticks(rtc->ram[RTC_REG_A]);
    uint64_t next = UINT64_MAX;
    if (rtc->frozen || rtc->irq_high)
        return DEV_NO_DEADLINE;
    if (enabled & RTC_B_UIE)
        next = next_multiple(rtc->tick32, T32_HZ);
    if ((enabled & RTC_B_PIE) && p) {
        uint64_t n = next_multiple(rtc->tick32, p);
        next = n < next ? n : next;
    }
    if (enabled & RTC_B_AIE) {
        uint64_t s = next_alarm(rtc, second_at(rtc, rtc->tick32)) - rtc->base_seconds;
        uint64_t n = s > UINT64_MAX / T32_HZ ? UINT64_MAX : s * T32_HZ;
        next = n < next ? n : next;
    }
    return next == UINT64_MAX ? DEV_NO_DEADLINE : tsc_of_tick32(rtc, next);
}

static uint8_t to_reg(const struct rtc *rtc, unsigned v)
{
    return (uint8_t)((rtc->ram[RTC_REG_B] & RTC_B_BINARY) ? v : (v / 10) << 4 | v % 10);
}

static bool from_reg(const struct rtc *rtc, uint8_t r, unsigned *v)
{
    if (rtc->ram[RTC_REG_B] & RTC_B_BINARY) {
        *v = r;
        return true;
    }
    if ((r >> 4) > 9 || (r & 15) > 9)
        return false;
    *v = (r >> 4) * 10u + (r & 15);
    return true;
}

/* The time bytes for a seconds count, in the format register B selects. */
static void encode_time(const struct rtc *rtc, uint64_t seconds, uint8_t out[128])
{
    struct rtc_date d;
    rtc_seconds_to_date(seconds, &d);
    out[RTC_SECONDS] = to_reg(rtc, d.second);
    out[RTC_MINUTES] = to_reg(rtc, d.minute);
    if (rtc->ram[RTC_REG_B] & RTC_B_24H) {
        out[RTC_HOURS] = to_reg(rtc, d.hour);
    } else {
        unsigned h = d.hour % 12 ? d.hour % 12 : 12;
        out[RTC_HOURS] = (uint8_t)(to_reg(rtc, h) | (d.hour >= 12 ? 0x80 : 0));
    }
    /* 1970-01-01 was a Thursday; the register counts Sunday as 1 */
    out[RTC_WEEKDAY] = to_reg(rtc, (unsigned)((seconds / SECONDS_PER_DAY + 4) % 7 + 1));
    out[RTC_DAY] = to_reg(rtc, d.day);
    out[RTC_MONTH] = to_reg(rtc, d.month);
    out[RTC_YEAR] = to_reg(rtc, d.year % 100);
    out[RTC_CENTURY] = to_reg(rtc, d.year / 100 % 100);
}

/* Seconds for the time bytes in regs; false when they are not a date in 1970-9999. The
 * weekday byte is not checked: it is derived from the date. */
static bool decode_time(const struct rtc *rtc, const uint8_t regs[128], uint64_t *seconds)
{
    unsigned sec, min, hour, day, month, year, century;
    if (!from_reg(rtc, regs[RTC_SECONDS], &sec) || !from_reg(rtc, regs[RTC_MINUTES], &min) ||
        !from_reg(rtc, regs[RTC_DAY], &day) || !from_reg(rtc, regs[RTC_MONTH], &month) ||
        !from_reg(rtc, regs[RTC_YEAR], &year) || !from_reg(rtc, regs[RTC_CENTURY], &century))
        return false;
    if (rtc->ram[RTC_REG_B] & RTC_B_24H) {
        if (!from_reg(rtc, regs[RTC_HOURS], &hour))
            return false;
    } else {
        if (!from_reg(rtc, regs[RTC_HOURS] & 0x7f, &hour) || hour < 1 || hour > 12)
            return false;
        hour = hour % 12 + (regs[RTC_HOURS] & 0x80 ? 12 : 0);
    }
    if (year > 99 || century > 99)
        return false;
    struct rtc_date d = { century * 100 + year, (uint8_t)month, (uint8_t)day, (uint8_t)hour,
                          (uint8_t)min, (uint8_t)sec };
    if (month > 12 || day > 31 || hour > 23 || min > 59 || sec > 59)
        return false;
    return rtc_date_to_seconds(&d, seconds);
}

/* The clock now reads `seconds`; the divider's phase within the second is kept. */
static void rebase_keep_phase(struct rtc *rtc, uint64_t seconds)
{
    rtc->base_tsc += elapsed_ticks(rtc) / rtc->tsc_hz * rtc->tsc_hz;
    rtc->base_seconds = seconds;
    rtc->tick32 = tick32_now(rtc);
}

static void freeze(struct rtc *rtc)
{
    uint8_t regs[128];
    encode_time(rtc, current_seconds(rtc), regs);
    for (unsigned i = 0; i < sizeof(time_regs); i++)
        rtc->ram[time_regs[i]] = regs[time_regs[i]];
    rtc->frozen = true;
    rtc->divider_reset = false;
}

/* Running again: the clock continues from the time bytes. Bytes that are no valid date are
 * dropped and the clock continues as if it had never stopped. After a divider reset the first
 * update comes half a second later (MC146818A, "divider control"). */
static void thaw(struct rtc *rtc)
{
    uint64_t seconds;
    rtc->frozen = false;
    if (decode_time(rtc, rtc->ram, &seconds)) {
        if (rtc->divider_reset) {
            uint64_t half = rtc->tsc_hz / 2;
            rtc->base_tsc = rtc->last_now > half ? rtc->last_now - half : 0;
            rtc->base_seconds = seconds;
        } else {
            rebase_keep_phase(rtc, seconds);
        }
    }
    rtc->tick32 = tick32_now(rtc); /* no events while stopped */
}

/* Registers A or B change: freeze or thaw around the change. */
static void write_control(struct rtc *rtc, unsigned index, uint8_t value)
{
    bool was = running_with(rtc->ram[RTC_REG_A], rtc->ram[RTC_REG_B]);
    uint8_t a = rtc->ram[RTC_REG_A], b = rtc->ram[RTC_REG_B];
    if (index == RTC_REG_A) {
        a = value & 0x7f; /* UIP is read-only */
    } else {
        b = value;
        if (b & RTC_B_SET)
            b &= (uint8_t)~RTC_B_UIE; /* SET clears UIE (data sheet, register B) */
    }
    bool is = running_with(a, b);
    if (was && !is)
        freeze(rtc); /* in the format of the old register B */
    rtc->ram[RTC_REG_A] = a;
    rtc->ram[RTC_REG_B] = b;
    if (!is && (a & A_DIVIDER_RESET) == A_DIVIDER_RESET)
        rtc->divider_reset = true;
    if (!was && is)
        thaw(rtc);
}

static void write_time(struct rtc *rtc, unsigned index, uint8_t value)
{
    if (rtc->frozen) {
        rtc->ram[index] = value;
        return;
    }
    /* A running clock takes the byte at once: the date with that byte replaced, if it is
     * one. */
    uint8_t regs[128];
    uint64_t seconds;
    uint64_t current = current_seconds(rtc);
    encode_time(rtc, current, regs);
    regs[index] = value;
    if (decode_time(rtc, regs, &seconds) && seconds != current)
        rebase_keep_phase(rtc, seconds);
}

static bool update_in_progress(const struct rtc *rtc)
{
    if (rtc->frozen)
        return false; /* SET=1 clears UIP; no updates while the divider is stopped */
    uint64_t window = rtc->tsc_hz * RTC_UIP_US / 1000000;
    return elapsed_ticks(rtc) % rtc->tsc_hz >= rtc->tsc_hz - window;
}

static uint8_t read_data(struct rtc *rtc)
{
    unsigned index = rtc->index;
    if (is_time_reg(index) && !rtc->frozen) {
        uint8_t regs[128];
        encode_time(rtc, current_seconds(rtc), regs);
        return regs[index];
    }
    switch (index) {
    case RTC_REG_A:
        return (uint8_t)(rtc->ram[RTC_REG_A] | (update_in_progress(rtc) ? RTC_A_UIP : 0));
    case RTC_REG_C: {
        /* The read clears the flags and IRQF. */
        uint8_t v = (uint8_t)(rtc->flags | (irqf(rtc) ? RTC_C_IRQF : 0));
        rtc->flags = 0;
        return v;
    }
    case RTC_REG_D:
        return RTC_D_VRT;
    default:
        return rtc->ram[index];
    }
}

static void write_data(struct rtc *rtc, uint8_t value)
{
    unsigned index = rtc->index;
    if (is_time_reg(index))
        write_time(rtc, index, value);
    else if (index == RTC_REG_A || index == RTC_REG_B)
        write_control(rtc, index, value);
    else if (index != RTC_REG_C && index != RTC_REG_D)
        rtc->ram[index] = value; /* alarm bytes and CMOS RAM */
}

/* Port 0x70 is write-only on the PC (reads float): the index and NMI bit are not readable. */
static uint64_t rtc_read(void *dev, uint64_t offset, unsigned size, uint64_t now)
{
    struct rtc *rtc = dev;
    uint64_t value = 0;
    clock_now(rtc, now);
    accrue(rtc);
    for (unsigned i = 0; i < size && i < 8; i++) {
        uint8_t byte = (offset + i) & 1 ? read_data(rtc) : 0xff;
        value |= (uint64_t)byte << (8 * i);
    }
    update_irq(rtc);
    return value;
}

static void rtc_write(void *dev, uint64_t offset, unsigned size, uint64_t value, uint64_t now)
{
    struct rtc *rtc = dev;
    clock_now(rtc, now);
    accrue(rtc);
    for (unsigned i = 0; i < size && i < 8; i++) {
        uint8_t byte = (uint8_t)(value >> (8 * i));
        if ((offset + i) & 1) {
            write_data(rtc, byte);
        } else {
            rtc->index = byte & 0x7f;
            rtc->nmi_masked = byte & 0x80;
        }
    }
    update_irq(rtc);
}

const struct dev_ops rtc_ops = { rtc_read, rtc_write };

void rtc_init(struct rtc *rtc, uint64_t tsc_hz, uint64_t now, uint64_t seconds,
              const struct irq_line *irq8)
{
    memset(rtc, 0, sizeof(*rtc));
    if (tsc_hz < 1000)
        tsc_hz = 1000;
    if (tsc_hz >= 1ull << 43)
        tsc_hz = (1ull << 43) - 1;
    rtc->tsc_hz = tsc_hz;
    rtc->base_tsc = now;
    rtc->last_now = now;
    rtc->base_seconds = seconds;
    if (irq8)
        rtc->irq8 = *irq8;
    rtc->ram[RTC_REG_A] = A_DIVIDER_RUN | 0x06; /* 32.768 kHz, 1024 Hz periodic rate */
    rtc->ram[RTC_REG_B] = RTC_B_24H;            /* BCD, 24-hour, no interrupts */
}

void rtc_regions(struct rtc *rtc, struct dev_region regions[RTC_REGIONS])
{
    regions[0] = (struct dev_region){ DEV_SPACE_PORT, RTC_BASE, 2, &rtc_ops, rtc, "CMOS RTC" };
}

bool rtc_cmos_set(struct rtc *rtc, unsigned index, uint8_t value)
{
    if (index < 0x0e || index > 0x7f || index == RTC_CENTURY)
        return false;
    rtc->ram[index] = value;
    return true;
}
