/* UNIT-SOURCES: */
/* (x86/guest_cpuid.h is all inline.) */
/* CPUID for the emulated devices: leaves 0x15/0x16 give the TSC and crystal rates Linux's
 * native_calibrate_tsc needs (tsc_khz = crystal_khz * EBX / EAX, lapic_timer_period from the
 * crystal), the APIC and TSC-deadline bits appear only with the APIC, x2APIC never, and leaves
 * made visible by raising the maximum leaf read zero. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <x86/guest_cpuid.h>

static const struct vcpu_guest_cpu linux_vm = { true, 0, 25000000, 25000000, 1 };
static const struct vcpu_guest_cpu plain = { 0 };

static struct x86_cpuid ask(const struct vcpu_guest_cpu *g, uint32_t host_max,
                                   uint32_t leaf, struct x86_cpuid r)
{
    guest_cpuid_apply(g, host_max, leaf, 0, &r);
    return r;
}

static void test_tsc_leaves(void **state)
{
    (void)state;
    struct x86_cpuid junk = { 0x11, 0x22, 0x33, 0x44 };
    struct x86_cpuid r = ask(&linux_vm, 0xd, 0, (struct x86_cpuid){ 0xd, 1, 2, 3 });
    assert_int_equal(r.eax, 0x16); /* raised so 0x15/0x16 are in range */
    assert_int_equal(r.ebx, 1);
    r = ask(&linux_vm, 0x20, 0, (struct x86_cpuid){ 0x20, 1, 2, 3 });
    assert_int_equal(r.eax, 0x20); /* never lowered */
    r = ask(&linux_vm, 0xd, 0x15, junk);
    assert_int_equal(r.eax, 1);
    assert_int_equal(r.ebx, 1);
    assert_int_equal(r.ecx, 25000000);
    /* Linux: crystal_khz = ecx / 1000; tsc_khz = crystal_khz * ebx / eax */
    assert_int_equal((r.ecx / 1000) * r.ebx / r.eax, 25000);
    r = ask(&linux_vm, 0xd, 0x16, junk);
    assert_int_equal(r.eax, 25);
    assert_int_equal(r.ebx, 25);
    assert_int_equal(r.ecx, 25);
    /* a leaf between the host's maximum and 0x15: zero, not the host's last leaf */
    r = ask(&linux_vm, 0xd, 0x10, junk);
    assert_int_equal(r.eax | r.ebx | r.ecx | r.edx, 0);
    /* a 3 GHz TSC with the crystal at 1 GHz / 3 */
    const struct vcpu_guest_cpu fast = { true, 0, 3000000000ull, 1000000000u, 3 };
    r = ask(&fast, 0x20, 0x15, junk);
    assert_int_equal((uint64_t)(r.ecx / 1000) * r.ebx / r.eax, 3000000);
    /* without the rates: untouched */
    r = ask(&plain, 0xd, 0x15, junk);
    assert_int_equal(r.eax, 0x11);
    r = ask(&plain, 0xd, 0, (struct x86_cpuid){ 0xd, 1, 2, 3 });
    assert_int_equal(r.eax, 0xd);
}

static void test_apic_bits(void **state)
{
    (void)state;
    struct x86_cpuid host = { 0x50654, 0x05100800, (1u << 21) | (1u << 24) | 1, 1u << 9 };
    struct x86_cpuid r = ask(&linux_vm, 0x16, 1, host);
    assert_true(r.edx & (1u << 9));
    assert_true(r.ecx & (1u << 24));
    assert_false(r.ecx & (1u << 21)); /* x2APIC hidden */
    assert_int_equal(r.ebx >> 24, 0);  /* the guest's APIC ID, not the host CPU's 5 */
    assert_int_equal(r.ebx & 0xffffff, 0x100800);
    r = ask(&plain, 0x16, 1, host);
    assert_false(r.edx & (1u << 9));
    assert_false(r.ecx & ((1u << 21) | (1u << 24)));
    r = ask(&linux_vm, 0x16, 0xb, (struct x86_cpuid){ 1, 1, 0x100, 5 });
    assert_int_equal(r.edx, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tsc_leaves),
        cmocka_unit_test(test_apic_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
