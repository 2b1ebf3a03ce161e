/* The I/O APIC model: input = a sequence of operations (IOREGSEL/IOWIN accesses of any size and
 * offset, direct register writes, pin level changes and pulses, EOI broadcasts). Checks that
 * every delivery comes from an unmasked fixed/lowest-priority entry with that vector and trigger
 * whose line is asserted, that an operation delivers at most once per pin, that Remote IRR is only
 * ever set on level entries, that the read-only and reserved bits stay clear, and liveness: after
 * every operation an asserted, unmasked, deliverable level line has Remote IRR set (it was
 * delivered and awaits EOI) - an asserted level interrupt is never forgotten.
 * FUZZ-SOURCES: kernel/dev/ioapic.c */
#include <stdint.h>
#include <stdlib.h>

#include <tessera/ioapic.h>

#include "fuzz_input.h"

static unsigned deliveries;

static bool pin_asserted(const struct ioapic *io, unsigned pin)
{
    return (((io->wire >> pin) & 1) != 0) != ((io->redir[pin] & IOAPIC_ACTIVE_LOW) != 0);
}

static bool deliverable(const struct ioapic *io, uint64_t e)
{
    uint8_t dest = (uint8_t)(e >> IOAPIC_DEST_SHIFT);
    bool dest_ok = (e & IOAPIC_DEST_LOGICAL) ? dest != 0 : (dest == 0 || dest == 0xff);
    (void)io;
    return !(e & IOAPIC_MASKED) && IOAPIC_DELIVERY(e) <= 1 && dest_ok;
}

static bool deliver(void *ctx, uint8_t vector, bool level)
{
    const struct ioapic *io = ctx;
    bool found = false;
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
        uint64_t e = io->redir[pin];
        if ((e & 0xff) == vector && ((e & IOAPIC_LEVEL) != 0) == level && deliverable(io, e) &&
            pin_asserted(io, pin))
            found = true;
    }
    if (!found)
        abort();
    deliveries++;
    return true;
}

static void check(const struct ioapic *io)
{
    if (deliveries > IOAPIC_PINS)
        abort();
    if (io->regsel > 0xff || io->id > 0xf || io->wire >> IOAPIC_PINS)
        abort();
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
        uint64_t e = io->redir[pin];
        if (e & 0x00fffffffffe1000ull) /* reserved bits and delivery status */
            abort();
        if ((e & IOAPIC_REMOTE_IRR) && !(e & IOAPIC_LEVEL))
            abort();
        if ((e & IOAPIC_LEVEL) && deliverable(io, e) && pin_asserted(io, pin) &&
            !(e & IOAPIC_REMOTE_IRR))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = { data, size, 0 };
    struct ioapic io;
    struct ioapic_config c = { .id = 0, .apic_id = 0, .deliver = deliver, .ctx = &io };
    ioapic_init(&io, &c);
    for (unsigned steps = 0; in.pos < in.size && steps < 4096; steps++) {
        uint8_t op = (uint8_t)take(&in, 1);
        deliveries = 0;
        switch (op % 6) {
        case 0: { /* MMIO read */
            uint64_t off = (op & 0x80) ? take(&in, 2) & 0xfff : take(&in, 1) & 0x1f;
            unsigned sz = 1u << ((op >> 5) & 3);
            uint64_t r = ioapic_mmio_ops.read(&io, off, sz, 0);
            if (sz < 8 && (r >> (8 * sz)))
                abort();
            break;
        }
        case 1: { /* MMIO write */
            uint64_t off = (op & 0x80) ? take(&in, 2) & 0xfff : take(&in, 1) & 0x1f;
            unsigned sz = 1u << ((op >> 5) & 3);
            ioapic_mmio_ops.write(&io, off, sz, take(&in, 4), 0);
            break;
        }
        case 2: { /* a register through IOREGSEL + IOWIN, as a guest does */
            uint32_t index = (uint32_t)take(&in, 1);
            if (!(op & 0x80))
                index = 0x10 + index % 48;
            ioapic_mmio_ops.write(&io, IOAPIC_REGSEL, 4, index, 0);
            ioapic_mmio_ops.write(&io, IOAPIC_WINDOW, 4, take(&in, 4), 0);
            break;
        }
        case 3:
            ioapic_set_irq(&io, (unsigned)take(&in, 1) % 32, op & 0x80);
            break;
        case 4:
            ioapic_eoi(&io, (uint8_t)take(&in, 1));
            break;
        default: {
            unsigned pin = (unsigned)take(&in, 1) % 32;
            ioapic_set_irq(&io, pin, true);
            ioapic_set_irq(&io, pin, false);
            break;
        }
        }
        check(&io);
    }
    return 0;
}
