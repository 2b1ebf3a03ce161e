/* The CMOS RTC: input = one byte choosing the TSC rate, five bytes of starting seconds, then
 * operations of three bytes. The first byte's bits 2:0 choose the operation (0-1 write, 2 read
 * of port 0x70 + bit 3; 3 time passes: value << (bits 7:4); 4 16-bit write of index and data;
 * 5 read of index bits 7:3 << 2 | value & 3 through the ports; 6 rtc_advance; 7 advance exactly
 * to the announced deadline), the second is the value. Checks that the index stays below 128,
 * that registers A, C and D read within their documented bits (IRQF only with an enabled flag),
 * that SET and UIE are never both set, that the frozen state matches registers A and B, that a
 * running clock in BCD mode only ever shows BCD digits in valid ranges, that IRQ 8 is only
 * pulsed, that deadlines after an advance lie in the future and that reaching one raises the
 * interrupt it announced.
 * FUZZ-SOURCES: kernel/dev/rtc.c */
#include <stdint.h>
#include <stdlib.h>

#include <tessera/rtc.h>

static unsigned raised;
static bool line;

static void irq_set(void *router, unsigned gsi, bool level)
{
    (void)router;
    if (gsi != 8 || level == line)
        abort();
    line = level;
    raised += level;
}

static uint8_t reg(struct rtc *rtc, unsigned index, uint64_t now)
{
    rtc_ops.write(rtc, 0, 1, index, now);
    return (uint8_t)rtc_ops.read(rtc, 1, 1, now);
}

static bool bcd_in(uint8_t v, unsigned lo, unsigned hi)
{
    if ((v >> 4) > 9 || (v & 15) > 9)
        return false;
    unsigned n = (v >> 4) * 10u + (v & 15);
    return n >= lo && n <= hi;
}

static void check(struct rtc *rtc, uint64_t now)
{
    uint8_t saved = rtc->index;
    bool nmi = rtc->nmi_masked;
    if (rtc->index > 0x7f)
        abort();
    uint8_t a = rtc->ram[RTC_REG_A], b = rtc->ram[RTC_REG_B];
    bool running = !(b & RTC_B_SET) && (a & 0x70) == 0x20;
    if (rtc->frozen == running || (a & 0x80) || ((b & RTC_B_SET) && (b & RTC_B_UIE)))
        abort();
    if ((reg(rtc, RTC_REG_A, now) & 0x7f) != a || reg(rtc, RTC_REG_D, now) != RTC_D_VRT)
        abort();
    if (!running && (reg(rtc, RTC_REG_A, now) & RTC_A_UIP))
        abort();
    if (running && !(b & RTC_B_BINARY)) {
        uint8_t h = reg(rtc, RTC_HOURS, now);
        bool hours_ok = (b & RTC_B_24H) ? bcd_in(h, 0, 23) : bcd_in(h & 0x7f, 1, 12);
        if (!bcd_in(reg(rtc, RTC_SECONDS, now), 0, 59) ||
            !bcd_in(reg(rtc, RTC_MINUTES, now), 0, 59) || !hours_ok ||
            !bcd_in(reg(rtc, RTC_WEEKDAY, now), 1, 7) || !bcd_in(reg(rtc, RTC_DAY, now), 1, 31) ||
            !bcd_in(reg(rtc, RTC_MONTH, now), 1, 12) || !bcd_in(reg(rtc, RTC_YEAR, now), 0, 99) ||
            !bcd_in(reg(rtc, RTC_CENTURY, now), 0, 99))
            abort();
    }
    rtc_ops.write(rtc, 0, 1, saved | (nmi ? 0x80 : 0), now); /* as the guest left it */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint64_t rates[4] = { 5000000, 3000000000ull, 1000, 1ull << 42 };
    struct rtc rtc;

    if (size < 6)
        return 0;
    uint64_t seconds = 0;
    for (unsigned i = 1; i < 6; i++)
        seconds = seconds << 8 | data[i];
    uint64_t now = 0;
    struct irq_line irq8 = { irq_set, NULL, 8 };
    raised = 0;
    line = false;
    rtc_init(&rtc, rates[data[0] & 3], now, seconds << (data[0] >> 2), &irq8);
    for (size_t i = 6; i + 2 < size; i += 3) {
        unsigned op = data[i] & 7, port = (data[i] >> 3) & 1;
        uint8_t value = data[i + 1];
        switch (op) {
        case 0:
        case 1:
            rtc_ops.write(&rtc, port, 1, value, now);
            break;
        case 2: {
            uint64_t v = rtc_ops.read(&rtc, port, 1, now);
            if (v > 0xff || (port == 0 && v != 0xff))
                abort();
            uint8_t b = rtc.ram[RTC_REG_B];
            if (port == 1 && rtc.index == RTC_REG_C &&
                ((v & 0x0f) ||
                 ((v & RTC_C_IRQF) && !(v & b & (RTC_B_PIE | RTC_B_AIE | RTC_B_UIE)))))
                abort();
            break;
        }
        case 3: {
            uint64_t step = (uint64_t)value << (data[i] >> 4 << 1);
            if (now + step >= now)
                now += step;
            break;
        }
        case 4:
            rtc_ops.write(&rtc, 0, 2, (uint64_t)data[i + 2] << 8 | value, now);
            break;
        case 5:
            reg(&rtc, (unsigned)(data[i] >> 3) << 2 | (value & 3), now);
            break;
        case 6: {
            unsigned before = raised;
            rtc_advance(&rtc, now);
            uint64_t d = rtc_next_deadline(&rtc);
            if (raised - before > 1 || (d != DEV_NO_DEADLINE && d <= now))
                abort();
            break;
        }
        default: {
            unsigned before = raised;
            uint64_t d = rtc_next_deadline(&rtc);
            bool reach = d != DEV_NO_DEADLINE && d > now && d - now <= (1ull << 40);
            if (reach)
                now = d;
            rtc_advance(&rtc, now);
            if (reach ? raised - before != 1 : raised - before > 1)
                abort();
            break;
        }
        }
        if (line)
            abort();
        check(&rtc, now);
    }
    return 0;
}
