/* The PC's pair of Intel 8259A interrupt controllers (master at ports 0x20-0x21, slave at
 * 0xa0-0xa1, the slave's INT wired to master IR2) and the PIIX/ICH edge/level control registers
 * (ELCR, ports 0x4d0-0x4d1). A pure model: devices set request lines, the run loop reads the INTR
 * output and runs the INTA cycle. See docs/devices.md for what is and is not emulated. */
#ifndef TESSERA_PIC_H
#define TESSERA_PIC_H

#include <stdbool.h>
#include <stdint.h>

#include <tessera/dev.h>

#define PIC_MASTER_BASE 0x20
#define PIC_SLAVE_BASE 0xa0
#define PIC_ELCR_BASE 0x4d0
#define PIC_CASCADE_IR 2
#define PIC_REGIONS 3

/* One 8259A. Fields are the chip's registers and its initialisation state; tests read them. */
struct pic_chip {
    uint8_t irr;         /* edge-latched requests (level inputs are read from lines) */
    uint8_t isr;         /* in service */
    uint8_t imr;         /* mask (OCW1) */
    uint8_t lines;       /* current input levels */
    uint8_t elcr;        /* 1 = level-triggered input (PIIX ELCR) */
    uint8_t elcr_mask;   /* ELCR bits that exist (IRQ 0, 1, 2, 8, 13 are edge only) */
    uint8_t vector_base; /* ICW2 & 0xf8 */
    uint8_t icw3;
    uint8_t icw4;
    uint8_t init_step;     /* 0: operating; 2, 3, 4: next ICW expected */
    bool single;           /* ICW1 SNGL: no ICW3, no cascade */
    bool need_icw4;        /* ICW1 IC4 */
    bool read_isr;         /* OCW3 RIS: the command port reads ISR, not IRR */
    bool poll;             /* OCW3 P: the next command-port read is a poll */
    bool special_mask;     /* OCW3 special mask mode */
    bool rotate_on_aeoi;   /* OCW2 rotate in automatic EOI mode */
    uint8_t lowest_prio;   /* IR with the lowest priority (7 after init) */
};

struct pic {
    struct pic_chip chip[2]; /* 0 master, 1 slave */
    void (*intr_changed)(void *ctx, bool level); /* optional: INTR output changed */
    void *ctx;
    bool intr; /* last INTR level reported */
};

/* Both chips reset as at power-on: uninitialised (vector base 0), nothing masked, all inputs
 * edge-triggered. intr_changed (may be NULL) is called whenever the INTR output changes level,
 * so a halted vCPU can be woken. */
void pic_init(struct pic *pic, void (*intr_changed)(void *ctx, bool level), void *ctx);

/* The three port regions (master, slave, ELCR), ready for dev_bus_add. */
void pic_regions(struct pic *pic, struct dev_region regions[PIC_REGIONS]);
extern const struct dev_ops pic_master_ops, pic_slave_ops, pic_elcr_ops;

/* Drives ISA IRQ irq (0-15) to level. IRQ 2 is the cascade input and is ignored, as are numbers
 * above 15. Edge inputs latch a request on a low-to-high transition; level inputs request while
 * high. */
void pic_set_irq(struct pic *pic, unsigned irq, bool level);
/* The same, in the shape of struct irq_line's set() (router = the struct pic, gsi = irq). */
void pic_irq_line_set(void *pic, unsigned gsi, bool level);

/* The INTR output (the LAPIC's LINT0 in ExtINT mode, or the CPU's INTR pin). */
bool pic_has_interrupt(const struct pic *pic);
/* The INTA cycle: the vector for the highest-priority request, which moves from IRR to ISR
 * (not set in automatic-EOI mode). With no request left (it was withdrawn or masked after INTR
 * rose) the answer is the spurious IR7 vector of the chip that was asked: master base + 7, or
 * slave base + 7 with the master's cascade IR2 in service, as on the chip. */
int pic_acknowledge(struct pic *pic);

#endif
