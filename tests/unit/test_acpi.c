/* UNIT-SOURCES: kernel/acpi/acpi.c kernel/lib/printf.c kernel/lib/string.c */
/* ACPI parsing on real captured tables (tests/unit/data, see README there) placed in a fake
 * physical memory, and on synthetic tables for every error path. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libgen.h>
#include <cmocka.h>

#include <tessera/acpi.h>
#include <tessera/bytes.h>
#include <tessera/errno.h>

/* ---- fake physical memory: separately allocated blocks, so ASan catches any overread ------- */

#define MAX_BLOCKS 16
struct block {
    uint64_t phys;
    uint8_t *data;
    uint64_t len;
};
struct mem {
    unsigned n;
    struct block b[MAX_BLOCKS];
    unsigned maps; /* calls to the map function */
    uint64_t unbounded; /* a block mapped like the kernel maps memory: len not checked */
};

static const void *map_mem(void *ctx, uint64_t phys, uint64_t len)
{
    struct mem *m = ctx;

    m->maps++;
    for (unsigned i = 0; i < m->n; i++) {
        struct block *b = &m->b[i];
        if (phys >= b->phys && phys - b->phys <= b->len &&
            (len <= b->len - (phys - b->phys) || b->phys == m->unbounded))
            return b->data + (phys - b->phys);
    }
    return NULL;
}

static uint8_t *mem_put(struct mem *m, uint64_t phys, uint8_t *data, uint64_t len)
{
    assert_true(m->n < MAX_BLOCKS);
    m->b[m->n].phys = phys;
    m->b[m->n].data = data;
    m->b[m->n].len = len;
    m->n++;
    return data;
}

static uint8_t *mem_at(struct mem *m, uint64_t phys)
{
    for (unsigned i = 0; i < m->n; i++)
        if (m->b[i].phys == phys)
            return m->b[i].data;
    fail_msg("no block at 0x%llx", (unsigned long long)phys);
    return NULL;
}

/* Drops the block at phys: the table is no longer reachable. */
static void mem_remove(struct mem *m, uint64_t phys)
{
    for (unsigned i = 0; i < m->n; i++)
        if (m->b[i].phys == phys) {
            free(m->b[i].data);
            m->b[i] = m->b[--m->n];
            return;
        }
    fail_msg("no block at 0x%llx", (unsigned long long)phys);
}

static void mem_free(struct mem *m)
{
    for (unsigned i = 0; i < m->n; i++)
        free(m->b[i].data);
    free(m);
}

/* ---- table builders ------------------------------------------------------------------------ */

static void wr_gas(uint8_t *p, uint8_t space, uint8_t width, uint64_t addr)
{
    p[0] = space;
    p[1] = width;
    p[2] = 0;
    p[3] = 0;
    wr64(p + 4, addr);
}

static uint8_t checksum_of(const uint8_t *p, uint32_t n)
{
    uint8_t s = 0;
    for (uint32_t i = 0; i < n; i++)
        s += p[i];
    return s;
}

/* Makes the byte sum of a table zero again after an edit (checksum byte at offset 9). */
static void table_fix(uint8_t *t)
{
    t[9] = 0;
    t[9] = (uint8_t)(0 - checksum_of(t, rd32(t + 4)));
}

static uint8_t *table_new(const char *sig, uint8_t revision, uint32_t len)
{
    uint8_t *t = calloc(1, len);
    assert_non_null(t);
    memcpy(t, sig, 4);
    wr32(t + 4, len);
    t[8] = revision;
    memcpy(t + 10, "TSTOEM", 6);
    memcpy(t + 16, "TSTTABLE", 8);
    table_fix(t);
    return t;
}

static uint8_t *rsdp_new(uint8_t revision, uint32_t rsdt, uint64_t xsdt, uint32_t *len)
{
    uint32_t l = revision >= 2 ? 36 : 20;
    uint8_t *r = calloc(1, l);
    assert_non_null(r);
    memcpy(r, "RSD PTR ", 8);
    memcpy(r + 9, "TSTOEM", 6);
    r[15] = revision;
    wr32(r + 16, rsdt);
    if (revision >= 2) {
        wr32(r + 20, 36);
        wr64(r + 24, xsdt);
    }
    r[8] = (uint8_t)(0 - checksum_of(r, 20));
    if (revision >= 2)
        r[32] = (uint8_t)(0 - checksum_of(r, 36));
    *len = l;
    return r;
}

/* XSDT (8-byte entries) or RSDT (4-byte entries) listing the given tables. */
static uint8_t *root_new(int xsdt, const uint64_t *entries, unsigned n, uint32_t *len)
{
    uint32_t esize = xsdt ? 8 : 4;
    uint8_t *t = table_new(xsdt ? "XSDT" : "RSDT", 1, 36 + n * esize);
    for (unsigned i = 0; i < n; i++) {
        if (xsdt)
            wr64(t + 36 + i * 8, entries[i]);
        else
            wr32(t + 36 + i * 4, (uint32_t)entries[i]);
    }
    table_fix(t);
    *len = 36 + n * esize;
    return t;
}

static void put_rsdp(struct mem *m, uint64_t phys, uint8_t rev, uint32_t rsdt, uint64_t xsdt)
{
    uint32_t len;
    uint8_t *r = rsdp_new(rev, rsdt, xsdt, &len);
    mem_put(m, phys, r, len);
}

static void put_root(struct mem *m, uint64_t phys, int xsdt, const uint64_t *e, unsigned n)
{
    uint32_t len;
    uint8_t *t = root_new(xsdt, e, n, &len);
    mem_put(m, phys, t, len);
}

static void put_table(struct mem *m, uint64_t phys, uint8_t *t)
{
    mem_put(m, phys, t, rd32(t + 4));
}

/* ---- captured tables ----------------------------------------------------------------------- */

/* Checks that t is exactly one whole table and hands back a copy of its bytes. */
static uint8_t *whole_table(const uint8_t *t, size_t got, uint32_t *len)
{
    assert_true(got >= 36);
    assert_int_equal(rd32(t + 4), got);
    assert_int_equal(checksum_of(t, (uint32_t)got), 0);
    uint8_t *copy = malloc(got);
    assert_non_null(copy);
    memcpy(copy, t, got);
    *len = (uint32_t)got;
    return copy;
}

/* A captured table kept as text (tests/unit/data/NAME.hex: hex bytes, '#' comment lines). */
static uint8_t *load_capture(const char *name, uint32_t *len)
{
    char path[4096], exe[4096];
    FILE *f;
    ssize_t n;

    /* from the repository root (how make runs us), else relative to this binary in build/unit */
    snprintf(path, sizeof(path), "tests/unit/data/%s.hex", name);
    f = fopen(path, "r");
    if (!f && (n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) > 0) {
        exe[n] = 0;
        snprintf(path, sizeof(path), "%s/../../tests/unit/data/%s.hex", dirname(exe), name);
        f = fopen(path, "r");
    }
    if (!f)
        fail_msg("cannot open captured table %s", name);
    static uint8_t buf[1 << 16];
    size_t got = 0;
    char line[512];
    while (fgets(line, sizeof(line), f)) {
        if (line[0] == '#')
            continue;
        char *p = line, *end;
        for (unsigned long b; (b = strtoul(p, &end, 16)), end != p; p = end) {
            assert_true(b <= 0xff && got < sizeof(buf));
            buf[got++] = (uint8_t)b;
        }
    }
    fclose(f);
    return whole_table(buf, got, len);
}

/* The DSDT the Bochs test platform really uses, read from the installed Bochs BIOS image (Debian
 * package bochsbios): the first "DSDT" header there whose length and checksum hold. */
static uint8_t *load_bochs_dsdt(uint32_t *len)
{
    FILE *f = fopen("/usr/share/bochs/BIOS-bochs-latest", "rb");
    if (!f)
        fail_msg("cannot open /usr/share/bochs/BIOS-bochs-latest (package bochsbios)");
    static uint8_t rom[1 << 20];
    size_t size = fread(rom, 1, sizeof(rom), f);
    fclose(f);
    for (size_t i = 0; i + 36 <= size; i++) {
        uint32_t l = rd32(rom + i + 4);
        if (memcmp(rom + i, "DSDT", 4) == 0 && l >= 36 && l <= size - i &&
            checksum_of(rom + i, l) == 0)
            return whole_table(rom + i, l, len);
    }
    fail_msg("no valid DSDT in the Bochs BIOS image");
    return NULL;
}

static void put_capture(struct mem *m, uint64_t phys, const char *name)
{
    uint32_t len;
    uint8_t *t = load_capture(name, &len);
    mem_put(m, phys, t, len);
}

#define assert_contains(hay, needle)                                                        \
    do {                                                                                     \
        if (!strstr((hay), (needle)))                                                        \
            fail_msg("\"%s\" does not contain \"%s\"", (hay), (needle));                    \
    } while (0)

/* ---- a synthetic PC: RSDP, XSDT and RSDT, MADT, FADT, DSDT, HPET ---------------------------- */

enum {
    RSDP_AT = 0xe0000,
    XSDT_AT = 0x7fe0000,
    RSDT_AT = 0x7fe0800,
    MADT_AT = 0x7fe1000,
    FADT_AT = 0x7fe2000,
    DSDT_AT = 0x7fe3000,
    HPET_AT = 0x7fe4000,
    OTHER_AT = 0x7fe5000,
};

static uint8_t *madt_new(uint8_t revision, const uint8_t *entries, uint32_t n)
{
    uint8_t *t = table_new("APIC", revision, 44 + n);
    wr32(t + 36, 0xfee00000);
    wr32(t + 40, 1); /* PCAT_COMPAT */
    if (n)
        memcpy(t + 44, entries, n);
    table_fix(t);
    return t;
}

static const uint8_t std_madt_entries[] = {
    0, 8, 0, 0, 1, 0, 0, 0,                         /* LAPIC uid 0, id 0, enabled */
    0, 8, 1, 2, 1, 0, 0, 0,                         /* LAPIC uid 1, id 2, enabled */
    1, 12, 3, 0, 0x00, 0x00, 0xc0, 0xfe, 0, 0, 0, 0, /* I/O APIC id 3 at 0xfec00000, GSI 0 */
    2, 10, 0, 0, 2, 0, 0, 0, 0, 0,                  /* interrupt override: skipped */
    4, 6, 0xff, 0, 0, 1,                            /* LAPIC NMI: skipped */
};

/* An ACPI 6 FADT (276 bytes) like QEMU's q35 one, with the reset register. */
static uint8_t *fadt_new(void)
{
    uint8_t *t = table_new("FACP", 6, 276);
    wr32(t + 40, DSDT_AT);
    wr16(t + 46, 9);       /* SCI */
    wr32(t + 48, 0xb2);    /* SMI_CMD */
    t[52] = 0xf1;          /* ACPI_ENABLE */
    wr32(t + 56, 0x600);   /* PM1a_EVT */
    wr32(t + 64, 0x604);   /* PM1a_CNT */
    wr32(t + 76, 0x608);   /* PM_TMR */
    wr32(t + 80, 0x620);   /* GPE0_BLK */
    t[92] = 16;            /* GPE0_BLK_LEN */
    t[88] = 4;
    t[89] = 2;             /* PM1_CNT_LEN */
    t[91] = 4;             /* PM_TMR_LEN */
    wr16(t + 109, 0x2);    /* 8042 present */
    wr32(t + 112, (1u << 10) | (1u << 8)); /* RESET_REG_SUP, TMR_VAL_EXT */
    wr_gas(t + 116, 1, 8, 0xcf9);
    t[128] = 0x06;
    wr64(t + 140, DSDT_AT);
    wr_gas(t + 172, 1, 16, 0x604); /* X_PM1a_CNT */
    wr_gas(t + 208, 1, 32, 0x608); /* X_PM_TMR */
    table_fix(t);
    return t;
}

/* Name(_S5_, Package(4) { 5, 5, 0, 0 }) after a reference to _S5_ that is not its definition. */
static const uint8_t std_aml[] = {
    0x10, 0x0a, '\\', '_', 'S', 'B', '_', 'X', '_', 'S', '5', '_', /* junk naming _S5_ */
    0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00,
    0x08, '_', 'S', '6', '_', 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00,
};

static uint8_t *dsdt_new(const uint8_t *aml, uint32_t n)
{
    uint8_t *t = table_new("DSDT", 2, 36 + n);
    memcpy(t + 36, aml, n);
    table_fix(t);
    return t;
}

static uint8_t *hpet_new(uint8_t space, uint64_t addr)
{
    uint8_t *t = table_new("HPET", 1, 56);
    wr32(t + 36, 0x8086a201);
    wr_gas(t + 40, space, 64, addr);
    table_fix(t);
    return t;
}

static struct mem *std_system(void)
{
    struct mem *m = calloc(1, sizeof(*m));
    assert_non_null(m);
    const uint64_t x[] = { FADT_AT, MADT_AT, HPET_AT };
    put_rsdp(m, RSDP_AT, 2, RSDT_AT, XSDT_AT);
    put_root(m, XSDT_AT, 1, x, 3);
    put_root(m, RSDT_AT, 0, x, 3);
    put_table(m, MADT_AT, madt_new(5, std_madt_entries, sizeof(std_madt_entries)));
    put_table(m, FADT_AT, fadt_new());
    put_table(m, DSDT_AT, dsdt_new(std_aml, sizeof(std_aml)));
    put_table(m, HPET_AT, hpet_new(0, 0xfed00000));
    return m;
}

static int parse(struct mem *m, struct acpi_info *info)
{
    return acpi_parse(RSDP_AT, 0, map_mem, m, info);
}

/* ---- tests: captured tables ------------------------------------------------------------------ */

/* Tables of this machine (a Firecracker VM: hardware-reduced ACPI 6, no \_S5), placed where
 * its FADT's X_DSDT says the DSDT lives. */
static void check_firecracker(int xsdt)
{
    struct mem *m = calloc(1, sizeof(*m));
    struct acpi_info info;
    const uint64_t e[] = { 0x80000, 0x81000, 0x82000 };

    assert_non_null(m);
    put_capture(m, 0x80000, "fc-FACP");
    put_capture(m, 0x81000, "fc-APIC");
    put_capture(m, 0x82000, "fc-MCFG");
    put_capture(m, 0x9fd44, "fc-DSDT");
    put_root(m, 0x83000, xsdt, e, 3);
    put_rsdp(m, RSDP_AT, xsdt ? 2 : 0, xsdt ? 0 : 0x83000, xsdt ? 0x83000 : 0);

    assert_int_equal(parse(m, &info), 0);
    assert_string_equal(info.error, "");
    assert_int_equal(info.rsdp_revision, xsdt ? 2 : 0);
    assert_int_equal(info.uses_xsdt, xsdt);
    assert_int_equal(info.root_phys, 0x83000);
    assert_string_equal(info.oem_id, "TSTOEM");

    assert_true(info.has_madt);
    assert_int_equal(info.lapic_address, 0xfee00000);
    assert_int_equal(info.cpu_count, 2);
    assert_int_equal(info.cpus_enabled, 2);
    assert_int_equal(info.cpus[0].apic_id, 0);
    assert_int_equal(info.cpus[1].apic_id, 1);
    assert_int_equal(info.cpus[1].uid, 1);
    assert_true(info.cpus[0].enabled);
    assert_false(info.cpus[0].x2apic);
    assert_int_equal(info.ioapic_count, 1);
    assert_int_equal(info.ioapics[0].address, 0xfec00000);
    assert_int_equal(info.ioapics[0].gsi_base, 0);

    assert_true(info.has_fadt);
    assert_int_equal(info.fadt_revision, 6);
    assert_int_equal(info.fadt_flags, 0x00100030);
    assert_true(info.fadt_flags & ACPI_FADT_HW_REDUCED);
    assert_int_equal(info.iapc_boot_arch, 0x0004);
    assert_int_equal(info.dsdt_phys, 0x9fd44);
    assert_int_equal(info.pm1a_cnt.address, 0); /* hardware-reduced: no PM1 blocks */
    assert_int_equal(info.smi_cmd, 0);
    assert_false(info.reset_supported);
    assert_false(info.has_s5);
    assert_false(info.has_hpet);
    assert_string_equal(info.warning, "DSDT: no \\_S5 object"); /* parsed, but none there */
    mem_free(m);
}

static void test_captured_firecracker_xsdt(void **state)
{
    (void)state;
    check_firecracker(1);
}

static void test_captured_firecracker_rsdt(void **state)
{
    (void)state;
    check_firecracker(0);
}

/* Bochs's own DSDT (from its BIOS image) behind an ACPI 1.0 FADT like the Bochs BIOS builds:
 * \_S5 is Package { Zero, Zero, Zero, Zero }, so power-off writes SLP_TYP 0 | SLP_EN to 0xb004. */
static void test_captured_bochs_dsdt_s5(void **state)
{
    (void)state;
    struct mem *m = calloc(1, sizeof(*m));
    struct acpi_info info;
    const uint64_t e[] = { MADT_AT, FADT_AT };

    assert_non_null(m);
    put_rsdp(m, RSDP_AT, 0, RSDT_AT, 0);
    put_root(m, RSDT_AT, 0, e, 2);
    put_table(m, MADT_AT, madt_new(1, std_madt_entries, sizeof(std_madt_entries)));
    uint8_t *f = table_new("FACP", 1, 116);
    wr32(f + 40, DSDT_AT);
    wr32(f + 48, 0xb2);
    f[52] = 0xf1;
    wr32(f + 64, 0xb004);
    wr32(f + 76, 0xb008);
    f[89] = 2;
    f[91] = 4;
    table_fix(f);
    put_table(m, FADT_AT, f);
    uint32_t dsdt_len;
    uint8_t *dsdt = load_bochs_dsdt(&dsdt_len);
    mem_put(m, DSDT_AT, dsdt, dsdt_len);

    assert_int_equal(parse(m, &info), 0);
    assert_string_equal(info.warning, "");
    assert_true(info.has_s5);
    assert_int_equal(info.s5_slp_typ_a, 0);
    assert_int_equal(info.s5_slp_typ_b, 0);
    assert_int_equal(info.pm1a_cnt.space_id, ACPI_GAS_IO);
    assert_int_equal(info.pm1a_cnt.address, 0xb004);
    assert_int_equal(info.pm1a_cnt.bit_width, 16);
    assert_int_equal(info.pm1b_cnt.address, 0);
    assert_int_equal(info.pm_timer.address, 0xb008);
    assert_int_equal(info.pm_timer.bit_width, 32);
    assert_int_equal(info.smi_cmd, 0xb2);
    assert_int_equal(info.acpi_enable, 0xf1);
    assert_false(info.reset_supported); /* ACPI 1.0 FADT has no reset register */
    assert_int_equal(info.dsdt_phys, DSDT_AT);
    /* MADT revision 1: flags bit 1 is reserved, not online-capable */
    assert_int_equal(info.cpu_count, 2);
    mem_free(m);
}

/* ---- tests: the synthetic PC ------------------------------------------------------------------ */

static void test_synthetic_full(void **state)
{
    (void)state;
    struct mem *m = std_system();
    struct acpi_info info;

    assert_int_equal(parse(m, &info), 0);
    assert_string_equal(info.error, "");
    assert_string_equal(info.warning, "");
    assert_int_equal(info.rsdp_revision, 2);
    assert_true(info.uses_xsdt); /* preferred over the RSDT */
    assert_int_equal(info.root_phys, XSDT_AT);
    assert_int_equal(info.madt_flags, 1);
    assert_int_equal(info.cpu_count, 2);
    assert_int_equal(info.cpus[1].apic_id, 2);
    assert_int_equal(info.cpus[1].uid, 1);
    assert_int_equal(info.ioapic_count, 1);
    assert_int_equal(info.ioapics[0].id, 3);
    assert_int_equal(info.sci_irq, 9);
    assert_int_equal(info.iapc_boot_arch, 2);
    assert_int_equal(info.pm1a_cnt.address, 0x604);
    assert_int_equal(info.pm1a_cnt.bit_width, 16);
    assert_int_equal(info.pm1a_evt.address, 0x600);
    assert_int_equal(info.pm1a_evt.bit_width, 32); /* PM1_EVT_LEN 4 */
    assert_int_equal(info.pm1b_evt.address, 0);
    assert_int_equal(info.pm2_cnt.address, 0);
    assert_int_equal(info.gpe0.space_id, ACPI_GAS_IO);
    assert_int_equal(info.gpe0.address, 0x620);
    assert_int_equal(info.gpe0.bit_width, 128); /* GPE0_BLK_LEN 16 */
    assert_int_equal(info.gpe1.address, 0);
    assert_true(info.reset_supported);
    assert_int_equal(info.reset_reg.space_id, ACPI_GAS_IO);
    assert_int_equal(info.reset_reg.address, 0xcf9);
    assert_int_equal(info.reset_value, 6);
    assert_true(info.fadt_flags & ACPI_FADT_TMR_VAL_EXT);
    assert_true(info.has_s5);
    assert_int_equal(info.s5_slp_typ_a, 5);
    assert_int_equal(info.s5_slp_typ_b, 5);
    assert_true(info.has_hpet);
    assert_int_equal(info.hpet_address, 0xfed00000);
    mem_free(m);
}

static void test_fadt_x_fields_win(void **state)
{
    (void)state;
    struct mem *m = std_system();
    struct acpi_info info;
    uint8_t *f = mem_at(m, FADT_AT);

    wr32(f + 40, 0x12345678);                  /* stale 32-bit DSDT: ignored */
    wr_gas(f + 172, 0, 32, 0xfe000004);        /* X_PM1a_CNT in memory space */
    wr_gas(f + 184, 1, 16, 0x704);             /* X_PM1b_CNT */
    wr_gas(f + 244, 0, 8, 0xfe000100);         /* SLEEP_CONTROL_REG */
    wr_gas(f + 256, 0, 8, 0xfe000101);         /* SLEEP_STATUS_REG */
    table_fix(f);
    assert_int_equal(parse(m, &info), 0);
    assert_int_equal(info.dsdt_phys, DSDT_AT);
    assert_int_equal(info.pm1a_cnt.space_id, ACPI_GAS_MEMORY);
    assert_int_equal(info.pm1a_cnt.address, 0xfe000004);
    assert_int_equal(info.pm1a_cnt.bit_width, 32);
    assert_int_equal(info.pm1b_cnt.address, 0x704);
    assert_int_equal(info.sleep_control.address, 0xfe000100);
    assert_int_equal(info.sleep_status.address, 0xfe000101);
    assert_true(info.has_s5);
    mem_free(m);
}

/* Whether one reserved range covers all of [first, last], and what it is called. */
static const char *pm_ports_cover(const struct acpi_info *info, uint16_t first, uint16_t last)
{
    struct acpi_port_range r[ACPI_MAX_PM_PORT_RANGES];
    unsigned n = acpi_pm_ports(info, r, ACPI_MAX_PM_PORT_RANGES);

    for (unsigned i = 0; i < n; i++)
        if (r[i].first <= first && r[i].last >= last)
            return r[i].owner;
    for (unsigned i = 0; i < n; i++)
        print_message("  reserved 0x%x-0x%x %s\n", r[i].first, r[i].last, r[i].owner);
    return NULL;
}

/* I/O blocks longer than 32 bytes (GPE0_BLK_LEN = 0x40 is common) are reserved whole: a GAS
 * bit width (8 bits) cannot describe them, the FADT's byte-length fields can. */
static void test_fadt_long_blocks_reserved_whole(void **state)
{
    (void)state;
    struct mem *m = std_system();
    struct acpi_info info;
    uint8_t *f = mem_at(m, FADT_AT);
    const char *owner;

    wr32(f + 80, 0xafe0); /* GPE0_BLK */
    f[92] = 0x40;         /* GPE0_BLK_LEN: 0xafe0-0xb01f */
    wr32(f + 60, 0x1000); /* PM1b_EVT_BLK */
    f[88] = 85;           /* PM1_EVT_LEN: 0x1000-0x1054 (and PM1a 0x600-0x654) */
    table_fix(f);
    assert_int_equal(parse(m, &info), 0);
    owner = pm_ports_cover(&info, 0xafe0, 0xb01f);
    assert_non_null(owner);
    assert_string_equal(owner, "ACPI GPE0 block");
    owner = pm_ports_cover(&info, 0x1000, 0x1054);
    assert_non_null(owner);
    assert_string_equal(owner, "ACPI PM1b event block");
    assert_non_null(pm_ports_cover(&info, 0x600, 0x654));

    /* an X_GPE0_BLK elsewhere: the byte length applies to it; the 32-bit port stays reserved */
    wr_gas(f + 220, ACPI_GAS_IO, 8, 0xffe0); /* 0x40 bytes would pass 0xffff: cut there */
    table_fix(f);
    assert_int_equal(parse(m, &info), 0);
    assert_int_equal(info.gpe0.address, 0xffe0);
    assert_non_null(pm_ports_cover(&info, 0xffe0, 0xffff));
    assert_non_null(pm_ports_cover(&info, 0xafe0, 0xb01f));
    mem_free(m);
}

static void test_fadt_reset_not_supported(void **state)
{
    (void)state;
    struct mem *m = std_system();
    struct acpi_info info;
    uint8_t *f = mem_at(m, FADT_AT);

    wr32(f + 112, 0); /* RESET_REG_SUP clear: the register must not be used */
    table_fix(f);
    assert_int_equal(parse(m, &info), 0);
    assert_false(info.reset_supported);

    wr32(f + 112, 1u << 10);
    wr_gas(f + 116, 1, 8, 0); /* flag set but no address */
    table_fix(f);
    assert_int_equal(parse(m, &info), 0);
    assert_false(info.reset_supported);
    mem_free(m);
}

static void test_fadt_without_pm1a_warns(void **state)
{
    (void)state;
    struct mem *m = std_system();
    struct acpi_info info;
    uint8_t *f = mem_at(m, FADT_AT);

    wr32(f + 64, 0);
    memset(f + 172, 0, 12);
    table_fix(f);
    assert_int_equal(parse(m, &info), 0);
    assert_int_equal(info.pm1a_cnt.address, 0);
    assert_string_equal(info.warning, "FADT: no PM1a control block");
    mem_free(m);
}

/* x2APIC entries, disabled and online-capable CPUs, duplicates, the address override. */
static void test_madt_x2apic_and_flags(void **state)
{
    (void)state;
    struct mem *m = std_system();
    struct acpi_info info;
    const uint8_t entries[] = {
        0, 8, 0, 0, 1, 0, 0, 0,                 /* LAPIC id 0 enabled */
        0, 8, 1, 1, 0, 0, 0, 0,                 /* id 1 disabled, not online-capable */
        0, 8, 2, 2, 2, 0, 0, 0,                 /* id 2 online-capable */
        0, 8, 3, 0xff, 1, 0, 0, 0,              /* id 0xff: invalid, skipped */
        9, 16, 0, 0, 0x00, 0x01, 0, 0, 1, 0, 0, 0, 0x10, 0, 0, 0, /* x2APIC id 0x100, uid 16 */
        9, 16, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0x11, 0, 0, 0,       /* x2APIC id 0: duplicate */
        9, 16, 0, 0, 0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0, 0, 0, 0, 0, /* id ~0: skipped */
        9, 16, 0, 0, 0x05, 0x01, 0, 0, 0, 0, 0, 0, 0x12, 0, 0, 0, /* disabled x2APIC */
        5, 12, 0, 0, 0x00, 0x00, 0xe0, 0xfe, 0x01, 0, 0, 0,       /* LAPIC at 0x1fee00000 */
    };
    mem_remove(m, MADT_AT);
    put_table(m, MADT_AT, madt_new(5, entries, sizeof(entries)));

    assert_int_equal(parse(m, &info), 0);
    assert_int_equal(info.lapic_address, 0x1fee00000ULL);
    assert_int_equal(info.cpu_count, 3);
    assert_int_equal(info.cpus_enabled, 2);
    assert_int_equal(info.cpus_unusable, 2);
    assert_int_equal(info.cpus[0].apic_id, 0);
    assert_false(info.cpus[0].x2apic);
    assert_int_equal(info.cpus[1].apic_id, 2);
    assert_false(info.cpus[1].enabled);
    assert_true(info.cpus[1].online_capable);
    assert_int_equal(info.cpus[2].apic_id, 0x100);
    assert_int_equal(info.cpus[2].uid, 16);
    assert_true(info.cpus[2].x2apic);
    assert_true(info.cpus[2].enabled);
    assert_int_equal(info.ioapic_count, 0);
    mem_free(m);
}

/* Before MADT revision 5, flags bit 1 was reserved: it must not make a CPU online-capable. */
static void test_madt_old_revision_ignores_online_capable(void **state)
{
    (void)state;
    struct mem *m = std_system();
    struct acpi_info info;
    const uint8_t entries[] = {
        0, 8, 0, 0, 1, 0, 0, 0,
        0, 8, 1, 1, 2, 0, 0, 0,
    };
    mem_remove(m, MADT_AT);
    put_table(m, MADT_AT, madt_new(4, entries, sizeof(entries)));
    assert_int_equal(parse(m, &info), 0);
    assert_int_equal(info.cpu_count, 1);
    assert_int_equal(info.cpus_unusable, 1);
    mem_free(m);
}

static void test_madt_more_cpus_than_fit(void **state)
{
    (void)state;
    struct mem *m = std_system();
    struct acpi_info info;
    enum { N = ACPI_MAX_CPUS + 6, IOAPICS = ACPI_MAX_IOAPICS + 1 };
    uint8_t entries[N * 16 + IOAPICS * 12];
    uint32_t off = 0;

    for (unsigned i = 0; i < N; i++, off += 16) {
        uint8_t *e = entries + off;
        memset(e, 0, 16);
        e[0] = 9;
        e[1] = 16;
        wr32(e + 4, 1000 + i);
        wr32(e + 8, 1);
        wr32(e + 12, i);
    }
    for (unsigned i = 0; i < IOAPICS; i++, off += 12) {
        uint8_t *e = entries + off;
        memset(e, 0, 12);
        e[0] = 1;
        e[1] = 12;
        e[2] = (uint8_t)i;
        wr32(e + 4, 0xfec00000 + i * 0x1000);
    }
    mem_remove(m, MADT_AT);
    put_table(m, MADT_AT, madt_new(5, entries, off));
    assert_int_equal(parse(m, &info), 0);
    assert_int_equal(info.cpu_count, ACPI_MAX_CPUS);
    assert_int_equal(info.cpus_enabled, ACPI_MAX_CPUS);
    assert_int_equal(info.cpus_dropped, 6);
    assert_int_equal(info.cpus[ACPI_MAX_CPUS - 1].apic_id, 1000 + ACPI_MAX_CPUS - 1);
    assert_int_equal(info.ioapic_count, ACPI_MAX_IOAPICS);
    assert_contains(info.warning, "more than 8 I/O APICs");
    mem_free(m);
}

/* ---- \_S5 encodings ---------------------------------------------------------------------------- */

static void check_s5(const uint8_t *aml, uint32_t n, int has, uint8_t a, uint8_t b,
                     const char *warning)
{
    struct mem *m = std_system();
    struct acpi_info info;

    mem_remove(m, DSDT_AT);
    put_table(m, DSDT_AT, dsdt_new(aml, n));
    assert_int_equal(parse(m, &info), 0); /* a bad \_S5 never fails the parse */
    assert_int_equal(info.has_s5, has);
    if (has) {
        assert_int_equal(info.s5_slp_typ_a, a);
        assert_int_equal(info.s5_slp_typ_b, b);
    }
    assert_string_equal(info.warning, warning);
    mem_free(m);
}

static void test_s5_encodings(void **state)
{
    (void)state;
    /* Zero / One opcodes */
    const uint8_t zero_one[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x00, 0x01, 0x00, 0x00 };
    check_s5(zero_one, sizeof(zero_one), 1, 0, 1, "");
    /* root prefix and WordPrefix */
    const uint8_t word[] = { 0x08, '\\', '_', 'S', '5', '_', 0x12, 0x08, 0x02,
                             0x0b, 0x07, 0x00, 0x0b, 0x06, 0x00 };
    check_s5(word, sizeof(word), 1, 7, 6, "");
    /* DWordPrefix and a two-byte PkgLength */
    const uint8_t dword[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x4d, 0x00, 0x02,
                              0x0c, 0x03, 0, 0, 0, 0x0a, 0x04 };
    check_s5(dword, sizeof(dword), 1, 3, 4, "");
    /* one element holding both values (SLP_TYPa low byte, SLP_TYPb next) */
    const uint8_t packed[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x05, 0x01, 0x0b, 0x05, 0x07 };
    check_s5(packed, sizeof(packed), 1, 5, 7, "");
    /* QWordPrefix */
    const uint8_t qword[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x0d, 0x02,
                              0x0e, 2, 0, 0, 0, 0, 0, 0, 0, 0x00 };
    check_s5(qword, sizeof(qword), 1, 2, 0, "");
}

static void test_s5_problems(void **state)
{
    (void)state;
    const uint8_t none[] = { 0x08, '_', 'S', '4', '_', 0x12, 0x04, 0x02, 0x00, 0x00 };
    check_s5(none, sizeof(none), 0, 0, 0, "DSDT: no \\_S5 object");
    /* a reference only (Store(_S5_, Local0)), never a definition */
    const uint8_t ref[] = { 0x70, '_', 'S', '5', '_', 0x60 };
    check_s5(ref, sizeof(ref), 0, 0, 0, "DSDT: no \\_S5 object");
    /* a reference followed by bytes that look like a package: still not a definition */
    const uint8_t ref_pkg[] = { 0x70, '_', 'S', '5', '_', 0x12, 0x06, 0x02, 0x0a, 0x07, 0x0a, 0x07 };
    check_s5(ref_pkg, sizeof(ref_pkg), 0, 0, 0, "DSDT: no \\_S5 object");
    /* Name(_S5_, 5): not a package, so not the definition we can use */
    const uint8_t notpkg[] = { 0x08, '_', 'S', '5', '_', 0x0a, 0x05 };
    check_s5(notpkg, sizeof(notpkg), 0, 0, 0, "DSDT: no \\_S5 object");
    /* SLP_TYP is 3 bits */
    const uint8_t big[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x02, 0x0a, 0x09, 0x0a, 0x00 };
    check_s5(big, sizeof(big), 0, 0, 0, "DSDT: \\_S5 values out of range");
    /* an element that is a name, not a constant */
    const uint8_t named[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x07, 0x02,
                              'S', 'L', 'P', 'A', 0x00 };
    check_s5(named, sizeof(named), 0, 0, 0, "DSDT: \\_S5 package is malformed");
    /* truncated at the end of the table, in several places */
    const uint8_t cut1[] = { 0x08, '_', 'S', '5', '_', 0x12 };
    check_s5(cut1, sizeof(cut1), 0, 0, 0, "DSDT: \\_S5 package is malformed");
    const uint8_t cut2[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x02, 0x0b, 0x05 };
    check_s5(cut2, sizeof(cut2), 0, 0, 0, "DSDT: \\_S5 package is malformed");
    const uint8_t cut3[] = { 0x08, '_', 'S', '5', '_', 0x12, 0xc6 }; /* 4-byte PkgLength */
    check_s5(cut3, sizeof(cut3), 0, 0, 0, "DSDT: \\_S5 package is malformed");
    const uint8_t cut4[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x02, 0x0a, 0x05 };
    check_s5(cut4, sizeof(cut4), 0, 0, 0, "DSDT: \\_S5 package is malformed");
    const uint8_t empty[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x02, 0x00 };
    check_s5(empty, sizeof(empty), 0, 0, 0, "DSDT: \\_S5 package is malformed");
    /* Ones (0xff) is no valid SLP_TYP */
    const uint8_t ones[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x04, 0x02, 0xff, 0xff };
    check_s5(ones, sizeof(ones), 0, 0, 0, "DSDT: \\_S5 package is malformed");
}

/* ---- error paths ------------------------------------------------------------------------------ */

static void expect_failure(struct mem *m, int err, const char *msg)
{
    struct acpi_info info;
    assert_int_equal(parse(m, &info), err);
    assert_contains(info.error, msg);
}

static void test_no_rsdp(void **state)
{
    (void)state;
    struct mem *m = std_system();
    struct acpi_info info;

    assert_int_equal(acpi_parse(0, 0, map_mem, m, &info), -ENOENT);
    assert_contains(info.error, "no RSDP");
    assert_int_equal(acpi_parse(0x1000, 0, map_mem, m, &info), -EFAULT); /* nothing mapped there */
    assert_contains(info.error, "RSDP at 0x1000: cannot map");
    assert_int_equal(acpi_parse(RSDP_AT, 0, NULL, m, &info), -EINVAL);
    assert_int_equal(acpi_parse(RSDP_AT, 0, map_mem, m, NULL), -EINVAL);
    mem_free(m);
}

static void test_rsdp_bad_signature(void **state)
{
    (void)state;
    struct mem *m = std_system();
    uint8_t *r = mem_at(m, RSDP_AT);

    r[3] = 'X';
    expect_failure(m, -EINVAL, "RSDP at 0xe0000: wrong signature");
    mem_free(m);
}

static void test_rsdp_bad_checksum(void **state)
{
    (void)state;
    struct mem *m = std_system();
    uint8_t *r = mem_at(m, RSDP_AT);

    r[8]++;
    expect_failure(m, -EINVAL, "RSDP at 0xe0000: bad checksum");
    mem_free(m);
}

static void test_rsdp_bad_extended_checksum(void **state)
{
    (void)state;
    struct mem *m = std_system();
    uint8_t *r = mem_at(m, RSDP_AT);

    r[32]++; /* the 20-byte checksum stays right */
    expect_failure(m, -EINVAL, "RSDP at 0xe0000: bad extended checksum");
    mem_free(m);
}

static void test_rsdp_bad_length(void **state)
{
    (void)state;
    struct mem *m = std_system();
    uint8_t *r = mem_at(m, RSDP_AT);

    wr32(r + 20, 20);
    expect_failure(m, -EINVAL, "RSDP at 0xe0000: bad length 20");
    wr32(r + 20, 64); /* longer than what is mapped */
    expect_failure(m, -EFAULT, "RSDP at 0xe0000: cannot map 64 bytes");
    mem_free(m);
}

/* The Multiboot2 path keeps a 64-byte copy of the RSDP (boot_info.rsdp_copy) and the kernel maps
 * it like any memory, whatever length is asked for. An RSDP claiming more than the copy holds must
 * not be read past the copy: its extended checksum cannot be checked, so the RSDT (covered by the
 * 20-byte checksum) is used. */
static void test_rsdp_longer_than_boot_copy(void **state)
{
    (void)state;
    struct mem *m = std_system();
    struct acpi_info info;
    uint8_t *copy = calloc(1, 64);

    assert_non_null(copy);
    memcpy(copy, mem_at(m, RSDP_AT), 36);
    mem_remove(m, RSDP_AT);
    wr32(copy + 20, 4096); /* the tag held 4096 bytes; the copy keeps 64 */
    mem_put(m, RSDP_AT, copy, 64);
    m->unbounded = RSDP_AT;
    assert_int_equal(acpi_parse(RSDP_AT, 64, map_mem, m, &info), 0);
    assert_true(info.has_madt && info.has_fadt);
    assert_false(info.uses_xsdt);
    assert_int_equal(info.root_phys, RSDT_AT);
    assert_non_null(strstr(info.warning, "RSDP at 0xe0000: length 4096"));

    /* a copy shorter than the 36-byte ACPI 2.0 part: the RSDT; shorter than 20 bytes: nothing */
    assert_int_equal(acpi_parse(RSDP_AT, 30, map_mem, m, &info), 0);
    assert_int_equal(info.root_phys, RSDT_AT);
    assert_non_null(strstr(info.warning, "only 30 bytes kept, using the RSDT"));
    assert_int_equal(acpi_parse(RSDP_AT, 19, map_mem, m, &info), -EINVAL);
    assert_string_equal(info.error, "RSDP at 0xe0000: only 19 bytes of it were kept");
    mem_free(m);
}

static void test_rsdp_without_root(void **state)
{
    (void)state;
    struct mem *m = std_system();

    mem_remove(m, RSDP_AT);
    put_rsdp(m, RSDP_AT, 2, 0, 0);
    expect_failure(m, -ENOENT, "no RSDT or XSDT");
    mem_free(m);
}

static void test_xsdt_bad_checksum_no_rsdt(void **state)
{
    (void)state;
    struct mem *m = std_system();

    mem_remove(m, RSDP_AT);
    put_rsdp(m, RSDP_AT, 2, 0, XSDT_AT);
    mem_at(m, XSDT_AT)[40]++;
    expect_failure(m, -EINVAL, "XSDT at 0x7fe0000: bad checksum");
    mem_free(m);
}

static void test_xsdt_bad_falls_back_to_rsdt(void **state)
{
    (void)state;
    struct mem *m = std_system();
    struct acpi_info info;

    memcpy(mem_at(m, XSDT_AT), "XSDX", 4);
    assert_int_equal(parse(m, &info), 0);
    assert_false(info.uses_xsdt);
    assert_int_equal(info.root_phys, RSDT_AT);
    assert_contains(info.warning, "XSDT at 0x7fe0000: wrong signature 'XSDX'; using the RSDT");
    assert_int_equal(info.cpu_count, 2);
    assert_true(info.has_s5);

    /* both broken: the RSDT's problem is the error */
    mem_at(m, RSDT_AT)[4] = 20;
    expect_failure(m, -EINVAL, "RSDT at 0x7fe0800: length 20 is shorter than 36");
    mem_free(m);
}

static void test_xsdt_truncated_length(void **state)
{
    (void)state;
    struct mem *m = std_system();

    mem_remove(m, RSDP_AT);
    put_rsdp(m, RSDP_AT, 2, 0, XSDT_AT);
    uint8_t *x = mem_at(m, XSDT_AT);
    wr32(x + 4, 30);
    table_fix(x); /* checksum over the claimed length is never reached anyway */
    expect_failure(m, -EINVAL, "XSDT at 0x7fe0000: length 30 is shorter than 36");
    wr32(x + 4, 17u << 20);
    expect_failure(m, -EINVAL, "XSDT at 0x7fe0000: implausible length");
    wr32(x + 4, 36 + 3 * 8 + 8); /* claims one entry more than is mapped */
    expect_failure(m, -EFAULT, "XSDT at 0x7fe0000: cannot map its 68 bytes");
    mem_free(m);
}

static void test_unmappable_listed_table_is_skipped(void **state)
{
    (void)state;
    struct mem *m = std_system();
    struct acpi_info info;
    const uint64_t x[] = { 0xdead0000, FADT_AT, MADT_AT, 0, OTHER_AT };

    mem_remove(m, XSDT_AT);
    put_root(m, XSDT_AT, 1, x, 5);
    put_capture(m, OTHER_AT, "fc-MCFG"); /* a table we do not use */
    assert_int_equal(parse(m, &info), 0);
    assert_contains(info.warning, "XSDT: cannot map the table at 0xdead0000");
    assert_false(info.has_hpet);
    assert_true(info.has_madt);
    mem_free(m);
}

static void test_no_madt(void **state)
{
    (void)state;
    struct mem *m = std_system();
    struct acpi_info info;
    const uint64_t x[] = { FADT_AT };

    mem_remove(m, XSDT_AT);
    put_root(m, XSDT_AT, 1, x, 1);
    assert_int_equal(parse(m, &info), -ENOENT);
    assert_string_equal(info.error, "XSDT: no MADT (APIC) table listed");
    assert_false(info.has_madt);
    assert_true(info.has_fadt); /* still parsed: power-off can work without SMP */
    assert_true(info.has_s5);
    mem_free(m);
}

static void test_no_fadt(void **state)
{
    (void)state;
    struct mem *m = std_system();
    struct acpi_info info;
    const uint64_t x[] = { MADT_AT };

    mem_remove(m, XSDT_AT);
    put_root(m, XSDT_AT, 1, x, 1);
    assert_int_equal(parse(m, &info), -ENOENT);
    assert_string_equal(info.error, "XSDT: no FADT (FACP) table listed");
    assert_true(info.has_madt);
    assert_int_equal(info.cpu_count, 2);
    assert_false(info.has_fadt);
    mem_free(m);
}

static void test_madt_bad_checksum(void **state)
{
    (void)state;
    struct mem *m = std_system();
    struct acpi_info info;

    mem_at(m, MADT_AT)[50] ^= 1;
    assert_int_equal(parse(m, &info), -EINVAL);
    assert_string_equal(info.error, "MADT at 0x7fe1000: bad checksum");
    assert_false(info.has_madt);
    assert_int_equal(info.cpu_count, 0);
    assert_true(info.has_fadt);
    mem_free(m);
}

static void test_madt_truncated(void **state)
{
    (void)state;
    struct mem *m = std_system();
    uint8_t *t = mem_at(m, MADT_AT);

    wr32(t + 4, 40);
    table_fix(t);
    expect_failure(m, -EINVAL, "MADT at 0x7fe1000: length 40 is shorter than 44");
    wr32(t + 4, 4096); /* beyond what is there */
    expect_failure(m, -EFAULT, "MADT at 0x7fe1000: cannot map its 4096 bytes");
    mem_free(m);
}

static void check_bad_madt_entries(const uint8_t *entries, uint32_t n, const char *msg)
{
    struct mem *m = std_system();
    mem_remove(m, MADT_AT);
    put_table(m, MADT_AT, madt_new(5, entries, n));
    expect_failure(m, -EINVAL, msg);
    mem_free(m);
}

static void test_madt_bad_entries(void **state)
{
    (void)state;
    const uint8_t zero_len[] = { 0, 8, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0 };
    check_bad_madt_entries(zero_len, sizeof(zero_len),
                           "MADT: entry type 2 at offset 52 has bad length 0");
    const uint8_t past_end[] = { 0, 8, 0, 0, 1, 0, 0, 0, 0, 9, 1, 1, 1, 0, 0, 0 };
    check_bad_madt_entries(past_end, sizeof(past_end),
                           "MADT: entry type 0 at offset 52 has bad length 9");
    const uint8_t half[] = { 0, 8, 0, 0, 1, 0, 0, 0, 0 };
    check_bad_madt_entries(half, sizeof(half), "MADT: truncated entry at offset 52");
    const uint8_t short_lapic[] = { 0, 6, 0, 0, 1, 0 };
    check_bad_madt_entries(short_lapic, sizeof(short_lapic),
                           "MADT: entry type 0 at offset 44 is 6 bytes, needs 8");
    const uint8_t short_x2[] = { 0, 8, 0, 0, 1, 0, 0, 0, 9, 12, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0 };
    check_bad_madt_entries(short_x2, sizeof(short_x2),
                           "MADT: entry type 9 at offset 52 is 12 bytes, needs 16");
    const uint8_t short_io[] = { 0, 8, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0, 0xc0, 0xfe };
    check_bad_madt_entries(short_io, sizeof(short_io),
                           "MADT: entry type 1 at offset 52 is 8 bytes, needs 12");
    const uint8_t short_ovr[] = { 0, 8, 0, 0, 1, 0, 0, 0, 5, 10, 0, 0, 0, 0, 0xe0, 0xfe, 0, 0 };
    check_bad_madt_entries(short_ovr, sizeof(short_ovr),
                           "MADT: entry type 5 at offset 52 is 10 bytes, needs 12");
}

static void test_madt_only_disabled_cpus(void **state)
{
    (void)state;
    const uint8_t disabled[] = { 0, 8, 0, 0, 0, 0, 0, 0, 9, 16, 0, 0, 1, 0, 0, 0,
                                 0, 0, 0, 0, 1, 0, 0, 0 };
    check_bad_madt_entries(disabled, sizeof(disabled),
                           "MADT: no enabled or online-capable CPU listed");
    check_bad_madt_entries(NULL, 0, "MADT: no enabled or online-capable CPU listed");
}

static void test_madt_wrong_signature_is_not_madt(void **state)
{
    (void)state;
    struct mem *m = std_system();
    uint8_t *t = mem_at(m, MADT_AT);

    memcpy(t, "APIX", 4); /* no longer recognised as the MADT at all */
    table_fix(t);
    expect_failure(m, -ENOENT, "no MADT");
    mem_free(m);
}

static void test_fadt_errors(void **state)
{
    (void)state;
    struct mem *m = std_system();
    struct acpi_info info;
    uint8_t *f = mem_at(m, FADT_AT);

    wr32(f + 4, 100);
    table_fix(f);
    assert_int_equal(parse(m, &info), -EINVAL);
    assert_string_equal(info.error, "FADT at 0x7fe2000: length 100 is shorter than 116");
    assert_true(info.has_madt); /* the MADT was fine */
    assert_false(info.has_fadt);
    assert_false(info.has_s5);

    wr32(f + 4, 276);
    table_fix(f);
    f[200] ^= 0x40;
    expect_failure(m, -EINVAL, "FADT at 0x7fe2000: bad checksum");
    mem_free(m);
}

/* Both required tables broken: the first problem (the MADT's) is the one reported. */
static void test_first_error_wins(void **state)
{
    (void)state;
    struct mem *m = std_system();
    struct acpi_info info;

    mem_at(m, MADT_AT)[50] ^= 1;
    mem_at(m, FADT_AT)[50] ^= 1;
    assert_int_equal(parse(m, &info), -EINVAL);
    assert_string_equal(info.error, "MADT at 0x7fe1000: bad checksum");
    mem_free(m);
}

static void test_dsdt_problems_are_warnings(void **state)
{
    (void)state;
    struct mem *m = std_system();
    struct acpi_info info;
    uint8_t *d = mem_at(m, DSDT_AT);

    d[40] ^= 0x10;
    assert_int_equal(parse(m, &info), 0);
    assert_false(info.has_s5);
    assert_string_equal(info.warning, "DSDT at 0x7fe3000: bad checksum");

    d[40] ^= 0x10;
    memcpy(d, "SSDT", 4);
    table_fix(d);
    assert_int_equal(parse(m, &info), 0);
    assert_false(info.has_s5);
    assert_string_equal(info.warning, "DSDT at 0x7fe3000: wrong signature 'SSDT'");

    uint8_t *f = mem_at(m, FADT_AT);
    wr32(f + 40, 0);
    wr64(f + 140, 0);
    table_fix(f);
    assert_int_equal(parse(m, &info), 0);
    assert_string_equal(info.warning, "FADT: no DSDT address, no \\_S5");

    wr64(f + 140, 0x50000000); /* nothing there */
    table_fix(f);
    assert_int_equal(parse(m, &info), 0);
    assert_string_equal(info.warning, "DSDT at 0x50000000: cannot map its header");
    assert_true(info.has_fadt);
    mem_free(m);
}

static void test_hpet(void **state)
{
    (void)state;
    struct mem *m = std_system();
    struct acpi_info info;

    mem_remove(m, HPET_AT);
    put_table(m, HPET_AT, hpet_new(1, 0x4000)); /* I/O space: not usable */
    assert_int_equal(parse(m, &info), 0);
    assert_false(info.has_hpet);
    assert_string_equal(info.warning, "HPET: base address is not in memory space");

    mem_at(m, HPET_AT)[45] ^= 1; /* breaks the checksum */
    assert_int_equal(parse(m, &info), 0);
    assert_false(info.has_hpet);
    assert_string_equal(info.warning, "HPET at 0x7fe4000: bad checksum");

    uint8_t *h = mem_at(m, HPET_AT);
    wr32(h + 4, 40);
    table_fix(h);
    assert_int_equal(parse(m, &info), 0);
    assert_false(info.has_hpet);
    assert_string_equal(info.warning, "HPET at 0x7fe4000: length 40 is shorter than 56");
    mem_free(m);
}

/* A bit flip anywhere in a required table is caught by its checksum. */
static void test_every_bit_flip_in_madt_is_caught(void **state)
{
    (void)state;
    struct mem *m = std_system();
    struct acpi_info info;
    uint8_t *t = mem_at(m, MADT_AT);
    uint32_t len = rd32(t + 4);

    for (uint32_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            t[i] ^= (uint8_t)(1 << bit);
            int err = parse(m, &info);
            /* a flipped signature hides the table (-ENOENT), a flipped length is too short,
             * too long to map, or fails the checksum; any other byte fails the checksum */
            assert_true(err == -EINVAL || err == -ENOENT || err == -EFAULT);
            assert_false(info.has_madt);
            t[i] ^= (uint8_t)(1 << bit);
        }
    }
    assert_int_equal(parse(m, &info), 0);
    mem_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_captured_firecracker_xsdt),
        cmocka_unit_test(test_captured_firecracker_rsdt),
        cmocka_unit_test(test_captured_bochs_dsdt_s5),
        cmocka_unit_test(test_synthetic_full),
        cmocka_unit_test(test_fadt_x_fields_win),
        cmocka_unit_test(test_fadt_long_blocks_reserved_whole),
        cmocka_unit_test(test_fadt_reset_not_supported),
        cmocka_unit_test(test_fadt_without_pm1a_warns),
        cmocka_unit_test(test_madt_x2apic_and_flags),
        cmocka_unit_test(test_madt_old_revision_ignores_online_capable),
        cmocka_unit_test(test_madt_more_cpus_than_fit),
        cmocka_unit_test(test_s5_encodings),
        cmocka_unit_test(test_s5_problems),
        cmocka_unit_test(test_no_rsdp),
        cmocka_unit_test(test_rsdp_bad_signature),
        cmocka_unit_test(test_rsdp_bad_checksum),
        cmocka_unit_test(test_rsdp_bad_extended_checksum),
        cmocka_unit_test(test_rsdp_bad_length),
        cmocka_unit_test(test_rsdp_longer_than_boot_copy),
        cmocka_unit_test(test_rsdp_without_root),
        cmocka_unit_test(test_xsdt_bad_checksum_no_rsdt),
        cmocka_unit_test(test_xsdt_bad_falls_back_to_rsdt),
        cmocka_unit_test(test_xsdt_truncated_length),
        cmocka_unit_test(test_unmappable_listed_table_is_skipped),
        cmocka_unit_test(test_no_madt),
        cmocka_unit_test(test_no_fadt),
        cmocka_unit_test(test_madt_bad_checksum),
        cmocka_unit_test(test_madt_truncated),
        cmocka_unit_test(test_madt_bad_entries),
        cmocka_unit_test(test_madt_only_disabled_cpus),
        cmocka_unit_test(test_madt_wrong_signature_is_not_madt),
        cmocka_unit_test(test_fadt_errors),
        cmocka_unit_test(test_first_error_wins),
        cmocka_unit_test(test_dsdt_problems_are_warnings),
        cmocka_unit_test(test_hpet),
        cmocka_unit_test(test_every_bit_flip_in_madt_is_caught),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
