/* Exceptions in the hypervisor itself: every one is fatal (a host NMI is not an exception: it is
 * counted, see x86_trap_handler). Print what a reader needs to find the
 * bug (which exception, where, every register, the control registers, a short stack trace), then
 * end the run cleanly with status fail. A fault while doing that halts at once: no loops. */
#include <drivers/uart16550.h>
#include <tessera/arch.h>
#include <tessera/printf.h>
#include <x86/cpu.h>
#include <x86/desc.h>
#include <x86/lapic.h>
#include <x86/io.h>

#define STACK_TRACE_MAX 16

extern char kernel_stack_bottom[], kernel_stack_top[];

static const char *const exception_names[32] = {
    [0] = "#DE divide error",
    [1] = "#DB debug",
    [2] = "NMI",
    [3] = "#BP breakpoint",
    [4] = "#OF overflow",
    [5] = "#BR bound range exceeded",
    [6] = "#UD invalid opcode",
    [7] = "#NM device not available",
    [8] = "#DF double fault",
    [9] = "coprocessor segment overrun",
    [10] = "#TS invalid TSS",
    [11] = "#NP segment not present",
    [12] = "#SS stack-segment fault",
    [13] = "#GP general protection",
    [14] = "#PF page fault",
    [16] = "#MF x87 floating-point error",
    [17] = "#AC alignment check",
    [18] = "#MC machine check",
    [19] = "#XM SIMD floating-point exception",
    [20] = "#VE virtualization exception",
    [21] = "#CP control protection",
    [28] = "#HV hypervisor injection",
    [29] = "#VC VMM communication",
    [30] = "#SX security exception",
};

static int trap_active;
uint64_t x86_nmi_count;

uint64_t arch_host_nmis(void) { return __atomic_load_n(&x86_nmi_count, __ATOMIC_RELAXED); }

/* The console layer's way out of its lock when the fault happened while holding it (single CPU,
 * interrupts off: the holder is the faulting code). Weak until kernel/console.c provides it. */
void console_emergency(void) __attribute__((weak));

static void nested_fault(void)
{
    /* Straight to the UART: the console layer may be what faulted. */
    static const char msg[] = "\ntessera: fault inside the fault handler; halting\n"
                              "tessera: end status=fail\n";
    uart_write(msg, sizeof(msg) - 1);
    uart_drain();
    if (arch_poweroff_exit_qemu())
        outb(0xf4, 0x11);
    arch_halt_forever();
}

static int frame_on_kernel_stack(uint64_t fp)
{
    uint64_t lo = (uint64_t)(uintptr_t)kernel_stack_bottom;
    uint64_t hi = (uint64_t)(uintptr_t)kernel_stack_top;
    return (fp & 7) == 0 && fp >= lo && fp <= hi - 16;
}

static void print_stack_trace(const struct x86_trap_frame *f)
{
    kprintf("  stack trace (innermost first):\n");
    kprintf("    #0  %016llx (faulting RIP)\n", (unsigned long long)f->rip);
    uint64_t fp = f->rbp;
    unsigned depth = 1;
    while (depth < STACK_TRACE_MAX) {
        if (!frame_on_kernel_stack(fp)) {
            if (fp != 0)
                kprintf("    (frame pointer %016llx is outside the kernel stack; trace ends)\n",
                        (unsigned long long)fp);
            break;
        }
        const uint64_t *frame = (const uint64_t *)(uintptr_t)fp;
        uint64_t ret = frame[1];
        if (ret == 0)
            break;
        kprintf("    #%-2u %016llx\n", depth, (unsigned long long)ret);
        depth++;
        if (frame[0] <= fp) /* frames must move towards the stack top */
            break;
        fp = frame[0];
    }
    if (depth == STACK_TRACE_MAX)
        kprintf("    (more frames not shown)\n");
}

static void dump(const struct x86_trap_frame *f)
{
    const char *name = f->vector < 32 && exception_names[f->vector]
                           ? exception_names[f->vector]
                           : f->vector < 32 ? "reserved exception" : "unexpected interrupt";
    kprintf("\ntessera: FATAL: exception %s (vector %llu) in the hypervisor\n", name,
            (unsigned long long)f->vector);
    kprintf("  error code %016llx", (unsigned long long)f->error);
    if (f->vector == 14)
        kprintf(" (%s, %s, %s%s)", f->error & 1 ? "protection violation" : "not present",
                f->error & 2 ? "write" : "read", f->error & 4 ? "user" : "supervisor",
                f->error & 16 ? ", instruction fetch" : "");
    kprintf("\n");
    kprintf("  RIP %016llx  CS  %04llx  RFLAGS %016llx\n", (unsigned long long)f->rip,
            (unsigned long long)f->cs, (unsigned long long)f->rflags);
    kprintf("  RSP %016llx  SS  %04llx\n", (unsigned long long)f->rsp, (unsigned long long)f->ss);
    kprintf("  RAX %016llx  RBX %016llx  RCX %016llx\n", (unsigned long long)f->rax,
            (unsigned long long)f->rbx, (unsigned long long)f->rcx);
    kprintf("  RDX %016llx  RSI %016llx  RDI %016llx\n", (unsigned long long)f->rdx,
            (unsigned long long)f->rsi, (unsigned long long)f->rdi);
    kprintf("  RBP %016llx  R8  %016llx  R9  %016llx\n", (unsigned long long)f->rbp,
            (unsigned long long)f->r8, (unsigned long long)f->r9);
    kprintf("  R10 %016llx  R11 %016llx  R12 %016llx\n", (unsigned long long)f->r10,
            (unsigned long long)f->r11, (unsigned long long)f->r12);
    kprintf("  R13 %016llx  R14 %016llx  R15 %016llx\n", (unsigned long long)f->r13,
            (unsigned long long)f->r14, (unsigned long long)f->r15);
    kprintf("  CR0 %016llx  CR2 %016llx  CR3 %016llx\n", (unsigned long long)read_cr0(),
            (unsigned long long)read_cr2(), (unsigned long long)read_cr3());
    kprintf("  CR4 %016llx  EFER %016llx\n", (unsigned long long)read_cr4(),
            (unsigned long long)rdmsr(MSR_IA32_EFER));
    print_stack_trace(f);
}

void x86_trap_handler(struct x86_trap_frame *f)
{
    if (f->vector == LAPIC_SPURIOUS_VECTOR)
        return; /* local APIC spurious interrupt: no EOI, nothing to do (SDM Vol. 3A 11.9) */
    if (f->vector == LAPIC_TIMER_VECTOR || f->vector == LAPIC_WAKE_VECTOR) {
        lapic_eoi(); /* a time slice ended (SVM) or an idle CPU woke: the run loop sees to it */
        return;
    }
    if (f->vector == 2) {
        /* A host NMI (LINT1, x86/lapic.c): nothing here acts on one; counted, and the run goes
         * on (IRET ends NMI blocking). Under AMD-V the NMI that ended a guest's run is taken
         * here once the backend sets GIF again (APM 15.17.1). No printing: the NMI may have
         * interrupted the console's holder. */
        __atomic_fetch_add(&x86_nmi_count, 1, __ATOMIC_RELAXED);
        return;
    }
    if (__atomic_exchange_n(&trap_active, 1, __ATOMIC_ACQUIRE))
        nested_fault();
    if (console_emergency)
        console_emergency();
    dump(f);
    kprintf("tessera: end status=fail\n");
    arch_end_run(false);
}
