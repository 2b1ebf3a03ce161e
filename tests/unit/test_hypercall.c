/* UNIT-SOURCES: kernel/hypercall.c kernel/mm/guest_mem.c kernel/lib/string.c */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <tessera/hypercall.h>
#include <tessera/hypercall_abi.h>

#define RAM_SIZE 0x10000
static uint8_t ram[RAM_SIZE];
static const void *seen_buf;
static size_t seen_len, take_at_most = SIZE_MAX;

static size_t console(void *ctx, const void *buf, size_t len)
{
    (void)ctx;
    seen_buf = buf;
    seen_len = len;
    return len < take_at_most ? len : take_at_most;
}

static const uint64_t HZ = 5000000, NOW = 1000000000;

static struct hypercall_outcome call(uint64_t nr, uint64_t a1, uint64_t a2, bool wide,
                                     unsigned cpl)
{
    const struct hypercall_env env = {
        .ram = { (uint64_t)(uintptr_t)ram, RAM_SIZE },
        .vm_id = 3, .now = NOW, .tsc_hz = HZ, .boot_tsc = NOW - 2 * HZ,
        .console_write = console, .ctx = NULL,
    };
    uint64_t mask = wide ? ~0ull : 0xffffffffull;
    struct vcpu_hypercall hc = { nr & mask, a1 & mask, a2 & mask, 0, mask, cpl };
    struct hypercall_outcome out;
    seen_buf = NULL;
    seen_len = 0;
    hypercall_decode(&hc, &env, &out);
    return out;
}

static void test_console_write(void **state)
{
    (void)state;
    struct hypercall_outcome o = call(TESSERA_HC_CONSOLE_WRITE, 0x100, 20, true, 0);
    assert_int_equal(o.rax, 20);
    assert_ptr_equal(seen_buf, ram + 0x100);
    assert_int_equal(seen_len, 20);
    o = call(TESSERA_HC_CONSOLE_WRITE, RAM_SIZE - 1, 1, true, 0); /* the last byte */
    assert_int_equal(o.rax, 1);
    o = call(TESSERA_HC_CONSOLE_WRITE, RAM_SIZE - 1, 2, true, 0); /* one past the end */
    assert_int_equal(o.rax, (uint64_t)-TESSERA_EFAULT);
    assert_null(seen_buf);
    o = call(TESSERA_HC_CONSOLE_WRITE, ~0ull - 7, 16, true, 0); /* wraps */
    assert_int_equal(o.rax, (uint64_t)-TESSERA_EFAULT);
    o = call(TESSERA_HC_CONSOLE_WRITE, 0xfffffff0, 0x20, false, 0); /* 32-bit wrap */
    assert_int_equal(o.rax, (uint32_t)-TESSERA_EFAULT);
    o = call(TESSERA_HC_CONSOLE_WRITE, 0, TESSERA_HC_CONSOLE_MAX + 1, true, 0);
    assert_int_equal(o.rax, (uint64_t)-TESSERA_EINVAL);
    o = call(TESSERA_HC_CONSOLE_WRITE, ~0ull, 0, true, 0); /* nothing to read */
    assert_int_equal(o.rax, 0);
    assert_null(seen_buf);
    take_at_most = 5; /* the console queue is nearly full: a short write */
    o = call(TESSERA_HC_CONSOLE_WRITE, 0, 100, true, 0);
    take_at_most = SIZE_MAX;
    assert_int_equal(o.rax, 5);
    assert_int_equal(o.action, HYPERCALL_CONTINUE);
}

static void test_ring3_refused(void **state)
{
    (void)state;
    for (unsigned cpl = 1; cpl <= 3; cpl++) {
        struct hypercall_outcome o = call(TESSERA_HC_CONSOLE_WRITE, 0x100, 20, true, cpl);
        assert_int_equal(o.rax, (uint64_t)-TESSERA_EPERM);
        assert_null(seen_buf);
        o = call(TESSERA_HC_EXIT, 77, 0, false, cpl);
        assert_int_equal(o.rax, (uint32_t)-TESSERA_EPERM);
        assert_int_equal(o.action, HYPERCALL_CONTINUE);
        o = call(TESSERA_HC_SET_TIMER, HZ, 0, true, cpl);
        assert_false(o.set_timer);
    }
}

static void test_other_calls(void **state)
{
    (void)state;
    struct hypercall_outcome o = call(TESSERA_HC_YIELD, 0, 0, true, 0);
    assert_int_equal(o.action, HYPERCALL_END_SLICE);
    o = call(TESSERA_HC_VM_ID, 0, 0, true, 0);
    assert_int_equal(o.rax, 3);
    o = call(TESSERA_HC_TIME, 0, 0, false, 0);
    assert_true(o.set_rbx_rcx_rdx);
    assert_int_equal(o.rbx, HZ);
    assert_int_equal(o.rcx, NOW & 0xffffffff); /* cut to the caller's width */
    assert_int_equal(o.rdx, 2000000000ull & 0xffffffff);
    o = call(TESSERA_HC_EXIT, 0x1234567890ull, 0, true, 0);
    assert_int_equal(o.action, HYPERCALL_EXIT);
    assert_int_equal(o.exit_status, 0x34567890);
    o = call(0, 0, 0, true, 0);
    assert_int_equal(o.rax, (uint64_t)-TESSERA_ENOSYS);
    o = call((1ull << 32) + TESSERA_HC_EXIT, 0, 0, true, 0); /* no truncation in 64-bit mode */
    assert_int_equal(o.rax, (uint64_t)-TESSERA_ENOSYS);
    assert_int_equal(o.action, HYPERCALL_CONTINUE);
}

static void test_set_timer(void **state)
{
    (void)state;
    uint64_t floor = HZ / 1000 * TESSERA_TIMER_MIN_US / 1000;
    struct hypercall_outcome o = call(TESSERA_HC_SET_TIMER, 2000, 0, true, 0);
    assert_true(o.set_timer);
    assert_int_equal(o.timer_deadline, NOW + floor); /* raised to the floor */
    o = call(TESSERA_HC_SET_TIMER, HZ, 0, true, 0);
    assert_int_equal(o.timer_deadline, NOW + HZ);
    o = call(TESSERA_HC_SET_TIMER, 0, 0, true, 0);
    assert_int_equal(o.timer_deadline, HYPERCALL_NO_TIMER);
    o = call(TESSERA_HC_SET_TIMER, HZ * 3600, 0, true, 0);
    assert_int_equal(o.timer_deadline, NOW + HZ * 3600);
    o = call(TESSERA_HC_SET_TIMER, HZ * 3600 + 1, 0, true, 0);
    assert_false(o.set_timer);
    assert_int_equal(o.rax, (uint64_t)-TESSERA_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_console_write),
        cmocka_unit_test(test_ring3_refused),
        cmocka_unit_test(test_other_calls),
        cmocka_unit_test(test_set_timer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
