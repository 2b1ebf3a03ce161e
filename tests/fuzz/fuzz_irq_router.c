/* The interrupt path wired as the run loop will wire it: device lines -> router -> (fake 8259,
 * I/O APIC) -> local APIC -> injection and EOI -> I/O APIC, with the guest reprogramming both
 * APICs at random between. Input = operations (line changes and pulses, I/O APIC register
 * writes, local APIC register writes, injections, EOIs, time). Checks after each that the PIC
 * saw exactly the ISA lines' levels, the I/O APIC wires follow the lines (ISO 0 -> 2, active-low
 * GSIs inverted, IRQ 2 nowhere), ISR nests one vector per class, the pending vector agrees with
 * IRR/ISR/TPR, and that an EOI never recurses without bound (the EOI -> I/O APIC -> accept loop).
 * FUZZ-SOURCES: kernel/dev/irq_router.c kernel/dev/ioapic.c kernel/dev/vlapic.c */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <tessera/ioapic.h>
#include <tessera/irq_router.h>
#include <tessera/vlapic.h>

#include "fuzz_input.h"

static bool pic_level[16];
static unsigned depth, max_depth;

static void pic_set(void *pic, unsigned irq, bool level)
{
    (void)pic;
    if (irq >= 16 || irq == 2)
        abort();
    pic_level[irq] = level;
}

static bool to_lapic(void *ctx, uint8_t vector, bool level)
{
    depth++;
    if (depth > max_depth)
        max_depth = depth;
    bool ok = vlapic_accept(ctx, vector, level);
    depth--;
    return ok;
}

static bool logical(void *ctx, uint8_t dest)
{
    return vlapic_match_destination(ctx, dest, true);
}

static void to_ioapic(void *ctx, uint8_t vector)
{
    depth++;
    if (depth > 2) /* EOI -> ioapic_eoi -> deliver -> accept: never deeper */
        abort();
    ioapic_eoi(ctx, vector);
    depth--;
}

static int highest(const uint32_t *v)
{
    for (int i = 255; i >= 0; i--)
        if ((v[i / 32] >> (i % 32)) & 1)
            return i;
    return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = { data, size, 0 };
    static struct vlapic apic;
    static struct ioapic io;
    static struct irq_router router;
    bool line[IRQ_ROUTER_GSIS] = { false };
    uint32_t active_low = (uint32_t)take(&in, 3) & 0xfffffa; /* not pin 0 (no line), 2 (PIT) */
    struct vlapic_config lc = { .apic_id = 0, .bsp = true, .tsc_hz = 5000000,
                                .eoi_level = to_ioapic, .ctx = &io };
    struct ioapic_config ic = { .deliver = to_lapic, .match_logical = logical, .ctx = &apic };
    if (vlapic_init(&apic, &lc))
        abort();
    ioapic_init(&io, &ic);
    memset(pic_level, 0, sizeof(pic_level));
    depth = max_depth = 0;
    irq_router_init(&router, &io, pic_set, NULL, active_low);
    uint64_t now = 0;
    for (unsigned steps = 0; in.pos < in.size && steps < 4096; steps++) {
        uint8_t op = (uint8_t)take(&in, 1);
        switch (op % 8) {
        case 0: {
            unsigned gsi = (unsigned)take(&in, 1) % 32;
            irq_router_set(&router, gsi, op & 0x80);
            if (gsi < IRQ_ROUTER_GSIS && gsi != 2)
                line[gsi] = op & 0x80;
            break;
        }
        case 1: {
            unsigned gsi = (unsigned)take(&in, 1) % 32;
            irq_router_set(&router, gsi, true);
            irq_router_set(&router, gsi, false);
            if (gsi < IRQ_ROUTER_GSIS && gsi != 2)
                line[gsi] = false;
            break;
        }
        case 2: { /* I/O APIC entry or register */
            uint32_t index = (uint32_t)take(&in, 1);
            if (!(op & 0x80))
                index = 0x10 + index % 48;
            ioapic_write_register(&io, index, (uint32_t)take(&in, 4));
            break;
        }
        case 3: { /* local APIC register (MMIO, aligned 4 bytes) */
            uint64_t off = (take(&in, 1) & 0x3f) << 4;
            vlapic_mmio_ops.write(&apic, off, 4, take(&in, 4), now);
            break;
        }
        case 4: { /* the vCPU takes what is pending */
            int v = vlapic_pending_vector(&apic);
            if (v >= 0 && !vlapic_acknowledge(&apic, (uint8_t)v))
                abort();
            break;
        }
        case 5:
            vlapic_mmio_ops.write(&apic, VLAPIC_EOI, 4, 0, now);
            break;
        case 6:
            now += take(&in, 2) << (op >> 5);
            break;
        default: /* x2APIC and back through disabled, or a TSC deadline */
            if (op & 0x80)
                vlapic_msr_write(&apic, VLAPIC_MSR_APIC_BASE, (take(&in, 2) & 0xd00) | 0xfee00000u,
                                 now);
            else
                vlapic_msr_write(&apic, 0x80b, 0, now);
            break;
        }
        vlapic_advance(&apic, now);
        if (depth != 0 || max_depth > 2)
            abort();
        for (unsigned irq = 0; irq < 16; irq++)
            if (irq != 2 && pic_level[irq] != line[irq])
                abort();
        for (unsigned gsi = 0; gsi < IRQ_ROUTER_GSIS; gsi++) {
            if (gsi == 2)
                continue;
            unsigned pin = gsi == 0 ? 2 : gsi;
            bool wire = (io.wire >> pin) & 1;
            if (wire != (line[gsi] != ((active_low >> pin) & 1)))
                abort();
        }
        if (io.wire & 1) /* pin 0: nothing drives it */
            abort();
        for (unsigned c = 0; c < 16; c++) {
            uint32_t bits = (apic.isr[c / 2] >> ((c % 2) * 16)) & 0xffff;
            if (bits & (bits - 1))
                abort();
        }
        int expect = -1;
        if (vlapic_hw_enabled(&apic)) {
            int irrv = highest(apic.irr), isrv = highest(apic.isr);
            unsigned cls = apic.tpr & 0xf0;
            if (isrv >= 0 && ((unsigned)isrv & 0xf0) > cls)
                cls = (unsigned)isrv & 0xf0;
            if (irrv >= 0 && ((unsigned)irrv & 0xf0) > cls)
                expect = irrv;
        }
        if (vlapic_pending_vector(&apic) != expect)
            abort();
    }
    return 0;
}
