/* How a guest image starts: the image loaders produce this, a vCPU backend (VMX now, SVM later)
 * turns it into its own register state. Vendor-neutral on purpose. */
#ifndef TESSERA_GUEST_BOOT_H
#define TESSERA_GUEST_BOOT_H

#include <stdint.h>

enum guest_cpu_mode {
    GUEST_MODE_REAL16 = 1, /* real mode, CS:IP given by cs_base/rip, like after a BIOS boot */
    GUEST_MODE_PROT32 = 2, /* flat 32-bit protected mode, paging off (Multiboot 1 state) */
    GUEST_MODE_LONG64 = 3, /* 64-bit long mode, paging on with cr3 */
};

struct guest_boot_state {
    uint32_t mode; /* enum guest_cpu_mode */
    uint64_t rip;
    uint64_t rsp;
    uint64_t rax, rbx, rcx, rdx, rsi, rdi;
    uint64_t cr3;            /* LONG64: guest-physical PML4 */
    uint64_t gdt_base;       /* guest-physical GDT the loader wrote (0 with limit 0: none) */
    uint16_t gdt_limit;
    uint16_t cs_selector;    /* REAL16: segment (base = sel << 4); else selector into the GDT */
    uint16_t ds_selector;
};

#endif
