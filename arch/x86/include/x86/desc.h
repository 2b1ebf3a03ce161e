/* Descriptor tables: the hypervisor's GDT, TSS and IDT. The VMX code takes the host selectors
 * and bases from here (a VM exit reloads them, SDM Vol. 3C 27.5.2). */
#ifndef X86_DESC_H
#define X86_DESC_H

#include <stdint.h>
#include <tessera/arch.h>

#define GDT_SEL_KERNEL_CODE 0x08 /* 64-bit code, DPL 0 */
#define GDT_SEL_KERNEL_DATA 0x10 /* flat data, DPL 0 */
#define GDT_SEL_TSS 0x18         /* 64-bit available TSS (16-byte descriptor) */

#define X86_MAX_CPUS ARCH_MAX_CPUS
#define X86_IST_STACK_SIZE 8192

/* Interrupt-stack-table slots (1-based as in the IDT gate). */
#define IST_DOUBLE_FAULT 1
#define IST_NMI 2
#define IST_MACHINE_CHECK 3

struct tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
} __attribute__((packed));

/* The frame every exception stub builds (arch/x86/exception_stubs.asm), lowest address first. */
struct x86_trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

/* Loads this CPU's GDT (with its own TSS and IST stacks), reloads the segment registers, LTR,
 * and loads the shared IDT (built on the first call). arch_cpu_init() does this for CPU 0;
 * an application processor calls it with its index once it runs 64-bit code on its own stack. */
void x86_cpu_tables_init(unsigned cpu);

uint64_t x86_gdt_base(unsigned cpu);
uint64_t x86_tss_base(unsigned cpu);
uint64_t x86_idt_base(void);

/* CR4 bits every CPU of the hypervisor runs with (OSFXSR for switching guest SSE state). */
void x86_cpu_control_init(void);

/* The C side of every vector (arch/x86/trap.c). */
void x86_trap_handler(struct x86_trap_frame *f);
/* Host NMIs taken by x86_trap_handler (vector 2) since boot. */
extern uint64_t x86_nmi_count;

#endif
