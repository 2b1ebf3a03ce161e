/* The Linux/x86 boot protocol, pure part: setup-header checks, initrd placement, e820 map and zero
 * page (Documentation/arch/x86/boot.rst and zero-page.rst). Nothing here touches guest RAM. */
#include <stdarg.h>
#include <stdbool.h>
#include <tessera/bytes.h>
#include <tessera/errno.h>
#include <tessera/linux_boot.h>
#include <tessera/printf.h>
#include <tessera/string.h>

#define PAGE_SIZE 0x1000ULL
#define LOW_MEMORY_END 0xa0000ULL /* 640 KiB */
#define FOUR_GIB (1ULL << 32)


int linux_is_kernel(const uint8_t *data, uint64_t size)
{
    return data && size >= LINUX_HEADER_MAGIC + 4 && rd16(data + LINUX_BOOT_FLAG) == 0xaa55 &&
           rd32(data + LINUX_HEADER_MAGIC) == LINUX_MAGIC_HDRS;
}

int linux_parse_setup(const uint8_t *d, uint64_t size, uint64_t addr_limit,
                      struct linux_setup *out, char *reason, size_t reason_len)
{
    memset(out, 0, sizeof(*out));
    if (!linux_is_kernel(d, size))
        return kreason(reason, reason_len, -ENOEXEC, "no Linux setup header (\"HdrS\" at 0x202)");
    uint16_t version = rd16(d + LINUX_VERSION);
    if (version < LINUX_PROTOCOL_MIN)
        return kreason(reason, reason_len, -ENOEXEC,
                      "Linux boot protocol %u.%02u is older than 2.12 (no 64-bit entry to use)",
                      version >> 8, version & 0xff);
    uint64_t header_end = LINUX_HEADER_MAGIC + (uint64_t)d[LINUX_JUMP + 1];
    if (header_end < LINUX_HDR_NEEDED || size < header_end)
        return kreason(reason, reason_len, -ENOEXEC,
                      "Linux setup header is truncated (ends at 0x%llx, file %llu bytes)",
                      (unsigned long long)header_end, (unsigned long long)size);
    out->version = version;
    out->header_end = header_end;
    out->loadflags = d[LINUX_LOADFLAGS];
    out->relocatable = d[LINUX_RELOCATABLE];
    out->xloadflags = rd16(d + LINUX_XLOADFLAGS);
    out->kernel_alignment = rd32(d + LINUX_KERNEL_ALIGNMENT);
    out->cmdline_size = rd32(d + LINUX_CMDLINE_SIZE);
    out->initrd_addr_max = rd32(d + LINUX_INITRD_ADDR_MAX);
    out->init_size = rd32(d + LINUX_INIT_SIZE);
    out->pref_address = rd64(d + LINUX_PREF_ADDRESS);

    if (!(out->xloadflags & LINUX_XLF_KERNEL_64))
        return kreason(reason, reason_len, -ENOEXEC,
                      "Linux kernel has no 64-bit entry point (XLF_KERNEL_64 not set)");
    if (!(out->loadflags & LINUX_LOADED_HIGH))
        return kreason(reason, reason_len, -ENOEXEC,
                      "not a bzImage: a zImage loads at 0x10000 (LOADED_HIGH not set)");

    unsigned setup_sects = d[LINUX_SETUP_SECTS] ? d[LINUX_SETUP_SECTS] : 4; /* 0 means 4 */
    out->kernel_offset = ((uint64_t)setup_sects + 1) * 512;
    if (out->kernel_offset + LINUX_ENTRY64_OFFSET >= size)
        return kreason(reason, reason_len, -ENOEXEC,
                      "Linux kernel file of %llu bytes ends before its 64-bit entry (setup "
                      "%u sectors)",
                      (unsigned long long)size, setup_sects);
    out->kernel_size = size - out->kernel_offset;
    if (out->init_size < out->kernel_size)
        return kreason(reason, reason_len, -ENOEXEC,
                      "Linux init_size 0x%x is smaller than the kernel's 0x%llx bytes",
                      out->init_size, (unsigned long long)out->kernel_size);

    uint64_t load = out->pref_address;
    if (out->relocatable) {
        uint32_t align = out->kernel_alignment;
        if (align < PAGE_SIZE || (align & (align - 1)) != 0)
            return kreason(reason, reason_len, -ENOEXEC,
                          "Linux kernel_alignment 0x%x is not a power of two of 4 KiB or more",
                          align);
        if (load < LINUX_LOW_MIN)
            load = LINUX_LOW_MIN;
        /* load < 2^64 - 2^32 is checked below through addr_limit; align up without wrapping */
        if (load > addr_limit)
            return kreason(reason, reason_len, -ENOEXEC,
                          "Linux pref_address 0x%llx is beyond the addressable 0x%llx",
                          (unsigned long long)load, (unsigned long long)addr_limit);
        load = (load + align - 1) & ~(uint64_t)(align - 1);
    } else if (load < LINUX_LOW_MIN) {
        return kreason(reason, reason_len, -ENOEXEC,
                      "Linux kernel is not relocatable and its pref_address 0x%llx is below "
                      "1 MiB",
                      (unsigned long long)load);
    }
    if (load > addr_limit || out->init_size > addr_limit - load)
        return kreason(reason, reason_len, -ENOEXEC,
                      "Linux kernel at 0x%llx with init_size 0x%x ends beyond the addressable "
                      "0x%llx",
                      (unsigned long long)load, out->init_size, (unsigned long long)addr_limit);
    out->load_addr = load;
    return 0;
}

int linux_place_initrd(const struct linux_setup *s, uint64_t usable_end, uint64_t size,
                       uint64_t *addr, char *reason, size_t reason_len)
{
    *addr = 0;
    if (size == 0)
        return 0;
    uint64_t top = usable_end;
    if ((uint64_t)s->initrd_addr_max + 1 < top)
        top = (uint64_t)s->initrd_addr_max + 1;
    if (FOUR_GIB < top)
        top = FOUR_GIB;
    uint64_t kernel_end = s->load_addr + s->init_size; /* checked against addr_limit by parse */
    if (size > top || ((top - size) & ~(PAGE_SIZE - 1)) < kernel_end)
        return kreason(reason, reason_len, -ENOSPC,
                      "initrd of %llu bytes does not fit between the kernel's end at 0x%llx "
                      "(load address + init_size) and 0x%llx (end of RAM / initrd_addr_max)",
                      (unsigned long long)size, (unsigned long long)kernel_end,
                      (unsigned long long)top);
    *addr = (top - size) & ~(PAGE_SIZE - 1);
    return 0;
}

/* Appends [addr, end) of type, merging with the previous entry when they touch and match. */
static int e820_add(struct linux_e820_range *out, unsigned max, unsigned *n, uint64_t addr,
                    uint64_t end, uint32_t type)
{
    if (end <= addr)
        return 0;
    if (*n > 0) {
        struct linux_e820_range *last = &out[*n - 1];
        if (last->type == type && last->addr + last->size == addr) {
            last->size += end - addr;
            return 0;
        }
    }
    if (*n >= max)
        return -ENOSPC;
    out[*n].addr = addr;
    out[*n].size = end - addr;
    out[*n].type = type;
    (*n)++;
    return 0;
}

int linux_build_e820(struct linux_e820_range *out, unsigned max, uint64_t ram_size,
                     const struct linux_e820_range *carve, unsigned carve_count)
{
    uint64_t prev_end = 0;
    for (unsigned i = 0; i < carve_count; i++) {
        const struct linux_e820_range *c = &carve[i];
        if (c->size == 0 || c->addr < prev_end || c->addr > ram_size ||
            c->size > ram_size - c->addr)
            return -EINVAL; /* unsorted, overlapping or outside RAM */
        prev_end = c->addr + c->size;
    }
    const struct linux_e820_range base[3] = {
        {0, LOW_MEMORY_END, LINUX_E820_RAM},
        {LOW_MEMORY_END, LINUX_LOW_MIN - LOW_MEMORY_END, LINUX_E820_RESERVED},
        {LINUX_LOW_MIN, UINT64_MAX - LINUX_LOW_MIN, LINUX_E820_RAM},
    };
    unsigned n = 0;
    for (unsigned b = 0; b < 3; b++) {
        uint64_t lo = base[b].addr, hi = base[b].addr + base[b].size;
        if (hi > ram_size)
            hi = ram_size;
        uint64_t cur = lo;
        for (unsigned i = 0; i < carve_count && cur < hi; i++) {
            uint64_t clo = carve[i].addr, chi = carve[i].addr + carve[i].size;
            if (chi <= cur || clo >= hi)
                continue;
            if (clo < cur)
                clo = cur;
            if (chi > hi)
                chi = hi;
            if (e820_add(out, max, &n, cur, clo, base[b].type) ||
                e820_add(out, max, &n, clo, chi, carve[i].type))
                return -ENOSPC;
            cur = chi;
        }
        if (e820_add(out, max, &n, cur, hi, base[b].type))
            return -ENOSPC;
    }
    return (int)n;
}

int linux_build_zero_page(uint8_t *zp, const struct linux_zero_page_args *a, char *reason,
                          size_t reason_len)
{
    const struct linux_setup *s = a->setup;
    if (!zp || !s || !a->image || a->image_size < s->header_end ||
        s->header_end > LINUX_HDR_LIMIT || s->header_end < LINUX_HDR_NEEDED)
        return kreason(reason, reason_len, -EINVAL, "bad arguments");
    if (a->initrd_size > 0 && (a->initrd_addr >= FOUR_GIB || a->initrd_size > FOUR_GIB - 1 ||
                               a->initrd_size > a->ram_size ||
                               a->initrd_addr > a->ram_size - a->initrd_size))
        return kreason(reason, reason_len, -EINVAL,
                      "initrd at 0x%llx (%llu bytes) is outside the 32-bit RAM",
                      (unsigned long long)a->initrd_addr, (unsigned long long)a->initrd_size);
    if (a->cmdline_addr >= FOUR_GIB || a->cmdline_addr >= a->ram_size)
        return kreason(reason, reason_len, -EINVAL, "command line at 0x%llx is outside RAM",
                      (unsigned long long)a->cmdline_addr);

    memset(zp, 0, LINUX_ZP_SIZE);
    /* The header as the image has it (boot.rst: copy from 0x1f1 to 0x202 + byte at 0x201), so
     * fields we do not know survive; sentinel at 0x1ef stays 0 or the kernel would wipe it. */
    memcpy(zp + LINUX_HDR_START, a->image + LINUX_HDR_START, s->header_end - LINUX_HDR_START);

    zp[LINUX_TYPE_OF_LOADER] = LINUX_TYPE_OF_LOADER_UNDEFINED;
    /* no real-mode heap: the 64-bit entry skips the setup code that would use it */
    zp[LINUX_LOADFLAGS] = (uint8_t)((s->loadflags | LINUX_LOADED_HIGH) & ~LINUX_CAN_USE_HEAP);
    wr32(zp + LINUX_CODE32_START, (uint32_t)s->load_addr);
    wr32(zp + LINUX_CMD_LINE_PTR, (uint32_t)a->cmdline_addr);
    wr32(zp + LINUX_RAMDISK_IMAGE, a->initrd_size ? (uint32_t)a->initrd_addr : 0);
    wr32(zp + LINUX_RAMDISK_SIZE, a->initrd_size ? (uint32_t)a->initrd_size : 0);
    wr32(zp + LINUX_HARDWARE_SUBARCH, 0); /* a normal PC */
    wr64(zp + LINUX_SETUP_DATA, 0);       /* no setup_data list */
    /* the ext_* high halves stay 0: everything we hand over lies below 4 GiB */
    if (s->version >= LINUX_PROTOCOL_RSDP)
        wr64(zp + LINUX_ZP_ACPI_RSDP_ADDR, a->acpi_rsdp_addr);
    uint64_t alt_mem_k = a->ram_size > LINUX_LOW_MIN ? (a->ram_size - LINUX_LOW_MIN) >> 10 : 0;
    wr32(zp + LINUX_ZP_ALT_MEM_K, alt_mem_k > UINT32_MAX ? UINT32_MAX : (uint32_t)alt_mem_k);

    struct linux_e820_range map[LINUX_MAX_CARVE * 2 + 3];
    if (a->carve_count > LINUX_MAX_CARVE)
        return kreason(reason, reason_len, -EINVAL, "too many reserved ranges");
    int n = linux_build_e820(map, sizeof(map) / sizeof(map[0]), a->ram_size, a->carve,
                             a->carve_count);
    if (n < 0)
        return kreason(reason, reason_len, -EINVAL,
                      "reserved ranges are unsorted, overlap or lie outside RAM");
    zp[LINUX_ZP_E820_ENTRIES] = (uint8_t)n;
    for (int i = 0; i < n; i++) {
        uint8_t *e = zp + LINUX_ZP_E820_TABLE + (unsigned)i * LINUX_E820_ENTRY_SIZE;
        wr64(e, map[i].addr);
        wr64(e + 8, map[i].size);
        wr32(e + 16, map[i].type);
    }
    return 0;
}
