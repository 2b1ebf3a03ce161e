/* The vendor-neutral vCPU interface. The generic kernel creates, runs and inspects vCPUs only
 * through these functions; arch/x86/virt.c dispatches them to the VMX backend (arch/x86/vmx/)
 * or the SVM one (arch/x86/svm/), chosen at boot. Backend state hangs off vcpu->backend. */
#ifndef TESSERA_VCPU_H
#define TESSERA_VCPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <tessera/guest_boot.h>

struct vm;

/* Why a vCPU left guest mode, as far as generic code cares. Everything else (CPUID, control
 * registers, MSRs, interrupts) the backend handles itself. */
enum vcpu_exit_kind {
    VCPU_EXIT_IO = 1,        /* port I/O the generic device layer must complete */
    VCPU_EXIT_HYPERCALL = 2, /* VMCALL/VMMCALL: registers hold the call */
    VCPU_EXIT_HLT = 3,       /* the guest halted */
    VCPU_EXIT_PREEMPTED = 4, /* its time slice ran out */
    VCPU_EXIT_FAULT = 5,     /* the guest cannot go on: reason says why */
    VCPU_EXIT_INTERRUPT_WINDOW = 6, /* asked for (want_interrupt_window): it can take one now */
    VCPU_EXIT_MMIO = 7, /* a data access to guest-physical memory outside the VM's RAM (a device's
                         * if its bus has one there); complete with vcpu_complete_mmio */
    VCPU_EXIT_MSR = 8,  /* RDMSR/WRMSR of an MSR the backend does not handle itself (the device
                         * models' IA32_APIC_BASE, IA32_TSC_DEADLINE); vcpu_complete_msr */
};

/* The exits generic code completes by stepping past the guest's instruction. */
static inline bool vcpu_exit_completes(uint32_t kind)
{
    return kind == VCPU_EXIT_IO || kind == VCPU_EXIT_HYPERCALL || kind == VCPU_EXIT_HLT ||
           kind == VCPU_EXIT_MMIO || kind == VCPU_EXIT_MSR;
}

/* Exit statistics, by generic category, kept per vCPU for the summary table. */
enum vcpu_stat {
    VCPU_STAT_CPUID,
    VCPU_STAT_IO,
    VCPU_STAT_HYPERCALL,
    VCPU_STAT_HLT,
    VCPU_STAT_PREEMPT,
    VCPU_STAT_CR,
    VCPU_STAT_MSR,
    VCPU_STAT_EXCEPTION,
    VCPU_STAT_NPF,  /* EPT violation / nested page fault */
    VCPU_STAT_INTR, /* external interrupt / NMI while in the guest */
    VCPU_STAT_OTHER,
    VCPU_STAT_IRQ,    /* external interrupts injected (VMs with emulated interrupt controllers) */
    VCPU_STAT_WINDOW, /* interrupt-window exits */
    VCPU_STAT_COUNT,
};

struct vcpu_io {
    uint16_t port;
    uint8_t size; /* 1, 2 or 4 */
    bool write;
    uint32_t value; /* the written value; for reads the handler fills it via vcpu_complete_io */
};

/* The instruction has been decoded by the backend (x86/insn.h): one access of size bytes. */
struct vcpu_mmio {
    uint64_t gpa;
    uint8_t size; /* 1, 2, 4 or 8 */
    bool write;
    uint64_t value; /* the written value; reads are answered through vcpu_complete_mmio */
};

struct vcpu_msr {
    uint32_t index;
    bool write;
    uint64_t value; /* the written value (EDX:EAX) */
};

/* One record per run round trip: vcpu_run fills the exit; generic code answers in the same
 * record (the interrupt fields) and hands it to the next vcpu_run, which applies them at entry.
 * Start a record with VCPU_EXIT_INIT (the run loop keeps one per VM, started at each life's
 * reset). */
struct vcpu_exit {
    uint32_t kind; /* enum vcpu_exit_kind */
    struct vcpu_io io;
    struct vcpu_mmio mmio;
    struct vcpu_msr msr;
    /* Set by generic code for a VM that has interrupt sources; only then does every return fill
     * the two below (they cost the backend reads of guest state on each exit): */
    bool want_interrupt_state;
    /* As the guest will be at the next entry once generic code has completed this exit
     * (completions step past an instruction, which can only lift blocking, or with RFLAGS.TF
     * set also raise the single-step #DB, which then occupies the entry's injection): */
    bool interrupts_enabled; /* RFLAGS.IF (what HLT waits for) */
    bool interruptible;      /* an external interrupt can be injected at the next entry: IF set,
                              * no STI/MOV-SS blocking, no event pending injection (SDM 26.3.1.4),
                              * no single-step #DB due after the completion */
    /* Set by generic code before vcpu_run; the backend consumes them at entry: */
    int inject_vector;          /* -1, or an external interrupt vector (only when interruptible) */
    bool want_interrupt_window; /* exit with VCPU_EXIT_INTERRUPT_WINDOW once it could take one */
    char reason[160]; /* VCPU_EXIT_FAULT: one line, e.g. "EPT violation: write at GPA 0x..." */
};
#define VCPU_EXIT_INIT { .inject_vector = -1 }

enum vcpu_reg {
    VCPU_REG_RAX, VCPU_REG_RBX, VCPU_REG_RCX, VCPU_REG_RDX,
    VCPU_REG_RSI, VCPU_REG_RDI, VCPU_REG_RBP, VCPU_REG_RSP,
    VCPU_REG_RIP,
};

/* The memory a VM owns: guest-physical [0, size) is host-physical [host_base, host_base + size). */
struct vcpu_memory {
    uint64_t host_base;
    uint64_t size;
};

struct vcpu_port_range {
    uint16_t first, last;
};

struct vcpu {
    struct vm *vm;
    unsigned id;         /* unique, non-zero: becomes the VPID/ASID */
    void *backend;       /* vendor state of this vCPU */
    void *arch_vm;       /* the VM's arch object: second-level tables, I/O and MSR maps */
    uint64_t stats[VCPU_STAT_COUNT];
};

/* Once per physical CPU: enable the extension. Returns 0, or a negative error with why filled in
 * ("VT-x is disabled in the firmware (IA32_FEATURE_CONTROL locked without VMX)"). */
int virt_cpu_enable(char *why, size_t why_len);
/* Prints what the CPU offers (boot summary lines). Returns true when guests can run here. */
bool virt_report(void);
const char *virt_name(void); /* "VT-x", "AMD-V" (after virt_report) */
/* What the CPU calls a second-level fault: "EPT violation", "nested page fault". */
const char *virt_slat_fault_name(void);

/* What the guest's CPUID shows of the devices generic code emulates for it. All zero (the
 * default after vcpu_create): no local APIC, the TSC rate not offered. */
struct vcpu_guest_cpu {
    bool apic;            /* CPUID.1:EDX.APIC and ECX.TSC-deadline (x2APIC stays hidden) */
    uint8_t apic_id;      /* CPUID.1:EBX[31:24] and leaf 0xB/0x1F EDX */
    uint64_t tsc_hz;      /* CPUID 0x16 base/max MHz; 0: not offered */
    uint32_t crystal_hz;  /* CPUID 0x15: ECX = crystal_hz, EBX/EAX = crystal_ratio / 1, the
                           * local APIC timer's clock (TSC = crystal * ratio); 0: not offered */
    uint32_t crystal_ratio;
};
void vcpu_set_guest_cpu(struct vcpu *v, const struct vcpu_guest_cpu *cpu);

int vcpu_create(struct vcpu *v, struct vm *vm, unsigned id, const struct vcpu_memory *mem,
                const struct vcpu_port_range *ports, unsigned port_count, char *why, size_t why_len);
/* (Re)sets the register state to an image's start state. */
int vcpu_reset(struct vcpu *v, const struct guest_boot_state *state, char *why, size_t why_len);
/* Runs the guest until the TSC reaches deadline or until an exit generic code must see. Applies
 * exit's inject_vector / want_interrupt_window first (see struct vcpu_exit). */
void vcpu_run(struct vcpu *v, uint64_t deadline, struct vcpu_exit *exit);
/* Completes the I/O of the last VCPU_EXIT_IO (value is ignored for writes) and steps past it. */
void vcpu_complete_io(struct vcpu *v, uint32_t value);
/* Completes the access of the last VCPU_EXIT_MMIO (value: what a read returned, low size
 * bytes; ignored for writes) and steps past the instruction. */
void vcpu_complete_mmio(struct vcpu *v, uint64_t value);
/* Completes the last VCPU_EXIT_MSR: ok false raises #GP in the guest (the MSR does not exist or
 * the value is refused; the exception then occupies the next entry's injection, so the exit's
 * interruptible no longer holds), else a read returns value in EDX:EAX and steps past the
 * instruction. */
void vcpu_complete_msr(struct vcpu *v, bool ok, uint64_t value);
/* Steps past the instruction of the last exit (hypercall, HLT). */
void vcpu_skip_instruction(struct vcpu *v);
uint64_t vcpu_get_reg(struct vcpu *v, enum vcpu_reg reg);
void vcpu_set_reg(struct vcpu *v, enum vcpu_reg reg, uint64_t value);
/* The call after VCPU_EXIT_HYPERCALL: RAX, RBX, RCX, RDX cut to the guest's register width. */
struct vcpu_hypercall {
    uint64_t nr, arg1, arg2, arg3;
    uint64_t width_mask; /* all ones in 64-bit mode, else 0xffffffff */
    unsigned cpl;        /* the caller's privilege level: 0 (guest kernel, real mode) to 3 */
};
void vcpu_hypercall_args(struct vcpu *v, struct vcpu_hypercall *hc);
/* Puts ret (cut to the guest's width) in RAX and steps past the call. */
void vcpu_hypercall_return(struct vcpu *v, const struct vcpu_hypercall *hc, uint64_t ret);
/* Prints the full register state, each line starting with prefix. */
void vcpu_dump(struct vcpu *v, const char *prefix);
void vcpu_destroy(struct vcpu *v);
/* Hands a vCPU to another physical CPU: vcpu_unload on the CPU that set it up, then
 * vcpu_adopt on the one that will run it (and only there from then on). */
void vcpu_unload(struct vcpu *v);
int vcpu_adopt(struct vcpu *v, char *why, size_t why_len);
/* Test hook (command line test_corrupt_vm=NAME): breaks the guest state so that the next VM entry
 * fails its checks, to show that such a VM ends alone. */
void vcpu_test_corrupt_state(struct vcpu *v);

extern const char *const vcpu_stat_names[VCPU_STAT_COUNT];

#endif
