/* attacker: tries one escape per run, chosen by cmdline attack=NAME (see guests/README.md). The
 * hypervisor is expected to stop the VM (or refuse the call); if an attack "succeeds" we print
 * "attacker: ESCAPED ..." and exit 99. Exit 0 = the attack was refused in a way the guest could
 * observe (error codes, failed VMXON); exit 3 = it was stopped by an exception delivered to us. */
#include <tessera/errno.h>
#include <tessera/string.h>
#include "attack.h"
#include "desc.h"
#include "guest.h"
#include "start64.h"

#define ESCAPED 99
#define BLOCKED_BY_EXCEPTION 3
#define BAD_CMDLINE 2

#define MIB (1024ull * 1024)
#define HV_LOAD_ADDR 0x200000ull      /* where the hypervisor lives in host-physical memory */
#define MB2_HEADER_MAGIC 0xe85250d6u  /* its Multiboot2 header, searched in the first 32 KiB */
#define LAPIC_VERSION_REG 0xfee00030ull

/* ---- our own page tables: identity-map 0-4 GiB, plus a 2 MiB window at 512 GiB that can point
 * at any physical address. The loader's tables map only our RAM, so without these an access
 * outside RAM would be a guest #PF instead of reaching the hypervisor's EPT. ---- */
#define PTE_P 0x1ull
#define PTE_RW 0x2ull
#define PTE_US 0x4ull /* ring 3 may use it (attack=ring3) */
#define PTE_PS 0x80ull
#define PAGE_2M (2 * MIB)
#define WINDOW_VA 0x8000000000ull /* PML4 slot 1 */

static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt_low[512] __attribute__((aligned(4096)));
static uint64_t pd_low[4][512] __attribute__((aligned(4096)));
static uint64_t pdpt_window[512] __attribute__((aligned(4096)));
static uint64_t pd_window[512] __attribute__((aligned(4096)));

static void paging_setup(bool user)
{
    uint64_t us = user ? PTE_US : 0;
    for (int i = 0; i < 4; i++) {
        pdpt_low[i] = (uintptr_t)pd_low[i] | PTE_P | PTE_RW | us;
        for (int j = 0; j < 512; j++)
            pd_low[i][j] = ((uint64_t)i * 512 + j) * PAGE_2M | PTE_P | PTE_RW | PTE_PS | us;
    }
    pdpt_window[0] = (uintptr_t)pd_window | PTE_P | PTE_RW;
    pml4[0] = (uintptr_t)pdpt_low | PTE_P | PTE_RW | us;
    pml4[1] = (uintptr_t)pdpt_window | PTE_P | PTE_RW;
    __asm__ volatile("mov %0, %%cr3" : : "r"((uintptr_t)pml4) : "memory");
}

/* Maps the 2 MiB page holding phys at the window and returns phys's virtual address there. */
static volatile uint64_t *window_map(uint64_t phys)
{
    pd_window[0] = (phys & ~(PAGE_2M - 1)) | PTE_P | PTE_RW | PTE_PS;
    __asm__ volatile("invlpg (%0)" : : "r"(WINDOW_VA) : "memory");
    return (volatile uint64_t *)(uintptr_t)(WINDOW_VA + (phys & (PAGE_2M - 1) & ~7ull));
}

/* ---- an IDT that reports every exception (vectors 0-31) ---- */
/* What isr_common leaves on the stack, lowest address first. */
struct exception_frame {
    uint64_t r11, r10, r9, r8, rdi, rsi, rdx, rcx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss;
};

/* 32 stubs, 16 bytes apart: push a dummy error code where the CPU pushes none (all but 8, 10-14,
 * 17, 21, 29, 30), push the vector, and share one body that can return with iretq. */
__asm__(".section .text\n"
        ".macro isr_stub vec, has_error\n"
        "    .balign 16\n"
        "    .if \\has_error == 0\n"
        "    pushq $0\n"
        "    .endif\n"
        "    pushq $\\vec\n"
        "    jmp isr_common\n"
        ".endm\n"
        ".balign 16\n"
        "isr_stubs:\n"
        "    isr_stub 0,0\n isr_stub 1,0\n isr_stub 2,0\n isr_stub 3,0\n"
        "    isr_stub 4,0\n isr_stub 5,0\n isr_stub 6,0\n isr_stub 7,0\n"
        "    isr_stub 8,1\n isr_stub 9,0\n isr_stub 10,1\n isr_stub 11,1\n"
        "    isr_stub 12,1\n isr_stub 13,1\n isr_stub 14,1\n isr_stub 15,0\n"
        "    isr_stub 16,0\n isr_stub 17,1\n isr_stub 18,0\n isr_stub 19,0\n"
        "    isr_stub 20,0\n isr_stub 21,1\n isr_stub 22,0\n isr_stub 23,0\n"
        "    isr_stub 24,0\n isr_stub 25,0\n isr_stub 26,0\n isr_stub 27,0\n"
        "    isr_stub 28,0\n isr_stub 29,1\n isr_stub 30,1\n isr_stub 31,0\n"
        "isr_common:\n"
        "    push %rax\n push %rcx\n push %rdx\n push %rsi\n push %rdi\n"
        "    push %r8\n push %r9\n push %r10\n push %r11\n"
        "    mov %rsp, %rdi\n"
        "    cld\n"
        "    call attacker_exception\n"
        "    pop %r11\n pop %r10\n pop %r9\n pop %r8\n"
        "    pop %rdi\n pop %rsi\n pop %rdx\n pop %rcx\n pop %rax\n"
        "    add $16, %rsp\n"
        "    iretq\n"
        ".global isr_stubs\n"
        ".previous\n");
extern const char isr_stubs[];

static struct idt_gate64 idt[0x81] __attribute__((aligned(16))); /* 0-31, and 0x80 for ring3 */
static bool storm_mode;
static uint64_t storm_count, storm_limit;

static void idt_install(void)
{
    uint16_t cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    for (int v = 0; v < 32; v++) {
        uint64_t handler = (uintptr_t)isr_stubs + 16 * (uint64_t)v;
        idt[v] = idt_gate64(handler, cs, 0x8e);
    }
    struct table_pointer p = { sizeof(idt) - 1, (uintptr_t)idt };
    __asm__ volatile("lidt %0" : : "m"(p) : "memory");
}

void attacker_exception(struct exception_frame *f);

void attacker_exception(struct exception_frame *f)
{
    if (storm_mode && f->vector == 6) {
        /* return straight to the same ud2: the storm goes on until someone stops it */
        storm_count++;
        if (storm_limit && storm_count >= storm_limit) {
            guest_printf("attacker: exception storm: %llu exceptions taken, nobody stopped us\n",
                         (unsigned long long)storm_count);
            guest_exit(1);
        }
        return;
    }
    uint64_t cr2;
    __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
    guest_printf("attacker: exception vector=%llu error=0x%llx rip=0x%llx cr2=0x%llx\n",
                 (unsigned long long)f->vector, (unsigned long long)f->error,
                 (unsigned long long)f->rip, (unsigned long long)cr2);
    guest_printf("attacker: blocked by an exception\n");
    guest_exit(BLOCKED_BY_EXCEPTION);
}

/* ---- the attacks ---- */
static uint64_t outside_address(void)
{
    uint64_t addr;
    int rc = cmdline_get_u64(guest_cmdline, "addr", &addr);
    if (rc == 0)
        return addr;
    return guest_mem_size ? guest_mem_size + MIB : 0x40000000ull;
}

static int attack_read_outside(void)
{
    uint64_t addr = outside_address();
    guest_printf("attacker: reading gpa=0x%llx (RAM ends at 0x%llx)\n", (unsigned long long)addr,
                 (unsigned long long)guest_mem_size);
    uint64_t value = *window_map(addr);
    guest_printf("attacker: ESCAPED read gpa=0x%llx value=0x%016llx\n", (unsigned long long)addr,
                 (unsigned long long)value);
    return ESCAPED;
}

static int attack_write_outside(void)
{
    uint64_t addr = outside_address();
    guest_printf("attacker: writing gpa=0x%llx (RAM ends at 0x%llx)\n", (unsigned long long)addr,
                 (unsigned long long)guest_mem_size);
    volatile uint64_t *p = window_map(addr);
    *p = 0x2154434152544e45ull;
    uint64_t back = *p;
    guest_printf("attacker: ESCAPED wrote gpa=0x%llx read back 0x%016llx\n",
                 (unsigned long long)addr, (unsigned long long)back);
    return ESCAPED;
}

/* Looks for a valid Multiboot2 header (magic, arch, length, checksum summing to 0) in the first
 * 32 KiB at phys, 8-byte aligned as the spec requires. */
static bool find_mb2_header(uint64_t phys, uint64_t *found_at)
{
    for (uint64_t off = 0; off < 32768; off += 8) {
        volatile uint32_t *h = (volatile uint32_t *)window_map(phys + off);
        if (h[0] == MB2_HEADER_MAGIC && (uint32_t)(h[0] + h[1] + h[2] + h[3]) == 0) {
            *found_at = phys + off;
            return true;
        }
    }
    return false;
}

static int attack_read_hv(void)
{
    guest_printf("attacker: reading gpa=0x%llx where the hypervisor sits in host memory\n",
                 (unsigned long long)HV_LOAD_ADDR);
    uint64_t first = *window_map(HV_LOAD_ADDR);
    uint64_t at;
    bool mb2 = find_mb2_header(HV_LOAD_ADDR, &at);
    guest_printf("attacker: read_hv gpa=0x%llx first=0x%016llx mb2_header=%s\n",
                 (unsigned long long)HV_LOAD_ADDR, (unsigned long long)first, mb2 ? "yes" : "no");
    if (mb2) {
        guest_printf("attacker: ESCAPED hypervisor Multiboot2 header visible at gpa=0x%llx\n",
                     (unsigned long long)at);
        return ESCAPED;
    }
    guest_printf("attacker: read_hv sees only its own RAM at 0x%llx\n",
                 (unsigned long long)HV_LOAD_ADDR);

    uint64_t target;
    int rc = cmdline_get_u64(guest_cmdline, "target", &target);
    if (rc == -ENOENT)
        return 0;
    if (rc < 0) {
        guest_printf("attacker: bad target= value\n");
        return BAD_CMDLINE;
    }
    bool inside = guest_mem_size && target < guest_mem_size;
    guest_printf("attacker: reading target gpa=0x%llx (%s own RAM)\n", (unsigned long long)target,
                 inside ? "inside" : "outside");
    volatile uint64_t *p = window_map(target);
    uint64_t v0 = p[0], v1 = p[1];
    guest_printf("attacker: read_hv target=0x%llx value=0x%016llx 0x%016llx\n",
                 (unsigned long long)target, (unsigned long long)v0, (unsigned long long)v1);
    if (!inside) {
        guest_printf("attacker: ESCAPED read outside RAM at target=0x%llx\n",
                     (unsigned long long)target);
        return ESCAPED;
    }
    guest_printf("attacker: read_hv target lies in own RAM: saw own memory only\n");
    return 0;
}

static int attack_mmio(void)
{
    guest_printf("attacker: reading the local APIC at gpa=0x%llx\n",
                 (unsigned long long)LAPIC_VERSION_REG);
    volatile uint32_t *reg = (volatile uint32_t *)window_map(LAPIC_VERSION_REG);
    uint32_t value = reg[0];
    guest_printf("attacker: ESCAPED local APIC readable, version register=0x%08x\n", value);
    return ESCAPED;
}

static int attack_cli_spin(void)
{
    guest_printf("attacker: interrupts off, spinning forever\n");
    __asm__ volatile("cli");
    for (;;)
        __asm__ volatile("pause" : : : "memory");
    __builtin_unreachable();
}

static uint8_t vmxon_region[4096] __attribute__((aligned(4096)));

static int attack_vmxon(void)
{
    uint64_t cr4;
    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    guest_printf("attacker: setting CR4.VMXE (cr4=0x%llx)\n", (unsigned long long)cr4);
    cr4 |= 1ull << 13;
    __asm__ volatile("mov %0, %%cr4" : : "r"(cr4) : "memory");
    guest_printf("attacker: executing VMXON\n");
    uint64_t region = (uintptr_t)vmxon_region;
    uint8_t failed_invalid, failed_valid;
    __asm__ volatile("vmxon %2\n"
                     "setc %0\n"
                     "setz %1\n"
                     : "=r"(failed_invalid), "=r"(failed_valid)
                     : "m"(region)
                     : "cc", "memory");
    if (!failed_invalid && !failed_valid) {
        guest_printf("attacker: ESCAPED VMXON succeeded inside a guest\n");
        return ESCAPED;
    }
    guest_printf("attacker: VMXON failed (CF=%u ZF=%u)\n", failed_invalid, failed_valid);
    return 0;
}

/* plant / snoop: state the VMCS does not switch (x87/SSE registers, CR2, DR0-DR3, the SYSCALL
 * and KERNEL_GS_BASE MSRs) must follow each VM. "plant" fills it with a marker and checks, across
 * many yields, that it keeps its own values; "snoop" runs next to it and must never see the
 * marker. */
#define LEAK_MARKER 0x00005eed5eed5000ull /* canonical, so the MSRs accept it */
#define LEAK_ROUNDS 50 /* default for rounds= */
#define PLANT_DR7 0x401u /* L0: execution breakpoint on DR0 */
#define MSR_STAR 0xc0000081u
#define MSR_LSTAR 0xc0000082u
#define MSR_KERNEL_GS_BASE 0xc0000102u

static void enable_sse(void)
{
    uint64_t cr0, cr4;
    __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
    __asm__ volatile("mov %0, %%cr0" : : "r"((cr0 & ~(1ull << 2)) | (1ull << 1)) : "memory");
    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    __asm__ volatile("mov %0, %%cr4" : : "r"(cr4 | (1ull << 9) | (1ull << 10)) : "memory");
}

struct leak_view {
    uint64_t xmm0, xmm15, cr2, dr0, dr3, star, lstar, kernel_gs;
};

static void leak_read(struct leak_view *v)
{
    __asm__ volatile("movq %%xmm0, %0" : "=r"(v->xmm0));
    __asm__ volatile("movq %%xmm15, %0" : "=r"(v->xmm15));
    __asm__ volatile("mov %%cr2, %0" : "=r"(v->cr2));
    __asm__ volatile("mov %%dr0, %0" : "=r"(v->dr0));
    __asm__ volatile("mov %%dr3, %0" : "=r"(v->dr3));
    v->star = rdmsr(MSR_STAR);
    v->lstar = rdmsr(MSR_LSTAR);
    v->kernel_gs = rdmsr(MSR_KERNEL_GS_BASE);
}

/* Names the first register holding the marker (want_marker) or not holding it (!want_marker). */
static const char *leak_check(const struct leak_view *v, bool want_marker)
{
    const struct {
        const char *name;
        uint64_t value;
    } regs[] = {
        { "xmm0", v->xmm0 }, { "xmm15", v->xmm15 }, { "cr2", v->cr2 }, { "dr0", v->dr0 },
        { "dr3", v->dr3 },   { "star", v->star },   { "lstar", v->lstar },
        { "kernel_gs_base", v->kernel_gs },
    };
    for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
        if ((regs[i].value == LEAK_MARKER) != want_marker)
            return regs[i].name;
    return NULL;
}

static uint64_t leak_rounds(void)
{
    uint64_t rounds = LEAK_ROUNDS;
    if (cmdline_u64_option("attacker", guest_cmdline, "rounds", LEAK_ROUNDS, 1, 1000000, &rounds) < 0)
        return 0;
    return rounds;
}

static int attack_plant(void)
{
    uint64_t rounds = leak_rounds();
    if (!rounds)
        return BAD_CMDLINE;
    enable_sse();
    uint64_t m = LEAK_MARKER;
    __asm__ volatile("movq %0, %%xmm0\n\tmovq %0, %%xmm15" : : "r"(m));
    __asm__ volatile("mov %0, %%cr2" : : "r"(m));
    __asm__ volatile("mov %0, %%dr0\n\tmov %0, %%dr3" : : "r"(m));
    wrmsr(MSR_STAR, m);
    wrmsr(MSR_LSTAR, m);
    wrmsr(MSR_KERNEL_GS_BASE, m);
    /* DR7 lives in the VMCS: a breakpoint armed on DR0 (an address never executed) must stay
     * armed across exits */
    __asm__ volatile("mov %0, %%dr7" : : "r"((uint64_t)PLANT_DR7));
    guest_printf("attacker: planted 0x%llx in xmm0, xmm15, cr2, dr0, dr3, star, lstar, "
                 "kernel_gs_base; dr7=0x%x\n", (unsigned long long)m, PLANT_DR7);
    for (unsigned round = 0; round < rounds; round++) {
        tessera_yield();
        struct leak_view v;
        leak_read(&v);
        const char *lost = leak_check(&v, true);
        uint64_t dr7;
        __asm__ volatile("mov %%dr7, %0" : "=r"(dr7));
        if (!lost && dr7 != PLANT_DR7)
            lost = "dr7";
        if (lost) {
            guest_printf("attacker: own %s lost after %u yields\n", lost, round + 1);
            return 1;
        }
    }
    guest_printf("attacker: own state kept across %llu yields\n", (unsigned long long)rounds);
    return 0;
}

static int attack_snoop(void)
{
    uint64_t rounds = leak_rounds();
    if (!rounds)
        return BAD_CMDLINE;
    enable_sse();
    for (unsigned round = 0; round < rounds; round++) {
        tessera_yield();
        struct leak_view v;
        leak_read(&v);
        const char *seen = leak_check(&v, false);
        if (seen) {
            guest_printf("attacker: ESCAPED saw another VM's %s after %u yields\n", seen, round + 1);
            return ESCAPED;
        }
    }
    guest_printf("attacker: no other VM's state seen in %llu rounds\n", (unsigned long long)rounds);
    return 0;
}

/* ICEBP (INT1): a #DB that is a privileged software exception; the guest's own handler must get
 * it, past the instruction. */
static int attack_icebp(void)
{
    guest_printf("attacker: executing ICEBP (INT1)\n");
    __asm__ volatile(".byte 0xf1" : : : "memory");
    guest_printf("attacker: ICEBP returned without a #DB\n");
    return 1;
}

/* VMPTRLD without touching CR4: in VMX non-root operation it always exits (SDM Vol. 3C 25.1.3),
 * so the hypervisor must stop the VM; returning here at all is an escape. */
static int attack_vmptrld(void)
{
    uint64_t region = (uintptr_t)vmxon_region;
    guest_printf("attacker: executing VMPTRLD\n");
    __asm__ volatile("vmptrld %0" : : "m"(region) : "cc", "memory");
    guest_printf("attacker: ESCAPED VMPTRLD returned inside a guest\n");
    return ESCAPED;
}

/* marker=1: proves RAM is zeroed between lives of a restarted VM. A marker written by an earlier
 * life must never be visible to the next one. */
#define MARKER_ADDR 0x300000ul
#define MARKER_MAGIC 0x4d41524b45523a29ull /* "):REKRAM" */

static int check_and_leave_marker(void)
{
    volatile uint64_t *marker = (volatile uint64_t *)MARKER_ADDR;
    if (guest_mem_size && MARKER_ADDR + sizeof(*marker) > guest_mem_size) {
        guest_printf("attacker: marker address 0x%lx is outside RAM\n", MARKER_ADDR);
        return BAD_CMDLINE;
    }
    bool present = *marker == MARKER_MAGIC;
    guest_printf("attacker: marker from an earlier life: %s\n", present ? "PRESENT" : "absent");
    *marker = MARKER_MAGIC;
    if (present) {
        guest_printf("attacker: ESCAPED data survived a restart\n");
        return ESCAPED;
    }
    return 0;
}

/* XSETBV although CPUID hides XSAVE. A CPU without XSAVE refuses CR4.OSXSAVE with #GP, and
 * XSETBV is #UD without it (that #UD has priority over the VM exit, SDM 26.1.1), so the
 * hypervisor's unhandled XSETBV exit is out of reach: the attack ends in our #GP handler (exit 3). */
static int attack_xsetbv(void)
{
    uint64_t cr4;
    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    cr4 |= 1ull << 18; /* OSXSAVE */
    guest_printf("attacker: setting CR4.OSXSAVE\n");
    __asm__ volatile("mov %0, %%cr4" : : "r"(cr4) : "memory");
    guest_printf("attacker: executing XSETBV (XCR0 = x87 only)\n");
    __asm__ volatile("xsetbv" : : "a"(1u), "d"(0u), "c"(0u) : "memory");
    guest_printf("attacker: ESCAPED XSETBV returned\n");
    return ESCAPED;
}

static char long_buffer[TESSERA_HC_CONSOLE_MAX + 64];

struct bad_call {
    const char *name;
    unsigned long nr, a1, a2;
};

static int attack_vmcall_bad(void)
{
    if (!tessera_detect(NULL, NULL)) {
        guest_printf("attacker: not running under Tessera, VMCALL would #UD\n");
        return 1;
    }
    memset(long_buffer, 'x', sizeof(long_buffer));
    long_buffer[sizeof(long_buffer) - 1] = '\n';
    unsigned long ram_end = guest_mem_size ? guest_mem_size : 0x40000000ul;
    unsigned long buf = (uintptr_t)long_buffer;
    const struct bad_call calls[] = {
        { "unknown_0", 0, 0, 0 },
        { "unknown_7", 7, 0, 0 },
        { "unknown_0xffff", 0xffff, 0, 0 },
        { "unknown_all_ones", ~0ul, 0, 0 },
        /* the low 32 bits say CONSOLE_WRITE: a hypervisor that truncates RAX would print */
        { "unknown_high_bits", 0x100000000ul | TESSERA_HC_CONSOLE_WRITE, buf, 16 },
        { "write_past_ram", TESSERA_HC_CONSOLE_WRITE, ram_end, 16 },
        { "write_straddling_ram_end", TESSERA_HC_CONSOLE_WRITE, ram_end - 8, 16 },
        { "write_far_outside", TESSERA_HC_CONSOLE_WRITE, 0x4000000000ul, 16 },
        { "write_wrapping", TESSERA_HC_CONSOLE_WRITE, ~0ul - 15, 32 },
        { "write_lapic_mmio", TESSERA_HC_CONSOLE_WRITE, 0xfee00000ul, 16 },
        { "write_too_long", TESSERA_HC_CONSOLE_WRITE, buf, TESSERA_HC_CONSOLE_MAX + 1 },
        { "write_huge_length", TESSERA_HC_CONSOLE_WRITE, buf, ~0ul },
        /* a timer so far ahead that HLT would sleep past any time_limit */
        { "timer_too_far", TESSERA_HC_SET_TIMER, ~0ul >> 1, 0 },
    };
    int accepted = 0;
    for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
        const struct bad_call *c = &calls[i];
        long rc = tessera_hypercall(c->nr, c->a1, c->a2, 0, NULL);
        guest_printf("attacker: vmcall %s nr=0x%lx a1=0x%lx a2=0x%lx rc=%ld %s\n", c->name,
                     c->nr, c->a1, c->a2, rc, rc < 0 ? "refused" : "ACCEPTED");
        if (rc >= 0)
            accepted++;
    }
    /* the hypervisor must still work normally after all that */
    static const char ok_line[] = "attacker: console_write still works\n";
    long rc = tessera_console_write(ok_line, sizeof(ok_line) - 1);
    guest_printf("attacker: vmcall valid_write rc=%ld\n", rc);
    if (accepted) {
        guest_printf("attacker: ESCAPED %d malformed hypercalls were accepted\n", accepted);
        return ESCAPED;
    }
    if (rc != (long)(sizeof(ok_line) - 1)) {
        guest_printf("attacker: valid CONSOLE_WRITE failed after the malformed ones\n");
        return 1;
    }
    guest_printf("attacker: all malformed hypercalls refused\n");
    return 0;
}

static int attack_triple_fault(void)
{
    guest_printf("attacker: loading an empty IDT and dividing by zero\n");
    struct table_pointer empty = { 0, 0 };
    __asm__ volatile("lidt %0\n"
                     "xor %%ecx, %%ecx\n"
                     "div %%ecx\n"
                     :
                     : "m"(empty)
                     : "rax", "rcx", "rdx", "memory");
    guest_printf("attacker: ESCAPED still running after a triple fault\n");
    return ESCAPED;
}

static int attack_exception_storm(void)
{
    uint64_t limit;
    if (cmdline_u64_option("attacker", guest_cmdline, "limit", 0, 0, UINT64_MAX, &limit) < 0)
        return BAD_CMDLINE;
    storm_limit = limit;
    storm_mode = true;
    guest_printf("attacker: #UD handler returns to the faulting ud2, forever (limit=%llu)\n",
                 (unsigned long long)limit);
    for (;;)
        __asm__ volatile("ud2" : : : "memory");
    __builtin_unreachable();
}

static int attack_ud(void)
{
    guest_printf("attacker: executing ud2 with no IDT of our own\n");
    __asm__ volatile("ud2" : : : "memory");
    guest_printf("attacker: ESCAPED returned from #UD without an IDT\n");
    return ESCAPED;
}

/* ---- attack=ring3: hypercalls from CPL 3. A GDT with DPL-3 segments, a TSS whose RSP0 brings
 * interrupts back to ring 0 (SDM Vol. 3A 8.7), IRETQ down to ring 3; ring 3 tries CONSOLE_WRITE
 * of kernel memory and EXIT, and comes back through the DPL-3 gate 0x80. ---- */
#define GDT64_KCODE 0x00af9a000000ffffull
#define GDT64_KDATA 0x00cf92000000ffffull
#define GDT64_UCODE 0x00affa000000ffffull /* DPL 3, L = 1 */
#define GDT64_UDATA 0x00cff2000000ffffull /* DPL 3 */

static struct tss64 tss;
static uint64_t gdt[7] __attribute__((aligned(16))); /* null, 4 segments, the 16-byte TSS */
static uint8_t ring0_stack[4096] __attribute__((aligned(16)));
uint64_t ring0_saved_rsp;

/* enter_ring3(rip, rsp): saves the callee-saved registers and RSP and IRETQs to ring 3; gate 0x80
 * lands in ring3_return, which resumes as if enter_ring3 returned. */
__asm__(".section .text\n"
        ".global enter_ring3\n"
        "enter_ring3:\n"
        "    push %rbx\n push %rbp\n push %r12\n push %r13\n push %r14\n push %r15\n"
        "    mov %rsp, ring0_saved_rsp(%rip)\n"
        "    pushq $0x23\n" /* SS */
        "    push %rsi\n"   /* RSP */
        "    pushq $0x2\n"  /* RFLAGS: IF = 0, IOPL = 0 */
        "    pushq $0x1b\n" /* CS */
        "    push %rdi\n"   /* RIP */
        "    iretq\n"
        ".global ring3_return\n"
        "ring3_return:\n"
        "    mov ring0_saved_rsp(%rip), %rsp\n"
        "    mov $0x10, %eax\n"
        "    mov %eax, %ds\n mov %eax, %es\n mov %eax, %ss\n"
        "    pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbp\n pop %rbx\n"
        "    ret\n"
        ".previous\n");
void enter_ring3(uintptr_t rip, uintptr_t rsp);
extern const char ring3_return[];

static void ring3_tables_install(void)
{
    gdt[1] = GDT64_KCODE;
    gdt[2] = GDT64_KDATA;
    gdt[3] = GDT64_UCODE;
    gdt[4] = GDT64_UDATA;
    gdt_set_tss64(&gdt[5], (uintptr_t)&tss, sizeof(tss) - 1);
    tss.rsp[0] = (uintptr_t)(ring0_stack + sizeof(ring0_stack));
    tss.iomap_base = sizeof(tss); /* no I/O permission bitmap: ring 3 gets no ports */
    struct table_pointer g = { sizeof(gdt) - 1, (uintptr_t)gdt };
    __asm__ volatile("lgdt %0\n"
                     "pushq $0x08\n"
                     "lea 1f(%%rip), %%rax\n"
                     "push %%rax\n"
                     "lretq\n"
                     "1: mov $0x10, %%eax\n"
                     "mov %%eax, %%ds\n mov %%eax, %%es\n mov %%eax, %%ss\n"
                     "mov $0x28, %%eax\n ltr %%ax\n"
                     :
                     : "m"(g)
                     : "rax", "memory");
    uint64_t handler = (uintptr_t)ring3_return;
    idt[0x80] = idt_gate64(handler, 0x08, 0xee); /* present, DPL 3, 64-bit interrupt gate */
}

static int attack_ring3(void)
{
    if (!ring3_probe_possible("attacker"))
        return 1;
    paging_setup(true); /* the loader's page tables are supervisor-only */
    ring3_tables_install();
    return ring3_probe_run("attacker", enter_ring3);
}

/* Both vendors' hypercall instructions: VMCALL (Intel) and VMMCALL (AMD). The one the CPU does
 * not know raises #UD; the hypervisor must serve both the same (docs/hypercalls.md), so a guest
 * built for either vendor runs on both. VM_ID through each, then a console line through VMMCALL;
 * a #UD (an unserved VMMCALL/VMCALL) lands in the reporting IDT and exits 3. */
static long hypercall_vmmcall(unsigned long nr, unsigned long a1, unsigned long a2)
{
    unsigned long rax = nr, rbx = a1, rcx = a2, rdx = 0;
    __asm__ volatile("vmmcall" : "+a"(rax), "+b"(rbx), "+c"(rcx), "+d"(rdx) : : "memory");
    return (long)rax;
}

static int attack_hypercall_insns(void)
{
    long by_vmcall = tessera_hypercall(TESSERA_HC_VM_ID, 0, 0, 0, NULL);
    guest_printf("attacker: VM_ID through VMCALL = %ld\n", by_vmcall);
    long by_vmmcall = hypercall_vmmcall(TESSERA_HC_VM_ID, 0, 0);
    guest_printf("attacker: VM_ID through VMMCALL = %ld\n", by_vmmcall);
    static const char line[] = "attacker: this line came through VMMCALL\n";
    long rc = hypercall_vmmcall(TESSERA_HC_CONSOLE_WRITE, (unsigned long)(uintptr_t)line,
                                sizeof(line) - 1);
    guest_printf("attacker: console_write through VMMCALL rc=%ld\n", rc);
    return by_vmcall == by_vmmcall && rc == (long)(sizeof(line) - 1) ? 0 : 1;
}

/* guest_attack flags */
#define OWN_PAGING 1u /* needs our page tables (touches memory outside RAM) */
#define IDT 2u        /* gets the reporting IDT */

static const struct guest_attack attacks[] = {
    { "read_outside", attack_read_outside, OWN_PAGING | IDT },
    { "write_outside", attack_write_outside, OWN_PAGING | IDT },
    { "read_hv", attack_read_hv, OWN_PAGING | IDT },
    { "mmio", attack_mmio, OWN_PAGING | IDT },
    { "cli_spin", attack_cli_spin, IDT },
    { "vmxon", attack_vmxon, IDT },
    { "vmptrld", attack_vmptrld, IDT },
    { "xsetbv", attack_xsetbv, IDT },
    { "icebp", attack_icebp, IDT },
    { "plant", attack_plant, IDT },
    { "snoop", attack_snoop, IDT },
    { "vmcall_bad", attack_vmcall_bad, IDT },
    { "triple_fault", attack_triple_fault, 0 },
    { "exception_storm", attack_exception_storm, IDT },
    { "ud", attack_ud, 0 },
    { "ring3", attack_ring3, IDT },
    { "hypercall_insns", attack_hypercall_insns, IDT },
};

int guest_main(const struct tessera_start_info *info)
{
    (void)info;
    const struct guest_attack *a =
        guest_attack_choose("attacker", attacks, sizeof(attacks) / sizeof(attacks[0]));
    if (!a)
        return BAD_CMDLINE;
    int rc;
    uint64_t marker = 0;
    if (cmdline_u64_option("attacker", guest_cmdline, "marker", 0, 0, 1, &marker) < 0)
        return BAD_CMDLINE;
    if (marker && (rc = check_and_leave_marker()) != 0)
        return rc;
    if (a->flags & IDT)
        idt_install();
    if (a->flags & OWN_PAGING)
        paging_setup(false);
    return guest_attack_run("attacker", a);
}
