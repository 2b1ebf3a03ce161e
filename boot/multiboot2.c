/* Multiboot2 boot path: parse the info block GRUB hands us into the one boot-info structure.
 * Tag layouts: Multiboot2 specification, section 3.6. */
#include "multiboot2.h"

#include <stdbool.h>

#include <tessera/errno.h>
#include <tessera/printf.h>
#include <tessera/string.h>

enum {
    MB2_TAG_END = 0,
    MB2_TAG_CMDLINE = 1,
    MB2_TAG_LOADER_NAME = 2,
    MB2_TAG_MODULE = 3,
    MB2_TAG_MMAP = 6,
    MB2_TAG_FRAMEBUFFER = 8,
    MB2_TAG_EFI32 = 11,
    MB2_TAG_EFI64 = 12,
    MB2_TAG_ACPI_OLD = 14,
    MB2_TAG_ACPI_NEW = 15,
};

struct mb2_tag {
    uint32_t type;
    uint32_t size;
};

/* Copies a tag's string, bounded by both the tag and the destination. */
static void copy_tag_string(char *dst, size_t dst_len, const char *src, size_t avail)
{
    size_t n = strnlen(src, avail);
    if (n >= dst_len)
        n = dst_len - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static uint32_t mb2_mem_type(uint32_t t)
{
    switch (t) {
    case 1: return BOOT_MEM_USABLE;
    case 3: return BOOT_MEM_ACPI_RECLAIM;
    case 4: return BOOT_MEM_ACPI_NVS;
    case 5: return BOOT_MEM_BAD;
    default: return BOOT_MEM_RESERVED;
    }
}

/* Module names: the module's string is "name [args]"; keep the last path component of the
 * first word. An empty string gets "module<N>". */
static void module_name(char *dst, size_t dst_len, const char *s, size_t avail, unsigned index)
{
    size_t len = strnlen(s, avail);
    size_t end = 0;
    while (end < len && s[end] != ' ')
        end++;
    size_t start = 0;
    for (size_t i = 0; i < end; i++)
        if (s[i] == '/')
            start = i + 1;
    if (start == end) {
        ksnprintf(dst, dst_len, "module%u", index);
        return;
    }
    size_t n = end - start;
    if (n >= dst_len)
        n = dst_len - 1;
    memcpy(dst, s + start, n);
    dst[n] = '\0';
}

int multiboot2_parse(uint32_t magic, const void *mbi, struct boot_info *bi, char *err, size_t err_len)
{
    memset(bi, 0, sizeof(*bi));
    bi->magic = BOOT_INFO_MAGIC;
    bi->version = BOOT_INFO_VERSION;
    bi->path = BOOT_PATH_MULTIBOOT2;
    bi->firmware = BOOT_FIRMWARE_BIOS;

    if (magic != MULTIBOOT2_BOOTLOADER_MAGIC) {
        ksnprintf(err, err_len, "bad Multiboot2 magic 0x%x (expected 0x%x)", magic,
                  MULTIBOOT2_BOOTLOADER_MAGIC);
        return -EINVAL;
    }
    if (!mbi || ((uintptr_t)mbi & 7)) {
        ksnprintf(err, err_len, "Multiboot2 info block missing or misaligned");
        return -EINVAL;
    }
    const uint8_t *base = mbi;
    uint32_t total;
    memcpy(&total, base, 4);
    if (total < 16 || total > (64u << 20)) {
        ksnprintf(err, err_len, "Multiboot2 info block has implausible size %u", total);
        return -EINVAL;
    }

    bool saw_end = false;
    uint32_t off = 8;
    while (off + sizeof(struct mb2_tag) <= total) {
        struct mb2_tag tag;
        memcpy(&tag, base + off, sizeof(tag));
        if (tag.size < sizeof(tag) || tag.size > total - off) {
            ksnprintf(err, err_len, "Multiboot2 tag %u at offset %u has bad size %u", tag.type, off,
                      tag.size);
            return -EINVAL;
        }
        const uint8_t *body = base + off + sizeof(tag);
        size_t body_len = tag.size - sizeof(tag);

        switch (tag.type) {
        case MB2_TAG_END:
            saw_end = true;
            break;
        case MB2_TAG_CMDLINE:
            copy_tag_string(bi->cmdline, sizeof(bi->cmdline), (const char *)body, body_len);
            break;
        case MB2_TAG_LOADER_NAME:
            copy_tag_string(bi->loader_name, sizeof(bi->loader_name), (const char *)body, body_len);
            break;
        case MB2_TAG_MODULE: {
            if (body_len < 8)
                break;
            if (bi->module_count >= BOOT_MAX_MODULES) {
                ksnprintf(err, err_len, "more than %u modules", BOOT_MAX_MODULES);
                return -EINVAL;
            }
            uint32_t start, end;
            memcpy(&start, body, 4);
            memcpy(&end, body + 4, 4);
            if (end < start) {
                ksnprintf(err, err_len, "module %u ends (0x%x) before it starts (0x%x)",
                          bi->module_count, end, start);
                return -EINVAL;
            }
            struct boot_module *m = &bi->modules[bi->module_count];
            m->addr = start;
            m->size = end - start;
            module_name(m->name, sizeof(m->name), (const char *)body + 8, body_len - 8,
                        bi->module_count);
            bi->module_count++;
            break;
        }
        case MB2_TAG_MMAP: {
            if (body_len < 8)
                break;
            uint32_t entry_size;
            memcpy(&entry_size, body, 4);
            if (entry_size < 24 || (entry_size & 7)) {
                ksnprintf(err, err_len, "memory map entry size %u is invalid", entry_size);
                return -EINVAL;
            }
            for (size_t e = 8; e + entry_size <= body_len; e += entry_size) {
                if (bi->mem_region_count >= BOOT_MAX_MEM_REGIONS) {
                    ksnprintf(err, err_len, "memory map has more than %u regions",
                              BOOT_MAX_MEM_REGIONS);
                    return -EINVAL;
                }
                uint64_t addr, len;
                uint32_t type;
                memcpy(&addr, body + e, 8);
                memcpy(&len, body + e + 8, 8);
                memcpy(&type, body + e + 16, 4);
                struct boot_mem_region *r = &bi->mem[bi->mem_region_count++];
                r->base = addr;
                r->length = len;
                r->type = mb2_mem_type(type);
            }
            break;
        }
        case MB2_TAG_FRAMEBUFFER: {
            if (body_len < 22)
                break;
            struct boot_framebuffer *fb = &bi->fb;
            uint8_t fb_type;
            memcpy(&fb->addr, body, 8);
            memcpy(&fb->pitch, body + 8, 4);
            memcpy(&fb->width, body + 12, 4);
            memcpy(&fb->height, body + 16, 4);
            fb->bpp = body[20];
            fb_type = body[21];
            /* type 1 = direct RGB; its colour info follows 2 reserved bytes */
            if (fb_type == 1 && body_len >= 30 && fb->bpp == 32) {
                fb->type = BOOT_FB_RGB;
                fb->red_pos = body[24];
                fb->red_size = body[25];
                fb->green_pos = body[26];
                fb->green_size = body[27];
                fb->blue_pos = body[28];
                fb->blue_size = body[29];
            } else if (fb_type == 2) {
                fb->type = BOOT_FB_EGA_TEXT; /* width/height are in characters */
            } else {
                fb->type = BOOT_FB_NONE; /* palette modes: not used */
            }
            break;
        }
        case MB2_TAG_EFI32:
        case MB2_TAG_EFI64:
            bi->firmware = BOOT_FIRMWARE_UEFI;
            break;
        case MB2_TAG_ACPI_OLD:
        case MB2_TAG_ACPI_NEW: {
            /* Prefer the ACPI 2.0+ RSDP when both are present. */
            if (tag.type == MB2_TAG_ACPI_OLD && bi->rsdp && bi->rsdp_revision >= 2)
                break;
            size_t n = body_len < sizeof(bi->rsdp_copy) ? body_len : sizeof(bi->rsdp_copy);
            if (n < 20)
                break;
            memset(bi->rsdp_copy, 0, sizeof(bi->rsdp_copy));
            memcpy(bi->rsdp_copy, body, n);
            bi->rsdp = (uint64_t)(uintptr_t)bi->rsdp_copy;
            bi->rsdp_len = (uint32_t)n; /* the ACPI parser reads no further */
            bi->rsdp_revision = bi->rsdp_copy[15];
            break;
        }
        default:
            break; /* tags we do not use */
        }
        if (saw_end)
            break;
        off += (tag.size + 7) & ~7u;
    }
    if (!saw_end) {
        ksnprintf(err, err_len, "Multiboot2 info block has no end tag");
        return -EINVAL;
    }
    if (bi->mem_region_count == 0) {
        ksnprintf(err, err_len, "Multiboot2 info block has no memory map");
        return -EINVAL;
    }
    return 0;
}
