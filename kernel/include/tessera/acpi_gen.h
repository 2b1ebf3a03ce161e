/* ACPI tables for a VM: RSDP, XSDT and RSDT, FADT (+ FACS), MADT and a small DSDT describing only
 * the VM's own CPUs, interrupt controllers, power-management device and COM1. Pure: the caller
 * describes the machine and hands a buffer (host pointer into the VM's RAM, from
 * guest_mem_range) and the guest-physical address it will have; nothing outside the buffer is
 * touched. Layouts follow ACPI 6.4, chapter 5.2 (tables) and 19/20 (AML). docs/devices.md,
 * "ACPI tables", lists what the VM's devices must emulate to match these tables. */
#ifndef TESSERA_ACPI_GEN_H
#define TESSERA_ACPI_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACPI_GEN_MAX_CPUS 16
#define ACPI_GEN_MAX_ISOS 16

/* The VM's power-management device, as the generated FADT describes it (the defaults filled by
 * acpi_gen_machine_pc; the block lengths are fixed). */
#define ACPI_GEN_PM1A_EVT_PORT 0x600 /* PM1_STS (+0, 16 bits), PM1_EN (+2, 16 bits) */
#define ACPI_GEN_PM1A_CNT_PORT 0x604 /* PM1_CNT, 16 bits */
#define ACPI_GEN_PM_TMR_PORT 0x608   /* PM_TMR, 32 bits (TMR_VAL_EXT), 3.579545 MHz */
#define ACPI_GEN_PM1_EVT_LEN 4
#define ACPI_GEN_PM1_CNT_LEN 2
#define ACPI_GEN_PM_TMR_LEN 4
#define ACPI_GEN_RESET_PORT 0xcf9    /* PIIX/ICH Reset Control register */
#define ACPI_GEN_RESET_VALUE 0x06    /* SYS_RST | RST_CPU */
#define ACPI_GEN_SCI_IRQ 9
#define ACPI_GEN_S5_SLP_TYP 5        /* PM1_CNT.SLP_TYP that, with SLP_EN, powers the VM off */
#define ACPI_GEN_RTC_CENTURY 0x32    /* CMOS index of the century byte */
#define ACPI_GEN_PVPANIC_PORT 0x505  /* pvpanic (_HID QEMU0001), one byte */
/* Where a VM's tables go: the reserved BIOS area below 1 MiB, where the legacy RSDP search also
 * looks (ACPI 5.2.5.1); the region runs to 1 MiB. */
#define ACPI_GEN_TABLES_GPA 0xe0000
#define ACPI_GEN_TABLES_LEN 0x20000

/* PM1 register bits (ACPI 4.8.4.1 and 4.8.4.2) the emulation needs. */
#define ACPI_PM1_TMR_STS (1u << 0)
#define ACPI_PM1_PWRBTN_STS (1u << 8)
#define ACPI_PM1_WAK_STS (1u << 15)
#define ACPI_PM1_CNT_SCI_EN (1u << 0)
#define ACPI_PM1_CNT_SLP_TYP_SHIFT 10 /* 3 bits */
#define ACPI_PM1_CNT_SLP_EN (1u << 13)

/* MPS INTI flags of an interrupt source override (ACPI 5.2.12.5, table 5.26). */
#define ACPI_INTI_POLARITY_BUS 0x0 /* conforms to the bus: ISA is active high */
#define ACPI_INTI_POLARITY_HIGH 0x1
#define ACPI_INTI_POLARITY_LOW 0x3
#define ACPI_INTI_TRIGGER_BUS 0x0 /* conforms to the bus: ISA is edge */
#define ACPI_INTI_TRIGGER_EDGE 0x4
#define ACPI_INTI_TRIGGER_LEVEL 0xc

/* ISA IRQ source_irq arrives at global system interrupt gsi with flags (ACPI_INTI_*). */
struct acpi_gen_iso {
    uint8_t source_irq;
    uint32_t gsi;
    uint16_t flags;
};

struct acpi_gen_machine {
    unsigned cpu_count;                   /* 1..ACPI_GEN_MAX_CPUS */
    uint8_t apic_ids[ACPI_GEN_MAX_CPUS];  /* xAPIC ids, distinct, below 0xff; [0] is the BSP.
                                           * CPU i has ACPI processor UID i. */
    uint32_t lapic_address;
    uint8_t ioapic_id;
    uint32_t ioapic_address;
    uint32_t ioapic_gsi_base;
    unsigned iso_count;
    struct acpi_gen_iso isos[ACPI_GEN_MAX_ISOS];
    bool pic_present;                     /* MADT PCAT_COMPAT: a dual 8259 is emulated */

    uint16_t pm1a_evt_port, pm1a_cnt_port, pm_timer_port; /* blocks of the lengths above */
    uint16_t reset_port;
    uint8_t reset_value;
    uint16_t sci_irq;                     /* ISA IRQ; with the ISO list deciding its GSI */
    uint8_t s5_slp_typ;                   /* 1..7 (0 is \_S0, the working state) */
    bool power_button;                    /* fixed-feature power button (PM1 PWRBTN_STS/EN) */
    uint8_t rtc_century;                  /* CMOS index of the century byte, 0: none */

    bool com1_present;                    /* PNP0501 in the DSDT */
    uint16_t com1_port;                   /* 8 ports */
    uint8_t com1_irq;                     /* ISA IRQ, below 16 */

    bool pvpanic_present;                 /* QEMU0001 in the DSDT */
    uint16_t pvpanic_port;                /* 1 port */

    uint64_t tables_gpa;                  /* where the buffer lies in the VM; the whole region
                                           * must sit below 4 GiB (RSDT and 32-bit FADT fields) */
};

/* Where acpi_gen_build put each table (guest-physical) and how much of the buffer it used. */
struct acpi_gen_layout {
    uint64_t rsdp, xsdt, rsdt, fadt, facs, dsdt, madt;
    uint64_t size; /* bytes used from the buffer's start; on -ENOSPC, bytes needed */
};

/* The machine docs/devices.md describes: cpu_count CPUs with APIC ids 0..cpu_count-1, local APIC
 * at 0xfee00000, I/O APIC id cpu_count at 0xfec00000 (GSI 0-23), ISA IRQ 0 -> GSI 2 (edge, high),
 * IRQ 9 (SCI) level active-high, dual 8259, the ACPI_GEN_* ports above, COM1 at 0x3f8 IRQ 4. */
void acpi_gen_machine_pc(struct acpi_gen_machine *m, unsigned cpu_count, uint64_t tables_gpa);

/* Writes the tables for m into buf[0, size) for guest-physical address m->tables_gpa, the RSDP
 * first (so the RSDP address is tables_gpa rounded up to 16), and fills *layout. Returns 0,
 * -EINVAL (m is inconsistent: CPU count, duplicate APIC id, zero or overlapping port, ...),
 * -ERANGE (the region would not lie below 4 GiB), or -ENOSPC (size is smaller than
 * layout->size; nothing was written). The buffer is never written past size. */
int acpi_gen_build(const struct acpi_gen_machine *m, void *buf, uint64_t size,
                   struct acpi_gen_layout *layout);

/* Builds the tables for m (at m->tables_gpa, at most len bytes) straight into the VM's RAM, through
 * guest_mem_range: 0 with *layout filled, or a negative errno with a sentence in why (the region
 * is not wholly inside the VM's RAM, is too small, or m is inconsistent). */
struct vcpu_memory;
int acpi_gen_install(const struct vcpu_memory *ram, const struct acpi_gen_machine *m, uint64_t len,
                     struct acpi_gen_layout *layout, char *why, size_t why_len);

/* AML PkgLength (ACPI 20.2.4) of a package whose body (what follows the PkgLength) is body
 * bytes long: the encoded value counts its own bytes, in the fewest of 1-4 bytes. Writes the
 * encoding to out and returns its length, or 0 when body is too large to encode. */
unsigned acpi_aml_pkglength(uint32_t body, uint8_t out[4]);

#endif
