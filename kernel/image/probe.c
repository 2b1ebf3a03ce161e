/* Image recognition: ELF64 (x86-64), Multiboot 1 (ELF32 program headers or the a.out-kludge
 * address fields), Linux bzImage, boot sector. Every offset and size from the file is checked with overflow-safe
 * arithmetic before anything is read through it. */
#include <stdarg.h>
#include <stdbool.h>
#include <tessera/bytes.h>
#include <tessera/errno.h>
#include <tessera/image.h>
#include <tessera/printf.h>
#include <tessera/string.h>

#define ELF_CLASS32 1
#define ELF_CLASS64 2
#define ELF_DATA_LSB 1
#define ELF_TYPE_EXEC 2
#define ELF_MACHINE_386 3
#define ELF_MACHINE_X86_64 62
#define ELF_PT_LOAD 1
#define ELF64_EHDR_SIZE 64u
#define ELF32_EHDR_SIZE 52u
#define ELF64_PHDR_SIZE 56u
#define ELF32_PHDR_SIZE 32u

/* Multiboot 1 header flags (Multiboot specification 0.6.96, 3.1.2). */
#define MB1_FLAG_PAGE_ALIGN (1u << 0) /* modules page-aligned: we always do */
#define MB1_FLAG_MEMORY_INFO (1u << 1) /* mem_* and mmap: we always provide */
#define MB1_FLAG_VIDEO_MODE (1u << 2)
#define MB1_FLAG_ADDRESSES (1u << 16) /* a.out kludge: load from the header's address fields */
#define MB1_REQUIRED_MASK 0xffffu     /* low 16 bits: a loader that cannot honour one must refuse */
#define MB1_HEADER_SIZE 12u
#define MB1_HEADER_ADDR_SIZE 32u

/* Every probe refusal is -ENOEXEC: not an image we can run. */
#define refuse(reason, reason_len, ...) kreason(reason, reason_len, -ENOEXEC, __VA_ARGS__)

const char *image_format_name(uint32_t format)
{
    switch (format) {
    case IMAGE_FORMAT_ELF64:
        return "ELF64";
    case IMAGE_FORMAT_MULTIBOOT1:
        return "Multiboot1 ELF32";
    case IMAGE_FORMAT_BOOTSECTOR:
        return "boot sector";
    case IMAGE_FORMAT_LINUX:
        return "Linux bzImage";
    default:
        return "unknown";
    }
}

/* Adds one loadable segment after checking it against the file, the loader area, the address
 * limit and the segments already taken. */
static int add_segment(struct image_info *out, uint64_t size, unsigned index, uint64_t addr,
                       uint64_t offset, uint64_t file_size, uint64_t mem_size, uint64_t addr_limit,
                       char *reason, size_t reason_len)
{
    uint64_t file_end, mem_end;
    if (file_size > mem_size)
        return refuse(reason, reason_len,
                      "segment %u: file size 0x%llx is larger than its memory size 0x%llx", index,
                      (unsigned long long)file_size, (unsigned long long)mem_size);
    if (__builtin_add_overflow(offset, file_size, &file_end) || file_end > size)
        return refuse(reason, reason_len,
                      "segment %u: file data at offset 0x%llx + 0x%llx runs past the end of the "
                      "file (%llu bytes)",
                      index, (unsigned long long)offset, (unsigned long long)file_size,
                      (unsigned long long)size);
    if (__builtin_add_overflow(addr, mem_size, &mem_end) || mem_end > addr_limit)
        return refuse(reason, reason_len,
                      "segment %u: address 0x%llx + size 0x%llx is beyond the addressable range",
                      index, (unsigned long long)addr, (unsigned long long)mem_size);
    if (addr < IMAGE_LOADER_END)
        return refuse(reason, reason_len,
                      "segment %u at 0x%llx overlaps the loader area below 1 MiB", index,
                      (unsigned long long)addr);
    for (unsigned i = 0; i < out->segment_count; i++) {
        const struct image_segment *s = &out->segments[i];
        if (addr < s->guest_addr + s->mem_size && s->guest_addr < mem_end)
            return refuse(reason, reason_len,
                          "segment %u at 0x%llx-0x%llx overlaps the segment at 0x%llx-0x%llx",
                          index, (unsigned long long)addr, (unsigned long long)mem_end,
                          (unsigned long long)s->guest_addr,
                          (unsigned long long)(s->guest_addr + s->mem_size));
    }
    if (out->segment_count >= IMAGE_MAX_SEGMENTS)
        return refuse(reason, reason_len, "too many loadable segments (at most %u)",
                      IMAGE_MAX_SEGMENTS);

    struct image_segment *s = &out->segments[out->segment_count++];
    s->guest_addr = addr;
    s->file_offset = offset;
    s->file_size = file_size;
    s->mem_size = mem_size;
    if (out->segment_count == 1 || addr < out->lowest)
        out->lowest = addr;
    if (mem_end > out->highest)
        out->highest = mem_end;
    return 0;
}

static int check_entry(const struct image_info *out, char *reason, size_t reason_len)
{
    if (out->segment_count == 0)
        return refuse(reason, reason_len, "no loadable segments");
    for (unsigned i = 0; i < out->segment_count; i++) {
        const struct image_segment *s = &out->segments[i];
        if (out->entry >= s->guest_addr && out->entry - s->guest_addr < s->mem_size)
            return 0;
    }
    return refuse(reason, reason_len, "entry point 0x%llx is outside the loaded segments",
                  (unsigned long long)out->entry);
}

/* PT_LOAD program headers, placed by p_paddr. */
static int load_program_headers(const uint8_t *d, uint64_t size, bool is64, uint64_t phoff,
                                unsigned phentsize, unsigned phnum, struct image_info *out,
                                char *reason, size_t reason_len)
{
    unsigned want = is64 ? ELF64_PHDR_SIZE : ELF32_PHDR_SIZE;
    uint64_t table_size, table_end;

    if (phnum == 0)
        return refuse(reason, reason_len, "ELF has no program headers");
    if (phentsize != want)
        return refuse(reason, reason_len, "ELF program header size %u, expected %u", phentsize,
                      want);
    if (__builtin_mul_overflow((uint64_t)phnum, (uint64_t)phentsize, &table_size) ||
        __builtin_add_overflow(phoff, table_size, &table_end) || table_end > size)
        return refuse(reason, reason_len,
                      "ELF program headers (offset 0x%llx, %u entries) run past the end of the "
                      "file (%llu bytes)",
                      (unsigned long long)phoff, phnum, (unsigned long long)size);

    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *ph = d + phoff + (uint64_t)i * phentsize;
        uint64_t offset, paddr, filesz, memsz;
        if (rd32(ph) != ELF_PT_LOAD)
            continue;
        if (is64) {
            offset = rd64(ph + 8);
            paddr = rd64(ph + 24);
            filesz = rd64(ph + 32);
            memsz = rd64(ph + 40);
        } else {
            offset = rd32(ph + 4);
            paddr = rd32(ph + 12);
            filesz = rd32(ph + 16);
            memsz = rd32(ph + 20);
        }
        if (memsz == 0 && filesz == 0)
            continue;
        /* A 32-bit guest cannot reach past 4 GiB; the ELF64 map covers no more either. */
        int err = add_segment(out, size, i, paddr, offset, filesz, memsz,
                              IMAGE_IDENTITY_MAP_MAX, reason, reason_len);
        if (err)
            return err;
    }
    return check_entry(out, reason, reason_len);
}

/* Finds a Multiboot 1 header: 4-byte aligned, its magic, flags and checksum inside the first
 * 8 KiB, the three summing to 0. Returns its offset, -ENOENT if there is none, -EINVAL when only
 * headers with a wrong checksum were seen. */
static int64_t find_multiboot1(const uint8_t *d, uint64_t size)
{
    uint64_t limit = size < MULTIBOOT1_SEARCH_BYTES ? size : MULTIBOOT1_SEARCH_BYTES;
    bool bad_checksum = false;
    for (uint64_t off = 0; off + MB1_HEADER_SIZE <= limit; off += 4) {
        if (rd32(d + off) != MULTIBOOT1_HEADER_MAGIC)
            continue;
        uint32_t sum = rd32(d + off) + rd32(d + off + 4) + rd32(d + off + 8);
        if (sum == 0)
            return (int64_t)off;
        bad_checksum = true;
    }
    return bad_checksum ? -EINVAL : -ENOENT;
}

static int check_multiboot1_flags(uint32_t flags, char *reason, size_t reason_len)
{
    if (flags & MB1_FLAG_VIDEO_MODE)
        return refuse(reason, reason_len,
                      "Multiboot header asks for a video mode (flag bit 2): not supported");
    uint32_t unknown = flags & MB1_REQUIRED_MASK & ~(MB1_FLAG_PAGE_ALIGN | MB1_FLAG_MEMORY_INFO);
    if (unknown)
        return refuse(reason, reason_len,
                      "Multiboot header requires features we do not have (flags 0x%x)", unknown);
    return 0;
}

/* The a.out kludge (flag bit 16): one segment described by the header's address fields. */
static int load_multiboot1_addresses(const uint8_t *d, uint64_t size, uint64_t hdr,
                                     struct image_info *out, char *reason, size_t reason_len)
{
    if (hdr + MB1_HEADER_ADDR_SIZE > size)
        return refuse(reason, reason_len,
                      "Multiboot header at offset 0x%llx is truncated (address fields past the "
                      "end of the file)",
                      (unsigned long long)hdr);
    uint64_t header_addr = rd32(d + hdr + 12);
    uint64_t load_addr = rd32(d + hdr + 16);
    uint64_t load_end_addr = rd32(d + hdr + 20);
    uint64_t bss_end_addr = rd32(d + hdr + 24);
    uint64_t entry_addr = rd32(d + hdr + 28);

    if (load_addr > header_addr)
        return refuse(reason, reason_len,
                      "Multiboot load_addr 0x%llx is above header_addr 0x%llx",
                      (unsigned long long)load_addr, (unsigned long long)header_addr);
    if (header_addr - load_addr > hdr)
        return refuse(reason, reason_len,
                      "Multiboot load_addr 0x%llx lies before the start of the file",
                      (unsigned long long)load_addr);
    uint64_t offset = hdr - (header_addr - load_addr);
    uint64_t file_size;
    if (load_end_addr == 0) {
        file_size = size - offset;
    } else {
        if (load_end_addr < load_addr)
            return refuse(reason, reason_len,
                          "Multiboot load_end_addr 0x%llx is below load_addr 0x%llx",
                          (unsigned long long)load_end_addr, (unsigned long long)load_addr);
        file_size = load_end_addr - load_addr;
    }
    uint64_t mem_size = file_size;
    if (bss_end_addr != 0) {
        if (bss_end_addr < load_addr + file_size)
            return refuse(reason, reason_len,
                          "Multiboot bss_end_addr 0x%llx is below the end of the loaded data "
                          "0x%llx",
                          (unsigned long long)bss_end_addr,
                          (unsigned long long)(load_addr + file_size));
        mem_size = bss_end_addr - load_addr;
    }
    out->entry = entry_addr;
    int err = add_segment(out, size, 0, load_addr, offset, file_size, mem_size,
                          IMAGE_IDENTITY_MAP_MAX, reason, reason_len);
    if (err)
        return err;
    return check_entry(out, reason, reason_len);
}

/* hdr: find_multiboot1's answer for this image (the caller has it already). */
static int probe_multiboot1(const uint8_t *d, uint64_t size, int64_t hdr, bool is_elf32,
                            struct image_info *out, char *reason, size_t reason_len)
{
    if (hdr == -EINVAL)
        return refuse(reason, reason_len, "Multiboot 1 header checksum is wrong");
    if (hdr < 0)
        return refuse(reason, reason_len,
                      "ELF32 image without a Multiboot 1 header in its first 8 KiB");
    uint32_t flags = rd32(d + hdr + 4);
    int err = check_multiboot1_flags(flags, reason, reason_len);
    if (err)
        return err;

    out->format = IMAGE_FORMAT_MULTIBOOT1;
    if (flags & MB1_FLAG_ADDRESSES)
        return load_multiboot1_addresses(d, size, (uint64_t)hdr, out, reason, reason_len);
    if (!is_elf32)
        return refuse(reason, reason_len,
                      "Multiboot header without address fields (flag bit 16) in a non-ELF file");
    out->entry = rd32(d + 24);
    return load_program_headers(d, size, false, rd32(d + 28), rd16(d + 42), rd16(d + 44), out,
                                reason, reason_len);
}

static int probe_elf(const uint8_t *d, uint64_t size, struct image_info *out, char *reason,
                     size_t reason_len)
{
    if (size < 16)
        return refuse(reason, reason_len, "truncated ELF header (%llu bytes)",
                      (unsigned long long)size);
    unsigned elf_class = d[4], data = d[5], version = d[6];
    if (elf_class != ELF_CLASS32 && elf_class != ELF_CLASS64)
        return refuse(reason, reason_len, "bad ELF class %u", elf_class);
    if (data != ELF_DATA_LSB)
        return refuse(reason, reason_len, "ELF is not little-endian (EI_DATA %u)", data);
    if (version != 1)
        return refuse(reason, reason_len, "bad ELF version %u", version);

    unsigned header_size = elf_class == ELF_CLASS64 ? ELF64_EHDR_SIZE : ELF32_EHDR_SIZE;
    if (size < header_size)
        return refuse(reason, reason_len, "truncated ELF%u header (%llu bytes, need %u)",
                      elf_class == ELF_CLASS64 ? 64 : 32, (unsigned long long)size, header_size);
    unsigned type = rd16(d + 16), machine = rd16(d + 18);

    if (elf_class == ELF_CLASS64) {
        if (machine != ELF_MACHINE_X86_64)
            return refuse(reason, reason_len, "ELF64 machine %u is not x86-64 (62)", machine);
        if (type != ELF_TYPE_EXEC)
            return refuse(reason, reason_len, "ELF type %u is not an executable (ET_EXEC)",
                          type);
        out->format = IMAGE_FORMAT_ELF64;
        out->entry = rd64(d + 24);
        return load_program_headers(d, size, true, rd64(d + 32), rd16(d + 54), rd16(d + 56),
                                    out, reason, reason_len);
    }
    if (machine != ELF_MACHINE_386)
        return refuse(reason, reason_len, "ELF32 machine %u is not i386 (3)", machine);
    if (type != ELF_TYPE_EXEC)
        return refuse(reason, reason_len, "ELF type %u is not an executable (ET_EXEC)", type);
    return probe_multiboot1(d, size, find_multiboot1(d, size), true, out, reason, reason_len);
}

/* One segment, the protected-mode kernel, at the load address linux_parse_setup chose; the
 * kernel itself then needs init_size bytes from there (checked against RAM at load time). */
static int probe_linux(const uint8_t *d, uint64_t size, struct image_info *out, char *reason,
                       size_t reason_len)
{
    struct linux_setup s;
    int err = linux_parse_setup(d, size, IMAGE_IDENTITY_MAP_MAX, &s, reason, reason_len);
    if (err) {
        memset(out, 0, sizeof(*out));
        return err;
    }
    out->format = IMAGE_FORMAT_LINUX;
    out->linux_hdr = s;
    out->entry = s.load_addr + LINUX_ENTRY64_OFFSET;
    out->segment_count = 1;
    out->segments[0].guest_addr = s.load_addr;
    out->segments[0].file_offset = s.kernel_offset;
    out->segments[0].file_size = s.kernel_size;
    out->segments[0].mem_size = s.kernel_size;
    out->lowest = s.load_addr;
    out->highest = s.load_addr + s.init_size;
    return 0;
}

int image_probe(const void *data, uint64_t size, struct image_info *out, char *reason,
                size_t reason_len)
{
    if (!out || (!data && size > 0)) {
        if (reason && reason_len > 0)
            str_copy(reason, "bad arguments", reason_len);
        return -EINVAL;
    }
    memset(out, 0, sizeof(*out));
    if (reason && reason_len > 0)
        reason[0] = '\0';
    const uint8_t *d = data;

    if (size >= 4 && d[0] == 0x7f && d[1] == 'E' && d[2] == 'L' && d[3] == 'F') {
        int err = probe_elf(d, size, out, reason, reason_len);
        if (err) {
            memset(out, 0, sizeof(*out));
            return err;
        }
        return 0;
    }
    /* A bzImage also ends its first sector with 0x55 0xAA: its setup header decides first. */
    if (linux_is_kernel(d, size))
        return probe_linux(d, size, out, reason, reason_len);
    /* Not ELF: a Multiboot header with address fields, else a boot sector. */
    int64_t hdr = find_multiboot1(d, size);
    if (hdr >= 0) {
        int err = probe_multiboot1(d, size, hdr, false, out, reason, reason_len);
        if (err)
            memset(out, 0, sizeof(*out));
        return err;
    }
    if (size >= IMAGE_BOOTSECTOR_MIN && d[510] == 0x55 && d[511] == 0xaa) {
        if (size > IMAGE_BOOTSECTOR_MAX)
            return refuse(reason, reason_len,
                          "boot-sector image is %llu bytes, more than 64 KiB",
                          (unsigned long long)size);
        out->format = IMAGE_FORMAT_BOOTSECTOR;
        out->entry = IMAGE_BOOTSECTOR_ADDR;
        out->segment_count = 1;
        out->segments[0].guest_addr = IMAGE_BOOTSECTOR_ADDR;
        out->segments[0].file_offset = 0;
        out->segments[0].file_size = size;
        out->segments[0].mem_size = size;
        out->lowest = IMAGE_BOOTSECTOR_ADDR;
        out->highest = IMAGE_BOOTSECTOR_ADDR + size;
        return 0;
    }
    if (size < IMAGE_BOOTSECTOR_MIN)
        return refuse(reason, reason_len,
                      "unrecognised image of %llu bytes: not ELF, no Multiboot 1 header, too "
                      "small for a boot sector",
                      (unsigned long long)size);
    return refuse(reason, reason_len,
                  "unrecognised image: not ELF, no Multiboot 1 header, no boot-sector signature "
                  "(0x55 0xAA at offset 510)");
}
