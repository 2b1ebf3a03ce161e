/* Device models: pure state machines behind one small interface. Each VM has a bus on which its
 * models are registered by I/O-port or MMIO range; the run loop hands every access the backend
 * could not handle to the model that owns the address. Models never touch hardware, the console
 * or the clock themselves: they are given the time (TSC ticks, "now"), and they report interrupt
 * lines and timer deadlines through the small interfaces below, so each is unit-tested and
 * fuzzed on the host. */
#ifndef TESSERA_DEV_H
#define TESSERA_DEV_H

#include <stdbool.h>
#include <stdint.h>

#define DEV_NO_DEADLINE UINT64_MAX

enum dev_space {
    DEV_SPACE_PORT = 1, /* I/O ports: accesses of 1, 2 or 4 bytes */
    DEV_SPACE_MMIO = 2, /* guest-physical memory: accesses of 1, 2, 4 or 8 bytes */
};

/* offset is from the region's base; the access lies wholly inside the region. A read returns the
 * value in the low size bytes. */
struct dev_ops {
    uint64_t (*read)(void *dev, uint64_t offset, unsigned size, uint64_t now);
    void (*write)(void *dev, uint64_t offset, unsigned size, uint64_t value, uint64_t now);
};

struct dev_region {
    uint32_t space; /* enum dev_space */
    uint64_t base, length;
    const struct dev_ops *ops;
    void *dev;
    const char *name; /* for reports: "16550 UART", "I/O APIC" */
};

#define DEV_BUS_MAX_REGIONS 24

struct dev_bus {
    struct dev_region regions[DEV_BUS_MAX_REGIONS];
    unsigned count;
    const struct dev_region *last_port; /* the port region found last (dev_bus_find_port) */
};

void dev_bus_init(struct dev_bus *bus);
/* Adds a region. -EINVAL: empty, wrapping, or no ops; -EEXIST: overlaps a region of the same
 * space; -ENOSPC: the bus is full. */
int dev_bus_add(struct dev_bus *bus, const struct dev_region *region);
/* The region holding every byte of [addr, addr + size), or NULL (none, or the access straddles
 * a region's end: the caller treats it as unclaimed). */
const struct dev_region *dev_bus_find(const struct dev_bus *bus, enum dev_space space,
                                      uint64_t addr, unsigned size);

const struct dev_region *dev_bus_find_port_slow(struct dev_bus *bus, uint64_t port, unsigned size);

/* The port region found last if it holds all of the access, else NULL (no search): a driver
 * talks to one device for a while (a UART's LSR, then its THR). */
static inline const struct dev_region *dev_bus_cached_port(const struct dev_bus *bus,
                                                           uint16_t port, unsigned size)
{
    const struct dev_region *r = bus->last_port;
    if (r) {
        /* offset is huge when port is below the region; past the first test, offset + size
         * cannot wrap (a region ends below 2^64) */
        uint64_t offset = (uint64_t)port - r->base;
        if (offset < r->length && offset + size <= r->length)
            return r;
    }
    return 0;
}

/* dev_bus_find for a port access, trying the region found last first. */
static inline const struct dev_region *dev_bus_find_port(struct dev_bus *bus, uint16_t port,
                                                         unsigned size)
{
    const struct dev_region *r = dev_bus_cached_port(bus, port, size);
    return r ? r : dev_bus_find_port_slow(bus, port, size);
}

/* An interrupt line a device drives: gsi is the line's number on the VM's interrupt router (ISA
 * IRQ n is GSI n). level true = asserted. Edge-triggered devices pulse it (true, then false). */
struct irq_line {
    void (*set)(void *router, unsigned gsi, bool level);
    void *router;
    unsigned gsi;
};

static inline void irq_line_set(const struct irq_line *line, bool level)
{
    if (line && line->set)
        line->set(line->router, line->gsi, level);
}

#endif
