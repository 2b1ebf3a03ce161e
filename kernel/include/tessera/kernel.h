/* Entry into the generic kernel, shared by both boot paths. */
#ifndef TESSERA_KERNEL_H
#define TESSERA_KERNEL_H

#include <tessera/boot_info.h>

void kernel_main(struct boot_info *bi) __attribute__((noreturn));

#endif
