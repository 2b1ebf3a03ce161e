/* The local APIC (xAPIC through MMIO, or x2APIC through MSRs when the firmware enabled it). */
#ifndef X86_LAPIC_H
#define X86_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

#define LAPIC_REG_ID 0x20
#define LAPIC_REG_VERSION 0x30
#define LAPIC_REG_TPR 0x80
#define LAPIC_REG_EOI 0xb0
#define LAPIC_REG_SVR 0xf0
#define LAPIC_REG_ESR 0x280
#define LAPIC_REG_ICR_LOW 0x300
#define LAPIC_REG_ICR_HIGH 0x310
#define LAPIC_REG_LVT_TIMER 0x320
#define LAPIC_REG_LVT_THERMAL 0x330
#define LAPIC_REG_LVT_PERF 0x340
#define LAPIC_REG_LVT_LINT0 0x350
#define LAPIC_REG_LVT_LINT1 0x360
#define LAPIC_REG_LVT_ERROR 0x370

#define LAPIC_LVT_MASKED (1u << 16)
#define LAPIC_LVT_DELIVERY_NMI (4u << 8) /* edge-triggered, active high */
#define LAPIC_SPURIOUS_VECTOR 0xff
/* The local APIC timer (x86/apic_timer.h): it ends an SVM guest's time slice (the interrupt
 * intercept takes it out of the guest; the host then takes it with interrupts briefly enabled
 * and sends EOI) and an idle CPU's halt. */
#define LAPIC_TIMER_VECTOR 0xf0
/* The IPI that ends an idle CPU's halt (arch_wake_cpu): EOI and nothing else. */
#define LAPIC_WAKE_VECTOR 0xf1

/* Enables this CPU's local APIC (software enable, spurious vector 0xff), masks every LVT entry
 * but LINT1, which delivers NMIs (lapic.c).
 * mmio_base: from the MADT (0 = take it from IA32_APIC_BASE). false when there is no APIC. */
bool lapic_init(uint64_t mmio_base);
/* Where this CPU's APIC answers, from IA32_APIC_BASE (0: no local APIC). Works before lapic_init. */
uint64_t lapic_msr_base(void);
bool lapic_present(void);
uint64_t lapic_base(void);
uint32_t lapic_read(uint32_t reg);
void lapic_write(uint32_t reg, uint32_t v);
uint32_t lapic_id(void);
void lapic_eoi(void);
/* Sends an IPI (for INIT-SIPI-SIPI: icr_low = delivery mode | vector ...), waits for delivery. */
void lapic_send_ipi(uint32_t apic_id, uint32_t icr_low);

/* The two legacy 8259s: remapped to vectors 0x20-0x2f, then fully masked. */
void pic_disable(void);

#endif
