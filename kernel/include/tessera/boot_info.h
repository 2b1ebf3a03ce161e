/* The one structure boot/ hands to kernel/. Both boot paths (Multiboot2 from GRUB, our own UEFI
 * loader) fill it; nothing after boot/ knows which firmware started us. Plain fixed-size data so the
 * UEFI loader (built with gnu-efi) can include this header too. */
#ifndef TESSERA_BOOT_INFO_H
#define TESSERA_BOOT_INFO_H

#include <stdint.h>

#define BOOT_INFO_MAGIC 0x3141524553534554ULL /* "TESSERA1" little-endian */
#define BOOT_INFO_VERSION 1

#define BOOT_MAX_MEM_REGIONS 256
#define BOOT_MAX_MODULES 32
#define BOOT_CMDLINE_MAX 512
#define BOOT_NAME_MAX 64

enum boot_path {
    BOOT_PATH_MULTIBOOT2 = 1, /* GRUB (or any Multiboot2 loader) */
    BOOT_PATH_UEFI = 2,       /* our BOOTX64.EFI */
};

enum boot_firmware {
    BOOT_FIRMWARE_BIOS = 1,
    BOOT_FIRMWARE_UEFI = 2,
};

/* Normalised memory types. Only BOOT_MEM_USABLE may ever be handed out by the page allocator. */
enum boot_mem_type {
    BOOT_MEM_USABLE = 1,       /* free RAM (UEFI conventional + boot services after exit) */
    BOOT_MEM_RESERVED = 2,     /* firmware / unknown: never touch */
    BOOT_MEM_ACPI_RECLAIM = 3, /* ACPI tables */
    BOOT_MEM_ACPI_NVS = 4,
    BOOT_MEM_BAD = 5,
    BOOT_MEM_LOADER = 6,       /* loader code/data: boot info, loaded files live here */
    BOOT_MEM_FIRMWARE = 7,     /* UEFI runtime services code/data */
    BOOT_MEM_MMIO = 8,
};

struct boot_mem_region {
    uint64_t base;
    uint64_t length;
    uint32_t type; /* enum boot_mem_type */
    uint32_t reserved;
};

/* A file handed to us: the config, a guest image, a guest module. */
struct boot_module {
    uint64_t addr; /* physical, identity-mapped */
    uint64_t size;
    char name[BOOT_NAME_MAX]; /* file name without directories, NUL-terminated */
};

enum boot_fb_type {
    BOOT_FB_NONE = 0,
    BOOT_FB_RGB = 1,      /* direct colour, 32 bpp expected */
    BOOT_FB_EGA_TEXT = 2, /* VGA text mode (BIOS): width x height character cells, 2 bytes each */
};

struct boot_framebuffer {
    uint64_t addr;
    uint32_t width, height;
    uint32_t pitch; /* bytes per scan line */
    uint8_t bpp;
    uint8_t type; /* enum boot_fb_type */
    uint8_t red_pos, red_size;
    uint8_t green_pos, green_size;
    uint8_t blue_pos, blue_size;
};

struct boot_info {
    uint64_t magic;   /* BOOT_INFO_MAGIC */
    uint32_t version; /* BOOT_INFO_VERSION */
    uint32_t path;    /* enum boot_path */
    uint32_t firmware; /* enum boot_firmware */
    uint32_t rsdp_revision;
    uint64_t rsdp; /* physical address of the ACPI RSDP, 0 if none */
    /* Multiboot2 hands us a copy of the RSDP inside its info block, which we do not keep: the copy
     * lives here and rsdp points at it. The UEFI loader points rsdp at the firmware's table. */
    uint8_t rsdp_copy[64];
    uint32_t rsdp_len; /* bytes of rsdp_copy filled; 0 when rsdp is the firmware's own table */
    char loader_name[BOOT_NAME_MAX];
    char cmdline[BOOT_CMDLINE_MAX];

    uint32_t mem_region_count;
    uint32_t module_count;
    struct boot_mem_region mem[BOOT_MAX_MEM_REGIONS];
    struct boot_module modules[BOOT_MAX_MODULES];

    struct boot_framebuffer fb;
};

#endif
