/* The legacy PC interrupt path of a VM that runs a stock OS with `noapic nolapic`: the 8259A
 * pair, the 8254 PIT on IRQ 0 and the virtual 16550 on IRQ 4, joined through the interrupt
 * router, plus the decision the run loop makes before each VM entry (inject a vector now, or
 * ask for an exit when the guest can take one). Pure: time is given, nothing touches hardware,
 * so the decision is unit-tested on the host (tests/unit/test_legacy_pc.c). */
#ifndef TESSERA_LEGACY_PC_H
#define TESSERA_LEGACY_PC_H

#include <stdbool.h>
#include <stdint.h>

#include <tessera/dev.h>
#include <tessera/irq_router.h>
#include <tessera/pic.h>
#include <tessera/pit.h>
#include <tessera/vuart.h>

#define LEGACY_PC_UART_IRQ 4
#define LEGACY_PC_TIMER_IRQ 0

struct legacy_pc {
    struct pic pic;
    struct pit pit;
    struct irq_router router; /* no I/O APIC: ISA IRQs reach the PIC pair only */
    struct vuart *uart;       /* drives IRQ 4 (may be NULL) */
    bool uart_level;          /* the IRQ 4 level last driven */
    uint64_t uart_poll;       /* TSC ticks between looks at a THR interrupt held by a full queue */
};

/* What to do at the next VM entry. */
struct legacy_pc_entry {
    int vector;       /* an external interrupt to inject, or -1 */
    bool want_window; /* no vector: exit as soon as the guest can take one */
};

/* Power-on state at TSC value now; tsc_hz as for pit_init. */
void legacy_pc_init(struct legacy_pc *pc, uint64_t tsc_hz, uint64_t now, struct vuart *uart);
/* Registers the PIC pair, ELCR, PIT and port 0x61 on bus: 0 or dev_bus_add's error. */
int legacy_pc_attach(struct legacy_pc *pc, struct dev_bus *bus);
/* Brings the devices to now: the PIT's due IRQ 0 edges, the UART's IRQ 4 level. */
void legacy_pc_advance(struct legacy_pc *pc, uint64_t now);
/* The earliest TSC value at which an interrupt may become due without a guest access (the next
 * PIT edge, or the next look at a held UART interrupt), DEV_NO_DEADLINE if none. */
uint64_t legacy_pc_next_deadline(const struct legacy_pc *pc, uint64_t now);
/* True while the PIC pair asserts INTR. */
bool legacy_pc_interrupt_pending(const struct legacy_pc *pc);
/* The decision before a VM entry, after legacy_pc_advance. interruptible: the guest can take an
 * external interrupt at that entry (RFLAGS.IF set, no STI/MOV-SS blocking, no event pending
 * injection). Only then is the PIC acknowledged (its INTA cycle), so a vector is never taken
 * from the PIC without being delivered. */
struct legacy_pc_entry legacy_pc_before_entry(struct legacy_pc *pc, bool interruptible);

#endif
