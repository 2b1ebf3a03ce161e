/* The Linux/x86 boot protocol (Documentation/arch/x86/boot.rst, zero-page.rst): parsing a bzImage's
 * setup header, placing the kernel and its initrd, and building the zero page (struct
 * boot_params) with its e820 map. Pure code (host-tested); kernel/image/load.c writes the results
 * into guest RAM and starts the kernel at its 64-bit entry. */
#ifndef TESSERA_LINUX_BOOT_H
#define TESSERA_LINUX_BOOT_H

#include <stddef.h>
#include <stdint.h>

/* Setup header fields: offsets in the file and in the zero page (boot.rst, "The real-mode kernel
 * header"). */
#define LINUX_HDR_START 0x1f1u
#define LINUX_SETUP_SECTS 0x1f1u
#define LINUX_BOOT_FLAG 0x1feu /* 0xaa55 */
#define LINUX_JUMP 0x200u      /* the byte at 0x201 gives the header's end: 0x202 + it */
#define LINUX_HEADER_MAGIC 0x202u /* "HdrS" */
#define LINUX_VERSION 0x206u
#define LINUX_TYPE_OF_LOADER 0x210u
#define LINUX_LOADFLAGS 0x211u
#define LINUX_CODE32_START 0x214u
#define LINUX_RAMDISK_IMAGE 0x218u
#define LINUX_RAMDISK_SIZE 0x21cu
#define LINUX_CMD_LINE_PTR 0x228u
#define LINUX_INITRD_ADDR_MAX 0x22cu
#define LINUX_KERNEL_ALIGNMENT 0x230u
#define LINUX_RELOCATABLE 0x234u
#define LINUX_XLOADFLAGS 0x236u
#define LINUX_CMDLINE_SIZE 0x238u
#define LINUX_HARDWARE_SUBARCH 0x23cu
#define LINUX_SETUP_DATA 0x250u
#define LINUX_PREF_ADDRESS 0x258u
#define LINUX_INIT_SIZE 0x260u
#define LINUX_HDR_NEEDED 0x264u /* through init_size: what protocol 2.12 guarantees we read */
#define LINUX_HDR_LIMIT 0x290u  /* zero page: the header area ends where edd_mbr_sig_buffer starts */

/* Zero-page fields outside the setup header (zero-page.rst). */
#define LINUX_ZP_ACPI_RSDP_ADDR 0x070u
#define LINUX_ZP_EXT_RAMDISK_IMAGE 0x0c0u
#define LINUX_ZP_EXT_RAMDISK_SIZE 0x0c4u
#define LINUX_ZP_EXT_CMD_LINE_PTR 0x0c8u
#define LINUX_ZP_ALT_MEM_K 0x1e0u
#define LINUX_ZP_E820_ENTRIES 0x1e8u
#define LINUX_ZP_SENTINEL 0x1efu
#define LINUX_ZP_E820_TABLE 0x2d0u
#define LINUX_ZP_SIZE 0x1000u
#define LINUX_E820_MAX 128u
#define LINUX_E820_ENTRY_SIZE 20u

#define LINUX_MAGIC_HDRS 0x53726448u /* "HdrS" little-endian */
#define LINUX_PROTOCOL_MIN 0x020cu   /* 2.12: xloadflags, XLF_KERNEL_64 */
#define LINUX_PROTOCOL_RSDP 0x020eu  /* 2.14: acpi_rsdp_addr honoured */
#define LINUX_LOADED_HIGH 0x01u      /* loadflags bit 0: protected-mode code at 0x100000+ */
#define LINUX_CAN_USE_HEAP 0x80u     /* loadflags bit 7 */
#define LINUX_XLF_KERNEL_64 0x01u    /* xloadflags bit 0: 64-bit entry at load address + 0x200 */
#define LINUX_ENTRY64_OFFSET 0x200u
#define LINUX_TYPE_OF_LOADER_UNDEFINED 0xffu
#define LINUX_LOW_MIN 0x100000ULL    /* a bzImage's protected-mode part never goes below 1 MiB */

#define LINUX_E820_RAM 1u
#define LINUX_E820_RESERVED 2u
#define LINUX_E820_ACPI 3u

/* What the loader needs from a bzImage's setup header, checked by linux_parse_setup. */
struct linux_setup {
    uint16_t version;         /* boot protocol, 0x020f = 2.15 */
    uint8_t loadflags;
    uint8_t relocatable;
    uint16_t xloadflags;
    uint32_t kernel_alignment;
    uint32_t cmdline_size;    /* longest command line, terminating NUL not counted */
    uint32_t initrd_addr_max; /* highest address the initrd's last byte may have */
    uint32_t init_size;       /* bytes the kernel needs from its load address on */
    uint64_t pref_address;
    uint64_t header_end;      /* file offset where the setup header ends */
    uint64_t kernel_offset;   /* the protected-mode kernel: (setup_sects + 1) * 512 */
    uint64_t kernel_size;     /* its size in the file */
    uint64_t load_addr;       /* where we load it: pref_address, or aligned up for relocation */
};

/* 1 when the file carries a Linux setup header (boot flag 0xaa55 and "HdrS"): then it is a
 * Linux kernel, and linux_parse_setup says whether we can boot it. */
int linux_is_kernel(const uint8_t *data, uint64_t size);

/* Reads and checks the setup header of a bzImage we can start at its 64-bit entry: protocol
 * >= 2.12, XLF_KERNEL_64, loaded high, a protected-mode part that fits init_size, a load address
 * (pref_address, aligned up to kernel_alignment when relocatable) at or above 1 MiB whose
 * [load, load + init_size) stays below addr_limit. Returns 0 or -ENOEXEC with a sentence. */
int linux_parse_setup(const uint8_t *data, uint64_t size, uint64_t addr_limit,
                      struct linux_setup *out, char *reason, size_t reason_len);

/* Where the initrd goes: as high as allowed (below initrd_addr_max + 1, below usable_end, below
 * 4 GiB since ramdisk_image is 32 bits here), page-aligned, and above the kernel's
 * [load_addr, load_addr + init_size). size 0: no initrd, *addr = 0. Returns 0 or -ENOSPC. */
int linux_place_initrd(const struct linux_setup *s, uint64_t usable_end, uint64_t size,
                       uint64_t *addr, char *reason, size_t reason_len);

struct linux_e820_range {
    uint64_t addr, size;
    uint32_t type; /* LINUX_E820_* */
};

/* The VM's e820 map: [0, 640K) RAM, [640K, 1M) reserved, [1M, ram_size) RAM, with the carve-outs
 * (sorted by address, not overlapping, inside RAM) laid over them and equal neighbours merged.
 * Writes at most max entries; returns their number or -EINVAL / -ENOSPC. */
int linux_build_e820(struct linux_e820_range *out, unsigned max, uint64_t ram_size,
                     const struct linux_e820_range *carve, unsigned carve_count);

#define LINUX_MAX_CARVE 4

struct linux_zero_page_args {
    const uint8_t *image;      /* the bzImage, for its setup header */
    uint64_t image_size;
    const struct linux_setup *setup;
    uint64_t ram_size;
    uint64_t cmdline_addr;     /* guest-physical, 0: none */
    uint64_t initrd_addr, initrd_size;
    uint64_t acpi_rsdp_addr;   /* 0: none (the kernel then scans for one) */
    struct linux_e820_range carve[LINUX_MAX_CARVE]; /* reserved parts of RAM, sorted */
    unsigned carve_count;
};

/* Fills the 4 KiB zero page zp: the image's setup header (loader type 0xff, pointers to the
 * command line and initrd, setup_data cleared), acpi_rsdp_addr on protocol 2.14+, and the e820
 * map. Returns 0 or a negative errno with a sentence. */
int linux_build_zero_page(uint8_t *zp, const struct linux_zero_page_args *a, char *reason,
                          size_t reason_len);

#endif
