/* I/O APIC model (Intel 82093AA datasheet, May 1996: section 3.0 registers, 3.2.4 redirection
 * table). One vCPU is behind it, so delivery is immediate: the delivery status bit stays 0 and
 * lowest-priority arbitration picks that vCPU. */
#include <tessera/ioapic.h>
#include <tessera/string.h>

/* Guest-writable bits of an entry: vector, delivery mode, destination mode, polarity, trigger,
 * mask, destination (bits 12 and 14 are read-only). */
#define REDIR_WRITABLE_LOW 0x0001afffull
#define REDIR_WRITABLE_HIGH 0xff000000ull

void ioapic_init(struct ioapic *io, const struct ioapic_config *config)
{
    memset(io, 0, sizeof(*io));
    io->id = config->id & 0xf;
    io->apic_id = config->apic_id;
    io->deliver = config->deliver;
    io->match_logical = config->match_logical;
    io->ctx = config->ctx;
    for (unsigned i = 0; i < IOAPIC_PINS; i++)
        io->redir[i] = IOAPIC_MASKED;
}

static bool asserted(const struct ioapic *io, unsigned pin)
{
    bool wire = (io->wire >> pin) & 1;
    return wire != ((io->redir[pin] & IOAPIC_ACTIVE_LOW) != 0);
}

static bool destination_matches(const struct ioapic *io, uint64_t entry)
{
    uint8_t dest = (uint8_t)(entry >> IOAPIC_DEST_SHIFT);
    if (!(entry & IOAPIC_DEST_LOGICAL))
        return dest == io->apic_id || dest == 0xff;
    if (io->match_logical)
        return io->match_logical(io->ctx, dest);
    return dest != 0;
}

/* Sends the pin's interrupt; true when the vCPU's APIC took it. Only fixed and lowest-priority
 * are delivered: NMI, SMI, INIT and ExtINT entries are refused (counted) - see devices.md. */
static bool send(struct ioapic *io, unsigned pin)
{
    uint64_t e = io->redir[pin];
    unsigned mode = IOAPIC_DELIVERY(e);
    if (mode != 0 && mode != 1) {
        io->refused++;
        return false;
    }
    if (!destination_matches(io, e) || !io->deliver) {
        io->unrouted++;
        return false;
    }
    if (!io->deliver(io->ctx, (uint8_t)(e & IOAPIC_VECTOR_MASK), (e & IOAPIC_LEVEL) != 0))
        return false;
    io->delivered++;
    return true;
}

/* A level entry: deliver while asserted, unmasked and not awaiting EOI. */
static void service_level(struct ioapic *io, unsigned pin)
{
    uint64_t e = io->redir[pin];
    if (!(e & IOAPIC_LEVEL) || (e & (IOAPIC_MASKED | IOAPIC_REMOTE_IRR)) || !asserted(io, pin))
        return;
    if (send(io, pin))
        io->redir[pin] |= IOAPIC_REMOTE_IRR;
}

void ioapic_set_irq(struct ioapic *io, unsigned pin, bool level)
{
    if (pin >= IOAPIC_PINS)
        return;
    bool before = asserted(io, pin);
    if (level)
        io->wire |= 1u << pin;
    else
        io->wire &= ~(1u << pin);
    uint64_t e = io->redir[pin];
    if (e & IOAPIC_LEVEL)
        service_level(io, pin);
    else if (!before && asserted(io, pin) && !(e & IOAPIC_MASKED))
        send(io, pin); /* 82093AA 3.2.4: an edge on a masked pin is lost, not held */
}

void ioapic_eoi(struct ioapic *io, uint8_t vector)
{
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
        uint64_t e = io->redir[pin];
        if ((e & IOAPIC_REMOTE_IRR) && (e & IOAPIC_VECTOR_MASK) == vector) {
            io->redir[pin] &= ~IOAPIC_REMOTE_IRR;
            service_level(io, pin); /* a line still asserted comes straight back */
        }
    }
}

uint32_t ioapic_read_register(const struct ioapic *io, uint32_t index)
{
    index &= 0xff;
    if (index == IOAPIC_REG_ID || index == IOAPIC_REG_ARBITRATION)
        return io->id << 24; /* arbitration ID is loaded from the ID */
    if (index == IOAPIC_REG_VERSION)
        return IOAPIC_VERSION_VALUE;
    if (index >= IOAPIC_REG_REDIR && index < IOAPIC_REG_REDIR + 2 * IOAPIC_PINS) {
        uint64_t e = io->redir[(index - IOAPIC_REG_REDIR) / 2];
        return (index & 1) ? (uint32_t)(e >> 32) : (uint32_t)e;
    }
    return 0;
}

void ioapic_write_register(struct ioapic *io, uint32_t index, uint32_t value)
{
    index &= 0xff;
    if (index == IOAPIC_REG_ID) {
        io->id = (value >> 24) & 0xf;
        return;
    }
    if (index < IOAPIC_REG_REDIR || index >= IOAPIC_REG_REDIR + 2 * IOAPIC_PINS)
        return; /* version, arbitration: read-only; the rest: nothing there */
    unsigned pin = (index - IOAPIC_REG_REDIR) / 2;
    uint64_t e = io->redir[pin];
    if (index & 1) {
        io->redir[pin] = (e & ~(REDIR_WRITABLE_HIGH << 32)) |
                         ((uint64_t)value & REDIR_WRITABLE_HIGH) << 32;
        service_level(io, pin); /* a new destination may now take an asserted line */
        return;
    }
    e = (e & ~REDIR_WRITABLE_LOW) | (value & REDIR_WRITABLE_LOW);
    /* An edge entry has no Remote IRR: switching to edge clears it. Linux relies on this to
     * EOI by hand on I/O APICs older than version 0x20 (it toggles level -> edge -> level). */
    if (!(e & IOAPIC_LEVEL))
        e &= ~IOAPIC_REMOTE_IRR;
    io->redir[pin] = e;
    service_level(io, pin); /* unmasking an asserted level line delivers it */
}

/* MMIO: IOREGSEL at 0x00, IOWIN at 0x10 (82093AA 3.0). Reads of any size return the selected
 * register's bytes from (offset & 0xf) on (zero past its fourth byte); IOREGSEL takes a write of
 * any size at 0x00 (bits 7:0 kept), IOWIN only 4-byte writes at 0x10; other writes are dropped,
 * the rest of the page reads 0. */
static uint64_t mmio_read(void *dev, uint64_t offset, unsigned size, uint64_t now)
{
    struct ioapic *io = dev;
    (void)now;
    uint64_t v;
    unsigned byte = offset & 0xf;
    if (size == 0 || size > 8 || byte >= 4)
        return 0;
    if ((offset & ~0xfull) == IOAPIC_REGSEL)
        v = io->regsel;
    else if ((offset & ~0xfull) == IOAPIC_WINDOW)
        v = ioapic_read_register(io, io->regsel);
    else
        return 0;
    v >>= 8 * byte;
    return size == 8 ? v : v & ((1ull << (8 * size)) - 1);
}

static void mmio_write(void *dev, uint64_t offset, unsigned size, uint64_t value, uint64_t now)
{
    struct ioapic *io = dev;
    (void)now;
    if (offset == IOAPIC_REGSEL && size >= 1 && size <= 8)
        io->regsel = value & 0xff;
    else if (offset == IOAPIC_WINDOW && size == 4)
        ioapic_write_register(io, io->regsel, (uint32_t)value);
}

const struct dev_ops ioapic_mmio_ops = { mmio_read, mmio_write };
