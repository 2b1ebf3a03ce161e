/* GDT, TSS and IDT; CPU identification; the deliberate-fault test switch. */
#include <tessera/arch.h>
#include <tessera/printf.h>
#include <tessera/string.h>
#include <x86/cpu.h>
#include <x86/desc.h>

#define GDT_ENTRIES 5 /* null, code, data, TSS (two slots) */

struct descriptor_pointer {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

struct idt_gate {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attr;
    uint16_t offset_mid;
    uint32_t offset_high;
    uint32_t reserved;
} __attribute__((packed));

struct cpu_tables {
    uint64_t gdt[GDT_ENTRIES];
    struct tss64 tss;
} __attribute__((aligned(64)));

static struct cpu_tables cpu_tables[X86_MAX_CPUS];
static uint8_t ist_stacks[X86_MAX_CPUS][3][X86_IST_STACK_SIZE] __attribute__((aligned(16)));
static struct idt_gate idt[256] __attribute__((aligned(16)));
static int idt_ready;

extern const uint64_t x86_trap_stubs[256];

static void idt_build(void)
{
    for (unsigned v = 0; v < 256; v++) {
        uint64_t a = x86_trap_stubs[v];
        uint8_t ist = 0;
        if (v == 8)
            ist = IST_DOUBLE_FAULT;
        else if (v == 2)
            ist = IST_NMI;
        else if (v == 18)
            ist = IST_MACHINE_CHECK;
        idt[v] = (struct idt_gate){
            .offset_low = (uint16_t)a,
            .selector = GDT_SEL_KERNEL_CODE,
            .ist = ist,
            .type_attr = 0x8e, /* present, DPL 0, 64-bit interrupt gate (IF cleared on entry) */
            .offset_mid = (uint16_t)(a >> 16),
            .offset_high = (uint32_t)(a >> 32),
        };
    }
    idt_ready = 1;
}

void x86_cpu_tables_init(unsigned cpu)
{
    if (cpu >= X86_MAX_CPUS)
        arch_halt_forever();
    struct cpu_tables *t = &cpu_tables[cpu];
    memset(t, 0, sizeof(*t));
    t->gdt[0] = 0;
    t->gdt[1] = 0x00af9a000000ffffULL; /* 0x08: present, DPL 0, code, L=1 */
    t->gdt[2] = 0x00cf92000000ffffULL; /* 0x10: present, DPL 0, data, writable, 4 GiB */
    for (unsigned i = 0; i < 3; i++)
        t->tss.ist[i] = (uint64_t)(uintptr_t)&ist_stacks[cpu][i][X86_IST_STACK_SIZE];
    t->tss.iomap_base = sizeof(struct tss64); /* no I/O bitmap */
    uint64_t base = (uint64_t)(uintptr_t)&t->tss;
    uint64_t limit = sizeof(struct tss64) - 1;
    /* 16-byte system descriptor: type 9 (available 64-bit TSS), present (SDM Vol. 3A 8.2.3). */
    t->gdt[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ULL << 40) |
                ((limit >> 16 & 0xf) << 48) | ((base >> 24 & 0xff) << 56);
    t->gdt[4] = base >> 32;

    if (!idt_ready)
        idt_build();

    struct descriptor_pointer gdtr = { sizeof(t->gdt) - 1, (uint64_t)(uintptr_t)t->gdt };
    struct descriptor_pointer idtr = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };
    __asm__ volatile("lgdt %0\n\t"
                     "pushq %[cs]\n\t"
                     "leaq 1f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t"
                     "lretq\n"
                     "1:\n\t"
                     "movw %w[ds], %%ax\n\t"
                     "movw %%ax, %%ds\n\t"
                     "movw %%ax, %%es\n\t"
                     "movw %%ax, %%ss\n\t"
                     "xorl %%eax, %%eax\n\t"
                     "movw %%ax, %%fs\n\t"
                     "movw %%ax, %%gs\n\t"
                     "movw %w[tr], %%ax\n\t"
                     "ltr %%ax\n\t"
                     "lidt %1"
                     :
                     : "m"(gdtr), "m"(idtr), [cs] "i"(GDT_SEL_KERNEL_CODE),
                       [ds] "r"(GDT_SEL_KERNEL_DATA), [tr] "r"(GDT_SEL_TSS)
                     : "rax", "memory");
}

void x86_cpu_control_init(void)
{
    /* OSFXSR: FXSAVE/FXRSTOR, which switch the guests' x87/SSE state, must include the XMM
     * registers (SDM Vol. 1 10.5.1: without it that part is implementation-specific). */
    write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
    /* XCR0 is not switched between guests: pin it to x87|SSE, exactly what FXSAVE covers, so no
     * guest can enable state (AVX, PKRU, ...) that would leak to the next one (SDM Vol. 1 13.3). */
    if (cpuid(1, 0).ecx & (1u << 26)) {
        write_cr4(read_cr4() | CR4_OSXSAVE);
        __asm__ volatile("xsetbv" : : "c"(0u), "a"(3u), "d"(0u));
    }
}

void arch_cpu_init(void)
{
    /* NE: native x87 error reporting, required by VMXON (CR0_FIXED0); WP: honour read-only pages
     * in ring 0. Neither changes anything for code running now. */
    write_cr0(read_cr0() | CR0_NE | CR0_WP);
    x86_cpu_control_init();
    x86_cpu_tables_init(0);
}

uint64_t x86_gdt_base(unsigned cpu)
{
    return cpu < X86_MAX_CPUS ? (uint64_t)(uintptr_t)cpu_tables[cpu].gdt : 0;
}

uint64_t x86_tss_base(unsigned cpu)
{
    return cpu < X86_MAX_CPUS ? (uint64_t)(uintptr_t)&cpu_tables[cpu].tss : 0;
}

uint64_t x86_idt_base(void)
{
    return (uint64_t)(uintptr_t)idt;
}

static void put_regs(char *dst, const struct cpuid_regs *r)
{
    memcpy(dst, &r->eax, 4);
    memcpy(dst + 4, &r->ebx, 4);
    memcpy(dst + 8, &r->ecx, 4);
    memcpy(dst + 12, &r->edx, 4);
}

void arch_cpu_describe(char *buf, unsigned len)
{
    if (!buf || len == 0)
        return;
    struct cpuid_regs r = cpuid(0, 0);
    char vendor[13];
    memcpy(vendor, &r.ebx, 4);
    memcpy(vendor + 4, &r.edx, 4);
    memcpy(vendor + 8, &r.ecx, 4);
    vendor[12] = '\0';

    char brand[49] = "";
    if (cpuid_max_ext_leaf() >= 0x80000004u) {
        for (unsigned i = 0; i < 3; i++) {
            struct cpuid_regs b = cpuid(0x80000002u + i, 0);
            put_regs(brand + 16 * i, &b);
        }
        brand[48] = '\0';
    }
    const char *b = brand;
    while (*b == ' ')
        b++;
    struct cpuid_regs f = cpuid(1, 0);
    unsigned family = (f.eax >> 8) & 0xf, model = (f.eax >> 4) & 0xf, stepping = f.eax & 0xf;
    if (family == 0xf)
        family += (f.eax >> 20) & 0xff;
    if (family == 0x6 || family >= 0xf)
        model |= ((f.eax >> 16) & 0xf) << 4;

    if (*b)
        ksnprintf(buf, len, "%s \"%s\" family 0x%x model 0x%x stepping %u", vendor, b, family,
                  model, stepping);
    else
        ksnprintf(buf, len, "%s family 0x%x model 0x%x stepping %u", vendor, family, model,
                  stepping);
}

void arch_trigger_fault(const char *kind)
{
    if (!kind)
        return;
    if (strcmp(kind, "ud") == 0) {
        __asm__ volatile("ud2");
    } else if (strcmp(kind, "pf") == 0) {
        /* Canonical, and far above anything a memory map reports: never mapped. */
        volatile uint64_t *p = (volatile uint64_t *)0x7dead0000000ULL;
        (void)*p;
    } else if (strcmp(kind, "gp") == 0) {
        volatile uint64_t *p = (volatile uint64_t *)0x8000000000000000ULL; /* non-canonical */
        (void)*p;
    } else if (strcmp(kind, "df") == 0) {
        /* #UD with an unmapped stack: delivering it faults (#PF), delivering that faults too,
         * so the CPU raises #DF, which runs on its own IST stack. */
        __asm__ volatile("movq $0x7dead0001000, %%rsp\n\tud2" : : : "memory");
    } else if (strcmp(kind, "de") == 0) {
        uint32_t zero = 0;
        __asm__ volatile("xorl %%edx, %%edx\n\t"
                         "movl $1, %%eax\n\t"
                         "divl %0"
                         :
                         : "r"(zero)
                         : "rax", "rdx");
    }
}

void arch_halt_forever(void)
{
    for (;;)
        __asm__ volatile("cli; hlt");
}
