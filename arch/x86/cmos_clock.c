/* The host's time of day from its CMOS RTC (MC146818 registers 0-9, B, the century byte 0x32),
 * read once, at the first call, by the hypervisor; later calls extrapolate with the TSC. Guests
 * never reach these ports: their RTC is the model in kernel/dev/rtc.c, and the NMI-mask bit 7
 * of port 0x70 stays the host's (every index written here has it clear, the state the firmware
 * leaves and Linux keeps). */
#include <tessera/arch.h>
#include <tessera/rtc.h>
#include <x86/io.h>

#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
#define REG_A_UIP 0x80
#define REG_B_24H 0x02
#define REG_B_BINARY 0x04
#define CENTURY 0x32

static bool have_clock;
static uint64_t clock_seconds, clock_tsc;

static uint8_t cmos_read(uint8_t index)
{
    outb(CMOS_INDEX, index & 0x7f);
    return inb(CMOS_DATA);
}

static unsigned from_bcd(uint8_t v, bool binary)
{
    return binary ? v : (v >> 4) * 10u + (v & 0xf);
}

/* One consistent read: wait (bounded) for no update in progress, read, and read again until two
 * reads agree, as the data sheet's update-cycle rules require. */
static bool read_host_rtc(uint64_t *seconds)
{
    uint8_t t[2][8];
    for (unsigned attempt = 0; attempt < 10; attempt++) {
        for (unsigned pass = 0; pass < 2; pass++) {
            for (unsigned spin = 0; spin < 1000000 && (cmos_read(0x0a) & REG_A_UIP); spin++)
                __builtin_ia32_pause();
            static const uint8_t regs[8] = { 0, 2, 4, 7, 8, 9, CENTURY, 0x0b };
            for (unsigned i = 0; i < 8; i++)
                t[pass][i] = cmos_read(regs[i]);
        }
        bool same = true;
        for (unsigned i = 0; i < 8; i++)
            same = same && t[0][i] == t[1][i];
        if (!same)
            continue;
        bool binary = t[0][7] & REG_B_BINARY;
        uint8_t hour_raw = t[0][2];
        unsigned hour = from_bcd(hour_raw & 0x7f, binary);
        if (!(t[0][7] & REG_B_24H)) { /* 12-hour: 12 AM is 0, PM (bit 7) adds 12 */
            hour %= 12;
            if (hour_raw & 0x80)
                hour += 12;
        }
        unsigned year = from_bcd(t[0][5], binary);
        unsigned century = from_bcd(t[0][6], binary);
        year += (century >= 19 && century <= 99) ? century * 100 : 2000;
        struct rtc_date d = { year, (uint8_t)from_bcd(t[0][4], binary),
                              (uint8_t)from_bcd(t[0][3], binary), (uint8_t)hour,
                              (uint8_t)from_bcd(t[0][1], binary),
                              (uint8_t)from_bcd(t[0][0], binary) };
        return rtc_date_to_seconds(&d, seconds);
    }
    return false;
}

bool arch_wall_clock(uint64_t *seconds)
{
    if (!have_clock) {
        if (!read_host_rtc(&clock_seconds))
            return false;
        clock_tsc = arch_now();
        have_clock = true;
    }
    uint64_t hz = arch_tsc_hz() ? arch_tsc_hz() : 1;
    *seconds = clock_seconds + (arch_now() - clock_tsc) / hz;
    return true;
}
