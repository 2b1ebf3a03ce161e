/* Image loading: segments and modules into guest RAM, then the start structures each format
 * expects (identity page tables and tessera_start_info for ELF64, a flat GDT and the Multiboot 1
 * info block for Multiboot, page tables, GDT, zero page, command line and initrd for Linux,
 * nothing for a boot sector) and the initial vCPU state. The layout is
 * fixed (tessera/image.h, docs/images.md). Every write into guest RAM goes through a pointer
 * guest_mem_range vouched for: one per segment and module, and one for the loader area below
 * 1 MiB, into which the start structures are written at fixed offsets. */
#include <stdarg.h>
#include <stdbool.h>
#include <tessera/bytes.h>
#include <tessera/errno.h>
#include <tessera/guest_mem.h>
#include <tessera/hypercall_abi.h>
#include <tessera/image.h>
#include <tessera/printf.h>
#include <tessera/string.h>

#define PAGE_SIZE 0x1000ULL
#define LARGE_PAGE_SIZE 0x200000ULL
#define PTE_PRESENT 0x1ULL
#define PTE_WRITABLE 0x2ULL
#define PTE_LARGE 0x80ULL /* PS in a PD entry: a 2 MiB page */

/* Flat descriptors, base 0, limit 4 GiB (G = 1), DPL 0 (SDM Vol. 3A, 3.4.5). */
#define GDT_CODE64 0x00af9a000000ffffULL /* execute/read, L = 1, D = 0 */
#define GDT_CODE32 0x00cf9a000000ffffULL /* execute/read, D = 1 */
#define GDT_DATA 0x00cf92000000ffffULL   /* read/write, B = 1 */
#define GDT_LIMIT (3 * 8 - 1)

/* Multiboot 1 information block (Multiboot specification 0.6.96, 3.3). */
#define MB1_INFO_MEMORY (1u << 0)
#define MB1_INFO_CMDLINE (1u << 2)
#define MB1_INFO_MODS (1u << 3)
#define MB1_INFO_MMAP (1u << 6)
#define MB1_INFO_LOADER_NAME (1u << 9)
#define MB1_INFO_SIZE 116u
#define MB1_MMAP_ENTRY_SIZE 24u /* the size field (20) plus the 20 bytes it counts */
#define MB1_MODULE_SIZE 16u
#define MB1_MEMORY_AVAILABLE 1u
#define MB1_MEMORY_RESERVED 2u
#define LOW_MEMORY_END 0xa0000ULL /* 640 KiB: conventional memory below the legacy hole */
#define LOADER_NAME "Tessera"


static bool align_up(uint64_t value, uint64_t align, uint64_t *out)
{
    uint64_t sum;
    if (__builtin_add_overflow(value, align - 1, &sum))
        return false;
    *out = sum & ~(align - 1);
    return true;
}

struct placed_module {
    uint64_t addr, size;
    const char *name;
};

/* Copies the segments after re-checking them against the file and guest RAM (the info may not
 * come straight from image_probe). */
static int copy_segments(const struct image_info *info, const uint8_t *data, uint64_t size,
                         const struct vcpu_memory *ram, uint64_t addr_limit, char *reason,
                         size_t reason_len)
{
    for (unsigned i = 0; i < info->segment_count; i++) {
        const struct image_segment *s = &info->segments[i];
        uint64_t file_end;
        if (s->file_size > s->mem_size ||
            __builtin_add_overflow(s->file_offset, s->file_size, &file_end) || file_end > size)
            return kreason(reason, reason_len, -EINVAL,
                          "segment %u does not match the file (%llu bytes)", i,
                          (unsigned long long)size);
        /* an empty segment is written nowhere; it only needs an address up to the end of RAM */
        uint8_t *dst = s->mem_size > 0 ? guest_mem_range(ram, s->guest_addr, s->mem_size) : NULL;
        bool fits = s->mem_size > 0 ? dst != NULL : s->guest_addr <= ram->size;
        if (!fits)
            return kreason(reason, reason_len, -ENOSPC,
                          "segment %u at 0x%llx (0x%llx bytes) lies beyond guest RAM (0x%llx "
                          "bytes)",
                          i, (unsigned long long)s->guest_addr, (unsigned long long)s->mem_size,
                          (unsigned long long)ram->size);
        uint64_t mem_end = s->guest_addr + s->mem_size; /* inside RAM: cannot wrap */
        if (mem_end > addr_limit)
            return kreason(reason, reason_len, -ENOSPC,
                          "segment %u ends at 0x%llx, above the 0x%llx the guest can reach", i,
                          (unsigned long long)mem_end, (unsigned long long)addr_limit);
        if (s->mem_size > 0) {
            memcpy(dst, data + s->file_offset, s->file_size);
            memset(dst + s->file_size, 0, s->mem_size - s->file_size);
        }
    }
    return 0;
}

/* Modules go page-aligned after the image's highest address, each after the previous one. */
static int place_modules(const struct image_info *info, const struct vcpu_memory *ram,
                         uint64_t addr_limit, const struct image_module *modules,
                         unsigned module_count, struct placed_module *placed, char *reason,
                         size_t reason_len)
{
    uint64_t next;
    if (!align_up(info->highest, IMAGE_MODULE_ALIGN, &next))
        return kreason(reason, reason_len, -ENOSPC, "no room for modules after the image");
    for (unsigned i = 0; i < module_count; i++) {
        const struct image_module *m = &modules[i];
        uint64_t end;
        if (!m->name || (!m->data && m->size > 0))
            return kreason(reason, reason_len, -EINVAL, "module %u has no name or no data", i);
        /* an empty module is written nowhere; it only needs an address up to the end of RAM */
        uint8_t *dst = m->size > 0 ? guest_mem_range(ram, next, m->size) : NULL;
        bool fits = m->size > 0 ? dst != NULL : next <= ram->size;
        if (!fits || __builtin_add_overflow(next, m->size, &end) || end > addr_limit)
            return kreason(reason, reason_len, -ENOSPC,
                          "module '%s' (%llu bytes) does not fit in guest RAM after the image "
                          "(at 0x%llx, RAM ends at 0x%llx)",
                          m->name, (unsigned long long)m->size, (unsigned long long)next,
                          (unsigned long long)(ram->size < addr_limit ? ram->size : addr_limit));
        if (m->size > 0)
            memcpy(dst, m->data, m->size);
        placed[i].addr = next;
        placed[i].size = m->size;
        placed[i].name = m->name;
        if (!align_up(end, IMAGE_MODULE_ALIGN, &next))
            next = UINT64_MAX; /* the next module, if any, is refused above */
    }
    return 0;
}

/* The writers below take `ram`: the loader area, guest-physical [0, IMAGE_LOADER_END), as
 * guest_mem_range returned it. Every offset they write at is a constant below 0xa000. */
static void write_gdt(uint8_t *ram, uint64_t code_descriptor)
{
    uint8_t *gdt = ram + IMAGE_GDT;
    wr64(gdt, 0);
    wr64(gdt + IMAGE_GDT_CODE_SELECTOR, code_descriptor);
    wr64(gdt + IMAGE_GDT_DATA_SELECTOR, GDT_DATA);
}

/* PML4 at 0x1000, PDPT at 0x2000, up to four PDs at 0x3000-0x6fff: 2 MiB pages identity-mapping
 * guest RAM (rounded up to 2 MiB), at most 4 GiB. */
static void write_page_tables(uint8_t *ram, uint64_t ram_size)
{
    uint64_t map_size = ram_size < IMAGE_IDENTITY_MAP_MAX ? ram_size : IMAGE_IDENTITY_MAP_MAX;
    uint64_t large_pages = (map_size + LARGE_PAGE_SIZE - 1) / LARGE_PAGE_SIZE;
    uint64_t pd_count = (large_pages + 511) / 512;
    uint64_t pml4 = IMAGE_PAGE_TABLES, pdpt = pml4 + PAGE_SIZE, pd = pdpt + PAGE_SIZE;

    memset(ram + IMAGE_PAGE_TABLES, 0, IMAGE_PAGE_TABLES_END - IMAGE_PAGE_TABLES);
    wr64(ram + pml4, pdpt | PTE_PRESENT | PTE_WRITABLE);
    for (uint64_t i = 0; i < pd_count; i++)
        wr64(ram + pdpt + 8 * i, (pd + i * PAGE_SIZE) | PTE_PRESENT | PTE_WRITABLE);
    for (uint64_t i = 0; i < large_pages; i++)
        wr64(ram + pd + 8 * i, i * LARGE_PAGE_SIZE | PTE_PRESENT | PTE_WRITABLE | PTE_LARGE);
}

static int too_big_for_start_area(char *reason, size_t reason_len, uint64_t need)
{
    return kreason(reason, reason_len, -ENOSPC,
                  "command line and module list need %llu bytes, more than the %llu-byte "
                  "start-info area at 0x%llx",
                  (unsigned long long)need,
                  (unsigned long long)(IMAGE_START_INFO_END - IMAGE_START_INFO),
                  (unsigned long long)IMAGE_START_INFO);
}

/* tessera_start_info at 0x8000, the module array at 0x8040, then the command line. */
static int write_start_info(uint8_t *ram, uint64_t ram_size, const char *cmdline,
                            const struct placed_module *placed, unsigned module_count,
                            char *reason, size_t reason_len)
{
    const uint64_t modules_at = IMAGE_START_INFO + 0x40;
    uint64_t cmdline_at = modules_at + (uint64_t)module_count * sizeof(struct tessera_start_module);
    size_t cmdline_len = cmdline ? strlen(cmdline) : 0;
    uint64_t end = cmdline_at + cmdline_len + 1;

    _Static_assert(sizeof(struct tessera_start_info) <= 0x40, "start info overlaps its modules");
    if (end > IMAGE_START_INFO_END)
        return too_big_for_start_area(reason, reason_len, end - IMAGE_START_INFO);
    for (unsigned i = 0; i < module_count; i++) {
        if (strlen(placed[i].name) >= sizeof(((struct tessera_start_module *)0)->name))
            return kreason(reason, reason_len, -ENOSPC,
                          "module name '%.40s...' is longer than 63 characters", placed[i].name);
    }

    memset(ram + IMAGE_START_INFO, 0, IMAGE_START_INFO_END - IMAGE_START_INFO);
    uint8_t *info = ram + IMAGE_START_INFO;
    /* Field by field at their ABI offsets: the guest-visible layout is little-endian bytes. */
    wr32(info + __builtin_offsetof(struct tessera_start_info, magic), TESSERA_START_MAGIC);
    wr32(info + __builtin_offsetof(struct tessera_start_info, version), 1);
    wr64(info + __builtin_offsetof(struct tessera_start_info, mem_size), ram_size);
    wr64(info + __builtin_offsetof(struct tessera_start_info, cmdline),
         cmdline_len > 0 ? cmdline_at : 0);
    wr32(info + __builtin_offsetof(struct tessera_start_info, module_count), module_count);
    wr64(info + __builtin_offsetof(struct tessera_start_info, modules),
         module_count > 0 ? modules_at : 0);
    for (unsigned i = 0; i < module_count; i++) {
        uint8_t *m = ram + modules_at + (uint64_t)i * sizeof(struct tessera_start_module);
        wr64(m + __builtin_offsetof(struct tessera_start_module, addr), placed[i].addr);
        wr64(m + __builtin_offsetof(struct tessera_start_module, size), placed[i].size);
        memcpy(m + __builtin_offsetof(struct tessera_start_module, name), placed[i].name,
               strlen(placed[i].name) + 1);
    }
    if (cmdline_len > 0)
        memcpy(ram + cmdline_at, cmdline, cmdline_len + 1);
    return 0;
}

/* Multiboot info at 0x8000, memory map at 0x8080, module list at 0x80d0, then the strings. */
static int write_multiboot1_info(uint8_t *ram, uint64_t ram_size, const char *cmdline,
                                 const struct placed_module *placed, unsigned module_count,
                                 char *reason, size_t reason_len)
{
    const uint64_t mmap_at = IMAGE_START_INFO + 0x80;
    const unsigned mmap_entries = 3;
    const uint64_t mods_at = mmap_at + mmap_entries * MB1_MMAP_ENTRY_SIZE + 8; /* 0x80d0 */
    uint64_t strings_at = mods_at + (uint64_t)module_count * MB1_MODULE_SIZE;
    if (!cmdline)
        cmdline = "";

    uint64_t end = strings_at + strlen(cmdline) + 1 + sizeof(LOADER_NAME);
    for (unsigned i = 0; i < module_count; i++)
        end += strlen(placed[i].name) + 1;
    if (end > IMAGE_START_INFO_END)
        return too_big_for_start_area(reason, reason_len, end - IMAGE_START_INFO);

    memset(ram + IMAGE_START_INFO, 0, IMAGE_START_INFO_END - IMAGE_START_INFO);
    uint8_t *info = ram + IMAGE_START_INFO;
    uint64_t upper_kib = (ram_size - IMAGE_LOADER_END) / 1024;
    wr32(info + 0, MB1_INFO_MEMORY | MB1_INFO_CMDLINE | MB1_INFO_MODS | MB1_INFO_MMAP |
                       MB1_INFO_LOADER_NAME);
    wr32(info + 4, (uint32_t)(LOW_MEMORY_END / 1024));                        /* mem_lower */
    wr32(info + 8, upper_kib > UINT32_MAX ? UINT32_MAX : (uint32_t)upper_kib); /* mem_upper */

    /* Strings: the command line, the loader name, the module names. */
    uint64_t at = strings_at;
    size_t len = strlen(cmdline) + 1;
    memcpy(ram + at, cmdline, len);
    wr32(info + 16, (uint32_t)at);
    at += len;
    memcpy(ram + at, LOADER_NAME, sizeof(LOADER_NAME));
    wr32(info + 64, (uint32_t)at);
    at += sizeof(LOADER_NAME);

    wr32(info + 20, module_count);
    wr32(info + 24, (uint32_t)mods_at);
    for (unsigned i = 0; i < module_count; i++) {
        uint8_t *m = ram + mods_at + (uint64_t)i * MB1_MODULE_SIZE;
        len = strlen(placed[i].name) + 1;
        memcpy(ram + at, placed[i].name, len);
        wr32(m + 0, (uint32_t)placed[i].addr);                   /* mod_start */
        wr32(m + 4, (uint32_t)(placed[i].addr + placed[i].size)); /* mod_end (exclusive) */
        wr32(m + 8, (uint32_t)at);                                /* string */
        at += len;
    }

    /* Memory map: conventional memory, the legacy hole (RAM, but kept from the guest like a
     * PC's), everything above 1 MiB. Each entry starts with its size field (20). */
    const uint64_t map[3][3] = {
        {0, LOW_MEMORY_END, MB1_MEMORY_AVAILABLE},
        {LOW_MEMORY_END, IMAGE_LOADER_END - LOW_MEMORY_END, MB1_MEMORY_RESERVED},
        {IMAGE_LOADER_END, ram_size - IMAGE_LOADER_END, MB1_MEMORY_AVAILABLE},
    };
    for (unsigned i = 0; i < mmap_entries; i++) {
        uint8_t *e = ram + mmap_at + i * MB1_MMAP_ENTRY_SIZE;
        wr32(e + 0, MB1_MMAP_ENTRY_SIZE - 4);
        wr64(e + 4, map[i][0]);
        wr64(e + 12, map[i][1]);
        wr32(e + 20, (uint32_t)map[i][2]);
    }
    wr32(info + 44, mmap_entries * MB1_MMAP_ENTRY_SIZE);
    wr32(info + 48, (uint32_t)mmap_at);
    return 0;
}

/* Linux, 64-bit boot protocol (boot.rst, "64-bit Boot Protocol"): the protected-mode kernel at
 * its load address with [load, load + init_size) inside RAM, the initrd as high as allowed, the
 * zero page at 0x8000 and the command line at 0x9000; paging on with every byte of RAM identity
 * mapped, a GDT with flat __BOOT_CS (0x10) / __BOOT_DS (0x18), RSI = zero page, interrupts off
 * (the backend starts every guest with RFLAGS.IF = 0), RIP = load address + 0x200. */
static int load_linux(const struct image_info *info, const uint8_t *data, uint64_t size,
                      const struct vcpu_memory *ram, uint8_t *loader_area, const char *cmdline,
                      unsigned module_count, const struct image_linux_args *args,
                      struct guest_boot_state *out, char *reason, size_t reason_len)
{
    const struct linux_setup *s = &info->linux_hdr;
    if (module_count > 0)
        return kreason(reason, reason_len, -EINVAL,
                      "a Linux kernel takes an initrd, not Multiboot modules");
    /* the info may not come straight from image_probe: re-check what is used below */
    if (info->segment_count != 1 || info->segments[0].guest_addr != s->load_addr ||
        s->load_addr < IMAGE_LOADER_END || s->load_addr > IMAGE_IDENTITY_MAP_MAX ||
        s->init_size > IMAGE_IDENTITY_MAP_MAX - s->load_addr ||
        info->segments[0].mem_size > s->init_size || s->header_end < LINUX_HDR_NEEDED ||
        s->header_end > LINUX_HDR_LIMIT || s->header_end > size ||
        info->entry != s->load_addr + LINUX_ENTRY64_OFFSET)
        return kreason(reason, reason_len, -EINVAL, "Linux image info is inconsistent");

    size_t cmdline_len = cmdline ? strlen(cmdline) : 0;
    if (cmdline_len > s->cmdline_size)
        return kreason(reason, reason_len, -EINVAL,
                      "command line of %llu characters is longer than the kernel's cmdline_size "
                      "(%u)",
                      (unsigned long long)cmdline_len, s->cmdline_size);
    if (cmdline_len > IMAGE_LINUX_CMDLINE_MAX)
        return kreason(reason, reason_len, -EINVAL,
                      "command line of %llu characters is longer than the %llu we place",
                      (unsigned long long)cmdline_len,
                      (unsigned long long)IMAGE_LINUX_CMDLINE_MAX);

    uint64_t kernel_end = s->load_addr + s->init_size;
    if (kernel_end > ram->size)
        return kreason(reason, reason_len, -ENOSPC,
                      s->relocatable
                          ? "Linux kernel needs RAM up to 0x%llx (load address 0x%llx + init_size "
                            "0x%x), the VM has 0x%llx bytes"
                          : "Linux kernel is not relocatable and needs RAM up to 0x%llx "
                            "(pref_address 0x%llx + init_size 0x%x), the VM has 0x%llx bytes",
                      (unsigned long long)kernel_end, (unsigned long long)s->load_addr,
                      s->init_size, (unsigned long long)ram->size);

    const struct image_module *initrd = args ? args->initrd : NULL;
    uint64_t initrd_size = initrd ? initrd->size : 0, initrd_addr = 0;
    if (initrd && !initrd->data && initrd->size > 0)
        return kreason(reason, reason_len, -EINVAL, "initrd has no data");
    if (initrd_size > ram->size)
        return kreason(reason, reason_len, -ENOSPC,
                      "initrd of %llu bytes does not fit the VM's RAM of %llu bytes",
                      (unsigned long long)initrd_size, (unsigned long long)ram->size);
    int err = linux_place_initrd(s, ram->size, initrd_size, &initrd_addr, reason, reason_len);
    if (err)
        return err;

    err = copy_segments(info, data, size, ram, IMAGE_IDENTITY_MAP_MAX, reason, reason_len);
    if (err)
        return err;
    if (initrd_size > 0) {
        uint8_t *dst = guest_mem_range(ram, initrd_addr, initrd_size);
        if (!dst)
            return kreason(reason, reason_len, -ENOSPC, "initrd at 0x%llx lies beyond guest RAM",
                          (unsigned long long)initrd_addr);
        memcpy(dst, initrd->data, initrd_size);
    }

    struct linux_zero_page_args zp = {
        .image = data,
        .image_size = size,
        .setup = s,
        .ram_size = ram->size,
        .cmdline_addr = IMAGE_LINUX_CMDLINE,
        .initrd_addr = initrd_addr,
        .initrd_size = initrd_size,
        .acpi_rsdp_addr = args ? args->acpi_rsdp_addr : 0,
        /* page tables, GDT, zero page and command line: the guest must not reuse them before
         * it has copied what it needs (Linux copies the zero page and command line early) */
        .carve = {{IMAGE_PAGE_TABLES, IMAGE_START_INFO_END - IMAGE_PAGE_TABLES,
                   LINUX_E820_RESERVED}},
        .carve_count = 1,
    };
    err = linux_build_zero_page(loader_area + IMAGE_LINUX_ZERO_PAGE, &zp, reason, reason_len);
    if (err)
        return err;
    memset(loader_area + IMAGE_LINUX_CMDLINE, 0, IMAGE_START_INFO_END - IMAGE_LINUX_CMDLINE);
    if (cmdline_len > 0)
        memcpy(loader_area + IMAGE_LINUX_CMDLINE, cmdline, cmdline_len);

    write_page_tables(loader_area, ram->size);
    uint8_t *gdt = loader_area + IMAGE_GDT;
    memset(gdt, 0, IMAGE_LINUX_GDT_LIMIT + 1);
    wr64(gdt + IMAGE_LINUX_BOOT_CS, GDT_CODE64);
    wr64(gdt + IMAGE_LINUX_BOOT_DS, GDT_DATA);

    out->mode = GUEST_MODE_LONG64;
    out->cr3 = IMAGE_PAGE_TABLES;
    out->gdt_base = IMAGE_GDT;
    out->gdt_limit = IMAGE_LINUX_GDT_LIMIT;
    out->cs_selector = IMAGE_LINUX_BOOT_CS;
    out->ds_selector = IMAGE_LINUX_BOOT_DS;
    out->rip = info->entry;
    out->rsi = IMAGE_LINUX_ZERO_PAGE;
    out->rsp = IMAGE_STACK_TOP; /* the kernel switches to its own stack at once */
    return 0;
}

static int load_bootsector(const struct image_info *info, const uint8_t *data, uint64_t size,
                           const struct vcpu_memory *ram, const char *cmdline,
                           unsigned module_count, struct guest_boot_state *out, char *reason,
                           size_t reason_len)
{
    if (module_count > 0)
        return kreason(reason, reason_len, -EINVAL, "a boot-sector image cannot take modules");
    if (cmdline && cmdline[0])
        return kreason(reason, reason_len, -EINVAL,
                      "a boot-sector image cannot take a command line");
    if (info->segment_count != 1 || info->segments[0].guest_addr != IMAGE_BOOTSECTOR_ADDR ||
        info->segments[0].mem_size > IMAGE_BOOTSECTOR_MAX)
        return kreason(reason, reason_len, -EINVAL, "boot-sector image info is inconsistent");
    int err = copy_segments(info, data, size, ram, IMAGE_LOADER_END, reason, reason_len);
    if (err)
        return err;
    out->mode = GUEST_MODE_REAL16;
    out->cs_selector = 0;
    out->ds_selector = 0;
    out->rip = IMAGE_BOOTSECTOR_ADDR;
    out->rsp = IMAGE_BOOTSECTOR_ADDR; /* SS:SP = 0000:7C00, as a BIOS leaves it */
    out->rdx = 0x80;                  /* DL: boot drive, the first hard disk */
    return 0;
}

int image_load(const struct image_info *info, const void *data, uint64_t size,
               const struct vcpu_memory *ram, const char *cmdline,
               const struct image_module *modules, unsigned module_count,
               const struct image_linux_args *linux_args, struct guest_boot_state *out,
               char *reason, size_t reason_len)
{
    if (reason && reason_len > 0)
        reason[0] = '\0';
    if (!info || (!data && size > 0) || !ram || !out || (!modules && module_count > 0) ||
        info->segment_count > IMAGE_MAX_SEGMENTS)
        return kreason(reason, reason_len, -EINVAL, "bad arguments");
    memset(out, 0, sizeof(*out));
    uint64_t guest_ram_size = ram->size;

    if (linux_args && linux_args->initrd && info->format != IMAGE_FORMAT_LINUX)
        return kreason(reason, reason_len, -EINVAL, "an initrd is only for a Linux kernel");
    if (info->format == IMAGE_FORMAT_BOOTSECTOR)
        return load_bootsector(info, data, size, ram, cmdline, module_count, out, reason,
                               reason_len);
    if (info->format != IMAGE_FORMAT_ELF64 && info->format != IMAGE_FORMAT_MULTIBOOT1 &&
        info->format != IMAGE_FORMAT_LINUX)
        return kreason(reason, reason_len, -EINVAL, "unknown image format %u", info->format);

    bool is64 = info->format == IMAGE_FORMAT_ELF64;
    uint8_t *guest_ram = guest_mem_range(ram, 0, IMAGE_LOADER_END); /* the loader area */
    if (!guest_ram)
        return kreason(reason, reason_len, -ENOSPC,
                      "guest RAM of 0x%llx bytes is smaller than the 1 MiB loader area",
                      (unsigned long long)guest_ram_size);
    for (unsigned i = 0; i < info->segment_count; i++)
        if (info->segments[i].guest_addr < IMAGE_LOADER_END)
            return kreason(reason, reason_len, -EINVAL,
                          "segment %u at 0x%llx overlaps the loader area below 1 MiB", i,
                          (unsigned long long)info->segments[i].guest_addr);
    if (module_count > IMAGE_MAX_MODULES)
        return kreason(reason, reason_len, -ENOSPC, "%u modules, at most %u", module_count,
                      IMAGE_MAX_MODULES);
    if (info->format == IMAGE_FORMAT_LINUX)
        return load_linux(info, data, size, ram, guest_ram, cmdline, module_count, linux_args, out,
                          reason, reason_len);

    /* Both the 32-bit guest and the ELF64 identity map reach at most 4 GiB. */
    int err = copy_segments(info, data, size, ram, IMAGE_IDENTITY_MAP_MAX, reason, reason_len);
    if (err)
        return err;
    /* Multiboot module addresses are 32-bit, mod_end included. */
    struct placed_module placed[IMAGE_MAX_MODULES];
    err = place_modules(info, ram,
                        is64 ? IMAGE_IDENTITY_MAP_MAX : UINT32_MAX, modules, module_count, placed,
                        reason, reason_len);
    if (err)
        return err;

    out->rip = info->entry;
    out->rsp = IMAGE_STACK_TOP;
    out->gdt_base = IMAGE_GDT;
    out->gdt_limit = GDT_LIMIT;
    out->cs_selector = IMAGE_GDT_CODE_SELECTOR;
    out->ds_selector = IMAGE_GDT_DATA_SELECTOR;
    if (is64) {
        err = write_start_info(guest_ram, guest_ram_size, cmdline, placed, module_count, reason,
                               reason_len);
        if (err)
            return err;
        write_page_tables(guest_ram, guest_ram_size);
        write_gdt(guest_ram, GDT_CODE64);
        out->mode = GUEST_MODE_LONG64;
        out->cr3 = IMAGE_PAGE_TABLES;
        out->rdi = IMAGE_START_INFO;
    } else {
        err = write_multiboot1_info(guest_ram, guest_ram_size, cmdline, placed, module_count,
                                    reason, reason_len);
        if (err)
            return err;
        write_gdt(guest_ram, GDT_CODE32);
        out->mode = GUEST_MODE_PROT32;
        out->rax = MULTIBOOT1_BOOTLOADER_MAGIC;
        out->rbx = IMAGE_START_INFO;
    }
    return 0;
}
