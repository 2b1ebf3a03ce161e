/* ACPI table discovery on an arbitrary physical memory. Input: one flags byte, then the memory
 * image, placed at physical address MEM_BASE in a buffer of exactly its size (ASan sees any read
 * past it); the RSDP is at MEM_BASE. Flags bit 0: repair the checksums of the RSDP and of every
 * table it reaches first (a fuzzer rarely guesses a checksum; unrepaired inputs test the checks).
 * Bit 1: the parser gets a 36-byte copy of the RSDP elsewhere (at COPY_AT, in a buffer of exactly
 * that size, mapped whatever length is asked, as the kernel maps the Multiboot2 path's copy):
 * ASan sees any read past what the parser was told it has. Checks the results' bounds.
 * FUZZ-SOURCES: kernel/acpi/acpi.c kernel/lib/printf.c kernel/lib/string.c */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tessera/acpi.h>
#include <tessera/bytes.h>

#define MEM_BASE 0x10000u
#define COPY_AT 0x1000u
#define COPY_LEN 36u

struct memory {
    uint8_t *data;
    uint64_t len;
    uint8_t *copy; /* COPY_LEN bytes at COPY_AT, or NULL */
};

static const void *map_memory(void *ctx, uint64_t phys, uint64_t len)
{
    struct memory *m = ctx;

    if (m->copy && phys >= COPY_AT && phys < COPY_AT + COPY_LEN)
        return m->copy + (phys - COPY_AT); /* len not checked, like the kernel's identity map */
    if (phys < MEM_BASE || phys - MEM_BASE > m->len || len > m->len - (phys - MEM_BASE))
        return NULL;
    return m->data + (phys - MEM_BASE);
}

/* The table at phys, if its header and length fit the memory. */
static uint8_t *table_at(struct memory *m, uint64_t phys, uint32_t *len)
{
    if (phys < MEM_BASE || phys - MEM_BASE + 36 > m->len)
        return NULL;
    uint8_t *t = m->data + (phys - MEM_BASE);
    *len = rd32(t + 4);
    if (*len < 36 || *len > m->len - (phys - MEM_BASE))
        return NULL;
    return t;
}

static void fix_sum(uint8_t *t, uint32_t len, uint32_t at)
{
    uint8_t s = 0;
    t[at] = 0;
    for (uint32_t i = 0; i < len; i++)
        s += t[i];
    t[at] = (uint8_t)-s;
}

/* Repairs leaves first (DSDT, then the listed tables), then the root tables, then the RSDP, so
 * that a later fix does not break an earlier one unless tables overlap. */
static void repair(struct memory *m)
{
    uint8_t *r = m->data, *root[2], *t, *d;
    uint32_t len, rlen[2];

    if (m->len < 36)
        return;
    root[0] = table_at(m, rd32(r + 16), &rlen[0]);
    root[1] = table_at(m, rd64(r + 24), &rlen[1]);
    for (int x = 0; x < 2; x++) {
        if (!root[x])
            continue;
        uint32_t entry = x ? 8 : 4;
        for (uint32_t off = 36; off + entry <= rlen[x]; off += entry) {
            t = table_at(m, x ? rd64(root[x] + off) : rd32(root[x] + off), &len);
            if (!t)
                continue;
            if (memcmp(t, "FACP", 4) == 0 && len >= 44) {
                uint32_t dlen;
                d = table_at(m, len >= 148 && rd64(t + 140) ? rd64(t + 140) : rd32(t + 40),
                             &dlen);
                if (d && d != t)
                    fix_sum(d, dlen, 9);
            }
            fix_sum(t, len, 9);
        }
    }
    for (int x = 0; x < 2; x++)
        if (root[x])
            fix_sum(root[x], rlen[x], 9);
    fix_sum(r, 20, 8);
    len = rd32(r + 20);
    if (r[15] >= 2 && len >= 36 && len <= m->len)
        fix_sum(r, len, 32);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct acpi_info info;
    struct acpi_port_range ports[ACPI_MAX_PM_PORT_RANGES];
    struct memory m;

    if (size < 1)
        return 0;
    m.len = size - 1;
    m.data = malloc(m.len ? m.len : 1);
    if (!m.data)
        abort();
    memcpy(m.data, data + 1, m.len);
    m.copy = NULL;
    if (data[0] & 1)
        repair(&m);
    if ((data[0] & 2) && m.len >= COPY_LEN) {
        m.copy = malloc(COPY_LEN);
        if (!m.copy)
            abort();
        memcpy(m.copy, m.data, COPY_LEN);
    }

    int err = m.copy ? acpi_parse(COPY_AT, COPY_LEN, map_memory, &m, &info)
                     : acpi_parse(MEM_BASE, 0, map_memory, &m, &info);
#ifdef FUZZ_VERBOSE /* -DFUZZ_VERBOSE: what each input did, to check seeds */
    fprintf(stderr, "acpi_parse %d cpus %u fadt %u s5 %u error '%s' warning '%s'\n", err,
            info.cpu_count, info.has_fadt, info.has_s5, info.error, info.warning);
#endif
    if (info.cpu_count > ACPI_MAX_CPUS || info.cpus_enabled > info.cpu_count ||
        info.ioapic_count > ACPI_MAX_IOAPICS || info.s5_slp_typ_a > 7 || info.s5_slp_typ_b > 7 ||
        !memchr(info.error, 0, sizeof(info.error)) ||
        !memchr(info.warning, 0, sizeof(info.warning)))
        abort();
    if (err && info.error[0] == 0)
        abort(); /* a failure always says why */
    if (info.has_madt && info.cpu_count == 0)
        abort();
    for (unsigned i = 0; i < info.cpu_count; i++)
        for (unsigned j = 0; j < i; j++)
            if (info.cpus[i].apic_id == info.cpus[j].apic_id)
                abort(); /* deduplicated */

    unsigned n = acpi_pm_ports(&info, ports, ACPI_MAX_PM_PORT_RANGES);
    if (n > ACPI_MAX_PM_PORT_RANGES)
        abort();
    for (unsigned i = 0; i < n; i++)
        if (ports[i].first > ports[i].last || !ports[i].owner)
            abort();
    /* every I/O block the FADT names is covered whole (up to port 0xffff) */
    for (unsigned b = 0; info.has_fadt && b < ACPI_PM_BLOCKS; b++) {
        uint32_t port = info.pm_block_port[b];
        uint32_t last = port + (info.pm_block_len[b] ? info.pm_block_len[b] : 1) - 1;
        if (!port || port > 0xffff)
            continue;
        if (last > 0xffff)
            last = 0xffff;
        for (uint32_t p = port; p <= last; p++) {
            unsigned i = 0;
            while (i < n && !(ports[i].first <= p && p <= ports[i].last))
                i++;
            if (i == n)
                abort();
        }
    }
    free(m.data);
    free(m.copy);
    return 0;
}
