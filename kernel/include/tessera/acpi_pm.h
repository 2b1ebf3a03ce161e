/* The VM's ACPI power-management device and its platform controls, as the generated FADT and
 * DSDT describe them (tessera/acpi_gen.h, docs/devices.md "ACPI PM device"):
 *  - PM1a event block (PM1_STS write-1-to-clear, PM1_EN), PM1a control (SCI_EN fixed on,
 *    SLP_TYP/SLP_EN: S5 asks for power-off), the PM timer (3.579545 MHz from the TSC, 24 or 32
 *    bits), the SCI (level, asserted while an enabled status bit is set);
 *  - the PIIX/ICH reset control register at 0xcf9 (byte access; bit 2 RST_CPU asks for a reset);
 *  - the pvpanic port (QEMU0001, 0x505): bit 0 written says the guest kernel panicked.
 * Pure: what the guest asks for (power-off, reset, panic) is recorded as a request the wiring
 * takes after the access (acpi_pm_take_request); nothing here ends a VM itself. */
#ifndef TESSERA_ACPI_PM_H
#define TESSERA_ACPI_PM_H

#include <stdbool.h>
#include <stdint.h>
#include <tessera/dev.h>

#define ACPI_PM_TIMER_HZ 3579545u
#define ACPI_PM_REGIONS 5 /* PM1a_EVT, PM1a_CNT, PM_TMR, reset (0xcf8-0xcfb), pvpanic */
#define ACPI_PM_RESET_BLOCK 0xcf8 /* 0xcf9 is the reset register; 0xcf8-0xcfb decoded here */
#define ACPI_PM_RESET_RST_CPU (1u << 2)
#define ACPI_PM_PVPANIC_PANICKED (1u << 0)
#define ACPI_PM1_EN_BITS 0x0721u /* TMR_EN, GBL_EN, PWRBTN_EN, SLPBTN_EN, RTC_EN */

enum acpi_pm_request {
    ACPI_PM_NONE = 0,
    ACPI_PM_POWER_OFF, /* PM1_CNT: SLP_EN with SLP_TYP = the S5 value */
    ACPI_PM_RESET,     /* reset register: RST_CPU */
    ACPI_PM_PANIC,     /* pvpanic: PANICKED */
};

struct acpi_pm {
    uint64_t tsc_hz;      /* clamped to [ACPI_PM_TIMER_HZ, 2^42) */
    uint64_t base_tsc;    /* the timer counts from here */
    uint64_t last_now;    /* latest time given: never runs backwards */
    uint64_t last_tick;   /* timer ticks at last_now (for TMR_STS) */
    unsigned timer_bits;  /* 24 or 32 */
    uint16_t sts;         /* PM1_STS: TMR_STS, PWRBTN_STS */
    uint16_t en;          /* PM1_EN: ACPI_PM1_EN_BITS */
    uint16_t slp_typ;     /* PM1_CNT bits 12:10 as last written */
    uint8_t s5_slp_typ;   /* the SLP_TYP of \_S5 */
    uint8_t reset_reg;    /* 0xcf9 as last written, RST_CPU clear */
    bool sci_level;       /* the SCI level last driven */
    struct irq_line sci;
    uint32_t request;     /* enum acpi_pm_request, the first one since the last take */
    uint16_t evt_port, cnt_port, tmr_port, pvpanic_port;
};

/* Power-on state at TSC value now. Ports from the FADT (tessera/acpi_gen.h defaults),
 * timer_32bit as FADT TMR_VAL_EXT, sci the line for the SCI's GSI. */
void acpi_pm_init(struct acpi_pm *pm, uint64_t tsc_hz, uint64_t now, bool timer_32bit,
                  uint8_t s5_slp_typ, const struct irq_line *sci);
/* Fills out[ACPI_PM_REGIONS] with the port regions at the default ports (ACPI_GEN_*). */
void acpi_pm_regions(struct acpi_pm *pm, struct dev_region out[ACPI_PM_REGIONS]);
/* The PM timer's value at now (masked to its width). */
uint32_t acpi_pm_timer(struct acpi_pm *pm, uint64_t now);
/* Brings TMR_STS to now and drives the SCI. */
void acpi_pm_advance(struct acpi_pm *pm, uint64_t now);
/* When TMR_STS will next be set with TMR_EN on and the SCI not yet asserted; else
 * DEV_NO_DEADLINE. */
uint64_t acpi_pm_next_deadline(const struct acpi_pm *pm);
/* The fixed-feature power button: sets PWRBTN_STS (an SCI if PWRBTN_EN). */
void acpi_pm_press_power_button(struct acpi_pm *pm, uint64_t now);
/* Returns and clears the pending request (ACPI_PM_NONE when none). */
enum acpi_pm_request acpi_pm_take_request(struct acpi_pm *pm);

#endif
