/* FUZZ-SOURCES: kernel/hypercall.c kernel/mm/guest_mem.c kernel/lib/string.c */
/* libFuzzer harness for hypercall decoding. The input is a sequence of calls, each 34 bytes:
 * nr, arg1, arg2, arg3 (little-endian u64), a flags byte (bit 0: 64-bit caller, bits 1-2: CPL)
 * and how many bytes the console takes this time (0-255, scaled). Checks after each call: a
 * call from CPL > 0 does nothing but return -EPERM; every value handed back fits the caller's
 * width; the console only ever sees bytes inside the VM's RAM, at most 4096 of them; a timer is
 * never set shorter than the floor or further than an hour; unknown numbers give -ENOSYS. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <tessera/hypercall.h>
#include <tessera/hypercall_abi.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM_SIZE (64 * 1024)
static uint8_t ram[RAM_SIZE];
static size_t console_budget, console_calls;

static size_t take_console(void *ctx, const void *buf, size_t len)
{
    (void)ctx;
    const uint8_t *p = buf;
    if (p < ram || len > RAM_SIZE || p + len > ram + RAM_SIZE || len == 0 ||
        len > TESSERA_HC_CONSOLE_MAX)
        abort(); /* handed bytes outside the VM's RAM */
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < len; i++)
        sink ^= p[i]; /* ASan checks every byte */
    (void)sink;
    console_calls++;
    return len < console_budget ? len : console_budget;
}

static uint64_t take(const uint8_t *d)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 8; i++)
        v |= (uint64_t)d[i] << (8 * i);
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint64_t hz = 5000000, now = 123456789, min = hz / 1000 * TESSERA_TIMER_MIN_US / 1000;
    const struct hypercall_env env = {
        .ram = { (uint64_t)(uintptr_t)ram, RAM_SIZE },
        .vm_id = 7, .now = now, .tsc_hz = hz, .boot_tsc = 1000,
        .console_write = take_console, .ctx = NULL,
    };
    for (; size >= 34; data += 34, size -= 34) {
        struct vcpu_hypercall hc;
        bool wide = data[32] & 1;
        hc.width_mask = wide ? ~0ull : 0xffffffffull;
        hc.nr = take(data) & hc.width_mask;
        hc.arg1 = take(data + 8) & hc.width_mask;
        hc.arg2 = take(data + 16) & hc.width_mask;
        hc.arg3 = take(data + 24) & hc.width_mask;
        hc.cpl = (data[32] >> 1) & 3;
        console_budget = (size_t)data[33] * 17;
        console_calls = 0;

        struct hypercall_outcome out;
        hypercall_decode(&hc, &env, &out);

        if ((out.rax | out.rbx | out.rcx | out.rdx) & ~hc.width_mask)
            abort(); /* wider than the caller's registers */
        if (hc.cpl != 0) {
            if (out.rax != ((uint64_t)-TESSERA_EPERM & hc.width_mask) || out.action ||
                out.set_timer || out.set_rbx_rcx_rdx || console_calls)
                abort();
            continue;
        }
        int64_t rax = wide ? (int64_t)out.rax : (int64_t)(int32_t)out.rax;
        switch (hc.nr) {
        case TESSERA_HC_CONSOLE_WRITE:
            if (rax >= 0 && ((uint64_t)rax > hc.arg2 || (uint64_t)rax > console_budget))
                abort(); /* claims more than was taken */
            if (rax < 0 && console_calls)
                abort();
            break;
        case TESSERA_HC_SET_TIMER:
            if (out.set_timer && out.timer_deadline != HYPERCALL_NO_TIMER &&
                (out.timer_deadline < now + min || out.timer_deadline > now + hz * 3600))
                abort();
            if (out.set_timer == (rax != 0))
                abort(); /* set exactly when it succeeded */
            break;
        case TESSERA_HC_EXIT:
            if (out.action != HYPERCALL_EXIT || out.exit_status != (uint32_t)hc.arg1)
                abort();
            break;
        case TESSERA_HC_YIELD:
            if (out.action != HYPERCALL_END_SLICE)
                abort();
            break;
        case TESSERA_HC_VM_ID:
        case TESSERA_HC_TIME:
            break;
        default:
            if (rax != -TESSERA_ENOSYS || out.action || out.set_timer || console_calls)
                abort();
        }
    }
    return 0;
}
