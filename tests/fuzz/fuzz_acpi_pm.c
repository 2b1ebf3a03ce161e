/* The ACPI PM device, reset register and pvpanic: input = one byte (bits 1:0 the TSC rate, bit 2
 * a 32-bit timer), then operations of six bytes: the first byte's bits 2:0 choose the operation
 * (0 write, 1 read, 2 time passes: value << (size byte bits 7:2), 3 acpi_pm_advance, 4 advance
 * exactly to the announced deadline, 5 power button, 6 take the request, 7 time runs backwards),
 * bits 7:3 the port (one of the device's ports), the second byte's bits 1:0 the size (1, 2, 4),
 * then a 32-bit value. Accesses that would straddle a region's end are skipped, as the bus does.
 * Checks after each operation: PM1_STS/PM1_EN/SLP_TYP/reset hold only their documented bits,
 * SCI_EN reads 1, the SCI is only driven on a change and equals STS & EN after every access or
 * advance, the timer reads floor(ticks * 3579545 / tsc_hz) modulo its width (checked with
 * 128-bit arithmetic), a deadline announced after an advance lies in the future and reaching
 * it asserts the SCI, and requests are only the documented ones.
 * FUZZ-SOURCES: kernel/dev/acpi_pm.c kernel/dev/bus.c kernel/lib/string.c */
#include <stdint.h>
#include <stdlib.h>

#include <tessera/acpi_gen.h>
#include <tessera/acpi_pm.h>

#include "fuzz_input.h"

static bool line;

static void sci_set(void *router, unsigned gsi, bool level)
{
    (void)router;
    if (gsi != ACPI_GEN_SCI_IRQ || level == line)
        abort();
    line = level;
}

static const uint16_t ports[] = {
    0x600, 0x601, 0x602, 0x603, 0x604, 0x605, 0x608, 0x609, 0x60a, 0x60b,
    0xcf8, 0xcf9, 0xcfa, 0xcfb, 0x505, 0x600,
};

static void check_state(const struct acpi_pm *pm)
{
    uint16_t stsen = ACPI_PM1_TMR_STS | ACPI_PM1_PWRBTN_STS;
    if ((pm->sts & ~stsen) || (pm->en & ~ACPI_PM1_EN_BITS) || (pm->slp_typ & ~(7u << 10)) ||
        (pm->reset_reg & ~0x0au) || pm->request > ACPI_PM_PANIC)
        abort();
    if (line != pm->sci_level)
        abort();
}

static void check_sci(const struct acpi_pm *pm)
{
    bool want = (pm->sts & pm->en & (ACPI_PM1_TMR_STS | ACPI_PM1_PWRBTN_STS)) != 0;
    if (want != line)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint64_t rates[4] = { 5000000, 25000000, 3000000000ull, 1ull << 42 };
    struct input in = { data, size, 0 };
    struct acpi_pm pm;
    struct dev_bus bus;
    struct dev_region r[ACPI_PM_REGIONS];

    unsigned setup = (unsigned)take(&in, 1);
    uint64_t hz = rates[setup & 3], now = 1000, latest = now;
    bool ext = setup & 4;
    struct irq_line sci = { sci_set, NULL, ACPI_GEN_SCI_IRQ };
    line = false;
    acpi_pm_init(&pm, hz, now, ext, ACPI_GEN_S5_SLP_TYP, &sci);
    acpi_pm_regions(&pm, r);
    dev_bus_init(&bus);
    for (unsigned i = 0; i < ACPI_PM_REGIONS; i++)
        if (dev_bus_add(&bus, &r[i]))
            abort();
    uint64_t clamped = hz >= (1ull << 42) ? (1ull << 42) - 1 : hz;

    while (in.pos < in.size) {
        unsigned op = (unsigned)take(&in, 1), sz = (unsigned)take(&in, 1);
        uint32_t value = (uint32_t)take(&in, 4);
        uint16_t port = ports[(op >> 3) & 15];
        unsigned width = (sz & 3) == 2 ? 2 : (sz & 3) == 3 ? 4 : 1;
        const struct dev_region *reg = dev_bus_find(&bus, DEV_SPACE_PORT, port, width);
        switch (op & 7) {
        case 0:
            if (reg) {
                reg->ops->write(reg->dev, port - reg->base, width, value, now);
                check_sci(&pm);
            }
            break;
        case 1:
            if (reg) {
                uint64_t v = reg->ops->read(reg->dev, port - reg->base, width, now);
                if (width < 4 && (v >> (8 * width)))
                    abort();
                if (port == ACPI_GEN_PM1A_CNT_PORT && !(v & ACPI_PM1_CNT_SCI_EN))
                    abort();
                check_sci(&pm);
            }
            break;
        case 2: {
            uint64_t d = (uint64_t)value << (sz >> 2);
            now = d > UINT64_MAX - now ? UINT64_MAX : now + d;
            break;
        }
        case 3:
            acpi_pm_advance(&pm, now);
            check_sci(&pm);
            break;
        case 4: {
            acpi_pm_advance(&pm, now);
            uint64_t dl = acpi_pm_next_deadline(&pm);
            if (dl == DEV_NO_DEADLINE)
                break;
            if (dl <= pm.last_now)
                abort(); /* in the past */
            now = dl;
            acpi_pm_advance(&pm, now);
            if (!line)
                abort(); /* the announced TMR_STS did not come */
            break;
        }
        case 5:
            acpi_pm_press_power_button(&pm, now);
            check_sci(&pm);
            break;
        case 6:
            if (acpi_pm_take_request(&pm) > ACPI_PM_PANIC || pm.request != ACPI_PM_NONE)
                abort();
            break;
        case 7:
            now = value > now ? 0 : now - value; /* the model keeps its latest time */
            break;
        }
        if (now > latest)
            latest = now;
        check_state(&pm);
        /* the timer, against 128-bit arithmetic, at the model's own latest time */
        uint64_t t = pm.last_now > now ? pm.last_now : now;
        uint32_t got = acpi_pm_timer(&pm, t);
        unsigned __int128 ticks = (unsigned __int128)(t - pm.base_tsc) * ACPI_PM_TIMER_HZ / clamped;
        uint32_t want = (uint32_t)(ticks & (ext ? 0xffffffffu : 0xffffffu));
        if (got != want)
            abort();
        check_sci(&pm);
    }
    (void)latest;
    return 0;
}
