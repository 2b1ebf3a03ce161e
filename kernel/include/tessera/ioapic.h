/* A guest's I/O APIC: a pure model of the Intel 82093AA (24 pins, version 0x11) with one vCPU
 * behind it. Pins are driven with ioapic_set_irq (the level on the wire; the entry's polarity
 * decides what "asserted" is); deliveries go out through a callback the wiring connects to
 * vlapic_accept; the local APIC's EOI of a level-triggered vector comes back as ioapic_eoi. The
 * guest programs it through IOREGSEL/IOWIN (struct dev_ops). See docs/devices.md. */
#ifndef TESSERA_IOAPIC_H
#define TESSERA_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include <tessera/dev.h>

#define IOAPIC_MMIO_BASE 0xfec00000u
#define IOAPIC_MMIO_SIZE 0x1000u
#define IOAPIC_REGSEL 0x00
#define IOAPIC_WINDOW 0x10

#define IOAPIC_PINS 24
#define IOAPIC_REG_ID 0x00
#define IOAPIC_REG_VERSION 0x01
#define IOAPIC_REG_ARBITRATION 0x02
#define IOAPIC_REG_REDIR 0x10 /* entry n: low dword 0x10 + 2n, high dword 0x11 + 2n */
/* Version 0x11 (82093AA), maximum redirection entry 23. */
#define IOAPIC_VERSION_VALUE 0x00170011u

/* Redirection entry bits (82093AA section 3.2.4). */
#define IOAPIC_VECTOR_MASK 0xffull
#define IOAPIC_DELIVERY(e) (((e) >> 8) & 7)
#define IOAPIC_DEST_LOGICAL (1ull << 11)
#define IOAPIC_DELIVERY_STATUS (1ull << 12)
#define IOAPIC_ACTIVE_LOW (1ull << 13)
#define IOAPIC_REMOTE_IRR (1ull << 14)
#define IOAPIC_LEVEL (1ull << 15)
#define IOAPIC_MASKED (1ull << 16)
#define IOAPIC_DEST_SHIFT 56

struct ioapic_config {
    uint8_t id;      /* I/O APIC ID, as the MADT reports it */
    uint8_t apic_id; /* physical APIC ID of the one vCPU (physical destination match) */
    /* Sends a fixed interrupt to the vCPU; returns false when its APIC did not take it (for
     * vlapic_accept: disabled APIC). Level-triggered deliveries set Remote IRR only if taken. */
    bool (*deliver)(void *ctx, uint8_t vector, bool level_triggered);
    /* Logical destination match (vlapic_match_destination); NULL: any non-zero destination. */
    bool (*match_logical)(void *ctx, uint8_t dest);
    void *ctx;
};

struct ioapic {
    uint32_t regsel;
    uint32_t id;
    uint32_t wire;  /* pin levels as last driven (bit n = pin n) */
    uint64_t redir[IOAPIC_PINS];
    uint64_t delivered, refused, unrouted; /* counters for reports */
    bool (*deliver)(void *ctx, uint8_t vector, bool level_triggered);
    bool (*match_logical)(void *ctx, uint8_t dest);
    uint8_t apic_id;
    void *ctx;
};

/* Reset state: every entry masked, edge, active high, vector 0. */
void ioapic_init(struct ioapic *io, const struct ioapic_config *config);
/* Drives a pin's wire (pins >= 24 are ignored). An edge entry delivers on the wire's change to
 * asserted; a level entry delivers while asserted and Remote IRR is clear. */
void ioapic_set_irq(struct ioapic *io, unsigned pin, bool level);
/* EOI broadcast for vector: clears Remote IRR of every level entry with that vector, and
 * delivers again those still asserted. */
void ioapic_eoi(struct ioapic *io, uint8_t vector);

/* Indirect registers (also what IOWIN reaches). Unknown indices read 0, ignore writes. */
uint32_t ioapic_read_register(const struct ioapic *io, uint32_t index);
void ioapic_write_register(struct ioapic *io, uint32_t index, uint32_t value);

extern const struct dev_ops ioapic_mmio_ops; /* dev = struct ioapic * */

#endif
