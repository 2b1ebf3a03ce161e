/* The VM's ACPI PM device, reset register and pvpanic port (see tessera/acpi_pm.h).
 * References: ACPI 6.4 sections 4.8.3 (fixed hardware registers: PM1 event and control, the PM
 * timer), 4.8.4.6 and 5.2.9 (RESET_REG); Intel 82371AB PIIX4 and ICH data sheets, "Reset Control
 * Register" (0xcf9); QEMU docs/specs/pvpanic.rst. */
#include <tessera/acpi_gen.h>
#include <tessera/acpi_pm.h>
#include <tessera/dev_clock.h>
#include <tessera/string.h>

#define TSC_HZ_MAX (1ull << 42) /* rem * tsc_hz < 2^22 * 2^42 = 2^64 below */
#define PM1_STS_BITS (ACPI_PM1_TMR_STS | ACPI_PM1_PWRBTN_STS)
/* PM1_EN bits that read back (ACPI 4.8.3.1.2): TMR_EN, GBL_EN, PWRBTN_EN, SLPBTN_EN, RTC_EN.
 * Only the timer and the power button ever set their status bit, but ACPICA enables the global
 * lock and RTC events and checks that the enable bit sticks ("Could not enable ... event"). */
#define PM1_EN_BITS ACPI_PM1_EN_BITS
#define SLP_TYP_MASK (7u << ACPI_PM1_CNT_SLP_TYP_SHIFT)

/* PM timer ticks since base_tsc, and back (tessera/dev_clock.h). */
static uint64_t tick_at(const struct acpi_pm *pm, uint64_t now)
{
    return dev_clock_ticks(now - pm->base_tsc, pm->tsc_hz, ACPI_PM_TIMER_HZ);
}

static uint64_t tsc_of_tick(const struct acpi_pm *pm, uint64_t tick)
{
    return dev_clock_tsc_of(pm->base_tsc, pm->tsc_hz, ACPI_PM_TIMER_HZ, tick);
}

static void update_sci(struct acpi_pm *pm)
{
    bool level = (pm->sts & pm->en & PM1_STS_BITS) != 0;
    if (level != pm->sci_level) {
        pm->sci_level = level;
        irq_line_set(&pm->sci, level);
    }
}

/* TMR_STS is set whenever the timer's top bit (23 or 31) changes (ACPI 4.8.3.3). */
static void bring_to(struct acpi_pm *pm, uint64_t now)
{
    if (now < pm->last_now)
        now = pm->last_now; /* time never runs backwards for the model */
    pm->last_now = now;
    uint64_t tick = tick_at(pm, now);
    unsigned shift = pm->timer_bits - 1;
    if ((tick >> shift) != (pm->last_tick >> shift))
        pm->sts |= ACPI_PM1_TMR_STS;
    pm->last_tick = tick;
    update_sci(pm);
}

static void request(struct acpi_pm *pm, enum acpi_pm_request r)
{
    if (pm->request == ACPI_PM_NONE)
        pm->request = r;
}

uint32_t acpi_pm_timer(struct acpi_pm *pm, uint64_t now)
{
    bring_to(pm, now);
    uint64_t mask = pm->timer_bits == 32 ? 0xffffffffull : 0xffffffull;
    return (uint32_t)(pm->last_tick & mask);
}

/* ---- PM1a event block: PM1_STS at +0, PM1_EN at +2 ------------------------------------------ */

static uint64_t evt_read(void *dev, uint64_t offset, unsigned size, uint64_t now)
{
    struct acpi_pm *pm = dev;
    bring_to(pm, now);
    uint32_t regs = pm->sts | (uint32_t)pm->en << 16;
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)((regs >> (8 * (offset + i))) & 0xff) << (8 * i);
    return v;
}

static void evt_write(void *dev, uint64_t offset, unsigned size, uint64_t value, uint64_t now)
{
    struct acpi_pm *pm = dev;
    bring_to(pm, now);
    for (unsigned i = 0; i < size; i++) {
        unsigned at = (unsigned)offset + i, shift = 8 * (at & 1);
        uint16_t b = (uint16_t)(((value >> (8 * i)) & 0xff) << shift);
        if (at < 2) /* write 1 to clear; 0 bits leave the status alone */
            pm->sts &= (uint16_t)~(b & PM1_STS_BITS);
        else
            pm->en = (uint16_t)((pm->en & ~(0xffu << shift)) | (b & PM1_EN_BITS));
    }
    update_sci(pm);
}

/* ---- PM1a control block: PM1_CNT ------------------------------------------------------------ */

static uint16_t cnt_value(const struct acpi_pm *pm)
{
    return (uint16_t)(ACPI_PM1_CNT_SCI_EN | pm->slp_typ); /* always in ACPI mode; SLP_EN reads 0 */
}

static uint64_t cnt_read(void *dev, uint64_t offset, unsigned size, uint64_t now)
{
    (void)now;
    uint16_t v = cnt_value(dev);
    return size == 1 ? (uint8_t)(v >> (8 * offset)) : v;
}

static void cnt_write(void *dev, uint64_t offset, unsigned size, uint64_t value, uint64_t now)
{
    struct acpi_pm *pm = dev;
    (void)now;
    uint16_t v = cnt_value(pm);
    if (size == 1)
        v = (uint16_t)((v & ~(0xffu << (8 * offset))) | (uint16_t)((value & 0xff) << (8 * offset)));
    else
        v = (uint16_t)value;
    pm->slp_typ = v & SLP_TYP_MASK;
    /* SLP_EN enters the sleep state SLP_TYP names; the DSDT offers only \_S5 (ACPI 4.8.3.2.1,
     * 7.4.2): any other type is ignored and the guest runs on */
    if ((v & ACPI_PM1_CNT_SLP_EN) && (pm->slp_typ >> ACPI_PM1_CNT_SLP_TYP_SHIFT) == pm->s5_slp_typ)
        request(pm, ACPI_PM_POWER_OFF);
}

/* ---- PM timer: read-only -------------------------------------------------------------------- */

static uint64_t tmr_read(void *dev, uint64_t offset, unsigned size, uint64_t now)
{
    uint32_t v = acpi_pm_timer(dev, now) >> (8 * offset);
    return size == 4 ? v : size == 2 ? (uint16_t)v : (uint8_t)v;
}

static void tmr_write(void *dev, uint64_t offset, unsigned size, uint64_t value, uint64_t now)
{
    (void)dev, (void)offset, (void)size, (void)value, (void)now;
}

/* ---- 0xcf8-0xcfb: the reset control register at 0xcf9 ----------------------------------------
 * Only a byte access to 0xcf9 reaches it (PIIX4 data sheet: RC is an 8-bit register; wider
 * accesses at 0xcf8 are PCI configuration mechanism 1, which this VM has not): so Linux's PCI
 * probe, a dword write of 0x80000000 to 0xcf8, reads back all ones and resets nothing. */

static uint64_t reset_read(void *dev, uint64_t offset, unsigned size, uint64_t now)
{
    const struct acpi_pm *pm = dev;
    (void)now;
    if (size == 1 && offset == 1)
        return pm->reset_reg;
    return size == 4 ? 0xffffffffu : size == 2 ? 0xffffu : 0xffu;
}

static void reset_write(void *dev, uint64_t offset, unsigned size, uint64_t value, uint64_t now)
{
    struct acpi_pm *pm = dev;
    (void)now;
    if (size != 1 || offset != 1)
        return;
    pm->reset_reg = (uint8_t)(value & 0x0a); /* SYS_RST (1) and FULL_RST (3) read back */
    if (value & ACPI_PM_RESET_RST_CPU)
        request(pm, ACPI_PM_RESET);
}

/* ---- pvpanic: reads give the events supported, bit 0 written is a panic --------------------- */

static uint64_t pvpanic_read(void *dev, uint64_t offset, unsigned size, uint64_t now)
{
    (void)dev, (void)offset, (void)size, (void)now;
    return ACPI_PM_PVPANIC_PANICKED;
}

static void pvpanic_write(void *dev, uint64_t offset, unsigned size, uint64_t value, uint64_t now)
{
    (void)offset, (void)size, (void)now;
    if (value & ACPI_PM_PVPANIC_PANICKED)
        request(dev, ACPI_PM_PANIC);
}

static const struct dev_ops evt_ops = { evt_read, evt_write };
static const struct dev_ops cnt_ops = { cnt_read, cnt_write };
static const struct dev_ops tmr_ops = { tmr_read, tmr_write };
static const struct dev_ops reset_ops = { reset_read, reset_write };
static const struct dev_ops pvpanic_ops = { pvpanic_read, pvpanic_write };

void acpi_pm_init(struct acpi_pm *pm, uint64_t tsc_hz, uint64_t now, bool timer_32bit,
                  uint8_t s5_slp_typ, const struct irq_line *sci)
{
    memset(pm, 0, sizeof(*pm));
    if (tsc_hz < ACPI_PM_TIMER_HZ)
        tsc_hz = ACPI_PM_TIMER_HZ;
    if (tsc_hz >= TSC_HZ_MAX)
        tsc_hz = TSC_HZ_MAX - 1;
    pm->tsc_hz = tsc_hz;
    pm->base_tsc = now;
    pm->last_now = now;
    pm->timer_bits = timer_32bit ? 32 : 24;
    pm->s5_slp_typ = s5_slp_typ;
    if (sci)
        pm->sci = *sci;
}

void acpi_pm_regions(struct acpi_pm *pm, struct dev_region out[ACPI_PM_REGIONS])
{
    out[0] = (struct dev_region){ DEV_SPACE_PORT, ACPI_GEN_PM1A_EVT_PORT, ACPI_GEN_PM1_EVT_LEN,
                                  &evt_ops, pm, "ACPI PM1a event" };
    out[1] = (struct dev_region){ DEV_SPACE_PORT, ACPI_GEN_PM1A_CNT_PORT, ACPI_GEN_PM1_CNT_LEN,
                                  &cnt_ops, pm, "ACPI PM1a control" };
    out[2] = (struct dev_region){ DEV_SPACE_PORT, ACPI_GEN_PM_TMR_PORT, ACPI_GEN_PM_TMR_LEN,
                                  &tmr_ops, pm, "ACPI PM timer" };
    out[3] = (struct dev_region){ DEV_SPACE_PORT, ACPI_PM_RESET_BLOCK, 4, &reset_ops, pm,
                                  "reset control" };
    out[4] = (struct dev_region){ DEV_SPACE_PORT, ACPI_GEN_PVPANIC_PORT, 1, &pvpanic_ops, pm,
                                  "pvpanic" };
}

void acpi_pm_advance(struct acpi_pm *pm, uint64_t now)
{
    bring_to(pm, now);
}

uint64_t acpi_pm_next_deadline(const struct acpi_pm *pm)
{
    if (!(pm->en & ACPI_PM1_TMR_STS) || pm->sci_level)
        return DEV_NO_DEADLINE; /* no timer SCI wanted, or the SCI is already asserted */
    unsigned shift = pm->timer_bits - 1;
    uint64_t next = ((pm->last_tick >> shift) + 1) << shift;
    if (next >> shift != (pm->last_tick >> shift) + 1)
        return DEV_NO_DEADLINE; /* past 2^64 ticks */
    return tsc_of_tick(pm, next);
}

void acpi_pm_press_power_button(struct acpi_pm *pm, uint64_t now)
{
    bring_to(pm, now);
    pm->sts |= ACPI_PM1_PWRBTN_STS;
    update_sci(pm);
}

enum acpi_pm_request acpi_pm_take_request(struct acpi_pm *pm)
{
    enum acpi_pm_request r = (enum acpi_pm_request)pm->request;
    pm->request = ACPI_PM_NONE;
    return r;
}
