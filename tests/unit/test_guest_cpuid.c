/* UNIT-SOURCES: arch/x86/guest_cpuid.c */
/* CPUID for the emulated devices: leaves 0x15/0x16 give the TSC and crystal rates Linux's
 * native_calibrate_tsc needs (tsc_khz = crystal_khz * EBX / EAX, lapic_timer_period from the
 * crystal), the APIC and TSC-deadline bits appear only with the APIC, x2APIC never, and leaves
 * made visible by raising the maximum leaf read zero. A vCPU's table of answers gives exactly
 * what the view gives, on this CPU, whatever the order of the questions. */
#define _GNU_SOURCE
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <x86/cpu.h>
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

/* ---- the table of answers ---------------------------------------------------------------- */

/* What x86_cpuid_guest_view gives for (leaf, sub) from this CPU's own answer. */
static struct x86_cpuid direct(const struct vcpu_guest_cpu *g, uint32_t leaf, uint32_t sub)
{
    struct x86_cpuid r = { 0, 0, 0, 0 };
    if (!x86_cpuid_is_hypervisor_leaf(leaf)) {
        struct cpuid_regs hw = cpuid(leaf, sub);
        r = (struct x86_cpuid){ hw.eax, hw.ebx, hw.ecx, hw.edx };
    }
    x86_cpuid_guest_view(g, cpuid_max_leaf(), leaf, sub, &r);
    return r;
}

static void assert_answer(struct x86_guest_cpuid *c, uint32_t leaf, uint32_t sub)
{
    struct x86_cpuid want = direct(&c->cpu, leaf, sub);
    const struct x86_cpuid *got = x86_guest_cpuid(c, leaf, sub);
    assert_int_equal(got->eax, want.eax);
    assert_int_equal(got->ebx, want.ebx);
    assert_int_equal(got->ecx, want.ecx);
    assert_int_equal(got->edx, want.edx);
}

/* The host's answers must not change under the test (leaf 1's APIC ID differs between CPUs):
 * it stays on the CPU it started on, as a vCPU stays on its CPU until x86_guest_cpuid_forget. */
static int stay_on_this_cpu(void **state)
{
    (void)state;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(sched_getcpu(), &set);
    return sched_setaffinity(0, sizeof set, &set);
}

/* A vCPU's memory starts zeroed: slot 0 then reads as leaf 0, sub 0, answer 0. */
static void new_table(struct x86_guest_cpuid *c, const struct vcpu_guest_cpu *g)
{
    memset(c, 0, sizeof *c);
    x86_guest_cpuid_init(c, g, cpuid_max_leaf());
}

static void test_table_starts_empty(void **state)
{
    (void)state;
    struct x86_guest_cpuid c;
    new_table(&c, &linux_vm);
    for (unsigned i = 0; i < X86_CPUID_SLOTS; i++)
        for (uint32_t leaf = 0; leaf < 64; leaf++)
            assert_false(x86_cpuid_slot_of(leaf) == i && x86_cpuid_slot_holds(&c.slot[i], leaf, 0));
    assert_answer(&c, 0, 0);
    assert_int_not_equal(x86_guest_cpuid(&c, 0, 0)->eax, 0); /* not the zeroed slot's 0 */
}

/* Leaves 0-15 have a slot each; the hypervisor's and the extended leaves land elsewhere than the
 * basic leaf with the same low bits. */
static void test_slots(void **state)
{
    (void)state;
    for (uint32_t leaf = 0; leaf < X86_CPUID_SLOTS; leaf++)
        assert_int_equal(x86_cpuid_slot_of(leaf), leaf);
    assert_int_equal(x86_cpuid_slot_of(0x40000000u), 4);
    assert_int_equal(x86_cpuid_slot_of(0x80000000u), 8);
    assert_int_equal(x86_cpuid_slot_of(0x80000001u), 9);
    assert_int_equal(x86_cpuid_slot_of(0x80000008u), 0);
}

/* A repeated question is answered from its slot (a poisoned slot shows it: nothing is asked
 * again); another sub-leaf, or a leaf sharing the slot, is a new question. */
static void test_table_hits_and_misses(void **state)
{
    (void)state;
    struct x86_guest_cpuid c;
    new_table(&c, &linux_vm);
    assert_answer(&c, 1, 0);
    struct x86_cpuid_slot *s = &c.slot[x86_cpuid_slot_of(1)];
    assert_true(x86_cpuid_slot_holds(s, 1, 0));
    s->r.eax = 0xdeadbeef;
    assert_int_equal(x86_guest_cpuid(&c, 1, 0)->eax, 0xdeadbeef);
    assert_answer(&c, 1, 7);              /* another sub-leaf */
    assert_false(x86_cpuid_slot_holds(s, 1, 0));
    s->r.eax = 0xdeadbeef;
    assert_answer(&c, 0x80000009u, 7);    /* the same slot, another leaf */
    assert_answer(&c, 1, 7);
    /* the hypervisor's leaves come from the view, not the CPU */
    assert_int_equal(x86_guest_cpuid(&c, TESSERA_CPUID_BASE, 0)->ebx, TESSERA_CPUID_SIG_EBX);
}

/* Setting the guest CPU and moving to another CPU each empty the table. */
static void test_table_emptied(void **state)
{
    (void)state;
    struct x86_guest_cpuid c;
    new_table(&c, &plain);
    assert_false(x86_guest_cpuid(&c, 1, 0)->edx & GUEST_CPUID1_EDX_APIC);
    x86_guest_cpuid_init(&c, &linux_vm, c.host_max_leaf);
    assert_true(x86_guest_cpuid(&c, 1, 0)->edx & GUEST_CPUID1_EDX_APIC);
    assert_int_equal(x86_guest_cpuid(&c, 0x15, 0)->ecx, 25000000);
    c.slot[x86_cpuid_slot_of(0x15)].r.ecx = 1;
    x86_guest_cpuid_forget(&c);
    assert_answer(&c, 0x15, 0);
}

/* Any order of questions, with collisions and sub-leaves: always the view's answer. */
static void test_table_matches_view(void **state)
{
    (void)state;
    static const uint32_t leaves[] = { 0, 1, 2, 4, 6, 7, 0xb, 0xd, 0x10, 0x15, 0x16, 0x1f, 0x20,
                                       0x40000000u, 0x40000001u, 0x40000010u, 0x80000000u,
                                       0x80000001u, 0x80000008u, 0x8000000au, 0x80000020u };
    struct x86_guest_cpuid c;
    new_table(&c, &linux_vm);
    uint32_t seed = 12345;
    for (unsigned i = 0; i < 20000; i++) {
        seed = seed * 1103515245u + 12345u;
        uint32_t leaf = leaves[(seed >> 16) % (sizeof leaves / sizeof leaves[0])];
        uint32_t sub = (seed >> 8) % 3;
        assert_answer(&c, leaf, sub);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tsc_leaves),
        cmocka_unit_test(test_apic_bits),
        cmocka_unit_test(test_table_starts_empty),
        cmocka_unit_test(test_slots),
        cmocka_unit_test(test_table_hits_and_misses),
        cmocka_unit_test(test_table_emptied),
        cmocka_unit_test(test_table_matches_view),
    };
    return cmocka_run_group_tests(tests, stay_on_this_cpu, NULL);
}
