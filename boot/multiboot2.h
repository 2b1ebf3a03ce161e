/* Multiboot2 information block -> struct boot_info (pure, host-tested). */
#ifndef BOOT_MULTIBOOT2_H
#define BOOT_MULTIBOOT2_H

#include <stddef.h>
#include <stdint.h>
#include <tessera/boot_info.h>

#define MULTIBOOT2_BOOTLOADER_MAGIC 0x36d76289u

/* Fills bi from the info block at mbi. Copies everything it keeps (strings, the RSDP), so the
 * block may be overwritten afterwards; module contents stay where the loader put them.
 * Returns 0, or -EINVAL with a reason in err. */
int multiboot2_parse(uint32_t magic, const void *mbi, struct boot_info *bi, char *err, size_t err_len);

#endif
