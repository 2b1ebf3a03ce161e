/* UNIT-SOURCES: kernel/dev/vlapic.c */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <tessera/errno.h>
#include <tessera/vlapic.h>

static struct vlapic apic;
static unsigned eoi_count;
static uint8_t eoi_last;

static void on_eoi(void *ctx, uint8_t vector)
{
    assert_ptr_equal(ctx, &eoi_count);
    eoi_count++;
    eoi_last = vector;
}

static void setup_tsc(uint64_t tsc_hz, bool bsp)
{
    struct vlapic_config c = { .apic_id = 0, .bsp = bsp, .tsc_hz = tsc_hz,
                              .eoi_level = on_eoi, .ctx = &eoi_count };
    eoi_count = 0;
    eoi_last = 0;
    assert_int_equal(vlapic_init(&apic, &c), 0);
}

static void setup(void)
{
    setup_tsc(5000000, true);
}

static uint32_t rd(uint32_t offset, uint64_t now)
{
    return (uint32_t)vlapic_mmio_ops.read(&apic, offset, 4, now);
}

static void wr(uint32_t offset, uint32_t value, uint64_t now)
{
    vlapic_mmio_ops.write(&apic, offset, 4, value, now);
}

static uint32_t reg_bit(uint32_t base, unsigned vector, uint64_t now)
{
    return (rd(base + (vector / 32) * 0x10, now) >> (vector % 32)) & 1;
}

/* Reads ESR the way Linux does: write (latch), then read. */
static uint32_t esr(uint64_t now)
{
    wr(VLAPIC_ESR, 0, now);
    return rd(VLAPIC_ESR, now);
}

static void take(uint8_t vector)
{
    assert_int_equal(vlapic_pending_vector(&apic), vector);
    assert_true(vlapic_acknowledge(&apic, vector));
}

static void test_init_state(void **state)
{
    (void)state;
    setup();
    uint64_t base;
    assert_int_equal(vlapic_msr_read(&apic, VLAPIC_MSR_APIC_BASE, &base, 0), 0);
    assert_int_equal(base, 0xfee00000u | VLAPIC_BASE_EN | VLAPIC_BASE_BSP);
    assert_int_equal(rd(VLAPIC_VERSION, 0), 0x00050014);
    assert_int_equal((rd(VLAPIC_VERSION, 0) >> 24) & 1, 0); /* no directed EOI */
    assert_int_equal(rd(VLAPIC_ID, 0), 0);
    assert_int_equal(rd(VLAPIC_SVR, 0), 0x1ff);
    assert_int_equal(rd(VLAPIC_DFR, 0), 0xffffffffu);
    assert_int_equal(rd(VLAPIC_LVT_LINT0, 0), 0x700);
    assert_int_equal(rd(VLAPIC_LVT_LINT1, 0), 0x400);
    assert_int_equal(rd(VLAPIC_LVT_TIMER, 0), VLAPIC_LVT_MASKED);
    assert_int_equal(rd(VLAPIC_LVT_ERROR, 0), VLAPIC_LVT_MASKED);
    assert_true(vlapic_extint_enabled(&apic));
    assert_int_equal(vlapic_pending_vector(&apic), -1);
    assert_int_equal(vlapic_next_deadline(&apic), DEV_NO_DEADLINE);
    assert_int_equal(vlapic_timer_hz(&apic), 5000000);
    assert_int_equal(vlapic_timer_tsc_ratio(&apic), 1);

    /* an AP: LINT0/LINT1 masked, no BSP flag */
    setup_tsc(5000000, false);
    assert_false(vlapic_extint_enabled(&apic));
    assert_int_equal(rd(VLAPIC_LVT_LINT0, 0), VLAPIC_LVT_MASKED | 0);

    /* timer clock: TSC / smallest integer ratio keeping it <= 1 GHz */
    setup_tsc(3000000000ull, true);
    assert_int_equal(vlapic_timer_tsc_ratio(&apic), 3);
    assert_int_equal(vlapic_timer_hz(&apic), 1000000000);
    setup_tsc(2500000000ull, true);
    assert_int_equal(vlapic_timer_tsc_ratio(&apic), 3);
    assert_int_equal(vlapic_timer_hz(&apic), 833333333);
    setup_tsc(1000000000ull, true);
    assert_int_equal(vlapic_timer_tsc_ratio(&apic), 1);

    struct vlapic_config bad = { .tsc_hz = 0 };
    assert_int_equal(vlapic_init(&apic, &bad), -EINVAL);
    bad.tsc_hz = VLAPIC_MAX_TSC_HZ + 1;
    assert_int_equal(vlapic_init(&apic, &bad), -EINVAL);
}

static void test_priority_classes_and_tpr(void **state)
{
    (void)state;
    setup();
    assert_true(vlapic_accept(&apic, 0x31, false));
    assert_true(vlapic_accept(&apic, 0x45, false));
    assert_true(vlapic_accept(&apic, 0x92, false));
    assert_int_equal(reg_bit(VLAPIC_IRR, 0x92, 0), 1);
    assert_int_equal(vlapic_pending_vector(&apic), 0x92);
    wr(VLAPIC_TPR, 0x90, 0); /* class 9 blocked: only classes above 9 pass */
    assert_int_equal(rd(VLAPIC_PPR, 0), 0x90);
    assert_int_equal(vlapic_pending_vector(&apic), -1);
    wr(VLAPIC_TPR, 0x8f, 0); /* sub-class does not matter, class 8 lets 0x92 through */
    assert_int_equal(vlapic_pending_vector(&apic), 0x92);
    wr(VLAPIC_TPR, 0x40, 0);
    take(0x92);
    /* in service 0x92: PPR is its class, TPR lower */
    assert_int_equal(rd(VLAPIC_PPR, 0), 0x90);
    assert_int_equal(vlapic_pending_vector(&apic), -1);
    wr(VLAPIC_EOI, 0, 0);
    assert_int_equal(rd(VLAPIC_PPR, 0), 0x40);
    assert_int_equal(vlapic_pending_vector(&apic), -1); /* 0x45 is class 4 = TPR's */
    /* TPR in the in-service class: PPR is the TPR, sub-class included (SDM 11.8.3.1) */
    vlapic_accept(&apic, 0x48, false);
    wr(VLAPIC_TPR, 0x30, 0);
    take(0x48);
    wr(VLAPIC_TPR, 0x45, 0);
    assert_int_equal(rd(VLAPIC_PPR, 0), 0x45);
    wr(VLAPIC_TPR, 0x35, 0);
    assert_int_equal(rd(VLAPIC_PPR, 0), 0x40);
    wr(VLAPIC_EOI, 0, 0);
    wr(VLAPIC_TPR, 0x123, 0); /* only 8 bits */
    assert_int_equal(rd(VLAPIC_TPR, 0), 0x23);
    assert_int_equal(vlapic_pending_vector(&apic), 0x45);
    /* APR: TPR class >= IRR class and > ISR class -> TPR; else the highest class */
    wr(VLAPIC_TPR, 0x50, 0);
    assert_int_equal(rd(VLAPIC_APR, 0), 0x50);
    wr(VLAPIC_TPR, 0x10, 0);
    assert_int_equal(rd(VLAPIC_APR, 0), 0x40);
}

static void test_nested_isr_and_eoi_order(void **state)
{
    (void)state;
    setup();
    vlapic_accept(&apic, 0x40, false);
    take(0x40);
    assert_int_equal(reg_bit(VLAPIC_ISR, 0x40, 0), 1);
    assert_int_equal(reg_bit(VLAPIC_IRR, 0x40, 0), 0);
    vlapic_accept(&apic, 0x45, false); /* same class as in service: waits */
    assert_int_equal(vlapic_pending_vector(&apic), -1);
    assert_false(vlapic_acknowledge(&apic, 0x45));
    vlapic_accept(&apic, 0x61, false); /* higher class: nests */
    take(0x61);
    assert_int_equal(rd(VLAPIC_PPR, 0), 0x60);
    vlapic_accept(&apic, 0xe0, false);
    take(0xe0);
    assert_int_equal(rd(VLAPIC_ISR + 0x70, 0), 1u); /* 0xe0: register 7, bit 0 */
    /* EOI retires the highest in-service vector first */
    wr(VLAPIC_EOI, 0, 0);
    assert_int_equal(reg_bit(VLAPIC_ISR, 0xe0, 0), 0);
    assert_int_equal(reg_bit(VLAPIC_ISR, 0x61, 0), 1);
    wr(VLAPIC_EOI, 0, 0);
    assert_int_equal(reg_bit(VLAPIC_ISR, 0x61, 0), 0);
    assert_int_equal(reg_bit(VLAPIC_ISR, 0x40, 0), 1);
    assert_int_equal(vlapic_pending_vector(&apic), -1); /* 0x45 still behind 0x40 */
    wr(VLAPIC_EOI, 0, 0);
    take(0x45);
    wr(VLAPIC_EOI, 0, 0);
    wr(VLAPIC_EOI, 0, 0); /* EOI with nothing in service: no effect */
    for (unsigned i = 0; i < 8; i++)
        assert_int_equal(rd(VLAPIC_ISR + i * 0x10, 0), 0);
    assert_int_equal(eoi_count, 0); /* all edge */
}

static void test_acknowledge_only_pending(void **state)
{
    (void)state;
    setup();
    vlapic_accept(&apic, 0x50, false);
    vlapic_accept(&apic, 0x70, false);
    assert_false(vlapic_acknowledge(&apic, 0x50)); /* not the highest */
    assert_false(vlapic_acknowledge(&apic, 0x99)); /* not requested at all */
    assert_int_equal(reg_bit(VLAPIC_ISR, 0x50, 0), 0);
    assert_int_equal(reg_bit(VLAPIC_ISR, 0x99, 0), 0);
    take(0x70);
    /* an accept of a vector already requested coalesces */
    assert_true(vlapic_accept(&apic, 0x50, false));
    assert_true(vlapic_accept(&apic, 0x50, false));
    wr(VLAPIC_EOI, 0, 0);
    take(0x50);
    assert_int_equal(vlapic_pending_vector(&apic), -1);
}

static void test_level_eoi_notifies(void **state)
{
    (void)state;
    setup();
    vlapic_accept(&apic, 0x51, true);
    assert_int_equal(reg_bit(VLAPIC_TMR, 0x51, 0), 1);
    take(0x51);
    wr(VLAPIC_EOI, 0, 0);
    assert_int_equal(eoi_count, 1);
    assert_int_equal(eoi_last, 0x51);
    /* the same vector accepted as edge clears TMR: no notification */
    vlapic_accept(&apic, 0x51, false);
    assert_int_equal(reg_bit(VLAPIC_TMR, 0x51, 0), 0);
    take(0x51);
    wr(VLAPIC_EOI, 0, 0);
    assert_int_equal(eoi_count, 1);
}

static void test_illegal_vectors_and_esr(void **state)
{
    (void)state;
    setup();
    assert_int_equal(esr(0), 0);
    assert_false(vlapic_accept(&apic, 15, false));
    assert_int_equal(vlapic_pending_vector(&apic), -1);
    assert_int_equal(rd(VLAPIC_ESR, 0), 0); /* not visible before the next write */
    assert_int_equal(esr(0), VLAPIC_ESR_RECEIVE_ILLEGAL_VECTOR);
    assert_int_equal(esr(0), 0); /* the write cleared the accumulator */
    wr(VLAPIC_ICR_LOW, 0x00040003, 0); /* self IPI, vector 3 */
    assert_int_equal(esr(0), VLAPIC_ESR_SEND_ILLEGAL_VECTOR);
    /* an unmasked LVT error raises its vector */
    wr(VLAPIC_LVT_ERROR, 0xfe, 0);
    vlapic_accept(&apic, 1, false);
    assert_int_equal(vlapic_pending_vector(&apic), 0xfe);
    /* an illegal error vector adds "receive illegal vector", no loop */
    wr(VLAPIC_LVT_ERROR, 0x05, 0);
    wr(VLAPIC_ICR_LOW, 0x00040002, 0);
    assert_int_equal(esr(0), VLAPIC_ESR_SEND_ILLEGAL_VECTOR | VLAPIC_ESR_RECEIVE_ILLEGAL_VECTOR);
    /* reserved register offset */
    assert_int_equal(rd(0x040, 0), 0);
    assert_int_equal(esr(0), VLAPIC_ESR_ILLEGAL_REGISTER | VLAPIC_ESR_RECEIVE_ILLEGAL_VECTOR);
    wr(VLAPIC_LVT_ERROR, VLAPIC_LVT_MASKED, 0);
    wr(0x3f0, 0x40, 0); /* SELF IPI does not exist in xAPIC mode */
    assert_int_equal(esr(0), VLAPIC_ESR_ILLEGAL_REGISTER);
    assert_int_equal(reg_bit(VLAPIC_IRR, 0x40, 0), 0);
}

static void test_software_disable(void **state)
{
    (void)state;
    setup();
    wr(VLAPIC_LVT_TIMER, 0xec, 0);
    vlapic_accept(&apic, 0x80, false); /* held across the disable */
    wr(VLAPIC_SVR, 0xff, 0);
    assert_false(vlapic_sw_enabled(&apic));
    assert_int_equal(rd(VLAPIC_LVT_TIMER, 0), VLAPIC_LVT_MASKED | 0xec);
    assert_int_equal(rd(VLAPIC_LVT_LINT0, 0), VLAPIC_LVT_MASKED | 0x700);
    assert_false(vlapic_extint_enabled(&apic));
    wr(VLAPIC_LVT_LINT0, 0x700, 0); /* the mask cannot be cleared while disabled */
    assert_int_equal(rd(VLAPIC_LVT_LINT0, 0), VLAPIC_LVT_MASKED | 0x700);
    assert_false(vlapic_accept(&apic, 0x90, false));
    assert_int_equal(reg_bit(VLAPIC_IRR, 0x90, 0), 0);
    assert_int_equal(vlapic_pending_vector(&apic), 0x80);
    vlapic_raise_lint(&apic, 1); /* LINT1 masked now */
    assert_false(vlapic_take_nmi(&apic));
    wr(VLAPIC_SVR, 0x1ff, 0);
    assert_int_equal(rd(VLAPIC_LVT_LINT0, 0), VLAPIC_LVT_MASKED | 0x700); /* stays masked */
    wr(VLAPIC_LVT_LINT0, 0x700, 0);
    assert_true(vlapic_extint_enabled(&apic));
}

static const struct { uint32_t dcr; uint64_t divisor; } divides[] = {
    { 0x0, 2 }, { 0x1, 4 }, { 0x2, 8 }, { 0x3, 16 },
    { 0x8, 32 }, { 0x9, 64 }, { 0xa, 128 }, { 0xb, 1 },
};

static void test_timer_oneshot_divides(void **state)
{
    (void)state;
    for (unsigned i = 0; i < sizeof(divides) / sizeof(divides[0]); i++) {
        setup_tsc(3000000000ull, true); /* ratio 3: one count = 3 * divisor TSC ticks */
        uint64_t per = 3 * divides[i].divisor, t0 = 1000;
        wr(VLAPIC_TIMER_DIVIDE, divides[i].dcr, t0);
        assert_int_equal(rd(VLAPIC_TIMER_DIVIDE, t0), divides[i].dcr);
        wr(VLAPIC_LVT_TIMER, 0x31, t0);
        wr(VLAPIC_TIMER_INITIAL, 1000, t0);
        assert_int_equal(rd(VLAPIC_TIMER_CURRENT, t0), 1000);
        assert_int_equal(rd(VLAPIC_TIMER_CURRENT, t0 + 500 * per), 500);
        assert_int_equal(rd(VLAPIC_TIMER_CURRENT, t0 + 500 * per - 1), 501);
        assert_int_equal(vlapic_next_deadline(&apic), t0 + 1000 * per);
        vlapic_advance(&apic, t0 + 1000 * per - 1);
        assert_int_equal(vlapic_pending_vector(&apic), -1);
        vlapic_advance(&apic, t0 + 1000 * per);
        assert_int_equal(vlapic_pending_vector(&apic), 0x31);
        assert_int_equal(vlapic_next_deadline(&apic), DEV_NO_DEADLINE);
        assert_int_equal(rd(VLAPIC_TIMER_CURRENT, t0 + 1000 * per), 0);
        assert_int_equal(rd(VLAPIC_TIMER_INITIAL, t0 + 1000 * per), 1000);
    }
    /* the reserved divide bits are dropped */
    setup();
    wr(VLAPIC_TIMER_DIVIDE, 0xffffffff, 0);
    assert_int_equal(rd(VLAPIC_TIMER_DIVIDE, 0), 0xb);
    /* initial count 0 stops the timer */
    wr(VLAPIC_LVT_TIMER, 0x31, 0);
    wr(VLAPIC_TIMER_INITIAL, 10, 0);
    wr(VLAPIC_TIMER_INITIAL, 0, 5);
    assert_int_equal(vlapic_next_deadline(&apic), DEV_NO_DEADLINE);
    vlapic_advance(&apic, 100);
    assert_int_equal(vlapic_pending_vector(&apic), -1);
}

static void test_timer_periodic_does_not_drift(void **state)
{
    (void)state;
    setup();
    wr(VLAPIC_TIMER_DIVIDE, 0xb, 0); /* divide by 1: one count per TSC tick at 5 MHz */
    wr(VLAPIC_LVT_TIMER, VLAPIC_TIMER_PERIODIC | 0xec, 0);
    wr(VLAPIC_TIMER_INITIAL, 5000, 0); /* 1 ms */
    assert_int_equal(vlapic_next_deadline(&apic), 5000);
    vlapic_advance(&apic, 5007); /* serviced late */
    take(0xec);
    assert_int_equal(vlapic_next_deadline(&apic), 10000); /* not 10007 */
    assert_int_equal(rd(VLAPIC_TIMER_CURRENT, 5007), 4993);
    wr(VLAPIC_EOI, 0, 5007);
    /* periods missed while nobody looked coalesce into one interrupt */
    vlapic_advance(&apic, 52500);
    take(0xec);
    assert_int_equal(vlapic_pending_vector(&apic), -1);
    assert_int_equal(vlapic_next_deadline(&apic), 55000);
    assert_int_equal(rd(VLAPIC_TIMER_CURRENT, 52500), 2500);
    wr(VLAPIC_EOI, 0, 52500);
    /* 1000 periods later, each serviced 3 ticks late, the deadline is still on the grid */
    for (uint64_t t = 55000; t <= 5050000; t += 5000) {
        vlapic_advance(&apic, t + 3);
        take(0xec);
        wr(VLAPIC_EOI, 0, t + 3);
    }
    assert_int_equal(vlapic_next_deadline(&apic), 5055000);
    /* switching to one-shot: the running period ends and the timer stops */
    wr(VLAPIC_LVT_TIMER, 0xec, 5052000);
    vlapic_advance(&apic, 5055000);
    take(0xec);
    assert_int_equal(vlapic_next_deadline(&apic), DEV_NO_DEADLINE);
    assert_int_equal(rd(VLAPIC_TIMER_CURRENT, 5056000), 0);
}

/* A periodic period below 200 us is stretched to 200 us; one-shot is not. */
static void test_timer_periodic_minimum(void **state)
{
    (void)state;
    setup(); /* 5 MHz: 200 us = 1000 ticks */
    wr(VLAPIC_TIMER_DIVIDE, 0xb, 0);
    wr(VLAPIC_LVT_TIMER, VLAPIC_TIMER_PERIODIC | 0xec, 0);
    wr(VLAPIC_TIMER_INITIAL, 1, 0);
    assert_int_equal(vlapic_next_deadline(&apic), 1000);
    assert_int_equal(rd(VLAPIC_TIMER_CURRENT, 0), 1);
    assert_int_equal(rd(VLAPIC_TIMER_CURRENT, 500), 0);
    vlapic_advance(&apic, 1000);
    take(0xec);
    assert_int_equal(vlapic_next_deadline(&apic), 2000);
    wr(VLAPIC_TIMER_INITIAL, 1000, 2000); /* exactly 200 us: unchanged */
    assert_int_equal(vlapic_next_deadline(&apic), 3000);
    assert_int_equal(rd(VLAPIC_TIMER_CURRENT, 2400), 600);
    wr(VLAPIC_LVT_TIMER, 0xec, 2400); /* one-shot: short counts are fine */
    wr(VLAPIC_TIMER_INITIAL, 3, 2400);
    assert_int_equal(vlapic_next_deadline(&apic), 2403);
}

static void test_timer_masked_and_divide_change(void **state)
{
    (void)state;
    setup();
    wr(VLAPIC_TIMER_DIVIDE, 0xb, 0);
    wr(VLAPIC_LVT_TIMER, VLAPIC_LVT_MASKED | 0x40, 0);
    wr(VLAPIC_TIMER_INITIAL, 50, 0);
    vlapic_advance(&apic, 60); /* counts down, expires, no interrupt */
    assert_int_equal(vlapic_pending_vector(&apic), -1);
    assert_int_equal(vlapic_next_deadline(&apic), DEV_NO_DEADLINE);
    assert_int_equal(rd(VLAPIC_TIMER_CURRENT, 60), 0);
    /* divisor change mid-count: the rest counts at the new rate */
    wr(VLAPIC_LVT_TIMER, 0x40, 100);
    wr(VLAPIC_TIMER_INITIAL, 100, 100);
    wr(VLAPIC_TIMER_DIVIDE, 0x0, 140); /* 60 counts left, now 2 ticks each */
    assert_int_equal(rd(VLAPIC_TIMER_CURRENT, 140), 60);
    assert_int_equal(vlapic_next_deadline(&apic), 260);
    assert_int_equal(rd(VLAPIC_TIMER_CURRENT, 200), 30);
    /* time running backwards (a caller bug) reads the full count, no wrap */
    assert_int_equal(rd(VLAPIC_TIMER_CURRENT, 0), 100);
}

static void test_tsc_deadline(void **state)
{
    (void)state;
    setup();
    uint64_t v;
    /* not in TSC-deadline mode: the MSR ignores writes and reads 0 */
    assert_int_equal(vlapic_msr_write(&apic, VLAPIC_MSR_TSC_DEADLINE, 5000, 0), 0);
    assert_int_equal(vlapic_msr_read(&apic, VLAPIC_MSR_TSC_DEADLINE, &v, 0), 0);
    assert_int_equal(v, 0);
    assert_int_equal(vlapic_next_deadline(&apic), DEV_NO_DEADLINE);

    wr(VLAPIC_LVT_TIMER, VLAPIC_TIMER_TSC_DEADLINE | 0xec, 0);
    wr(VLAPIC_TIMER_INITIAL, 1000, 0); /* ignored in this mode */
    assert_int_equal(rd(VLAPIC_TIMER_INITIAL, 0), 0);
    assert_int_equal(vlapic_next_deadline(&apic), DEV_NO_DEADLINE);
    assert_int_equal(vlapic_msr_write(&apic, VLAPIC_MSR_TSC_DEADLINE, 5000, 10), 0);
    assert_int_equal(vlapic_msr_read(&apic, VLAPIC_MSR_TSC_DEADLINE, &v, 10), 0);
    assert_int_equal(v, 5000);
    assert_int_equal(vlapic_next_deadline(&apic), 5000);
    assert_int_equal(rd(VLAPIC_TIMER_CURRENT, 10), 0);
    vlapic_advance(&apic, 4999);
    assert_int_equal(vlapic_pending_vector(&apic), -1);
    vlapic_advance(&apic, 5000);
    take(0xec);
    assert_int_equal(vlapic_msr_read(&apic, VLAPIC_MSR_TSC_DEADLINE, &v, 5000), 0);
    assert_int_equal(v, 0); /* disarmed after firing */
    assert_int_equal(vlapic_next_deadline(&apic), DEV_NO_DEADLINE);
    wr(VLAPIC_EOI, 0, 5000);
    /* a deadline already past fires at once */
    assert_int_equal(vlapic_msr_write(&apic, VLAPIC_MSR_TSC_DEADLINE, 100, 6000), 0);
    take(0xec);
    wr(VLAPIC_EOI, 0, 6000);
    /* 0 disarms */
    vlapic_msr_write(&apic, VLAPIC_MSR_TSC_DEADLINE, 9000, 6000);
    vlapic_msr_write(&apic, VLAPIC_MSR_TSC_DEADLINE, 0, 6000);
    assert_int_equal(vlapic_next_deadline(&apic), DEV_NO_DEADLINE);
    /* leaving TSC-deadline mode disarms */
    vlapic_msr_write(&apic, VLAPIC_MSR_TSC_DEADLINE, 9000, 6000);
    wr(VLAPIC_LVT_TIMER, 0xec, 6000);
    assert_int_equal(vlapic_next_deadline(&apic), DEV_NO_DEADLINE);
    vlapic_advance(&apic, 10000);
    assert_int_equal(vlapic_pending_vector(&apic), -1);
    /* entering it disarms a running one-shot count */
    wr(VLAPIC_TIMER_INITIAL, 1000, 10000);
    wr(VLAPIC_LVT_TIMER, VLAPIC_TIMER_TSC_DEADLINE | 0xec, 10000);
    assert_int_equal(vlapic_next_deadline(&apic), DEV_NO_DEADLINE);
    assert_int_equal(rd(VLAPIC_TIMER_INITIAL, 10000), 0);
    /* reserved timer mode 3 is taken as one-shot */
    wr(VLAPIC_LVT_TIMER, VLAPIC_TIMER_MODE_MASK | 0xec, 10000);
    assert_int_equal(rd(VLAPIC_LVT_TIMER, 10000), 0xec);
}

static void enter_x2apic(void)
{
    assert_int_equal(vlapic_msr_write(&apic, VLAPIC_MSR_APIC_BASE,
                                     0xfee00000u | VLAPIC_BASE_EN | VLAPIC_BASE_EXTD, 0), 0);
    assert_true(vlapic_x2apic_mode(&apic));
}

static void test_x2apic_msrs(void **state)
{
    (void)state;
    struct vlapic_config c = { .apic_id = 0x23, .bsp = true, .tsc_hz = 5000000 };
    assert_int_equal(vlapic_init(&apic, &c), 0);
    uint64_t v;
    /* xAPIC mode: the x2APIC MSRs #GP, other MSRs are not ours */
    assert_int_equal(vlapic_msr_read(&apic, 0x808, &v, 0), -EINVAL);
    assert_int_equal(vlapic_msr_write(&apic, 0x808, 0, 0), -EINVAL);
    assert_int_equal(vlapic_msr_read(&apic, 0x10, &v, 0), -ENOENT);
    assert_int_equal(vlapic_msr_write(&apic, 0x1b + 1, 0, 0), -ENOENT);
    wr(VLAPIC_LDR, 0x05000000, 0);
    enter_x2apic();
    assert_int_equal(vlapic_msr_read(&apic, 0x802, &v, 0), 0);
    assert_int_equal(v, 0x23); /* full 32-bit ID, not shifted */
    assert_int_equal(vlapic_msr_read(&apic, 0x803, &v, 0), 0);
    assert_int_equal(v, VLAPIC_VERSION_VALUE);
    assert_int_equal(vlapic_msr_read(&apic, 0x80d, &v, 0), 0);
    assert_int_equal(v, (0x2u << 16) | (1u << 3)); /* cluster 2, bit 3 (SDM 11.12.10.2) */
    assert_int_equal(vlapic_msr_write(&apic, 0x808, 0x20, 0), 0);
    assert_int_equal(vlapic_msr_read(&apic, 0x808, &v, 0), 0);
    assert_int_equal(v, 0x20);
    assert_int_equal(vlapic_msr_read(&apic, 0x80a, &v, 0), 0);
    assert_int_equal(v, 0x20);
    /* #GP cases: read-only writes, write-only reads, missing registers, reserved bits */
    assert_int_equal(vlapic_msr_write(&apic, 0x802, 0, 0), -EINVAL);
    assert_int_equal(vlapic_msr_write(&apic, 0x803, 0, 0), -EINVAL);
    assert_int_equal(vlapic_msr_write(&apic, 0x80a, 0, 0), -EINVAL);
    assert_int_equal(vlapic_msr_write(&apic, 0x80d, 0, 0), -EINVAL);
    assert_int_equal(vlapic_msr_write(&apic, 0x810, 0, 0), -EINVAL);
    assert_int_equal(vlapic_msr_write(&apic, 0x839, 0, 0), -EINVAL);
    assert_int_equal(vlapic_msr_read(&apic, 0x80b, &v, 0), -EINVAL);
    assert_int_equal(vlapic_msr_read(&apic, 0x83f, &v, 0), -EINVAL);
    assert_int_equal(vlapic_msr_read(&apic, 0x809, &v, 0), -EINVAL); /* no APR */
    assert_int_equal(vlapic_msr_read(&apic, 0x80e, &v, 0), -EINVAL); /* no DFR */
    assert_int_equal(vlapic_msr_write(&apic, 0x80e, 0, 0), -EINVAL);
    assert_int_equal(vlapic_msr_read(&apic, 0x831, &v, 0), -EINVAL); /* no ICR high */
    assert_int_equal(vlapic_msr_read(&apic, 0x82f, &v, 0), -EINVAL); /* no CMCI */
    assert_int_equal(vlapic_msr_read(&apic, 0x800, &v, 0), -EINVAL);
    assert_int_equal(vlapic_msr_read(&apic, 0x8ff, &v, 0), -EINVAL);
    assert_int_equal(vlapic_msr_write(&apic, 0x808, 1ull << 32, 0), -EINVAL);
    assert_int_equal(vlapic_msr_write(&apic, 0x80b, 1, 0), -EINVAL);
    assert_int_equal(vlapic_msr_write(&apic, 0x828, 1, 0), -EINVAL);
    assert_int_equal(vlapic_msr_write(&apic, 0x83f, 0x140, 0), -EINVAL);
    assert_int_equal(reg_bit(VLAPIC_IRR, 0x40, 0), 0); /* MMIO is inert: reads 0 anyway */
    assert_int_equal(apic.irr[2], 0);
    /* SELF IPI */
    assert_int_equal(vlapic_msr_write(&apic, 0x808, 0, 0), 0);
    assert_int_equal(vlapic_msr_write(&apic, 0x83f, 0x40, 0), 0);
    assert_int_equal(vlapic_msr_read(&apic, 0x822, &v, 0), 0); /* IRR 0x40-0x5f */
    assert_int_equal(v, 1);
    assert_int_equal(vlapic_pending_vector(&apic), 0x40);
    assert_true(vlapic_acknowledge(&apic, 0x40));
    assert_int_equal(vlapic_msr_read(&apic, 0x812, &v, 0), 0);
    assert_int_equal(v, 1);
    assert_int_equal(vlapic_msr_write(&apic, 0x80b, 0, 0), 0);
    assert_int_equal(vlapic_msr_read(&apic, 0x812, &v, 0), 0);
    assert_int_equal(v, 0);
    /* 64-bit ICR: fixed IPI to our own 32-bit ID */
    assert_int_equal(vlapic_msr_write(&apic, 0x830, (0x23ull << 32) | 0x41, 0), 0);
    assert_int_equal(vlapic_pending_vector(&apic), 0x41);
    assert_int_equal(vlapic_msr_read(&apic, 0x830, &v, 0), 0);
    assert_int_equal(v, (0x23ull << 32) | 0x41);
    /* to another CPU: recorded, not delivered */
    assert_int_equal(vlapic_msr_write(&apic, 0x830, (0x24ull << 32) | 0x42, 0), 0);
    assert_int_equal(apic.ipis_ignored, 1);
    assert_int_equal(apic.last_ipi, (0x24ull << 32) | 0x42);
    /* x2APIC logical (cluster 2, member bit 3): SDM 11.12.10.2 */
    assert_true(vlapic_match_destination(&apic, (2u << 16) | 0x8, true));
    assert_true(vlapic_match_destination(&apic, (2u << 16) | 0xffff, true));
    assert_false(vlapic_match_destination(&apic, (2u << 16) | 0x4, true));
    assert_false(vlapic_match_destination(&apic, (3u << 16) | 0x8, true));
    assert_true(vlapic_match_destination(&apic, 0xffffffffu, false));
    assert_false(vlapic_match_destination(&apic, 0xff, false)); /* not a broadcast here */
    assert_int_equal(vlapic_msr_write(&apic, 0x830, (((2ull << 16) | 8) << 32) | 0x843, 0), 0);
    assert_int_equal(apic.irr[2] & (1u << 3), 1u << 3); /* 0x43 */
    /* ESR write of 0 works */
    assert_int_equal(vlapic_msr_write(&apic, 0x828, 0, 0), 0);
    /* timer through MSRs */
    assert_int_equal(vlapic_msr_write(&apic, 0x83e, 0xb, 0), 0);
    assert_int_equal(vlapic_msr_write(&apic, 0x832, 0x35, 0), 0);
    assert_int_equal(vlapic_msr_write(&apic, 0x838, 300, 0), 0);
    assert_int_equal(vlapic_msr_read(&apic, 0x839, &v, 100), 0);
    assert_int_equal(v, 200);
    /* the xAPIC page is inert in x2APIC mode */
    assert_int_equal(vlapic_mmio_ops.read(&apic, VLAPIC_VERSION, 4, 0), 0);
    vlapic_mmio_ops.write(&apic, VLAPIC_TPR, 4, 0xf0, 0);
    assert_int_equal(vlapic_msr_read(&apic, 0x808, &v, 0), 0);
    assert_int_equal(v, 0);
}

static void test_apic_base_transitions(void **state)
{
    (void)state;
    setup();
    const uint64_t xapic = 0xfee00000u | VLAPIC_BASE_EN, x2 = xapic | VLAPIC_BASE_EXTD;
    const uint64_t off = 0xfee00000u;
    uint64_t v;
    assert_int_equal(vlapic_msr_write(&apic, VLAPIC_MSR_APIC_BASE, 0xfed00000u | VLAPIC_BASE_EN, 0),
                     -EINVAL); /* relocation refused */
    assert_int_equal(vlapic_msr_write(&apic, VLAPIC_MSR_APIC_BASE, xapic | 1, 0), -EINVAL);
    assert_int_equal(vlapic_msr_write(&apic, VLAPIC_MSR_APIC_BASE, xapic | (1 << 9), 0), -EINVAL);
    assert_int_equal(vlapic_msr_write(&apic, VLAPIC_MSR_APIC_BASE, xapic | (1ull << 52), 0),
                     -EINVAL);
    assert_int_equal(vlapic_msr_write(&apic, VLAPIC_MSR_APIC_BASE, off | VLAPIC_BASE_EXTD, 0),
                     -EINVAL); /* EXTD without EN */
    /* BSP flag: written as 0, kept */
    assert_int_equal(vlapic_msr_write(&apic, VLAPIC_MSR_APIC_BASE, xapic, 0), 0);
    vlapic_msr_read(&apic, VLAPIC_MSR_APIC_BASE, &v, 0);
    assert_int_equal(v, xapic | VLAPIC_BASE_BSP);
    assert_int_equal(vlapic_msr_write(&apic, VLAPIC_MSR_APIC_BASE, x2, 0), 0);
    assert_int_equal(vlapic_msr_write(&apic, VLAPIC_MSR_APIC_BASE, xapic, 0), -EINVAL);
    assert_true(vlapic_x2apic_mode(&apic));
    vlapic_accept(&apic, 0x77, false);
    assert_int_equal(vlapic_msr_write(&apic, VLAPIC_MSR_APIC_BASE, off, 0), 0); /* disable */
    assert_false(vlapic_hw_enabled(&apic));
    assert_int_equal(vlapic_pending_vector(&apic), -1);
    assert_false(vlapic_accept(&apic, 0x78, false));
    assert_true(vlapic_extint_enabled(&apic)); /* INTR bypasses a disabled APIC */
    assert_int_equal(vlapic_mmio_ops.read(&apic, VLAPIC_VERSION, 4, 0), 0);
    assert_int_equal(vlapic_msr_write(&apic, VLAPIC_MSR_APIC_BASE, x2, 0), -EINVAL);
    assert_int_equal(vlapic_msr_write(&apic, VLAPIC_MSR_APIC_BASE, xapic, 0), 0);
    /* re-enabled from the reset state: nothing requested, software-disabled, LVTs masked */
    assert_int_equal(vlapic_pending_vector(&apic), -1);
    assert_int_equal(rd(VLAPIC_SVR, 0), 0xff);
    assert_int_equal(rd(VLAPIC_LVT_LINT0, 0), VLAPIC_LVT_MASKED);
    assert_false(vlapic_extint_enabled(&apic));
    assert_false(vlapic_accept(&apic, 0x78, false));
    /* a running timer stops on disable */
    wr(VLAPIC_SVR, 0x1ff, 0);
    wr(VLAPIC_TIMER_INITIAL, 100, 0);
    assert_int_not_equal(vlapic_next_deadline(&apic), DEV_NO_DEADLINE);
    vlapic_msr_write(&apic, VLAPIC_MSR_APIC_BASE, off, 0);
    assert_int_equal(vlapic_next_deadline(&apic), DEV_NO_DEADLINE);
}

static void test_mmio_sizes_and_alignment(void **state)
{
    (void)state;
    setup();
    const struct dev_ops *o = &vlapic_mmio_ops;
    assert_int_equal(o->read(&apic, VLAPIC_VERSION, 1, 0), 0x14);
    assert_int_equal(o->read(&apic, VLAPIC_VERSION + 2, 1, 0), 0x05);
    assert_int_equal(o->read(&apic, VLAPIC_VERSION + 2, 4, 0), 0x0005);
    assert_int_equal(o->read(&apic, VLAPIC_VERSION, 2, 0), 0x0014);
    assert_int_equal(o->read(&apic, VLAPIC_VERSION, 8, 0), 0x00050014);
    assert_int_equal(o->read(&apic, VLAPIC_VERSION + 4, 4, 0), 0);
    assert_int_equal(o->read(&apic, VLAPIC_VERSION + 12, 4, 0), 0);
    assert_int_equal(o->read(&apic, 0x1000, 4, 0), 0);
    o->write(&apic, VLAPIC_TPR, 2, 0x30, 0);
    o->write(&apic, VLAPIC_TPR, 1, 0x30, 0);
    o->write(&apic, VLAPIC_TPR, 8, 0x30, 0);
    o->write(&apic, VLAPIC_TPR + 4, 4, 0x30, 0);
    o->write(&apic, VLAPIC_TPR + 1, 4, 0x30, 0);
    assert_int_equal(rd(VLAPIC_TPR, 0), 0);
    o->write(&apic, VLAPIC_TPR, 4, 0xffffff30ull, 0);
    assert_int_equal(rd(VLAPIC_TPR, 0), 0x30);
    /* read-only registers ignore writes in xAPIC mode, no error */
    wr(VLAPIC_VERSION, 0, 0);
    wr(VLAPIC_ID, 0x07000000, 0);
    wr(VLAPIC_PPR, 0, 0);
    wr(VLAPIC_IRR, 0xffffffff, 0);
    assert_int_equal(rd(VLAPIC_VERSION, 0), VLAPIC_VERSION_VALUE);
    assert_int_equal(rd(VLAPIC_ID, 0), 0);
    assert_int_equal(rd(VLAPIC_IRR, 0), 0);
    assert_int_equal(esr(0), 0);
    /* LVT reserved bits are dropped; delivery status and remote IRR are read-only */
    wr(VLAPIC_LVT_LINT0, 0xffffffff, 0);
    assert_int_equal(rd(VLAPIC_LVT_LINT0, 0), 0x0001a7ff);
    wr(VLAPIC_LVT_TIMER, 0xffffffff, 0);
    assert_int_equal(rd(VLAPIC_LVT_TIMER, 0), 0x000100ff); /* mode 3 -> one-shot */
    wr(VLAPIC_LVT_ERROR, 0xffffffff, 0);
    assert_int_equal(rd(VLAPIC_LVT_ERROR, 0), 0x000100ff);
    wr(VLAPIC_SVR, 0xffffffff, 0);
    assert_int_equal(rd(VLAPIC_SVR, 0), 0x3ff);
    wr(VLAPIC_DFR, 0x0, 0);
    assert_int_equal(rd(VLAPIC_DFR, 0), 0x0fffffff);
    wr(VLAPIC_LDR, 0xffffffff, 0);
    assert_int_equal(rd(VLAPIC_LDR, 0), 0xff000000);
}

static void test_ipis(void **state)
{
    (void)state;
    setup();
    wr(VLAPIC_ICR_LOW, 0x00040050, 0); /* shorthand self, fixed 0x50 */
    assert_int_equal(vlapic_pending_vector(&apic), 0x50);
    assert_int_equal(rd(VLAPIC_ICR_LOW, 0) & (1 << 12), 0); /* delivery status idle */
    wr(VLAPIC_ICR_HIGH, 0x00000000, 0);
    wr(VLAPIC_ICR_LOW, 0x00000051, 0); /* physical destination 0 = us */
    assert_int_equal(reg_bit(VLAPIC_IRR, 0x51, 0), 1);
    wr(VLAPIC_ICR_LOW, 0x00080052, 0); /* all including self */
    assert_int_equal(reg_bit(VLAPIC_IRR, 0x52, 0), 1);
    wr(VLAPIC_ICR_LOW, 0x000c0053, 0); /* all excluding self */
    assert_int_equal(reg_bit(VLAPIC_IRR, 0x53, 0), 0);
    assert_int_equal(apic.ipis_ignored, 1);
    wr(VLAPIC_ICR_HIGH, 0x05000000, 0);
    wr(VLAPIC_ICR_LOW, 0x00000054, 0); /* physical 5: another CPU */
    assert_int_equal(reg_bit(VLAPIC_IRR, 0x54, 0), 0);
    assert_int_equal(apic.ipis_ignored, 2);
    assert_int_equal(apic.last_ipi, 0x0500000000000054ull);
    wr(VLAPIC_ICR_HIGH, 0xff000000, 0);
    wr(VLAPIC_ICR_LOW, 0x00000055, 0); /* physical broadcast */
    assert_int_equal(reg_bit(VLAPIC_IRR, 0x55, 0), 1);
    wr(VLAPIC_ICR_LOW, 0x00000500, 0); /* INIT: recorded and ignored */
    wr(VLAPIC_ICR_LOW, 0x00000608, 0); /* SIPI */
    assert_int_equal(apic.ipis_ignored, 4);
    wr(VLAPIC_ICR_LOW, 0x00040400, 0); /* NMI to self */
    assert_true(vlapic_take_nmi(&apic));
    assert_false(vlapic_take_nmi(&apic));
    /* logical flat */
    wr(VLAPIC_DFR, 0xffffffff, 0);
    wr(VLAPIC_LDR, 0x01000000, 0);
    wr(VLAPIC_ICR_HIGH, 0x03000000, 0);
    wr(VLAPIC_ICR_LOW, 0x00000860, 0);
    assert_int_equal(reg_bit(VLAPIC_IRR, 0x60, 0), 1);
    wr(VLAPIC_ICR_HIGH, 0x02000000, 0);
    wr(VLAPIC_ICR_LOW, 0x00000861, 0);
    assert_int_equal(reg_bit(VLAPIC_IRR, 0x61, 0), 0);
    /* logical cluster: cluster 1, member bit 2 */
    wr(VLAPIC_DFR, 0x0fffffff, 0);
    wr(VLAPIC_LDR, 0x12000000, 0);
    assert_true(vlapic_match_destination(&apic, 0x12, true));
    assert_true(vlapic_match_destination(&apic, 0x16, true));
    assert_true(vlapic_match_destination(&apic, 0xf2, true));
    assert_false(vlapic_match_destination(&apic, 0x22, true));
    assert_false(vlapic_match_destination(&apic, 0x11, true));
    assert_true(vlapic_match_destination(&apic, 0xff, true));
    assert_true(vlapic_match_destination(&apic, 0x00, false));
    assert_false(vlapic_match_destination(&apic, 0x01, false));
}

static void test_lint_pins(void **state)
{
    (void)state;
    setup();
    vlapic_raise_lint(&apic, 1); /* LINT1 = NMI at hand-off */
    assert_true(vlapic_take_nmi(&apic));
    vlapic_raise_lint(&apic, 0); /* ExtINT: nothing in IRR, the wiring polls */
    assert_int_equal(vlapic_pending_vector(&apic), -1);
    assert_true(vlapic_extint_enabled(&apic));
    wr(VLAPIC_LVT_LINT0, 0x33, 0); /* fixed */
    assert_false(vlapic_extint_enabled(&apic));
    vlapic_raise_lint(&apic, 0);
    assert_int_equal(vlapic_pending_vector(&apic), 0x33);
    wr(VLAPIC_LVT_LINT1, VLAPIC_LVT_MASKED | 0x400, 0);
    vlapic_raise_lint(&apic, 1);
    assert_false(vlapic_take_nmi(&apic));
    vlapic_raise_lint(&apic, 7); /* no such pin */
    wr(VLAPIC_LVT_LINT0, VLAPIC_LVT_MASKED | 0x700, 0);
    assert_false(vlapic_extint_enabled(&apic));
}

/* The order in which Linux (arch/x86/kernel/apic/apic.c: setup_local_APIC, vlapic_setup_esr,
 * apic_pending_intr_clear, __setup_APIC_LVTT, vlapic_next_deadline) programs the BSP's APIC. */
static void test_linux_boot_sequence(void **state)
{
    (void)state;
    setup();
    uint64_t now = 1000;
    vlapic_accept(&apic, 0x31, false); /* something left over from "firmware" */
    take(0x31);
    uint32_t v = rd(VLAPIC_SVR, now); /* soft-disable first */
    wr(VLAPIC_SVR, v & ~VLAPIC_SVR_ENABLE, now);
    assert_int_equal(((rd(VLAPIC_VERSION, now) >> 16) & 0xff) + 1, 6); /* maxlvt + 1 */
    assert_int_equal(rd(VLAPIC_ID, now) >> 24, 0);
    wr(VLAPIC_TPR, rd(VLAPIC_TPR, now) & ~0xffu, now);
    /* apic_pending_intr_clear: one EOI per ISR bit, until IRR and ISR are empty */
    unsigned loops = 0;
    for (;;) {
        uint32_t irr = 0, isr = 0;
        for (unsigned i = 0; i < 8; i++) {
            irr |= rd(VLAPIC_IRR + i * 0x10, now);
            uint32_t bits = rd(VLAPIC_ISR + i * 0x10, now);
            isr |= bits;
            for (; bits; bits &= bits - 1)
                wr(VLAPIC_EOI, 0, now);
        }
        loops++;
        if (!irr && !isr)
            break;
        assert_true(loops < 512);
    }
    assert_int_equal(loops, 2);
    /* flat logical mode */
    wr(VLAPIC_DFR, 0xffffffff, now);
    wr(VLAPIC_LDR, (rd(VLAPIC_LDR, now) & ~0xff000000u) | (1u << 24), now);
    v = rd(VLAPIC_SVR, now) & ~0xffu;
    wr(VLAPIC_SVR, v | VLAPIC_SVR_ENABLE | VLAPIC_SVR_FOCUS_DISABLE | 0xff, now);
    assert_true(vlapic_sw_enabled(&apic));
    wr(VLAPIC_LVT_LINT0, 0x700, now); /* ExtINT while the PIC still drives the timer */
    assert_true(vlapic_extint_enabled(&apic));
    wr(VLAPIC_LVT_LINT1, 0x400, now);
    /* vlapic_setup_esr */
    wr(VLAPIC_ESR, 0, now);
    uint32_t before = rd(VLAPIC_ESR, now);
    wr(VLAPIC_LVT_ERROR, 0xfe, now);
    wr(VLAPIC_ESR, 0, now);
    assert_int_equal(before, 0);
    assert_int_equal(rd(VLAPIC_ESR, now), 0);
    /* one-shot clockevent: divide 16, masked while calibrating, then armed */
    wr(VLAPIC_LVT_TIMER, VLAPIC_LVT_MASKED | 0xec, now);
    wr(VLAPIC_TIMER_DIVIDE, 0x3, now);
    wr(VLAPIC_TIMER_INITIAL, 0xffffffff, now);
    assert_int_equal(rd(VLAPIC_TIMER_CURRENT, now + 16 * 1000), 0xffffffffu - 1000);
    wr(VLAPIC_LVT_TIMER, 0xec, now);
    wr(VLAPIC_TIMER_INITIAL, 3125, now); /* 10 ms at 5 MHz / 16 */
    vlapic_advance(&apic, now + 50000);
    take(0xec);
    wr(VLAPIC_EOI, 0, now + 50000);
    /* TSC-deadline clockevent */
    now = 100000;
    wr(VLAPIC_LVT_TIMER, VLAPIC_TIMER_TSC_DEADLINE | 0xec, now);
    assert_int_equal(vlapic_msr_write(&apic, VLAPIC_MSR_TSC_DEADLINE, now + 5000, now), 0);
    assert_int_equal(vlapic_next_deadline(&apic), now + 5000);
    vlapic_advance(&apic, now + 5000);
    take(0xec);
    wr(VLAPIC_EOI, 0, now + 5000);
    /* the switch to the I/O APIC masks LINT0 */
    wr(VLAPIC_LVT_LINT0, VLAPIC_LVT_MASKED | 0x700, now);
    assert_false(vlapic_extint_enabled(&apic));
    /* x2APIC enable: EN already set, add EXTD */
    uint64_t base;
    vlapic_msr_read(&apic, VLAPIC_MSR_APIC_BASE, &base, now);
    base |= VLAPIC_BASE_EXTD;
    assert_int_equal(vlapic_msr_write(&apic, VLAPIC_MSR_APIC_BASE, base, now), 0);
    assert_int_equal(vlapic_msr_write(&apic, 0x80b, 0, now), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_state),
        cmocka_unit_test(test_priority_classes_and_tpr),
        cmocka_unit_test(test_nested_isr_and_eoi_order),
        cmocka_unit_test(test_acknowledge_only_pending),
        cmocka_unit_test(test_level_eoi_notifies),
        cmocka_unit_test(test_illegal_vectors_and_esr),
        cmocka_unit_test(test_software_disable),
        cmocka_unit_test(test_timer_oneshot_divides),
        cmocka_unit_test(test_timer_periodic_does_not_drift),
        cmocka_unit_test(test_timer_periodic_minimum),
        cmocka_unit_test(test_timer_masked_and_divide_change),
        cmocka_unit_test(test_tsc_deadline),
        cmocka_unit_test(test_x2apic_msrs),
        cmocka_unit_test(test_apic_base_transitions),
        cmocka_unit_test(test_mmio_sizes_and_alignment),
        cmocka_unit_test(test_ipis),
        cmocka_unit_test(test_lint_pins),
        cmocka_unit_test(test_linux_boot_sequence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
