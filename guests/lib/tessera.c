/* Tessera detection (CPUID 0x40000000) and the hypercall wrappers of hypercall_abi.h. The same
 * source builds for 32- and 64-bit guests: registers are `unsigned long`, so a 32-bit guest
 * passes and receives the low halves, as the ABI says. */
#include "guest.h"

bool cpu_has_hypervisor_bit(void)
{
    uint32_t a, b, c, d;
    cpuid(1, &a, &b, &c, &d);
    return (c >> 31) & 1;
}

bool tessera_detect(uint32_t *max_leaf, uint32_t *abi_version)
{
    uint32_t a, b, c, d;
    /* Without the hypervisor bit, leaf 0x40000000 is undefined (real CPUs echo the highest basic
     * leaf): do not trust it. */
    if (!cpu_has_hypervisor_bit())
        return false;
    cpuid(TESSERA_CPUID_BASE, &a, &b, &c, &d);
    if (b != TESSERA_CPUID_SIG_EBX || c != TESSERA_CPUID_SIG_ECX || d != TESSERA_CPUID_SIG_EDX)
        return false;
    if (max_leaf)
        *max_leaf = a;
    if (abi_version) {
        uint32_t version = 0;
        if (a >= TESSERA_CPUID_MAX) {
            uint32_t vb, vc, vd;
            cpuid(TESSERA_CPUID_MAX, &version, &vb, &vc, &vd);
        }
        *abi_version = version;
    }
    return true;
}

long tessera_hypercall(unsigned long nr, unsigned long a1, unsigned long a2, unsigned long a3,
                       unsigned long out[3])
{
    unsigned long rax = nr, rbx = a1, rcx = a2, rdx = a3;
    __asm__ volatile("vmcall" : "+a"(rax), "+b"(rbx), "+c"(rcx), "+d"(rdx) : : "memory");
    if (out) {
        out[0] = rbx;
        out[1] = rcx;
        out[2] = rdx;
    }
    return (long)rax;
}

/* CONSOLE_WRITE takes what fits in the VM's console queue (a short write, 0 when it is full):
 * give the console time to drain, and go on with the rest. */
long tessera_console_write(const void *buf, unsigned long len)
{
    const char *p = buf;
    unsigned long done = 0;
    while (done < len) {
        long rc = tessera_hypercall(TESSERA_HC_CONSOLE_WRITE, (unsigned long)(uintptr_t)(p + done),
                                    len - done, 0, NULL);
        if (rc < 0)
            return done ? (long)done : rc;
        done += (unsigned long)rc;
        if (done < len)
            tessera_yield();
    }
    return (long)done;
}

long tessera_yield(void)
{
    return tessera_hypercall(TESSERA_HC_YIELD, 0, 0, 0, NULL);
}

long tessera_vm_id(void)
{
    return tessera_hypercall(TESSERA_HC_VM_ID, 0, 0, 0, NULL);
}

long tessera_time(struct tessera_time *t)
{
    unsigned long out[3] = { 0, 0, 0 };
    long rc = tessera_hypercall(TESSERA_HC_TIME, 0, 0, 0, out);
    t->tsc_hz = out[0];
    t->ticks = out[1];
    t->ns = out[2];
    return rc;
}

long tessera_set_timer(uint64_t ticks)
{
    return tessera_hypercall(TESSERA_HC_SET_TIMER, (unsigned long)ticks, 0, 0, NULL);
}

void tessera_exit(unsigned long status)
{
    serial_drain();
    tessera_hypercall(TESSERA_HC_EXIT, status, 0, 0, NULL);
    cpu_halt_forever(); /* the call does not return; never run on if it did */
}
