/* ACPI table parsing (see tessera/acpi.h). Tables are read byte by byte with explicit
 * little-endian loads: firmware tables are packed and often misaligned (XSDT entries sit at
 * offset 36), so no packed structs and no unaligned pointer casts. */
#include <tessera/bytes.h>
#include <tessera/acpi.h>
#include <tessera/errno.h>
#include <tessera/printf.h>
#include <tessera/string.h>

#define HEADER_LEN 36u
#define RSDP_V1_LEN 20u
#define RSDP_V2_LEN 36u
#define MADT_MIN_LEN 44u
#define FADT_MIN_LEN 116u /* the ACPI 1.0 FADT */
#define HPET_MIN_LEN 56u
#define MSG_LEN sizeof(((struct acpi_info *)0)->error)

struct parser {
    acpi_map_fn map;
    void *ctx;
    struct acpi_info *out;
};

static struct acpi_gas rd_gas(const uint8_t *p)
{
    struct acpi_gas g = { p[0], p[1], p[2], p[3], rd64(p + 4) };
    return g;
}

static struct acpi_gas io_gas(uint32_t port, uint8_t bytes)
{
    /* bit_width is 8 bits wide: blocks over 31 bytes (GPE blocks can be) saturate at 255 */
    unsigned bits = bytes * 8u;
    struct acpi_gas g = { ACPI_GAS_IO, (uint8_t)(bits > 255 ? 255 : bits), 0, 0, port };
    return g;
}

static uint8_t sum8(const uint8_t *p, uint32_t n)
{
    uint8_t s = 0;
    for (uint32_t i = 0; i < n; i++)
        s += p[i];
    return s;
}

/* Records msg in buf unless an earlier problem is already there (the first cause is the useful
 * one); returns err so callers can `return report(...)`. */
__attribute__((format(printf, 3, 4))) static int report(char *buf, int err, const char *fmt, ...)
{
    va_list ap;

    if (buf[0] == 0) {
        va_start(ap, fmt);
        kvsnprintf(buf, MSG_LEN, fmt, ap);
        va_end(ap);
    }
    return err;
}

/* A signature as printable text, for messages about a wrong one. */
static void sig_text(const uint8_t *sig, char text[5])
{
    for (int i = 0; i < 4; i++)
        text[i] = sig[i] >= 0x20 && sig[i] < 0x7f ? (char)sig[i] : '?';
    text[4] = 0;
}

/* Maps the table at phys and checks its signature, length and checksum. */
static int map_table(struct parser *ps, uint64_t phys, const char *sig, uint32_t min_len,
                     const uint8_t **table, uint32_t *len, char *msg)
{
    const uint8_t *h = ps->map(ps->ctx, phys, HEADER_LEN);
    const uint8_t *t;
    uint32_t l;
    char found[5];
    /* the MADT and FADT are better known by those names than by their signatures */
    const char *name = memcmp(sig, "APIC", 4) == 0   ? "MADT"
                       : memcmp(sig, "FACP", 4) == 0 ? "FADT"
                                                     : sig;

    if (!h)
        return report(msg, -EFAULT, "%s at 0x%llx: cannot map its header", name,
                      (unsigned long long)phys);
    if (memcmp(h, sig, 4) != 0) {
        sig_text(h, found);
        return report(msg, -EINVAL, "%s at 0x%llx: wrong signature '%s'", name,
                      (unsigned long long)phys, found);
    }
    l = rd32(h + 4);
    if (l < min_len)
        return report(msg, -EINVAL, "%s at 0x%llx: length %u is shorter than %u", name,
                      (unsigned long long)phys, l, min_len);
    if (l > ACPI_MAX_TABLE_LEN)
        return report(msg, -EINVAL, "%s at 0x%llx: implausible length %u", name,
                      (unsigned long long)phys, l);
    t = ps->map(ps->ctx, phys, l);
    if (!t)
        return report(msg, -EFAULT, "%s at 0x%llx: cannot map its %u bytes", name,
                      (unsigned long long)phys, l);
    if (sum8(t, l) != 0)
        return report(msg, -EINVAL, "%s at 0x%llx: bad checksum", name,
                      (unsigned long long)phys);
    *table = t;
    *len = l;
    return 0;
}

/* ---- MADT (ACPI 5.2.12) ---------------------------------------------------------------------- */

static void add_cpu(struct acpi_info *out, uint32_t apic_id, uint32_t uid, uint32_t flags,
                    int online_capable_valid, int x2apic)
{
    uint8_t enabled = flags & 1;
    uint8_t online = online_capable_valid ? (flags >> 1) & 1 : 0;

    if (!enabled && !online) {
        out->cpus_unusable++;
        return;
    }
    for (unsigned i = 0; i < out->cpu_count; i++)
        if (out->cpus[i].apic_id == apic_id)
            return; /* listed twice (LAPIC and x2APIC entry): keep the first */
    if (out->cpu_count == ACPI_MAX_CPUS) {
        out->cpus_dropped++;
        return;
    }
    struct acpi_cpu *c = &out->cpus[out->cpu_count++];
    c->apic_id = apic_id;
    c->uid = uid;
    c->enabled = enabled;
    c->online_capable = online;
    c->x2apic = (uint8_t)x2apic;
    if (enabled)
        out->cpus_enabled++;
}

static int parse_madt(struct parser *ps, uint64_t phys)
{
    struct acpi_info *out = ps->out;
    const uint8_t *t;
    uint32_t len, off;
    int err = map_table(ps, phys, "APIC", MADT_MIN_LEN, &t, &len, out->error);

    if (err)
        return err;
    /* Online Capable (flags bit 1) exists from MADT revision 5 (ACPI 6.3); reserved before. */
    int online_valid = t[8] >= 5;
    out->lapic_address = rd32(t + 36);
    out->madt_flags = rd32(t + 40);

    for (off = MADT_MIN_LEN; off < len;) {
        const uint8_t *e = t + off;
        uint32_t need;

        if (len - off < 2)
            return report(out->error, -EINVAL, "MADT: truncated entry at offset %u", off);
        uint8_t type = e[0], elen = e[1];
        if (elen < 2 || elen > len - off)
            return report(out->error, -EINVAL,
                          "MADT: entry type %u at offset %u has bad length %u", type, off, elen);
        switch (type) {
        case 0: need = 8; break;  /* Processor Local APIC */
        case 1: need = 12; break; /* I/O APIC */
        case 5: need = 12; break; /* Local APIC Address Override */
        case 9: need = 16; break; /* Processor Local x2APIC */
        default: need = 2; break; /* not needed here */
        }
        if (elen < need)
            return report(out->error, -EINVAL,
                          "MADT: entry type %u at offset %u is %u bytes, needs %u", type, off,
                          elen, need);
        switch (type) {
        case 0:
            if (e[3] != 0xff) /* 0xff: no valid APIC id */
                add_cpu(out, e[3], e[2], rd32(e + 4), online_valid, 0);
            break;
        case 1:
            if (out->ioapic_count < ACPI_MAX_IOAPICS) {
                struct acpi_ioapic *io = &out->ioapics[out->ioapic_count++];
                io->id = e[2];
                io->address = rd32(e + 4);
                io->gsi_base = rd32(e + 8);
            } else {
                report(out->warning, 0, "MADT: more than %u I/O APICs, extra ignored",
                       ACPI_MAX_IOAPICS);
            }
            break;
        case 5:
            out->lapic_address = rd64(e + 4);
            break;
        case 9:
            if (rd32(e + 4) != 0xffffffffu)
                add_cpu(out, rd32(e + 4), rd32(e + 12), rd32(e + 8), online_valid, 1);
            break;
        }
        off += elen;
    }
    if (out->cpu_count == 0)
        return report(out->error, -EINVAL, "MADT: no enabled or online-capable CPU listed");
    out->has_madt = 1;
    return 0;
}

/* ---- FADT (ACPI 5.2.9) ----------------------------------------------------------------------- */

static int parse_fadt(struct parser *ps, uint64_t phys)
{
    struct acpi_info *out = ps->out;
    const uint8_t *t;
    uint32_t len;
    int err = map_table(ps, phys, "FACP", FADT_MIN_LEN, &t, &len, out->error);

    if (err)
        return err;
    out->fadt_revision = t[8];
    out->sci_irq = rd16(t + 46);
    out->smi_cmd = rd32(t + 48);
    out->acpi_enable = t[52];
    out->pm1a_cnt = io_gas(rd32(t + 64), t[89]);
    out->pm1b_cnt = io_gas(rd32(t + 68), t[89]);
    out->pm_timer = io_gas(rd32(t + 76), t[91]);
    out->pm1a_evt = io_gas(rd32(t + 56), t[88]);
    out->pm1b_evt = io_gas(rd32(t + 60), t[88]);
    out->pm2_cnt = io_gas(rd32(t + 72), t[90]);
    out->gpe0 = io_gas(rd32(t + 80), t[92]);
    out->gpe1 = io_gas(rd32(t + 84), t[93]);
    for (unsigned i = 0; i < ACPI_PM_BLOCKS; i++) {
        /* PM1a/b EVT, PM1a/b CNT, PM2 CNT, PM TMR, GPE0, GPE1: ports at 56..84, lengths at
         * 88..93 (the a and b blocks of PM1 share one length) */
        static const uint8_t len_at[ACPI_PM_BLOCKS] = { 88, 88, 89, 89, 90, 91, 92, 93 };
        out->pm_block_port[i] = rd32(t + 56 + 4 * i);
        out->pm_block_len[i] = t[len_at[i]];
    }
    out->iapc_boot_arch = rd16(t + 109);
    out->fadt_flags = rd32(t + 112);
    out->dsdt_phys = rd32(t + 40);

    /* Later revisions only append fields: read what the length covers. The 64-bit X_ fields win
     * when set (ACPI 5.2.9: "if non-zero, the 32-bit field must be ignored"). */
    if (len >= 129) {
        out->reset_reg = rd_gas(t + 116);
        out->reset_value = t[128];
        out->reset_supported = (out->fadt_flags & ACPI_FADT_RESET_REG_SUP) &&
                               out->reset_reg.address != 0 &&
                               out->reset_reg.space_id <= ACPI_GAS_PCI_CONFIG;
    }
    if (len >= 148 && rd64(t + 140))
        out->dsdt_phys = rd64(t + 140);
    if (len >= 160 && rd64(t + 152))
        out->pm1a_evt = rd_gas(t + 148);
    if (len >= 172 && rd64(t + 164))
        out->pm1b_evt = rd_gas(t + 160);
    if (len >= 184 && rd64(t + 176))
        out->pm1a_cnt = rd_gas(t + 172);
    if (len >= 196 && rd64(t + 188))
        out->pm1b_cnt = rd_gas(t + 184);
    if (len >= 208 && rd64(t + 200))
        out->pm2_cnt = rd_gas(t + 196);
    if (len >= 220 && rd64(t + 212))
        out->pm_timer = rd_gas(t + 208);
    if (len >= 232 && rd64(t + 224))
        out->gpe0 = rd_gas(t + 220);
    if (len >= 244 && rd64(t + 236))
        out->gpe1 = rd_gas(t + 232);
    if (len >= 256)
        out->sleep_control = rd_gas(t + 244);
    if (len >= 268)
        out->sleep_status = rd_gas(t + 256);

    if (!(out->fadt_flags & ACPI_FADT_HW_REDUCED) && out->pm1a_cnt.address == 0)
        report(out->warning, 0, "FADT: no PM1a control block");
    out->has_fadt = 1;
    return 0;
}

/* ---- \_S5 in the DSDT (ACPI 7.4.2 and the AML grammar, 20.2) ---------------------------------- */

/* One AML integer data object at aml[*at]: Zero, One, or a Byte/Word/DWord/QWord constant. */
static int aml_integer(const uint8_t *aml, uint32_t n, uint32_t *at, uint64_t *value)
{
    uint32_t i = *at, size;

    if (i >= n)
        return -EINVAL;
    switch (aml[i]) {
    case 0x00: *value = 0; *at = i + 1; return 0; /* ZeroOp */
    case 0x01: *value = 1; *at = i + 1; return 0; /* OneOp */
    case 0x0a: size = 1; break;                    /* BytePrefix */
    case 0x0b: size = 2; break;                    /* WordPrefix */
    case 0x0c: size = 4; break;                    /* DWordPrefix */
    case 0x0e: size = 8; break;                    /* QWordPrefix */
    default: return -EINVAL;                       /* a name or method call: not a constant */
    }
    if (n - i - 1 < size)
        return -EINVAL;
    *value = 0;
    for (uint32_t b = 0; b < size; b++)
        *value |= (uint64_t)aml[i + 1 + b] << (8 * b);
    *at = i + 1 + size;
    return 0;
}

/* Looks for Name(_S5_, Package() { SLP_TYPa, SLP_TYPb, ... }): NameOp (0x08), an optional root
 * prefix '\', the name, PackageOp (0x12), PkgLength (1-4 bytes), NumElements, the elements. */
static int find_s5(const uint8_t *aml, uint32_t n, uint8_t *a, uint8_t *b)
{
    for (uint32_t i = 1; i + 4 <= n; i++) {
        uint32_t at = i + 4;
        uint64_t va, vb;

        if (memcmp(aml + i, "_S5_", 4) != 0)
            continue;
        if (!(aml[i - 1] == 0x08 || (i >= 2 && aml[i - 1] == '\\' && aml[i - 2] == 0x08)))
            continue; /* a reference to _S5_, not its definition */
        if (at >= n || aml[at] != 0x12)
            continue;
        at++;
        if (at >= n)
            return -EINVAL;
        at += 1 + (aml[at] >> 6); /* PkgLength: bits 7-6 of the lead byte count extra bytes */
        if (at >= n)
            return -EINVAL;
        uint8_t count = aml[at++];
        if (count == 0 || aml_integer(aml, n, &at, &va) != 0)
            return -EINVAL;
        if (count >= 2) {
            if (aml_integer(aml, n, &at, &vb) != 0)
                return -EINVAL;
        } else { /* old firmware packs both values into one integer */
            vb = (va >> 8) & 0xff;
            va &= 0xff;
        }
        if (va > 7 || vb > 7) /* SLP_TYP is a 3-bit field */
            return -ERANGE;
        *a = (uint8_t)va;
        *b = (uint8_t)vb;
        return 0;
    }
    return -ENOENT;
}

static void parse_dsdt(struct parser *ps)
{
    struct acpi_info *out = ps->out;
    const uint8_t *t;
    uint32_t len;
    int err;

    if (out->dsdt_phys == 0) {
        report(out->warning, 0, "FADT: no DSDT address, no \\_S5");
        return;
    }
    if (map_table(ps, out->dsdt_phys, "DSDT", HEADER_LEN, &t, &len, out->warning) != 0)
        return;
    err = find_s5(t + HEADER_LEN, len - HEADER_LEN, &out->s5_slp_typ_a, &out->s5_slp_typ_b);
    if (err == -ENOENT)
        report(out->warning, 0, "DSDT: no \\_S5 object");
    else if (err == -ERANGE)
        report(out->warning, 0, "DSDT: \\_S5 values out of range");
    else if (err)
        report(out->warning, 0, "DSDT: \\_S5 package is malformed");
    else
        out->has_s5 = 1;
}

/* ---- HPET (IA-PC HPET specification 1.0a, table 3) -------------------------------------------- */

static void parse_hpet(struct parser *ps, uint64_t phys)
{
    struct acpi_info *out = ps->out;
    const uint8_t *t;
    uint32_t len;

    if (map_table(ps, phys, "HPET", HPET_MIN_LEN, &t, &len, out->warning) != 0)
        return;
    struct acpi_gas base = rd_gas(t + 40);
    if (base.space_id != ACPI_GAS_MEMORY || base.address == 0) {
        report(out->warning, 0, "HPET: base address is not in memory space");
        return;
    }
    out->hpet_address = base.address;
    out->has_hpet = 1;
}

/* ---- RSDP and root table (ACPI 5.2.5, 5.2.7, 5.2.8) ------------------------------------------- */

struct found_tables {
    uint64_t madt, fadt, hpet;
};

static int parse_root(struct parser *ps, uint64_t phys, int xsdt, struct found_tables *found,
                      char *msg)
{
    const char *sig = xsdt ? "XSDT" : "RSDT";
    uint32_t entry = xsdt ? 8 : 4;
    const uint8_t *t;
    uint32_t len;
    int err = map_table(ps, phys, sig, HEADER_LEN, &t, &len, msg);

    if (err)
        return err;
    for (uint32_t off = HEADER_LEN; len - off >= entry; off += entry) {
        uint64_t addr = xsdt ? rd64(t + off) : rd32(t + off);
        const uint8_t *h;

        if (addr == 0)
            continue;
        h = ps->map(ps->ctx, addr, HEADER_LEN);
        if (!h) { /* a table we may not even need: note it and go on */
            report(ps->out->warning, 0, "%s: cannot map the table at 0x%llx", sig,
                   (unsigned long long)addr);
            continue;
        }
        if (!found->madt && memcmp(h, "APIC", 4) == 0)
            found->madt = addr;
        else if (!found->fadt && memcmp(h, "FACP", 4) == 0)
            found->fadt = addr;
        else if (!found->hpet && memcmp(h, "HPET", 4) == 0)
            found->hpet = addr;
    }
    ps->out->uses_xsdt = (uint8_t)xsdt;
    ps->out->root_phys = phys;
    return 0;
}

static int parse_rsdp(struct parser *ps, uint64_t phys, uint32_t avail, uint64_t *rsdt,
                      uint64_t *xsdt)
{
    struct acpi_info *out = ps->out;
    const uint8_t *r;
    uint32_t len;

    if (avail && avail < RSDP_V1_LEN)
        return report(out->error, -EINVAL, "RSDP at 0x%llx: only %u bytes of it were kept",
                      (unsigned long long)phys, avail);
    r = ps->map(ps->ctx, phys, RSDP_V1_LEN);
    if (!r)
        return report(out->error, -EFAULT, "RSDP at 0x%llx: cannot map it",
                      (unsigned long long)phys);
    if (memcmp(r, "RSD PTR ", 8) != 0)
        return report(out->error, -EINVAL, "RSDP at 0x%llx: wrong signature",
                      (unsigned long long)phys);
    if (sum8(r, RSDP_V1_LEN) != 0)
        return report(out->error, -EINVAL, "RSDP at 0x%llx: bad checksum",
                      (unsigned long long)phys);
    out->rsdp_revision = r[15];
    memcpy(out->oem_id, r + 9, 6);
    out->oem_id[6] = 0;
    *rsdt = rd32(r + 16);
    *xsdt = 0;
    if (r[15] < 2)
        return 0;
    /* ACPI 2.0+: a length, the XSDT address and a checksum over the whole structure. A boot
     * loader's copy may hold less than the length claims: the extended checksum cannot be
     * checked then, so the XSDT address is not trusted and the RSDT (covered by the 20-byte
     * checksum above) is used. */
    if (avail && avail < RSDP_V2_LEN) {
        report(out->warning, 0, "RSDP at 0x%llx: only %u bytes kept, using the RSDT",
               (unsigned long long)phys, avail);
        return 0;
    }
    r = ps->map(ps->ctx, phys, RSDP_V2_LEN);
    if (!r)
        return report(out->error, -EFAULT, "RSDP at 0x%llx: cannot map 36 bytes",
                      (unsigned long long)phys);
    len = rd32(r + 20);
    if (len < RSDP_V2_LEN || len > 4096)
        return report(out->error, -EINVAL, "RSDP at 0x%llx: bad length %u",
                      (unsigned long long)phys, len);
    if (avail && len > avail) {
        report(out->warning, 0,
               "RSDP at 0x%llx: length %u is more than the %u bytes kept, using the RSDT",
               (unsigned long long)phys, len, avail);
        return 0;
    }
    r = ps->map(ps->ctx, phys, len);
    if (!r)
        return report(out->error, -EFAULT, "RSDP at 0x%llx: cannot map %u bytes",
                      (unsigned long long)phys, len);
    if (sum8(r, len) != 0)
        return report(out->error, -EINVAL, "RSDP at 0x%llx: bad extended checksum",
                      (unsigned long long)phys);
    *xsdt = rd64(r + 24);
    return 0;
}

int acpi_parse(uint64_t rsdp_phys, uint32_t rsdp_len, acpi_map_fn map, void *ctx,
               struct acpi_info *out)
{
    struct parser ps = { map, ctx, out };
    struct found_tables found = { 0, 0, 0 };
    uint64_t rsdt = 0, xsdt = 0;
    int err, first = 0;

    if (!out)
        return -EINVAL;
    memset(out, 0, sizeof(*out));
    if (!map)
        return report(out->error, -EINVAL, "no mapping function");
    if (rsdp_phys == 0)
        return report(out->error, -ENOENT, "no RSDP: the boot loader found no ACPI tables");
    err = parse_rsdp(&ps, rsdp_phys, rsdp_len, &rsdt, &xsdt);
    if (err)
        return err;

    if (xsdt) {
        char why[MSG_LEN] = "";
        err = parse_root(&ps, xsdt, 1, &found, why);
        if (err && !rsdt) {
            str_copy(out->error, why, MSG_LEN);
            return err;
        }
        if (err) {
            report(out->warning, 0, "%s; using the RSDT", why);
            found.madt = found.fadt = found.hpet = 0;
        }
    }
    if (!xsdt || err) {
        if (!rsdt)
            return report(out->error, -ENOENT, "RSDP: no RSDT or XSDT address");
        err = parse_root(&ps, rsdt, 0, &found, out->error);
        if (err)
            return err;
    }

    /* Parse everything that is there and report the first fatal problem. */
    if (found.madt)
        first = parse_madt(&ps, found.madt);
    else
        first = report(out->error, -ENOENT, "%s: no MADT (APIC) table listed",
                       out->uses_xsdt ? "XSDT" : "RSDT");
    if (found.fadt) {
        err = parse_fadt(&ps, found.fadt);
        if (err == 0)
            parse_dsdt(&ps);
    } else {
        err = report(out->error, -ENOENT, "%s: no FADT (FACP) table listed",
                     out->uses_xsdt ? "XSDT" : "RSDT");
    }
    if (!first)
        first = err;
    if (found.hpet)
        parse_hpet(&ps, found.hpet);
    return first;
}

/* Appends [port, port + bytes - 1], cut at 0xffff, unless there is no port or no room. */
static unsigned add_ports(struct acpi_port_range *out, unsigned n, unsigned max, uint64_t port,
                          unsigned bytes, const char *owner)
{
    if (!port || port > 0xffff || n >= max)
        return n;
    uint64_t last = port + (bytes ? bytes : 1) - 1;
    out[n] = (struct acpi_port_range){ (uint16_t)port, (uint16_t)(last > 0xffff ? 0xffff : last),
                                       owner };
    return n + 1;
}

static unsigned gas_bytes(const struct acpi_gas *g)
{
    return ((unsigned)g->bit_offset + g->bit_width + 7) / 8;
}

unsigned acpi_pm_ports(const struct acpi_info *info, struct acpi_port_range *out, unsigned max)
{
    static const char *const owners[ACPI_PM_BLOCKS] = {
        [ACPI_PM1A_EVT] = "ACPI PM1a event block",
        [ACPI_PM1B_EVT] = "ACPI PM1b event block",
        [ACPI_PM1A_CNT] = "ACPI PM1a control block (power-off)",
        [ACPI_PM1B_CNT] = "ACPI PM1b control block (power-off)",
        [ACPI_PM2_CNT] = "ACPI PM2 control block (arbiter)",
        [ACPI_PM_TMR] = "ACPI PM timer",
        [ACPI_GPE0] = "ACPI GPE0 block",
        [ACPI_GPE1] = "ACPI GPE1 block",
    };
    const struct acpi_gas *gas[ACPI_PM_BLOCKS] = {
        &info->pm1a_evt, &info->pm1b_evt, &info->pm1a_cnt, &info->pm1b_cnt,
        &info->pm2_cnt,  &info->pm_timer, &info->gpe0,     &info->gpe1,
    };
    /* the power-off blocks first: a refusal names the first range that overlaps */
    static const uint8_t order[ACPI_PM_BLOCKS] = {
        ACPI_PM1A_CNT, ACPI_PM1B_CNT, ACPI_PM1A_EVT, ACPI_PM1B_EVT,
        ACPI_PM2_CNT,  ACPI_PM_TMR,   ACPI_GPE0,     ACPI_GPE1,
    };
    unsigned n = 0;

    if (!info->has_fadt)
        return 0;
    for (unsigned k = 0; k < ACPI_PM_BLOCKS; k++) {
        unsigned i = order[k];
        const struct acpi_gas *g = gas[i];
        unsigned bytes = info->pm_block_len[i];
        int gas_io = g->space_id == ACPI_GAS_IO && g->address;

        if (gas_io && gas_bytes(g) > bytes)
            bytes = gas_bytes(g);
        if (gas_io)
            n = add_ports(out, n, max, g->address, bytes, owners[i]);
        if (!gas_io || g->address != info->pm_block_port[i])
            n = add_ports(out, n, max, info->pm_block_port[i], bytes, owners[i]);
    }
    if (info->reset_reg.space_id == ACPI_GAS_IO)
        n = add_ports(out, n, max, info->reset_reg.address, gas_bytes(&info->reset_reg),
                      "ACPI reset register");
    n = add_ports(out, n, max, info->smi_cmd, 1, "ACPI SMI command port");
    return n;
}
