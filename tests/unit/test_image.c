/* Image loaders: ELF64, Multiboot 1 (ELF32 program headers and the a.out kludge, in ELF and in a
 * raw file) and boot-sector images built here in memory, loaded into host RAM buffers; then every
 * refusal path of image_probe and image_load.
 * UNIT-SOURCES: kernel/image/probe.c kernel/image/load.c kernel/image/linux.c kernel/mm/guest_mem.c kernel/lib/printf.c kernel/lib/string.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include <tessera/errno.h>
#include <tessera/hypercall_abi.h>
#include <tessera/bytes.h>
#include <tessera/image.h>

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

/* ---- image builders (little-endian stores: tessera/bytes.h) ------------------------------------------------ */

struct seg {
    uint32_t type;
    uint64_t offset, paddr, filesz, memsz;
};

#define PT_LOAD 1
#define PT_NOTE 4
#define IMG_CAP 0x20000

static uint8_t img[IMG_CAP];

static void fill_pattern(uint8_t *p, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed + i * 13);
}

static void elf_ident(uint8_t *b, uint8_t elf_class)
{
    b[0] = 0x7f; b[1] = 'E'; b[2] = 'L'; b[3] = 'F';
    b[4] = elf_class; b[5] = 1; b[6] = 1;
}

/* ELF64 executable with program headers at 64; segment bytes get a pattern. Returns file size. */
static size_t make_elf64(uint64_t entry, const struct seg *s, unsigned n)
{
    memset(img, 0, sizeof(img));
    elf_ident(img, 2);
    wr16(img + 16, 2);  /* ET_EXEC */
    wr16(img + 18, 62); /* x86-64 */
    wr32(img + 20, 1);
    wr64(img + 24, entry);
    wr64(img + 32, 64); /* phoff */
    wr16(img + 52, 64);
    wr16(img + 54, 56);
    wr16(img + 56, (uint16_t)n);
    size_t size = 64 + 56 * (size_t)n;
    for (unsigned i = 0; i < n; i++) {
        uint8_t *ph = img + 64 + 56 * i;
        wr32(ph, s[i].type);
        wr32(ph + 4, 5);
        wr64(ph + 8, s[i].offset);
        wr64(ph + 16, s[i].paddr); /* vaddr = paddr */
        wr64(ph + 24, s[i].paddr);
        wr64(ph + 32, s[i].filesz);
        wr64(ph + 40, s[i].memsz);
        wr64(ph + 48, 0x1000);
        if (s[i].offset + s[i].filesz <= IMG_CAP) {
            fill_pattern(img + s[i].offset, s[i].filesz, (uint8_t)(0x40 + i));
            if (s[i].offset + s[i].filesz > size)
                size = s[i].offset + s[i].filesz;
        }
    }
    return size;
}

/* ELF32 i386 executable with program headers at 52. */
static size_t make_elf32(uint32_t entry, const struct seg *s, unsigned n)
{
    memset(img, 0, sizeof(img));
    elf_ident(img, 1);
    wr16(img + 16, 2);
    wr16(img + 18, 3);
    wr32(img + 20, 1);
    wr32(img + 24, entry);
    wr32(img + 28, 52);
    wr16(img + 40, 52);
    wr16(img + 42, 32);
    wr16(img + 44, (uint16_t)n);
    size_t size = 52 + 32 * (size_t)n;
    for (unsigned i = 0; i < n; i++) {
        uint8_t *ph = img + 52 + 32 * i;
        wr32(ph, s[i].type);
        wr32(ph + 4, (uint32_t)s[i].offset);
        wr32(ph + 8, (uint32_t)s[i].paddr);
        wr32(ph + 12, (uint32_t)s[i].paddr);
        wr32(ph + 16, (uint32_t)s[i].filesz);
        wr32(ph + 20, (uint32_t)s[i].memsz);
        if (s[i].offset + s[i].filesz <= IMG_CAP) {
            fill_pattern(img + s[i].offset, s[i].filesz, (uint8_t)(0x60 + i));
            if (s[i].offset + s[i].filesz > size)
                size = s[i].offset + s[i].filesz;
        }
    }
    return size;
}

/* Multiboot 1 header at off; with addresses, the five a.out-kludge fields follow. */
static void put_mb1(size_t off, uint32_t flags, const uint32_t *addresses)
{
    wr32(img + off, 0x1BADB002);
    wr32(img + off + 4, flags);
    wr32(img + off + 8, (uint32_t)(0u - 0x1BADB002u - flags));
    if (addresses)
        for (int i = 0; i < 5; i++)
            wr32(img + off + 12 + 4 * i, addresses[i]);
}

static char reason[256];
static struct image_info info;
static struct guest_boot_state boot;

static int probe(size_t size)
{
    memset(reason, 0, sizeof(reason));
    return image_probe(img, size, &info, reason, sizeof(reason));
}

static void expect_probe_refused(size_t size, const char *needle)
{
    int err = probe(size);
    if (err != -ENOEXEC || !strstr(reason, needle))
        fail_msg("probe returned %d with \"%s\", expected -ENOEXEC with \"%s\"", err, reason,
                 needle);
    assert_int_equal(info.format, 0); /* nothing half-filled is left behind */
    assert_int_equal(info.segment_count, 0);
}

static int load(size_t size, uint8_t *ram, uint64_t ram_size, const char *cmdline,
                const struct image_module *mods, unsigned count)
{
    memset(reason, 0, sizeof(reason));
    const struct vcpu_memory mem = { (uint64_t)(uintptr_t)ram, ram_size };
    return image_load(&info, img, size, ram ? &mem : NULL, cmdline, mods, count, NULL, &boot,
                      reason, sizeof(reason));
}

static void expect_load_refused(int expected, size_t size, uint8_t *ram, uint64_t ram_size,
                                const char *cmdline, const struct image_module *mods,
                                unsigned count, const char *needle)
{
    int err = load(size, ram, ram_size, cmdline, mods, count);
    if (err != expected || !strstr(reason, needle))
        fail_msg("load returned %d with \"%s\", expected %d with \"%s\"", err, reason, expected,
                 needle);
}

static void check_gdt(const uint8_t *ram, uint64_t code)
{
    assert_int_equal(rd64(ram + 0x7000), 0);
    assert_int_equal(rd64(ram + 0x7008), code);
    assert_int_equal(rd64(ram + 0x7010), 0x00cf92000000ffffULL);
}

/* ---- ELF64 ----------------------------------------------------------------------------------- */

static const struct seg elf64_segs[] = {
    {PT_LOAD, 0x1000, 0x100000, 0x180, 0x180},  /* text */
    {PT_NOTE, 0x0, 0x0, 0x0, 0x10},             /* ignored */
    {PT_LOAD, 0x2000, 0x200000, 0x40, 0x2800},  /* data + bss */
};

static void test_elf64_load(void **state)
{
    (void)state;
    size_t size = make_elf64(0x100010, elf64_segs, 3);
    assert_int_equal(probe(size), 0);
    assert_int_equal(info.format, IMAGE_FORMAT_ELF64);
    assert_int_equal(info.entry, 0x100010);
    assert_int_equal(info.segment_count, 2);
    assert_int_equal(info.segments[1].guest_addr, 0x200000);
    assert_int_equal(info.segments[1].file_offset, 0x2000);
    assert_int_equal(info.segments[1].file_size, 0x40);
    assert_int_equal(info.segments[1].mem_size, 0x2800);
    assert_int_equal(info.lowest, 0x100000);
    assert_int_equal(info.highest, 0x202800);

    uint64_t ram_size = 16 * MiB;
    uint8_t *ram = malloc(ram_size);
    assert_non_null(ram);
    memset(ram, 0xcc, ram_size); /* shows which bytes the loader wrote, and that bss is zeroed */

    uint8_t mod1[5000], mod2[3] = {7, 8, 9};
    fill_pattern(mod1, sizeof(mod1), 0x11);
    const struct image_module mods[] = {{mod1, sizeof(mod1), "mod1.bin"}, {mod2, 3, "m2"}};
    assert_int_equal(load(size, ram, ram_size, "hello world", mods, 2), 0);

    /* Segments, and the bss after the data. */
    assert_memory_equal(ram + 0x100000, img + 0x1000, 0x180);
    assert_int_equal(ram[0x100180], 0xcc);
    assert_memory_equal(ram + 0x200000, img + 0x2000, 0x40);
    for (uint64_t a = 0x200040; a < 0x202800; a++)
        assert_int_equal(ram[a], 0);
    assert_int_equal(ram[0x202800], 0xcc);

    /* Modules page-aligned after the image. */
    assert_memory_equal(ram + 0x203000, mod1, sizeof(mod1));
    assert_memory_equal(ram + 0x205000, mod2, 3);

    /* Page tables: 16 MiB = 8 large pages. */
    assert_int_equal(rd64(ram + 0x1000), 0x2003);
    assert_int_equal(rd64(ram + 0x1008), 0);
    assert_int_equal(rd64(ram + 0x2000), 0x3003);
    assert_int_equal(rd64(ram + 0x2008), 0);
    for (uint64_t i = 0; i < 8; i++)
        assert_int_equal(rd64(ram + 0x3000 + 8 * i), i * 0x200000 | 0x83);
    assert_int_equal(rd64(ram + 0x3000 + 8 * 8), 0);
    assert_int_equal(rd64(ram + 0x4000), 0);

    check_gdt(ram, 0x00af9a000000ffffULL);

    /* Start info. */
    const uint8_t *si = ram + 0x8000;
    assert_int_equal(rd32(si + offsetof(struct tessera_start_info, magic)), TESSERA_START_MAGIC);
    assert_int_equal(rd32(si + offsetof(struct tessera_start_info, version)), 1);
    assert_int_equal(rd64(si + offsetof(struct tessera_start_info, mem_size)), ram_size);
    uint64_t cmd = rd64(si + offsetof(struct tessera_start_info, cmdline));
    assert_true(cmd >= 0x8000 && cmd < 0xa000);
    assert_string_equal((const char *)ram + cmd, "hello world");
    assert_int_equal(rd32(si + offsetof(struct tessera_start_info, module_count)), 2);
    uint64_t mt = rd64(si + offsetof(struct tessera_start_info, modules));
    assert_true(mt > 0x8000 && mt + 2 * sizeof(struct tessera_start_module) <= 0xa000);
    const uint8_t *m0 = ram + mt, *m1 = ram + mt + sizeof(struct tessera_start_module);
    assert_int_equal(rd64(m0 + offsetof(struct tessera_start_module, addr)), 0x203000);
    assert_int_equal(rd64(m0 + offsetof(struct tessera_start_module, size)), 5000);
    assert_string_equal((const char *)m0 + offsetof(struct tessera_start_module, name), "mod1.bin");
    assert_int_equal(rd64(m1 + offsetof(struct tessera_start_module, addr)), 0x205000);
    assert_int_equal(rd64(m1 + offsetof(struct tessera_start_module, size)), 3);
    assert_string_equal((const char *)m1 + offsetof(struct tessera_start_module, name), "m2");

    /* Boot state per the conventions. */
    assert_int_equal(boot.mode, GUEST_MODE_LONG64);
    assert_int_equal(boot.rip, 0x100010);
    assert_int_equal(boot.rsp, 0x80000);
    assert_int_equal(boot.rdi, 0x8000);
    assert_int_equal(boot.cr3, 0x1000);
    assert_int_equal(boot.gdt_base, 0x7000);
    assert_int_equal(boot.gdt_limit, 23);
    assert_int_equal(boot.cs_selector, 0x08);
    assert_int_equal(boot.ds_selector, 0x10);
    assert_int_equal(boot.rax, 0);
    assert_int_equal(boot.rbx, 0);
    assert_int_equal(boot.rsi, 0);
    free(ram);
}

static void test_elf64_no_cmdline_no_modules(void **state)
{
    (void)state;
    size_t size = make_elf64(0x100000, elf64_segs, 3);
    assert_int_equal(probe(size), 0);
    uint64_t ram_size = 3 * MiB; /* not a multiple of 2 MiB: two large pages */
    uint8_t *ram = calloc(1, ram_size);
    assert_non_null(ram);
    assert_int_equal(load(size, ram, ram_size, NULL, NULL, 0), 0);
    assert_int_equal(rd64(ram + 0x8000 + offsetof(struct tessera_start_info, cmdline)), 0);
    assert_int_equal(rd32(ram + 0x8000 + offsetof(struct tessera_start_info, module_count)), 0);
    assert_int_equal(rd64(ram + 0x8000 + offsetof(struct tessera_start_info, modules)), 0);
    assert_int_equal(rd64(ram + 0x8000 + offsetof(struct tessera_start_info, mem_size)), ram_size);
    assert_int_equal(rd64(ram + 0x3000), 0x83);
    assert_int_equal(rd64(ram + 0x3008), 0x200083);
    assert_int_equal(rd64(ram + 0x3010), 0);
    /* An empty command line is no command line. */
    assert_int_equal(load(size, ram, ram_size, "", NULL, 0), 0);
    assert_int_equal(rd64(ram + 0x8000 + offsetof(struct tessera_start_info, cmdline)), 0);
    free(ram);
}

/* Guest RAM above 4 GiB: the identity map stops at 4 GiB (four full PDs). RAM is reserved, not
 * committed: the loader touches only the low pages. */
static void test_elf64_page_tables_4g(void **state)
{
    (void)state;
    uint64_t ram_size = 5 * GiB;
    uint8_t *ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    assert_true(ram != MAP_FAILED);
    size_t size = make_elf64(0x100000, elf64_segs, 3);
    assert_int_equal(probe(size), 0);
    assert_int_equal(load(size, ram, ram_size, NULL, NULL, 0), 0);
    for (uint64_t i = 0; i < 4; i++)
        assert_int_equal(rd64(ram + 0x2000 + 8 * i), (0x3000 + i * 0x1000) | 3);
    assert_int_equal(rd64(ram + 0x2000 + 8 * 4), 0);
    for (uint64_t i = 0; i < 2048; i++)
        assert_int_equal(rd64(ram + 0x3000 + 8 * i), i * 0x200000 | 0x83);
    assert_int_equal(rd64(ram + 0x7000), 0); /* the GDT right after the last PD */
    assert_int_equal(rd64(ram + 0x7008), 0x00af9a000000ffffULL);
    munmap(ram, ram_size);
}

/* ---- Multiboot 1 ----------------------------------------------------------------------------- */

static void check_mb1_info(const uint8_t *ram, uint64_t ram_size, const char *cmdline,
                           unsigned mods)
{
    const uint8_t *mi = ram + 0x8000;
    assert_int_equal(rd32(mi + 0), 0x24d); /* mem, cmdline, mods, mmap, loader name */
    assert_int_equal(rd32(mi + 4), 640);
    assert_int_equal(rd32(mi + 8), (ram_size - MiB) / 1024);
    uint32_t cmd = rd32(mi + 16);
    assert_true(cmd > 0x8000 && cmd < 0xa000);
    assert_string_equal((const char *)ram + cmd, cmdline);
    assert_int_equal(rd32(mi + 20), mods);
    uint32_t name = rd32(mi + 64);
    assert_true(name > 0x8000 && name < 0xa000);
    assert_string_equal((const char *)ram + name, "Tessera");

    /* Memory map: three entries with their size fields. */
    assert_int_equal(rd32(mi + 44), 72);
    uint32_t mm = rd32(mi + 48);
    assert_true(mm > 0x8000 && mm + 72 <= 0xa000);
    const uint64_t expect[3][3] = {{0, 0xa0000, 1}, {0xa0000, 0x60000, 2},
                                   {0x100000, ram_size - MiB, 1}};
    for (int i = 0; i < 3; i++) {
        const uint8_t *e = ram + mm + 24 * i;
        assert_int_equal(rd32(e), 20);
        assert_int_equal(rd64(e + 4), expect[i][0]);
        assert_int_equal(rd64(e + 12), expect[i][1]);
        assert_int_equal(rd32(e + 20), expect[i][2]);
    }
}

static void check_mb1_state(uint64_t entry)
{
    assert_int_equal(boot.mode, GUEST_MODE_PROT32);
    assert_int_equal(boot.rip, entry);
    assert_int_equal(boot.rax, 0x2BADB002);
    assert_int_equal(boot.rbx, 0x8000);
    assert_int_equal(boot.rsp, 0x80000);
    assert_int_equal(boot.cr3, 0);
    assert_int_equal(boot.gdt_base, 0x7000);
    assert_int_equal(boot.gdt_limit, 23);
    assert_int_equal(boot.cs_selector, 0x08);
    assert_int_equal(boot.ds_selector, 0x10);
    assert_int_equal(boot.rdi, 0);
}

static const struct seg mb_segs[] = {
    {PT_LOAD, 0x1000, 0x100000, 0x200, 0x1000},
    {PT_LOAD, 0x1200, 0x101000, 0x100, 0x100},
};

static size_t make_mb1_elf(uint32_t flags)
{
    size_t size = make_elf32(0x10000c, mb_segs, 2);
    put_mb1(0x1000, flags, NULL); /* inside the text, as linkers place it */
    return size;
}

static void test_multiboot_elf_load(void **state)
{
    (void)state;
    size_t size = make_mb1_elf(0x3);
    assert_int_equal(probe(size), 0);
    assert_int_equal(info.format, IMAGE_FORMAT_MULTIBOOT1);
    assert_int_equal(info.entry, 0x10000c);
    assert_int_equal(info.segment_count, 2);
    assert_int_equal(info.lowest, 0x100000);
    assert_int_equal(info.highest, 0x101100);

    uint64_t ram_size = 32 * MiB;
    uint8_t *ram = calloc(1, ram_size);
    assert_non_null(ram);
    uint8_t mod[100];
    fill_pattern(mod, sizeof(mod), 3);
    const struct image_module mods[] = {{mod, sizeof(mod), "initrd"}, {mod, 0, "empty"}};
    assert_int_equal(load(size, ram, ram_size, "mb args", mods, 2), 0);

    assert_memory_equal(ram + 0x100000, img + 0x1000, 0x200);
    assert_int_equal(rd32(ram + 0x100000), 0x1BADB002);
    assert_memory_equal(ram + 0x101000, img + 0x1200, 0x100);
    assert_memory_equal(ram + 0x102000, mod, sizeof(mod));

    check_mb1_info(ram, ram_size, "mb args", 2);
    uint32_t mt = rd32(ram + 0x8000 + 24);
    assert_true(mt > 0x8000 && mt + 32 <= 0xa000);
    assert_int_equal(rd32(ram + mt), 0x102000);
    assert_int_equal(rd32(ram + mt + 4), 0x102000 + 100);
    assert_string_equal((const char *)ram + rd32(ram + mt + 8), "initrd");
    assert_int_equal(rd32(ram + mt + 16), 0x103000);
    assert_int_equal(rd32(ram + mt + 20), 0x103000);
    assert_string_equal((const char *)ram + rd32(ram + mt + 24), "empty");

    check_gdt(ram, 0x00cf9a000000ffffULL);
    check_mb1_state(0x10000c);
    /* No page tables for a 32-bit guest. */
    assert_int_equal(rd64(ram + 0x1000), 0);

    /* Without a command line: an empty string, flag still set. */
    memset(ram, 0, ram_size);
    assert_int_equal(load(size, ram, ram_size, NULL, NULL, 0), 0);
    check_mb1_info(ram, ram_size, "", 0);
    free(ram);
}

static void test_multiboot_kludge_in_elf(void **state)
{
    (void)state;
    /* Program headers are ignored (none); the address fields say: file offset 0x1000 goes to
     * 0x200000, 0x300 bytes of data, bss to 0x202000. */
    make_elf32(0, NULL, 0);
    const uint32_t addr[5] = {0x200040, 0x200000, 0x200300, 0x202000, 0x200100};
    put_mb1(0x1040, 0x10003, addr);
    fill_pattern(img + 0x1000, 0x40, 0x99);
    fill_pattern(img + 0x1060, 0x2a0, 0x55);
    size_t size = 0x1400; /* file continues past load_end: not loaded */
    assert_int_equal(probe(size), 0);
    assert_int_equal(info.format, IMAGE_FORMAT_MULTIBOOT1);
    assert_int_equal(info.segment_count, 1);
    assert_int_equal(info.segments[0].guest_addr, 0x200000);
    assert_int_equal(info.segments[0].file_offset, 0x1000);
    assert_int_equal(info.segments[0].file_size, 0x300);
    assert_int_equal(info.segments[0].mem_size, 0x2000);
    assert_int_equal(info.entry, 0x200100);

    uint64_t ram_size = 4 * MiB;
    uint8_t *ram = malloc(ram_size);
    assert_non_null(ram);
    memset(ram, 0xcc, ram_size);
    assert_int_equal(load(size, ram, ram_size, "k", NULL, 0), 0);
    assert_memory_equal(ram + 0x200000, img + 0x1000, 0x300);
    for (uint64_t a = 0x200300; a < 0x202000; a++)
        assert_int_equal(ram[a], 0);
    assert_int_equal(ram[0x202000], 0xcc);
    check_mb1_info(ram, ram_size, "k", 0);
    check_mb1_state(0x200100);
    free(ram);
}

static void test_multiboot_kludge_raw_binary(void **state)
{
    (void)state;
    /* A flat binary: header at offset 8, load_end 0 (whole file), bss to 0x104000. */
    memset(img, 0, sizeof(img));
    fill_pattern(img, 0x800, 0x21);
    const uint32_t addr[5] = {0x100008, 0x100000, 0, 0x104000, 0x100020};
    put_mb1(8, 0x10002, addr);
    assert_int_equal(probe(0x800), 0);
    assert_int_equal(info.format, IMAGE_FORMAT_MULTIBOOT1);
    assert_int_equal(info.segments[0].file_offset, 0);
    assert_int_equal(info.segments[0].file_size, 0x800);
    assert_int_equal(info.segments[0].mem_size, 0x4000);
    assert_int_equal(info.highest, 0x104000);

    uint64_t ram_size = 2 * MiB;
    uint8_t *ram = calloc(1, ram_size);
    assert_non_null(ram);
    uint8_t mod[10] = "0123456789";
    const struct image_module mods[] = {{mod, sizeof(mod), "data"}};
    assert_int_equal(load(0x800, ram, ram_size, "", mods, 1), 0);
    assert_memory_equal(ram + 0x100000, img, 0x800);
    assert_memory_equal(ram + 0x104000, mod, sizeof(mod));
    check_mb1_info(ram, ram_size, "", 1);
    check_mb1_state(0x100020);
    free(ram);
}

/* ---- boot sector ----------------------------------------------------------------------------- */

static size_t make_bootsector(size_t size)
{
    memset(img, 0, sizeof(img));
    fill_pattern(img, size, 0x31);
    img[510] = 0x55;
    img[511] = 0xaa;
    return size;
}

static void test_bootsector_load(void **state)
{
    (void)state;
    size_t size = make_bootsector(512);
    assert_int_equal(probe(size), 0);
    assert_int_equal(info.format, IMAGE_FORMAT_BOOTSECTOR);
    assert_int_equal(info.entry, 0x7c00);
    assert_int_equal(info.lowest, 0x7c00);
    assert_int_equal(info.highest, 0x7e00);

    uint64_t ram_size = 2 * MiB;
    uint8_t *ram = calloc(1, ram_size);
    assert_non_null(ram);
    assert_int_equal(load(size, ram, ram_size, NULL, NULL, 0), 0);
    assert_memory_equal(ram + 0x7c00, img, 512);
    assert_int_equal(ram[0x7dfe], 0x55);
    assert_int_equal(ram[0x7dff], 0xaa);
    assert_int_equal(boot.mode, GUEST_MODE_REAL16);
    assert_int_equal(boot.cs_selector, 0);
    assert_int_equal(boot.rip, 0x7c00);
    assert_int_equal(boot.rsp, 0x7c00);
    assert_int_equal(boot.ds_selector, 0);
    assert_int_equal(boot.rdx, 0x80);
    assert_int_equal(boot.gdt_base, 0);
    assert_int_equal(boot.gdt_limit, 0);
    assert_int_equal(boot.cr3, 0);
    /* Nothing else written: no GDT, no info block, no page tables. */
    assert_int_equal(rd64(ram + 0x7000), 0);
    assert_int_equal(rd64(ram + 0x1000), 0);
    assert_int_equal(rd64(ram + 0x8000 + 0x1000), 0);

    /* 64 KiB is the largest; an empty command line is accepted. */
    size = make_bootsector(0x10000);
    assert_int_equal(probe(size), 0);
    assert_int_equal(load(size, ram, ram_size, "", NULL, 0), 0);
    assert_memory_equal(ram + 0x7c00, img, 0x10000);
    free(ram);
}

/* ---- probe refusals -------------------------------------------------------------------------- */

static void test_probe_not_recognised(void **state)
{
    (void)state;
    memset(img, 0, sizeof(img));
    expect_probe_refused(0, "too small");
    expect_probe_refused(511, "too small");
    expect_probe_refused(512, "no boot-sector signature");
    /* A signature but too big. */
    make_bootsector(0x10001);
    expect_probe_refused(0x10001, "more than 64 KiB");
    /* 511 bytes that happen to end in 0x55: not a boot sector. */
    make_bootsector(600);
    expect_probe_refused(511, "too small");
}

static void test_probe_bad_arguments(void **state)
{
    (void)state;
    assert_int_equal(image_probe(img, 10, NULL, reason, sizeof(reason)), -EINVAL);
    assert_int_equal(image_probe(NULL, 10, &info, reason, sizeof(reason)), -EINVAL);
    /* reason is optional */
    memset(img, 0, 600);
    assert_int_equal(image_probe(img, 600, &info, NULL, 0), -ENOEXEC);
}

static void test_probe_elf_header_errors(void **state)
{
    (void)state;
    size_t size = make_elf64(0x100000, elf64_segs, 3);
    expect_probe_refused(10, "truncated ELF header");
    expect_probe_refused(40, "truncated ELF64 header (40 bytes, need 64)");
    img[4] = 3;
    expect_probe_refused(size, "bad ELF class 3");
    img[4] = 2;
    img[5] = 2;
    expect_probe_refused(size, "not little-endian");
    img[5] = 1;
    img[6] = 0;
    expect_probe_refused(size, "bad ELF version 0");
    img[6] = 1;
    wr16(img + 18, 3);
    expect_probe_refused(size, "ELF64 machine 3 is not x86-64");
    wr16(img + 18, 62);
    wr16(img + 16, 3); /* ET_DYN */
    expect_probe_refused(size, "ELF type 3 is not an executable");
    wr16(img + 16, 2);
    assert_int_equal(probe(size), 0);

    size = make_mb1_elf(3);
    expect_probe_refused(50, "truncated ELF32 header (50 bytes, need 52)");
    wr16(img + 18, 62);
    expect_probe_refused(size, "ELF32 machine 62 is not i386");
    wr16(img + 18, 3);
    wr16(img + 16, 1); /* ET_REL */
    expect_probe_refused(size, "ELF type 1 is not an executable");
    wr16(img + 16, 2);
    assert_int_equal(probe(size), 0);
}

static void test_probe_program_header_errors(void **state)
{
    (void)state;
    size_t size = make_elf64(0x100000, elf64_segs, 0);
    expect_probe_refused(size, "no program headers");

    size = make_elf64(0x100000, elf64_segs, 3);
    wr16(img + 54, 64);
    expect_probe_refused(size, "program header size 64, expected 56");
    wr16(img + 54, 56);
    expect_probe_refused(64 + 56 * 3 - 1, "program headers (offset 0x40, 3 entries) run past");
    wr64(img + 32, UINT64_MAX - 8); /* phoff + table overflows */
    expect_probe_refused(size, "run past the end of the file");
    wr64(img + 32, 64);
    assert_int_equal(probe(size), 0);

    /* ELF32 phentsize checked too. */
    size = make_mb1_elf(3);
    wr16(img + 42, 56);
    expect_probe_refused(size, "program header size 56, expected 32");
}

static void test_probe_segment_errors(void **state)
{
    (void)state;
    struct seg s[2];
    memcpy(s, elf64_segs, sizeof(struct seg));
    s[1] = elf64_segs[2];

    s[0].filesz = 0x200;
    s[0].memsz = 0x100;
    size_t size = make_elf64(0x100000, s, 2);
    expect_probe_refused(size, "segment 0: file size 0x200 is larger than its memory size 0x100");

    memcpy(s, elf64_segs, sizeof(struct seg));
    size = make_elf64(0x100000, s, 2);
    expect_probe_refused(0x1100, "segment 0: file data at offset 0x1000 + 0x180 runs past the end");
    wr64(img + 64 + 8, UINT64_MAX - 0x10); /* p_offset + p_filesz overflows */
    expect_probe_refused(size, "segment 0: file data");

    size = make_elf64(0x100000, s, 2);
    wr64(img + 64 + 56 + 24, UINT64_MAX - 0x100); /* p_paddr + p_memsz overflows */
    expect_probe_refused(size, "segment 1: address");
    wr64(img + 64 + 56 + 24, 0xfffff000); /* ends above 4 GiB */
    expect_probe_refused(size, "beyond the addressable range");
    wr64(img + 64 + 56 + 24, 0xff000); /* below 1 MiB */
    expect_probe_refused(size, "segment 1 at 0xff000 overlaps the loader area below 1 MiB");
    wr64(img + 64 + 56 + 24, 0x100100); /* inside segment 0 */
    expect_probe_refused(size, "overlaps the segment at 0x100000-0x100180");

    /* Only non-loadable headers. */
    struct seg note = {PT_NOTE, 0x1000, 0x100000, 0x10, 0x10};
    size = make_elf64(0x100000, &note, 1);
    expect_probe_refused(size, "no loadable segments");

    /* Entry outside every segment, including just past the end of one. */
    size = make_elf64(0x100180, elf64_segs, 3);
    expect_probe_refused(size, "entry point 0x100180 is outside the loaded segments");
    size = make_elf64(0x80000, elf64_segs, 3);
    expect_probe_refused(size, "entry point 0x80000");
    size = make_elf64(0x2027ff, elf64_segs, 3); /* last bss byte: inside */
    assert_int_equal(probe(size), 0);
}

static void test_probe_too_many_segments(void **state)
{
    (void)state;
    struct seg s[17];
    for (unsigned i = 0; i < 17; i++)
        s[i] = (struct seg){PT_LOAD, 0x1000 + 0x100 * i, 0x100000 + 0x1000 * i, 0x10, 0x10};
    size_t size = make_elf64(0x100000, s, 16);
    assert_int_equal(probe(size), 0);
    assert_int_equal(info.segment_count, 16);
    size = make_elf64(0x100000, s, 17);
    expect_probe_refused(size, "too many loadable segments (at most 16)");
}

static void test_probe_multiboot_errors(void **state)
{
    (void)state;
    /* No header, and one just past the 8 KiB window. */
    size_t size = make_elf32(0x10000c, mb_segs, 2);
    expect_probe_refused(size, "ELF32 image without a Multiboot 1 header");
    struct seg far = {PT_LOAD, 0x1000, 0x100000, 0x2000, 0x2000};
    size = make_elf32(0x100000, &far, 1);
    put_mb1(0x2000, 3, NULL);
    expect_probe_refused(size, "without a Multiboot 1 header");
    size = make_elf32(0x100000, &far, 1);
    put_mb1(0x1ff4, 3, NULL); /* last position that fits */
    assert_int_equal(probe(size), 0);

    size = make_mb1_elf(3);
    wr32(img + 0x1008, 0x12345678);
    expect_probe_refused(size, "checksum is wrong");

    size = make_mb1_elf(0x7);
    expect_probe_refused(size, "video mode (flag bit 2)");
    size = make_mb1_elf(0x8 | 0x3);
    expect_probe_refused(size, "requires features we do not have (flags 0x8)");
    size = make_mb1_elf(0x8000);
    expect_probe_refused(size, "flags 0x8000");
    /* Optional high bits other than 16 are ignored. */
    size = make_mb1_elf(0x20003);
    assert_int_equal(probe(size), 0);

    /* ELF32 errors reach Multiboot images too: segment past the file. */
    size = make_mb1_elf(3);
    expect_probe_refused(0x1280, "segment 1: file data at offset 0x1200 + 0x100 runs past");

    /* A raw file with a header but no address fields. */
    memset(img, 0, sizeof(img));
    put_mb1(0, 3, NULL);
    expect_probe_refused(0x400, "without address fields (flag bit 16) in a non-ELF file");
}

static void test_probe_multiboot_kludge_errors(void **state)
{
    (void)state;
    uint32_t a[5];
    const uint32_t good[5] = {0x100010, 0x100000, 0x100400, 0x101000, 0x100020};

    memset(img, 0, sizeof(img));
    memcpy(a, good, sizeof(a));
    put_mb1(0x10, 0x10000, a);
    assert_int_equal(probe(0x800), 0);
    assert_int_equal(info.segments[0].file_offset, 0);

    /* Header at the end: the address fields are cut off. */
    memset(img, 0, sizeof(img));
    put_mb1(0x7f0, 0x10000, NULL);
    expect_probe_refused(0x800, "truncated (address fields past the end of the file)");

    memset(img, 0, sizeof(img));
    a[1] = 0x100020; /* load_addr above header_addr */
    put_mb1(0x10, 0x10000, a);
    expect_probe_refused(0x800, "load_addr 0x100020 is above header_addr 0x100010");

    memcpy(a, good, sizeof(a));
    a[0] = 0x100100; /* header 0x100 into the image but at file offset 0x10 */
    put_mb1(0x10, 0x10000, a);
    expect_probe_refused(0x800, "lies before the start of the file");

    memcpy(a, good, sizeof(a));
    a[2] = 0xff000; /* load_end below load_addr */
    put_mb1(0x10, 0x10000, a);
    expect_probe_refused(0x800, "load_end_addr 0xff000 is below load_addr 0x100000");

    memcpy(a, good, sizeof(a));
    a[2] = 0x100900; /* past the end of an 0x800-byte file */
    a[3] = 0x101000;
    put_mb1(0x10, 0x10000, a);
    expect_probe_refused(0x800, "runs past the end of the file");

    memcpy(a, good, sizeof(a));
    a[3] = 0x100200; /* bss_end below load_end */
    put_mb1(0x10, 0x10000, a);
    expect_probe_refused(0x800, "bss_end_addr 0x100200 is below the end of the loaded data");

    memcpy(a, good, sizeof(a));
    a[0] = 0x80010;
    a[1] = 0x80000;
    a[2] = 0x80400;
    a[3] = 0x81000;
    a[4] = 0x80020;
    put_mb1(0x10, 0x10000, a);
    expect_probe_refused(0x800, "overlaps the loader area below 1 MiB");

    memcpy(a, good, sizeof(a));
    a[4] = 0x101000; /* entry just past bss_end */
    put_mb1(0x10, 0x10000, a);
    expect_probe_refused(0x800, "entry point 0x101000 is outside the loaded segments");

    /* load_end 0 with a load address so high that the file runs past 4 GiB. */
    memcpy(a, good, sizeof(a));
    a[0] = 0xfffffe10;
    a[1] = 0xfffffe00;
    a[2] = 0;
    a[3] = 0;
    a[4] = 0xfffffe20;
    put_mb1(0x10, 0x10000, a);
    expect_probe_refused(0x800, "beyond the addressable range");
}

/* ---- load refusals --------------------------------------------------------------------------- */

static void test_load_does_not_fit(void **state)
{
    (void)state;
    uint64_t ram_size = 4 * MiB;
    uint8_t *ram = calloc(1, ram_size);
    assert_non_null(ram);

    size_t size = make_elf64(0x100000, elf64_segs, 3);
    assert_int_equal(probe(size), 0);
    expect_load_refused(-ENOSPC, size, ram, 2 * MiB, NULL, NULL, 0,
                        "segment 1 at 0x200000 (0x2800 bytes) lies beyond guest RAM");
    expect_load_refused(-ENOSPC, size, ram, MiB - 1, NULL, NULL, 0,
                        "smaller than the 1 MiB loader area");
    /* Exact fits at the end of RAM: the last segment ends on its last byte (0x2027ff); a module
     * fills the page after it. One byte less RAM refuses each. */
    assert_int_equal(load(size, ram, 0x202800, NULL, NULL, 0), 0);
    expect_load_refused(-ENOSPC, size, ram, 0x2027ff, NULL, NULL, 0,
                        "segment 1 at 0x200000 (0x2800 bytes) lies beyond guest RAM");
    static uint8_t page[0x1000];
    const struct image_module one_page[] = {{page, sizeof(page), "page"}};
    assert_int_equal(load(size, ram, 0x204000, NULL, one_page, 1), 0);
    expect_load_refused(-ENOSPC, size, ram, 0x203fff, NULL, one_page, 1,
                        "module 'page' (4096 bytes) does not fit in guest RAM");

    /* Module larger than what is left of RAM. */
    static uint8_t big[2 * MiB];
    const struct image_module too_big[] = {{big, sizeof(big), "big"}};
    expect_load_refused(-ENOSPC, size, ram, ram_size, NULL, too_big, 1,
                        "module 'big' (2097152 bytes) does not fit in guest RAM");
    /* The same module fits when RAM grows by what it lacks. */
    uint8_t *ram2 = calloc(1, 6 * MiB);
    assert_non_null(ram2);
    assert_int_equal(load(size, ram2, 6 * MiB, NULL, too_big, 1), 0);
    free(ram2);

    struct image_module many[IMAGE_MAX_MODULES + 1];
    for (unsigned i = 0; i <= IMAGE_MAX_MODULES; i++)
        many[i] = (struct image_module){big, 1, "m"};
    assert_int_equal(load(size, ram, ram_size, NULL, many, IMAGE_MAX_MODULES), 0);
    expect_load_refused(-ENOSPC, size, ram, ram_size, NULL, many, IMAGE_MAX_MODULES + 1,
                        "17 modules, at most 16");

    /* Command line too long for the 8 KiB start area: both formats. */
    char *longcmd = malloc(9000);
    assert_non_null(longcmd);
    memset(longcmd, 'x', 8999);
    longcmd[8999] = '\0';
    expect_load_refused(-ENOSPC, size, ram, ram_size, longcmd, NULL, 0,
                        "more than the 8192-byte start-info area at 0x8000");
    /* Just fits: 0xa000 - 0x8040 = 8128 bytes including the NUL. */
    longcmd[8127] = '\0';
    assert_int_equal(load(size, ram, ram_size, longcmd, NULL, 0), 0);
    assert_int_equal(strlen((char *)ram + 0x8040), 8127);
    longcmd[8127] = 'x';
    longcmd[8128] = '\0';
    expect_load_refused(-ENOSPC, size, ram, ram_size, longcmd, NULL, 0, "start-info area");

    char longname[80];
    memset(longname, 'n', 64);
    longname[64] = '\0';
    const struct image_module named[] = {{big, 1, longname}};
    expect_load_refused(-ENOSPC, size, ram, ram_size, NULL, named, 1,
                        "is longer than 63 characters");

    size = make_mb1_elf(3);
    assert_int_equal(probe(size), 0);
    longcmd[8999] = '\0';
    memset(longcmd, 'x', 8999);
    expect_load_refused(-ENOSPC, size, ram, ram_size, longcmd, NULL, 0, "start-info area");
    /* Module names count against the area too. */
    char *hugename = malloc(8200);
    assert_non_null(hugename);
    memset(hugename, 'h', 8199);
    hugename[8199] = '\0';
    const struct image_module huge[] = {{big, 1, hugename}};
    expect_load_refused(-ENOSPC, size, ram, ram_size, NULL, huge, 1, "start-info area");
    expect_load_refused(-ENOSPC, size, ram, MiB + 0x1000, NULL, NULL, 0, "beyond guest RAM");

    free(hugename);
    free(longcmd);
    free(ram);
}

static void test_load_bad_modules(void **state)
{
    (void)state;
    uint64_t ram_size = 4 * MiB;
    uint8_t *ram = calloc(1, ram_size);
    assert_non_null(ram);
    size_t size = make_elf64(0x100000, elf64_segs, 3);
    assert_int_equal(probe(size), 0);
    const struct image_module noname[] = {{img, 1, NULL}};
    expect_load_refused(-EINVAL, size, ram, ram_size, NULL, noname, 1, "module 0 has no name");
    const struct image_module nodata[] = {{img, 1, "ok"}, {NULL, 5, "x"}};
    expect_load_refused(-EINVAL, size, ram, ram_size, NULL, nodata, 2,
                        "module 1 has no name or no data");
    expect_load_refused(-EINVAL, size, ram, ram_size, NULL, NULL, 1, "bad arguments");
    free(ram);
}

/* Multiboot module addresses are 32-bit: a module ending above 4 GiB is refused. */
static void test_load_multiboot_module_above_4g(void **state)
{
    (void)state;
    uint64_t ram_size = 5 * GiB;
    uint8_t *ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    assert_true(ram != MAP_FAILED);
    struct seg high = {PT_LOAD, 0x1000, 0xffff0000, 0x100, 0x1000};
    size_t size = make_elf32(0xffff0000, &high, 1);
    put_mb1(0x1000, 3, NULL);
    assert_int_equal(probe(size), 0);
    static uint8_t mod[0x10000];
    const struct image_module mods[] = {{mod, sizeof(mod), "m"}};
    expect_load_refused(-ENOSPC, size, ram, ram_size, NULL, mods, 1, "does not fit");
    /* The image ends at 0xffff1000: a module may end at 0xffffffff, not at 4 GiB. */
    const struct image_module edge[] = {{mod, 0xf000, "m"}};
    expect_load_refused(-ENOSPC, size, ram, ram_size, NULL, edge, 1, "does not fit");
    const struct image_module small[] = {{mod, 0xe000, "m"}};
    assert_int_equal(load(size, ram, ram_size, NULL, small, 1), 0);
    assert_int_equal(rd32(ram + rd32(ram + 0x8000 + 24)), 0xffff1000);
    assert_int_equal(rd32(ram + rd32(ram + 0x8000 + 24) + 4), 0xfffff000);
    munmap(ram, ram_size);
}

static void test_load_bootsector_refusals(void **state)
{
    (void)state;
    uint64_t ram_size = 2 * MiB;
    uint8_t *ram = calloc(1, ram_size);
    assert_non_null(ram);
    size_t size = make_bootsector(512);
    assert_int_equal(probe(size), 0);
    const struct image_module mods[] = {{img, 1, "m"}};
    expect_load_refused(-EINVAL, size, ram, ram_size, NULL, mods, 1, "cannot take modules");
    expect_load_refused(-EINVAL, size, ram, ram_size, "x", NULL, 0, "cannot take a command line");
    expect_load_refused(-ENOSPC, size, ram, 0x7d00, NULL, NULL, 0, "beyond guest RAM");
    assert_int_equal(load(size, ram, 0x7e00, NULL, NULL, 0), 0);
    info.segments[0].guest_addr = 0x8000;
    expect_load_refused(-EINVAL, size, ram, ram_size, NULL, NULL, 0, "inconsistent");
    free(ram);
}

/* image_load re-checks an info that did not come straight from image_probe. */
static void test_load_rechecks_info(void **state)
{
    (void)state;
    uint64_t ram_size = 4 * MiB;
    uint8_t *ram = calloc(1, ram_size);
    assert_non_null(ram);
    size_t size = make_elf64(0x100000, elf64_segs, 3);
    assert_int_equal(probe(size), 0);
    struct image_info saved = info;

    expect_load_refused(-EINVAL, 0x1100, ram, ram_size, NULL, NULL, 0,
                        "segment 0 does not match the file");
    info.segments[1].file_size = 0x3000;
    expect_load_refused(-EINVAL, size, ram, ram_size, NULL, NULL, 0, "segment 1 does not match");
    info = saved;
    info.segments[0].guest_addr = 0x1000;
    expect_load_refused(-EINVAL, size, ram, ram_size, NULL, NULL, 0, "overlaps the loader area");
    info = saved;
    info.segments[0].guest_addr = UINT64_MAX - 0x10; /* address + size overflows */
    expect_load_refused(-ENOSPC, size, ram, ram_size, NULL, NULL, 0, "lies beyond guest RAM");
    info = saved;
    info.format = 9;
    expect_load_refused(-EINVAL, size, ram, ram_size, NULL, NULL, 0, "unknown image format 9");
    info = saved;
    info.segment_count = 17;
    expect_load_refused(-EINVAL, size, ram, ram_size, NULL, NULL, 0, "bad arguments");
    info = saved;
    expect_load_refused(-EINVAL, size, NULL, ram_size, NULL, NULL, 0, "bad arguments");
    const struct vcpu_memory mem = { (uint64_t)(uintptr_t)ram, ram_size };
    assert_int_equal(image_load(&info, img, size, &mem, NULL, NULL, 0, NULL, NULL, NULL, 0),
                     -EINVAL);
    assert_int_equal(load(size, ram, ram_size, NULL, NULL, 0), 0);
    free(ram);
}

static void test_format_names(void **state)
{
    (void)state;
    assert_string_equal(image_format_name(IMAGE_FORMAT_ELF64), "ELF64");
    assert_string_equal(image_format_name(IMAGE_FORMAT_MULTIBOOT1), "Multiboot1 ELF32");
    assert_string_equal(image_format_name(IMAGE_FORMAT_BOOTSECTOR), "boot sector");
    assert_string_equal(image_format_name(IMAGE_FORMAT_LINUX), "Linux bzImage");
    assert_string_equal(image_format_name(0), "unknown");
    assert_string_equal(image_format_name(5), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_elf64_load),
        cmocka_unit_test(test_elf64_no_cmdline_no_modules),
        cmocka_unit_test(test_elf64_page_tables_4g),
        cmocka_unit_test(test_multiboot_elf_load),
        cmocka_unit_test(test_multiboot_kludge_in_elf),
        cmocka_unit_test(test_multiboot_kludge_raw_binary),
        cmocka_unit_test(test_bootsector_load),
        cmocka_unit_test(test_probe_not_recognised),
        cmocka_unit_test(test_probe_bad_arguments),
        cmocka_unit_test(test_probe_elf_header_errors),
        cmocka_unit_test(test_probe_program_header_errors),
        cmocka_unit_test(test_probe_segment_errors),
        cmocka_unit_test(test_probe_too_many_segments),
        cmocka_unit_test(test_probe_multiboot_errors),
        cmocka_unit_test(test_probe_multiboot_kludge_errors),
        cmocka_unit_test(test_load_does_not_fit),
        cmocka_unit_test(test_load_bad_modules),
        cmocka_unit_test(test_load_multiboot_module_above_4g),
        cmocka_unit_test(test_load_bootsector_refusals),
        cmocka_unit_test(test_load_rechecks_info),
        cmocka_unit_test(test_format_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
