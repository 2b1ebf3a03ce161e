/* fuzzer: a seeded, reproducible stream of random actions that each cross into the hypervisor or
 * test what it emulates: hypercalls, port I/O, MSR and control-register accesses, exceptions and
 * a few instructions that exit. Every exception lands in our own IDT and resumes at a recovery
 * point set before the op, so the guest keeps going. Each op checks what the architecture or
 * docs/hypercalls.md promise (mismatches) and folds what it observed into a checksum: the same
 * seed prints the same final line. See guests/README.md for the options and what is left out. */
#include <tessera/errno.h>
#include <tessera/printf.h>
#include <tessera/string.h>
#include "desc.h"
#include "guest.h"
#include "start64.h"

#define BAD_CMDLINE 2
#define UNEXPECTED_TRAP 4 /* an exception outside any op, or one inside the handler */

#define DEFAULT_OPS 100000ull
#define MAX_MISMATCH_REPORTS 20
#define STORM_BREAK_AFTER 900 /* exceptions between two storm breakers, < the hypervisor's 1000 */

enum kind { K_HYPERCALL, K_IO, K_MSR, K_CR, K_EXCEPTION, K_INSN, K_COUNT };
static const unsigned default_mix[K_COUNT] = { 25, 25, 15, 15, 15, 5 };

/* ---- architecture constants ---- */
#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_EM (1ull << 2)
#define CR0_TS (1ull << 3)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_AM (1ull << 18)
#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR0_PG (1ull << 31)
#define CR0_KNOWN (CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_NE | CR0_WP | CR0_AM | CR0_NW | \
                   CR0_CD | CR0_PG)
#define CR4_DE (1ull << 3)
#define CR4_PAE (1ull << 5)
#define CR4_OSFXSR (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define CR4_LA57 (1ull << 12)
#define CR4_VMXE (1ull << 13)
#define CR4_SMXE (1ull << 14)
#define CR4_PCIDE (1ull << 17)
#define CR4_OSXSAVE (1ull << 18)
#define CR4_SMEP (1ull << 20)
#define CR4_SMAP (1ull << 21)
#define CR4_PKE (1ull << 22)
#define EFER_NXE (1ull << 11)
#define RFLAGS_TF (1ull << 8)
#define RFLAGS_AC (1ull << 18)

#define V_DE 0
#define V_DB 1
#define V_BP 3
#define V_UD 6
#define V_NM 7
#define V_DF 8
#define V_NP 11
#define V_SS 12
#define V_GP 13
#define V_PF 14
#define V_MF 16
#define V_XM 19

#define PF_P (1ull << 0)
#define PF_W (1ull << 1)
#define PF_RSVD (1ull << 3)

#define PTE_P 0x1ull
#define PTE_RW 0x2ull
#define PTE_US 0x4ull
#define PTE_PS 0x80ull
#define PTE_NX (1ull << 63)
#define PAGE_2M 0x200000ull

#define SEL_CODE 0x08
#define SEL_DATA 0x10
#define SEL_DATA_NOT_PRESENT 0x18
#define SEL_DATA_DPL3 0x20
#define SEL_CODE32 0x28

/* ---- the random stream: splitmix64 seeds xorshift64* (Vigna's published constants) ---- */
static uint64_t rng;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545f4914f6cdd1dull;
}

static uint64_t below(uint64_t n) { return n ? rnd() % n : 0; }

/* Values with structure: small numbers, all ones, single bits, canonical addresses. */
static uint64_t rnd_value(void)
{
    switch (below(8)) {
    case 0: return 0;
    case 1: return ~0ull;
    case 2: return below(256);
    case 3: return 1ull << below(64);
    case 4: return (uint64_t)(int64_t)(int32_t)rnd();
    case 5: return (uint64_t)((int64_t)(rnd() << 16) >> 16); /* canonical (48-bit) */
    default: return rnd();
    }
}

/* ---- what we observed: FNV-1a over 64-bit values ---- */
static uint64_t checksum = 0xcbf29ce484222325ull;

static void observe(uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        checksum ^= (v >> (8 * i)) & 0xff;
        checksum *= 0x100000001b3ull;
    }
}

/* ---- output: our UART may have been reprogrammed by the port ops ---- */
static bool com1_junk; /* an op wrote to COM1's data register: a partial line may be pending */
static uint64_t op_index;
static uint64_t seed;
static uint64_t mismatches, deviations;
/* quirks=qemu-tcg: accept the ways QEMU 7.2's TCG itself departs from the architecture (the AMD-V
 * runs of tests/integration/test_fuzz_guest.sh are under it), each counted and named on the
 * known= line at the end; everything else is checked as on any CPU. Each is the emulated CPU's
 * own doing inside the guest, with no exit in between (the SVM backend intercepts neither CR0
 * nor CR8 writes, nor #PF, and passes a #NP's or #GP's error code through unchanged). */
static bool quirk_qemu_tcg;
enum { Q_CR0, Q_CR3, Q_CR8, Q_IDT_ERROR, Q_ICEBP, Q_PF_RSVD, Q_SS, Q_GD, Q_XM, Q_MSR, Q_PVI,
       Q_DR_BP, Q_COUNT };
static const char *const quirk_names[Q_COUNT] = { /* the known= line's names */
    "cr0", "cr3", "cr8", "idt_err", "icebp", "pf_rsvd", "ss", "gd", "xm", "msr", "pvi", "dr_bp",
};
static uint64_t quirk_count[Q_COUNT];

static void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void report(const char *fmt, ...)
{
    serial_init();
    if (com1_junk) {
        serial_write("\n", 1); /* end whatever line the random bytes started */
        com1_junk = false;
    }
    va_list ap;
    va_start(ap, fmt);
    guest_vprintf(fmt, ap);
    va_end(ap);
}

/* One line naming the seed and the op, so that the finding can be replayed. */
static void report_finding(const char *kind, const char *fmt, va_list ap)
{
    char text[200];
    kvsnprintf(text, sizeof(text), fmt, ap);
    report("fuzzer: %s seed=0x%llx op=%llu: %s\n", kind, (unsigned long long)seed,
           (unsigned long long)op_index, text);
}

/* A promise of the architecture or of docs/hypercalls.md was broken: a finding. */
static void mismatch(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void mismatch(const char *fmt, ...)
{
    if (++mismatches > MAX_MISMATCH_REPORTS)
        return;
    va_list ap;
    va_start(ap, fmt);
    report_finding("MISMATCH", fmt, ap);
    va_end(ap);
}

/* The CPU would behave differently on bare metal, but nothing beyond this VM is affected (e.g. a
 * CR4 bit for a feature CPUID hides is accepted). Reported, not counted as a failure. */
static void deviation(const char *fmt, ...) __attribute__((format(printf, 1, 2), unused));
static void deviation(const char *fmt, ...) /* no op reports one today */
{
    /* the first 3 of each kind (by format), so a frequent kind cannot hide a rare one */
    static const char *kinds[16];
    static unsigned shown[16];
    deviations++;
    unsigned k = 0;
    while (k < 16 && kinds[k] && kinds[k] != fmt)
        k++;
    if (k == 16)
        return;
    kinds[k] = fmt;
    if (++shown[k] > 3)
        return;
    va_list ap;
    va_start(ap, fmt);
    report_finding("deviation", fmt, ap);
    va_end(ap);
}

/* ---- exceptions: 256 gates, each resumes at fuzz_resume_rip ---- */
struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss;
};

/* Set by each op's asm (TRY_SETUP): where to go on an exception, and the instruction expected to
 * fault. Zero outside an op. */
volatile uint64_t fuzz_resume_rip, fuzz_fault_rip;
extern uint64_t fuzz_kernel_rsp; /* below, with the CPL 3 op */

/* One stub per vector, 32 bytes apart. In IA-32e mode the CPU aligns RSP to 16 before pushing
 * the frame (SDM Vol. 3A 6.14.2), so RSP bit 3 tells whether an error code was pushed: that
 * covers exceptions and software INT n to any vector alike. */
__asm__(".section .text\n"
        ".balign 32\n"
        ".global fuzz_isr_stubs\n"
        "fuzz_isr_stubs:\n"
        ".set fuzz_vec, 0\n"
        ".rept 256\n"
        "    .balign 32\n"
        "    testb $8, %spl\n"
        "    jz 1f\n"
        "    pushq $0\n"
        "1:  pushq $fuzz_vec\n"
        "    jmp fuzz_isr_common\n"
        "    .set fuzz_vec, fuzz_vec + 1\n"
        ".endr\n"
        "fuzz_isr_common:\n"
        "    push %rax\n push %rbx\n push %rcx\n push %rdx\n push %rsi\n push %rdi\n push %rbp\n"
        "    push %r8\n push %r9\n push %r10\n push %r11\n push %r12\n push %r13\n push %r14\n"
        "    push %r15\n"
        "    mov %rsp, %rdi\n"
        "    cld\n"
        "    call fuzz_trap\n"
        "    pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %r11\n pop %r10\n pop %r9\n"
        "    pop %r8\n pop %rbp\n pop %rdi\n pop %rsi\n pop %rdx\n pop %rcx\n pop %rbx\n pop %rax\n"
        "    add $16, %rsp\n"
        "    iretq\n"
        ".previous\n");
extern const char fuzz_isr_stubs[];

static struct idt_gate64 idt[256] __attribute__((aligned(16)));
static uint64_t vector_count[256];

#define NO_TRAP (-1)
static volatile int trap_vector = NO_TRAP;
static volatile uint64_t trap_error, trap_rip, trap_cr2, trap_dr6, trap_fault_rip, trap_resume_rip;
static int trap_depth;
static unsigned storm_budget; /* exceptions since the last storm breaker */

void fuzz_trap(struct trap_frame *f);

void fuzz_trap(struct trap_frame *f)
{
    if (f->vector < 256)
        vector_count[f->vector]++;
    if (f->vector != V_DB)
        storm_budget++;
    uint64_t resume = fuzz_resume_rip;
    if (!resume || trap_depth) {
        uint64_t cr2;
        __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
        report("fuzzer: UNEXPECTED exception vector=%llu error=0x%llx rip=0x%llx cr2=0x%llx "
               "%s seed=0x%llx op=%llu\n", (unsigned long long)f->vector,
               (unsigned long long)f->error, (unsigned long long)f->rip,
               (unsigned long long)cr2, trap_depth ? "inside the handler" : "outside any op",
               (unsigned long long)seed, (unsigned long long)op_index);
        guest_exit(UNEXPECTED_TRAP);
    }
    trap_depth++;
    trap_vector = (int)f->vector;
    trap_error = f->error;
    trap_rip = f->rip;
    trap_fault_rip = fuzz_fault_rip;
    trap_resume_rip = resume;
    uint64_t cr2 = 0, dr6 = 0;
    __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
    trap_cr2 = cr2;
    if (f->vector == V_DB) {
        __asm__ volatile("mov %%dr6, %0" : "=r"(dr6));
        __asm__ volatile("mov %0, %%dr6" : : "r"(0xffff0ff0ull));
    }
    trap_dr6 = dr6;
    f->rip = resume;
    if ((f->cs & 3) == 3)
        f->rsp = fuzz_kernel_rsp; /* from CPL 3: back to the op's own stack */
    f->cs = SEL_CODE; /* from compatibility mode or CPL 3: resume in our 64-bit code */
    f->ss = SEL_DATA;
    f->rflags &= ~(RFLAGS_TF | RFLAGS_AC);
    fuzz_resume_rip = 0;
    trap_depth--;
}

static void gate_set(unsigned v, uint8_t type)
{
    uint16_t cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    uint64_t handler = (uintptr_t)fuzz_isr_stubs + 32 * (uint64_t)v;
    idt[v] = idt_gate64(handler, cs, type);
}

static void idt_load(uint16_t limit)
{
    struct table_pointer p = { limit, (uintptr_t)idt };
    __asm__ volatile("lidt %0" : : "m"(p) : "memory");
}

/* Marks the start of an op's risky part: on an exception the handler resumes at label 8; label 7
 * marks the instruction expected to fault. */
#define TRY_SETUP                                                                                 \
    "lea 8f(%%rip), %%r11\n\t"                                                                    \
    "mov %%r11, fuzz_resume_rip(%%rip)\n\t"                                                       \
    "lea 7f(%%rip), %%r11\n\t"                                                                    \
    "mov %%r11, fuzz_fault_rip(%%rip)\n\t"
#define TRY_END "\n8:\n\tmovq $0, fuzz_resume_rip(%%rip)\n\t"

static void trap_clear(void) { trap_vector = NO_TRAP; }

/* Checks the outcome of an op that expects vector (NO_TRAP: none). error < 0: any error code.
 * fault: RIP must be the marked instruction (a fault), else the resume point (a trap). */
static bool expect(const char *what, int vector, int64_t error, bool fault)
{
    int got = trap_vector;
    if (got != vector) {
        if (vector == NO_TRAP)
            mismatch("%s: unexpected vector %d error 0x%llx", what, got,
                     (unsigned long long)trap_error);
        else if (got == NO_TRAP)
            mismatch("%s: expected vector %d, nothing raised", what, vector);
        else
            mismatch("%s: expected vector %d, got %d error 0x%llx", what, vector, got,
                     (unsigned long long)trap_error);
        return false;
    }
    if (vector == NO_TRAP)
        return true;
    if (error >= 0 && trap_error != (uint64_t)error) {
        mismatch("%s: vector %d error 0x%llx, expected 0x%llx", what, vector,
                 (unsigned long long)trap_error, (unsigned long long)error);
        return false;
    }
    uint64_t want_rip = fault ? trap_fault_rip : trap_resume_rip;
    if (trap_rip != want_rip) {
        mismatch("%s: vector %d at rip 0x%llx, expected 0x%llx (%s)", what, vector,
                 (unsigned long long)trap_rip, (unsigned long long)want_rip,
                 fault ? "fault" : "trap");
        return false;
    }
    return true;
}

/* The error code of a fault on IDT entry v: its index in bits 15:3 and IDT (bit 1), in 64-bit mode
 * too (SDM vol. 3 6.13). QEMU 7.2's 64-bit interrupt delivery gives v*16+2 (the entry's byte
 * offset; QEMU issue 1382, fixed in 8.0): under quirks=qemu-tcg that code is taken, and counted. */
static int64_t idt_error_code(unsigned v)
{
    int64_t right = (int64_t)v * 8 + 2, qemu = (int64_t)v * 16 + 2;
    if (quirk_qemu_tcg && qemu != right && trap_error == (uint64_t)qemu) {
        quirk_count[Q_IDT_ERROR]++;
        return qemu;
    }
    return right;
}

static void observe_trap(void)
{
    observe((uint64_t)(int64_t)trap_vector);
    if (trap_vector != NO_TRAP)
        observe(trap_error);
}

/* ---- machine state we build: GDT, page tables ---- */
#define SEL_USER_CODE (0x30 | 3)
#define SEL_USER_DATA (SEL_DATA_DPL3 | 3)
#define SEL_TSS 0x38
#define GDT_ENTRIES 9
static uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(16))) = {
    0,
    0x00af9a000000ffffull, /* 64-bit code, DPL 0 */
    0x00cf92000000ffffull, /* data, DPL 0 */
    0x00cf12000000ffffull, /* data, not present */
    0x00cff2000000ffffull, /* data, DPL 3 */
    0x00cf9a000000ffffull, /* 32-bit code (compatibility mode) */
    0x00affa000000ffffull, /* 64-bit code, DPL 3 */
    0, 0,                  /* the TSS (16 bytes), filled in at start */
};

/* The TSS only gives the stack for exceptions from CPL 3; no I/O bitmap (IOPL 0: every port
 * access from CPL 3 is #GP). */
static struct tss64 tss __attribute__((aligned(16)));
static uint8_t user_trap_stack[8192] __attribute__((aligned(16)));
uint64_t fuzz_kernel_rsp; /* where an op that went to CPL 3 resumes its stack */
#define USER_GATE 0x81    /* the way back from CPL 3: INT 0x81 through a DPL-3 gate */

/* Two PML4s (CR3 switches between them), the same PDPT: guest RAM identity-mapped with 2 MiB
 * pages, and at TEST_VA a 4 KiB page table of test pages with different rights. Nothing maps
 * anything but our own RAM: a page walk never leaves it. */
#define TEST_VA 0x40000000ull /* PDPT slot 1 */
enum test_page { TP_RW, TP_RO, TP_ABSENT, TP_RSVD, TP_USER, TP_NX, TP_COUNT };
static uint64_t pml4_a[512] __attribute__((aligned(4096)));
static uint64_t pml4_b[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd_ram[512] __attribute__((aligned(4096)));
static uint64_t pd_test[512] __attribute__((aligned(4096)));
static uint64_t pt_test[512] __attribute__((aligned(4096)));
static uint8_t test_frames[TP_COUNT][4096] __attribute__((aligned(4096)));
static unsigned maxphyaddr = 36;

static void paging_setup(uint64_t ram)
{
    uint64_t pages = (ram + PAGE_2M - 1) / PAGE_2M;
    if (pages > 512)
        pages = 512;
    for (uint64_t i = 0; i < pages; i++)
        pd_ram[i] = i * PAGE_2M | PTE_P | PTE_RW | PTE_PS;
    for (unsigned i = 0; i < TP_COUNT; i++) {
        uint64_t frame = (uintptr_t)test_frames[i];
        test_frames[i][0] = 0xc3; /* ret: executable test pages just return */
        switch (i) {
        case TP_RW: pt_test[i] = frame | PTE_P | PTE_RW; break;
        case TP_RO: pt_test[i] = frame | PTE_P; break;
        case TP_ABSENT: pt_test[i] = frame | PTE_RW; break;
        case TP_RSVD: pt_test[i] = frame | PTE_P | PTE_RW | (1ull << (maxphyaddr < 52 ? maxphyaddr : 51)); break;
        case TP_USER: pt_test[i] = frame | PTE_P | PTE_RW | PTE_US; break;
        case TP_NX: pt_test[i] = frame | PTE_P | PTE_RW | PTE_NX; break;
        }
    }
    /* U/S counts at every level: the path to the test window allows user access, so its PTE
     * decides; RAM stays supervisor-only (pdpt[0] and its 2 MiB pages) */
    pd_test[0] = (uintptr_t)pt_test | PTE_P | PTE_RW | PTE_US;
    pdpt[0] = (uintptr_t)pd_ram | PTE_P | PTE_RW;
    pdpt[1] = (uintptr_t)pd_test | PTE_P | PTE_RW | PTE_US;
    pml4_a[0] = (uintptr_t)pdpt | PTE_P | PTE_RW | PTE_US;
    pml4_b[0] = (uintptr_t)pdpt | PTE_P | PTE_RW | PTE_US;
    __asm__ volatile("mov %0, %%cr3" : : "r"((uintptr_t)pml4_a) : "memory");
}

static uint64_t read_cr0(void) { uint64_t v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static uint64_t read_cr3(void) { uint64_t v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static uint64_t read_cr4(void) { uint64_t v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }

/* What we learned at start. */
static uint64_t ram_size, tsc_hz, vm_id, base_cr0, base_cr4, base_efer;
static uint64_t last_ticks, last_ns;
static bool has_rdtscp, has_smep, has_smap, has_pcid;
static uint64_t cr8_value;

static bool safe_write_cr0(uint64_t v)
{
    trap_clear();
    __asm__ volatile(TRY_SETUP "7: mov %0, %%cr0" TRY_END : : "r"(v) : "r11", "memory");
    return trap_vector == NO_TRAP;
}

static bool safe_write_cr4(uint64_t v)
{
    trap_clear();
    __asm__ volatile(TRY_SETUP "7: mov %0, %%cr4" TRY_END : : "r"(v) : "r11", "memory");
    return trap_vector == NO_TRAP;
}

static bool safe_wrmsr(uint32_t msr, uint64_t v)
{
    trap_clear();
    __asm__ volatile(TRY_SETUP "7: wrmsr" TRY_END
                     : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "r11", "memory");
    return trap_vector == NO_TRAP;
}

static bool safe_rdmsr(uint32_t msr, uint64_t *v)
{
    uint32_t lo = 0, hi = 0;
    trap_clear();
    __asm__ volatile(TRY_SETUP "7: rdmsr" TRY_END
                     : "+a"(lo), "+d"(hi) : "c"(msr) : "r11", "memory");
    *v = (uint64_t)hi << 32 | lo;
    return trap_vector == NO_TRAP;
}

/* Back to the start state for the registers our own code relies on (paging, the page tables). */
static void restore_baseline(void)
{
    safe_write_cr0(base_cr0);
    safe_write_cr4(base_cr4);
    safe_wrmsr(0xc0000080u, base_efer);
    __asm__ volatile("mov %0, %%cr3" : : "r"((uintptr_t)pml4_a) : "memory");
}

/* ---- hypercalls ---- */
struct hc_regs {
    uint64_t rax, rbx, rcx, rdx, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15;
};

/* R11 travels through memory: TRY_SETUP needs it as a scratch register. */
uint64_t fuzz_hc_r11;

static void vmcall_regs(struct hc_regs *r)
{
    register uint64_t r8 __asm__("r8") = r->r8;
    register uint64_t r9 __asm__("r9") = r->r9;
    register uint64_t r10 __asm__("r10") = r->r10;
    register uint64_t r12 __asm__("r12") = r->r12;
    register uint64_t r13 __asm__("r13") = r->r13;
    register uint64_t r14 __asm__("r14") = r->r14;
    register uint64_t r15 __asm__("r15") = r->r15;
    fuzz_hc_r11 = r->r11;
    trap_clear();
    __asm__ volatile(TRY_SETUP
                     "mov fuzz_hc_r11(%%rip), %%r11\n\t"
                     "7: vmcall\n"
                     "8:\n\tmovq $0, fuzz_resume_rip(%%rip)\n\t"
                     "mov %%r11, fuzz_hc_r11(%%rip)\n\t"
                     : "+a"(r->rax), "+b"(r->rbx), "+c"(r->rcx), "+d"(r->rdx), "+S"(r->rsi),
                       "+D"(r->rdi), "+r"(r8), "+r"(r9), "+r"(r10), "+r"(r12), "+r"(r13),
                       "+r"(r14), "+r"(r15)
                     :
                     : "r11", "memory", "cc");
    r->r8 = r8; r->r9 = r9; r->r10 = r10; r->r11 = fuzz_hc_r11;
    r->r12 = r12; r->r13 = r13; r->r14 = r14; r->r15 = r15;
}

static char console_line[] = "fuzzer: console_write line\n";

static uint64_t rnd_outside_ram(void)
{
    switch (below(5)) {
    case 0: return ram_size;
    case 1: return ram_size + below(1ull << 32);
    case 2: return ~0ull - below(4096);
    case 3: return 0xfee00000ull;
    default: {
        uint64_t a = ram_size + rnd_value();
        return a >= ram_size ? a : ~0ull - below(1ull << 20); /* the sum must not wrap into RAM */
    }
    }
}

/* VMCALL from compatibility mode (a 32-bit code segment, reached by a far call): only the low
 * halves of the registers count, in and out. */
__asm__(".section .text\n"
        ".code32\n"
        "fuzz_compat_vmcall:\n"
        "    vmcall\n"
        "    lret\n"
        ".code64\n"
        ".previous\n");
extern const char fuzz_compat_vmcall[];
struct far_pointer {
    uint32_t offset;
    uint16_t selector;
} __attribute__((packed));
struct far_pointer fuzz_compat_entry;

static void op_hypercall32(void)
{
    uint32_t nr;
    unsigned pick = (unsigned)below(10);
    if (pick < 3) nr = TESSERA_HC_CONSOLE_WRITE;
    else if (pick < 5) nr = TESSERA_HC_VM_ID;
    else if (pick < 6) nr = TESSERA_HC_TIME;
    else if (pick < 8) nr = TESSERA_HC_SET_TIMER;
    else nr = below(2) ? 7 + (uint32_t)below(250) : (uint32_t)rnd();
    if (nr == TESSERA_HC_EXIT)
        nr = 0;
    uint32_t a1 = (uint32_t)rnd_value(), a2 = (uint32_t)rnd_value();
    uint32_t ram32 = ram_size < 0xffffffffull ? (uint32_t)ram_size : 0xffffffffu;
    int64_t want = -TESSERA_ENOSYS, want_alt = 1;
    switch (nr) {
    case TESSERA_HC_CONSOLE_WRITE:
        switch (below(3)) {
        case 0: a1 = (uint32_t)below(ram32); a2 = 0; want = 0; break;
        case 1:
            a2 = TESSERA_HC_CONSOLE_MAX + 1 + (below(2) ? 0 : (uint32_t)below(0xffffffffu - 4097));
            want = -TESSERA_EINVAL;
            if (a1 >= ram32 || a2 > ram32 - a1)
                want_alt = -TESSERA_EFAULT;
            break;
        default:
            a1 = ram32 + (uint32_t)below(0xffffffffu - ram32);
            a2 = 1 + (uint32_t)below(TESSERA_HC_CONSOLE_MAX);
            want = -TESSERA_EFAULT;
        }
        break;
    case TESSERA_HC_VM_ID: want = (int64_t)vm_id; break;
    case TESSERA_HC_TIME: want = 0; break;
    case TESSERA_HC_SET_TIMER: want = a1 > tsc_hz * 3600 ? -TESSERA_EINVAL : 0; break;
    }
    /* junk in the upper halves: the hypervisor must look at the low ones only */
    uint64_t rax = rnd() << 32 | nr, rbx = rnd() << 32 | a1, rcx = rnd() << 32 | a2;
    uint64_t rdx = rnd();
    fuzz_compat_entry = (struct far_pointer){ (uint32_t)(uintptr_t)fuzz_compat_vmcall, SEL_CODE32 };
    trap_clear();
    __asm__ volatile("lea 6f(%%rip), %%r11\n\tmov %%r11, fuzz_resume_rip(%%rip)\n\t"
                     "lea 7f(%%rip), %%r11\n\tmov %%r11, fuzz_fault_rip(%%rip)\n\t"
                     "7: lcall *fuzz_compat_entry(%%rip)\n\tjmp 8f\n"
                     "6: add $8, %%rsp\n" /* the far call's return frame */
                     "8: movq $0, fuzz_resume_rip(%%rip)"
                     : "+a"(rax), "+b"(rbx), "+c"(rcx), "+d"(rdx) : : "r11", "memory", "cc");
    if (!expect("vmcall from compatibility mode", NO_TRAP, -1, false))
        return;
    if ((uint32_t)rax != (uint32_t)want && (uint32_t)rax != (uint32_t)want_alt)
        mismatch("32-bit hypercall nr=0x%x a1=0x%x a2=0x%x returned 0x%x, expected 0x%x", nr,
                 a1, a2, (uint32_t)rax, (uint32_t)want);
    if (nr == TESSERA_HC_TIME && (uint32_t)rbx != (uint32_t)tsc_hz)
        mismatch("32-bit TIME: hz=0x%x, expected 0x%x", (uint32_t)rbx, (uint32_t)tsc_hz);
    if (nr != TESSERA_HC_TIME && ((uint32_t)rbx != a1 || (uint32_t)rcx != a2))
        mismatch("32-bit hypercall nr=0x%x changed ebx/ecx", nr);
    observe(nr == TESSERA_HC_TIME || nr == TESSERA_HC_VM_ID ? (uint32_t)rax == (uint32_t)want
                                                             : (uint32_t)rax);
}

static void op_hypercall(void)
{
    if (below(8) == 0) {
        op_hypercall32();
        return;
    }
    struct hc_regs r, in;
    uint64_t *all = &r.rax;
    for (unsigned i = 0; i < sizeof(r) / sizeof(uint64_t); i++)
        all[i] = rnd_value();
    uint64_t nr;
    unsigned pick = (unsigned)below(100);
    if (pick < 40) nr = TESSERA_HC_CONSOLE_WRITE;
    else if (pick < 43) nr = TESSERA_HC_YIELD;
    else if (pick < 53) nr = TESSERA_HC_VM_ID;
    else if (pick < 63) nr = TESSERA_HC_TIME;
    else if (pick < 78) nr = TESSERA_HC_SET_TIMER;
    else if (pick < 84) nr = (rnd() << 32 | (1 + below(6))) | (1ull << 32); /* high bits + a real nr */
    else if (pick < 90) nr = below(2) ? 0 : 7 + below(250);
    else nr = rnd();
    r.rax = nr;
    int64_t want = -TESSERA_ENOSYS, want_alt = 1; /* want_alt: a second acceptable result */
    bool want_range = false;                       /* CONSOLE_WRITE: 0 <= rc <= length */
    bool hlt_after = false;
    switch (nr) {
    case TESSERA_HC_CONSOLE_WRITE:
        switch (below(7)) {
        case 6: { /* right at the end of RAM: the last k bytes fit, k + 1 do not */
            uint64_t k = 1 + below(8);
            r.rbx = ram_size - k;
            if (below(2)) {
                r.rcx = k + 1;
                want = -TESSERA_EFAULT;
            } else {
                r.rcx = k; /* prints k bytes of (zeroed) RAM: a partial line */
                want_range = true;
                com1_junk = true;
            }
            break;
        }
        case 0: /* nothing to print, anywhere inside RAM */
            r.rbx = below(ram_size);
            r.rcx = 0;
            want = 0;
            break;
        case 1: /* too long */
            r.rbx = below(2) ? below(ram_size) : rnd_value();
            r.rcx = TESSERA_HC_CONSOLE_MAX + 1 + below(2) * rnd_value() % (~0ull - 4097);
            want = -TESSERA_EINVAL;
            if (r.rbx >= ram_size || r.rcx > ram_size - r.rbx)
                want_alt = -TESSERA_EFAULT;
            break;
        case 2: /* outside RAM */
            r.rbx = rnd_outside_ram();
            r.rcx = 1 + below(TESSERA_HC_CONSOLE_MAX);
            want = -TESSERA_EFAULT;
            break;
        case 3: /* straddling its end */
            r.rcx = 2 + below(TESSERA_HC_CONSOLE_MAX - 1);
            r.rbx = ram_size - 1 - below(r.rcx - 1);
            want = -TESSERA_EFAULT;
            break;
        case 4: /* wrapping around the address space */
            r.rcx = 2 + below(TESSERA_HC_CONSOLE_MAX - 1);
            r.rbx = ~0ull - below(r.rcx - 1);
            want = -TESSERA_EFAULT;
            break;
        default:
            if (below(200) == 0) { /* now and then, a real line */
                if (com1_junk) {
                    struct hc_regs nl = { .rax = TESSERA_HC_CONSOLE_WRITE,
                                          .rbx = (uintptr_t)"\n", .rcx = 1 };
                    vmcall_regs(&nl);
                    com1_junk = false;
                }
                r.rbx = (uintptr_t)console_line;
                r.rcx = sizeof(console_line) - 1;
                want_range = true;
            } else {
                r.rbx = (uintptr_t)console_line + below(8);
                r.rcx = 0;
                want = 0;
            }
        }
        break;
    case TESSERA_HC_YIELD:
        want = 0;
        break;
    case TESSERA_HC_VM_ID:
        want = (int64_t)vm_id;
        break;
    case TESSERA_HC_TIME:
        want = 0;
        break;
    case TESSERA_HC_SET_TIMER: {
        uint64_t hour = tsc_hz * 3600;
        switch (below(5)) {
        case 0: r.rbx = 0; break;
        case 1: r.rbx = hour; break;
        case 2: r.rbx = hour + 1 + (below(2) ? 0 : below(1ull << 40)); break;
        case 3: r.rbx = rnd_value(); break;
        default: r.rbx = 1 + below(20000); hlt_after = below(4) == 0; break;
        }
        want = r.rbx > hour ? -TESSERA_EINVAL : 0;
        break;
    }
    }
    in = r;
    vmcall_regs(&r);
    if (!expect("vmcall", NO_TRAP, -1, false))
        return;
    int64_t rc = (int64_t)r.rax;
    if (want_range) {
        if (rc < 0 || (uint64_t)rc > in.rcx)
            mismatch("CONSOLE_WRITE of %llu bytes returned %lld", (unsigned long long)in.rcx,
                     (long long)rc);
    } else if (rc != want && rc != want_alt) {
        mismatch("hypercall nr=0x%llx a1=0x%llx a2=0x%llx returned %lld, expected %lld",
                 (unsigned long long)in.rax, (unsigned long long)in.rbx,
                 (unsigned long long)in.rcx, (long long)rc, (long long)want);
    }
    /* Registers: only RAX changes, and RBX/RCX/RDX for TIME. */
    const uint64_t *a = &in.rax, *b = &r.rax;
    static const char *const names[] = { "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9",
                                         "r10", "r11", "r12", "r13", "r14", "r15" };
    for (unsigned i = 1; i < sizeof(r) / sizeof(uint64_t); i++) {
        if (nr == TESSERA_HC_TIME && i <= 3)
            continue;
        if (a[i] != b[i]) {
            mismatch("hypercall nr=0x%llx changed %s: 0x%llx -> 0x%llx", (unsigned long long)nr,
                     names[i], (unsigned long long)a[i], (unsigned long long)b[i]);
            break;
        }
    }
    if (nr == TESSERA_HC_TIME) {
        if (r.rbx != tsc_hz || r.rcx < last_ticks || r.rdx < last_ns)
            mismatch("TIME went wrong: hz=%llu (was %llu) ticks=%llu (last %llu) ns=%llu "
                     "(last %llu)", (unsigned long long)r.rbx, (unsigned long long)tsc_hz,
                     (unsigned long long)r.rcx, (unsigned long long)last_ticks,
                     (unsigned long long)r.rdx, (unsigned long long)last_ns);
        last_ticks = r.rcx;
        last_ns = r.rdx;
        observe(r.rax); /* the time values themselves depend on scheduling */
    } else if (nr == TESSERA_HC_VM_ID) {
        observe(rc == want); /* not the id itself: the same seed in another VM gives the same line */
    } else {
        observe(r.rax);
    }
    if (hlt_after && rc == 0) {
        /* a short timer is armed: HLT sleeps until then (interrupts stay off) */
        trap_clear();
        __asm__ volatile(TRY_SETUP "7: hlt" TRY_END : : : "r11", "memory");
        expect("hlt", NO_TRAP, -1, false);
    }
}

/* ---- port I/O ---- */
static const uint16_t interesting_ports[] = {
    0x20, 0x21, 0xa0, 0xa1,             /* PICs */
    0x40, 0x41, 0x42, 0x43, 0x61,       /* PIT, speaker/NMI status */
    0x70, 0x71,                         /* CMOS/RTC */
    0x80, 0x92,                         /* POST, A20/fast reset */
    0xcf8, 0xcf9, 0xcfa, 0xcfc, 0xcfd, 0xcfe, 0xcff, /* PCI config, reset control */
    0xb000, 0xb004, 0xb008, 0x600, 0x604, 0x608,     /* ACPI PM (Bochs, QEMU) */
    0x8900, 0x402, 0xe9, 0x510, 0x511,  /* Bochs shutdown, debug consoles, fw_cfg */
    0x2f8, 0x2fd, 0x3e8, 0x2e8, 0x378, 0x60, 0x64, 0x1f0, 0x1f7, 0x3f6, 0x3f7, 0x3f0,
    0xf0, 0xf1, 0xf3, 0xf8, 0xffff, 0x0,
};

static bool is_com1(uint16_t p) { return p >= COM1_BASE && p < COM1_BASE + 8; }

static void op_io(void)
{
    static const uint8_t sizes[] = { 1, 2, 4 };
    unsigned size = sizes[below(3)];
    uint16_t port;
    for (;;) {
        unsigned pick = (unsigned)below(100);
        if (pick < 40)
            port = (uint16_t)(COM1_BASE + below(8));
        else if (pick < 75)
            port = interesting_ports[below(sizeof(interesting_ports) / sizeof(interesting_ports[0]))];
        else
            port = (uint16_t)rnd();
        /* the debug-exit port ends the VM by design: never touch any of its bytes */
        bool exit_port = false;
        for (unsigned i = 0; i < size; i++) {
            uint16_t p = (uint16_t)(port + i);
            if (p >= TESSERA_DEBUG_EXIT_PORT && p < TESSERA_DEBUG_EXIT_PORT + 4)
                exit_port = true;
        }
        if (!exit_port)
            break;
    }
    if (below(2)) { /* OUT */
        uint64_t value = rnd();
        for (unsigned i = 0; i < size; i++)
            if ((uint16_t)(port + i) == COM1_BASE)
                com1_junk = true;
        trap_clear();
        if (size == 1)
            __asm__ volatile(TRY_SETUP "7: outb %%al, %%dx" TRY_END : : "a"(value), "d"(port) : "r11", "memory");
        else if (size == 2)
            __asm__ volatile(TRY_SETUP "7: outw %%ax, %%dx" TRY_END : : "a"(value), "d"(port) : "r11", "memory");
        else
            __asm__ volatile(TRY_SETUP "7: outl %%eax, %%dx" TRY_END : : "a"(value), "d"(port) : "r11", "memory");
        expect("out", NO_TRAP, -1, false);
        observe(port);
        return;
    }
    uint64_t before = rnd(), rax = before;
    trap_clear();
    if (size == 1)
        __asm__ volatile(TRY_SETUP "7: inb %%dx, %%al" TRY_END : "+a"(rax) : "d"(port) : "r11", "memory");
    else if (size == 2)
        __asm__ volatile(TRY_SETUP "7: inw %%dx, %%ax" TRY_END : "+a"(rax) : "d"(port) : "r11", "memory");
    else
        __asm__ volatile(TRY_SETUP "7: inl %%dx, %%eax" TRY_END : "+a"(rax) : "d"(port) : "r11", "memory");
    if (!expect("in", NO_TRAP, -1, false))
        return;
    /* 8- and 16-bit INs keep the rest of RAX; a 32-bit IN zero-extends */
    uint64_t keep = ~0ull << (8 * size);
    if (size < 4 ? (rax & keep) != (before & keep) : (rax >> 32) != 0)
        mismatch("in%c 0x%x changed RAX bits outside the operand: 0x%llx -> 0x%llx",
                 "bw?l"[size - 1], port, (unsigned long long)before, (unsigned long long)rax);
    for (unsigned i = 0; i < size; i++) {
        uint16_t p = (uint16_t)(port + i);
        uint8_t byte = (uint8_t)(rax >> (8 * i));
        if (!is_com1(p) && byte != 0xff) {
            mismatch("in from port 0x%x (no device) read 0x%x, expected 0xff", p, byte);
            break;
        }
    }
    observe(port);
    observe(rax & ~keep);
}

/* ---- MSRs ---- */
static const uint32_t interesting_msrs[] = {
    0x0, 0x1, 0x6, 0x10, 0x17, 0x1b, 0x2a, 0x34, 0x3a, 0x3b, 0x48, 0x49, 0x79, 0x8b, 0x9b, 0xc1,
    0xce, 0xe2, 0xe7, 0xe8, 0xfe, 0x10a, 0x10b, 0x122, 0x140, 0x174, 0x175, 0x176, 0x179, 0x17a,
    0x17b, 0x186, 0x187, 0x198, 0x199, 0x19a, 0x19b, 0x19c, 0x1a0, 0x1a2, 0x1b0, 0x1d9, 0x1db,
    0x1dd, 0x200, 0x201, 0x20e, 0x20f, 0x250, 0x258, 0x268, 0x277, 0x2ff, 0x309, 0x345, 0x38d,
    0x38f, 0x390, 0x3f1, 0x400, 0x401, 0x480, 0x481, 0x482, 0x485, 0x486, 0x487, 0x488, 0x489,
    0x48b, 0x48c, 0x48d, 0x491, 0x4d0, 0x560, 0x570, 0x600, 0x6a0, 0x6a2, 0x6e0, 0x7a0, 0x802,
    0x803, 0x808, 0x80b, 0x830, 0x838, 0x8ff, 0xc80, 0xd90, 0xda0, 0x1b01, 0x1fff, 0x2000,
    0x40000000, 0x40000001, 0x40000020, 0x40000070, 0x4b564d00, 0x4b564d01, 0xc0000080,
    0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084, 0xc0000100, 0xc0000101, 0xc0000102,
    0xc0000103, 0xc0000104, 0xc0001fff, 0xc0002000, 0xc0010000, 0xc0010015, 0xc0010114,
    0xc0011020, 0xffffffff,
};

enum msr_rule { MSR_ABSENT, MSR_READ_ONLY, MSR_PLAIN, MSR_OTHER };

/* docs/hypercalls.md: the guest's own MSRs, a few emulated facts; anything else is #GP. */
static enum msr_rule msr_rule(uint32_t msr)
{
    switch (msr) {
    case 0x10: case 0x3a: case 0x8b: case 0xfe: case 0x1a0:
        return MSR_READ_ONLY;
    case 0xc0000082: case 0xc0000083: case 0xc0000102: case 0xc0000100: case 0xc0000101:
    case 0x175: case 0x176:
        return MSR_PLAIN; /* addresses: a canonical value reads back, others #GP */
    case 0xc0000081: /* STAR: any value */
    case 0x174: case 0x277: case 0x2ff: case 0xc0000080: case 0xc0000084:
        return MSR_OTHER;
    case 0xc0000103: /* TSC_AUX: the guest's own where RDTSCP is offered */
        return has_rdtscp ? MSR_OTHER : MSR_ABSENT;
    }
    return MSR_ABSENT;
}

static bool is_canonical(uint64_t v) { return (uint64_t)((int64_t)(v << 16) >> 16) == v; }

static void op_msr(void)
{
    uint32_t msr;
    unsigned pick = (unsigned)below(100);
    if (pick < 55)
        msr = interesting_msrs[below(sizeof(interesting_msrs) / sizeof(interesting_msrs[0]))];
    else if (pick < 75)
        msr = (uint32_t)below(0x2000);
    else if (pick < 85)
        msr = 0xc0000000u + (uint32_t)below(0x2000);
    else
        msr = (uint32_t)rnd();
    enum msr_rule rule = msr_rule(msr);
    uint64_t value;
    if (below(2)) {
        bool ok = safe_rdmsr(msr, &value);
        if (rule == MSR_ABSENT) {
            if (ok)
                mismatch("rdmsr 0x%x read 0x%llx; only the documented MSRs may be readable", msr,
                         (unsigned long long)value);
            else
                expect("rdmsr of an absent MSR", V_GP, 0, true);
        } else if (!ok) {
            mismatch("rdmsr 0x%x (documented) raised vector %d", msr, trap_vector);
        } else if (msr == 0x3a && (value & 7) != 1) {
            mismatch("FEATURE_CONTROL reads 0x%llx, expected locked with VMX off",
                     (unsigned long long)value);
        }
        observe_trap();
        if (ok && msr != 0x10) /* TSC: depends on time */
            observe(value);
        return;
    }
    /* WRMSR */
    value = rnd_value();
    /* a non-canonical address in FS_BASE, GS_BASE, KERNEL_GS_BASE, LSTAR, CSTAR or SYSENTER_EIP/
     * ESP is #GP (SDM vol. 2 WRMSR); QEMU 7.2's WRMSR stores it as it is, and these are the
     * guest's own under SVM (VMLOAD/VMSAVE state, not intercepted): under quirks=qemu-tcg
     * not tried */
    if (quirk_qemu_tcg && rule == MSR_PLAIN && msr != 0xc0000081 && !is_canonical(value)) {
        quirk_count[Q_MSR]++;
        return;
    }
    if (msr == 0x277 && below(2)) { /* PAT: valid memory types (0, 1, 4, 5, 6, 7) in each byte */
        static const uint8_t types[] = { 0, 1, 4, 5, 6, 7 };
        value = 0;
        for (int i = 0; i < 8; i++)
            value |= (uint64_t)types[below(6)] << (8 * i);
    }
    if (msr == 0xc0000080 && below(2)) /* EFER: flip one of SCE, NXE, LME or a reserved bit */
        value = base_efer ^ (1ull << (below(2) ? 11 : below(16)));
    bool ok = safe_wrmsr(msr, value);
    if (rule == MSR_ABSENT || rule == MSR_READ_ONLY) {
        if (ok)
            mismatch("wrmsr 0x%x <- 0x%llx accepted; only the documented MSRs may be written",
                     msr, (unsigned long long)value);
        else
            expect("wrmsr of an absent MSR", V_GP, 0, true);
    } else if ((rule == MSR_PLAIN && is_canonical(value)) || msr == 0xc0000081) {
        uint64_t back = 0;
        if (!ok)
            mismatch("wrmsr 0x%x <- canonical 0x%llx raised vector %d", msr,
                     (unsigned long long)value, trap_vector);
        else if (!safe_rdmsr(msr, &back) || back != value)
            mismatch("msr 0x%x: wrote 0x%llx, read back 0x%llx", msr, (unsigned long long)value,
                     (unsigned long long)back);
    } else if (msr == 0x2ff && ok) {
        uint64_t back = 0;
        if (!safe_rdmsr(msr, &back) || back != 0x806)
            mismatch("MTRR_DEF_TYPE reads 0x%llx after a write, expected 0x806 (writes ignored)",
                     (unsigned long long)back);
    } else if (rule == MSR_PLAIN && ok) {
        mismatch("wrmsr 0x%x <- non-canonical 0x%llx accepted", msr, (unsigned long long)value);
    }
    observe(msr);
    observe(ok);
    if (msr == 0x277) /* keep memory write-back: the PAT is ours, but a UC PAT is slow */
        safe_wrmsr(0x277, 0x0007040600070406ull);
}

/* ---- control registers ---- */
/* MOV to/from CRn for the CRs that do not exist: #UD, before any VM exit. */
#define BAD_CR_STUBS(X) X(1) X(5) X(6) X(7) X(9) X(10) X(12) X(15)

static void bad_cr_access(unsigned n, bool write)
{
    trap_clear();
#define STUB(N)                                                                                   \
    case N:                                                                                       \
        if (write)                                                                                \
            __asm__ volatile(TRY_SETUP "7: mov %%rax, %%cr" #N TRY_END : : "a"(0ull) : "r11", "memory"); \
        else                                                                                      \
            __asm__ volatile(TRY_SETUP "7: mov %%cr" #N ", %%rax" TRY_END : : : "rax", "r11", "memory"); \
        break;
    switch (n) { BAD_CR_STUBS(STUB) }
#undef STUB
}

static void op_cr(void)
{
    unsigned pick = (unsigned)below(100);
    if (pick < 30) { /* CR0 */
        uint64_t old = read_cr0(), v = old;
        switch (below(4)) {
        case 0: v = rnd_value(); break;
        case 1: v ^= 1ull << (32 + below(32)); break;
        default: {
            static const uint64_t bits[] = { CR0_PE, CR0_MP, CR0_EM, CR0_TS, CR0_NE, CR0_WP,
                                             CR0_AM, CR0_NW, CR0_CD, CR0_PG, CR0_ET, 1ull << 6 };
            unsigned flips = 1 + (unsigned)below(3);
            for (unsigned i = 0; i < flips; i++)
                v ^= bits[below(sizeof(bits) / sizeof(bits[0]))];
        }
        }
        bool must_gp = (v >> 32) || !(v & CR0_PG) || !(v & CR0_PE) ||
                       ((v & CR0_NW) && !(v & CR0_CD));
        /* Each of these is #GP (SDM vol. 2 MOV to CR0, vol. 3 2.5; APM vol. 2 3.1.1): bits 63:32
         * set, PG without PE, PG cleared in 64-bit mode, NW without CD. QEMU 7.2's MOV CR0 checks
         * none of them (helper_write_crN goes straight to cpu_x86_update_cr0): the guest drops
         * to real mode, or QEMU's VMRUN refuses the state it let the guest make
         * (VMEXIT_INVALID). Either ends the VM, so under quirks=qemu-tcg they are not tried. */
        if (quirk_qemu_tcg && must_gp) {
            quirk_count[Q_CR0]++;
            return;
        }
        bool ok = safe_write_cr0(v);
        bool cet_wp = (read_cr4() & (1ull << 23)) && !(v & CR0_WP); /* WP off under CET: #GP */
        if (must_gp && ok)
            mismatch("mov cr0 <- 0x%llx accepted (must #GP)", (unsigned long long)v);
        else if (!ok && !must_gp && !cet_wp)
            mismatch("mov cr0 <- 0x%llx (valid; was 0x%llx) raised vector %d",
                     (unsigned long long)v, (unsigned long long)old, trap_vector);
        else if (!ok)
            expect("mov cr0 (invalid)", V_GP, 0, true);
        uint64_t now = read_cr0();
        if (ok && ((now ^ v) & CR0_KNOWN & ~CR0_ET))
            mismatch("mov cr0 <- 0x%llx reads back 0x%llx", (unsigned long long)v,
                     (unsigned long long)now);
        if (!ok && now != old)
            mismatch("mov cr0 <- 0x%llx faulted but cr0 changed 0x%llx -> 0x%llx",
                     (unsigned long long)v, (unsigned long long)old, (unsigned long long)now);
        observe(now);
        observe_trap();
        if (below(2))
            safe_write_cr0(base_cr0);
    } else if (pick < 55) { /* CR4 */
        uint64_t old = read_cr4(), v = old;
        switch (below(5)) {
        case 0: v = rnd_value() | CR4_PAE; break;
        case 1: v ^= 1ull << (22 + below(42)); break;
        default: {
            unsigned flips = 1 + (unsigned)below(3);
            for (unsigned i = 0; i < flips; i++)
                v ^= 1ull << below(25);
        }
        }
        uint64_t cr3 = read_cr3();
        bool must_gp = (v >> 32) || (v & (CR4_VMXE | CR4_PKE)) || !(v & CR4_PAE) ||
                       ((v ^ old) & CR4_LA57) ||
                       ((v & CR4_PCIDE) && !(old & CR4_PCIDE) && (cr3 & 0xfff)) ||
                       ((v & CR4_PCIDE) && !has_pcid) ||
                       ((v & CR4_SMEP) && !has_smep) || ((v & CR4_SMAP) && !has_smap);
        bool ok = safe_write_cr4(v);
        if (must_gp && ok)
            mismatch("mov cr4 <- 0x%llx accepted (must #GP; was 0x%llx)", (unsigned long long)v,
                     (unsigned long long)old);
        else if (!ok)
            expect("mov cr4", V_GP, 0, true);
        if (ok && (v & ~old & CR4_SMXE))
            mismatch("mov cr4 <- 0x%llx accepted: SMXE set though CPUID hides SMX",
                      (unsigned long long)v);
        if (ok && (v & ~old & CR4_OSXSAVE))
            mismatch("mov cr4 <- 0x%llx accepted: OSXSAVE set though CPUID hides XSAVE",
                      (unsigned long long)v);
        uint64_t now = read_cr4();
        if (ok && now != v)
            mismatch("mov cr4 <- 0x%llx reads back 0x%llx", (unsigned long long)v,
                     (unsigned long long)now);
        if (!ok && now != old)
            mismatch("mov cr4 <- 0x%llx faulted but cr4 changed", (unsigned long long)v);
        observe(now);
        observe_trap();
        if (below(2))
            safe_write_cr4(base_cr4);
    } else if (pick < 70) { /* CR3: our two roots, cache bits, PCIDs, reserved bits */
        uint64_t v = below(2) ? (uintptr_t)pml4_a : (uintptr_t)pml4_b;
        bool pcide = read_cr4() & CR4_PCIDE;
        if (pcide)
            v |= below(4096) | (below(2) << 63);
        else
            v |= below(4) << 3;
        bool must_gp = false;
        if (below(5) == 0) {
            unsigned bit = maxphyaddr + (unsigned)below(61 - maxphyaddr);
            v |= 1ull << bit;
            must_gp = true;
        }
        /* a CR3 bit at or above MAXPHYADDR is #GP (SDM vol. 2 MOV to CR3); QEMU 7.2 ends the
         * guest with VMEXIT_INVALID instead (helper_write_crN: cpu_vmexit(SVM_EXIT_ERR)): under
         * quirks=qemu-tcg not tried */
        if (quirk_qemu_tcg && must_gp) {
            quirk_count[Q_CR3]++;
            return;
        }
        trap_clear();
        __asm__ volatile(TRY_SETUP "7: mov %0, %%cr3" TRY_END : : "r"(v) : "r11", "memory");
        if (must_gp)
            expect("mov cr3 with reserved bits", V_GP, 0, true);
        else
            expect("mov cr3", NO_TRAP, -1, false);
        observe(read_cr3());
        observe_trap();
        if ((read_cr3() & ~0xfffull & ~(1ull << 63)) != (uintptr_t)pml4_a &&
            (read_cr3() & ~0xfffull & ~(1ull << 63)) != (uintptr_t)pml4_b)
            mismatch("cr3 reads 0x%llx, not one of our roots", (unsigned long long)read_cr3());
    } else if (pick < 80) { /* CR8 */
        uint64_t v = below(2) ? below(16) : rnd_value();
        /* bits 63:4 of CR8 are reserved: #GP (SDM vol. 2 MOV to CR8, APM vol. 2 15.21.2); QEMU
         * 7.2 takes the low 4 bits and raises nothing, so under quirks=qemu-tcg not tried */
        if (quirk_qemu_tcg && v > 15) {
            quirk_count[Q_CR8]++;
            return;
        }
        trap_clear();
        __asm__ volatile(TRY_SETUP "7: mov %0, %%cr8" TRY_END : : "r"(v) : "r11", "memory");
        if (v > 15) {
            expect("mov cr8 > 15", V_GP, 0, true);
        } else if (expect("mov cr8", NO_TRAP, -1, false)) {
            cr8_value = v;
        }
        uint64_t back;
        __asm__ volatile("mov %%cr8, %0" : "=r"(back));
        if (back != cr8_value)
            mismatch("cr8 reads %llu, expected %llu", (unsigned long long)back,
                     (unsigned long long)cr8_value);
        observe(back);
    } else if (pick < 85) { /* CR2 is the guest's own */
        uint64_t v = rnd(), back;
        __asm__ volatile("mov %1, %%cr2\n\tmov %%cr2, %0" : "=r"(back) : "r"(v));
        if (back != v)
            mismatch("cr2: wrote 0x%llx, read 0x%llx", (unsigned long long)v,
                     (unsigned long long)back);
    } else if (pick < 90) { /* CRs that do not exist */
        static const unsigned bad[] = { 1, 5, 6, 7, 9, 10, 12, 15 };
        bad_cr_access(bad[below(8)], below(2));
        expect("mov crN (no such CR)", V_UD, 0, true);
    } else if (pick < 95) { /* LMSW: sets PE/MP/EM/TS, never clears PE */
        uint64_t old = read_cr0();
        uint16_t w = (uint16_t)rnd();
        trap_clear();
        __asm__ volatile(TRY_SETUP "7: lmsw %0" TRY_END : : "r"(w) : "r11", "memory");
        expect("lmsw", NO_TRAP, -1, false);
        uint64_t now = read_cr0();
        uint64_t want = (old & ~0xeull) | (w & 0xe) | (old & CR0_PE);
        if ((now & 0xf) != (want & 0xf))
            mismatch("lmsw 0x%x: cr0 0x%llx -> 0x%llx", w, (unsigned long long)old,
                     (unsigned long long)now);
        observe(now);
        safe_write_cr0(base_cr0);
    } else { /* CLTS */
        __asm__ volatile("clts");
        if (read_cr0() & CR0_TS)
            mismatch("clts left CR0.TS set");
    }
}

/* ---- CPL 3: one instruction in a user page, then INT 0x81 back ---- */
struct user_insn {
    uint8_t bytes[3], len;
    int vector; /* expected; USER_GATE: it completes; -1: decided at run time */
    int64_t error;
};
static const struct user_insn user_insns[] = {
    { { 0x0f, 0x01, 0xc1 }, 3, -1, 0 },      /* VMCALL: exits at any CPL */
    { { 0xec }, 1, V_GP, 0 },                /* IN AL, DX */
    { { 0xee }, 1, V_GP, 0 },                /* OUT DX, AL */
    { { 0x0f, 0x32 }, 2, V_GP, 0 },          /* RDMSR */
    { { 0x0f, 0x30 }, 2, V_GP, 0 },          /* WRMSR */
    { { 0xf4 }, 1, V_GP, 0 },                /* HLT */
    { { 0xfa }, 1, -1, 0 },                  /* CLI: #GP, or clears VIF with CR4.PVI */
    { { 0x0f, 0x20, 0xc0 }, 3, V_GP, 0 },    /* MOV RAX, CR0 */
    { { 0x0f, 0x22, 0xd8 }, 3, V_GP, 0 },    /* MOV CR3, RAX */
    { { 0x0f, 0x08 }, 2, V_GP, 0 },          /* INVD */
    { { 0x0f, 0x09 }, 2, V_GP, 0 },          /* WBINVD */
    { { 0x0f, 0xa2 }, 2, USER_GATE, 0 },     /* CPUID: exits, emulated */
    { { 0xcc }, 1, V_GP, 3 * 8 + 2 },        /* INT3 through a DPL-0 gate */
    { { 0xf1 }, 1, V_DB, 0 },                /* ICEBP ignores the gate's DPL */
    { { 0x0f, 0x0b }, 2, V_UD, 0 },          /* UD2 */
    { { 0x0f, 0x01, 0xc8 }, 3, V_UD, 0 },    /* MONITOR: #UD at CPL 3 */
    { { 0x0f, 0x33 }, 2, -1, 0 },            /* RDPMC: #GP without CR4.PCE, else hidden (#UD) */
    { { 0x0f, 0x31 }, 2, -1, 0 },            /* RDTSC: #GP with CR4.TSD */
};

/* ICEBP (INT1) raises #DB (SDM vol. 3 6.15 "Interrupt 1", vol. 2 INT1); QEMU 7.2's translator
 * leaves it out (#ifdef WANT_ICEBP) and raises #UD: under quirks=qemu-tcg a #UD is taken. */
static bool icebp_is_ud(void)
{
    if (quirk_qemu_tcg && trap_vector == V_UD) {
        quirk_count[Q_ICEBP]++;
        return true;
    }
    return false;
}

static void op_user(void)
{
    const struct user_insn *u = &user_insns[below(sizeof(user_insns) / sizeof(user_insns[0]))];
    uint8_t *code = test_frames[TP_USER] + 0x100;
    for (unsigned i = 0; i < u->len; i++)
        code[i] = u->bytes[i];
    code[u->len] = 0xcd; /* INT 0x81 */
    code[u->len + 1] = USER_GATE;
    uint64_t user_rip = TEST_VA + TP_USER * 4096ull + 0x100;
    uint64_t user_rsp = TEST_VA + TP_USER * 4096ull + 0xff0;
    /* docs/hypercalls.md: from CPL > 0 every call, EXIT included, does nothing but return
     * -EPERM; EXIT and a real CONSOLE_WRITE are safe to try only because of that */
    static const uint64_t user_calls[] = { TESSERA_HC_VM_ID, TESSERA_HC_TIME, TESSERA_HC_YIELD,
                                           TESSERA_HC_EXIT, TESSERA_HC_CONSOLE_WRITE,
                                           TESSERA_HC_SET_TIMER, 0, 7 };
    uint64_t nr = below(8) ? user_calls[below(8)] : rnd();
    uint64_t rax = nr, rbx = 0x77, rcx = (uint32_t)rnd() & 0x3fff, rdx = rnd();
    if (nr == TESSERA_HC_CONSOLE_WRITE) {
        rbx = (uintptr_t)console_line;
        rcx = sizeof(console_line) - 1;
    }
    uint64_t rbx_in = rbx, rcx_in = rcx, rdx_in = rdx;
    if (u->bytes[0] == 0x0f && u->bytes[1] == 0x33)
        rcx = 0; /* a counter that exists */
    __asm__ volatile("invlpg (%0)" : : "r"(user_rip) : "memory");
    trap_clear();
    __asm__ volatile("lea 8f(%%rip), %%r11\n\tmov %%r11, fuzz_resume_rip(%%rip)\n\t"
                     "mov %[urip], fuzz_fault_rip(%%rip)\n\t"
                     "mov %%rsp, fuzz_kernel_rsp(%%rip)\n\t"
                     "pushq %[uss]\n\tpushq %[ursp]\n\tpushq $2\n\tpushq %[ucs]\n\t"
                     "pushq %[urip]\n\tiretq\n"
                     "8:\n\tmovq $0, fuzz_resume_rip(%%rip)\n\t"
                     "mov %[ds], %%ds\n\tmov %[ds], %%es\n\t" /* nulled on the way to CPL 3 */
                     : "+a"(rax), "+b"(rbx), "+c"(rcx), "+d"(rdx)
                     : [uss] "i"(SEL_USER_DATA), [ucs] "i"(SEL_USER_CODE), [ursp] "r"(user_rsp),
                       [urip] "r"(user_rip), [ds] "r"((uint64_t)SEL_DATA)
                     : "r11", "memory", "cc");
    int want = u->vector;
    uint64_t cr4 = read_cr4();
    if (u->bytes[0] == 0x0f && u->bytes[1] == 0x33)
        want = (cr4 & (1ull << 8)) ? V_UD : V_GP; /* CR4.PCE */
    if (u->bytes[0] == 0x0f && u->bytes[1] == 0x31)
        want = (cr4 & (1ull << 2)) ? V_GP : USER_GATE; /* CR4.TSD */
    if (u->bytes[0] == 0xfa)
        want = (cr4 & (1ull << 1)) ? USER_GATE : V_GP; /* CR4.PVI: CLI at CPL 3 clears VIF */
    /* (SDM vol. 3 20.4); QEMU 7.2 has no protected-mode virtual interrupts: its CLI at CPL 3
     * raises #GP whatever CR4.PVI says. Taken under quirks=qemu-tcg. */
    if (u->bytes[0] == 0xfa && want == USER_GATE && quirk_qemu_tcg && trap_vector == V_GP) {
        quirk_count[Q_PVI]++;
        want = V_GP;
    }
    uint64_t want_error = (uint64_t)u->error;
    if (u->bytes[0] == 0xf1 && icebp_is_ud())
        want = V_UD;
    if (u->bytes[0] == 0xcc)
        want_error = (uint64_t)idt_error_code(3); /* #GP on the DPL-0 gate of vector 3 */
    if (want < 0 && u->bytes[0] == 0x0f) { /* VMCALL from CPL 3: -EPERM, nothing else changes */
        if (trap_vector != USER_GATE)
            mismatch("VMCALL from CPL 3 (nr=0x%llx) raised vector %d", (unsigned long long)nr,
                     trap_vector);
        else if (rax != (uint64_t)-TESSERA_EPERM || rbx != rbx_in || rcx != rcx_in ||
                 rdx != rdx_in)
            mismatch("VMCALL from CPL 3 (nr=0x%llx) returned 0x%llx (rbx/rcx/rdx %s), expected "
                     "-EPERM", (unsigned long long)nr, (unsigned long long)rax,
                     rbx != rbx_in || rcx != rcx_in || rdx != rdx_in ? "changed" : "kept");
        observe_trap();
        observe(rax);
        return;
    }
    if (trap_vector != want || (want != USER_GATE && trap_error != want_error))
        mismatch("CPL 3 %02x %02x: vector %d error 0x%llx, expected %d error 0x%llx",
                 u->bytes[0], u->bytes[1], trap_vector, (unsigned long long)trap_error, want,
                 (unsigned long long)want_error);
    else if (want != USER_GATE && want != V_DB && trap_rip != user_rip)
        mismatch("CPL 3 %02x %02x: fault at 0x%llx, expected 0x%llx", u->bytes[0],
                 u->bytes[1], (unsigned long long)trap_rip, (unsigned long long)user_rip);
    observe_trap();
}

/* ---- exceptions ---- */
static volatile uint64_t watch_target;

static void op_exception(void)
{
    unsigned pick = (unsigned)below(28);
    uint64_t x = 0;
    trap_clear();
    switch (pick) {
    case 0: /* #DE */
        __asm__ volatile(TRY_SETUP "xor %%ecx, %%ecx\n\t7: div %%rcx" TRY_END
                         : "+a"(x) : : "rcx", "rdx", "r11", "memory");
        expect("div by zero", V_DE, 0, true);
        break;
    case 1: /* #DE: INT64_MIN / -1 */
        __asm__ volatile(TRY_SETUP "movabs $0x8000000000000000, %%rax\n\tcqo\n\t"
                         "mov $-1, %%rcx\n\t7: idiv %%rcx" TRY_END
                         : "+a"(x) : : "rcx", "rdx", "r11", "memory");
        expect("idiv overflow", V_DE, 0, true);
        break;
    case 2: /* #BP, both encodings */
        if (below(2))
            __asm__ volatile(TRY_SETUP "7: int3" TRY_END : : : "r11", "memory");
        else
            __asm__ volatile(TRY_SETUP "7: .byte 0xcd, 0x03" TRY_END : : : "r11", "memory");
        expect("int3", V_BP, 0, false);
        break;
    case 3: /* ICEBP: #DB past the instruction */
        __asm__ volatile(TRY_SETUP "7: .byte 0xf1" TRY_END : : : "r11", "memory");
        if (icebp_is_ud())
            expect("icebp (QEMU: #UD)", V_UD, 0, true);
        else
            expect("icebp", V_DB, 0, false);
        break;
    case 4: /* #UD: ud2, ud1, ud0, into (invalid in 64-bit mode) */
        switch (below(4)) {
        case 0: __asm__ volatile(TRY_SETUP "7: ud2" TRY_END : : : "r11", "memory"); break;
        case 1: __asm__ volatile(TRY_SETUP "7: .byte 0x0f, 0xb9, 0xc0" TRY_END : : : "r11", "memory"); break;
        case 2: __asm__ volatile(TRY_SETUP "7: .byte 0x0f, 0xff, 0xc0" TRY_END : : : "r11", "memory"); break;
        default: __asm__ volatile(TRY_SETUP "7: .byte 0xce" TRY_END : : : "r11", "memory"); break;
        }
        expect("undefined opcode", V_UD, 0, true);
        break;
    case 5: /* single step: #DB after the instruction following POPF */
        __asm__ volatile(TRY_SETUP "pushfq\n\torq $0x100, (%%rsp)\n\tpopfq\n\tnop\n\t7: nop"
                         "\n8:\n\tmovq $0, fuzz_resume_rip(%%rip)\n\t"
                         "pushfq\n\tandq $~0x100, (%%rsp)\n\tpopfq\n\t"
                         : : : "r11", "memory", "cc");
        /* the trap lands after the nop that follows POPF, at the marked nop */
        expect("single step", V_DB, 0, true);
        if (trap_vector == V_DB && !(trap_dr6 & (1ull << 14)))
            mismatch("single step: DR6=0x%llx without BS", (unsigned long long)trap_dr6);
        break;
    case 6: { /* instruction breakpoint in DR0: a fault at the target */
        /* QEMU 7.2's VMRUN and #VMEXIT load DR7 without updating its own breakpoint list
         * (svm_helper.c assigns env->dr[7]): after a VM switch while a breakpoint is enabled,
         * the next MOV DR7 frees one that does not exist and QEMU itself crashes (SIGSEGV in
         * cpu_breakpoint_remove_by_ref, seen with two fuzzers). Not tried under quirks=qemu-tcg
         * (nor the data breakpoint below). */
        if (quirk_qemu_tcg) {
            quirk_count[Q_DR_BP]++;
            break;
        }
        uint64_t target;
        __asm__ volatile("lea 7f(%%rip), %0\n\t" TRY_SETUP
                         "mov %0, %%dr0\n\tmov $0x401, %%eax\n\tmov %%rax, %%dr7\n\t"
                         "nop\n\t7: nop" TRY_END
                         "mov $0x400, %%eax\n\tmov %%rax, %%dr7\n\t"
                         : "=&r"(target) : : "rax", "r11", "memory");
        expect("instruction breakpoint", V_DB, 0, true);
        if (trap_vector == V_DB && !(trap_dr6 & 1))
            mismatch("instruction breakpoint: DR6=0x%llx without B0", (unsigned long long)trap_dr6);
        break;
    }
    case 7: { /* data breakpoint in DR1 (write, 8 bytes): a trap after the write */
        if (quirk_qemu_tcg) {
            quirk_count[Q_DR_BP]++;
            break;
        }
        uint64_t addr = (uintptr_t)&watch_target;
        __asm__ volatile(TRY_SETUP "mov %0, %%dr1\n\tmov $0xd00404, %%eax\n\tmov %%rax, %%dr7\n\t"
                         "7: movq $1, (%0)" TRY_END
                         "mov $0x400, %%eax\n\tmov %%rax, %%dr7\n\t"
                         : : "r"(addr) : "rax", "r11", "memory");
        expect("data breakpoint", V_DB, 0, false);
        if (trap_vector == V_DB && !(trap_dr6 & 2))
            mismatch("data breakpoint: DR6=0x%llx without B1", (unsigned long long)trap_dr6);
        break;
    }
    case 8: { /* general detect: DR7.GD, then a debug-register access faults */
        /* (SDM vol. 3 17.2.4); QEMU 7.2 has no general detect (its MOV DR helpers ignore GD):
         * under quirks=qemu-tcg not tried */
        if (quirk_qemu_tcg) {
            quirk_count[Q_GD]++;
            break;
        }
        uint64_t dr7_after = 0;
        __asm__ volatile(TRY_SETUP "mov $0x2400, %%eax\n\tmov %%rax, %%dr7\n\t"
                         "7: mov %%dr0, %%rax" TRY_END
                         "mov %%dr7, %0\n\t"
                         "mov $0x400, %%eax\n\tmov %%rax, %%dr7\n\t"
                         : "=r"(dr7_after) : : "rax", "r11", "memory");
        expect("general detect", V_DB, 0, true);
        if (trap_vector == V_DB && !(trap_dr6 & (1ull << 13)))
            mismatch("general detect: DR6=0x%llx without BD", (unsigned long long)trap_dr6);
        if (dr7_after & (1ull << 13))
            mismatch("general detect: DR7.GD still set after the #DB");
        break;
    }
    case 9: { /* DR4/DR5: #UD with CR4.DE, else aliases of DR6/DR7 */
        bool de = read_cr4() & CR4_DE;
        __asm__ volatile(TRY_SETUP "7: mov %%dr4, %%rax" TRY_END : : : "rax", "r11", "memory");
        expect("mov from dr4", de ? V_UD : NO_TRAP, 0, true);
        break;
    }
    case 10: { /* non-canonical data access: #GP(0) */
        uint64_t addr = rnd();
        if (is_canonical(addr))
            addr ^= 1ull << 47;
        __asm__ volatile(TRY_SETUP "7: mov (%1), %0" TRY_END : "+r"(x) : "r"(addr) : "r11", "memory");
        expect("non-canonical access", V_GP, 0, true);
        break;
    }
    case 11: { /* non-canonical stack-segment access through RBP: #SS(0) */
        __asm__ volatile("push %%rbp\n\tmovabs $0x8000000000001000, %%rbp\n\t" TRY_SETUP
                         "7: mov (%%rbp), %0" TRY_END "pop %%rbp\n\t"
                         : "+r"(x) : : "r11", "memory");
        /* QEMU 7.2 raises #GP for every non-canonical address, the stack's too (its page walk
         * knows no segment): under quirks=qemu-tcg that #GP(0) is taken */
        if (quirk_qemu_tcg && trap_vector == V_GP) {
            quirk_count[Q_SS]++;
            expect("non-canonical stack access (QEMU: #GP)", V_GP, 0, true);
            break;
        }
        expect("non-canonical stack access", V_SS, 0, true);
        break;
    }
    case 12: { /* segment loads: absent, beyond the GDT, DPL 3, code into SS */
        static const uint16_t sels[] = { SEL_DATA_NOT_PRESENT, SEL_DATA_DPL3, SEL_CODE,
                                         GDT_ENTRIES * 8, 0x1238, SEL_DATA, SEL_CODE32 };
        unsigned s = (unsigned)below(7);
        uint16_t sel = sels[s];
        bool ss = below(2);
        if (ss)
            __asm__ volatile(TRY_SETUP "7: mov %0, %%ss" TRY_END "mov %1, %%ss\n\t"
                             : : "r"(sel), "r"((uint16_t)SEL_DATA) : "r11", "memory");
        else
            __asm__ volatile(TRY_SETUP "7: mov %0, %%es" TRY_END "mov %1, %%es\n\t"
                             : : "r"(sel), "r"((uint16_t)SEL_DATA) : "r11", "memory");
        int want = NO_TRAP;
        int64_t err = sel & ~3;
        if (sel == SEL_DATA_NOT_PRESENT)
            want = ss ? V_SS : V_NP;
        else if (sel >= GDT_ENTRIES * 8)
            want = V_GP;
        else if (sel == SEL_DATA_DPL3)
            want = ss ? V_GP : NO_TRAP;
        else if (sel == SEL_CODE || sel == SEL_CODE32)
            want = ss ? V_GP : NO_TRAP; /* readable code into ES is fine */
        expect(ss ? "mov ss" : "mov es", want, err, true);
        break;
    }
    case 13: case 14: { /* INT n to any vector; sometimes through an absent gate */
        unsigned v = (unsigned)below(256);
        bool absent = pick == 14;
        extern const char fuzz_int_table[];
        uint64_t entry = (uintptr_t)fuzz_int_table + 4 * (uint64_t)v;
        uint8_t type = idt[v].type;
        if (absent && v != V_NP) /* #NP must reach us */
            idt[v].type = type & 0x7f;
        fuzz_fault_rip = entry;
        __asm__ volatile("lea 2(%0), %%r11\n\tmov %%r11, fuzz_resume_rip(%%rip)\n\t"
                         "call *%0\n\tmovq $0, fuzz_resume_rip(%%rip)"
                         : : "r"(entry) : "r11", "memory");
        trap_fault_rip = entry;
        idt[v].type = type;
        if (absent && v != V_NP)
            expect("int n through an absent gate", V_NP, idt_error_code(v), true);
        else
            expect("int n", (int)v, -1, false);
        break;
    }
    case 15: { /* INT n past the IDT limit: #GP(n*8+2) */
        unsigned v = 32 + (unsigned)below(224);
        extern const char fuzz_int_table[];
        uint64_t entry = (uintptr_t)fuzz_int_table + 4 * (uint64_t)v;
        idt_load(32 * 16 - 1);
        __asm__ volatile("lea 2(%0), %%r11\n\tmov %%r11, fuzz_resume_rip(%%rip)\n\t"
                         "call *%0\n\tmovq $0, fuzz_resume_rip(%%rip)"
                         : : "r"(entry) : "r11", "memory");
        idt_load(sizeof(idt) - 1);
        trap_fault_rip = entry;
        expect("int n past the IDT limit", V_GP, idt_error_code(v), true);
        break;
    }
    case 16: { /* #DF: #DE whose gate is absent (#NP while delivering it) */
        idt[V_DE].type = 0x0e;
        __asm__ volatile(TRY_SETUP "xor %%ecx, %%ecx\n\t7: div %%rcx" TRY_END
                         : "+a"(x) : : "rcx", "rdx", "r11", "memory");
        idt[V_DE].type = 0x8e;
        expect("#DE through an absent gate", V_DF, 0, true);
        break;
    }
    case 17: { /* #DF: #PF whose gate is absent */
        idt[V_PF].type = 0x0e;
        volatile uint8_t *p = (volatile uint8_t *)(TEST_VA + TP_ABSENT * 4096 + below(4096));
        __asm__ volatile(TRY_SETUP "7: movb (%1), %b0" TRY_END : "+r"(x) : "r"(p) : "r11", "memory");
        idt[V_PF].type = 0x8e;
        expect("#PF through an absent gate", V_DF, 0, true);
        break;
    }
    case 18: case 19: { /* #PF on the test pages */
        unsigned page = (unsigned)below(TP_COUNT);
        unsigned access = (unsigned)below(3); /* read, write, execute */
        uint64_t off = access == 2 ? 0 : below(4096 - 8);
        uint64_t addr = TEST_VA + page * 4096ull + off;
        uint64_t cr0 = read_cr0(), cr4 = read_cr4(), efer = rdmsr(0xc0000080u);
        bool nxe = efer & EFER_NXE;
        int want = NO_TRAP;
        uint64_t err = (access == 1 ? PF_W : 0) | ((access == 2 && (nxe || (cr4 & CR4_SMEP))) ? 0x10 : 0);
        switch (page) {
        case TP_RW: break;
        case TP_RO: if (access == 1 && (cr0 & CR0_WP)) { want = V_PF; err |= PF_P; } break;
        case TP_ABSENT: want = V_PF; break;
        case TP_RSVD: want = V_PF; err |= PF_P | PF_RSVD; break;
        case TP_USER:
            if ((access == 2 && (cr4 & CR4_SMEP)) || (access != 2 && (cr4 & CR4_SMAP))) {
                want = V_PF;
                err |= PF_P;
            }
            break;
        case TP_NX:
            if (!nxe) { want = V_PF; err |= PF_P | PF_RSVD; }
            else if (access == 2) { want = V_PF; err |= PF_P; }
            break;
        }
        /* a translation cached before EFER.NXE or the PTE rights mattered may stay in the TLB
         * (WRMSR to EFER flushes nothing): start from the page tables */
        __asm__ volatile("invlpg (%0)" : : "r"(addr) : "memory");
        if (access == 0)
            __asm__ volatile(TRY_SETUP "7: mov (%1), %0" TRY_END : "+r"(x) : "r"(addr) : "r11", "memory");
        else if (access == 1)
            __asm__ volatile(TRY_SETUP "7: movq $0, (%0)" TRY_END : : "r"(addr) : "r11", "memory");
        else /* a fault on the fetch leaves the call's return address: resume at 6, which drops it */
            __asm__ volatile("lea 6f(%%rip), %%r11\n\tmov %%r11, fuzz_resume_rip(%%rip)\n\t"
                             "lea 7f(%%rip), %%r11\n\tmov %%r11, fuzz_fault_rip(%%rip)\n\t"
                             "7: call *%0\n\tjmp 8f\n"
                             "6: add $8, %%rsp\n"
                             "8: movq $0, fuzz_resume_rip(%%rip)"
                             : : "r"(addr) : "r11", "memory");
        if (access == 2) { /* an instruction fetch faults at the target, not at the call */
            trap_fault_rip = addr;
        }
        if (want == V_PF && trap_vector == V_PF && trap_cr2 != addr)
            mismatch("#PF at 0x%llx reports CR2=0x%llx", (unsigned long long)addr,
                     (unsigned long long)trap_cr2);
        char what[96];
        ksnprintf(what, sizeof(what), "test page %u access %u (cr0=0x%llx cr4=0x%llx efer=0x%llx)",
                  page, access, (unsigned long long)cr0, (unsigned long long)cr4,
                  (unsigned long long)efer);
        /* a reserved bit in a present entry: P=1 and RSVD=1 (SDM vol. 3 4.7); QEMU 7.2's page
         * walk (rewritten for 7.2) reports RSVD without P: under quirks=qemu-tcg taken */
        if (quirk_qemu_tcg && (err & PF_RSVD) && trap_vector == V_PF &&
            trap_error == (err & ~PF_P)) {
            quirk_count[Q_PF_RSVD]++;
            err &= ~PF_P;
        }
        expect(what, want, (int64_t)err, true);
        test_frames[page][0] = 0xc3;
        break;
    }
    case 20: { /* x87: #NM with CR0.EM or TS, else #MF from an unmasked divide by zero */
        uint64_t cr0 = read_cr0();
        uint16_t cw = 0x037b; /* ZM unmasked */
        __asm__ volatile(TRY_SETUP "7: fninit\n\tfldcw %0\n\tfldz\n\tfld1\n\tfdivp\n\tfwait" TRY_END
                         : : "m"(cw) : "r11", "memory");
        /* with CR0.NE=0 the error is reported the MS-DOS way (FERR#, an external interrupt; SDM
         * vol. 1 8.7, APM vol. 2 8.2.6), not as #MF: nothing is required then (under VMX, CR0.NE
         * stays 1 underneath, so #MF comes anyway) */
        if (cr0 & (CR0_EM | CR0_TS))
            expect("x87 with EM/TS", V_NM, 0, true);
        else if (trap_vector != V_MF && ((cr0 & CR0_NE) || trap_vector != NO_TRAP))
            mismatch("x87 divide by zero (unmasked): vector %d, expected #MF (cr0=0x%llx)",
                     trap_vector, (unsigned long long)cr0);
        __asm__ volatile("clts");
        safe_write_cr0(base_cr0);
        __asm__ volatile("fninit");
        break;
    }
    case 21: { /* SSE: #UD without OSFXSR or with EM, #NM with TS, #XM or #UD by OSXMMEXCPT */
        uint64_t cr0 = read_cr0(), cr4 = read_cr4();
        uint32_t csr = 0x1d80, def = 0x1f80; /* ZM unmasked */
        uint32_t one = 0x3f800000, zero = 0;
        __asm__ volatile(TRY_SETUP "7: ldmxcsr %0\n\tmovd %1, %%xmm0\n\tmovd %2, %%xmm1\n\t"
                         "divss %%xmm1, %%xmm0" TRY_END
                         : : "m"(csr), "r"(one), "r"(zero) : "r11", "memory");
        int want;
        if (!(cr4 & CR4_OSFXSR) || (cr0 & CR0_EM))
            want = V_UD;
        else if (cr0 & CR0_TS)
            want = V_NM;
        else
            want = (cr4 & CR4_OSXMMEXCPT) ? V_XM : V_UD;
        /* QEMU 7.2 raises no SIMD floating-point exception at all (it has no #XM, SDM vol. 3
         * 6.15 Interrupt 19, nor the #UD for it without CR4.OSXMMEXCPT): taken under
         * quirks=qemu-tcg */
        if (quirk_qemu_tcg && want == ((cr4 & CR4_OSXMMEXCPT) ? V_XM : V_UD) &&
            (cr4 & CR4_OSFXSR) && !(cr0 & (CR0_EM | CR0_TS)) && trap_vector == NO_TRAP) {
            quirk_count[Q_XM]++;
            want = NO_TRAP;
        }
        if (trap_vector != want)
            mismatch("SSE divide by zero: vector %d, expected %d (cr0=0x%llx cr4=0x%llx)",
                     trap_vector, want, (unsigned long long)cr0, (unsigned long long)cr4);
        __asm__ volatile("clts");
        safe_write_cr0(base_cr0);
        if (read_cr4() & CR4_OSFXSR)
            __asm__ volatile("ldmxcsr %0" : : "m"(def));
        break;
    }
    case 23: case 24:
        op_user();
        return;
    case 26: { /* an exiting instruction in the shadow of MOV SS (interrupts and debug traps held
                * back for one instruction), with or without TF: VM entry has rules for this
                * state (SDM 26.3.1.5: pending debug exceptions and blocking by MOV SS) */
        unsigned which = (unsigned)below(6);
        uint64_t tf = below(2) ? 0x100 : 0;
#define IN_SHADOW(INSN, A, C)                                                                     \
    __asm__ volatile(TRY_SETUP "pushfq\n\torq %[tf], (%%rsp)\n\tpopfq\n\t"                          \
                     "mov %%ss, %%r11\n\tmov %%r11, %%ss\n\t7: " INSN "\n\tnop"                       \
                     "\n8:\n\tmovq $0, fuzz_resume_rip(%%rip)\n\t"                                \
                     "pushfq\n\tandq $~0x100, (%%rsp)\n\tpopfq\n\t"                              \
                     : : "a"(A), "c"(C), [tf] "r"(tf) : "rbx", "rdx", "r11", "memory", "cc")
        switch (which) {
        case 0: IN_SHADOW("cpuid", 0ull, 0ull); break;
        case 1: IN_SHADOW("vmcall", (uint64_t)TESSERA_HC_VM_ID, 0ull); break;
        case 2: IN_SHADOW("inb $0x80, %%al", 0ull, 0ull); break;
        case 3: IN_SHADOW("rdmsr", 0ull, 0x8bull); break;
        case 4: IN_SHADOW("rdmsr", 0ull, 0x12345ull); break; /* #GP injected, not skipped */
        default: IN_SHADOW("ud2", 0ull, 0ull); break;        /* #UD exit, re-injected */
        }
#undef IN_SHADOW
        break;
    }
    case 25: { /* single step over an instruction the hypervisor emulates: #DB right after it */
        static const char *const names[] = { "cpuid", "vmcall", "in", "rdmsr", "mov cr8", "hlt" };
        unsigned which = (unsigned)below(6);
#define STEP_OVER(INSN, A, C)                                                                     \
    __asm__ volatile(TRY_SETUP "pushfq\n\torq $0x100, (%%rsp)\n\tpopfq\n\t" INSN "\n7:\n\tnop"     \
                     "\n8:\n\tmovq $0, fuzz_resume_rip(%%rip)\n\t"                                \
                     "pushfq\n\tandq $~0x100, (%%rsp)\n\tpopfq\n\t"                              \
                     : : "a"(A), "c"(C) : "rbx", "rdx", "r11", "memory", "cc")
        switch (which) {
        case 0: STEP_OVER("cpuid", 0ull, 0ull); break;
        case 1: STEP_OVER("vmcall", (uint64_t)TESSERA_HC_VM_ID, 0ull); break;
        case 2: STEP_OVER("inb $0x80, %%al", 0ull, 0ull); break;
        case 3: STEP_OVER("rdmsr", 0ull, 0x8bull); break;
        case 4: STEP_OVER("mov %%cr8, %%rax", 0ull, 0ull); break;
        default: STEP_OVER("hlt", 0ull, 0ull); break; /* IF is clear: only the #DB resumes it */
        }
#undef STEP_OVER
        /* the trap must come right after the instruction (at the marked nop), not one later:
         * both backends raise it themselves after what they emulate (SDM 17.3.1.4) */
        if (trap_vector != V_DB || trap_rip != trap_fault_rip || !(trap_dr6 & (1ull << 14)))
            mismatch("single step over %s: vector %d at 0x%llx (DR6=0x%llx), expected #DB "
                     "with BS at 0x%llx", names[which], trap_vector, (unsigned long long)trap_rip,
                     (unsigned long long)trap_dr6, (unsigned long long)trap_fault_rip);
        break;
    }
    default: { /* random RFLAGS through POPF (no TF: covered above; IF stays off) */
        uint64_t flags = rnd() & 0x00254dd5ull & ~(RFLAGS_TF | (1ull << 9)), back;
        __asm__ volatile("pushfq\n\tpush %1\n\tpopfq\n\tpushfq\n\tpop %0\n\tpopfq"
                         : "=r"(back) : "r"(flags) : "memory", "cc");
        observe(back);
        break;
    }
    }
    observe_trap();
}

/* INT n for every n: 4 bytes apart, "int $n; ret; nop". */
__asm__(".section .text\n"
        ".balign 16\n"
        ".global fuzz_int_table\n"
        "fuzz_int_table:\n"
        ".set fuzz_n, 0\n"
        ".rept 256\n"
        "    .byte 0xcd, fuzz_n, 0xc3, 0x90\n"
        "    .set fuzz_n, fuzz_n + 1\n"
        ".endr\n"
        ".previous\n");

/* ---- other instructions that exit or are emulated ---- */
static void op_insn(void)
{
    unsigned pick = (unsigned)below(10);
    trap_clear();
    switch (pick) {
    case 0: case 1: case 2: { /* CPUID */
        static const uint32_t leaves[] = { 0, 1, 2, 4, 6, 7, 0xa, 0xb, 0xd, 0x14, 0x15, 0x16,
                                           0x40000000, 0x40000001, 0x40000002, 0x400000ff,
                                           0x40000100, 0x80000000, 0x80000001, 0x80000008 };
        uint32_t leaf = below(4) ? leaves[below(sizeof(leaves) / sizeof(leaves[0]))] : (uint32_t)rnd();
        uint32_t sub = below(2) ? 0 : (uint32_t)rnd(), a, b, c, d;
        __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(leaf), "c"(sub));
        if (leaf == 1 && (!(c >> 31) || (c & (1u << 5))))
            mismatch("cpuid 1: ecx=0x%x (hypervisor bit clear or VMX shown)", c);
        if (leaf == 0x40000000 && (a != TESSERA_CPUID_MAX || b != TESSERA_CPUID_SIG_EBX ||
                                   c != TESSERA_CPUID_SIG_ECX || d != TESSERA_CPUID_SIG_EDX))
            mismatch("cpuid 0x40000000: bad signature");
        if (leaf > 0x40000001 && leaf <= 0x400000ff && (a | b | c | d))
            mismatch("cpuid 0x%x: not zero", leaf);
        if (leaf == 1)
            b &= 0x00ffffff; /* initial APIC id: the CPU we run on */
        observe(a); observe(b); observe(c); observe(d);
        return;
    }
    case 3: /* RDPMC: hidden, #UD */
        __asm__ volatile(TRY_SETUP "7: rdpmc" TRY_END : : "c"((uint32_t)rnd()) : "rax", "rdx", "r11", "memory");
        expect("rdpmc", V_UD, 0, true);
        break;
    case 4: /* MONITOR / MWAIT: hidden, #UD */
        if (below(2))
            __asm__ volatile(TRY_SETUP "7: monitor" TRY_END : : "a"(rnd()), "c"(0), "d"(0) : "r11", "memory");
        else
            __asm__ volatile(TRY_SETUP "7: mwait" TRY_END : : "a"(0), "c"(0) : "r11", "memory");
        expect("monitor/mwait", V_UD, 0, true);
        break;
    case 5: /* INVD / WBINVD: skipped by the hypervisor */
        if (below(2))
            __asm__ volatile(TRY_SETUP "7: invd" TRY_END : : : "r11", "memory");
        else
            __asm__ volatile(TRY_SETUP "7: wbinvd" TRY_END : : : "r11", "memory");
        expect("invd/wbinvd", NO_TRAP, -1, false);
        break;
    case 6: { /* RDTSCP: offered when the CPU has it */
        __asm__ volatile(TRY_SETUP "7: rdtscp" TRY_END : : : "rax", "rcx", "rdx", "r11", "memory");
        expect("rdtscp", has_rdtscp ? NO_TRAP : V_UD, 0, true);
        break;
    }
    case 7: { /* GETSEC: #UD while CR4.SMXE is clear (with it set it would exit: left out) */
        if (read_cr4() & CR4_SMXE)
            break;
        __asm__ volatile(TRY_SETUP "7: getsec" TRY_END : : "a"(0) : "rbx", "rcx", "r11", "memory");
        expect("getsec", V_UD, 0, true);
        break;
    }
    case 8: { /* XGETBV: #UD without CR4.OSXSAVE */
        uint32_t lo = 0, hi = 0;
        bool osxsave = read_cr4() & CR4_OSXSAVE;
        __asm__ volatile(TRY_SETUP "7: xgetbv" TRY_END : "+a"(lo), "+d"(hi) : "c"(0) : "r11", "memory");
        expect("xgetbv", osxsave ? NO_TRAP : V_UD, 0, true);
        observe(lo);
        break;
    }
    default: { /* INVLPG of anything, and INVPCID of random type */
        uint64_t addr = rnd_value();
        __asm__ volatile("invlpg (%0)" : : "r"(addr) : "memory");
        struct { uint64_t pcid, addr; } desc = { below(2) ? 0 : rnd_value(), rnd_value() };
        uint64_t type = below(5);
        __asm__ volatile(TRY_SETUP "7: invpcid %0, %1" TRY_END : : "m"(desc), "r"(type) : "r11", "memory");
        break;
    }
    }
    observe_trap();
}

/* Two exceptions at other places, so the hypervisor's storm detector (the same exception at the
 * same RIP 1000 times in a row) never sees one of our many exceptions at one site as a storm. */
static void storm_break(void)
{
    static unsigned n;
    trap_clear();
    if (n++ & 1)
        __asm__ volatile(TRY_SETUP "7: ud2" TRY_END : : : "r11", "memory");
    else
        __asm__ volatile(TRY_SETUP "nop\n\t7: ud2" TRY_END : : : "r11", "memory");
    expect("storm breaker", V_UD, 0, true);
    storm_budget = 0;
}

/* ---- setup and the loop ---- */
static int parse_mix(unsigned mix[K_COUNT])
{
    char text[64];
    int rc = cmdline_get(guest_cmdline, "mix", text, sizeof(text));
    for (unsigned i = 0; i < K_COUNT; i++)
        mix[i] = default_mix[i];
    if (rc == -ENOENT)
        return 0;
    if (rc < 0)
        return -EINVAL;
    const char *p = text;
    for (unsigned i = 0; i < K_COUNT; i++) {
        const char *start = p;
        while (*p && *p != ',')
            p++;
        uint64_t v;
        if (cmdline_parse_u64(start, (size_t)(p - start), &v) < 0 || v > 1000)
            return -EINVAL;
        mix[i] = (unsigned)v;
        if (i + 1 < K_COUNT) {
            if (*p != ',')
                return -EINVAL;
            p++;
        }
    }
    return *p ? -EINVAL : 0;
}

static void machine_setup(void)
{
    uint32_t a, b, c, d;
    cpuid(0, &a, &b, &c, &d);
    cpuid(1, &a, &b, &c, &d);
    has_pcid = c & (1u << 17);
    cpuid(7, &a, &b, &c, &d);
    has_smep = b & (1u << 7);
    has_smap = b & (1u << 20);
    cpuid(0x80000000, &a, &b, &c, &d);
    if (a >= 0x80000008) {
        cpuid(0x80000008, &a, &b, &c, &d);
        maxphyaddr = a & 0xff;
    }
    cpuid(0x80000001, &a, &b, &c, &d);
    has_rdtscp = d & (1u << 27);

    tss.rsp[0] = (uintptr_t)user_trap_stack + sizeof(user_trap_stack);
    tss.iomap_base = sizeof(tss);
    gdt_set_tss64(&gdt[SEL_TSS / 8], (uintptr_t)&tss, sizeof(tss) - 1);
    struct table_pointer g = { sizeof(gdt) - 1, (uintptr_t)gdt };
    __asm__ volatile("lgdt %0\n\t"
                     "mov %1, %%ds\n\tmov %1, %%es\n\tmov %1, %%ss\n\t"
                     "mov %1, %%fs\n\tmov %1, %%gs\n\t"
                     : : "m"(g), "r"((uint16_t)SEL_DATA) : "memory");
    __asm__ volatile("ltr %w0" : : "r"((uint16_t)SEL_TSS) : "memory");
    for (unsigned v = 0; v < 256; v++)
        gate_set(v, 0x8e);
    gate_set(USER_GATE, 0xee); /* DPL 3 */
    idt_load(sizeof(idt) - 1);
    paging_setup(ram_size);
    /* SSE on, its exceptions reported: the SSE op needs a known start */
    uint64_t cr4 = read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT;
    __asm__ volatile("mov %0, %%cr4" : : "r"(cr4) : "memory");
    __asm__ volatile("fninit");
    base_cr0 = read_cr0();
    base_cr4 = read_cr4();
    base_efer = rdmsr(0xc0000080u);
}

int guest_main(const struct tessera_start_info *info)
{
    (void)info;
    uint64_t ops, report_every;
    unsigned mix[K_COUNT];
    if (cmdline_u64_option("fuzzer", guest_cmdline, "seed", 1, 0, UINT64_MAX, &seed) < 0 ||
        cmdline_u64_option("fuzzer", guest_cmdline, "ops", DEFAULT_OPS, 1, 1000000000ull, &ops) < 0 ||
        cmdline_u64_option("fuzzer", guest_cmdline, "report", 0, 0, 1000000000ull,
                           &report_every) < 0)
        return BAD_CMDLINE;
    if (parse_mix(mix) < 0) {
        guest_printf("fuzzer: bad option mix (six weights: hypercall,io,msr,cr,exception,insn)\n");
        return BAD_CMDLINE;
    }
    char quirks[16];
    int qrc = cmdline_get(guest_cmdline, "quirks", quirks, sizeof(quirks));
    if (qrc >= 0 && strcmp(quirks, "qemu-tcg") == 0) {
        quirk_qemu_tcg = true;
    } else if (qrc != -ENOENT) {
        guest_printf("fuzzer: bad option quirks (the only one known: qemu-tcg)\n");
        return BAD_CMDLINE;
    }
    if (!report_every)
        report_every = ops >= 10 ? ops / 10 : 1;
    /* Bare, the port and MSR ops would reach real devices (0xcf9 resets a PC, 0x70/0x71 write
     * the CMOS): only ever run inside Tessera. */
    if (!tessera_detect(NULL, NULL)) {
        guest_printf("fuzzer: not running under Tessera: refusing (random writes to real ports "
                     "and MSRs)\n");
        return BAD_CMDLINE;
    }
    unsigned total = 0;
    for (unsigned i = 0; i < K_COUNT; i++)
        total += mix[i];
    if (!total) {
        guest_printf("fuzzer: bad option mix (all weights zero)\n");
        return BAD_CMDLINE;
    }
    ram_size = guest_mem_size ? guest_mem_size : 0x1000000ull;
    vm_id = (uint64_t)tessera_vm_id();
    struct tessera_time t;
    tessera_time(&t);
    tsc_hz = t.tsc_hz;
    uint64_t s = seed;
    rng = splitmix64(&s);
    if (!rng)
        rng = 1;
    machine_setup();
    guest_printf("fuzzer: start seed=0x%llx ops=%llu mix=%u,%u,%u,%u,%u,%u ram=0x%llx\n",
                 (unsigned long long)seed, (unsigned long long)ops, mix[0], mix[1], mix[2],
                 mix[3], mix[4], mix[5], (unsigned long long)ram_size);

    uint64_t count[K_COUNT] = { 0 };
    for (op_index = 0; op_index < ops; op_index++) {
        uint64_t r = below(total);
        unsigned k = 0;
        while (r >= mix[k])
            r -= mix[k++];
        count[k]++;
        observe(k);
        switch (k) {
        case K_HYPERCALL: op_hypercall(); break;
        case K_IO: op_io(); break;
        case K_MSR: op_msr(); break;
        case K_CR: op_cr(); break;
        case K_EXCEPTION: op_exception(); break;
        default: op_insn(); break;
        }
        if (storm_budget >= STORM_BREAK_AFTER)
            storm_break();
        if ((op_index + 1) % report_every == 0 && op_index + 1 < ops)
            report("fuzzer: progress %llu/%llu checksum=0x%016llx mismatches=%llu\n",
                   (unsigned long long)(op_index + 1), (unsigned long long)ops,
                   (unsigned long long)checksum, (unsigned long long)mismatches);
    }
    restore_baseline();
    uint64_t traps = 0;
    for (unsigned v = 0; v < 256; v++)
        traps += vector_count[v];
    /* host console lines hold 160 characters: several short lines */
    report("fuzzer: traps=%llu deviations=%llu\n", (unsigned long long)traps,
           (unsigned long long)deviations);
    if (quirk_qemu_tcg) { /* one line, 160 characters at most */
        char known[160];
        unsigned k = (unsigned)ksnprintf(known, sizeof(known), "fuzzer: known=qemu-tcg");
        for (unsigned q = 0; q < Q_COUNT; q++)
            k += (unsigned)ksnprintf(known + k, sizeof(known) - k, " %s=%llu", quirk_names[q],
                                     (unsigned long long)quirk_count[q]);
        report("%s\n", known);
    }
    unsigned shown = 0;
    char line[160];
    unsigned n = 0;
    uint64_t high = 0; /* INT n to vectors 32-255: one total */
    for (unsigned v = 32; v < 256; v++)
        high += vector_count[v];
    for (unsigned v = 0; v <= 32; v++) {
        uint64_t count_v = v < 32 ? vector_count[v] : high;
        if (!count_v)
            continue;
        if (shown % 8 == 0)
            n = (unsigned)ksnprintf(line, sizeof(line), "fuzzer: vectors");
        if (v < 32)
            n += (unsigned)ksnprintf(line + n, sizeof(line) - n, " %u=%llu", v,
                                     (unsigned long long)count_v);
        else
            n += (unsigned)ksnprintf(line + n, sizeof(line) - n, " 32-255=%llu",
                                     (unsigned long long)count_v);
        if (++shown % 8 == 0)
            guest_printf("%s\n", line);
    }
    if (shown % 8)
        guest_printf("%s\n", line);
    guest_printf("fuzzer: done seed=0x%llx ops=%llu hc=%llu io=%llu msr=%llu cr=%llu exc=%llu "
                 "insn=%llu mismatches=%llu checksum=0x%016llx\n", (unsigned long long)seed,
                 (unsigned long long)ops, (unsigned long long)count[0],
                 (unsigned long long)count[1], (unsigned long long)count[2],
                 (unsigned long long)count[3], (unsigned long long)count[4],
                 (unsigned long long)count[5], (unsigned long long)mismatches,
                 (unsigned long long)checksum);
    return mismatches ? 1 : 0;
}
