/* A VM's interrupt router: what a device's interrupt line (struct irq_line, by GSI) reaches.
 * GSI n < 16 is ISA IRQ n: it goes to the 8259 pair (through a callback, so this file does not
 * depend on the PIC model) and to I/O APIC pin n, except ISA IRQ 0 (the PIT), which reaches pin
 * 2 as the MADT's interrupt source override 0 -> 2 says, and IRQ 2 (the PICs' cascade, no device)
 * which reaches neither. GSI 16-23 reach I/O APIC pins 16-23 only. */
#ifndef TESSERA_IRQ_ROUTER_H
#define TESSERA_IRQ_ROUTER_H

#include <stdbool.h>
#include <stdint.h>

#include <tessera/ioapic.h>

#define IRQ_ROUTER_GSIS IOAPIC_PINS

struct irq_router {
    struct ioapic *ioapic;                          /* may be NULL */
    void (*pic_set)(void *pic, unsigned irq, bool level); /* e.g. pic_set_irq; may be NULL */
    void *pic;
    /* GSIs the MADT declares active low (bit n): the router drives their wire inverted, so a
     * device only ever says "asserted". 0 for ISA-only machines. */
    uint32_t active_low;
};

void irq_router_init(struct irq_router *router, struct ioapic *ioapic,
                     void (*pic_set)(void *pic, unsigned irq, bool level), void *pic,
                     uint32_t active_low);
/* The struct irq_line `set` function: router is a struct irq_router *. */
void irq_router_set(void *router, unsigned gsi, bool level);
/* An irq_line for a GSI on this router. */
struct irq_line irq_router_line(struct irq_router *router, unsigned gsi);

#endif
