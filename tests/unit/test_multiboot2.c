/* UNIT-SOURCES: boot/multiboot2.c kernel/lib/printf.c kernel/lib/string.c */
/* multiboot2_parse: Multiboot2 info blocks built here tag by tag (layouts from the Multiboot2
 * specification, section 3.6), as GRUB produces them under BIOS and UEFI, plus malformed ones. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../boot/multiboot2.h"
#include <tessera/bytes.h>
#include <tessera/errno.h>

#define MB2_MAGIC 0x36d76289u

/* ---- info block builder ---------------------------------------------------------------------- */

struct mb {
    uint8_t buf[1 << 16];
    uint32_t len;
};

static struct mb *mb_new(void)
{
    struct mb *m = calloc(1, sizeof(*m));
    assert_non_null(m);
    m->len = 8; /* total_size, reserved */
    return m;
}

/* Appends a tag with body_len bytes of body (returned, zeroed); tags start 8-byte aligned. */
static uint8_t *mb_tag(struct mb *m, uint32_t type, uint32_t body_len)
{
    uint8_t *t = m->buf + m->len;
    assert_true(m->len + 8 + body_len + 8 <= sizeof(m->buf));
    wr32(t, type);
    wr32(t + 4, 8 + body_len);
    m->len += (8 + body_len + 7) & ~7u;
    return t + 8;
}

static void mb_string(struct mb *m, uint32_t type, const char *s)
{
    uint32_t n = (uint32_t)strlen(s) + 1;
    memcpy(mb_tag(m, type, n), s, n);
}

static void mb_module(struct mb *m, uint32_t start, uint32_t end, const char *name)
{
    uint32_t n = (uint32_t)strlen(name) + 1;
    uint8_t *b = mb_tag(m, 3, 8 + n);
    wr32(b, start);
    wr32(b + 4, end);
    memcpy(b + 8, name, n);
}

struct e820 {
    uint64_t base, len;
    uint32_t type;
};

static void mb_mmap(struct mb *m, const struct e820 *e, unsigned n, uint32_t entry_size)
{
    uint8_t *b = mb_tag(m, 6, 8 + n * entry_size);
    wr32(b, entry_size);
    wr32(b + 4, 0); /* entry_version */
    for (unsigned i = 0; i < n; i++) {
        uint8_t *x = b + 8 + i * entry_size;
        wr64(x, e[i].base);
        wr64(x + 8, e[i].len);
        wr32(x + 16, e[i].type);
        memset(x + 20, 0xee, entry_size - 20); /* reserved bytes: must be ignored */
    }
}

static uint8_t *mb_rsdp(struct mb *m, uint32_t type, uint8_t revision, const char *oem)
{
    uint32_t n = revision >= 2 ? 36 : 20;
    uint8_t *b = mb_tag(m, type, n);
    memcpy(b, "RSD PTR ", 8);
    memcpy(b + 9, oem, 6);
    b[15] = revision;
    wr32(b + 16, 0x7fe0000);
    if (revision >= 2) {
        wr32(b + 20, 36);
        wr64(b + 24, 0x7fe1000);
    }
    return b;
}

static void mb_fb(struct mb *m, uint8_t type, uint8_t bpp, uint32_t w, uint32_t h, uint32_t body)
{
    uint8_t *b = mb_tag(m, 8, body);
    wr64(b, 0xfd000000);
    wr32(b + 8, w * (bpp / 8 ? bpp / 8 : 2));
    wr32(b + 12, w);
    wr32(b + 16, h);
    b[20] = bpp;
    b[21] = type;
    if (body >= 30) { /* direct RGB colour info after two reserved bytes */
        b[24] = 16, b[25] = 8, b[26] = 8, b[27] = 8, b[28] = 0, b[29] = 8;
    }
}

/* End tag plus total size; returns an exactly sized, 8-aligned copy so ASan sees overreads. */
static uint8_t *mb_finish(struct mb *m)
{
    mb_tag(m, 0, 0);
    wr32(m->buf, m->len);
    uint8_t *out = aligned_alloc(8, m->len);
    assert_non_null(out);
    memcpy(out, m->buf, m->len);
    return out;
}

static const struct e820 bios_map[] = {
    { 0, 0x9fc00, 1 },
    { 0x9fc00, 0x400, 2 },
    { 0xf0000, 0x10000, 2 },
    { 0x100000, 0x7ee0000, 1 },
    { 0x7fe0000, 0x20000, 3 },
    { 0xfffc0000, 0x40000, 2 },
};

struct result {
    struct boot_info bi;
    char err[128];
};

static int parse(const uint8_t *mbi, struct result *r)
{
    memset(r, 0x55, sizeof(*r)); /* garbage in: the parser must set every field */
    r->err[0] = 0;
    return multiboot2_parse(MB2_MAGIC, mbi, &r->bi, r->err, sizeof(r->err));
}

#define assert_contains(hay, needle)                                                        \
    do {                                                                                     \
        if (!strstr((hay), (needle)))                                                        \
            fail_msg("\"%s\" does not contain \"%s\"", (hay), (needle));                    \
    } while (0)

/* ---- well-formed blocks ----------------------------------------------------------------------- */

static void test_grub_bios_boot(void **state)
{
    (void)state;
    struct mb *m = mb_new();
    static struct result r;

    mb_string(m, 1, "exit=qemu log=debug");
    mb_string(m, 2, "GRUB 2.06-13+deb12u1");
    uint8_t *meminfo = mb_tag(m, 4, 8); /* basic meminfo: not used */
    wr32(meminfo, 639);
    wr32(meminfo + 4, 130048);
    mb_tag(m, 5, 12); /* boot device: not used */
    mb_module(m, 0x200000, 0x200180, "/boot/tessera.cfg");
    mb_module(m, 0x201000, 0x203456, "/boot/guests/hello64.elf some args");
    mb_module(m, 0x204000, 0x204000, "");
    mb_mmap(m, bios_map, 6, 24);
    mb_rsdp(m, 14, 0, "BOCHS ");
    mb_fb(m, 2, 16, 80, 25, 22); /* EGA text */
    uint8_t *mbi = mb_finish(m);

    assert_int_equal(parse(mbi, &r), 0);
    assert_int_equal(r.bi.magic, BOOT_INFO_MAGIC);
    assert_int_equal(r.bi.version, BOOT_INFO_VERSION);
    assert_int_equal(r.bi.path, BOOT_PATH_MULTIBOOT2);
    assert_int_equal(r.bi.firmware, BOOT_FIRMWARE_BIOS);
    assert_string_equal(r.bi.cmdline, "exit=qemu log=debug");
    assert_string_equal(r.bi.loader_name, "GRUB 2.06-13+deb12u1");

    assert_int_equal(r.bi.module_count, 3);
    assert_int_equal(r.bi.modules[0].addr, 0x200000);
    assert_int_equal(r.bi.modules[0].size, 0x180);
    assert_string_equal(r.bi.modules[0].name, "tessera.cfg");
    assert_int_equal(r.bi.modules[1].size, 0x2456);
    assert_string_equal(r.bi.modules[1].name, "hello64.elf");
    assert_int_equal(r.bi.modules[2].size, 0);
    assert_string_equal(r.bi.modules[2].name, "module2");

    assert_int_equal(r.bi.mem_region_count, 6);
    for (unsigned i = 0; i < 6; i++) {
        assert_int_equal(r.bi.mem[i].base, bios_map[i].base);
        assert_int_equal(r.bi.mem[i].length, bios_map[i].len);
    }
    assert_int_equal(r.bi.mem[0].type, BOOT_MEM_USABLE);
    assert_int_equal(r.bi.mem[1].type, BOOT_MEM_RESERVED);
    assert_int_equal(r.bi.mem[4].type, BOOT_MEM_ACPI_RECLAIM);

    assert_int_equal(r.bi.rsdp_revision, 0);
    assert_int_equal(r.bi.rsdp, (uint64_t)(uintptr_t)r.bi.rsdp_copy);
    assert_memory_equal(r.bi.rsdp_copy, "RSD PTR ", 8);
    assert_memory_equal(r.bi.rsdp_copy + 9, "BOCHS ", 6);

    assert_int_equal(r.bi.fb.type, BOOT_FB_EGA_TEXT);
    assert_int_equal(r.bi.fb.width, 80);
    assert_int_equal(r.bi.fb.height, 25);
    free(mbi);
    free(m);
}

static void test_grub_uefi_boot(void **state)
{
    (void)state;
    struct mb *m = mb_new();
    static struct result r;

    mb_string(m, 1, "");
    mb_mmap(m, bios_map, 6, 24);
    uint8_t *efi = mb_tag(m, 12, 8); /* EFI 64-bit system table pointer */
    wr64(efi, 0x7f9e018);
    mb_tag(m, 17, 16 + 48); /* EFI memory map: not used */
    mb_tag(m, 20, 8);       /* EFI 64-bit image handle: not used */
    uint8_t *v2 = mb_rsdp(m, 15, 2, "OVMF  ");
    v2[32] = 0xab;                   /* an extended-checksum byte, copied as is */
    mb_rsdp(m, 14, 0, "OLDOEM");     /* after the v2 one: must not replace it */
    mb_fb(m, 1, 32, 1024, 768, 30);  /* GOP framebuffer */
    uint8_t *mbi = mb_finish(m);

    assert_int_equal(parse(mbi, &r), 0);
    assert_int_equal(r.bi.firmware, BOOT_FIRMWARE_UEFI);
    assert_string_equal(r.bi.cmdline, "");
    assert_string_equal(r.bi.loader_name, "");
    assert_int_equal(r.bi.module_count, 0);
    assert_int_equal(r.bi.rsdp_revision, 2);
    assert_memory_equal(r.bi.rsdp_copy + 9, "OVMF  ", 6);
    assert_int_equal(r.bi.rsdp_copy[32], 0xab);
    assert_int_equal(r.bi.rsdp_copy[24], 0x00); /* XSDT address 0x7fe1000 */
    assert_int_equal(r.bi.rsdp_copy[25], 0x10);
    assert_int_equal(r.bi.fb.type, BOOT_FB_RGB);
    assert_int_equal(r.bi.fb.addr, 0xfd000000);
    assert_int_equal(r.bi.fb.width, 1024);
    assert_int_equal(r.bi.fb.height, 768);
    assert_int_equal(r.bi.fb.pitch, 4096);
    assert_int_equal(r.bi.fb.bpp, 32);
    assert_int_equal(r.bi.fb.red_pos, 16);
    assert_int_equal(r.bi.fb.red_size, 8);
    assert_int_equal(r.bi.fb.green_pos, 8);
    assert_int_equal(r.bi.fb.blue_pos, 0);
    assert_int_equal(r.bi.fb.blue_size, 8);
    free(mbi);
    free(m);
}

static void test_rsdp_new_replaces_old(void **state)
{
    (void)state;
    struct mb *m = mb_new();
    static struct result r;

    mb_mmap(m, bios_map, 1, 24);
    mb_rsdp(m, 14, 0, "OLDOEM");
    mb_rsdp(m, 15, 2, "NEWOEM");
    uint8_t *mbi = mb_finish(m);

    assert_int_equal(parse(mbi, &r), 0);
    assert_int_equal(r.bi.rsdp_revision, 2);
    assert_memory_equal(r.bi.rsdp_copy + 9, "NEWOEM", 6);
    assert_int_equal(r.bi.rsdp_len, 36);
    free(mbi);
    free(m);
}

/* A tag longer than the copy: 64 bytes are kept and rsdp_len says so (the ACPI parser reads no
 * further, see test_acpi's test_rsdp_longer_than_boot_copy). */
static void test_rsdp_longer_than_copy(void **state)
{
    (void)state;
    struct mb *m = mb_new();
    static struct result r;

    mb_mmap(m, bios_map, 1, 24);
    uint8_t *b = mb_tag(m, 15, 100);
    memcpy(b, "RSD PTR ", 8);
    b[15] = 2;
    wr32(b + 20, 100);
    memset(b + 64, 0x5a, 36);
    uint8_t *mbi = mb_finish(m);

    assert_int_equal(parse(mbi, &r), 0);
    assert_int_equal(r.bi.rsdp_len, sizeof(r.bi.rsdp_copy));
    assert_int_equal(r.bi.rsdp_copy[63], 0);
    free(mbi);
    free(m);
}

/* Everything kept is copied: the info block may be overwritten after parsing. */
static void test_parse_copies_everything(void **state)
{
    (void)state;
    struct mb *m = mb_new();
    static struct result r;

    mb_string(m, 1, "console=fb");
    mb_string(m, 2, "GRUB");
    mb_module(m, 0x300000, 0x301000, "guest.elf");
    mb_mmap(m, bios_map, 6, 24);
    mb_rsdp(m, 15, 2, "COPYME");
    uint8_t *mbi = mb_finish(m);
    uint32_t total;
    memcpy(&total, mbi, 4);

    assert_int_equal(parse(mbi, &r), 0);
    memset(mbi, 0xcc, total);
    assert_string_equal(r.bi.cmdline, "console=fb");
    assert_string_equal(r.bi.loader_name, "GRUB");
    assert_string_equal(r.bi.modules[0].name, "guest.elf");
    assert_int_equal(r.bi.mem[3].length, 0x7ee0000);
    assert_memory_equal((const void *)(uintptr_t)r.bi.rsdp, "RSD PTR ", 8);
    assert_memory_equal(r.bi.rsdp_copy + 9, "COPYME", 6);
    free(mbi);
    free(m);
}

static void test_no_rsdp_no_fb(void **state)
{
    (void)state;
    struct mb *m = mb_new();
    static struct result r;

    mb_mmap(m, bios_map, 2, 24);
    uint8_t *short_rsdp = mb_tag(m, 14, 12); /* too short to be an RSDP: ignored */
    memcpy(short_rsdp, "RSD PTR ", 8);
    uint8_t *mbi = mb_finish(m);

    assert_int_equal(parse(mbi, &r), 0);
    assert_int_equal(r.bi.rsdp, 0);
    assert_int_equal(r.bi.rsdp_revision, 0);
    assert_int_equal(r.bi.fb.type, BOOT_FB_NONE);
    assert_int_equal(r.bi.fb.addr, 0);
    assert_int_equal(r.bi.module_count, 0);
    free(mbi);
    free(m);
}

static void check_fb(uint8_t type, uint8_t bpp, uint32_t body, uint8_t want_type)
{
    struct mb *m = mb_new();
    static struct result r;

    mb_mmap(m, bios_map, 1, 24);
    mb_fb(m, type, bpp, 640, 480, body);
    uint8_t *mbi = mb_finish(m);
    assert_int_equal(parse(mbi, &r), 0);
    assert_int_equal(r.bi.fb.type, want_type);
    free(mbi);
    free(m);
}

static void test_framebuffer_kinds(void **state)
{
    (void)state;
    check_fb(1, 32, 30, BOOT_FB_RGB);
    check_fb(1, 24, 30, BOOT_FB_NONE);  /* only 32 bpp is drawn */
    check_fb(1, 16, 30, BOOT_FB_NONE);
    check_fb(1, 32, 22, BOOT_FB_NONE);  /* RGB without colour info */
    check_fb(0, 8, 30, BOOT_FB_NONE);   /* indexed (palette) */
    check_fb(2, 16, 22, BOOT_FB_EGA_TEXT);
    check_fb(1, 32, 21, BOOT_FB_NONE);  /* tag too short: ignored entirely */
}

static void test_module_names(void **state)
{
    (void)state;
    struct mb *m = mb_new();
    static struct result r;
    char longname[200];

    memset(longname, 'n', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = 0;
    mb_mmap(m, bios_map, 1, 24);
    mb_module(m, 0x100000, 0x101000, "a/b/c/leaf.bin");
    mb_module(m, 0x100000, 0x101000, "plain");
    mb_module(m, 0x100000, 0x101000, " leading-space");
    mb_module(m, 0x100000, 0x101000, "dir/");
    mb_module(m, 0x100000, 0x101000, longname);
    mb_module(m, 0x100000, 0x101000, "/x/y.elf arg/with/slash");
    uint8_t *mod_short = mb_tag(m, 3, 6); /* too short for start and end: ignored */
    memset(mod_short, 1, 6);
    uint8_t *mbi = mb_finish(m);

    assert_int_equal(parse(mbi, &r), 0);
    assert_int_equal(r.bi.module_count, 6);
    assert_string_equal(r.bi.modules[0].name, "leaf.bin");
    assert_string_equal(r.bi.modules[1].name, "plain");
    assert_string_equal(r.bi.modules[2].name, "module2");
    assert_string_equal(r.bi.modules[3].name, "module3");
    assert_int_equal(strlen(r.bi.modules[4].name), BOOT_NAME_MAX - 1);
    assert_int_equal(r.bi.modules[4].name[0], 'n');
    assert_string_equal(r.bi.modules[5].name, "y.elf");
    free(mbi);
    free(m);
}

static void test_strings_bounded(void **state)
{
    (void)state;
    struct mb *m = mb_new();
    static struct result r;
    static char longcmd[BOOT_CMDLINE_MAX + 100];

    memset(longcmd, 'c', sizeof(longcmd) - 1);
    longcmd[sizeof(longcmd) - 1] = 0;
    mb_string(m, 1, longcmd);
    uint8_t *name = mb_tag(m, 2, 5); /* no terminator inside the tag */
    memcpy(name, "GRUBX", 5);
    mb_mmap(m, bios_map, 1, 24);
    uint8_t *mbi = mb_finish(m);

    assert_int_equal(parse(mbi, &r), 0);
    assert_int_equal(strlen(r.bi.cmdline), BOOT_CMDLINE_MAX - 1);
    assert_string_equal(r.bi.loader_name, "GRUBX"); /* bounded by the tag, then terminated */
    free(mbi);
    free(m);
}

static void test_mmap_layouts(void **state)
{
    (void)state;
    struct mb *m = mb_new();
    static struct result r;
    const struct e820 more[] = { { 0x100000000ULL, 0x40000000, 1 }, { 0xfee00000, 0x1000, 7 },
                                 { 0x8000000, 0x1000, 4 }, { 0x9000000, 0x1000, 5 } };

    mb_mmap(m, bios_map, 3, 32);  /* a larger entry size: stride follows it */
    mb_mmap(m, more, 4, 24);      /* a second map tag adds to the first */
    uint8_t *mbi = mb_finish(m);

    assert_int_equal(parse(mbi, &r), 0);
    assert_int_equal(r.bi.mem_region_count, 7);
    assert_int_equal(r.bi.mem[2].base, 0xf0000);
    assert_int_equal(r.bi.mem[2].type, BOOT_MEM_RESERVED);
    assert_int_equal(r.bi.mem[3].base, 0x100000000ULL);
    assert_int_equal(r.bi.mem[3].type, BOOT_MEM_USABLE);
    assert_int_equal(r.bi.mem[4].type, BOOT_MEM_RESERVED); /* unknown type 7 */
    assert_int_equal(r.bi.mem[5].type, BOOT_MEM_ACPI_NVS);
    assert_int_equal(r.bi.mem[6].type, BOOT_MEM_BAD);
    free(mbi);
    free(m);
}

static void test_mmap_partial_trailing_entry_ignored(void **state)
{
    (void)state;
    struct mb *m = mb_new();
    static struct result r;

    uint8_t *b = mb_tag(m, 6, 8 + 24 + 10);
    wr32(b, 24);
    wr64(b + 8, 0x100000);
    wr64(b + 16, 0x100000);
    wr32(b + 24, 1);
    uint8_t *mbi = mb_finish(m);

    assert_int_equal(parse(mbi, &r), 0);
    assert_int_equal(r.bi.mem_region_count, 1);
    free(mbi);
    free(m);
}

static void test_tags_after_end_ignored(void **state)
{
    (void)state;
    struct mb *m = mb_new();
    static struct result r;

    mb_mmap(m, bios_map, 1, 24);
    mb_tag(m, 0, 0);                 /* end */
    mb_string(m, 1, "after the end"); /* still inside total_size */
    uint8_t *mbi = mb_finish(m);

    assert_int_equal(parse(mbi, &r), 0);
    assert_string_equal(r.bi.cmdline, "");
    free(mbi);
    free(m);
}

/* ---- malformed blocks --------------------------------------------------------------------------- */

static void test_bad_magic_and_pointer(void **state)
{
    (void)state;
    struct mb *m = mb_new();
    static struct result r;
    mb_mmap(m, bios_map, 1, 24);
    uint8_t *mbi = mb_finish(m);

    memset(&r, 0, sizeof(r));
    assert_int_equal(multiboot2_parse(0x2badb002, mbi, &r.bi, r.err, sizeof(r.err)), -EINVAL);
    assert_contains(r.err, "magic 0x2badb002");
    assert_int_equal(multiboot2_parse(MB2_MAGIC, NULL, &r.bi, r.err, sizeof(r.err)), -EINVAL);
    assert_contains(r.err, "missing or misaligned");
    /* misaligned: the same block 4 bytes further on */
    uint8_t *odd = aligned_alloc(8, 4096);
    assert_non_null(odd);
    memcpy(odd + 4, mbi, m->len);
    assert_int_equal(multiboot2_parse(MB2_MAGIC, odd + 4, &r.bi, r.err, sizeof(r.err)), -EINVAL);
    assert_contains(r.err, "missing or misaligned");
    free(odd);
    free(mbi);
    free(m);
}

static void test_implausible_total_size(void **state)
{
    (void)state;
    static struct result r;
    uint64_t block[4] = { 0 };
    uint8_t *b = (uint8_t *)block;

    wr32(b, 8);
    assert_int_equal(parse(b, &r), -EINVAL);
    assert_contains(r.err, "implausible size 8");
    wr32(b, 65u << 20);
    assert_int_equal(parse(b, &r), -EINVAL);
    assert_contains(r.err, "implausible size");
}

static void test_bad_tag_sizes(void **state)
{
    (void)state;
    static struct result r;
    struct mb *m = mb_new();

    mb_mmap(m, bios_map, 1, 24);
    uint8_t *t = m->buf + m->len;
    mb_string(m, 1, "abc");
    wr32(t + 4, 4); /* smaller than a tag header */
    uint8_t *mbi = mb_finish(m);
    assert_int_equal(parse(mbi, &r), -EINVAL);
    assert_contains(r.err, "tag 1 at offset 48 has bad size 4");
    free(mbi);

    wr32(t + 4, 0x1000); /* runs past total_size */
    mbi = aligned_alloc(8, m->len);
    assert_non_null(mbi);
    memcpy(mbi, m->buf, m->len);
    assert_int_equal(parse(mbi, &r), -EINVAL);
    assert_contains(r.err, "has bad size 4096");
    free(mbi);
    free(m);
}

static void test_no_end_tag(void **state)
{
    (void)state;
    static struct result r;
    struct mb *m = mb_new();

    mb_mmap(m, bios_map, 1, 24);
    wr32(m->buf, m->len); /* total covers the map only */
    uint8_t *mbi = aligned_alloc(8, m->len);
    assert_non_null(mbi);
    memcpy(mbi, m->buf, m->len);
    assert_int_equal(parse(mbi, &r), -EINVAL);
    assert_contains(r.err, "no end tag");
    free(mbi);
    free(m);
}

static void test_no_memory_map(void **state)
{
    (void)state;
    static struct result r;
    struct mb *m = mb_new();

    mb_string(m, 1, "x");
    uint8_t *mbi = mb_finish(m);
    assert_int_equal(parse(mbi, &r), -EINVAL);
    assert_contains(r.err, "no memory map");
    free(mbi);

    /* a map tag with no entries is no map either */
    free(m);
    m = mb_new();
    mb_mmap(m, bios_map, 0, 24);
    mbi = mb_finish(m);
    assert_int_equal(parse(mbi, &r), -EINVAL);
    assert_contains(r.err, "no memory map");
    free(mbi);
    free(m);
}

static void check_bad_entry_size(uint32_t entry_size)
{
    static struct result r;
    struct mb *m = mb_new();
    uint8_t *b = mb_tag(m, 6, 8 + 48);
    wr32(b, entry_size);
    uint8_t *mbi = mb_finish(m);
    char want[64];
    snprintf(want, sizeof(want), "entry size %u is invalid", entry_size);
    assert_int_equal(parse(mbi, &r), -EINVAL);
    assert_contains(r.err, want);
    free(mbi);
    free(m);
}

static void test_mmap_bad_entry_size(void **state)
{
    (void)state;
    check_bad_entry_size(0);
    check_bad_entry_size(20);
    check_bad_entry_size(28); /* not a multiple of 8 */
}

static void test_mmap_too_many_regions(void **state)
{
    (void)state;
    static struct result r;
    static struct e820 many[BOOT_MAX_MEM_REGIONS + 1];
    struct mb *m = mb_new();

    for (unsigned i = 0; i <= BOOT_MAX_MEM_REGIONS; i++) {
        many[i].base = 0x100000 + i * 0x2000ULL;
        many[i].len = 0x1000;
        many[i].type = 1;
    }
    mb_mmap(m, many, BOOT_MAX_MEM_REGIONS, 24);
    uint8_t *mbi = mb_finish(m);
    assert_int_equal(parse(mbi, &r), 0);
    assert_int_equal(r.bi.mem_region_count, BOOT_MAX_MEM_REGIONS);
    free(mbi);
    free(m);

    m = mb_new();
    mb_mmap(m, many, BOOT_MAX_MEM_REGIONS + 1, 24);
    mbi = mb_finish(m);
    assert_int_equal(parse(mbi, &r), -EINVAL);
    assert_contains(r.err, "more than 256 regions");
    free(mbi);
    free(m);
}

static void test_module_errors(void **state)
{
    (void)state;
    static struct result r;
    struct mb *m = mb_new();

    mb_mmap(m, bios_map, 1, 24);
    mb_module(m, 0x300000, 0x2fffff, "backwards");
    uint8_t *mbi = mb_finish(m);
    assert_int_equal(parse(mbi, &r), -EINVAL);
    assert_contains(r.err, "module 0 ends (0x2fffff) before it starts (0x300000)");
    free(mbi);
    free(m);

    m = mb_new();
    mb_mmap(m, bios_map, 1, 24);
    for (unsigned i = 0; i < BOOT_MAX_MODULES; i++)
        mb_module(m, 0x300000, 0x301000, "m");
    mbi = mb_finish(m);
    assert_int_equal(parse(mbi, &r), 0);
    assert_int_equal(r.bi.module_count, BOOT_MAX_MODULES);
    free(mbi);
    m->len -= 8; /* drop the end tag, add one module more */
    mb_module(m, 0x300000, 0x301000, "one too many");
    mbi = mb_finish(m);
    assert_int_equal(parse(mbi, &r), -EINVAL);
    assert_contains(r.err, "more than 32 modules");
    free(mbi);
    free(m);
}

/* Every truncation of a valid block is either parsed (if it still ends properly) or refused;
 * never read past total_size (ASan would see it: each copy is exactly total_size long). */
static void test_every_truncation_is_safe(void **state)
{
    (void)state;
    static struct result r;
    struct mb *m = mb_new();

    mb_string(m, 1, "cmd");
    mb_module(m, 0x200000, 0x201000, "/a/b");
    mb_mmap(m, bios_map, 6, 24);
    mb_rsdp(m, 15, 2, "OEMOEM");
    mb_fb(m, 1, 32, 800, 600, 30);
    free(mb_finish(m)); /* only m->buf is used below */
    uint32_t full = m->len;
    for (uint32_t total = 16; total < full; total += 4) {
        uint8_t *cut = aligned_alloc(8, (total + 7) & ~7u);
        assert_non_null(cut);
        memcpy(cut, m->buf, total);
        wr32(cut, total);
        assert_int_equal(parse(cut, &r), -EINVAL); /* the end tag is gone */
        assert_true(r.err[0] != 0);
        free(cut);
    }
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grub_bios_boot),
        cmocka_unit_test(test_grub_uefi_boot),
        cmocka_unit_test(test_rsdp_new_replaces_old),
        cmocka_unit_test(test_rsdp_longer_than_copy),
        cmocka_unit_test(test_parse_copies_everything),
        cmocka_unit_test(test_no_rsdp_no_fb),
        cmocka_unit_test(test_framebuffer_kinds),
        cmocka_unit_test(test_module_names),
        cmocka_unit_test(test_strings_bounded),
        cmocka_unit_test(test_mmap_layouts),
        cmocka_unit_test(test_mmap_partial_trailing_entry_ignored),
        cmocka_unit_test(test_tags_after_end_ignored),
        cmocka_unit_test(test_bad_magic_and_pointer),
        cmocka_unit_test(test_implausible_total_size),
        cmocka_unit_test(test_bad_tag_sizes),
        cmocka_unit_test(test_no_end_tag),
        cmocka_unit_test(test_no_memory_map),
        cmocka_unit_test(test_mmap_bad_entry_size),
        cmocka_unit_test(test_mmap_too_many_regions),
        cmocka_unit_test(test_module_errors),
        cmocka_unit_test(test_every_truncation_is_safe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
