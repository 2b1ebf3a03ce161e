/* The Intel 8254 programmable interval timer (ports 0x40-0x43) and the timer bits of the PC's
 * NMI status and control port 0x61 (channel 2 gate, speaker data enable, channel 2 OUT, refresh
 * toggle). A pure model: the counters are a function of the TSC ("now"); channel 0's OUT drives
 * ISA IRQ 0 through an irq_line. See docs/devices.md. */
#ifndef TESSERA_PIT_H
#define TESSERA_PIT_H

#include <stdbool.h>
#include <stdint.h>

#include <tessera/dev.h>

#define PIT_HZ 1193182u /* the input clock: 14.31818 MHz / 12 */
#define PIT_BASE 0x40
#define PIT_PORT61 0x61
#define PIT_REGIONS 2

/* Ticks of the input clock are counted from the TSC value given at init; all counter state is
 * kept in those ticks, so periodic modes never drift. */
struct pit_channel {
    uint8_t mode; /* 0-5 */
    uint8_t rw;   /* access: 1 low byte, 2 high byte, 3 low then high */
    bool bcd;
    bool gate;
    bool waiting;  /* control word written, count not yet complete */
    bool armed;    /* counting (modes 1 and 5: triggered) */
    bool fresh;    /* modes 1 and 5: a count waits for the next trigger */
    bool paused;   /* gate low stopped counting (modes 0, 2, 3, 4) */
    uint16_t count;       /* the count register as written */
    uint32_t period;      /* the count being counted: 1..65536 (1..10000 in BCD) */
    uint64_t load_tick;   /* tick at which the counting element held period */
    uint64_t paused_elapsed;
    bool reload_pending;  /* modes 2, 3: new count waiting for the end of the period */
    uint32_t reload_period;
    uint64_t reload_tick;
    bool write_high_next;
    uint8_t write_low;
    bool read_high_next;
    bool count_latched;
    bool latch_high_next;
    uint16_t latched;
    bool status_latched;
    uint8_t status;
};

struct pit {
    struct pit_channel ch[3];
    uint64_t tsc_hz;
    uint64_t base_tsc;
    uint64_t last_tick;     /* latest tick seen: time never runs backwards for the model */
    uint64_t advanced_tick; /* channel 0 edges up to this tick have been raised */
    struct irq_line irq0;
    bool speaker;     /* port 0x61 bit 1 */
    uint8_t nmi_bits; /* port 0x61 bits 3:2, kept for the guest, never acted on */
};

/* tsc_hz is clamped to [PIT_HZ, 2^43) so the tick conversions cannot overflow (see pit.c).
 * Channels start unprogrammed (no count, no interrupts); channel 2's gate starts low. irq0 may
 * be NULL. */
void pit_init(struct pit *pit, uint64_t tsc_hz, uint64_t now, const struct irq_line *irq0);
/* Regions for 0x40-0x43 and 0x61, ready for dev_bus_add. */
void pit_regions(struct pit *pit, struct dev_region regions[PIT_REGIONS]);
extern const struct dev_ops pit_ops, pit_port61_ops;

/* The TSC value at which channel 0's OUT next rises (an IRQ 0 edge), DEV_NO_DEADLINE if it
 * never will without a new program. Always later than the now of the last pit_advance. */
uint64_t pit_next_deadline(const struct pit *pit);
/* Raises IRQ 0 (one pulse) if OUT rose since the last advance; several missed periods still
 * give one pulse. */
void pit_advance(struct pit *pit, uint64_t now);

/* Input-clock ticks at TSC value now (for tests and reports). */
uint64_t pit_tick_at(const struct pit *pit, uint64_t now);
/* A channel's OUT at now. */
bool pit_out(struct pit *pit, unsigned channel, uint64_t now);

#endif
