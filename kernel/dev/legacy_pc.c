/* A VM's legacy PC interrupt path (see legacy_pc.h): PIC pair, PIT on IRQ 0, 16550 on IRQ 4. */
#include <tessera/legacy_pc.h>
#include <tessera/string.h>

void legacy_pc_init(struct legacy_pc *pc, uint64_t tsc_hz, uint64_t now, struct vuart *uart)
{
    memset(pc, 0, sizeof(*pc));
    pic_init(&pc->pic, NULL, NULL);
    irq_router_init(&pc->router, NULL, pic_irq_line_set, &pc->pic, 0);
    struct irq_line irq0 = irq_router_line(&pc->router, LEGACY_PC_TIMER_IRQ);
    pit_init(&pc->pit, tsc_hz, now, &irq0);
    pc->uart = uart;
    /* a held THR interrupt is looked at again after 1 ms: the console pump drains a full
     * 4 KiB queue in a few ms at 115200 baud, so this costs little and bounds the delay */
    pc->uart_poll = tsc_hz / 1000 ? tsc_hz / 1000 : 1;
}

int legacy_pc_attach(struct legacy_pc *pc, struct dev_bus *bus)
{
    struct dev_region pic_r[PIC_REGIONS], pit_r[PIT_REGIONS];
    pic_regions(&pc->pic, pic_r);
    pit_regions(&pc->pit, pit_r);
    for (unsigned i = 0; i < PIC_REGIONS; i++) {
        int err = dev_bus_add(bus, &pic_r[i]);
        if (err)
            return err;
    }
    for (unsigned i = 0; i < PIT_REGIONS; i++) {
        int err = dev_bus_add(bus, &pit_r[i]);
        if (err)
            return err;
    }
    return 0;
}

void legacy_pc_advance(struct legacy_pc *pc, uint64_t now)
{
    pit_advance(&pc->pit, now);
    bool level = pc->uart && vuart_irq_pending(pc->uart);
    if (level != pc->uart_level) {
        pc->uart_level = level;
        irq_router_set(&pc->router, LEGACY_PC_UART_IRQ, level);
    }
}

uint64_t legacy_pc_next_deadline(const struct legacy_pc *pc, uint64_t now)
{
    uint64_t next = pit_next_deadline(&pc->pit);
    if (pc->uart && vuart_thr_interrupt_held(pc->uart)) {
        uint64_t look = now + pc->uart_poll < now ? DEV_NO_DEADLINE : now + pc->uart_poll;
        if (look < next)
            next = look;
    }
    return next;
}

bool legacy_pc_interrupt_pending(const struct legacy_pc *pc)
{
    return pic_has_interrupt(&pc->pic);
}

struct legacy_pc_entry legacy_pc_before_entry(struct legacy_pc *pc, bool interruptible)
{
    struct legacy_pc_entry e = { -1, false };
    if (!pic_has_interrupt(&pc->pic))
        return e; /* nothing pending: no injection and no window exit */
    if (interruptible)
        e.vector = pic_acknowledge(&pc->pic);
    else
        e.want_window = true;
    return e;
}
