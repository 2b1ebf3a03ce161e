/* The PC's CMOS real-time clock (Motorola MC146818A as integrated in Intel PIIX/ICH): index
 * port 0x70, data port 0x71, 128 bytes. A pure model: the time of day is the host's time at
 * init plus the TSC since, per VM; the guest may set its own clock. The NMI-mask bit of the index
 * port is only recorded. See docs/devices.md. */
#ifndef TESSERA_RTC_H
#define TESSERA_RTC_H

#include <stdbool.h>
#include <stdint.h>

#include <tessera/dev.h>

#define RTC_BASE 0x70
#define RTC_REGIONS 1

/* register indices */
#define RTC_SECONDS 0x00
#define RTC_MINUTES 0x02
#define RTC_HOURS 0x04
#define RTC_WEEKDAY 0x06
#define RTC_DAY 0x07
#define RTC_MONTH 0x08
#define RTC_YEAR 0x09
#define RTC_REG_A 0x0a
#define RTC_REG_B 0x0b
#define RTC_REG_C 0x0c
#define RTC_REG_D 0x0d
#define RTC_CENTURY 0x32 /* the ACPI FADT's CENTURY field will name this index */

#define RTC_A_UIP 0x80
#define RTC_B_SET 0x80
#define RTC_B_PIE 0x40
#define RTC_B_AIE 0x20
#define RTC_B_UIE 0x10
#define RTC_B_BINARY 0x04 /* DM: binary rather than BCD */
#define RTC_B_24H 0x02
#define RTC_C_IRQF 0x80
#define RTC_C_PF 0x40
#define RTC_C_AF 0x20
#define RTC_C_UF 0x10
#define RTC_D_VRT 0x80

/* How long UIP reads 1 before each second's update completes: tBUC 244 us plus the update
 * cycle, 1984 us (MC146818A data sheet, update cycle timing). */
#define RTC_UIP_US 2228

struct rtc_date {
    uint32_t year; /* 1970-9999 for conversions from a date */
    uint8_t month, day, hour, minute, second;
};

struct rtc {
    uint8_t ram[128];    /* registers and CMOS RAM; time bytes are used only while frozen */
    uint8_t index;       /* bits 6:0 of the last index write */
    bool nmi_masked;     /* bit 7 of the last index write: recorded, never acted on */
    bool frozen;         /* SET, or the divider not running: time bytes hold still */
    bool divider_reset;  /* the divider was held in reset while frozen */
    uint64_t tsc_hz;
    uint64_t base_tsc;     /* TSC at which second base_seconds began */
    uint64_t base_seconds; /* seconds since 1970-01-01 00:00:00 */
    uint64_t last_now;     /* latest TSC seen: the clock never runs backwards */
    uint64_t tick32;       /* 32768 Hz ticks since base_tsc accounted for in flags */
    uint8_t flags;         /* register C's PF, AF and UF, set since the last read of C */
    bool irq_high;         /* IRQF as last reported on irq8 */
    struct irq_line irq8;
};

/* seconds: the host's time of day (seconds since the Unix epoch, UTC or local as the host RTC
 * keeps it) at TSC value now. tsc_hz is clamped to at least 1 kHz and below 2^43 Hz. The clock
 * starts in 24-hour BCD mode, running, with the valid-RAM bit set, interrupts off and CMOS RAM
 * zero. irq8 (may be NULL) is pulsed when IRQF rises (update-ended, alarm, periodic). */
void rtc_init(struct rtc *rtc, uint64_t tsc_hz, uint64_t now, uint64_t seconds,
              const struct irq_line *irq8);

/* The TSC value at which IRQF will next rise, DEV_NO_DEADLINE if it cannot before register C is
 * read or an interrupt is enabled. Always later than the now of the last rtc_advance. */
uint64_t rtc_next_deadline(const struct rtc *rtc);
/* Sets the flags of every update, alarm and periodic event due by now; pulses IRQ 8 if IRQF
 * rose (once, however many events passed). */
void rtc_advance(struct rtc *rtc, uint64_t now);
void rtc_regions(struct rtc *rtc, struct dev_region regions[RTC_REGIONS]);
extern const struct dev_ops rtc_ops;

/* Seconds since the epoch for a date from the host RTC; false when it is not a valid date in
 * 1970-9999. */
bool rtc_date_to_seconds(const struct rtc_date *date, uint64_t *seconds);
void rtc_seconds_to_date(uint64_t seconds, struct rtc_date *date);
/* The VM's clock at now, in seconds since the epoch. */
uint64_t rtc_now_seconds(struct rtc *rtc, uint64_t now);

/* CMOS RAM bytes the wiring fills (memory-size bytes and the like); indices 0x0e-0x7f other
 * than the century byte. Returns false for other indices. */
bool rtc_cmos_set(struct rtc *rtc, unsigned index, uint8_t value);

#endif
