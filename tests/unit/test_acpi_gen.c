/* UNIT-SOURCES: kernel/acpi/acpi_gen.c kernel/acpi/acpi_install.c kernel/mm/guest_mem.c kernel/acpi/acpi.c kernel/lib/printf.c kernel/lib/string.c */
/* Generated VM ACPI tables, read back by our own parser (kernel/acpi/acpi.c) through a map
 * function that sees only the generated region, and by byte-level checks here for what the
 * parser does not extract (interrupt overrides, the NMI entry, the AML structure, the FACS). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <tessera/acpi.h>
#include <tessera/acpi_gen.h>
#include <tessera/bytes.h>
#include <tessera/errno.h>
#include <tessera/vcpu.h>

#define GUARD 256
#define GUARD_BYTE 0xa5
#define TABLES_GPA 0x7ff0000ull

/* ---- a generated region and the parser's view of it ----------------------------------------- */

struct region {
    uint8_t *alloc; /* GUARD bytes, the buffer, GUARD bytes */
    uint8_t *buf;
    uint64_t cap;  /* the buffer handed to the generator */
    uint64_t gpa;
    struct acpi_gen_layout layout;
};

/* Maps only what the generator produced: [gpa, gpa + layout.size). */
static const void *map_region(void *ctx, uint64_t phys, uint64_t len)
{
    const struct region *r = ctx;
    uint64_t used = r->layout.size;

    if (phys < r->gpa || phys - r->gpa > used || len > used - (phys - r->gpa))
        return NULL;
    return r->buf + (phys - r->gpa);
}

static uint8_t *region_alloc(struct region *r, uint64_t cap, uint64_t gpa)
{
    memset(r, 0, sizeof(*r));
    r->alloc = malloc(cap + 2 * GUARD);
    assert_non_null(r->alloc);
    memset(r->alloc, GUARD_BYTE, cap + 2 * GUARD);
    r->buf = r->alloc + GUARD;
    r->cap = cap;
    r->gpa = gpa;
    return r->buf;
}

/* Every byte in [from, to) of the allocation (offsets from buf) still holds the guard pattern. */
static void assert_untouched(const struct region *r, int64_t from, int64_t to)
{
    for (int64_t i = from; i < to; i++)
        if (r->buf[i] != GUARD_BYTE)
            fail_msg("byte %lld (buffer of %llu) was written", (long long)i,
                     (unsigned long long)r->cap);
}

static void region_free(struct region *r)
{
    free(r->alloc);
    r->alloc = r->buf = NULL;
}

/* Bytes the generator needs for m (asking with an empty buffer). */
static uint64_t needed_size(const struct acpi_gen_machine *m)
{
    struct acpi_gen_layout l;
    assert_int_equal(acpi_gen_build(m, NULL, 0, &l), -ENOSPC);
    assert_true(l.size > 0);
    return l.size;
}

/* Generates m into a buffer of exactly the needed size, between guard zones. */
static void generate(struct region *r, const struct acpi_gen_machine *m)
{
    uint64_t need = needed_size(m);

    region_alloc(r, need, m->tables_gpa);
    assert_int_equal(acpi_gen_build(m, r->buf, r->cap, &r->layout), 0);
    assert_int_equal(r->layout.size, need);
    assert_untouched(r, -GUARD, 0);
    assert_untouched(r, (int64_t)need, (int64_t)need + GUARD);
}

static const uint8_t *at_gpa(const struct region *r, uint64_t gpa)
{
    assert_true(gpa >= r->gpa && gpa - r->gpa < r->layout.size);
    return r->buf + (gpa - r->gpa);
}

static uint8_t sum8(const uint8_t *p, uint64_t n)
{
    uint8_t s = 0;
    for (uint64_t i = 0; i < n; i++)
        s += p[i];
    return s;
}

static void parse_region(struct region *r, struct acpi_info *info)
{
    int err = acpi_parse(r->layout.rsdp, 0, map_region, r, info);
    if (err)
        fail_msg("acpi_parse: %d: %s", err, info->error);
    assert_string_equal(info->warning, "");
}

/* ---- a small AML reader for the subset the generator emits ---------------------------------- */

#define MAX_NAMES 64
struct aml_name {
    char path[32];     /* "\_SB_.COM1._HID" */
    int kind;          /* 'i' integer, 's' string, 'p' package, 'b' buffer */
    uint64_t value;    /* integer; package: element count; buffer: size */
    char string[16];
    uint64_t elements[8];
    uint8_t bytes[32];
};
struct aml_names {
    unsigned n;
    unsigned devices;
    struct aml_name names[MAX_NAMES];
};

/* Decodes a PkgLength at a[*at]; returns its value (which counts its own bytes). */
static uint32_t pkglength_decode(const uint8_t *a, uint32_t n, uint32_t *at)
{
    assert_true(*at < n);
    uint8_t lead = a[*at];
    unsigned extra = lead >> 6;
    uint32_t v;

    assert_true(n - *at > extra);
    if (extra == 0) {
        v = lead & 0x3f;
    } else {
        assert_int_equal(lead & 0x30, 0); /* bits 5-4 reserved in multi-byte encodings */
        v = lead & 0xf;
        for (unsigned i = 0; i < extra; i++)
            v |= (uint32_t)a[*at + 1 + i] << (4 + 8 * i);
    }
    *at += 1 + extra;
    return v;
}

/* The end of a package whose PkgLength starts at *at (moved past the PkgLength). */
static uint32_t package_end(const uint8_t *a, uint32_t n, uint32_t *at)
{
    uint32_t start = *at;
    uint32_t len = pkglength_decode(a, n, at);
    assert_true(len <= n - start);
    return start + len;
}

static uint64_t read_integer(const uint8_t *a, uint32_t end, uint32_t *at)
{
    static const unsigned size_of[] = { [0x0a] = 1, [0x0b] = 2, [0x0c] = 4, [0x0e] = 8 };
    assert_true(*at < end);
    uint8_t op = a[(*at)++];
    if (op == 0x00 || op == 0x01)
        return op;
    if (op == 0xff)
        return ~0ull;
    assert_true(op == 0x0a || op == 0x0b || op == 0x0c || op == 0x0e);
    unsigned size = size_of[op];
    assert_true(end - *at >= size);
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)a[*at + i] << (8 * i);
    *at += size;
    return v;
}

static void read_nameseg(const uint8_t *a, uint32_t end, uint32_t *at, char seg[5])
{
    assert_true(end - *at >= 4);
    for (int i = 0; i < 4; i++) {
        char c = (char)a[*at + i];
        assert_true((c >= 'A' && c <= 'Z') || c == '_' || (i > 0 && c >= '0' && c <= '9'));
        seg[i] = c;
    }
    seg[4] = 0;
    *at += 4;
}

static void read_termlist(const uint8_t *a, uint32_t end, uint32_t at, const char *scope,
                          struct aml_names *out)
{
    while (at < end) {
        uint8_t op = a[at++];
        char seg[5], path[32];

        if (op == 0x08) { /* Name */
            read_nameseg(a, end, &at, seg);
            assert_true(out->n < MAX_NAMES);
            struct aml_name *nm = &out->names[out->n++];
            memset(nm, 0, sizeof(*nm));
            snprintf(nm->path, sizeof(nm->path), "%s%s%s", scope,
                     strcmp(scope, "\\") == 0 ? "" : ".", seg);
            assert_true(at < end);
            if (a[at] == 0x0d) { /* String */
                at++;
                size_t len = strnlen((const char *)a + at, end - at);
                assert_true(len < end - at && len < sizeof(nm->string));
                memcpy(nm->string, a + at, len);
                at += (uint32_t)len + 1;
                nm->kind = 's';
            } else if (a[at] == 0x12) { /* Package of integers */
                at++;
                uint32_t pend = package_end(a, end, &at);
                assert_true(at < pend);
                nm->value = a[at++];
                assert_true(nm->value <= 8);
                for (unsigned i = 0; i < nm->value; i++)
                    nm->elements[i] = read_integer(a, pend, &at);
                assert_int_equal(at, pend); /* the PkgLength ends exactly after the elements */
                nm->kind = 'p';
            } else if (a[at] == 0x11) { /* Buffer */
                at++;
                uint32_t bend = package_end(a, end, &at);
                nm->value = read_integer(a, bend, &at);
                assert_int_equal(nm->value, bend - at);
                assert_true(nm->value <= sizeof(nm->bytes));
                memcpy(nm->bytes, a + at, nm->value);
                at = bend;
                nm->kind = 'b';
            } else {
                nm->value = read_integer(a, end, &at);
                nm->kind = 'i';
            }
        } else if (op == 0x10) { /* Scope(\NAME) */
            uint32_t send = package_end(a, end, &at);
            assert_true(at < send && a[at] == '\\');
            at++;
            read_nameseg(a, send, &at, seg);
            snprintf(path, sizeof(path), "\\%s", seg);
            read_termlist(a, send, at, path, out);
            at = send;
        } else if (op == 0x5b && at < end && a[at] == 0x82) { /* Device(NAME) */
            at++;
            uint32_t dend = package_end(a, end, &at);
            read_nameseg(a, dend, &at, seg);
            snprintf(path, sizeof(path), "%s.%s", scope, seg);
            out->devices++;
            read_termlist(a, dend, at, path, out);
            at = dend;
        } else {
            fail_msg("unexpected AML opcode 0x%02x at %u", op, at - 1);
        }
    }
    assert_int_equal(at, end);
}

static void read_dsdt(const struct region *r, struct aml_names *out)
{
    const uint8_t *d = at_gpa(r, r->layout.dsdt);
    memset(out, 0, sizeof(*out));
    read_termlist(d, rd32(d + 4), 36, "\\", out);
}

static const struct aml_name *find_name(const struct aml_names *names, const char *path)
{
    for (unsigned i = 0; i < names->n; i++)
        if (strcmp(names->names[i].path, path) == 0)
            return &names->names[i];
    return NULL;
}

/* ---- tests ---------------------------------------------------------------------------------- */

static void test_pkglength_encoding(void **state)
{
    (void)state;
    uint8_t enc[4];

    /* every body up to past the 3-byte limit, decoded independently; the fewest bytes used */
    for (uint32_t body = 0; body < (1u << 20) + 16; body++) {
        unsigned n = acpi_aml_pkglength(body, enc);
        uint32_t at = 0;
        uint64_t value = (uint64_t)body;

        assert_true(n >= 1 && n <= 4);
        assert_int_equal(pkglength_decode(enc, n, &at), value + n);
        assert_int_equal(at, n);
        unsigned fewest = value + 1 <= 0x3f     ? 1
                          : value + 2 <= 0xfff   ? 2
                          : value + 3 <= 0xfffff ? 3
                                                 : 4;
        assert_int_equal(n, fewest);
    }
    /* the edges: 63 fits one byte, 64 does not; 4095 two, 4096 not */
    assert_int_equal(acpi_aml_pkglength(62, enc), 1);
    assert_int_equal(enc[0], 63);
    assert_int_equal(acpi_aml_pkglength(63, enc), 2);
    assert_int_equal(enc[0], 0x41);
    assert_int_equal(enc[1], 0x04);
    assert_int_equal(acpi_aml_pkglength(4093, enc), 2);
    assert_int_equal(acpi_aml_pkglength(4094, enc), 3);
    assert_int_equal(acpi_aml_pkglength(0x0ffffffb, enc), 4);
    assert_int_equal(enc[0], 0xcf);
    assert_int_equal(enc[3], 0xff);
    assert_int_equal(acpi_aml_pkglength(0x0ffffffc, enc), 0);
    assert_int_equal(acpi_aml_pkglength(0xffffffffu, enc), 0);
}

/* The default PC, read back by our parser: CPUs, interrupt controllers, power-off and reset. */
static void test_default_machine_parses(void **state)
{
    (void)state;
    struct acpi_gen_machine m;
    struct region r;
    struct acpi_info info;

    acpi_gen_machine_pc(&m, 1, TABLES_GPA);
    generate(&r, &m);
    assert_int_equal(r.layout.rsdp, TABLES_GPA);
    parse_region(&r, &info);

    assert_int_equal(info.rsdp_revision, 2);
    assert_true(info.uses_xsdt);
    assert_int_equal(info.root_phys, r.layout.xsdt);
    assert_string_equal(info.oem_id, "TESSRA");

    assert_true(info.has_madt);
    assert_int_equal(info.lapic_address, 0xfee00000);
    assert_int_equal(info.madt_flags, 1); /* PCAT_COMPAT */
    assert_int_equal(info.cpu_count, 1);
    assert_int_equal(info.cpus_enabled, 1);
    assert_int_equal(info.cpus[0].apic_id, 0);
    assert_int_equal(info.cpus[0].uid, 0);
    assert_true(info.cpus[0].enabled);
    assert_false(info.cpus[0].x2apic);
    assert_int_equal(info.ioapic_count, 1);
    assert_int_equal(info.ioapics[0].id, 1);
    assert_int_equal(info.ioapics[0].address, 0xfec00000);
    assert_int_equal(info.ioapics[0].gsi_base, 0);

    assert_true(info.has_fadt);
    assert_int_equal(info.fadt_revision, 6);
    assert_false(info.fadt_flags & ACPI_FADT_HW_REDUCED);
    assert_true(info.fadt_flags & ACPI_FADT_RESET_REG_SUP);
    assert_true(info.fadt_flags & ACPI_FADT_TMR_VAL_EXT);
    assert_int_equal(info.fadt_flags & (1u << 4), 0);  /* PWR_BUTTON: fixed-feature button */
    assert_int_equal(info.fadt_flags & (1u << 5), 1u << 5); /* SLP_BUTTON: none */
    assert_int_equal(info.sci_irq, 9);
    assert_int_equal(info.smi_cmd, 0);
    assert_int_equal(info.acpi_enable, 0);
    assert_int_equal(info.iapc_boot_arch, 0x000d); /* legacy devices, no VGA, no MSI; no 8042 */
    assert_int_equal(info.dsdt_phys, r.layout.dsdt);

    assert_int_equal(info.pm1a_evt.space_id, ACPI_GAS_IO);
    assert_int_equal(info.pm1a_evt.address, 0x600);
    assert_int_equal(info.pm1a_evt.bit_width, 32);
    assert_int_equal(info.pm1a_cnt.space_id, ACPI_GAS_IO);
    assert_int_equal(info.pm1a_cnt.address, 0x604);
    assert_int_equal(info.pm1a_cnt.bit_width, 16);
    assert_int_equal(info.pm_timer.space_id, ACPI_GAS_IO);
    assert_int_equal(info.pm_timer.address, 0x608);
    assert_int_equal(info.pm_timer.bit_width, 32);
    assert_int_equal(info.pm1b_evt.address, 0);
    assert_int_equal(info.pm1b_cnt.address, 0);
    assert_int_equal(info.pm2_cnt.address, 0);
    assert_int_equal(info.gpe0.address, 0);
    assert_int_equal(info.gpe1.address, 0);
    assert_int_equal(info.sleep_control.address, 0);
    /* the 32-bit fields and lengths agree with the X_ blocks */
    assert_int_equal(info.pm_block_port[ACPI_PM1A_EVT], 0x600);
    assert_int_equal(info.pm_block_len[ACPI_PM1A_EVT], 4);
    assert_int_equal(info.pm_block_port[ACPI_PM1A_CNT], 0x604);
    assert_int_equal(info.pm_block_len[ACPI_PM1A_CNT], 2);
    assert_int_equal(info.pm_block_port[ACPI_PM_TMR], 0x608);
    assert_int_equal(info.pm_block_len[ACPI_PM_TMR], 4);

    assert_true(info.reset_supported);
    assert_int_equal(info.reset_reg.space_id, ACPI_GAS_IO);
    assert_int_equal(info.reset_reg.address, 0xcf9);
    assert_int_equal(info.reset_reg.bit_width, 8);
    assert_int_equal(info.reset_value, 0x06);

    assert_true(info.has_s5); /* power-off: SLP_TYP 5 | SLP_EN into PM1a_CNT */
    assert_int_equal(info.s5_slp_typ_a, ACPI_GEN_S5_SLP_TYP);
    assert_int_equal(info.s5_slp_typ_b, ACPI_GEN_S5_SLP_TYP);
    assert_false(info.has_hpet);

    /* exactly the ports the VM's PM device must emulate */
    struct acpi_port_range pr[ACPI_MAX_PM_PORT_RANGES];
    unsigned n = acpi_pm_ports(&info, pr, ACPI_MAX_PM_PORT_RANGES);
    assert_int_equal(n, 4);
    assert_int_equal(pr[0].first, 0x604);
    assert_int_equal(pr[0].last, 0x605);
    assert_int_equal(pr[1].first, 0x600);
    assert_int_equal(pr[1].last, 0x603);
    assert_int_equal(pr[2].first, 0x608);
    assert_int_equal(pr[2].last, 0x60b);
    assert_int_equal(pr[3].first, 0xcf9);
    assert_int_equal(pr[3].last, 0xcf9);

    /* the same machine through the RSDT, as a reader of only the RSDP's first 20 bytes sees it */
    assert_int_equal(acpi_parse(r.layout.rsdp, 20, map_region, &r, &info), 0);
    assert_false(info.uses_xsdt);
    assert_int_equal(info.root_phys, r.layout.rsdt);
    assert_int_equal(info.cpu_count, 1);
    assert_int_equal(info.pm1a_cnt.address, 0x604);
    assert_true(info.reset_supported);
    assert_true(info.has_s5);
    assert_int_equal(info.s5_slp_typ_a, ACPI_GEN_S5_SLP_TYP);
    region_free(&r);
}

/* Checks one table inside the region: whole, signature, checksum; returns its length. */
static uint32_t check_table(const struct region *r, uint64_t gpa, const char *sig)
{
    const uint8_t *t = at_gpa(r, gpa);
    uint32_t len = rd32(t + 4);

    assert_memory_equal(t, sig, 4);
    assert_true(len >= 36);
    assert_true(len <= r->layout.size - (gpa - r->gpa));
    assert_int_equal(sum8(t, len), 0);
    assert_memory_equal(t + 10, "TESSRA", 6);
    return len;
}

static void check_structure(const struct region *r, const struct acpi_gen_machine *m)
{
    const struct acpi_gen_layout *l = &r->layout;

    /* RSDP: 16-byte aligned, both checksums, length, revision, both roots */
    assert_int_equal(l->rsdp % 16, 0);
    assert_true(l->rsdp - r->gpa < 16);
    const uint8_t *p = at_gpa(r, l->rsdp);
    assert_memory_equal(p, "RSD PTR ", 8);
    assert_int_equal(sum8(p, 20), 0);
    assert_int_equal(rd32(p + 20), 36);
    assert_int_equal(sum8(p, 36), 0);
    assert_int_equal(p[15], 2);
    assert_int_equal(rd32(p + 16), l->rsdt);
    assert_int_equal(rd64(p + 24), l->xsdt);

    /* every table whole, summing to zero, and no two overlapping */
    struct { uint64_t at; uint32_t len; } t[7] = {
        { l->rsdp, 36 },
        { l->xsdt, check_table(r, l->xsdt, "XSDT") },
        { l->rsdt, check_table(r, l->rsdt, "RSDT") },
        { l->fadt, check_table(r, l->fadt, "FACP") },
        { l->madt, check_table(r, l->madt, "APIC") },
        { l->dsdt, check_table(r, l->dsdt, "DSDT") },
        { l->facs, 64 },
    };
    uint64_t end = 0;
    for (unsigned i = 0; i < 7; i++) {
        for (unsigned j = 0; j < i; j++)
            assert_true(t[i].at + t[i].len <= t[j].at || t[j].at + t[j].len <= t[i].at);
        if (t[i].at + t[i].len > end)
            end = t[i].at + t[i].len;
    }
    assert_int_equal(end, r->gpa + l->size); /* the size ends at the last table */

    /* XSDT and RSDT list the same two tables, both inside the region */
    const uint8_t *x = at_gpa(r, l->xsdt), *rs = at_gpa(r, l->rsdt);
    assert_int_equal(rd32(x + 4), 36 + 2 * 8);
    assert_int_equal(rd32(rs + 4), 36 + 2 * 4);
    for (unsigned i = 0; i < 2; i++) {
        uint64_t e = rd64(x + 36 + 8 * i);
        assert_true(e >= r->gpa && e - r->gpa < l->size);
        assert_int_equal(rd32(rs + 36 + 4 * i), e);
    }
    assert_int_equal(rd64(x + 36), l->fadt);
    assert_int_equal(rd64(x + 44), l->madt);

    /* FADT: ACPI 6.4 layout; the 32-bit and X_ addresses agree; the FACS only in FIRMWARE_CTRL */
    const uint8_t *f = at_gpa(r, l->fadt);
    assert_int_equal(rd32(f + 4), 276);
    assert_int_equal(f[8], 6);
    assert_int_equal(f[131], 4);
    assert_int_equal(rd32(f + 36), l->facs);
    assert_int_equal(rd64(f + 132), 0);
    assert_int_equal(rd32(f + 40), l->dsdt);
    assert_int_equal(rd64(f + 140), l->dsdt);
    assert_int_equal(rd64(f + 148 + 4), rd32(f + 56));  /* X_PM1a_EVT */
    assert_int_equal(rd64(f + 172 + 4), rd32(f + 64));  /* X_PM1a_CNT */
    assert_int_equal(rd64(f + 208 + 4), rd32(f + 76));  /* X_PM_TMR */
    assert_int_equal(f[148 + 1], 8 * f[88]);
    assert_int_equal(f[172 + 1], 8 * f[89]);
    assert_int_equal(f[208 + 1], 8 * f[91]);
    assert_int_equal(f[91], 4);                         /* PM_TMR_LEN */
    assert_int_equal(f[108], m->rtc_century);           /* CENTURY */
    assert_int_equal(rd16(f + 96), 101);                /* no C2 */
    assert_int_equal(rd16(f + 98), 1001);               /* no C3 */

    /* FACS: 64 bytes on a 64-byte boundary */
    const uint8_t *fc = at_gpa(r, l->facs);
    assert_int_equal(l->facs % 64, 0);
    assert_memory_equal(fc, "FACS", 4);
    assert_int_equal(rd32(fc + 4), 64);
    assert_int_equal(fc[32], 2);
}

/* The MADT entries the parser skips: overrides and the NMI entry; entries fill the table. */
static void check_madt_entries(const struct region *r, const struct acpi_gen_machine *m)
{
    const uint8_t *t = at_gpa(r, r->layout.madt);
    uint32_t len = rd32(t + 4), off = 44;
    unsigned lapics = 0, ioapics = 0, isos = 0, nmis = 0;

    assert_int_equal(t[8], 5);
    while (off < len) {
        const uint8_t *e = t + off;
        assert_true(len - off >= 2 && e[1] >= 2 && e[1] <= len - off);
        switch (e[0]) {
        case 0:
            assert_int_equal(e[1], 8);
            assert_int_equal(e[2], lapics); /* UIDs 0, 1, ... in order */
            assert_int_equal(e[3], m->apic_ids[lapics]);
            assert_int_equal(rd32(e + 4), 1);
            lapics++;
            break;
        case 1:
            assert_int_equal(e[1], 12);
            assert_int_equal(e[2], m->ioapic_id);
            ioapics++;
            break;
        case 2:
            assert_int_equal(e[1], 10);
            assert_true(isos < m->iso_count);
            assert_int_equal(e[2], 0); /* ISA */
            assert_int_equal(e[3], m->isos[isos].source_irq);
            assert_int_equal(rd32(e + 4), m->isos[isos].gsi);
            assert_int_equal(rd16(e + 8), m->isos[isos].flags);
            isos++;
            break;
        case 4:
            assert_int_equal(e[1], 6);
            assert_int_equal(e[2], 0xff);   /* every processor */
            assert_int_equal(rd16(e + 3), 0x5); /* edge, active high */
            assert_int_equal(e[5], 1);      /* LINT1 */
            nmis++;
            break;
        default:
            fail_msg("unexpected MADT entry type %u", e[0]);
        }
        off += e[1];
    }
    assert_int_equal(off, len);
    assert_int_equal(lapics, m->cpu_count);
    assert_int_equal(ioapics, 1);
    assert_int_equal(isos, m->iso_count);
    assert_int_equal(nmis, 1);
}

static void check_dsdt(const struct region *r, const struct acpi_gen_machine *m)
{
    struct aml_names names;
    const struct aml_name *nm;
    char path[32];

    read_dsdt(r, &names);
    nm = find_name(&names, "\\_S5_");
    assert_non_null(nm);
    assert_int_equal(nm->kind, 'p');
    assert_int_equal(nm->value, 4);
    assert_int_equal(nm->elements[0], m->s5_slp_typ);
    assert_int_equal(nm->elements[1], m->s5_slp_typ);
    nm = find_name(&names, "\\_S0_");
    assert_non_null(nm);
    assert_int_equal(nm->elements[0], 0);
    assert_int_equal(names.devices,
                     m->cpu_count + (m->com1_present ? 1 : 0) + (m->pvpanic_present ? 1 : 0));

    nm = find_name(&names, "\\_SB_.PEVT._HID");
    if (m->pvpanic_present) {
        assert_non_null(nm);
        assert_string_equal(nm->string, "QEMU0001");
        nm = find_name(&names, "\\_SB_.PEVT._CRS");
        assert_non_null(nm);
        assert_int_equal(nm->kind, 'b');
        assert_int_equal(nm->value, 10);
        assert_int_equal(nm->bytes[0], 0x47);                  /* I/O port descriptor */
        assert_int_equal(rd16(nm->bytes + 2), m->pvpanic_port); /* minimum */
        assert_int_equal(rd16(nm->bytes + 4), m->pvpanic_port); /* maximum */
        assert_int_equal(nm->bytes[7], 1);                     /* length */
        assert_int_equal(nm->bytes[8], 0x79);                  /* end tag */
    } else {
        assert_null(nm);
    }

    for (unsigned i = 0; i < m->cpu_count; i++) {
        snprintf(path, sizeof(path), "\\_SB_.C%03X._HID", i);
        nm = find_name(&names, path);
        assert_non_null(nm);
        assert_string_equal(nm->string, "ACPI0007");
        snprintf(path, sizeof(path), "\\_SB_.C%03X._UID", i);
        nm = find_name(&names, path);
        assert_non_null(nm);
        assert_int_equal(nm->kind, 'i');
        assert_int_equal(nm->value, i); /* the MADT's processor UID */
    }

    nm = find_name(&names, "\\_SB_.COM1._HID");
    if (!m->com1_present) {
        assert_null(nm);
        return;
    }
    assert_non_null(nm);
    assert_int_equal(nm->value, 0x0105d041); /* EisaId("PNP0501") */
    nm = find_name(&names, "\\_SB_.COM1._CRS");
    assert_non_null(nm);
    assert_int_equal(nm->kind, 'b');
    assert_int_equal(nm->value, 13);
    const uint8_t *c = nm->bytes;
    assert_int_equal(c[0], 0x47); /* I/O port descriptor */
    assert_int_equal(rd16(c + 2), m->com1_port); /* minimum */
    assert_int_equal(rd16(c + 4), m->com1_port); /* maximum */
    assert_int_equal(c[7], 8);                   /* length */
    assert_int_equal(c[8], 0x22);                /* IRQ descriptor, no flags */
    assert_int_equal(rd16(c + 9), 1u << m->com1_irq);
    assert_int_equal(c[11], 0x79);               /* end tag */
}

static void test_default_machine_structure(void **state)
{
    (void)state;
    struct acpi_gen_machine m;
    struct region r;

    acpi_gen_machine_pc(&m, 1, TABLES_GPA);
    generate(&r, &m);
    check_structure(&r, &m);
    check_madt_entries(&r, &m);
    check_dsdt(&r, &m);
    /* the defaults docs/devices.md documents */
    assert_int_equal(m.isos[0].source_irq, 0);
    assert_int_equal(m.isos[0].gsi, 2);
    assert_int_equal(m.isos[0].flags, ACPI_INTI_POLARITY_HIGH | ACPI_INTI_TRIGGER_EDGE);
    assert_int_equal(m.isos[1].source_irq, 9);
    assert_int_equal(m.isos[1].gsi, 9);
    assert_int_equal(m.isos[1].flags, ACPI_INTI_POLARITY_HIGH | ACPI_INTI_TRIGGER_LEVEL);
    region_free(&r);
}

/* 1 to ACPI_GEN_MAX_CPUS CPUs with scattered APIC ids; the AML grows past one-byte PkgLengths. */
static void test_cpu_counts(void **state)
{
    (void)state;
    for (unsigned n = 1; n <= ACPI_GEN_MAX_CPUS; n++) {
        struct acpi_gen_machine m;
        struct region r;
        struct acpi_info info;

        acpi_gen_machine_pc(&m, n, TABLES_GPA + 0x1000 * n);
        for (unsigned i = 0; i < n; i++)
            m.apic_ids[i] = (uint8_t)(0x40 + 3 * (n - 1 - i)); /* descending, not contiguous */
        m.ioapic_id = 0x20;
        generate(&r, &m);
        parse_region(&r, &info);
        assert_int_equal(info.cpu_count, n);
        assert_int_equal(info.cpus_enabled, n);
        for (unsigned i = 0; i < n; i++) {
            assert_int_equal(info.cpus[i].apic_id, m.apic_ids[i]);
            assert_int_equal(info.cpus[i].uid, i);
            assert_true(info.cpus[i].enabled);
        }
        assert_int_equal(info.ioapics[0].id, 0x20);
        assert_true(info.has_s5);
        check_structure(&r, &m);
        check_madt_entries(&r, &m);
        check_dsdt(&r, &m);
        region_free(&r);
    }
}

/* Every buffer size below the needed one is refused and leaves the buffer untouched; the exact
 * size works, and a larger buffer is written only up to the reported size. */
static void check_too_small(const struct acpi_gen_machine *m)
{
    uint64_t need = needed_size(m);
    struct acpi_gen_layout l;
    struct region r;

    for (uint64_t size = 0; size < need; size++) {
        region_alloc(&r, size, m->tables_gpa);
        int err = acpi_gen_build(m, r.buf, size, &l);
        /* past the end first (the worst failure), then before it, then the refused buffer */
        assert_untouched(&r, (int64_t)size, (int64_t)size + GUARD);
        assert_untouched(&r, -GUARD, 0);
        assert_untouched(&r, 0, (int64_t)size);
        assert_int_equal(err, -ENOSPC);
        assert_int_equal(l.size, need);
        region_free(&r);
    }
    region_alloc(&r, need + 100, m->tables_gpa);
    assert_int_equal(acpi_gen_build(m, r.buf, need + 100, &l), 0);
    assert_int_equal(l.size, need);
    assert_untouched(&r, -GUARD, 0);
    assert_untouched(&r, (int64_t)need, (int64_t)need + 100 + GUARD);
    region_free(&r);
}

static void test_buffer_too_small(void **state)
{
    (void)state;
    struct acpi_gen_machine m;

    acpi_gen_machine_pc(&m, 1, TABLES_GPA);
    check_too_small(&m);
    acpi_gen_machine_pc(&m, ACPI_GEN_MAX_CPUS, TABLES_GPA + 8); /* RSDP after 8 bytes of pad */
    check_too_small(&m);
    m.com1_present = false;
    check_too_small(&m);
}

/* A region that does not start aligned: the RSDP moves up to 16 bytes, the FACS to 64, all by
 * guest-physical address. */
static void test_unaligned_region(void **state)
{
    (void)state;
    for (uint64_t gpa = 0x9f001; gpa < 0x9f001 + 70; gpa += 3) {
        struct acpi_gen_machine m;
        struct region r;
        struct acpi_info info;

        acpi_gen_machine_pc(&m, 2, gpa);
        generate(&r, &m);
        assert_int_equal(r.layout.rsdp, (gpa + 15) & ~15ull);
        parse_region(&r, &info);
        assert_int_equal(info.cpu_count, 2);
        check_structure(&r, &m);
        region_free(&r);
    }
}

static void test_options(void **state)
{
    (void)state;
    struct acpi_gen_machine m;
    struct region r;
    struct acpi_info info;

    /* no PIC, no power button, no COM1, PIIX4-style ports, another reset value and SLP_TYP */
    acpi_gen_machine_pc(&m, 2, TABLES_GPA);
    m.pic_present = false;
    m.power_button = false;
    m.com1_present = false;
    m.pvpanic_present = false;
    m.pm1a_evt_port = 0xb000;
    m.pm1a_cnt_port = 0xb004;
    m.pm_timer_port = 0xb008;
    m.reset_port = 0x604;
    m.reset_value = 0x01;
    m.s5_slp_typ = 7;
    m.rtc_century = 0;
    m.iso_count = 1; /* just IRQ 0 -> GSI 2 */
    generate(&r, &m);
    parse_region(&r, &info);
    assert_int_equal(info.madt_flags, 0);
    assert_int_equal(info.fadt_flags & (1u << 4), 1u << 4);
    assert_int_equal(info.pm1a_evt.address, 0xb000);
    assert_int_equal(info.pm1a_cnt.address, 0xb004);
    assert_int_equal(info.pm_timer.address, 0xb008);
    assert_int_equal(info.reset_reg.address, 0x604);
    assert_int_equal(info.reset_value, 1);
    assert_int_equal(info.s5_slp_typ_a, 7);
    check_structure(&r, &m);
    check_madt_entries(&r, &m);
    check_dsdt(&r, &m);
    region_free(&r);
}

/* Inconsistent descriptions are refused before anything is written. */
static void check_refused(const struct acpi_gen_machine *m, int err)
{
    struct region r;
    struct acpi_gen_layout l;

    region_alloc(&r, 4096, m->tables_gpa);
    assert_int_equal(acpi_gen_build(m, r.buf, 4096, &l), err);
    assert_untouched(&r, -GUARD, 4096 + GUARD);
    region_free(&r);
}

static void test_invalid_machines(void **state)
{
    (void)state;
    struct acpi_gen_machine m;

#define REFUSED(edit, err)                                                                     \
    do {                                                                                       \
        acpi_gen_machine_pc(&m, 2, TABLES_GPA);                                                \
        edit;                                                                                  \
        check_refused(&m, err);                                                                \
    } while (0)

    REFUSED(m.cpu_count = 0, -EINVAL);
    REFUSED(m.cpu_count = ACPI_GEN_MAX_CPUS + 1, -EINVAL);
    REFUSED(m.apic_ids[1] = m.apic_ids[0], -EINVAL);
    REFUSED(m.apic_ids[1] = 0xff, -EINVAL);
    REFUSED(m.iso_count = ACPI_GEN_MAX_ISOS + 1, -EINVAL);
    REFUSED(m.isos[0].source_irq = 16, -EINVAL);
    REFUSED(m.isos[1].flags = 0x2 | ACPI_INTI_TRIGGER_LEVEL, -EINVAL); /* reserved polarity */
    REFUSED(m.isos[1].flags = ACPI_INTI_POLARITY_HIGH | 0x8, -EINVAL); /* reserved trigger */
    REFUSED(m.isos[1].flags = 0x10, -EINVAL);
    REFUSED(m.pm1a_evt_port = 0, -EINVAL);
    REFUSED(m.pm_timer_port = 0xfffd, -EINVAL); /* 4 bytes would pass 0xffff */
    REFUSED(m.pm_timer_port = 0x602, -EINVAL);  /* overlaps PM1a_EVT */
    REFUSED(m.reset_port = 0x605, -EINVAL);     /* inside PM1a_CNT */
    REFUSED(m.com1_port = 0x600, -EINVAL);
    REFUSED(m.com1_irq = 16, -EINVAL);
    REFUSED(m.pvpanic_port = 0x3f8, -EINVAL);   /* inside COM1 */
    REFUSED(m.pvpanic_port = 0xcf9, -EINVAL);   /* the reset register */
    REFUSED(m.sci_irq = 0, -EINVAL);
    REFUSED(m.s5_slp_typ = 0, -EINVAL);
    REFUSED(m.s5_slp_typ = 8, -EINVAL);
    REFUSED(m.tables_gpa = 1ull << 32, -ERANGE);
    REFUSED(m.tables_gpa = 1ull << 40, -ERANGE);
    REFUSED(m.tables_gpa = ~0ull - 15, -ERANGE);
    REFUSED(m.tables_gpa = (1ull << 32) - 256, -ERANGE); /* would run past 4 GiB */
#undef REFUSED

    /* COM1's port is not checked when there is no COM1; the last fitting gpa is accepted */
    acpi_gen_machine_pc(&m, 1, TABLES_GPA);
    m.com1_present = false;
    m.com1_port = 0x600;
    struct region r;
    generate(&r, &m);
    region_free(&r);
    /* padding depends on the gpa modulo 64 only: at the last 64-byte step that fits, it fits;
     * one step up it would cross 4 GiB */
    uint64_t need = needed_size(&m);
    uint64_t last = ((1ull << 32) - need) & ~63ull;
    acpi_gen_machine_pc(&m, 1, last);
    m.com1_present = false;
    generate(&r, &m);
    assert_true(last + r.layout.size <= 1ull << 32);
    region_free(&r);
    m.tables_gpa = last + 64;
    check_refused(&m, -ERANGE);

    struct acpi_gen_layout l;
    assert_int_equal(acpi_gen_build(NULL, NULL, 0, &l), -EINVAL);
    acpi_gen_machine_pc(&m, 1, TABLES_GPA);
    assert_int_equal(acpi_gen_build(&m, NULL, 4096, &l), -EINVAL);
    assert_int_equal(acpi_gen_build(&m, NULL, 0, NULL), -EINVAL);
}

/* acpi_gen_install: the tables land in the VM's RAM at the gpa, through guest_mem_range; a VM
 * too small for the region is refused with a sentence, with nothing written. */
static void test_install(void **state)
{
    (void)state;
    const uint64_t ram_size = ACPI_GEN_TABLES_GPA + ACPI_GEN_TABLES_LEN; /* 1 MiB */
    uint8_t *ram = malloc(ram_size);
    assert_non_null(ram);
    memset(ram, 0xa5, ram_size);
    struct vcpu_memory mem = { (uint64_t)(uintptr_t)ram, ram_size };
    struct acpi_gen_machine m;
    struct acpi_gen_layout l;
    char why[160];

    acpi_gen_machine_pc(&m, 1, ACPI_GEN_TABLES_GPA);
    assert_int_equal(acpi_gen_install(&mem, &m, ACPI_GEN_TABLES_LEN, &l, why, sizeof(why)), 0);
    assert_int_equal(l.rsdp, ACPI_GEN_TABLES_GPA); /* in the legacy search area, 16-aligned */
    assert_memory_equal(ram + l.rsdp, "RSD PTR ", 8);
    assert_memory_equal(ram + l.madt, "APIC", 4);
    assert_memory_equal(ram + l.fadt, "FACP", 4);
    assert_true(l.size < 4096);
    for (uint64_t i = 0; i < ACPI_GEN_TABLES_GPA; i++)
        if (ram[i] != 0xa5)
            fail_msg("byte 0x%llx below the region written", (unsigned long long)i);

    /* a VM that ends inside the region: refused, the reason names the range */
    memset(ram, 0xa5, ram_size);
    mem.size = ACPI_GEN_TABLES_GPA + 0x1000;
    assert_int_equal(acpi_gen_install(&mem, &m, ACPI_GEN_TABLES_LEN, &l, why, sizeof(why)),
                     -ENOSPC);
    assert_string_equal(why, "its ACPI tables need RAM at 0xe0000-0x100000, the VM has 0xe1000 bytes");
    for (uint64_t i = 0; i < ram_size; i++)
        if (ram[i] != 0xa5)
            fail_msg("byte 0x%llx written", (unsigned long long)i);
    /* a region too small for the tables */
    mem.size = ram_size;
    assert_int_equal(acpi_gen_install(&mem, &m, 64, &l, why, sizeof(why)), -ENOSPC);
    assert_non_null(strstr(why, "set aside"));
    /* an inconsistent machine */
    m.cpu_count = 0;
    assert_int_equal(acpi_gen_install(&mem, &m, ACPI_GEN_TABLES_LEN, &l, why, sizeof(why)),
                     -EINVAL);
    free(ram);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pkglength_encoding),
        cmocka_unit_test(test_default_machine_parses),
        cmocka_unit_test(test_default_machine_structure),
        cmocka_unit_test(test_cpu_counts),
        cmocka_unit_test(test_buffer_too_small),
        cmocka_unit_test(test_unaligned_region),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_invalid_machines),
        cmocka_unit_test(test_install),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
