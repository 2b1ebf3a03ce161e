/* Two cascaded Intel 8259A programmable interrupt controllers with the PIIX/ICH ELCR. Register
 * behaviour follows the 8259A data sheet (Intel 231468): ICW1-ICW4, OCW1-OCW3, fully nested
 * priority with rotation, poll, special mask and special fully nested modes, automatic EOI, and
 * the "default IR7" answered when a request goes away before INTA. ELCR: Intel 82371AB PIIX4
 * data sheet, 4.1.11 (bits for IRQ 0, 1, 2, 8 and 13 are reserved, edge only). */
#include <tessera/pic.h>
#include <tessera/string.h>

#define ICW1 0x10 /* command-port write with bit 4 set */
#define ICW1_IC4 0x01
#define ICW1_SNGL 0x02
#define OCW3_SELECT 0x08
#define ICW4_AEOI 0x02
#define ICW4_SFNM 0x10

/* Priority rank of IR ir: 0 is the highest, 7 the lowest (after lowest_prio, in rotation). */
static unsigned rank(const struct pic_chip *c, unsigned ir)
{
    return (ir - c->lowest_prio - 1) & 7;
}

/* The IR in bits with the highest priority, or -1. */
static int highest(const struct pic_chip *c, uint8_t bits)
{
    for (unsigned r = 0; r < 8; r++) {
        unsigned ir = (c->lowest_prio + 1 + r) & 7;
        if (bits & (1u << ir))
            return (int)ir;
    }
    return -1;
}

static uint8_t requests(const struct pic_chip *c)
{
    return (uint8_t)((c->irr & ~c->elcr) | (c->lines & c->elcr));
}

static bool cascading(const struct pic *pic)
{
    const struct pic_chip *m = &pic->chip[0];
    return !m->single && (m->icw3 & (1u << PIC_CASCADE_IR));
}

/* The request this chip would raise INT for, or -1: the highest unmasked request whose priority
 * is above everything in service. In special mask mode masked levels in service do not block
 * (8259A "Special Mask Mode"); in special fully nested mode the master's cascade input in
 * service does not block further requests from the slave ("Special Fully Nested Mode"). */
static int pending(const struct pic *pic, const struct pic_chip *c)
{
    int req = highest(c, requests(c) & ~c->imr);
    if (req < 0)
        return -1;
    uint8_t blocking = c->isr;
    if (c->special_mask)
        blocking &= ~c->imr;
    if (c == &pic->chip[0] && (c->icw4 & ICW4_SFNM) && cascading(pic))
        blocking &= ~(1u << PIC_CASCADE_IR);
    int in_service = highest(c, blocking);
    if (in_service >= 0 && rank(c, (unsigned)in_service) <= rank(c, (unsigned)req))
        return -1;
    return req;
}

/* Drives one input of a chip, latching an edge request on a rising edge. */
static void set_line(struct pic_chip *c, unsigned ir, bool level)
{
    uint8_t bit = (uint8_t)(1u << ir);
    if (level) {
        if (!(c->lines & bit) && !(c->elcr & bit))
            c->irr |= bit;
        c->lines |= bit;
    } else {
        c->lines &= (uint8_t)~bit;
    }
}

/* Propagates the slave's INT to master IR2, then reports a change of INTR. */
static void update(struct pic *pic)
{
    set_line(&pic->chip[0], PIC_CASCADE_IR, pending(pic, &pic->chip[1]) >= 0);
    bool intr = pending(pic, &pic->chip[0]) >= 0;
    if (intr != pic->intr) {
        pic->intr = intr;
        if (pic->intr_changed)
            pic->intr_changed(pic->ctx, intr);
    }
}

/* IRR -> ISR for ir (no ISR bit in automatic-EOI mode, which may rotate priorities). */
static void accept(struct pic_chip *c, unsigned ir)
{
    uint8_t bit = (uint8_t)(1u << ir);
    c->irr &= (uint8_t)~bit;
    if (c->icw4 & ICW4_AEOI) {
        if (c->rotate_on_aeoi)
            c->lowest_prio = (uint8_t)ir;
    } else {
        c->isr |= bit;
    }
}

static void reset_chip(struct pic_chip *c, uint8_t elcr_mask)
{
    memset(c, 0, sizeof(*c));
    c->elcr_mask = elcr_mask;
    c->lowest_prio = 7;
}

void pic_init(struct pic *pic, void (*intr_changed)(void *ctx, bool level), void *ctx)
{
    memset(pic, 0, sizeof(*pic));
    reset_chip(&pic->chip[0], 0xf8);
    reset_chip(&pic->chip[1], 0xde);
    pic->intr_changed = intr_changed;
    pic->ctx = ctx;
}

void pic_set_irq(struct pic *pic, unsigned irq, bool level)
{
    if (irq > 15 || irq == PIC_CASCADE_IR)
        return;
    set_line(&pic->chip[irq >> 3], irq & 7, level);
    update(pic);
}

void pic_irq_line_set(void *pic, unsigned gsi, bool level)
{
    pic_set_irq(pic, gsi, level);
}

bool pic_has_interrupt(const struct pic *pic)
{
    return pending(pic, &pic->chip[0]) >= 0;
}

int pic_acknowledge(struct pic *pic)
{
    struct pic_chip *m = &pic->chip[0], *s = &pic->chip[1];
    int ir = pending(pic, m);
    int vector;
    if (ir < 0) {
        vector = m->vector_base + 7; /* the request went away: default IR7, no ISR bit */
    } else {
        accept(m, (unsigned)ir);
        if (ir == PIC_CASCADE_IR && cascading(pic)) {
            int sir = pending(pic, s);
            if (sir < 0) {
                vector = s->vector_base + 7; /* master IR2 stays in service */
            } else {
                accept(s, (unsigned)sir);
                vector = s->vector_base + sir;
            }
        } else {
            vector = m->vector_base + ir;
        }
    }
    update(pic);
    return vector;
}

/* OCW2: end of interrupt and priority rotation, all eight commands of the data sheet. */
static void write_ocw2(struct pic_chip *c, uint8_t value)
{
    unsigned level = value & 7;
    int ir;
    switch (value >> 5) {
    case 0: /* rotate in automatic EOI mode: clear */
        c->rotate_on_aeoi = false;
        break;
    case 4: /* rotate in automatic EOI mode: set */
        c->rotate_on_aeoi = true;
        break;
    case 1: /* non-specific EOI */
    case 5: /* rotate on non-specific EOI */
        ir = highest(c, c->isr);
        if (ir >= 0) {
            c->isr &= (uint8_t)~(1u << ir);
            if (value & 0x80)
                c->lowest_prio = (uint8_t)ir;
        }
        break;
    case 3: /* specific EOI */
        c->isr &= (uint8_t)~(1u << level);
        break;
    case 7: /* rotate on specific EOI */
        c->isr &= (uint8_t)~(1u << level);
        c->lowest_prio = (uint8_t)level;
        break;
    case 6: /* set priority */
        c->lowest_prio = (uint8_t)level;
        break;
    default: /* 2: no operation */
        break;
    }
}

static void write_command(struct pic_chip *c, uint8_t value)
{
    if (value & ICW1) {
        /* Restart initialisation. The edge detectors are reset (IRR cleared: a line already
         * high must go low and high again), the mask and ISR are cleared, IR7 gets the lowest
         * priority, special mask mode is left and the status read selects IRR. LTIM (bit 3)
         * is ignored: on PIIX the ELCR replaces it. */
        c->irr = 0;
        c->isr = 0;
        c->imr = 0;
        c->lowest_prio = 7;
        c->special_mask = false;
        c->read_isr = false;
        c->poll = false;
        c->rotate_on_aeoi = false;
        c->single = value & ICW1_SNGL;
        c->need_icw4 = value & ICW1_IC4;
        if (!c->need_icw4)
            c->icw4 = 0;
        c->init_step = 2;
    } else if (value & OCW3_SELECT) {
        if (value & 0x40)
            c->special_mask = value & 0x20;
        if (value & 0x04)
            c->poll = true;
        if (value & 0x02)
            c->read_isr = value & 0x01;
    } else {
        write_ocw2(c, value);
    }
}

static void write_data(struct pic_chip *c, uint8_t value)
{
    switch (c->init_step) {
    case 2:
        c->vector_base = value & 0xf8;
        c->init_step = c->single ? (c->need_icw4 ? 4 : 0) : 3;
        break;
    case 3:
        c->icw3 = value;
        c->init_step = c->need_icw4 ? 4 : 0;
        break;
    case 4:
        c->icw4 = value & 0x1f;
        c->init_step = 0;
        break;
    default:
        c->imr = value; /* OCW1 */
        break;
    }
}

static uint8_t read_port(struct pic *pic, struct pic_chip *c, unsigned port)
{
    if (port & 1)
        return c->imr;
    if (c->poll) {
        /* A poll read is an acknowledge on this chip alone: bit 7 = request, bits 2:0 = IR. */
        c->poll = false;
        int ir = pending(pic, c);
        if (ir < 0)
            return 0;
        accept(c, (unsigned)ir);
        update(pic);
        return (uint8_t)(0x80 | ir);
    }
    return c->read_isr ? c->isr : requests(c);
}

static void write_port(struct pic *pic, struct pic_chip *c, unsigned port, uint8_t value)
{
    if (port & 1)
        write_data(c, value);
    else
        write_command(c, value);
    update(pic);
}

/* Accesses wider than a byte are split into byte cycles, lowest address first, as the ISA
 * bridge does for an 8-bit device. */
static uint64_t chip_read(struct pic *pic, unsigned which, uint64_t offset, unsigned size)
{
    uint64_t value = 0;
    for (unsigned i = 0; i < size && i < 8; i++)
        value |= (uint64_t)read_port(pic, &pic->chip[which], (unsigned)(offset + i)) << (8 * i);
    return value;
}

static void chip_write(struct pic *pic, unsigned which, uint64_t offset, unsigned size,
                       uint64_t value)
{
    for (unsigned i = 0; i < size && i < 8; i++)
        write_port(pic, &pic->chip[which], (unsigned)(offset + i), (uint8_t)(value >> (8 * i)));
}

static uint64_t master_read(void *dev, uint64_t offset, unsigned size, uint64_t now)
{
    (void)now;
    return chip_read(dev, 0, offset, size);
}

static void master_write(void *dev, uint64_t offset, unsigned size, uint64_t value, uint64_t now)
{
    (void)now;
    chip_write(dev, 0, offset, size, value);
}

static uint64_t slave_read(void *dev, uint64_t offset, unsigned size, uint64_t now)
{
    (void)now;
    return chip_read(dev, 1, offset, size);
}

static void slave_write(void *dev, uint64_t offset, unsigned size, uint64_t value, uint64_t now)
{
    (void)now;
    chip_write(dev, 1, offset, size, value);
}

static uint64_t elcr_read(void *dev, uint64_t offset, unsigned size, uint64_t now)
{
    struct pic *pic = dev;
    uint64_t value = 0;
    (void)now;
    for (unsigned i = 0; i < size && i < 8; i++)
        if (offset + i < 2)
            value |= (uint64_t)pic->chip[offset + i].elcr << (8 * i);
    return value;
}

static void elcr_write(void *dev, uint64_t offset, unsigned size, uint64_t value, uint64_t now)
{
    struct pic *pic = dev;
    (void)now;
    for (unsigned i = 0; i < size && i < 8; i++) {
        if (offset + i >= 2)
            continue;
        struct pic_chip *c = &pic->chip[offset + i];
        c->elcr = (uint8_t)(value >> (8 * i)) & c->elcr_mask;
        c->irr &= (uint8_t)~c->elcr; /* level inputs are read from the lines */
    }
    update(pic);
}

const struct dev_ops pic_master_ops = { master_read, master_write };
const struct dev_ops pic_slave_ops = { slave_read, slave_write };
const struct dev_ops pic_elcr_ops = { elcr_read, elcr_write };

void pic_regions(struct pic *pic, struct dev_region regions[PIC_REGIONS])
{
    regions[0] = (struct dev_region){ DEV_SPACE_PORT, PIC_MASTER_BASE, 2, &pic_master_ops, pic,
                                      "8259A master" };
    regions[1] = (struct dev_region){ DEV_SPACE_PORT, PIC_SLAVE_BASE, 2, &pic_slave_ops, pic,
                                      "8259A slave" };
    regions[2] = (struct dev_region){ DEV_SPACE_PORT, PIC_ELCR_BASE, 2, &pic_elcr_ops, pic,
                                      "ELCR" };
}
