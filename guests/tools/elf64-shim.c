/* elf64-shim: a test tool, not a guest. A 32-bit Multiboot kernel (linked at 32 MiB) that starts
 * an ELF64 guest, passed as the first module, in the state Tessera gives it (long mode, identity
 * map, GDT at 0x7000, struct tessera_start_info at 0x8000, RSP = 0x80000), so the 64-bit guests'
 * start path, library and non-hypercall code can be checked bare under QEMU:
 *   qemu-system-x86_64 -kernel elf64-shim.elf -initrd "spinner.elf iterations=5"
 * The module's command line (after the file name) becomes the guest's command line. */
#include <tessera/string.h>
#include "guest.h"
#include "multiboot.h"

#define SHIM_MEM_SIZE (64ull << 20) /* what the guest is told it has */
#define SHIM_BASE 0x2000000u        /* this shim; guest segments must stay below */
#define PML4_ADDR 0x1000u
#define PDPT_ADDR 0x2000u
#define PD_ADDR 0x3000u
#define GDT_ADDR 0x7000u
#define START_INFO_ADDR 0x8000u
#define CMDLINE_ADDR 0x9000u
#define CMDLINE_MAX 0x1000u

struct elf64_header {
    uint8_t ident[16];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

uint32_t shim_entry;

/* 64-bit landing pad: the same registers Tessera's ELF64 loader sets. */
__asm__(".section .text\n"
        ".code64\n"
        "shim_long_mode:\n"
        "    mov $0x10, %ax\n"
        "    mov %ax, %ds\n"
        "    mov %ax, %es\n"
        "    mov %ax, %ss\n"
        "    mov $0x80000, %esp\n"
        "    mov $0x8000, %edi\n"
        "    mov shim_entry(%rip), %eax\n"
        "    push $2\n"
        "    popf\n"
        "    jmp *%rax\n"
        ".code32\n"
        ".previous\n");

static int load_elf64(const uint8_t *image, uint32_t size)
{
    const struct elf64_header *eh = (const struct elf64_header *)image;
    if (size < sizeof(*eh) || memcmp(eh->ident, "\177ELF", 4) != 0 || eh->ident[4] != 2 ||
        eh->machine != 0x3e || eh->phentsize != sizeof(struct elf64_phdr) ||
        eh->phoff > size || (uint64_t)eh->phnum * sizeof(struct elf64_phdr) > size - eh->phoff) {
        guest_printf("shim: module is not a usable ELF64 x86-64 image\n");
        return -1;
    }
    const struct elf64_phdr *ph = (const struct elf64_phdr *)(image + eh->phoff);
    for (int i = 0; i < eh->phnum; i++) {
        if (ph[i].type != 1)
            continue;
        if (ph[i].paddr < 0x100000 || ph[i].memsz > SHIM_BASE ||
            ph[i].paddr + ph[i].memsz > SHIM_BASE || ph[i].filesz > ph[i].memsz ||
            ph[i].offset > size || ph[i].filesz > size - ph[i].offset) {
            guest_printf("shim: segment %d does not fit\n", i);
            return -1;
        }
        uint8_t *dst = (uint8_t *)(uintptr_t)ph[i].paddr;
        memcpy(dst, image + ph[i].offset, (size_t)ph[i].filesz);
        memset(dst + ph[i].filesz, 0, (size_t)(ph[i].memsz - ph[i].filesz));
    }
    if (eh->entry < 0x100000 || eh->entry >= SHIM_BASE) {
        guest_printf("shim: bad entry 0x%llx\n", (unsigned long long)eh->entry);
        return -1;
    }
    shim_entry = (uint32_t)eh->entry;
    return 0;
}

int multiboot_main(uint32_t magic, const struct multiboot_info *mbi)
{
    if (magic != MULTIBOOT_BOOT_MAGIC || !(mbi->flags & MULTIBOOT_INFO_MODS) ||
        mbi->mods_count < 1) {
        guest_printf("shim: need the ELF64 guest as the first module\n");
        return 1;
    }
    const struct multiboot_module *m = (const struct multiboot_module *)(uintptr_t)mbi->mods_addr;
    if (load_elf64((const uint8_t *)(uintptr_t)m->start, m->end - m->start) < 0)
        return 1;

    /* command line: the module string minus its first word (the file name) */
    const char *args = m->string ? (const char *)(uintptr_t)m->string : "";
    while (*args && *args != ' ')
        args++;
    while (*args == ' ')
        args++;
    str_copy((char *)CMDLINE_ADDR, args, CMDLINE_MAX);

    struct tessera_start_info *info = (struct tessera_start_info *)START_INFO_ADDR;
    memset(info, 0, sizeof(*info));
    info->magic = TESSERA_START_MAGIC;
    info->version = 1;
    info->mem_size = SHIM_MEM_SIZE;
    info->cmdline = CMDLINE_ADDR;

    /* identity-map the first GiB with 2 MiB pages (the shim itself must stay mapped) */
    uint64_t *pml4 = (uint64_t *)PML4_ADDR, *pdpt = (uint64_t *)PDPT_ADDR,
             *pd = (uint64_t *)PD_ADDR;
    memset(pml4, 0, 4096);
    memset(pdpt, 0, 4096);
    pml4[0] = PDPT_ADDR | 3;
    pdpt[0] = PD_ADDR | 3;
    for (uint32_t i = 0; i < 512; i++)
        pd[i] = ((uint64_t)i << 21) | 0x83;

    uint64_t *gdt = (uint64_t *)GDT_ADDR;
    gdt[0] = 0;
    gdt[1] = 0x00af9a000000ffffull; /* 64-bit code */
    gdt[2] = 0x00cf92000000ffffull; /* data */
    struct __attribute__((packed)) {
        uint16_t limit;
        uint32_t base;
    } gdtr = { 3 * 8 - 1, GDT_ADDR };

    guest_printf("shim: starting ELF64 guest at 0x%x cmdline=\"%s\"\n", shim_entry,
                 (const char *)CMDLINE_ADDR);
    serial_drain();
    /* PAE, CR3, EFER.LME, then paging on: long mode (SDM Vol. 3A 10.8.5) */
    __asm__ volatile("lgdt %0\n"
                     "mov %%cr4, %%eax\n"
                     "or $0x20, %%eax\n"
                     "mov %%eax, %%cr4\n"
                     "mov $0x1000, %%eax\n"
                     "mov %%eax, %%cr3\n"
                     "mov $0xc0000080, %%ecx\n"
                     "rdmsr\n"
                     "or $0x100, %%eax\n"
                     "wrmsr\n"
                     "mov %%cr0, %%eax\n"
                     "or $0x80000001, %%eax\n"
                     "mov %%eax, %%cr0\n"
                     "ljmp $0x08, $shim_long_mode\n"
                     :
                     : "m"(gdtr)
                     : "eax", "ecx", "edx", "memory");
    return 1;
}
