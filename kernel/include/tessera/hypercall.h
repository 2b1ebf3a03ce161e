/* The hypercall ABI's decoding and checks (docs/hypercalls.md), as a pure function: the run loop
 * gathers what a call may see (the VM's RAM, the time, a way to print) and applies the outcome
 * (registers, timer, end of the VM), so every guest-controlled argument is checked here, where
 * a unit test and a fuzz harness reach it. */
#ifndef TESSERA_HYPERCALL_H
#define TESSERA_HYPERCALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <tessera/vcpu.h>

#define HYPERCALL_NO_TIMER UINT64_MAX

struct hypercall_env {
    struct vcpu_memory ram; /* the calling VM's RAM */
    uint32_t vm_id;
    uint64_t now, tsc_hz, boot_tsc;
    /* Takes up to len bytes of console output; returns how many it took (short when full). */
    size_t (*console_write)(void *ctx, const void *buf, size_t len);
    void *ctx;
};

enum hypercall_action {
    HYPERCALL_CONTINUE = 0, /* back into the guest */
    HYPERCALL_END_SLICE,    /* YIELD: the rest of the slice goes to others */
    HYPERCALL_EXIT,         /* EXIT: the VM ends with exit_status; nothing is returned */
};

/* Packed small (the flags together) so that clearing it is a few stores on every hypercall. */
struct hypercall_outcome {
    uint32_t action; /* enum hypercall_action */
    uint32_t exit_status;
    bool set_rbx_rcx_rdx;
    bool set_timer;
    uint64_t rax; /* the result, cut to the caller's register width */
    uint64_t rbx, rcx, rdx;
    uint64_t timer_deadline; /* TSC deadline, or HYPERCALL_NO_TIMER to cancel */
};

void hypercall_decode(const struct vcpu_hypercall *hc, const struct hypercall_env *env,
                      struct hypercall_outcome *out);

#endif
