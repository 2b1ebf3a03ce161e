/* A VM's PC interrupt platform (see legacy_pc.h): PIC pair, PIT on IRQ 0, 16550 on IRQ 4, the
 * I/O APIC and the local APIC. */
#include <tessera/errno.h>
#include <tessera/legacy_pc.h>
#include <tessera/string.h>

/* The I/O APIC's fixed deliveries go to the one local APIC (82093AA: the APIC bus message). */
static bool deliver_to_apic(void *ctx, uint8_t vector, bool level_triggered)
{
    struct legacy_pc *pc = ctx;
    return vlapic_accept(&pc->apic, vector, level_triggered);
}

static bool match_logical(void *ctx, uint8_t dest)
{
    struct legacy_pc *pc = ctx;
    return vlapic_match_destination(&pc->apic, dest, true);
}

/* EOI of a level-triggered vector: the EOI message to the I/O APIC clears its Remote IRR. */
static void eoi_level(void *ctx, uint8_t vector)
{
    struct legacy_pc *pc = ctx;
    ioapic_eoi(&pc->ioapic, vector);
}

int legacy_pc_init(struct legacy_pc *pc, uint64_t tsc_hz, uint64_t now, struct vuart *uart)
{
    memset(pc, 0, sizeof(*pc));
    const struct vlapic_config apic = { LEGACY_PC_APIC_ID, true, tsc_hz, eoi_level, pc };
    int err = vlapic_init(&pc->apic, &apic);
    if (err)
        return err;
    const struct ioapic_config io = { LEGACY_PC_IOAPIC_ID, LEGACY_PC_APIC_ID, deliver_to_apic,
                                      match_logical, pc };
    ioapic_init(&pc->ioapic, &io);
    pic_init(&pc->pic, NULL, NULL);
    irq_router_init(&pc->router, &pc->ioapic, pic_irq_line_set, &pc->pic, 0);
    struct irq_line irq0 = irq_router_line(&pc->router, LEGACY_PC_TIMER_IRQ);
    pit_init(&pc->pit, tsc_hz, now, &irq0);
    pc->uart = uart;
    /* a held THR interrupt is looked at again after 1 ms: the console pump drains a full
     * 4 KiB queue in a few ms at 115200 baud, so this costs little and bounds the delay */
    pc->uart_poll = tsc_hz / 1000 ? tsc_hz / 1000 : 1;
    return 0;
}

int legacy_pc_attach(struct legacy_pc *pc, struct dev_bus *bus)
{
    struct dev_region r[PIC_REGIONS + PIT_REGIONS + 2];
    unsigned n = 0;
    pic_regions(&pc->pic, r);
    n += PIC_REGIONS;
    pit_regions(&pc->pit, r + n);
    n += PIT_REGIONS;
    r[n++] = (struct dev_region){ DEV_SPACE_MMIO, VLAPIC_MMIO_BASE, VLAPIC_MMIO_SIZE,
                                  &vlapic_mmio_ops, &pc->apic, "local APIC" };
    r[n++] = (struct dev_region){ DEV_SPACE_MMIO, IOAPIC_MMIO_BASE, IOAPIC_MMIO_SIZE,
                                  &ioapic_mmio_ops, &pc->ioapic, "I/O APIC" };
    for (unsigned i = 0; i < n; i++) {
        int err = dev_bus_add(bus, &r[i]);
        if (err)
            return err;
    }
    return 0;
}

void legacy_pc_advance(struct legacy_pc *pc, uint64_t now)
{
    pit_advance(&pc->pit, now);
    vlapic_advance(&pc->apic, now);
    bool level = pc->uart && vuart_irq_pending(pc->uart);
    if (level != pc->uart_level) {
        pc->uart_level = level;
        irq_router_set(&pc->router, LEGACY_PC_UART_IRQ, level);
    }
}

static uint64_t earlier(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

uint64_t legacy_pc_next_deadline(const struct legacy_pc *pc, uint64_t now)
{
    uint64_t next = earlier(pit_next_deadline(&pc->pit), vlapic_next_deadline(&pc->apic));
    if (pc->uart && vuart_thr_interrupt_held(pc->uart)) {
        uint64_t look = now + pc->uart_poll < now ? DEV_NO_DEADLINE : now + pc->uart_poll;
        next = earlier(next, look);
    }
    return next;
}

static bool extint_pending(const struct legacy_pc *pc)
{
    return vlapic_extint_enabled(&pc->apic) && pic_has_interrupt(&pc->pic);
}

bool legacy_pc_interrupt_pending(const struct legacy_pc *pc)
{
    return extint_pending(pc) || vlapic_pending_vector(&pc->apic) >= 0;
}

struct legacy_pc_entry legacy_pc_before_entry(struct legacy_pc *pc, bool interruptible)
{
    struct legacy_pc_entry e = { -1, false };
    if (extint_pending(pc)) {
        if (interruptible)
            e.vector = pic_acknowledge(&pc->pic);
        else
            e.want_window = true;
        return e;
    }
    int vector = vlapic_pending_vector(&pc->apic);
    if (vector < 0)
        return e; /* nothing pending: no injection and no window exit */
    if (interruptible && vlapic_acknowledge(&pc->apic, (uint8_t)vector))
        e.vector = vector;
    else
        e.want_window = true;
    return e;
}

int legacy_pc_msr_read(struct legacy_pc *pc, uint32_t msr, uint64_t *value, uint64_t now)
{
    if (msr >= VLAPIC_MSR_X2APIC_FIRST && msr <= VLAPIC_MSR_X2APIC_LAST)
        return -EINVAL;
    return vlapic_msr_read(&pc->apic, msr, value, now);
}

int legacy_pc_msr_write(struct legacy_pc *pc, uint32_t msr, uint64_t value, uint64_t now)
{
    if ((msr >= VLAPIC_MSR_X2APIC_FIRST && msr <= VLAPIC_MSR_X2APIC_LAST) ||
        (msr == VLAPIC_MSR_APIC_BASE && (value & VLAPIC_BASE_EXTD)))
        return -EINVAL; /* x2APIC is not offered (CPUID.1:ECX[21] clear): #GP, SDM 11.12.1 */
    return vlapic_msr_write(&pc->apic, msr, value, now);
}
