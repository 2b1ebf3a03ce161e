/* A guest's local APIC (one per vCPU): a pure model of the register file (Intel SDM vol. 3A
 * ch. 11), reached through two thin front ends, xAPIC MMIO (struct dev_ops at 0xfee00000) and
 * x2APIC MSRs (0x800 + offset / 16), plus IA32_APIC_BASE and IA32_TSC_DEADLINE. The timer runs
 * on "now" (TSC ticks) given by the caller. The wiring moves interrupts in and out through
 * vlapic_accept / vlapic_pending_vector / vlapic_acknowledge and asks for NMI and ExtINT with
 * vlapic_take_nmi / vlapic_extint_enabled. The "v" keeps these apart from the host's own APIC
 * driver (arch/x86/lapic.c, lapic_*), linked into the same image. See docs/devices.md. */
#ifndef TESSERA_VLAPIC_H
#define TESSERA_VLAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include <tessera/dev.h>

#define VLAPIC_MMIO_BASE 0xfee00000u
#define VLAPIC_MMIO_SIZE 0x1000u

#define VLAPIC_MSR_APIC_BASE 0x1b
#define VLAPIC_MSR_TSC_DEADLINE 0x6e0
#define VLAPIC_MSR_X2APIC_FIRST 0x800
#define VLAPIC_MSR_X2APIC_LAST 0x8ff

#define VLAPIC_BASE_BSP (1ull << 8)
#define VLAPIC_BASE_EXTD (1ull << 10) /* x2APIC mode */
#define VLAPIC_BASE_EN (1ull << 11)

/* Register offsets (xAPIC MMIO); the x2APIC MSR is 0x800 + offset / 16. */
#define VLAPIC_ID 0x020
#define VLAPIC_VERSION 0x030
#define VLAPIC_TPR 0x080
#define VLAPIC_APR 0x090
#define VLAPIC_PPR 0x0a0
#define VLAPIC_EOI 0x0b0
#define VLAPIC_LDR 0x0d0
#define VLAPIC_DFR 0x0e0
#define VLAPIC_SVR 0x0f0
#define VLAPIC_ISR 0x100 /* 8 registers, 0x10 apart, as are TMR and IRR */
#define VLAPIC_TMR 0x180
#define VLAPIC_IRR 0x200
#define VLAPIC_ESR 0x280
#define VLAPIC_ICR_LOW 0x300
#define VLAPIC_ICR_HIGH 0x310
#define VLAPIC_LVT_TIMER 0x320
#define VLAPIC_LVT_THERMAL 0x330
#define VLAPIC_LVT_PERF 0x340
#define VLAPIC_LVT_LINT0 0x350
#define VLAPIC_LVT_LINT1 0x360
#define VLAPIC_LVT_ERROR 0x370
#define VLAPIC_TIMER_INITIAL 0x380
#define VLAPIC_TIMER_CURRENT 0x390
#define VLAPIC_TIMER_DIVIDE 0x3e0
#define VLAPIC_SELF_IPI 0x3f0 /* x2APIC only */

#define VLAPIC_SVR_ENABLE (1u << 8)
#define VLAPIC_SVR_FOCUS_DISABLE (1u << 9)

#define VLAPIC_LVT_MASKED (1u << 16)
#define VLAPIC_LVT_LEVEL (1u << 15)
#define VLAPIC_LVT_DELIVERY(v) (((v) >> 8) & 7)
#define VLAPIC_DELIVERY_FIXED 0
#define VLAPIC_DELIVERY_LOWEST 1
#define VLAPIC_DELIVERY_SMI 2
#define VLAPIC_DELIVERY_NMI 4
#define VLAPIC_DELIVERY_INIT 5
#define VLAPIC_DELIVERY_STARTUP 6
#define VLAPIC_DELIVERY_EXTINT 7

#define VLAPIC_TIMER_ONESHOT (0u << 17)
#define VLAPIC_TIMER_PERIODIC (1u << 17)
#define VLAPIC_TIMER_TSC_DEADLINE (2u << 17)
#define VLAPIC_TIMER_MODE_MASK (3u << 17)

/* ESR bits (SDM 11.5.3) this model can set. */
#define VLAPIC_ESR_SEND_ILLEGAL_VECTOR (1u << 5)
#define VLAPIC_ESR_RECEIVE_ILLEGAL_VECTOR (1u << 6)
#define VLAPIC_ESR_ILLEGAL_REGISTER (1u << 7)

/* Version register: version 0x14 (integrated APIC), max LVT entry 5 (timer, thermal, perf,
 * LINT0, LINT1, error; no CMCI), bit 24 (directed EOI) clear. */
#define VLAPIC_VERSION_VALUE 0x00050014u

/* The APIC timer's input clock is the TSC divided by an integer ratio chosen so the clock is at
 * most this fast: the conversion is then exact and multiplication-only. */
#define VLAPIC_TIMER_MAX_HZ 1000000000ull
/* tsc_hz above this is refused: the ratio must keep count * divide * ratio below 2^63. */
#define VLAPIC_MAX_TSC_HZ (1ull << 40)

enum vlapic_timer_mode { VLAPIC_ONESHOT = 0, VLAPIC_PERIODIC = 1, VLAPIC_TSC_DEADLINE = 2 };

struct vlapic_config {
    uint32_t apic_id; /* the vCPU's APIC ID (8 bits in xAPIC mode) */
    bool bsp;
    uint64_t tsc_hz;
    /* Called on EOI of a vector whose TMR bit was set (level-triggered): the wiring forwards it
     * to ioapic_eoi so the I/O APIC clears Remote IRR. May be NULL. */
    void (*eoi_level)(void *ctx, uint8_t vector);
    void *ctx;
};

struct vlapic {
    uint64_t apic_base;
    uint32_t apic_id;
    uint32_t tpr, ldr, dfr, svr;
    uint32_t esr, esr_pending; /* visible after the next ESR write; accumulating */
    uint32_t icr_low, icr_high;
    uint32_t lvt[6];           /* timer, thermal, perf, LINT0, LINT1, error (offset order) */
    uint32_t isr[8], tmr[8], irr[8];
    /* timer */
    uint32_t timer_divide;  /* the DCR as written (bits 0, 1, 3) */
    uint32_t timer_initial;
    uint64_t timer_start;    /* TSC at which the current count was (re)loaded */
    uint64_t timer_deadline; /* next expiry in TSC ticks, DEV_NO_DEADLINE when disarmed */
    uint64_t tsc_deadline;   /* IA32_TSC_DEADLINE as written (0 = disarmed) */
    uint64_t tsc_per_tick;   /* TSC ticks per APIC timer input clock tick */
    uint64_t timer_hz;
    uint64_t min_period;     /* shortest periodic timer period, TSC ticks (200 us) */
    bool nmi_pending;
    uint64_t ipis_ignored;   /* IPIs to other CPUs, INIT, SIPI, SMI: recorded, not delivered */
    uint64_t last_ipi;       /* the last such ICR value, for reports */
    void (*eoi_level)(void *ctx, uint8_t vector);
    void *ctx;
};

/* Power-on plus firmware hand-off state (see docs/devices.md). -EINVAL: tsc_hz 0 or above
 * VLAPIC_MAX_TSC_HZ. */
int vlapic_init(struct vlapic *apic, const struct vlapic_config *config);

/* The APIC timer's input clock in Hz (for CPUID 0x15 ECX, with EBX/EAX = ratio / 1) and the
 * integer TSC/timer-clock ratio. */
uint64_t vlapic_timer_hz(const struct vlapic *apic);
uint64_t vlapic_timer_tsc_ratio(const struct vlapic *apic);

bool vlapic_hw_enabled(const struct vlapic *apic);
bool vlapic_sw_enabled(const struct vlapic *apic);
bool vlapic_x2apic_mode(const struct vlapic *apic);

/* xAPIC MMIO front end (dev = struct vlapic *), offsets from VLAPIC_MMIO_BASE. */
extern const struct dev_ops vlapic_mmio_ops;

/* MSR front end: IA32_APIC_BASE, IA32_TSC_DEADLINE and the x2APIC range. 0 on success;
 * -EINVAL: the guest gets #GP; -ENOENT: not an MSR of this model. */
int vlapic_msr_read(struct vlapic *apic, uint32_t msr, uint64_t *value, uint64_t now);
int vlapic_msr_write(struct vlapic *apic, uint32_t msr, uint64_t value, uint64_t now);

/* A fixed-mode interrupt arrives (I/O APIC, MSI, LVT, IPI). Sets IRR, and TMR when level.
 * Returns false when dropped: APIC disabled (hardware or software), or vector < 16 (ESR). */
bool vlapic_accept(struct vlapic *apic, uint8_t vector, bool level_triggered);
/* The highest IRR vector whose priority class is above PPR's, or -1. */
int vlapic_pending_vector(const struct vlapic *apic);
/* The vCPU took `vector` (which must be vlapic_pending_vector()): IRR -> ISR. False (no change)
 * otherwise. */
bool vlapic_acknowledge(struct vlapic *apic, uint8_t vector);
/* True when the PIC's INTR output reaches the CPU: the APIC is hardware-disabled, or LVT LINT0
 * is unmasked in ExtINT mode. The wiring then injects the PIC's vector, bypassing IRR/PPR. */
bool vlapic_extint_enabled(const struct vlapic *apic);
/* A rising edge on LINT0/LINT1 (pin 0/1) from outside: delivered per its LVT entry (fixed ->
 * IRR, NMI -> vlapic_take_nmi, ExtINT -> nothing here, masked -> dropped). */
void vlapic_raise_lint(struct vlapic *apic, unsigned pin);
/* Returns and clears a pending NMI (LINT1 in NMI mode, self-NMI IPI). */
bool vlapic_take_nmi(struct vlapic *apic);

uint32_t vlapic_ppr(const struct vlapic *apic);
/* Does a destination (8-bit in xAPIC mode, 32-bit in x2APIC mode; physical or logical, SDM
 * 11.6.2) name this APIC? The wiring may give it to the I/O APIC as its logical match. */
bool vlapic_match_destination(const struct vlapic *apic, uint32_t dest, bool logical);

/* Timer: the TSC time of the next expiry (DEV_NO_DEADLINE when none) and the work due by now. */
uint64_t vlapic_next_deadline(const struct vlapic *apic);
void vlapic_advance(struct vlapic *apic, uint64_t now);

#endif
