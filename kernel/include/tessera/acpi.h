/* ACPI table discovery: RSDP -> XSDT/RSDT -> MADT, FADT (-> DSDT \_S5), HPET. Pure: every table
 * is reached through a mapping callback (identity in the hypervisor, test buffers in the unit
 * tests), and every signature, length and checksum is checked before a field is read.
 * Field offsets follow the ACPI 6.5 specification, chapter 5.2. */
#ifndef TESSERA_ACPI_H
#define TESSERA_ACPI_H

#include <stdint.h>

/* Returns a pointer to len readable bytes at physical address phys, or NULL if it cannot. */
typedef const void *(*acpi_map_fn)(void *ctx, uint64_t phys, uint64_t len);

#define ACPI_MAX_CPUS 64
#define ACPI_MAX_IOAPICS 8
#define ACPI_MAX_TABLE_LEN (16u << 20) /* larger is treated as corrupt */

/* Generic Address Structure (ACPI 5.2.3.2) */
enum acpi_gas_space {
    ACPI_GAS_MEMORY = 0,
    ACPI_GAS_IO = 1,
    ACPI_GAS_PCI_CONFIG = 2,
};

struct acpi_gas {
    uint8_t space_id; /* enum acpi_gas_space */
    uint8_t bit_width;
    uint8_t bit_offset;
    uint8_t access_size;
    uint64_t address; /* 0: not present */
};

struct acpi_cpu {
    uint32_t apic_id;
    uint32_t uid;          /* ACPI processor UID */
    uint8_t enabled;       /* usable now */
    uint8_t online_capable; /* disabled, but may be brought online */
    uint8_t x2apic;        /* described by an x2APIC entry (type 9) */
};

struct acpi_ioapic {
    uint32_t id;
    uint32_t address;
    uint32_t gsi_base;
};

/* FADT flags used here (ACPI 5.2.9, table 5.10) */
#define ACPI_FADT_TMR_VAL_EXT (1u << 8)
#define ACPI_FADT_RESET_REG_SUP (1u << 10)
#define ACPI_FADT_HW_REDUCED (1u << 20)

/* Index into acpi_info.pm_block_port / pm_block_len */
enum acpi_pm_block {
    ACPI_PM1A_EVT, ACPI_PM1B_EVT, ACPI_PM1A_CNT, ACPI_PM1B_CNT,
    ACPI_PM2_CNT, ACPI_PM_TMR, ACPI_GPE0, ACPI_GPE1, ACPI_PM_BLOCKS
};

struct acpi_info {
    /* RSDP and root table */
    uint8_t rsdp_revision;
    uint8_t uses_xsdt;  /* 0: the RSDT (32-bit entries) was used */
    char oem_id[7];     /* from the RSDP, NUL-terminated */
    uint64_t root_phys; /* the XSDT or RSDT used */

    /* MADT ("APIC") */
    uint8_t has_madt;
    uint64_t lapic_address; /* override entry (type 5) wins over the 32-bit header field */
    uint32_t madt_flags;    /* bit 0: PC-AT compatible dual 8259 present */
    unsigned cpu_count;     /* entries in cpus[]: enabled or online-capable, deduplicated */
    unsigned cpus_enabled;  /* how many of cpus[] are enabled */
    unsigned cpus_unusable; /* entries neither enabled nor online-capable (not listed) */
    unsigned cpus_dropped;  /* usable entries beyond ACPI_MAX_CPUS (not listed) */
    struct acpi_cpu cpus[ACPI_MAX_CPUS]; /* in MADT order: the firmware lists the BSP first */
    unsigned ioapic_count;
    struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];

    /* FADT ("FACP") */
    uint8_t has_fadt;
    uint8_t fadt_revision;
    uint32_t fadt_flags;
    uint16_t sci_irq;
    uint16_t iapc_boot_arch; /* bit 1: 8042 present, bit 2: VGA not present */
    uint32_t smi_cmd;        /* I/O port; 0: ACPI mode is always on */
    uint8_t acpi_enable;     /* value to write to smi_cmd to enter ACPI mode */
    struct acpi_gas pm1a_cnt; /* X_ field when present, else the 32-bit I/O port */
    struct acpi_gas pm1b_cnt; /* address 0: none */
    struct acpi_gas pm1a_evt; /* event blocks, PM2 control, general-purpose events: the rest of */
    struct acpi_gas pm1b_evt; /* the power-management hardware (no VM may own these ports) */
    struct acpi_gas pm2_cnt;
    struct acpi_gas gpe0;
    struct acpi_gas gpe1;
    struct acpi_gas pm_timer; /* 3.579545 MHz, 24 bits (32 with ACPI_FADT_TMR_VAL_EXT) */
    /* The same eight blocks as the FADT's 32-bit fields give them (enum acpi_pm_block): the
     * I/O port (0: none) and the byte-length field (PM1_EVT_LEN, ..., GPE1_BLK_LEN). A GAS
     * bit width stops at 255 bits; the byte length is the only size a GPE block over 31 bytes
     * has, and it applies to the X_ block too (ACPI 5.2.9, table 5.9). */
    uint32_t pm_block_port[ACPI_PM_BLOCKS];
    uint8_t pm_block_len[ACPI_PM_BLOCKS];
    uint8_t reset_supported;  /* FADT flag set and a reset register present */
    struct acpi_gas reset_reg;
    uint8_t reset_value;
    struct acpi_gas sleep_control; /* hardware-reduced platforms (ACPI 5.0+) */
    struct acpi_gas sleep_status;
    uint64_t dsdt_phys;       /* X_DSDT when set, else DSDT */

    /* \_S5 from the DSDT: values for SLP_TYP in PM1x_CNT (bits 10-12) */
    uint8_t has_s5;
    uint8_t s5_slp_typ_a;
    uint8_t s5_slp_typ_b;

    /* HPET */
    uint8_t has_hpet;
    uint64_t hpet_address;

    char error[128];   /* why acpi_parse failed */
    char warning[128]; /* last non-fatal problem (bad DSDT, HPET, ...), empty if none */
};

/* An I/O port range the power-management hardware decodes, and what it is. */
struct acpi_port_range {
    uint16_t first, last; /* inclusive */
    const char *owner;
};
#define ACPI_MAX_PM_PORT_RANGES 20

/* The I/O ports of the FADT's power-management hardware (PM1 event and control blocks, PM2, PM
 * timer, GPE blocks, reset register, SMI command port): a VM owning one could power off, reset
 * or hang the machine. Each block is reserved over the larger of its byte-length field and its
 * GAS width, at its X_ address and, when the 32-bit field names another port, there too (we
 * cannot know which one the chipset decodes). Ranges end at port 0xffff. Writes at most max
 * ranges to out (ACPI_MAX_PM_PORT_RANGES always suffice) and returns how many. */
unsigned acpi_pm_ports(const struct acpi_info *info, struct acpi_port_range *out, unsigned max);

/* Fills *out from the tables reachable from the RSDP at rsdp_phys, of which rsdp_len bytes are
 * readable (a boot loader's copy; 0: the firmware's own RSDP, in place, as long as it says). The
 * parser never reads past rsdp_len; when the RSDP claims more, its extended checksum cannot be
 * checked and the RSDT is used instead of the XSDT (with a warning). Returns 0, or a negative errno
 * with out->error naming the table and the problem: -ENOENT (no RSDP address, no MADT, no FADT),
 * -EINVAL (bad signature, checksum, length or entry), -EFAULT (a table could not be mapped).
 * Required: RSDP, XSDT or RSDT, MADT and FADT. The DSDT's \_S5 and the HPET are optional: their
 * problems only set out->warning. On failure, the has_* flags still say which parts were parsed
 * completely. When the XSDT is invalid and an RSDT exists, the RSDT is used (with a warning). */
int acpi_parse(uint64_t rsdp_phys, uint32_t rsdp_len, acpi_map_fn map, void *ctx,
               struct acpi_info *out);

#endif
