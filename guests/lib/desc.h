/* Descriptor-table encodings for guests that build their own GDT, IDT and TSS (SDM Vol. 3A 3.4.5,
 * 6.14.1, 8.2.3). The hypervisor's arch/x86/include/x86/desc.h is not for guests: this is the
 * guest-side equivalent, for both 32- and 64-bit guests. */
#ifndef GUEST_DESC_H
#define GUEST_DESC_H

#include <stdint.h>

/* The operand of LGDT/LIDT: a 32-bit base in 32-bit code, a 64-bit one in 64-bit code. */
struct table_pointer {
    uint16_t limit;
    uintptr_t base;
} __attribute__((packed));

/* An 8-byte code, data or system segment descriptor: access is the type/S/DPL/P byte (e.g. 0x9a
 * ring-0 code, 0xf2 ring-3 data, 0x89 available TSS), flags the G/DB/L/AVL nibble. A constant
 * expression, so it can fill a static GDT. */
#define GDT_SEGMENT(base, limit, access, flags)                                                  \
    ((uint64_t)((limit) & 0xffff) | (uint64_t)((base) & 0xffffff) << 16 |                         \
     (uint64_t)((access) & 0xff) << 40 | (uint64_t)(((limit) >> 16) & 0xf) << 48 |                \
     (uint64_t)((flags) & 0xf) << 52 | (uint64_t)(((base) >> 24) & 0xff) << 56)

/* The 64-bit TSS (SDM Vol. 3A 8.7). */
struct tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
} __attribute__((packed));

/* A 64-bit available TSS takes two GDT slots: slot[0] like a segment, slot[1] base bits 63:32. */
static inline void gdt_set_tss64(uint64_t slot[2], uint64_t base, uint32_t limit)
{
    slot[0] = GDT_SEGMENT(base, limit, 0x89, 0);
    slot[1] = base >> 32;
}

/* A 16-byte long-mode IDT gate; type 0x8e is a present DPL-0 interrupt gate, 0xee a DPL-3 one. */
struct idt_gate64 {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t ist;
    uint8_t type;
    uint16_t offset_mid;
    uint32_t offset_high;
    uint32_t reserved;
} __attribute__((packed));

static inline struct idt_gate64 idt_gate64(uint64_t handler, uint16_t selector, uint8_t type)
{
    return (struct idt_gate64){
        .offset_low = (uint16_t)handler,
        .selector = selector,
        .type = type,
        .offset_mid = (uint16_t)(handler >> 16),
        .offset_high = (uint32_t)(handler >> 32),
    };
}

#endif
