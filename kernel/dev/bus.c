/* A VM's device bus: which model owns which port or MMIO range. A handful of regions per VM, so
 * a linear search is both the simplest and, at this size, the fastest; port accesses try the
 * region found last first (dev_bus_find_port). */
#include <tessera/dev.h>
#include <tessera/errno.h>

void dev_bus_init(struct dev_bus *bus)
{
    bus->count = 0;
    bus->last_port = 0;
}

/* Inclusive last address; false when the range is empty or wraps. */
static bool last_address(uint64_t base, uint64_t length, uint64_t *last)
{
    if (length == 0 || base + (length - 1) < base)
        return false;
    *last = base + (length - 1);
    return true;
}

int dev_bus_add(struct dev_bus *bus, const struct dev_region *region)
{
    uint64_t last;
    if (!region->ops || !region->ops->read || !region->ops->write ||
        (region->space != DEV_SPACE_PORT && region->space != DEV_SPACE_MMIO) ||
        !last_address(region->base, region->length, &last) ||
        (region->space == DEV_SPACE_PORT && last > 0xffff))
        return -EINVAL;
    for (unsigned i = 0; i < bus->count; i++) {
        const struct dev_region *r = &bus->regions[i];
        uint64_t r_last = r->base + (r->length - 1);
        if (r->space == region->space && region->base <= r_last && r->base <= last)
            return -EEXIST;
    }
    if (bus->count >= DEV_BUS_MAX_REGIONS)
        return -ENOSPC;
    bus->regions[bus->count++] = *region;
    return 0;
}

const struct dev_region *dev_bus_find(const struct dev_bus *bus, enum dev_space space,
                                      uint64_t addr, unsigned size)
{
    uint64_t last;
    if (!last_address(addr, size, &last))
        return 0;
    for (unsigned i = 0; i < bus->count; i++) {
        const struct dev_region *r = &bus->regions[i];
        if (r->space == space && addr >= r->base && last - r->base <= r->length - 1)
            return r;
    }
    return 0;
}

const struct dev_region *dev_bus_find_port_slow(struct dev_bus *bus, uint64_t port, unsigned size)
{
    const struct dev_region *r = dev_bus_find(bus, DEV_SPACE_PORT, port, size);
    if (r)
        bus->last_port = r;
    return r;
}
