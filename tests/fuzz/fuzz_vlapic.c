/* The local APIC model: input = a TSC frequency choice, then a sequence of operations (MMIO
 * reads and writes of any size and offset, x2APIC/VLAPIC_BASE/TSC_DEADLINE MSR reads and writes,
 * time advances, interrupt accepts, acknowledges, EOIs, LINT pulses). After each it checks, with
 * its own arithmetic, that: IRR and ISR never hold vectors 0-15; ISR holds at most one vector
 * per priority class (nesting only goes up a class); the pending vector is exactly what IRR,
 * ISR and TPR say; a timer deadline is never in the past after an advance and never further
 * than one full count (or the 200 us minimum period) away; the current count never exceeds the
 * initial count; registers stay within their writable bits; a software-disabled APIC has every
 * LVT masked.
 * FUZZ-SOURCES: kernel/dev/vlapic.c */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <tessera/vlapic.h>

#include "fuzz_input.h"

static unsigned eoi_level_calls;

static void on_eoi(void *ctx, uint8_t vector)
{
    (void)ctx;
    if (vector < 16)
        abort();
    eoi_level_calls++;
}

static int highest(const uint32_t *v)
{
    for (int i = 255; i >= 0; i--)
        if ((v[i / 32] >> (i % 32)) & 1)
            return i;
    return -1;
}

static void check(const struct vlapic *a, uint64_t now)
{
    /* no vector 0-15 anywhere */
    if ((a->irr[0] & 0xffff) || (a->isr[0] & 0xffff))
        abort();
    /* ISR: one vector per class at most */
    for (unsigned c = 0; c < 16; c++) {
        uint32_t bits = (a->isr[c / 2] >> ((c % 2) * 16)) & 0xffff;
        if (bits & (bits - 1))
            abort();
    }
    /* pending vector, computed independently */
    int expect = -1;
    if (a->apic_base & VLAPIC_BASE_EN) {
        int irrv = highest(a->irr), isrv = highest(a->isr);
        unsigned ppr_class = (a->tpr & 0xf0);
        if (isrv >= 0 && ((unsigned)isrv & 0xf0) > ppr_class)
            ppr_class = (unsigned)isrv & 0xf0;
        if (irrv >= 0 && ((unsigned)irrv & 0xf0) > ppr_class)
            expect = irrv;
    }
    if (vlapic_pending_vector(a) != expect)
        abort();
    /* base address fixed, EXTD implies EN */
    if ((a->apic_base & ~0xfffull) != VLAPIC_MMIO_BASE)
        abort();
    if ((a->apic_base & VLAPIC_BASE_EXTD) && !(a->apic_base & VLAPIC_BASE_EN))
        abort();
    if (a->tpr > 0xff || a->svr > 0x3ff || (a->ldr & 0x00ffffff) ||
        (a->dfr & 0x0fffffff) != 0x0fffffff || (a->timer_divide & ~0xbu))
        abort();
    static const uint32_t writable[6] = { 0x000700ff, 0x000107ff, 0x000107ff,
                                          0x0001a7ff, 0x0001a7ff, 0x000100ff };
    for (unsigned i = 0; i < 6; i++) {
        if (a->lvt[i] & ~writable[i])
            abort();
        if (vlapic_hw_enabled(a) && !vlapic_sw_enabled(a) && !(a->lvt[i] & VLAPIC_LVT_MASKED))
            abort();
    }
    if ((a->lvt[0] & VLAPIC_TIMER_MODE_MASK) == VLAPIC_TIMER_MODE_MASK)
        abort();
    /* timer */
    uint64_t d = vlapic_next_deadline(a);
    if (d != DEV_NO_DEADLINE) {
        if (d <= now)
            abort(); /* advance ran: nothing due may be left */
        bool tsc_mode = (a->lvt[0] & VLAPIC_TIMER_MODE_MASK) == VLAPIC_TIMER_TSC_DEADLINE;
        uint64_t full = (uint64_t)a->timer_initial * 128 * a->tsc_per_tick;
        if (!tsc_mode && d - now > (full > a->min_period ? full : a->min_period))
            abort();
        if (tsc_mode && d != a->tsc_deadline)
            abort();
    }
}

static const uint64_t tsc_choices[4] = { 5000000, 1000000000, 2999999999ull, VLAPIC_MAX_TSC_HZ };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = { data, size, 0 };
    struct vlapic a;
    uint8_t choice = (uint8_t)take(&in, 1);
    struct vlapic_config c = { .apic_id = (choice >> 2) & 1 ? 0x12 : 0, .bsp = (choice >> 3) & 1,
                              .tsc_hz = tsc_choices[choice & 3], .eoi_level = on_eoi };
    if (vlapic_init(&a, &c) != 0)
        abort();
    uint64_t now = 0, v = 0;
    eoi_level_calls = 0;
    for (unsigned steps = 0; in.pos < in.size && steps < 4096; steps++) {
        uint8_t op = (uint8_t)take(&in, 1);
        switch (op % 12) {
        case 0: { /* MMIO read */
            uint64_t off = take(&in, 2) & 0x1fff;
            unsigned sz = 1u << (op >> 6);
            uint64_t r = vlapic_mmio_ops.read(&a, off, sz, now);
            if (sz < 8 && (r >> (8 * sz)))
                abort();
            if (off == VLAPIC_TIMER_CURRENT && sz == 4 && r > a.timer_initial)
                abort();
            break;
        }
        case 1: { /* MMIO write, mostly 4-byte aligned */
            uint64_t off = take(&in, 2) & 0xfff;
            unsigned sz = (op & 0x80) ? 1u << ((op >> 5) & 3) : 4;
            if (!(op & 0x40))
                off &= ~0xfull;
            vlapic_mmio_ops.write(&a, off, sz, take(&in, 4), now);
            break;
        }
        case 2: /* x2APIC MSR read */
            vlapic_msr_read(&a, 0x800 + (uint32_t)take(&in, 1), &v, now);
            break;
        case 3: { /* x2APIC MSR write: small values mostly, sometimes a full 64 bits */
            uint32_t msr = 0x800 + (uint32_t)take(&in, 1);
            uint64_t value = (op & 0x80) ? take(&in, 8) : take(&in, 4);
            int rc = vlapic_msr_write(&a, msr, value, now);
            if (rc != 0 && rc != -22)
                abort();
            break;
        }
        case 4: { /* IA32_APIC_BASE: base +- a few flag bits */
            uint64_t value = VLAPIC_MMIO_BASE | (take(&in, 2) & 0x0fff);
            if (op & 0x80)
                value ^= 1ull << (take(&in, 1) & 63);
            vlapic_msr_write(&a, VLAPIC_MSR_APIC_BASE, value, now);
            break;
        }
        case 5: /* TSC deadline */
            vlapic_msr_write(&a, VLAPIC_MSR_TSC_DEADLINE, now + (take(&in, 3) << (op >> 6)), now);
            vlapic_msr_read(&a, VLAPIC_MSR_TSC_DEADLINE, &v, now);
            break;
        case 6: /* time passes */
            now += take(&in, 2) << ((op >> 4) & 0xf);
            break;
        case 7:
            vlapic_accept(&a, (uint8_t)take(&in, 1), op & 0x80);
            break;
        case 8: { /* the vCPU takes an interrupt; any other vector must be refused */
            int p = vlapic_pending_vector(&a);
            uint8_t other = (uint8_t)take(&in, 1);
            bool ok = vlapic_acknowledge(&a, other);
            if (ok != (p == other))
                abort();
            if (!ok && p >= 0 && !vlapic_acknowledge(&a, (uint8_t)p))
                abort();
            break;
        }
        case 9: { /* EOI through whichever front end is live */
            unsigned before = eoi_level_calls;
            int isrv = highest(a.isr);
            bool level = isrv >= 0 && ((a.tmr[isrv / 32] >> (isrv % 32)) & 1);
            bool live = vlapic_hw_enabled(&a);
            if (vlapic_x2apic_mode(&a))
                vlapic_msr_write(&a, 0x80b, 0, now);
            else
                vlapic_mmio_ops.write(&a, VLAPIC_EOI, 4, 0, now);
            if (live && eoi_level_calls != before + (level ? 1 : 0))
                abort();
            if (live && isrv >= 0 && ((a.isr[isrv / 32] >> (isrv % 32)) & 1))
                abort();
            break;
        }
        case 10:
            vlapic_raise_lint(&a, op >> 7);
            break;
        default:
            vlapic_take_nmi(&a);
            vlapic_extint_enabled(&a);
            break;
        }
        if (now > (1ull << 62))
            now = 1ull << 62;
        vlapic_advance(&a, now);
        check(&a, now);
    }
    return 0;
}
