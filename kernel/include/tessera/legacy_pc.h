/* The PC interrupt platform of a VM that runs a stock OS: the 8259A pair, the 8254 PIT on IRQ 0
 * and the virtual 16550 on IRQ 4, joined through the interrupt router (which other devices of
 * the VM, the CMOS RTC and the ACPI PM device, drive too) to the PICs and to the I/O APIC, whose deliveries and the PIC's INTR (LINT0, ExtINT) reach the one vCPU's
 * local APIC; plus the decision the run loop makes before each VM entry (inject a vector now, or
 * ask for an exit when the guest can take one) and the local APIC's MSRs. Pure: time is given,
 * nothing touches hardware, so the decision is unit-tested on the host
 * (tests/unit/test_legacy_pc.c). */
#ifndef TESSERA_LEGACY_PC_H
#define TESSERA_LEGACY_PC_H

#include <stdbool.h>
#include <stdint.h>

#include <tessera/dev.h>
#include <tessera/ioapic.h>
#include <tessera/irq_router.h>
#include <tessera/pic.h>
#include <tessera/pit.h>
#include <tessera/vlapic.h>
#include <tessera/vuart.h>

#define LEGACY_PC_UART_IRQ 4
#define LEGACY_PC_TIMER_IRQ 0
#define LEGACY_PC_APIC_ID 0   /* the one vCPU's (the MADT's CPU 0) */
#define LEGACY_PC_IOAPIC_ID 1 /* after the CPUs' ids, as acpi_gen_machine_pc gives it */

struct legacy_pc {
    struct pic pic;
    struct pit pit;
    struct vlapic apic;
    struct ioapic ioapic;
    struct irq_router router; /* ISA IRQs reach the PIC pair and the I/O APIC */
    struct vuart *uart;       /* drives IRQ 4 (may be NULL) */
    bool uart_level;          /* the IRQ 4 level last driven */
    uint64_t uart_poll;       /* TSC ticks between looks at a THR interrupt held by a full queue */
};

/* What to do at the next VM entry. */
struct legacy_pc_entry {
    int vector;       /* an external interrupt to inject, or -1 */
    bool want_window; /* no vector: exit as soon as the guest can take one */
};

/* Power-on state at TSC value now; tsc_hz as for pit_init (-EINVAL when the local APIC
 * refuses it: 0 or above VLAPIC_MAX_TSC_HZ). The local APIC starts as firmware leaves it
 * (virtual wire: LINT0 ExtINT), so a guest that never touches it (Linux with `nolapic`) gets the
 * PIC's vectors. */
int legacy_pc_init(struct legacy_pc *pc, uint64_t tsc_hz, uint64_t now, struct vuart *uart);
/* Registers the PIC pair, ELCR, PIT and port 0x61, and the local APIC and I/O APIC MMIO pages,
 * on bus: 0 or dev_bus_add's error. */
int legacy_pc_attach(struct legacy_pc *pc, struct dev_bus *bus);
/* Brings the devices to now: the PIT's and the APIC timer's due interrupts, the UART's IRQ 4
 * level. */
void legacy_pc_advance(struct legacy_pc *pc, uint64_t now);
/* The earliest TSC value at which an interrupt may become due without a guest access (the next
 * PIT edge, APIC timer expiry, or look at a held UART interrupt), DEV_NO_DEADLINE if
 * none. */
uint64_t legacy_pc_next_deadline(const struct legacy_pc *pc, uint64_t now);
/* True while an interrupt waits that the vCPU would take with RFLAGS.IF set: the PIC's INTR
 * through LINT0 in ExtINT mode (or a hardware-disabled APIC), or a local APIC vector above
 * PPR. What a halted vCPU waits for. */
bool legacy_pc_interrupt_pending(const struct legacy_pc *pc);
/* The decision before a VM entry, after legacy_pc_advance. interruptible: the guest can take an
 * external interrupt at that entry (RFLAGS.IF set, no STI/MOV-SS blocking, no event pending
 * injection). Only then is the interrupt acknowledged (the PIC's INTA cycle, or the local
 * APIC's IRR -> ISR), so a vector is never taken without being delivered. The PIC's ExtINT
 * comes first, as the CPU's INTA takes it before the APIC's fixed vectors; then the APIC's
 * highest vector whose class is above PPR (SDM 11.8.3, 11.8.4). */
struct legacy_pc_entry legacy_pc_before_entry(struct legacy_pc *pc, bool interruptible);

/* The local APIC's MSRs (IA32_APIC_BASE, IA32_TSC_DEADLINE; the x2APIC range is refused, x2APIC
 * being hidden in CPUID). 0; -EINVAL: #GP; -ENOENT: not an MSR of the platform (also #GP). */
int legacy_pc_msr_read(struct legacy_pc *pc, uint32_t msr, uint64_t *value, uint64_t now);
int legacy_pc_msr_write(struct legacy_pc *pc, uint32_t msr, uint64_t value, uint64_t now);

#endif
