/* Intel 8254 programmable interval timer (data sheet 231164): three counters, modes 0-5, binary
 * and BCD counting, counter latch and read-back commands, and the PC's port 0x61 timer bits.
 * Nothing runs between accesses: the counting element, OUT and the rising edges of OUT are
 * computed from the input-clock tick, which is computed from the TSC. */
#include <tessera/dev_clock.h>
#include <tessera/pit.h>
#include <tessera/string.h>

#define NO_TICK UINT64_MAX
#define TSC_HZ_MAX (1ull << 43)

/* port 0x61 (Intel ICH "NMI Status and Control"): bits 0, 1 are the gate and speaker enable,
 * 3:2 the NMI enables (kept, never acted on), 4 the refresh toggle, 5 channel 2 OUT. */
#define P61_GATE2 0x01
#define P61_SPEAKER 0x02
#define P61_NMI_BITS 0x0c
#define P61_REFRESH 0x10
#define P61_OUT2 0x20
/* The refresh request toggles every 15.085 us: 18 input-clock ticks. */
#define REFRESH_TICKS 18

static uint64_t add_sat(uint64_t a, uint64_t b)
{
    return a + b < a ? UINT64_MAX : a + b;
}

/* PIT input-clock ticks since base_tsc (tessera/dev_clock.h). */
uint64_t pit_tick_at(const struct pit *pit, uint64_t now)
{
    if (now <= pit->base_tsc)
        return 0;
    return dev_clock_ticks(now - pit->base_tsc, pit->tsc_hz, PIT_HZ);
}

/* The first TSC value whose tick is >= tick; DEV_NO_DEADLINE beyond the TSC's range. */
static uint64_t tsc_of_tick(const struct pit *pit, uint64_t tick)
{
    return dev_clock_tsc_of(pit->base_tsc, pit->tsc_hz, PIT_HZ, tick);
}

/* The current tick; never less than one already seen. */
static uint64_t tick_now(struct pit *pit, uint64_t now)
{
    uint64_t t = pit_tick_at(pit, now);
    if (t > pit->last_tick)
        pit->last_tick = t;
    return pit->last_tick;
}

static uint32_t modulus(const struct pit_channel *c)
{
    return c->bcd ? 10000 : 65536;
}

/* The count register as a number of input clocks: 0 is the largest count. BCD digits above 9
 * (not valid on the chip) are taken at face value, modulo 10000. */
static uint32_t count_period(const struct pit_channel *c)
{
    uint32_t n = c->count;
    if (c->bcd)
        n = ((n >> 12) & 15) * 1000 + ((n >> 8) & 15) * 100 + ((n >> 4) & 15) * 10 + (n & 15);
    n %= modulus(c);
    if (n == 0)
        n = modulus(c);
    /* A count of 1 is illegal in modes 2 and 3 (data sheet, "Minimum and Maximum Initial
     * Counts"); it is run as 2 rather than as an interrupt every tick. */
    if (n == 1 && (c->mode == 2 || c->mode == 3))
        n = 2;
    return n;
}

static uint16_t encode(const struct pit_channel *c, uint32_t v)
{
    if (!c->bcd)
        return (uint16_t)v;
    return (uint16_t)((v / 1000 % 10) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | v % 10);
}

/* Modes 2 and 3: a count written while counting takes over at the end of the period. */
static void resolve(struct pit_channel *c, uint64_t tick)
{
    if (c->reload_pending && tick >= c->reload_tick) {
        c->load_tick = c->reload_tick;
        c->period = c->reload_period;
        c->reload_pending = false;
    }
}

/* Elapsed clocks since the counting element was loaded; false before the load. */
static bool elapsed(const struct pit_channel *c, uint64_t tick, uint64_t *e)
{
    if (c->paused) {
        *e = c->paused_elapsed;
        return true;
    }
    if (tick < c->load_tick)
        return false;
    *e = tick - c->load_tick;
    return true;
}

/* OUT at tick (after resolve). The control word sets OUT low in mode 0, high in the others. */
static bool out_at(const struct pit_channel *c, uint64_t tick)
{
    uint64_t e, p = c->period;
    if (!c->armed || !elapsed(c, tick, &e))
        return c->mode != 0;
    switch (c->mode) {
    case 0:
    case 1:
        return e >= p;
    case 2:
        return c->paused || e % p != p - 1;
    case 3:
        return c->paused || e % p < (p + 1) / 2;
    default: /* 4, 5: one clock low at terminal count */
        return e != p;
    }
}

/* The counting element at tick (after resolve), as a binary number below the modulus. */
static uint32_t value_at(const struct pit_channel *c, uint64_t tick)
{
    uint64_t e, p = c->period, m = modulus(c);
    if (!c->armed)
        return c->waiting ? 0 : count_period(c) % m;
    if (!elapsed(c, tick, &e))
        return (uint32_t)(p % m);
    switch (c->mode) {
    case 2:
        return (uint32_t)((p - e % p) % m);
    case 3: {
        /* Decrements by two; an odd count loads count - 1 (data sheet, mode 3). High for
         * ceil(p / 2) clocks, then low for floor(p / 2), each phase starting again from the
         * top. */
        uint64_t phase = e % p, high = (p + 1) / 2;
        uint64_t h = phase < high ? phase : phase - high;
        return (uint32_t)(((p & ~1ull) - 2 * h) % m);
    }
    default: /* 0, 1, 4, 5: count down, wrapping past zero */
        return (uint32_t)((p + m - e % m) % m);
    }
}

/* The first tick after `after` at which OUT rises, or NO_TICK. Pure: a pending reload is taken
 * into account without applying it. */
static uint64_t next_rise(const struct pit_channel *c, uint64_t after)
{
    uint64_t load = c->load_tick, p = c->period;
    if (!c->armed || c->paused)
        return NO_TICK;
    if (c->reload_pending) {
        if (after < c->reload_tick)
            return c->reload_tick; /* the end of the old period is a rising edge */
        load = c->reload_tick;
        p = c->reload_period;
    }
    uint64_t edge;
    switch (c->mode) {
    case 0:
    case 1:
        edge = add_sat(load, p);
        break;
    case 2:
    case 3:
        if (after < load)
            return add_sat(load, p);
        edge = add_sat(load, add_sat((after - load) / p * p, p));
        return edge;
    default: /* 4, 5: OUT comes back high one clock after terminal count */
        edge = add_sat(load, p + 1);
        break;
    }
    return edge > after && edge != UINT64_MAX ? edge : NO_TICK;
}

static void pulse_irq0(struct pit *pit)
{
    irq_line_set(&pit->irq0, true);
    irq_line_set(&pit->irq0, false);
}

void pit_advance(struct pit *pit, uint64_t now)
{
    uint64_t tick = tick_now(pit, now);
    uint64_t rise = next_rise(&pit->ch[0], pit->advanced_tick);
    for (unsigned i = 0; i < 3; i++)
        resolve(&pit->ch[i], tick);
    if (rise != NO_TICK && rise <= tick)
        pulse_irq0(pit); /* missed periods collapse into this one edge */
    pit->advanced_tick = tick;
}

uint64_t pit_next_deadline(const struct pit *pit)
{
    uint64_t rise = next_rise(&pit->ch[0], pit->advanced_tick);
    return rise == NO_TICK ? DEV_NO_DEADLINE : tsc_of_tick(pit, rise);
}

bool pit_out(struct pit *pit, unsigned channel, uint64_t now)
{
    if (channel > 2)
        return false;
    uint64_t tick = tick_now(pit, now);
    resolve(&pit->ch[channel], tick);
    return out_at(&pit->ch[channel], tick);
}

/* Starts counting `period` clocks from the next clock edge; a low gate holds modes 0, 2, 3, 4
 * at the top. */
static void load(struct pit_channel *c, uint64_t tick, uint32_t period)
{
    c->period = period;
    c->load_tick = tick + 1;
    c->armed = true;
    c->reload_pending = false;
    c->paused = !c->gate && c->mode != 1 && c->mode != 5;
    c->paused_elapsed = 0;
}

/* A complete count was written. */
static void count_written(struct pit_channel *c, uint64_t tick)
{
    uint32_t p = count_period(c);
    bool first = c->waiting;
    uint64_t e;
    c->waiting = false;
    switch (c->mode) {
    case 1:
    case 5: /* used at the next gate trigger */
        c->fresh = true;
        break;
    case 2:
    case 3:
        if (first || !c->armed) {
            load(c, tick, p);
        } else if (c->paused || !elapsed(c, tick, &e)) {
            c->period = p; /* not counting yet: the gate's rising edge loads it */
        } else {
            c->reload_pending = true;
            c->reload_period = p;
            c->reload_tick = add_sat(c->load_tick, add_sat(e / c->period * c->period,
                                                           c->period));
        }
        break;
    default: /* 0, 4: a new count restarts counting */
        load(c, tick, p);
        break;
    }
}

static void set_gate(struct pit_channel *c, bool level, uint64_t tick)
{
    uint64_t e;
    if (level == c->gate)
        return;
    c->gate = level;
    if (!level) {
        /* modes 0, 4 suspend counting; 2, 3 also force OUT high until a new trigger */
        if (c->armed && !c->paused && c->mode != 1 && c->mode != 5) {
            c->paused_elapsed = elapsed(c, tick, &e) ? e : 0;
            c->paused = true;
        }
        return;
    }
    switch (c->mode) {
    case 0:
    case 4:
        if (c->paused) {
            c->load_tick = tick - c->paused_elapsed;
            c->paused = false;
        }
        break;
    case 2:
    case 3:
        if (c->armed) {
            if (c->reload_pending)
                c->period = c->reload_period;
            load(c, tick, c->period);
        }
        break;
    default: /* 1, 5: the rising edge triggers (again) */
        if (c->fresh || c->armed) {
            load(c, tick, c->fresh ? count_period(c) : c->period);
            c->fresh = false;
        }
        break;
    }
}

static uint8_t status_of(const struct pit_channel *c, uint64_t tick)
{
    bool null_count = c->waiting || c->fresh || c->reload_pending ||
                      (c->armed && !c->paused && tick < c->load_tick);
    return (uint8_t)(out_at(c, tick) << 7 | null_count << 6 | c->rw << 4 | c->mode << 1 |
                     c->bcd);
}

static void latch_count(struct pit_channel *c, uint64_t tick)
{
    if (c->count_latched)
        return; /* a second latch before the first is read is ignored */
    c->latched = encode(c, value_at(c, tick));
    c->count_latched = true;
    c->latch_high_next = false;
}

/* Control word and read-back command (port 0x43). */
static void write_control(struct pit *pit, uint8_t value, uint64_t tick)
{
    unsigned sel = value >> 6;
    if (sel == 3) {
        /* read-back: bit 5 clear latches counts, bit 4 clear latches status, bits 3:1 pick */
        for (unsigned i = 0; i < 3; i++) {
            struct pit_channel *c = &pit->ch[i];
            if (!(value & (2u << i)))
                continue;
            if (!(value & 0x20))
                latch_count(c, tick);
            if (!(value & 0x10) && !c->status_latched) {
                c->status = status_of(c, tick);
                c->status_latched = true;
            }
        }
        return;
    }
    struct pit_channel *c = &pit->ch[sel];
    unsigned rw = (value >> 4) & 3;
    if (rw == 0) {
        latch_count(c, tick);
        return;
    }
    /* OUT of a channel never programmed is taken as high: no edge on the first program */
    bool out_before = sel != 0 || !(c->armed || c->waiting) || out_at(c, tick);
    unsigned mode = (value >> 1) & 7;
    c->mode = (uint8_t)(mode > 5 ? mode - 4 : mode); /* 6 and 7 are modes 2 and 3 */
    c->rw = (uint8_t)rw;
    c->bcd = value & 1;
    c->waiting = true;
    c->armed = false;
    c->fresh = false;
    c->paused = false;
    c->reload_pending = false;
    c->write_high_next = false;
    c->read_high_next = false;
    c->count_latched = false;
    c->status_latched = false;
    if (!out_before && out_at(c, tick))
        pulse_irq0(pit); /* OUT went from low (mode 0 counting) to high */
}

static void write_counter(struct pit_channel *c, uint8_t value, uint64_t tick)
{
    switch (c->rw) {
    case 1:
        c->count = value;
        break;
    case 2:
        c->count = (uint16_t)(value << 8);
        break;
    case 3:
        if (!c->write_high_next) {
            c->write_low = value;
            c->write_high_next = true;
            return;
        }
        c->write_high_next = false;
        c->count = (uint16_t)(c->write_low | value << 8);
        break;
    default:
        return; /* never programmed */
    }
    count_written(c, tick);
}

static uint8_t read_counter(struct pit_channel *c, uint64_t tick)
{
    if (c->status_latched) {
        c->status_latched = false;
        return c->status;
    }
    uint16_t v;
    bool high;
    if (c->count_latched) {
        v = c->latched;
        if (c->rw == 3 && !c->latch_high_next) {
            c->latch_high_next = true;
            high = false;
        } else {
            high = c->rw == 2 || c->rw == 3;
            c->count_latched = false;
        }
    } else {
        v = encode(c, value_at(c, tick));
        if (c->rw == 3) {
            high = c->read_high_next;
            c->read_high_next = !high;
        } else {
            high = c->rw == 2;
        }
    }
    return (uint8_t)(high ? v >> 8 : v);
}

static uint8_t read_port(struct pit *pit, unsigned port, uint64_t tick)
{
    if (port >= 3)
        return 0xff; /* the control word register cannot be read */
    resolve(&pit->ch[port], tick);
    return read_counter(&pit->ch[port], tick);
}

static void write_port(struct pit *pit, unsigned port, uint8_t value, uint64_t now)
{
    /* Channel 0's old program raises what it owes before it changes. */
    if (port == 0 || (port == 3 && (value >> 6) == 0))
        pit_advance(pit, now);
    uint64_t tick = tick_now(pit, now);
    for (unsigned i = 0; i < 3; i++)
        resolve(&pit->ch[i], tick);
    if (port == 3)
        write_control(pit, value, tick);
    else if (port < 3)
        write_counter(&pit->ch[port], value, tick);
    /* edges of channel 0 before now are settled: a new program starts from here */
    if (port == 0 || (port == 3 && (value >> 6) == 0))
        pit->advanced_tick = tick;
}

/* Wider accesses are split into byte cycles, lowest address first. */
static uint64_t pit_read(void *dev, uint64_t offset, unsigned size, uint64_t now)
{
    struct pit *pit = dev;
    uint64_t tick = tick_now(pit, now), value = 0;
    for (unsigned i = 0; i < size && i < 8; i++)
        value |= (uint64_t)read_port(pit, (unsigned)(offset + i), tick) << (8 * i);
    return value;
}

static void pit_write(void *dev, uint64_t offset, unsigned size, uint64_t value, uint64_t now)
{
    for (unsigned i = 0; i < size && i < 8; i++)
        write_port(dev, (unsigned)(offset + i), (uint8_t)(value >> (8 * i)), now);
}

static uint8_t port61_read_byte(struct pit *pit, uint64_t tick)
{
    struct pit_channel *c2 = &pit->ch[2];
    resolve(c2, tick);
    return (uint8_t)((c2->gate ? P61_GATE2 : 0) | (pit->speaker ? P61_SPEAKER : 0) |
                     pit->nmi_bits | ((tick / REFRESH_TICKS) & 1 ? P61_REFRESH : 0) |
                     (out_at(c2, tick) ? P61_OUT2 : 0));
}

static uint64_t port61_read(void *dev, uint64_t offset, unsigned size, uint64_t now)
{
    struct pit *pit = dev;
    uint64_t tick = tick_now(pit, now), value = 0;
    (void)offset;
    for (unsigned i = 0; i < size && i < 8; i++)
        value |= (uint64_t)port61_read_byte(pit, tick) << (8 * i);
    return value;
}

static void port61_write(void *dev, uint64_t offset, unsigned size, uint64_t value, uint64_t now)
{
    struct pit *pit = dev;
    uint64_t tick = tick_now(pit, now);
    (void)offset, (void)size;
    resolve(&pit->ch[2], tick);
    pit->speaker = value & P61_SPEAKER;
    pit->nmi_bits = value & P61_NMI_BITS;
    set_gate(&pit->ch[2], value & P61_GATE2, tick);
}

const struct dev_ops pit_ops = { pit_read, pit_write };
const struct dev_ops pit_port61_ops = { port61_read, port61_write };

void pit_init(struct pit *pit, uint64_t tsc_hz, uint64_t now, const struct irq_line *irq0)
{
    memset(pit, 0, sizeof(*pit));
    if (tsc_hz < PIT_HZ)
        tsc_hz = PIT_HZ;
    if (tsc_hz >= TSC_HZ_MAX)
        tsc_hz = TSC_HZ_MAX - 1;
    pit->tsc_hz = tsc_hz;
    pit->base_tsc = now;
    if (irq0)
        pit->irq0 = *irq0;
    for (unsigned i = 0; i < 3; i++) {
        pit->ch[i].rw = 3;
        pit->ch[i].gate = i != 2; /* channels 0 and 1 have their gates tied high */
    }
}

void pit_regions(struct pit *pit, struct dev_region regions[PIT_REGIONS])
{
    regions[0] = (struct dev_region){ DEV_SPACE_PORT, PIT_BASE, 4, &pit_ops, pit, "8254 PIT" };
    regions[1] = (struct dev_region){ DEV_SPACE_PORT, PIT_PORT61, 1, &pit_port61_ops, pit,
                                      "port 0x61" };
}
