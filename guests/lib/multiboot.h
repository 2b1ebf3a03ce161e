/* Multiboot (version 1) as a kernel sees it: the header we carry and the info block the loader
 * (Tessera, GRUB's `multiboot`, QEMU -kernel) hands us in EBX. */
#ifndef GUEST_MULTIBOOT_H
#define GUEST_MULTIBOOT_H

#include <stddef.h>
#include <stdint.h>

#define MULTIBOOT_HEADER_MAGIC 0x1badb002u
#define MULTIBOOT_BOOT_MAGIC 0x2badb002u /* in EAX at entry */
#define MULTIBOOT_HEADER_PAGE_ALIGN (1u << 0) /* modules page-aligned */
#define MULTIBOOT_HEADER_MEMORY_INFO (1u << 1) /* we want mem_* and the memory map */

#define MULTIBOOT_INFO_MEMORY (1u << 0)
#define MULTIBOOT_INFO_BOOTDEV (1u << 1)
#define MULTIBOOT_INFO_CMDLINE (1u << 2)
#define MULTIBOOT_INFO_MODS (1u << 3)
#define MULTIBOOT_INFO_MMAP (1u << 6)
#define MULTIBOOT_INFO_LOADER_NAME (1u << 9)

struct multiboot_info {
    uint32_t flags;
    uint32_t mem_lower, mem_upper; /* KiB below 1 MiB, KiB above 1 MiB */
    uint32_t boot_device;
    uint32_t cmdline;
    uint32_t mods_count, mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length, mmap_addr;
    uint32_t drives_length, drives_addr;
    uint32_t config_table;
    uint32_t boot_loader_name;
} __attribute__((packed));

struct multiboot_mmap_entry {
    uint32_t size; /* of the rest of this entry; the next one starts size + 4 bytes later */
    uint64_t base;
    uint64_t length;
    uint32_t type; /* 1 = available RAM */
} __attribute__((packed));

struct multiboot_module {
    uint32_t start, end; /* [start, end) */
    uint32_t string;     /* the module's command line, 0 if none */
    uint32_t reserved;
};

/* Memory-map walker with bounds checks. Start with *offset = 0; returns the next entry or NULL at
 * the end; *error is set (and NULL returned) when an entry's size field is malformed. */
const struct multiboot_mmap_entry *multiboot_mmap_next(const struct multiboot_info *mbi,
                                                       uint32_t *offset, int *error);

/* The 32-bit guest's own main, called by lib/start32.c with the loader's EAX and EBX. The return
 * value becomes the exit status. guest_cmdline is already set when the info has one. */
int multiboot_main(uint32_t magic, const struct multiboot_info *mbi);

#endif
