/* Guest image loaders: recognise an ELF64, a Multiboot 1 (ELF32 or a.out kludge), a Linux bzImage
 * or a boot-sector image, copy it into guest RAM with the start structures it expects, and say
 * how its vCPU starts.
 * Pure code (host-tested): every field of the image is checked before use. Layout and start states:
 * docs/images.md. */
#ifndef TESSERA_IMAGE_H
#define TESSERA_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include <tessera/guest_boot.h>
#include <tessera/linux_boot.h>
#include <tessera/vcpu.h>

enum image_format {
    IMAGE_FORMAT_ELF64 = 1,
    IMAGE_FORMAT_MULTIBOOT1 = 2,
    IMAGE_FORMAT_BOOTSECTOR = 3,
    IMAGE_FORMAT_LINUX = 4, /* bzImage, started at its 64-bit entry (boot protocol 2.12+) */
};

#define IMAGE_MAX_SEGMENTS 16
#define IMAGE_MAX_MODULES 16

/* Guest-physical layout the loaders build (ELF64 and Multiboot; a boot sector gets none of it). */
#define IMAGE_PAGE_TABLES 0x1000ULL     /* PML4 0x1000, PDPT 0x2000, PDs 0x3000-0x6fff */
#define IMAGE_PAGE_TABLES_END 0x7000ULL
#define IMAGE_GDT 0x7000ULL
#define IMAGE_START_INFO 0x8000ULL      /* start info / Multiboot info, tables, strings */
#define IMAGE_START_INFO_END 0xa000ULL
#define IMAGE_STACK_TOP 0x80000ULL
#define IMAGE_LOADER_END 0x100000ULL    /* ELF and Multiboot segments must start at or above */
#define IMAGE_IDENTITY_MAP_MAX (4ULL << 30) /* ELF64 identity map covers at most this much RAM */
#define IMAGE_BOOTSECTOR_ADDR 0x7c00ULL
#define IMAGE_BOOTSECTOR_MIN 512ULL
#define IMAGE_BOOTSECTOR_MAX 0x10000ULL
#define IMAGE_MODULE_ALIGN 0x1000ULL
/* Linux: page tables and GDT as above, then the zero page and the command line. */
#define IMAGE_LINUX_ZERO_PAGE 0x8000ULL
#define IMAGE_LINUX_CMDLINE 0x9000ULL
#define IMAGE_LINUX_CMDLINE_MAX (IMAGE_START_INFO_END - IMAGE_LINUX_CMDLINE - 1)
#define IMAGE_LINUX_GDT_LIMIT (4 * 8 - 1)
#define IMAGE_LINUX_BOOT_CS 0x10 /* __BOOT_CS and __BOOT_DS of boot.rst's 64-bit protocol */
#define IMAGE_LINUX_BOOT_DS 0x18

#define MULTIBOOT1_HEADER_MAGIC 0x1BADB002u
#define MULTIBOOT1_BOOTLOADER_MAGIC 0x2BADB002u
#define MULTIBOOT1_SEARCH_BYTES 8192u

/* GDT selectors the loaders use for 32- and 64-bit guests. */
#define IMAGE_GDT_CODE_SELECTOR 0x08
#define IMAGE_GDT_DATA_SELECTOR 0x10

struct image_segment {
    uint64_t guest_addr;  /* guest-physical */
    uint64_t file_offset;
    uint64_t file_size;   /* bytes copied from the file */
    uint64_t mem_size;    /* >= file_size; the rest is zeroed */
};

struct image_info {
    uint32_t format; /* enum image_format */
    uint64_t entry;  /* guest-physical entry point */
    unsigned segment_count;
    struct image_segment segments[IMAGE_MAX_SEGMENTS];
    uint64_t lowest, highest; /* guest-physical span of the segments: [lowest, highest) */
    struct linux_setup linux_hdr; /* IMAGE_FORMAT_LINUX only */
};

struct image_module {
    const void *data;
    uint64_t size;
    const char *name; /* handed to the guest: Multiboot module string / tessera_start_module.name */
};

/* What only a Linux kernel takes. */
struct image_linux_args {
    const struct image_module *initrd; /* NULL: none */
    uint64_t acpi_rsdp_addr;           /* 0: none (the kernel then searches the BIOS areas) */
};

/* Recognises and checks the image (data, size). Returns 0 and fills *out, or a negative errno
 * (-ENOEXEC: not a usable image, -EINVAL: bad arguments) with a sentence in reason. */
int image_probe(const void *data, uint64_t size, struct image_info *out, char *reason,
                size_t reason_len);

/* Copies the probed image into the VM's RAM (ram: zeroed guest-physical [0, ram->size); every
 * write goes through guest_mem_range), places modules page-aligned after the image, writes the
 * page tables, GDT and start-info block the format needs, and fills *out. cmdline may be NULL.
 * linux_args (may be NULL) carries a Linux kernel's initrd and RSDP address; an initrd for any
 * other format is refused, as are modules for a Linux kernel.
 * Returns 0 or a negative errno (-ENOSPC: does not fit, -EINVAL: bad arguments) with a sentence
 * in reason; after a failure guest RAM holds partial contents and must not be run. */
int image_load(const struct image_info *info, const void *data, uint64_t size,
               const struct vcpu_memory *ram, const char *cmdline,
               const struct image_module *modules, unsigned module_count,
               const struct image_linux_args *linux_args, struct guest_boot_state *out,
               char *reason, size_t reason_len);

/* "ELF64", "Multiboot1 ELF32", "boot sector", "Linux bzImage", or "unknown". */
const char *image_format_name(uint32_t format);

#endif
