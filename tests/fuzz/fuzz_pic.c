/* The 8259A pair and ELCR: input = a sequence of operations, three bytes each. The first byte's
 * bits 2:0 choose the operation (0-1 port write, 2 port read, 3 line change, 4 INTA, 5 line
 * pulse), bits 7:3 the port (one of the six) or the IRQ; the second is the value, the third the
 * access size (1, 2 or 4, kept inside the two-port region). Checks after each operation that the
 * chips stay within their documented state (init step, priority, ELCR bits), that the INTR
 * reported through the callback matches pic_has_interrupt, and that INTA answers a vector of
 * one of the two chips.
 * FUZZ-SOURCES: kernel/dev/pic.c */
#include <stdint.h>
#include <stdlib.h>

#include <tessera/pic.h>

static bool reported;

static void on_intr(void *ctx, bool level)
{
    (void)ctx;
    if (level == reported)
        abort(); /* a "change" that is none */
    reported = level;
}

static void check_chip(const struct pic_chip *c)
{
    if (c->init_step != 0 && (c->init_step < 2 || c->init_step > 4))
        abort();
    if (c->lowest_prio > 7 || (c->vector_base & 7) || (c->icw4 & ~0x1f))
        abort();
    if ((c->elcr & ~c->elcr_mask) || (c->irr & c->elcr))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint16_t ports[6] = { 0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1 };
    struct pic pic;
    struct dev_region regions[PIC_REGIONS];

    reported = false;
    pic_init(&pic, on_intr, NULL);
    pic_regions(&pic, regions);
    for (size_t i = 0; i + 2 < size; i += 3) {
        unsigned op = data[i] & 7, sel = data[i] >> 3;
        uint8_t value = data[i + 1];
        unsigned port = ports[sel % 6];
        const struct dev_region *r = &regions[port < 0x80 ? 0 : port < 0x100 ? 1 : 2];
        unsigned offset = port & 1;
        unsigned width = 1u << (data[i + 2] % 3);
        if (offset + width > r->length)
            width = 1;
        switch (op) {
        case 0:
        case 1:
            r->ops->write(r->dev, offset, width, value * 0x01010101u, i);
            break;
        case 2: {
            uint64_t v = r->ops->read(r->dev, offset, width, i);
            if (width < 8 && (v >> (8 * width)))
                abort();
            break;
        }
        case 3:
            pic_set_irq(&pic, sel, value & 1);
            break;
        case 4: {
            bool had = pic_has_interrupt(&pic);
            int vector = pic_acknowledge(&pic);
            int m = pic.chip[0].vector_base, s = pic.chip[1].vector_base;
            if (!(vector >= m && vector < m + 8) && !(vector >= s && vector < s + 8))
                abort();
            if (!had && vector != m + 7)
                abort(); /* nothing requested: the master's default IR7 */
            break;
        }
        default:
            pic_set_irq(&pic, sel, true);
            pic_set_irq(&pic, sel, false);
            break;
        }
        check_chip(&pic.chip[0]);
        check_chip(&pic.chip[1]);
        if (reported != pic_has_interrupt(&pic) || pic.intr != reported)
            abort();
    }
    return 0;
}
