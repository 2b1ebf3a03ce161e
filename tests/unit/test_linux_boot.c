/* Linux boot protocol: a synthetic bzImage (setup header as boot.rst describes it) probed and
 * loaded through image_probe/image_load into host RAM, the zero page, e820 map, initrd placement
 * and 64-bit start state it gets; every refusal; the pure builders on their own; and, when
 * build/linux/vmlinuz has been fetched, Debian's real kernel header.
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

#include <tessera/bytes.h>
#include <tessera/errno.h>
#include <tessera/image.h>
#include <tessera/linux_boot.h>

#define MiB (1ULL << 20)
#define IMG_SIZE 0x2400u   /* setup 0x400 (boot sector + 1 setup sector), kernel 0x2000 */
#define KERNEL_OFF 0x400u
#define PREF 0x1000000ULL  /* 16 MiB, like Debian's */
#define INIT_SIZE 0x400000u

static uint8_t img[IMG_SIZE + 0x100];
static char reason[256];
static struct image_info info;
static struct guest_boot_state boot;

/* A bzImage header of protocol 2.15: relocatable, 64-bit entry, 2 MiB alignment. */
static void make_bzimage(void)
{
    memset(img, 0, sizeof(img));
    img[LINUX_SETUP_SECTS] = 1;
    wr16(img + LINUX_BOOT_FLAG, 0xaa55);
    img[LINUX_JUMP] = 0xeb;
    img[LINUX_JUMP + 1] = 0x6a; /* header ends at 0x26c */
    wr32(img + LINUX_HEADER_MAGIC, LINUX_MAGIC_HDRS);
    wr16(img + LINUX_VERSION, 0x020f);
    img[LINUX_LOADFLAGS] = LINUX_LOADED_HIGH;
    wr32(img + LINUX_INITRD_ADDR_MAX, 0x7fffffff);
    wr32(img + LINUX_KERNEL_ALIGNMENT, 0x200000);
    img[LINUX_RELOCATABLE] = 1;
    wr16(img + LINUX_XLOADFLAGS, 0x7f);
    wr32(img + LINUX_CMDLINE_SIZE, 2047);
    wr64(img + LINUX_PREF_ADDRESS, PREF);
    wr32(img + LINUX_INIT_SIZE, INIT_SIZE);
    wr32(img + 0x268, 0x12345); /* kernel_info_offset: copied as it is */
    img[0x26c] = 0xee;          /* past the header: never copied */
    for (unsigned i = KERNEL_OFF; i < IMG_SIZE; i++)
        img[i] = (uint8_t)(i * 7 + 3);
}

static uint8_t *ram_alloc(uint64_t size)
{
    uint8_t *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(p != MAP_FAILED);
    return p;
}

static int probe(void)
{
    memset(reason, 0, sizeof(reason));
    return image_probe(img, IMG_SIZE, &info, reason, sizeof(reason));
}

static int load(uint8_t *ram, uint64_t ram_size, const char *cmdline,
                const struct image_module *initrd, uint64_t rsdp)
{
    memset(reason, 0, sizeof(reason));
    const struct vcpu_memory mem = { (uint64_t)(uintptr_t)ram, ram_size };
    const struct image_linux_args args = { initrd, rsdp };
    return image_load(&info, img, IMG_SIZE, &mem, cmdline, NULL, 0, &args, &boot, reason,
                      sizeof(reason));
}

static void expect_probe_refused(const char *needle)
{
    int err = probe();
    if (err != -ENOEXEC || !strstr(reason, needle))
        fail_msg("probe returned %d with \"%s\", expected -ENOEXEC with \"%s\"", err, reason,
                 needle);
    assert_int_equal(info.format, 0);
}

static void expect_load_refused(int expected, uint8_t *ram, uint64_t ram_size,
                                const char *cmdline, const struct image_module *initrd,
                                const char *needle)
{
    int err = load(ram, ram_size, cmdline, initrd, 0);
    if (err != expected || !strstr(reason, needle))
        fail_msg("load returned %d with \"%s\", expected %d with \"%s\"", err, reason, expected,
                 needle);
}

static void check_e820(const uint8_t *zp, unsigned i, uint64_t addr, uint64_t size, uint32_t type)
{
    const uint8_t *e = zp + LINUX_ZP_E820_TABLE + i * LINUX_E820_ENTRY_SIZE;
    assert_int_equal(rd64(e), addr);
    assert_int_equal(rd64(e + 8), size);
    assert_int_equal(rd32(e + 16), type);
}

static void test_linux_load(void **state)
{
    (void)state;
    make_bzimage();
    assert_int_equal(probe(), 0);
    assert_int_equal(info.format, IMAGE_FORMAT_LINUX);
    assert_string_equal(image_format_name(info.format), "Linux bzImage");
    assert_int_equal(info.entry, PREF + 0x200);
    assert_int_equal(info.segment_count, 1);
    assert_int_equal(info.segments[0].guest_addr, PREF);
    assert_int_equal(info.segments[0].file_offset, KERNEL_OFF);
    assert_int_equal(info.segments[0].file_size, IMG_SIZE - KERNEL_OFF);
    assert_int_equal(info.linux_hdr.init_size, INIT_SIZE);
    assert_int_equal(info.linux_hdr.cmdline_size, 2047);

    uint64_t ram_size = 32 * MiB;
    uint8_t *ram = ram_alloc(ram_size);
    uint8_t initrd_data[5000];
    for (unsigned i = 0; i < sizeof(initrd_data); i++)
        initrd_data[i] = (uint8_t)(i ^ 0x5a);
    const struct image_module initrd = { initrd_data, sizeof(initrd_data), "initrd" };
    assert_int_equal(load(ram, ram_size, "console=ttyS0 quiet", &initrd, 0xf0000), 0);

    /* the protected-mode kernel at pref_address; the initrd page-aligned at the top of RAM */
    assert_memory_equal(ram + PREF, img + KERNEL_OFF, IMG_SIZE - KERNEL_OFF);
    uint64_t initrd_at = (ram_size - sizeof(initrd_data)) & ~0xfffULL;
    assert_int_equal(initrd_at, 0x1ffe000);
    assert_memory_equal(ram + initrd_at, initrd_data, sizeof(initrd_data));
    assert_string_equal((const char *)ram + 0x9000, "console=ttyS0 quiet");

    const uint8_t *zp = ram + 0x8000;
    assert_memory_equal(zp + 0x1f1, img + 0x1f1, 0x210 - 0x1f1); /* header up to type_of_loader */
    assert_int_equal(rd32(zp + LINUX_HEADER_MAGIC), LINUX_MAGIC_HDRS);
    assert_int_equal(zp[LINUX_TYPE_OF_LOADER], 0xff);
    assert_int_equal(zp[LINUX_LOADFLAGS], LINUX_LOADED_HIGH);
    assert_int_equal(rd32(zp + LINUX_CMD_LINE_PTR), 0x9000);
    assert_int_equal(rd32(zp + LINUX_RAMDISK_IMAGE), initrd_at);
    assert_int_equal(rd32(zp + LINUX_RAMDISK_SIZE), sizeof(initrd_data));
    assert_int_equal(rd32(zp + LINUX_CODE32_START), PREF);
    assert_int_equal(rd64(zp + LINUX_SETUP_DATA), 0);
    assert_int_equal(rd32(zp + 0x268), 0x12345);
    assert_int_equal(zp[0x26c], 0); /* beyond the header's end: not copied */
    assert_int_equal(rd64(zp + LINUX_ZP_ACPI_RSDP_ADDR), 0xf0000);
    assert_int_equal(zp[LINUX_ZP_SENTINEL], 0);
    assert_int_equal(rd32(zp + LINUX_ZP_EXT_RAMDISK_IMAGE), 0);
    assert_int_equal(rd32(zp + LINUX_ZP_EXT_CMD_LINE_PTR), 0);
    assert_int_equal(zp[LINUX_ZP_E820_ENTRIES], 5);
    check_e820(zp, 0, 0, 0x1000, LINUX_E820_RAM);
    check_e820(zp, 1, 0x1000, 0x9000, LINUX_E820_RESERVED); /* page tables .. command line */
    check_e820(zp, 2, 0xa000, 0xa0000 - 0xa000, LINUX_E820_RAM);
    check_e820(zp, 3, 0xa0000, 0x60000, LINUX_E820_RESERVED);
    check_e820(zp, 4, 0x100000, ram_size - 0x100000, LINUX_E820_RAM);

    /* 64-bit boot protocol: flat __BOOT_CS 0x10 / __BOOT_DS 0x18, identity map of all RAM */
    assert_int_equal(rd64(ram + 0x7000), 0);
    assert_int_equal(rd64(ram + 0x7008), 0);
    assert_int_equal(rd64(ram + 0x7010), 0x00af9a000000ffffULL);
    assert_int_equal(rd64(ram + 0x7018), 0x00cf92000000ffffULL);
    assert_int_equal(rd64(ram + 0x1000), 0x2003);
    assert_int_equal(rd64(ram + 0x2000), 0x3003);
    for (uint64_t i = 0; i < 16; i++)
        assert_int_equal(rd64(ram + 0x3000 + 8 * i), i * 0x200000 | 0x83);
    assert_int_equal(rd64(ram + 0x3000 + 8 * 16), 0);
    assert_int_equal(boot.mode, GUEST_MODE_LONG64);
    assert_int_equal(boot.rip, PREF + 0x200);
    assert_int_equal(boot.rsi, 0x8000);
    assert_int_equal(boot.cr3, 0x1000);
    assert_int_equal(boot.gdt_base, 0x7000);
    assert_int_equal(boot.gdt_limit, 31);
    assert_int_equal(boot.cs_selector, 0x10);
    assert_int_equal(boot.ds_selector, 0x18);
    assert_int_equal(boot.rdi, 0);

    /* no initrd, no command line, protocol 2.13: no RSDP field written */
    wr16(img + LINUX_VERSION, 0x020d);
    assert_int_equal(probe(), 0);
    memset(ram, 0xcc, 0x100000);
    assert_int_equal(load(ram, ram_size, NULL, NULL, 0xf0000), 0);
    assert_int_equal(rd32(zp + LINUX_RAMDISK_IMAGE), 0);
    assert_int_equal(rd32(zp + LINUX_RAMDISK_SIZE), 0);
    assert_int_equal(rd64(zp + LINUX_ZP_ACPI_RSDP_ADDR), 0);
    assert_int_equal(ram[0x9000], 0);
    munmap(ram, ram_size);
}

/* A relocatable kernel whose pref_address is below 1 MiB or unaligned goes to the next aligned
 * address at or above 1 MiB; a non-relocatable one exactly at pref_address. */
static void test_linux_load_address(void **state)
{
    (void)state;
    make_bzimage();
    wr64(img + LINUX_PREF_ADDRESS, 0x10000);
    assert_int_equal(probe(), 0);
    assert_int_equal(info.linux_hdr.load_addr, 0x200000);
    assert_int_equal(info.entry, 0x200200);
    wr32(img + LINUX_KERNEL_ALIGNMENT, 0x1000);
    assert_int_equal(probe(), 0);
    assert_int_equal(info.linux_hdr.load_addr, 0x100000); /* raised to 1 MiB */
    wr32(img + LINUX_KERNEL_ALIGNMENT, 0x200000);
    wr64(img + LINUX_PREF_ADDRESS, 0x1234567);
    assert_int_equal(probe(), 0);
    assert_int_equal(info.linux_hdr.load_addr, 0x1400000);
    img[LINUX_RELOCATABLE] = 0;
    wr64(img + LINUX_PREF_ADDRESS, 0x1234000);
    assert_int_equal(probe(), 0);
    assert_int_equal(info.linux_hdr.load_addr, 0x1234000);
}

static void test_linux_probe_refusals(void **state)
{
    (void)state;
    make_bzimage();
    wr16(img + LINUX_VERSION, 0x020b);
    expect_probe_refused("boot protocol 2.11 is older than 2.12");
    make_bzimage();
    wr16(img + LINUX_XLOADFLAGS, 0x7e);
    expect_probe_refused("no 64-bit entry point");
    make_bzimage();
    img[LINUX_LOADFLAGS] = 0;
    expect_probe_refused("not a bzImage");
    make_bzimage();
    img[LINUX_JUMP + 1] = 0x50; /* header ends at 0x252, before init_size */
    expect_probe_refused("setup header is truncated");
    make_bzimage();
    img[LINUX_RELOCATABLE] = 0;
    wr64(img + LINUX_PREF_ADDRESS, 0x10000);
    expect_probe_refused("not relocatable and its pref_address 0x10000 is below 1 MiB");
    make_bzimage();
    wr32(img + LINUX_KERNEL_ALIGNMENT, 0x300000);
    expect_probe_refused("kernel_alignment 0x300000 is not a power of two");
    make_bzimage();
    wr32(img + LINUX_INIT_SIZE, 0x1000);
    expect_probe_refused("init_size 0x1000 is smaller than the kernel's 0x2000 bytes");
    make_bzimage();
    img[LINUX_SETUP_SECTS] = 17; /* kernel would start at 0x2400: the end of the file */
    expect_probe_refused("ends before its 64-bit entry");
    make_bzimage();
    wr64(img + LINUX_PREF_ADDRESS, 0xffffffffffe00000ULL);
    expect_probe_refused("beyond the addressable");
    make_bzimage();
    wr64(img + LINUX_PREF_ADDRESS, 0xffe00000ULL);
    expect_probe_refused("ends beyond the addressable 0x100000000");
    /* too short to hold "HdrS": not a Linux kernel; with 0x55 0xAA at 510 a boot sector */
    make_bzimage();
    assert_int_equal(image_probe(img, 0x204, &info, reason, sizeof(reason)), 0);
    assert_int_equal(info.format, IMAGE_FORMAT_BOOTSECTOR);
}

static void test_linux_load_refusals(void **state)
{
    (void)state;
    uint64_t ram_size = 32 * MiB;
    uint8_t *ram = ram_alloc(ram_size);
    uint8_t small[100] = {1};
    const struct image_module initrd = { small, sizeof(small), "initrd" };

    /* command line longer than the kernel's cmdline_size */
    make_bzimage();
    wr32(img + LINUX_CMDLINE_SIZE, 8);
    assert_int_equal(probe(), 0);
    expect_load_refused(-EINVAL, ram, ram_size, "console=ttyS0", NULL,
                        "command line of 13 characters is longer than the kernel's cmdline_size "
                        "(8)");
    expect_load_refused(-EINVAL, ram, ram_size, "123456789", NULL,
                        "command line of 9 characters is longer");
    assert_int_equal(load(ram, ram_size, "12345678", NULL, 0), 0); /* exactly 8: fine */

    /* too little RAM for pref_address + init_size (20 MiB) */
    make_bzimage();
    assert_int_equal(probe(), 0);
    expect_load_refused(-ENOSPC, ram, 20 * MiB - 0x1000, NULL, NULL,
                        "needs RAM up to 0x1400000 (load address 0x1000000 + init_size 0x400000)");
    assert_int_equal(load(ram, 20 * MiB, NULL, NULL, 0), 0); /* exactly enough, no initrd */
    img[LINUX_RELOCATABLE] = 0;
    assert_int_equal(probe(), 0);
    expect_load_refused(-ENOSPC, ram, 20 * MiB - 0x1000, NULL, NULL,
                        "is not relocatable and needs RAM up to 0x1400000");

    /* kernel + initrd do not fit: exactly enough for the kernel, one byte of initrd too many */
    make_bzimage();
    assert_int_equal(probe(), 0);
    expect_load_refused(-ENOSPC, ram, 20 * MiB, NULL, &initrd,
                        "initrd of 100 bytes does not fit between the kernel's end at 0x1400000");
    assert_int_equal(load(ram, 20 * MiB + 0x1000, NULL, &initrd, 0), 0);
    assert_int_equal(rd32(ram + 0x8000 + LINUX_RAMDISK_IMAGE), 0x1400000);

    /* initrd larger than all of RAM */
    uint8_t *big = malloc(33 * MiB);
    assert_non_null(big);
    const struct image_module huge = { big, 33 * MiB, "huge" };
    expect_load_refused(-ENOSPC, ram, ram_size, NULL, &huge,
                        "does not fit the VM's RAM of 33554432 bytes");
    free(big);

    /* initrd_addr_max keeps the initrd below the kernel's end */
    wr32(img + LINUX_INITRD_ADDR_MAX, 0x13fffff);
    assert_int_equal(probe(), 0);
    expect_load_refused(-ENOSPC, ram, ram_size, NULL, &initrd, "does not fit between");
    wr32(img + LINUX_INITRD_ADDR_MAX, 0x1ffffff); /* 32 MiB - 1: the top of RAM again */
    assert_int_equal(probe(), 0);
    assert_int_equal(load(ram, 64 * MiB, NULL, &initrd, 0), 0);
    assert_int_equal(rd32(ram + 0x8000 + LINUX_RAMDISK_IMAGE), 0x1fff000);

    /* Multiboot modules to a Linux kernel; an initrd to another format */
    const struct vcpu_memory mem = { (uint64_t)(uintptr_t)ram, ram_size };
    assert_int_equal(image_load(&info, img, IMG_SIZE, &mem, NULL, &initrd, 1, NULL, &boot, reason,
                                sizeof(reason)),
                     -EINVAL);
    assert_non_null(strstr(reason, "takes an initrd, not Multiboot modules"));
    struct image_info linux_info = info;
    info.format = IMAGE_FORMAT_ELF64;
    expect_load_refused(-EINVAL, ram, ram_size, NULL, &initrd, "only for a Linux kernel");

    /* an info that did not come from image_probe is re-checked */
    info = linux_info;
    info.entry += 1;
    expect_load_refused(-EINVAL, ram, ram_size, NULL, NULL, "inconsistent");
    info = linux_info;
    info.linux_hdr.header_end = 0x1000;
    expect_load_refused(-EINVAL, ram, ram_size, NULL, NULL, "inconsistent");
    info = linux_info;
    info.linux_hdr.init_size = 0x1000; /* smaller than the segment */
    expect_load_refused(-EINVAL, ram, ram_size, NULL, NULL, "inconsistent");
    info = linux_info;
    info.segments[0].guest_addr = info.linux_hdr.load_addr = 0xffff0000ULL;
    info.entry = 0xffff0200ULL;
    expect_load_refused(-EINVAL, ram, ram_size, NULL, NULL, "inconsistent");
    /* RAM below 1 MiB: no room for the loader area */
    info = linux_info;
    expect_load_refused(-ENOSPC, ram, 0x80000, NULL, NULL, "smaller than the 1 MiB loader area");
    munmap(ram, ram_size);
}

static void test_linux_e820(void **state)
{
    (void)state;
    struct linux_e820_range map[16];
    /* plain: three entries */
    assert_int_equal(linux_build_e820(map, 16, 64 * MiB, NULL, 0), 3);
    assert_int_equal(map[2].addr, 0x100000);
    assert_int_equal(map[2].size, 63 * MiB);

    /* ACPI tables at the top, a reservation touching the legacy hole merges into it */
    const struct linux_e820_range carve[] = {
        {0x1000, 0x9000, LINUX_E820_RESERVED},
        {0x90000, 0x10000, LINUX_E820_RESERVED},
        {64 * MiB - 0x10000, 0x10000, LINUX_E820_ACPI},
    };
    assert_int_equal(linux_build_e820(map, 16, 64 * MiB, carve, 3), 6);
    const uint64_t want[6][3] = {
        {0, 0x1000, 1}, {0x1000, 0x9000, 2}, {0xa000, 0x86000, 1},
        {0x90000, 0x70000, 2}, {0x100000, 63 * MiB - 0x10000, 1},
        {64 * MiB - 0x10000, 0x10000, 3},
    };
    for (unsigned i = 0; i < 6; i++) {
        assert_int_equal(map[i].addr, want[i][0]);
        assert_int_equal(map[i].size, want[i][1]);
        assert_int_equal(map[i].type, want[i][2]);
    }
    /* RAM smaller than 1 MiB: no entry past its end */
    assert_int_equal(linux_build_e820(map, 16, 0x80000, NULL, 0), 1);
    assert_int_equal(map[0].size, 0x80000);
    /* refusals: unsorted, overlapping, outside RAM, empty, no room */
    const struct linux_e820_range unsorted[] = {{0x200000, 0x1000, 2}, {0x100000, 0x1000, 2}};
    assert_int_equal(linux_build_e820(map, 16, 64 * MiB, unsorted, 2), -EINVAL);
    const struct linux_e820_range overlap[] = {{0x200000, 0x2000, 2}, {0x201000, 0x1000, 2}};
    assert_int_equal(linux_build_e820(map, 16, 64 * MiB, overlap, 2), -EINVAL);
    const struct linux_e820_range outside[] = {{64 * MiB - 0x1000, 0x2000, 3}};
    assert_int_equal(linux_build_e820(map, 16, 64 * MiB, outside, 1), -EINVAL);
    const struct linux_e820_range wraps[] = {{0x100000, UINT64_MAX, 3}};
    assert_int_equal(linux_build_e820(map, 16, 64 * MiB, wraps, 1), -EINVAL);
    const struct linux_e820_range empty[] = {{0x100000, 0, 3}};
    assert_int_equal(linux_build_e820(map, 16, 64 * MiB, empty, 1), -EINVAL);
    assert_int_equal(linux_build_e820(map, 2, 64 * MiB, NULL, 0), -ENOSPC);
}

static void test_linux_zero_page_builder(void **state)
{
    (void)state;
    make_bzimage();
    struct linux_setup s;
    assert_int_equal(linux_parse_setup(img, IMG_SIZE, 1ULL << 32, &s, reason, sizeof(reason)), 0);
    static uint8_t zp[LINUX_ZP_SIZE];
    struct linux_zero_page_args a = {
        .image = img, .image_size = IMG_SIZE, .setup = &s, .ram_size = 128 * MiB,
        .cmdline_addr = 0x9000, .initrd_addr = 0x7000000, .initrd_size = 0x100000,
        .acpi_rsdp_addr = 0xe0000,
        .carve = {{128 * MiB - 0x20000, 0x20000, LINUX_E820_ACPI}}, .carve_count = 1,
    };
    assert_int_equal(linux_build_zero_page(zp, &a, reason, sizeof(reason)), 0);
    assert_int_equal(zp[LINUX_ZP_E820_ENTRIES], 4);
    check_e820(zp, 3, 128 * MiB - 0x20000, 0x20000, LINUX_E820_ACPI);
    assert_int_equal(rd64(zp + LINUX_ZP_ACPI_RSDP_ADDR), 0xe0000);
    assert_int_equal(rd32(zp + LINUX_ZP_ALT_MEM_K), 127 * 1024);
    /* initrd or command line outside RAM, too many or bad reservations */
    a.initrd_addr = 128 * MiB - 0x1000;
    assert_int_equal(linux_build_zero_page(zp, &a, reason, sizeof(reason)), -EINVAL);
    a.initrd_addr = 0x7000000;
    a.cmdline_addr = 128 * MiB;
    assert_int_equal(linux_build_zero_page(zp, &a, reason, sizeof(reason)), -EINVAL);
    a.cmdline_addr = 0x9000;
    a.carve_count = LINUX_MAX_CARVE + 1;
    assert_int_equal(linux_build_zero_page(zp, &a, reason, sizeof(reason)), -EINVAL);
    a.carve_count = 1;
    a.carve[0].addr = 128 * MiB;
    assert_int_equal(linux_build_zero_page(zp, &a, reason, sizeof(reason)), -EINVAL);

    /* initrd placement: as high as allowed, page-aligned, 0 for none */
    uint64_t at;
    assert_int_equal(linux_place_initrd(&s, 128 * MiB, 0, &at, reason, sizeof(reason)), 0);
    assert_int_equal(at, 0);
    assert_int_equal(linux_place_initrd(&s, 128 * MiB, 0x1801, &at, reason, sizeof(reason)), 0);
    assert_int_equal(at, 128 * MiB - 0x2000);
    s.initrd_addr_max = 0x3ffffff;
    assert_int_equal(linux_place_initrd(&s, 128 * MiB, 0x1000, &at, reason, sizeof(reason)), 0);
    assert_int_equal(at, 64 * MiB - 0x1000);
}

/* Debian's kernel, when guests/linux/fetch.sh has put it in build/linux/ (skipped otherwise). */
static void test_linux_real_debian_kernel(void **state)
{
    (void)state;
    FILE *f = fopen("build/linux/vmlinuz", "rb");
    if (!f) {
        skip();
        return;
    }
    static uint8_t head[0x1000];
    size_t n = fread(head, 1, sizeof(head), f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    assert_int_equal(n, sizeof(head));
    assert_true(linux_is_kernel(head, n));
    struct linux_setup s;
    /* the header is checked against the real size: the file's tail is not needed for that */
    uint8_t *whole = calloc(1, (size_t)size);
    assert_non_null(whole);
    memcpy(whole, head, n);
    assert_int_equal(linux_parse_setup(whole, (uint64_t)size, 1ULL << 32, &s, reason,
                                       sizeof(reason)), 0);
    free(whole);
    assert_true(s.version >= 0x020c);
    assert_true(s.relocatable);
    assert_int_equal(s.load_addr, 0x1000000);
    assert_true(s.init_size > s.kernel_size);
    assert_true(s.cmdline_size >= 255);
    print_message("Debian kernel: protocol %u.%02u, init_size 0x%x, kernel 0x%llx bytes\n",
                  s.version >> 8, s.version & 0xff, s.init_size,
                  (unsigned long long)s.kernel_size);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linux_load),
        cmocka_unit_test(test_linux_load_address),
        cmocka_unit_test(test_linux_probe_refusals),
        cmocka_unit_test(test_linux_load_refusals),
        cmocka_unit_test(test_linux_e820),
        cmocka_unit_test(test_linux_zero_page_builder),
        cmocka_unit_test(test_linux_real_debian_kernel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
