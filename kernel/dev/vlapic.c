/* Local APIC model (Intel SDM vol. 3A ch. 11, "Advanced Programmable Interrupt Controller").
 * One register core, reg_read/reg_write, addressed by xAPIC offset; the MMIO and MSR front ends
 * only translate the address and turn the core's errors into what each interface does with them
 * (xAPIC: ESR "illegal register address" or ignored; x2APIC: #GP). */
#include <tessera/errno.h>
#include <tessera/vlapic.h>
#include <tessera/string.h>

enum { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR };

/* Writable bits of each LVT entry (SDM figure 11-8): vector, delivery mode where the entry has
 * one, polarity and trigger for LINT0/1, mask, timer mode. */
static const uint32_t lvt_writable[6] = {
    0x000700ff, /* timer: vector, mask, mode 18:17 */
    0x000107ff, /* thermal */
    0x000107ff, /* perf */
    0x0001a7ff, /* LINT0: + polarity (13), trigger (15) */
    0x0001a7ff, /* LINT1 */
    0x000100ff, /* error: vector, mask */
};

static bool bit_test(const uint32_t *v, unsigned n)
{
    return (v[n >> 5] >> (n & 31)) & 1;
}

static void bit_set(uint32_t *v, unsigned n)
{
    v[n >> 5] |= 1u << (n & 31);
}

static void bit_clear(uint32_t *v, unsigned n)
{
    v[n >> 5] &= ~(1u << (n & 31));
}

/* Highest set bit of a 256-bit register, or -1. */
static int highest_bit(const uint32_t *v)
{
    for (int i = 7; i >= 0; i--)
        if (v[i])
            return i * 32 + 31 - __builtin_clz(v[i]);
    return -1;
}

bool vlapic_hw_enabled(const struct vlapic *apic)
{
    return (apic->apic_base & VLAPIC_BASE_EN) != 0;
}

bool vlapic_sw_enabled(const struct vlapic *apic)
{
    return vlapic_hw_enabled(apic) && (apic->svr & VLAPIC_SVR_ENABLE);
}

bool vlapic_x2apic_mode(const struct vlapic *apic)
{
    const uint64_t both = VLAPIC_BASE_EN | VLAPIC_BASE_EXTD;
    return (apic->apic_base & both) == both;
}

uint64_t vlapic_timer_hz(const struct vlapic *apic)
{
    return apic->timer_hz;
}

uint64_t vlapic_timer_tsc_ratio(const struct vlapic *apic)
{
    return apic->tsc_per_tick;
}

/* SDM 11.8.3.1: PPR = TPR when TPR's class is at least the highest in-service class, else the
 * in-service class with sub-class 0. */
uint32_t vlapic_ppr(const struct vlapic *apic)
{
    int isrv = highest_bit(apic->isr);
    uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;
    return (apic->tpr & 0xf0) >= isr_class ? apic->tpr & 0xff : isr_class;
}

/* Arbitration priority (SDM 11.6.2.1 / 11.8.3.1): with one CPU it is only informative. */
static uint32_t apr(const struct vlapic *apic)
{
    int isrv = highest_bit(apic->isr), irrv = highest_bit(apic->irr);
    uint32_t tpr_class = apic->tpr & 0xf0;
    uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;
    uint32_t irr_class = irrv < 0 ? 0 : (uint32_t)irrv & 0xf0;
    if (tpr_class >= irr_class && tpr_class > isr_class)
        return apic->tpr & 0xff;
    uint32_t max = tpr_class > isr_class ? tpr_class : isr_class;
    return max > irr_class ? max : irr_class;
}

static void set_irr(struct vlapic *apic, uint8_t vector, bool level)
{
    bit_set(apic->irr, vector);
    if (level)
        bit_set(apic->tmr, vector);
    else
        bit_clear(apic->tmr, vector);
}

/* Records an error in the ESR accumulator and signals it through LVT error. An illegal error
 * vector only adds "receive illegal vector": no recursion. */
static void raise_error(struct vlapic *apic, uint32_t bit)
{
    apic->esr_pending |= bit;
    uint32_t lvt = apic->lvt[LVT_ERROR];
    if (lvt & VLAPIC_LVT_MASKED || !vlapic_sw_enabled(apic))
        return;
    if ((lvt & 0xff) < 16)
        apic->esr_pending |= VLAPIC_ESR_RECEIVE_ILLEGAL_VECTOR;
    else
        set_irr(apic, lvt & 0xff, false);
}

bool vlapic_accept(struct vlapic *apic, uint8_t vector, bool level_triggered)
{
    /* A software-disabled APIC holds what is in IRR/ISR but takes no new fixed interrupts
     * (SDM 11.4.7.2); NMI, INIT and SIPI do not come this way. */
    if (!vlapic_sw_enabled(apic))
        return false;
    if (vector < 16) { /* SDM 11.5.2: vectors 0-15 are illegal */
        raise_error(apic, VLAPIC_ESR_RECEIVE_ILLEGAL_VECTOR);
        return false;
    }
    set_irr(apic, vector, level_triggered);
    return true;
}

int vlapic_pending_vector(const struct vlapic *apic)
{
    if (!vlapic_hw_enabled(apic))
        return -1;
    int v = highest_bit(apic->irr);
    if (v < 0 || ((uint32_t)v & 0xf0) <= (vlapic_ppr(apic) & 0xf0))
        return -1;
    return v;
}

bool vlapic_acknowledge(struct vlapic *apic, uint8_t vector)
{
    if (vlapic_pending_vector(apic) != vector)
        return false;
    bit_clear(apic->irr, vector);
    bit_set(apic->isr, vector);
    return true;
}

bool vlapic_extint_enabled(const struct vlapic *apic)
{
    if (!vlapic_hw_enabled(apic))
        return true; /* SDM 11.4.3: a disabled APIC passes INTR straight to the CPU */
    uint32_t lvt = apic->lvt[LVT_LINT0];
    return !(lvt & VLAPIC_LVT_MASKED) && VLAPIC_LVT_DELIVERY(lvt) == VLAPIC_DELIVERY_EXTINT;
}

bool vlapic_take_nmi(struct vlapic *apic)
{
    bool nmi = apic->nmi_pending;
    apic->nmi_pending = false;
    return nmi;
}

/* A local interrupt source fires through its LVT entry (SDM 11.5.1). Timer and error entries
 * have no delivery-mode field: always fixed. */
static void lvt_deliver(struct vlapic *apic, unsigned index)
{
    uint32_t lvt = apic->lvt[index];
    if (lvt & VLAPIC_LVT_MASKED || !vlapic_hw_enabled(apic))
        return;
    unsigned mode = index == LVT_TIMER || index == LVT_ERROR ? VLAPIC_DELIVERY_FIXED
                                                              : VLAPIC_LVT_DELIVERY(lvt);
    switch (mode) {
    case VLAPIC_DELIVERY_FIXED:
        vlapic_accept(apic, lvt & 0xff, false);
        break;
    case VLAPIC_DELIVERY_NMI:
        apic->nmi_pending = true;
        break;
    default: /* ExtINT is polled through vlapic_extint_enabled; SMI/INIT: not modelled */
        break;
    }
}

void vlapic_raise_lint(struct vlapic *apic, unsigned pin)
{
    if (pin <= 1)
        lvt_deliver(apic, LVT_LINT0 + pin);
}

/* ---- timer (SDM 11.5.4) ------------------------------------------------------------------ */

static unsigned timer_mode(const struct vlapic *apic)
{
    return (apic->lvt[LVT_TIMER] & VLAPIC_TIMER_MODE_MASK) >> 17;
}

/* Divide configuration: bits 0, 1 and 3 form a 3-bit value; 0b111 divides by 1, n by 2^(n+1). */
static uint64_t timer_divisor(uint32_t dcr)
{
    unsigned n = (dcr & 3) | ((dcr >> 1) & 4);
    return n == 7 ? 1 : 2u << n;
}

/* TSC ticks per count: at most 128 * 1100 (vlapic_init bounds the ratio), so a full count of
 * 2^32 stays below 2^50 ticks. */
static uint64_t tsc_per_count(const struct vlapic *apic)
{
    return timer_divisor(apic->timer_divide) * apic->tsc_per_tick;
}

static uint64_t add_or_never(uint64_t a, uint64_t b)
{
    return a + b < a ? DEV_NO_DEADLINE : a + b;
}

/* TSC ticks from a (re)load to expiry. A periodic timer is held to at least min_period: a guest
 * could otherwise make the host wake it every few TSC ticks forever without exiting once (KVM
 * clamps the same way, to 200 us). */
static uint64_t timer_period(const struct vlapic *apic)
{
    uint64_t ticks = apic->timer_initial * tsc_per_count(apic);
    if (timer_mode(apic) == VLAPIC_PERIODIC && ticks < apic->min_period)
        return apic->min_period;
    return ticks;
}

static void timer_load(struct vlapic *apic, uint64_t now)
{
    apic->timer_start = now;
    apic->timer_deadline =
        apic->timer_initial ? add_or_never(now, timer_period(apic)) : DEV_NO_DEADLINE;
}

static uint32_t timer_current(const struct vlapic *apic, uint64_t now)
{
    if (timer_mode(apic) == VLAPIC_TSC_DEADLINE || apic->timer_initial == 0 ||
        apic->timer_deadline == DEV_NO_DEADLINE)
        return 0;
    uint64_t elapsed = now > apic->timer_start ? now - apic->timer_start : 0;
    if (timer_mode(apic) == VLAPIC_PERIODIC)
        elapsed %= timer_period(apic); /* start is on a period boundary */
    uint64_t counts = elapsed / tsc_per_count(apic);
    if (counts >= apic->timer_initial)
        return 0; /* one-shot expired, or a clamped period's tail */
    return apic->timer_initial - (uint32_t)counts;
}

uint64_t vlapic_next_deadline(const struct vlapic *apic)
{
    return vlapic_hw_enabled(apic) ? apic->timer_deadline : DEV_NO_DEADLINE;
}

void vlapic_advance(struct vlapic *apic, uint64_t now)
{
    if (!vlapic_hw_enabled(apic) || apic->timer_deadline == DEV_NO_DEADLINE ||
        now < apic->timer_deadline)
        return;
    switch (timer_mode(apic)) {
    case VLAPIC_TSC_DEADLINE: /* SDM 11.5.4.1: the MSR reads 0 once the timer fired */
        apic->tsc_deadline = 0;
        apic->timer_deadline = DEV_NO_DEADLINE;
        break;
    case VLAPIC_PERIODIC: {
        /* Reload on whole periods counted from the original start: no drift, and periods
         * missed while nobody called (a halted or descheduled vCPU) coalesce into one. */
        uint64_t period = timer_period(apic);
        apic->timer_start += (now - apic->timer_start) / period * period;
        apic->timer_deadline = add_or_never(apic->timer_start, period);
        break;
    }
    default:
        apic->timer_deadline = DEV_NO_DEADLINE;
        break;
    }
    lvt_deliver(apic, LVT_TIMER);
}

static void write_lvt_timer(struct vlapic *apic, uint32_t value)
{
    unsigned old_mode = timer_mode(apic);
    if ((value & VLAPIC_TIMER_MODE_MASK) == VLAPIC_TIMER_MODE_MASK)
        value &= ~VLAPIC_TIMER_MODE_MASK; /* reserved mode 11b: treated as one-shot */
    apic->lvt[LVT_TIMER] = value;
    /* SDM 11.5.4.1: switching into or out of TSC-deadline mode disarms the timer. */
    if ((old_mode == VLAPIC_TSC_DEADLINE) != (timer_mode(apic) == VLAPIC_TSC_DEADLINE)) {
        apic->timer_initial = 0;
        apic->tsc_deadline = 0;
        apic->timer_deadline = DEV_NO_DEADLINE;
    }
}

/* A new divisor takes effect from now: the current count carries over and counts on at the new
 * rate (the SDM leaves this case open; Linux does not change the divisor while counting). */
static void write_divide(struct vlapic *apic, uint32_t value, uint64_t now)
{
    bool running = timer_mode(apic) != VLAPIC_TSC_DEADLINE && apic->timer_initial != 0 &&
                   apic->timer_deadline != DEV_NO_DEADLINE;
    uint32_t current = running ? timer_current(apic, now) : 0;
    apic->timer_divide = value & 0xb;
    if (!running)
        return;
    uint64_t done = (uint64_t)(apic->timer_initial - current) * tsc_per_count(apic);
    apic->timer_start = now - (done < now ? done : now);
    apic->timer_deadline = add_or_never(apic->timer_start, timer_period(apic));
}

/* ---- IPIs (SDM 11.6) ------------------------------------------------------------------- */

static uint32_t x2apic_ldr(uint32_t id)
{
    return ((id & ~0xfu) << 12) | (1u << (id & 0xf));
}

/* Does a destination (8-bit xAPIC or 32-bit x2APIC) name this APIC? SDM 11.6.2. */
bool vlapic_match_destination(const struct vlapic *apic, uint32_t dest, bool logical)
{
    if (vlapic_x2apic_mode(apic)) {
        if (dest == 0xffffffffu)
            return true;
        if (!logical)
            return dest == apic->apic_id;
        uint32_t ldr = x2apic_ldr(apic->apic_id);
        return (dest >> 16) == (ldr >> 16) && (dest & ldr & 0xffff) != 0;
    }
    dest &= 0xff;
    if (dest == 0xff)
        return true;
    if (!logical)
        return dest == (apic->apic_id & 0xff);
    uint32_t ldr = apic->ldr >> 24;
    if ((apic->dfr >> 28) == 0xf) /* flat */
        return (dest & ldr) != 0;
    /* cluster: high nibble is the cluster (0xf = all), low nibble a member mask */
    return ((dest >> 4) == (ldr >> 4) || (dest >> 4) == 0xf) && (dest & ldr & 0xf) != 0;
}

/* One vCPU per VM: only IPIs that reach this APIC are delivered (fixed, lowest priority, NMI);
 * the rest are counted and dropped. Delivery is immediate, so delivery status stays 0. */
static void send_ipi(struct vlapic *apic)
{
    uint32_t low = apic->icr_low;
    uint8_t vector = low & 0xff;
    unsigned mode = VLAPIC_LVT_DELIVERY(low);
    bool self;
    switch ((low >> 18) & 3) {
    case 0: {
        uint32_t dest = vlapic_x2apic_mode(apic) ? apic->icr_high : apic->icr_high >> 24;
        self = vlapic_match_destination(apic, dest, (low >> 11) & 1);
        break;
    }
    case 1: /* self */
    case 2: /* all including self */
        self = true;
        break;
    default: /* all excluding self: nobody here */
        self = false;
        break;
    }
    if (self && (mode == VLAPIC_DELIVERY_FIXED || mode == VLAPIC_DELIVERY_LOWEST)) {
        if (vector < 16) {
            raise_error(apic, VLAPIC_ESR_SEND_ILLEGAL_VECTOR);
            return;
        }
        vlapic_accept(apic, vector, false);
        return;
    }
    if (self && mode == VLAPIC_DELIVERY_NMI) {
        apic->nmi_pending = true;
        return;
    }
    apic->ipis_ignored++;
    apic->last_ipi = (uint64_t)apic->icr_high << 32 | low;
}

/* EOI (SDM 11.8.5): retire the highest in-service vector; a level-triggered one is broadcast to
 * the I/O APIC (no directed EOI: the version register says so). */
static void eoi(struct vlapic *apic)
{
    int v = highest_bit(apic->isr);
    if (v < 0)
        return;
    bit_clear(apic->isr, (unsigned)v);
    if (bit_test(apic->tmr, (unsigned)v) && apic->eoi_level)
        apic->eoi_level(apic->ctx, (uint8_t)v);
}

/* ---- the register core ------------------------------------------------------------------- */

/* -ENOENT: no register at this offset (for this mode); -EINVAL: the register exists but not
 * for this access (read of write-only, write of read-only in x2APIC mode, reserved bits). */
static int reg_read(struct vlapic *apic, unsigned reg, bool x2, uint64_t *out, uint64_t now)
{
    uint64_t v;
    if (reg >= VLAPIC_ISR && reg < VLAPIC_IRR + 0x80) {
        unsigned i = (reg - VLAPIC_ISR) >> 4;
        *out = i < 8 ? apic->isr[i] : i < 16 ? apic->tmr[i - 8] : apic->irr[i - 16];
        return 0;
    }
    if (reg >= VLAPIC_LVT_TIMER && reg <= VLAPIC_LVT_ERROR) {
        *out = apic->lvt[(reg - VLAPIC_LVT_TIMER) >> 4];
        return 0;
    }
    switch (reg) {
    case VLAPIC_ID:
        v = x2 ? apic->apic_id : apic->apic_id << 24;
        break;
    case VLAPIC_VERSION:
        v = VLAPIC_VERSION_VALUE;
        break;
    case VLAPIC_TPR:
        v = apic->tpr;
        break;
    case VLAPIC_APR:
        if (x2)
            return -ENOENT; /* SDM table 11-6: no APR in x2APIC mode */
        v = apr(apic);
        break;
    case VLAPIC_PPR:
        v = vlapic_ppr(apic);
        break;
    case VLAPIC_EOI:
        if (x2)
            return -EINVAL;
        v = 0;
        break;
    case VLAPIC_LDR:
        v = x2 ? x2apic_ldr(apic->apic_id) : apic->ldr;
        break;
    case VLAPIC_DFR:
        if (x2)
            return -ENOENT;
        v = apic->dfr;
        break;
    case VLAPIC_SVR:
        v = apic->svr;
        break;
    case VLAPIC_ESR:
        v = apic->esr;
        break;
    case VLAPIC_ICR_LOW:
        v = x2 ? (uint64_t)apic->icr_high << 32 | apic->icr_low : apic->icr_low;
        break;
    case VLAPIC_ICR_HIGH:
        if (x2)
            return -ENOENT;
        v = apic->icr_high;
        break;
    case VLAPIC_TIMER_INITIAL:
        v = apic->timer_initial;
        break;
    case VLAPIC_TIMER_CURRENT:
        v = timer_current(apic, now);
        break;
    case VLAPIC_TIMER_DIVIDE:
        v = apic->timer_divide;
        break;
    case VLAPIC_SELF_IPI:
        return x2 ? -EINVAL : -ENOENT;
    default:
        return -ENOENT;
    }
    *out = v;
    return 0;
}

static int reg_write(struct vlapic *apic, unsigned reg, uint64_t value, bool x2, uint64_t now)
{
    /* SDM 11.12.1.2: the upper half of every x2APIC MSR but the ICR is reserved. */
    if (x2 && reg != VLAPIC_ICR_LOW && (value >> 32))
        return -EINVAL;
    uint32_t v = (uint32_t)value;
    if (reg >= VLAPIC_LVT_TIMER && reg <= VLAPIC_LVT_ERROR) {
        unsigned i = (reg - VLAPIC_LVT_TIMER) >> 4;
        v &= lvt_writable[i];
        if (!vlapic_sw_enabled(apic)) /* SDM 11.4.7.2: masks stay set while disabled */
            v |= VLAPIC_LVT_MASKED;
        if (i == LVT_TIMER)
            write_lvt_timer(apic, v);
        else
            apic->lvt[i] = v;
        return 0;
    }
    switch (reg) {
    case VLAPIC_ID:          /* read-only here: routing keeps to the configured ID */
    case VLAPIC_VERSION:
    case VLAPIC_PPR:
    case VLAPIC_TIMER_CURRENT:
        return x2 ? -EINVAL : 0;
    case VLAPIC_TPR:
        apic->tpr = v & 0xff;
        return 0;
    case VLAPIC_APR:
        return x2 ? -ENOENT : 0;
    case VLAPIC_EOI:
        if (x2 && v)
            return -EINVAL;
        eoi(apic);
        return 0;
    case VLAPIC_LDR:
        if (x2)
            return -EINVAL;
        apic->ldr = v & 0xff000000u;
        return 0;
    case VLAPIC_DFR:
        if (x2)
            return -ENOENT;
        apic->dfr = (v & 0xf0000000u) | 0x0fffffffu;
        return 0;
    case VLAPIC_SVR:
        apic->svr = v & 0x3ff; /* vector, enable, focus; bit 12 (EOI suppression) unsupported */
        if (!(apic->svr & VLAPIC_SVR_ENABLE))
            for (unsigned i = 0; i < 6; i++)
                apic->lvt[i] |= VLAPIC_LVT_MASKED;
        return 0;
    case VLAPIC_ESR:
        if (x2 && v) /* SDM 11.12.1.2 */
            return -EINVAL;
        apic->esr = apic->esr_pending; /* SDM 11.5.3: a write latches, then clears */
        apic->esr_pending = 0;
        return 0;
    case VLAPIC_ICR_LOW:
        if (x2)
            apic->icr_high = (uint32_t)(value >> 32);
        apic->icr_low = v & 0x000ccfffu; /* vector..dest mode, level, trigger, shorthand */
        send_ipi(apic);
        return 0;
    case VLAPIC_ICR_HIGH:
        if (x2)
            return -ENOENT;
        apic->icr_high = v & 0xff000000u;
        return 0;
    case VLAPIC_TIMER_INITIAL:
        if (timer_mode(apic) == VLAPIC_TSC_DEADLINE)
            return 0; /* SDM 11.5.4.1: ignored in TSC-deadline mode */
        apic->timer_initial = v;
        timer_load(apic, now);
        return 0;
    case VLAPIC_TIMER_DIVIDE:
        write_divide(apic, v, now);
        return 0;
    case VLAPIC_SELF_IPI:
        if (!x2)
            return -ENOENT;
        if (v & ~0xffu)
            return -EINVAL;
        vlapic_accept(apic, (uint8_t)v, false);
        return 0;
    default:
        if (reg >= VLAPIC_ISR && reg < VLAPIC_IRR + 0x80)
            return x2 ? -EINVAL : 0;
        return -ENOENT;
    }
}

/* ---- xAPIC MMIO front end ------------------------------------------------------------------
 * Registers are 32 bits at 16-byte-aligned offsets (SDM 11.4.1). A read of any size returns the
 * register's bytes from (offset & 0xf) on, zero past its fourth byte; only 4-byte writes at an
 * aligned offset take effect, other writes are dropped (as KVM does). A reserved offset reads 0,
 * drops the write and sets ESR bit 7. In x2APIC mode or hardware-disabled the page is inert. */
static uint64_t mmio_read(void *dev, uint64_t offset, unsigned size, uint64_t now)
{
    struct vlapic *apic = dev;
    if (!vlapic_hw_enabled(apic) || vlapic_x2apic_mode(apic) || offset >= VLAPIC_MMIO_SIZE ||
        size == 0 || size > 8)
        return 0;
    vlapic_advance(apic, now);
    unsigned byte = offset & 0xf;
    uint64_t v = 0;
    if (reg_read(apic, (unsigned)offset & ~0xfu, false, &v, now) == -ENOENT) {
        raise_error(apic, VLAPIC_ESR_ILLEGAL_REGISTER);
        v = 0;
    }
    v = byte < 4 ? (v & 0xffffffffu) >> (8 * byte) : 0;
    return size == 8 ? v : v & ((1ull << (8 * size)) - 1);
}

static void mmio_write(void *dev, uint64_t offset, unsigned size, uint64_t value, uint64_t now)
{
    struct vlapic *apic = dev;
    if (!vlapic_hw_enabled(apic) || vlapic_x2apic_mode(apic) || offset >= VLAPIC_MMIO_SIZE)
        return;
    vlapic_advance(apic, now);
    if (size != 4 || (offset & 0xf))
        return;
    if (reg_write(apic, (unsigned)offset, value & 0xffffffffu, false, now) == -ENOENT)
        raise_error(apic, VLAPIC_ESR_ILLEGAL_REGISTER);
    vlapic_advance(apic, now); /* an initial count of 1 at divide 1 may already be due */
}

const struct dev_ops vlapic_mmio_ops = { mmio_read, mmio_write };

/* ---- MSR front end ------------------------------------------------------------------------ */

static void reset_registers(struct vlapic *apic)
{
    apic->tpr = apic->ldr = 0;
    apic->dfr = 0xffffffffu;
    apic->svr = 0xff;
    apic->esr = apic->esr_pending = 0;
    apic->icr_low = apic->icr_high = 0;
    for (unsigned i = 0; i < 6; i++)
        apic->lvt[i] = VLAPIC_LVT_MASKED;
    memset(apic->isr, 0, sizeof(apic->isr));
    memset(apic->tmr, 0, sizeof(apic->tmr));
    memset(apic->irr, 0, sizeof(apic->irr));
    apic->timer_divide = apic->timer_initial = 0;
    apic->timer_start = 0;
    apic->timer_deadline = DEV_NO_DEADLINE;
    apic->tsc_deadline = 0;
    apic->nmi_pending = false;
}

/* IA32_APIC_BASE (SDM 11.4.4, 11.12.5 figure 11-27). Relocation is refused with #GP: the
 * base stays at 0xfee00000 (no OS we run moves it, and one fixed page keeps the EPT simple).
 * The BSP flag is fixed by configuration; guest writes to it are ignored. */
static int write_apic_base(struct vlapic *apic, uint64_t value)
{
    const uint64_t reserved = 0xffull | (1ull << 9) | 0xfff0000000000000ull;
    bool old_en = vlapic_hw_enabled(apic), old_x2 = vlapic_x2apic_mode(apic);
    bool en = value & VLAPIC_BASE_EN, x2 = value & VLAPIC_BASE_EXTD;
    if ((value & reserved) || (value & 0x000ffffffffff000ull) != VLAPIC_MMIO_BASE)
        return -EINVAL;
    if (x2 && !en)
        return -EINVAL; /* invalid state */
    if (old_x2 && en && !x2)
        return -EINVAL; /* x2APIC -> xAPIC must go through disabled */
    if (!old_en && x2)
        return -EINVAL; /* disabled -> x2APIC must go through xAPIC */
    if (old_en && !en)
        reset_registers(apic); /* SDM 11.4.3: re-enabling starts from the reset state */
    apic->apic_base = (value & ~VLAPIC_BASE_BSP) | (apic->apic_base & VLAPIC_BASE_BSP);
    return 0;
}

int vlapic_msr_read(struct vlapic *apic, uint32_t msr, uint64_t *value, uint64_t now)
{
    if (msr == VLAPIC_MSR_APIC_BASE) {
        *value = apic->apic_base;
        return 0;
    }
    vlapic_advance(apic, now);
    if (msr == VLAPIC_MSR_TSC_DEADLINE) {
        *value = vlapic_hw_enabled(apic) && timer_mode(apic) == VLAPIC_TSC_DEADLINE
                     ? apic->tsc_deadline
                     : 0;
        return 0;
    }
    if (msr < VLAPIC_MSR_X2APIC_FIRST || msr > VLAPIC_MSR_X2APIC_LAST)
        return -ENOENT;
    if (!vlapic_x2apic_mode(apic))
        return -EINVAL;
    uint64_t v;
    if (reg_read(apic, (msr - VLAPIC_MSR_X2APIC_FIRST) << 4, true, &v, now))
        return -EINVAL;
    *value = v;
    return 0;
}

int vlapic_msr_write(struct vlapic *apic, uint32_t msr, uint64_t value, uint64_t now)
{
    int rc = 0;
    vlapic_advance(apic, now);
    if (msr == VLAPIC_MSR_APIC_BASE) {
        rc = write_apic_base(apic, value);
    } else if (msr == VLAPIC_MSR_TSC_DEADLINE) {
        /* SDM 11.5.4.1: ignored unless the LVT timer is in TSC-deadline mode; 0 disarms */
        if (vlapic_hw_enabled(apic) && timer_mode(apic) == VLAPIC_TSC_DEADLINE) {
            apic->tsc_deadline = value;
            apic->timer_deadline = value ? value : DEV_NO_DEADLINE;
        }
    } else if (msr >= VLAPIC_MSR_X2APIC_FIRST && msr <= VLAPIC_MSR_X2APIC_LAST) {
        if (!vlapic_x2apic_mode(apic))
            return -EINVAL;
        rc = reg_write(apic, (msr - VLAPIC_MSR_X2APIC_FIRST) << 4, value, true, now) ? -EINVAL : 0;
    } else {
        return -ENOENT;
    }
    vlapic_advance(apic, now); /* a deadline already in the past fires at once */
    return rc;
}

int vlapic_init(struct vlapic *apic, const struct vlapic_config *config)
{
    if (config->tsc_hz == 0 || config->tsc_hz > VLAPIC_MAX_TSC_HZ)
        return -EINVAL;
    memset(apic, 0, sizeof(*apic));
    apic->apic_id = config->apic_id;
    apic->eoi_level = config->eoi_level;
    apic->ctx = config->ctx;
    /* Timer clock = TSC / ratio, ratio the smallest integer keeping it <= 1 GHz: TSC ticks per
     * count are then an exact integer, at most 128 * 1100 for tsc_hz <= 2^40. */
    apic->tsc_per_tick = (config->tsc_hz + VLAPIC_TIMER_MAX_HZ - 1) / VLAPIC_TIMER_MAX_HZ;
    apic->timer_hz = config->tsc_hz / apic->tsc_per_tick;
    apic->min_period = config->tsc_hz / 5000 ? config->tsc_hz / 5000 : 1; /* 200 us */
    reset_registers(apic);
    apic->apic_base = VLAPIC_MMIO_BASE | VLAPIC_BASE_EN | (config->bsp ? VLAPIC_BASE_BSP : 0);
    /* Hand-off state of firmware that set up virtual wire mode (MP spec 1.4 section 3.6.2.2):
     * APIC software-enabled, the BSP's LINT0 ExtINT (the 8259's INTR) and LINT1 NMI. */
    apic->svr = VLAPIC_SVR_ENABLE | 0xff;
    if (config->bsp) {
        apic->lvt[LVT_LINT0] = VLAPIC_DELIVERY_EXTINT << 8;
        apic->lvt[LVT_LINT1] = VLAPIC_DELIVERY_NMI << 8;
    }
    return 0;
}
