/* The 8254 PIT and port 0x61: input = two bytes choosing the TSC frequency, then operations of
 * three bytes. The first byte's bits 2:0 choose the operation (0-1 write, 2 read of port
 * 0x40 + bits 4:3; 3 write, 4 read of port 0x61; 5 time passes: value << (bits 7:3); 6
 * pit_advance; 7 advance exactly to the announced deadline), the second is the value, the
 * third the access width. Checks the channel state stays in its documented ranges, reads fit
 * their width, IRQ 0 is only ever pulsed (one pulse at most per advance), deadlines after an
 * advance lie in the future, and reaching a deadline does raise the edge it announced.
 * FUZZ-SOURCES: kernel/dev/pit.c */
#include <stdint.h>
#include <stdlib.h>

#include <tessera/pit.h>

static unsigned raised;
static bool line;

static void irq_set(void *router, unsigned gsi, bool level)
{
    (void)router;
    if (gsi != 0 || level == line)
        abort(); /* pulses alternate: true then false */
    line = level;
    if (level)
        raised++;
}

static void check(const struct pit *pit)
{
    for (unsigned i = 0; i < 3; i++) {
        const struct pit_channel *c = &pit->ch[i];
        uint32_t m = c->bcd ? 10000 : 65536;
        if (c->mode > 5 || c->rw < 1 || c->rw > 3)
            abort();
        if (c->armed && (c->period < 1 || c->period > m))
            abort();
        if (c->reload_pending && (c->reload_period < 1 || c->reload_period > m))
            abort();
        if (c->paused && (c->mode == 1 || c->mode == 5))
            abort();
        if (i != 2 && !c->gate)
            abort();
    }
    if (line)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint64_t rates[4] = { 5000000, 3000000000ull, PIT_HZ, 1ull << 42 };
    struct pit pit;
    struct dev_region regions[PIT_REGIONS];
    struct irq_line irq0 = { irq_set, NULL, 0 };

    if (size < 2)
        return 0;
    uint64_t now = (uint64_t)data[1] << 20;
    raised = 0;
    line = false;
    pit_init(&pit, rates[data[0] & 3], now, &irq0);
    pit_regions(&pit, regions);
    for (size_t i = 2; i + 2 < size; i += 3) {
        unsigned op = data[i] & 7, sel = (data[i] >> 3) & 3, shift = data[i] >> 3;
        uint8_t value = data[i + 1];
        unsigned width = 1u << (data[i + 2] % 3);
        unsigned before = raised;
        if (sel + width > 4)
            width = 1;
        switch (op) {
        case 0:
        case 1:
            regions[0].ops->write(&pit, sel, width, value * 0x01010101u, now);
            if (raised - before > 2)
                abort(); /* what the old program owed, and a control word's edge */
            break;
        case 2: {
            uint64_t v = regions[0].ops->read(&pit, sel, width, now);
            if (v >> (8 * width))
                abort();
            break;
        }
        case 3:
            regions[1].ops->write(&pit, 0, 1, value, now);
            if (raised != before)
                abort(); /* channel 2 has no interrupt */
            break;
        case 4:
            if (regions[1].ops->read(&pit, 0, 1, now) & 0xc0)
                abort();
            break;
        case 5:
            if (data[i + 2] & 0x80)
                now -= (uint64_t)value << (shift % 24); /* time going backwards is survived */
            else if (now + ((uint64_t)value << shift) >= now)
                now += (uint64_t)value << shift;
            break;
        case 6:
            pit_advance(&pit, now);
            if (raised - before > 1)
                abort();
            break;
        default: {
            uint64_t d = pit_next_deadline(&pit);
            bool reach = d != DEV_NO_DEADLINE && d > now && d - now <= (1ull << 40);
            if (reach)
                now = d;
            pit_advance(&pit, now);
            if (reach ? raised - before != 1 : raised - before > 1)
                abort(); /* the announced edge happened, once */
            break;
        }
        }
        if (op >= 6) {
            uint64_t d = pit_next_deadline(&pit);
            if (d != DEV_NO_DEADLINE && d <= now)
                abort();
        }
        check(&pit);
    }
    return 0;
}
