/* Generated ACPI tables for a VM (see tessera/acpi_gen.h). One emitter walks the layout twice:
 * first without a buffer, to measure, then, if everything fits, into the buffer. Every store
 * goes through a bounds-checked writer, so even a measuring mistake cannot write past the end.
 * Multi-byte fields are stored byte by byte (tessera/bytes.h): tables are packed. */
#include <tessera/acpi_gen.h>
#include <tessera/bytes.h>
#include <tessera/errno.h>
#include <tessera/string.h>

#define HEADER_LEN 36u
#define RSDP_LEN 36u
#define FACS_LEN 64u
#define FADT_LEN 276u /* revision 6 (ACPI 6.0 and later) */
#define FADT_REVISION 6
#define FADT_MINOR 4  /* ACPI 6.4 */
#define MADT_REVISION 5
#define TABLES_LIMIT (1ull << 32)

/* FADT flags (ACPI 5.2.9, table 5.10) */
#define FADT_WBINVD (1u << 0)
#define FADT_PROC_C1 (1u << 2)
#define FADT_PWR_BUTTON (1u << 4) /* set: no fixed-feature power button */
#define FADT_SLP_BUTTON (1u << 5) /* set: no fixed-feature sleep button */
#define FADT_FIX_RTC (1u << 6)    /* set: RTC wake status is not in the PM1 block */
#define FADT_TMR_VAL_EXT (1u << 8)
#define FADT_RESET_REG_SUP (1u << 10)

/* IA-PC boot architecture flags (ACPI 5.2.9.3, table 5.11) */
#define BOOT_LEGACY_DEVICES (1u << 0)
#define BOOT_VGA_NOT_PRESENT (1u << 2)
#define BOOT_MSI_NOT_SUPPORTED (1u << 3)

/* GAS access sizes (ACPI 5.2.3.2) */
#define ACCESS_BYTE 1
#define ACCESS_WORD 2
#define ACCESS_DWORD 3

static const char oem_id[6] = { 'T', 'E', 'S', 'S', 'R', 'A' };
static const char oem_table_id[8] = { 'T', 'E', 'S', 'S', 'E', 'R', 'A', ' ' };

struct writer {
    uint8_t *buf;  /* NULL while measuring */
    uint64_t cap;  /* bytes buf may hold */
    uint64_t pos;  /* bytes emitted so far */
    uint64_t base; /* guest-physical address of buf[0] */
    bool overflow; /* something did not fit: nothing was stored past cap */
};

/* Room for n more bytes at pos: a pointer to them, or NULL when measuring or out of room
 * (pos still advances, so measuring counts every byte). */
static uint8_t *w_take(struct writer *w, uint64_t n)
{
    uint8_t *p = NULL;

    if (w->overflow || n > w->cap - w->pos)
        w->overflow = true;
    else if (w->buf)
        p = w->buf + w->pos;
    if (!w->overflow)
        w->pos += n;
    return p;
}

/* n bytes already emitted at off, to patch; NULL when measuring or not all emitted. */
static uint8_t *w_at(struct writer *w, uint64_t off, uint64_t n)
{
    if (!w->buf || w->overflow || off > w->pos || n > w->pos - off)
        return NULL;
    return w->buf + off;
}

static void w_bytes(struct writer *w, const void *src, uint64_t n)
{
    uint8_t *p = w_take(w, n);
    if (p)
        memcpy(p, src, n);
}

static void w_zeros(struct writer *w, uint64_t n)
{
    uint8_t *p = w_take(w, n);
    if (p)
        memset(p, 0, n);
}

static void w8(struct writer *w, uint8_t v)
{
    w_bytes(w, &v, 1);
}

static void w16(struct writer *w, uint16_t v)
{
    uint8_t b[2];
    wr16(b, v);
    w_bytes(w, b, 2);
}

static void w32(struct writer *w, uint32_t v)
{
    uint8_t b[4];
    wr32(b, v);
    w_bytes(w, b, 4);
}

static void w64(struct writer *w, uint64_t v)
{
    uint8_t b[8];
    wr64(b, v);
    w_bytes(w, b, 8);
}

/* Pads with zeros until the guest-physical address of pos is a multiple of align (a power of
 * two), since alignment rules are about guest addresses, not buffer offsets. */
static void w_align(struct writer *w, uint64_t align)
{
    uint64_t misalign = (w->base + w->pos) & (align - 1);
    if (misalign)
        w_zeros(w, align - misalign);
}

static uint64_t w_gpa(const struct writer *w, uint64_t off)
{
    return w->base + off;
}

/* Generic Address Structure for an I/O port block (ACPI 5.2.3.2). */
static void w_gas_io(struct writer *w, uint16_t port, uint8_t bytes, uint8_t access)
{
    w8(w, 1); /* system I/O space */
    w8(w, (uint8_t)(bytes * 8));
    w8(w, 0);
    w8(w, access);
    w64(w, port);
}

static void w_gas_none(struct writer *w)
{
    w_zeros(w, 12);
}

static uint8_t sum8(const uint8_t *p, uint64_t n)
{
    uint8_t s = 0;
    for (uint64_t i = 0; i < n; i++)
        s += p[i];
    return s;
}

/* ---- system description table header (ACPI 5.2.6) ------------------------------------------ */

static uint64_t table_begin(struct writer *w, const char sig[4], uint8_t revision)
{
    w_align(w, 8);
    uint64_t start = w->pos;
    w_bytes(w, sig, 4);
    w32(w, 0); /* length: patched by table_end */
    w8(w, revision);
    w8(w, 0);  /* checksum: patched by table_end */
    w_bytes(w, oem_id, 6);
    w_bytes(w, oem_table_id, 8);
    w32(w, 1); /* OEM revision */
    w_bytes(w, "TSRA", 4); /* creator ID */
    w32(w, 1); /* creator revision */
    return start;
}

static void table_end(struct writer *w, uint64_t start)
{
    uint64_t len = w->pos - start;
    uint8_t *t = w_at(w, start, len);

    if (!t)
        return;
    wr32(t + 4, (uint32_t)len);
    t[9] = 0;
    t[9] = (uint8_t)(0 - sum8(t, len));
}

/* ---- AML (ACPI 20.2) ------------------------------------------------------------------------ */

#define AML_ZERO 0x00
#define AML_ONE 0x01
#define AML_NAME 0x08
#define AML_BYTE 0x0a
#define AML_WORD 0x0b
#define AML_DWORD 0x0c
#define AML_STRING 0x0d
#define AML_QWORD 0x0e
#define AML_SCOPE 0x10
#define AML_BUFFER 0x11
#define AML_PACKAGE 0x12
#define AML_EXT_PREFIX 0x5b
#define AML_EXT_DEVICE 0x82
#define AML_ROOT '\\'

unsigned acpi_aml_pkglength(uint32_t body, uint8_t out[4])
{
    /* One byte holds 6 bits of value; n bytes hold 4 + 8 * (n - 1) bits, the lead byte's bits
     * 7-6 saying how many bytes follow (20.2.4). The value includes the encoding itself. */
    for (unsigned n = 1; n <= 4; n++) {
        uint64_t value = (uint64_t)body + n;
        uint64_t limit = n == 1 ? 0x3f : (1ull << (4 + 8 * (n - 1))) - 1;

        if (value > limit)
            continue;
        if (n == 1) {
            out[0] = (uint8_t)value;
            return 1;
        }
        out[0] = (uint8_t)((n - 1) << 6 | (value & 0xf));
        for (unsigned i = 1; i < n; i++)
            out[i] = (uint8_t)(value >> (4 + 8 * (i - 1)));
        return n;
    }
    return 0;
}

/* A package-like object (Scope, Device, Package, Buffer): the caller has emitted the opcode;
 * aml_open reserves one byte for the PkgLength and aml_close writes it once the body is known,
 * shifting the body when the encoding needs more than one byte. */
static uint64_t aml_open(struct writer *w)
{
    uint64_t at = w->pos;
    w8(w, 0);
    return at;
}

static void aml_close(struct writer *w, uint64_t at)
{
    uint64_t body = w->pos - at - 1;
    uint8_t enc[4];
    unsigned n = body <= 0xffffffffu ? acpi_aml_pkglength((uint32_t)body, enc) : 0;

    if (n == 0) {
        w->overflow = true;
        return;
    }
    w_take(w, n - 1); /* the body moves up by n - 1 bytes */
    uint8_t *p = w_at(w, at, 1 + body + (n - 1));
    if (!p)
        return;
    memmove(p + n, p + 1, body);
    memcpy(p, enc, n);
}

/* A NameSeg: four characters, '_'-padded (ASL names are 1-4 characters). */
static void aml_nameseg(struct writer *w, const char *name)
{
    char seg[4] = { '_', '_', '_', '_' };
    for (unsigned i = 0; i < 4 && name[i]; i++)
        seg[i] = name[i];
    w_bytes(w, seg, 4);
}

static void aml_integer(struct writer *w, uint64_t v)
{
    if (v == 0) {
        w8(w, AML_ZERO);
    } else if (v == 1) {
        w8(w, AML_ONE);
    } else if (v <= 0xff) {
        w8(w, AML_BYTE);
        w8(w, (uint8_t)v);
    } else if (v <= 0xffff) {
        w8(w, AML_WORD);
        w16(w, (uint16_t)v);
    } else if (v <= 0xffffffffu) {
        w8(w, AML_DWORD);
        w32(w, (uint32_t)v);
    } else {
        w8(w, AML_QWORD);
        w64(w, v);
    }
}

static void aml_string(struct writer *w, const char *s)
{
    w8(w, AML_STRING);
    w_bytes(w, s, strlen(s) + 1);
}

static void aml_name_integer(struct writer *w, const char *name, uint64_t v)
{
    w8(w, AML_NAME);
    aml_nameseg(w, name);
    aml_integer(w, v);
}

static void aml_name_string(struct writer *w, const char *name, const char *s)
{
    w8(w, AML_NAME);
    aml_nameseg(w, name);
    aml_string(w, s);
}

/* EisaId("PNPxxxx") (ASL 19.6.35): three letters of 5 bits ('A' = 1) and four hex digits,
 * stored as a DWord whose bytes read in that order. */
static uint32_t eisa_id(const char id[7])
{
    uint32_t letters = (uint32_t)(id[0] - '@') << 10 | (uint32_t)(id[1] - '@') << 5 |
                       (uint32_t)(id[2] - '@');
    uint32_t digits = 0;

    for (unsigned i = 3; i < 7; i++)
        digits = digits << 4 | (uint32_t)(id[i] <= '9' ? id[i] - '0' : id[i] - 'A' + 10);
    /* byte 0: letters 15-8, byte 1: letters 7-0, byte 2: digits 15-8, byte 3: digits 7-0 */
    return (letters >> 8) | (letters & 0xff) << 8 | (digits >> 8) << 16 | (digits & 0xff) << 24;
}

/* Name(_Sx_, Package() { SLP_TYPa, SLP_TYPb, Reserved, Reserved }) (ACPI 7.4.2): PM1a and
 * PM1b get the same value; there is no PM1b block. */
static void aml_sleep_state(struct writer *w, const char *name, uint8_t slp_typ)
{
    w8(w, AML_NAME);
    aml_nameseg(w, name);
    w8(w, AML_PACKAGE);
    uint64_t pkg = aml_open(w);
    w8(w, 4); /* NumElements */
    aml_integer(w, slp_typ);
    aml_integer(w, slp_typ);
    aml_integer(w, 0);
    aml_integer(w, 0);
    aml_close(w, pkg);
}

static uint64_t aml_device_open(struct writer *w, const char *name)
{
    w8(w, AML_EXT_PREFIX);
    w8(w, AML_EXT_DEVICE);
    uint64_t at = aml_open(w);
    aml_nameseg(w, name);
    return at;
}

/* Device(Cnnn) { Name(_HID, "ACPI0007") Name(_UID, uid) } (ACPI 8.4): matches the MADT entry
 * whose ACPI processor UID is uid. */
static void aml_processor(struct writer *w, unsigned uid)
{
    static const char hex[] = "0123456789ABCDEF";
    char name[5] = { 'C', hex[(uid >> 8) & 0xf], hex[(uid >> 4) & 0xf], hex[uid & 0xf], 0 };
    uint64_t dev = aml_device_open(w, name);

    aml_name_string(w, "_HID", "ACPI0007");
    aml_name_integer(w, "_UID", uid);
    aml_close(w, dev);
}

/* Name(name, Buffer(n) { bytes }): a resource template such as _CRS. */
static void aml_name_buffer(struct writer *w, const char *name, const uint8_t *bytes, size_t n)
{
    w8(w, AML_NAME);
    aml_nameseg(w, name);
    w8(w, AML_BUFFER);
    uint64_t buf = aml_open(w);
    aml_integer(w, n);
    w_bytes(w, bytes, n);
    aml_close(w, buf);
}

/* Device(COM1) with _CRS = ResourceTemplate() { IO(Decode16, port, port, 1, 8) IRQNoFlags() {irq} }
 * (resource descriptors: ACPI 6.4.2.5 IRQ, 6.4.2.6 I/O port, 6.4.2.9 end tag). */
static void aml_com1(struct writer *w, uint16_t port, uint8_t irq)
{
    uint16_t mask = (uint16_t)(1u << irq);
    const uint8_t crs[] = {
        0x47, 0x01, (uint8_t)port, (uint8_t)(port >> 8), (uint8_t)port, (uint8_t)(port >> 8),
        0x01, 0x08,                               /* IO: 16-bit decode, min = max, align 1, len 8 */
        0x22, (uint8_t)mask, (uint8_t)(mask >> 8), /* IRQNoFlags: edge, active high */
        0x79, 0x00,                               /* end tag, checksum 0: not checked */
    };
    uint64_t dev = aml_device_open(w, "COM1");

    w8(w, AML_NAME);
    aml_nameseg(w, "_HID");
    w8(w, AML_DWORD);
    w32(w, eisa_id("PNP0501"));
    aml_name_integer(w, "_UID", 1);
    aml_name_buffer(w, "_CRS", crs, sizeof(crs));
    aml_close(w, dev);
}

/* Device(PEVT), the pvpanic device (QEMU's docs/specs/pvpanic.rst): _HID "QEMU0001" and one I/O
 * port, _CRS = ResourceTemplate() { IO(Decode16, port, port, 1, 1) }. Linux's pvpanic-mmio
 * driver binds to it and writes bit 0 there when the kernel panics. */
static void aml_pvpanic(struct writer *w, uint16_t port)
{
    const uint8_t crs[] = {
        0x47, 0x01, (uint8_t)port, (uint8_t)(port >> 8), (uint8_t)port, (uint8_t)(port >> 8),
        0x01, 0x01, /* IO: 16-bit decode, min = max, align 1, length 1 */
        0x79, 0x00, /* end tag */
    };
    uint64_t dev = aml_device_open(w, "PEVT");

    aml_name_string(w, "_HID", "QEMU0001");
    aml_name_buffer(w, "_CRS", crs, sizeof(crs));
    aml_close(w, dev);
}

/* ---- the tables ----------------------------------------------------------------------------- */

/* FACS (ACPI 5.2.10): required without HW_REDUCED; holds the global lock and waking vector. */
static uint64_t emit_facs(struct writer *w)
{
    w_align(w, 64); /* 5.2.10: 64-byte aligned */
    uint64_t start = w->pos;
    w_bytes(w, "FACS", 4);
    w32(w, FACS_LEN);
    w32(w, 0);  /* hardware signature */
    w32(w, 0);  /* firmware waking vector: no S3 */
    w32(w, 0);  /* global lock */
    w32(w, 0);  /* flags: no S4BIOS, no 64-bit wake */
    w64(w, 0);  /* X firmware waking vector */
    w8(w, 2);   /* version */
    w_zeros(w, 3);
    w32(w, 0);  /* OSPM flags */
    w_zeros(w, 24);
    return start;
}

static uint64_t emit_dsdt(struct writer *w, const struct acpi_gen_machine *m)
{
    uint64_t start = table_begin(w, "DSDT", 2); /* revision 2: 64-bit integers */

    aml_sleep_state(w, "_S0", 0);
    aml_sleep_state(w, "_S5", m->s5_slp_typ);
    w8(w, AML_SCOPE);
    uint64_t sb = aml_open(w);
    w8(w, AML_ROOT);
    aml_nameseg(w, "_SB");
    for (unsigned i = 0; i < m->cpu_count; i++)
        aml_processor(w, i);
    if (m->com1_present)
        aml_com1(w, m->com1_port, m->com1_irq);
    if (m->pvpanic_present)
        aml_pvpanic(w, m->pvpanic_port);
    aml_close(w, sb);
    table_end(w, start);
    return start;
}

static uint64_t emit_fadt(struct writer *w, const struct acpi_gen_machine *m, uint64_t facs,
                          uint64_t dsdt)
{
    uint32_t flags = FADT_WBINVD | FADT_PROC_C1 | FADT_SLP_BUTTON | FADT_FIX_RTC |
                     FADT_TMR_VAL_EXT | FADT_RESET_REG_SUP;
    uint64_t start = table_begin(w, "FACP", FADT_REVISION);

    if (!m->power_button)
        flags |= FADT_PWR_BUTTON;
    /* FIRMWARE_CTRL only: at most one of it and X_FIRMWARE_CTRL may be non-zero (5.2.9) */
    w32(w, (uint32_t)w_gpa(w, facs));        /* 36 FIRMWARE_CTRL */
    w32(w, (uint32_t)w_gpa(w, dsdt));        /* 40 DSDT */
    w8(w, 0);                                /* 44 reserved (was INT_MODEL) */
    w8(w, 0);                                /* 45 preferred PM profile: unspecified */
    w16(w, m->sci_irq);                      /* 46 SCI_INT */
    w32(w, 0);                               /* 48 SMI_CMD: none, ACPI mode is always on */
    w8(w, 0);                                /* 52 ACPI_ENABLE */
    w8(w, 0);                                /* 53 ACPI_DISABLE */
    w8(w, 0);                                /* 54 S4BIOS_REQ */
    w8(w, 0);                                /* 55 PSTATE_CNT */
    w32(w, m->pm1a_evt_port);                /* 56 PM1a_EVT_BLK */
    w32(w, 0);                               /* 60 PM1b_EVT_BLK */
    w32(w, m->pm1a_cnt_port);                /* 64 PM1a_CNT_BLK */
    w32(w, 0);                               /* 68 PM1b_CNT_BLK */
    w32(w, 0);                               /* 72 PM2_CNT_BLK */
    w32(w, m->pm_timer_port);                /* 76 PM_TMR_BLK */
    w32(w, 0);                               /* 80 GPE0_BLK: no general-purpose events */
    w32(w, 0);                               /* 84 GPE1_BLK */
    w8(w, ACPI_GEN_PM1_EVT_LEN);             /* 88 */
    w8(w, ACPI_GEN_PM1_CNT_LEN);             /* 89 */
    w8(w, 0);                                /* 90 PM2_CNT_LEN */
    w8(w, ACPI_GEN_PM_TMR_LEN);              /* 91 */
    w8(w, 0);                                /* 92 GPE0_BLK_LEN */
    w8(w, 0);                                /* 93 GPE1_BLK_LEN */
    w8(w, 0);                                /* 94 GPE1_BASE */
    w8(w, 0);                                /* 95 CST_CNT */
    w16(w, 101);                             /* 96 P_LVL2_LAT: over 100, no C2 */
    w16(w, 1001);                            /* 98 P_LVL3_LAT: over 1000, no C3 */
    w16(w, 0);                               /* 100 FLUSH_SIZE */
    w16(w, 0);                               /* 102 FLUSH_STRIDE */
    w8(w, 0);                                /* 104 DUTY_OFFSET */
    w8(w, 0);                                /* 105 DUTY_WIDTH */
    w8(w, 0);                                /* 106 DAY_ALRM: no RTC day alarm */
    w8(w, 0);                                /* 107 MON_ALRM */
    w8(w, m->rtc_century);                   /* 108 CENTURY */
    /* 109 IAPC_BOOT_ARCH: ISA devices (PIT, RTC, COM1) but no 8042 and no VGA; no PCI, so no
     * MSI either */
    w16(w, BOOT_LEGACY_DEVICES | BOOT_VGA_NOT_PRESENT | BOOT_MSI_NOT_SUPPORTED);
    w8(w, 0);                                /* 111 reserved */
    w32(w, flags);                           /* 112 Flags */
    w_gas_io(w, m->reset_port, 1, ACCESS_BYTE); /* 116 RESET_REG */
    w8(w, m->reset_value);                   /* 128 RESET_VALUE */
    w16(w, 0);                               /* 129 ARM_BOOT_ARCH */
    w8(w, FADT_MINOR);                       /* 131 FADT minor version */
    w64(w, 0);                               /* 132 X_FIRMWARE_CTRL: see FIRMWARE_CTRL */
    w64(w, w_gpa(w, dsdt));                  /* 140 X_DSDT: the same as DSDT */
    w_gas_io(w, m->pm1a_evt_port, ACPI_GEN_PM1_EVT_LEN, ACCESS_WORD); /* 148: two 16-bit regs */
    w_gas_none(w);                           /* 160 X_PM1b_EVT_BLK */
    w_gas_io(w, m->pm1a_cnt_port, ACPI_GEN_PM1_CNT_LEN, ACCESS_WORD); /* 172 */
    w_gas_none(w);                           /* 184 X_PM1b_CNT_BLK */
    w_gas_none(w);                           /* 196 X_PM2_CNT_BLK */
    w_gas_io(w, m->pm_timer_port, ACPI_GEN_PM_TMR_LEN, ACCESS_DWORD); /* 208 */
    w_gas_none(w);                           /* 220 X_GPE0_BLK */
    w_gas_none(w);                           /* 232 X_GPE1_BLK */
    w_gas_none(w);                           /* 244 SLEEP_CONTROL_REG: HW-reduced only */
    w_gas_none(w);                           /* 256 SLEEP_STATUS_REG */
    w_bytes(w, "TESSERA ", 8);               /* 268 hypervisor vendor identity */
    table_end(w, start);
    return start;
}

static uint64_t emit_madt(struct writer *w, const struct acpi_gen_machine *m)
{
    uint64_t start = table_begin(w, "APIC", MADT_REVISION);

    w32(w, m->lapic_address);
    w32(w, m->pic_present ? 1 : 0); /* PCAT_COMPAT */
    for (unsigned i = 0; i < m->cpu_count; i++) {
        w8(w, 0); /* Processor Local APIC (5.2.12.2) */
        w8(w, 8);
        w8(w, (uint8_t)i); /* ACPI processor UID */
        w8(w, m->apic_ids[i]);
        w32(w, 1); /* enabled */
    }
    w8(w, 1); /* I/O APIC (5.2.12.3) */
    w8(w, 12);
    w8(w, m->ioapic_id);
    w8(w, 0);
    w32(w, m->ioapic_address);
    w32(w, m->ioapic_gsi_base);
    for (unsigned i = 0; i < m->iso_count; i++) {
        w8(w, 2); /* Interrupt Source Override (5.2.12.5) */
        w8(w, 10);
        w8(w, 0); /* bus: ISA */
        w8(w, m->isos[i].source_irq);
        w32(w, m->isos[i].gsi);
        w16(w, m->isos[i].flags);
    }
    w8(w, 4); /* Local APIC NMI (5.2.12.7): LINT1 of every CPU, as on a PC */
    w8(w, 6);
    w8(w, 0xff); /* all processors */
    w16(w, ACPI_INTI_POLARITY_HIGH | ACPI_INTI_TRIGGER_EDGE);
    w8(w, 1);
    table_end(w, start);
    return start;
}

static uint64_t emit_root(struct writer *w, int xsdt, uint64_t fadt, uint64_t madt)
{
    uint64_t start = table_begin(w, xsdt ? "XSDT" : "RSDT", 1);

    if (xsdt) {
        w64(w, w_gpa(w, fadt));
        w64(w, w_gpa(w, madt));
    } else {
        w32(w, (uint32_t)w_gpa(w, fadt));
        w32(w, (uint32_t)w_gpa(w, madt));
    }
    table_end(w, start);
    return start;
}

/* RSDP (5.2.5.3) at rsdp, reserved earlier: revision 2 with the checksum of the first 20
 * bytes and the extended checksum of all 36. */
static void fill_rsdp(struct writer *w, uint64_t rsdp, uint64_t rsdt, uint64_t xsdt)
{
    uint8_t *r = w_at(w, rsdp, RSDP_LEN);

    if (!r)
        return;
    memset(r, 0, RSDP_LEN);
    memcpy(r, "RSD PTR ", 8);
    memcpy(r + 9, oem_id, 6);
    r[15] = 2;
    wr32(r + 16, (uint32_t)w_gpa(w, rsdt));
    wr32(r + 20, RSDP_LEN);
    wr64(r + 24, w_gpa(w, xsdt));
    r[8] = (uint8_t)(0 - sum8(r, 20));
    r[32] = (uint8_t)(0 - sum8(r, RSDP_LEN));
}

static void emit_all(struct writer *w, const struct acpi_gen_machine *m,
                     struct acpi_gen_layout *l)
{
    w_align(w, 16); /* 5.2.5.1: the RSDP sits on a 16-byte boundary */
    uint64_t rsdp = w->pos;
    w_zeros(w, RSDP_LEN);
    uint64_t facs = emit_facs(w);
    uint64_t dsdt = emit_dsdt(w, m);
    uint64_t fadt = emit_fadt(w, m, facs, dsdt);
    uint64_t madt = emit_madt(w, m);
    uint64_t xsdt = emit_root(w, 1, fadt, madt);
    uint64_t rsdt = emit_root(w, 0, fadt, madt);
    fill_rsdp(w, rsdp, rsdt, xsdt);

    l->rsdp = w_gpa(w, rsdp);
    l->facs = w_gpa(w, facs);
    l->dsdt = w_gpa(w, dsdt);
    l->fadt = w_gpa(w, fadt);
    l->madt = w_gpa(w, madt);
    l->xsdt = w_gpa(w, xsdt);
    l->rsdt = w_gpa(w, rsdt);
    l->size = w->pos;
}

/* ---- checking the description ------------------------------------------------------------- */

/* Whether [a, a + alen) and [b, b + blen) share a port. */
static bool ports_overlap(uint32_t a, uint32_t alen, uint32_t b, uint32_t blen)
{
    return a < b + blen && b < a + alen;
}

static int check_machine(const struct acpi_gen_machine *m)
{
    if (m->cpu_count == 0 || m->cpu_count > ACPI_GEN_MAX_CPUS)
        return -EINVAL;
    for (unsigned i = 0; i < m->cpu_count; i++) {
        if (m->apic_ids[i] == 0xff) /* "no valid APIC id" in a local APIC entry */
            return -EINVAL;
        for (unsigned j = 0; j < i; j++)
            if (m->apic_ids[i] == m->apic_ids[j])
                return -EINVAL;
    }
    if (m->iso_count > ACPI_GEN_MAX_ISOS)
        return -EINVAL;
    for (unsigned i = 0; i < m->iso_count; i++) {
        uint16_t f = m->isos[i].flags;
        /* polarity 2 and trigger mode 2 are reserved; bits 4-15 too */
        if (m->isos[i].source_irq >= 16 || (f & 0x3) == 0x2 || (f & 0xc) == 0x8 || f > 0xf)
            return -EINVAL;
    }

    const struct { uint32_t port, len; } blocks[] = {
        { m->pm1a_evt_port, ACPI_GEN_PM1_EVT_LEN },
        { m->pm1a_cnt_port, ACPI_GEN_PM1_CNT_LEN },
        { m->pm_timer_port, ACPI_GEN_PM_TMR_LEN },
        { m->reset_port, 1 },
        { m->com1_present ? m->com1_port : 0, 8 },
        { m->pvpanic_present ? m->pvpanic_port : 0, 1 },
    };
    const unsigned nblocks = sizeof(blocks) / sizeof(blocks[0]);
    for (unsigned i = 0; i < nblocks; i++) {
        if ((i == nblocks - 2 && !m->com1_present) || (i == nblocks - 1 && !m->pvpanic_present))
            continue;
        if (blocks[i].port == 0 || blocks[i].port + blocks[i].len > 0x10000)
            return -EINVAL;
        for (unsigned j = 0; j < i; j++)
            if (blocks[j].port &&
                ports_overlap(blocks[i].port, blocks[i].len, blocks[j].port, blocks[j].len))
                return -EINVAL;
    }
    if (m->com1_present && m->com1_irq >= 16)
        return -EINVAL;
    if (m->sci_irq == 0 || m->s5_slp_typ == 0 || m->s5_slp_typ > 7)
        return -EINVAL;
    return 0;
}

int acpi_gen_build(const struct acpi_gen_machine *m, void *buf, uint64_t size,
                   struct acpi_gen_layout *layout)
{
    struct writer measure = { NULL, UINT64_MAX, 0, 0, false };
    struct acpi_gen_layout l;
    int err;

    if (!m || !layout || (size && !buf))
        return -EINVAL;
    memset(layout, 0, sizeof(*layout));
    err = check_machine(m);
    if (err)
        return err;
    if (m->tables_gpa >= TABLES_LIMIT)
        return -ERANGE;

    measure.base = m->tables_gpa;
    emit_all(&measure, m, &l);
    if (measure.overflow)
        return -EINVAL; /* an AML package too large to encode: cannot happen with these limits */
    if (l.size > TABLES_LIMIT - m->tables_gpa)
        return -ERANGE;
    if (l.size > size) {
        layout->size = l.size;
        return -ENOSPC;
    }

    struct writer w = { buf, size, 0, m->tables_gpa, false };
    emit_all(&w, m, &l);
    if (w.overflow || l.size != measure.pos)
        return -ENOSPC; /* the checked writer stopped at the end: nothing past size */
    *layout = l;
    return 0;
}

void acpi_gen_machine_pc(struct acpi_gen_machine *m, unsigned cpu_count, uint64_t tables_gpa)
{
    memset(m, 0, sizeof(*m));
    m->cpu_count = cpu_count;
    for (unsigned i = 0; i < cpu_count && i < ACPI_GEN_MAX_CPUS; i++)
        m->apic_ids[i] = (uint8_t)i;
    m->lapic_address = 0xfee00000;
    /* the I/O APIC's id follows the CPUs': xAPIC ids share one bus */
    m->ioapic_id = (uint8_t)(cpu_count < ACPI_GEN_MAX_CPUS ? cpu_count : ACPI_GEN_MAX_CPUS);
    m->ioapic_address = 0xfec00000;
    m->ioapic_gsi_base = 0;
    /* The PIT (ISA IRQ 0) is wired to I/O APIC input 2, as on every PC since the MPS; the SCI
     * is a level interrupt, active high so that the line a model raises is the asserted one
     * (ACPI 5.2.9: SCI_INT is "sharable, level, active low" unless an override says so). */
    m->isos[0] = (struct acpi_gen_iso){ 0, 2, ACPI_INTI_POLARITY_HIGH | ACPI_INTI_TRIGGER_EDGE };
    m->isos[1] = (struct acpi_gen_iso){ ACPI_GEN_SCI_IRQ, ACPI_GEN_SCI_IRQ,
                                        ACPI_INTI_POLARITY_HIGH | ACPI_INTI_TRIGGER_LEVEL };
    m->iso_count = 2;
    m->pic_present = true;
    m->pm1a_evt_port = ACPI_GEN_PM1A_EVT_PORT;
    m->pm1a_cnt_port = ACPI_GEN_PM1A_CNT_PORT;
    m->pm_timer_port = ACPI_GEN_PM_TMR_PORT;
    m->reset_port = ACPI_GEN_RESET_PORT;
    m->reset_value = ACPI_GEN_RESET_VALUE;
    m->sci_irq = ACPI_GEN_SCI_IRQ;
    m->s5_slp_typ = ACPI_GEN_S5_SLP_TYP;
    m->power_button = true;
    m->rtc_century = ACPI_GEN_RTC_CENTURY;
    m->com1_present = true;
    m->com1_port = 0x3f8;
    m->com1_irq = 4;
    m->pvpanic_present = true;
    m->pvpanic_port = ACPI_GEN_PVPANIC_PORT;
    m->tables_gpa = tables_gpa;
}
