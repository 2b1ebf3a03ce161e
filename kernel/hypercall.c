/* Hypercall decoding and argument checks (tessera/hypercall.h). Pure: no global state. */
#include <tessera/errno.h>
#include <tessera/guest_mem.h>
#include <tessera/hypercall.h>
#include <tessera/hypercall_abi.h>

static uint64_t ticks_to_ns(uint64_t ticks, uint64_t hz)
{
    if (!hz)
        return 0;
    /* split so that nothing overflows for any TSC below 18 GHz */
    return (ticks / hz) * 1000000000ull + (ticks % hz) * 1000000000ull / hz;
}

static int64_t console_copy(const struct hypercall_env *env, uint64_t gpa, uint64_t len)
{
    if (len > TESSERA_HC_CONSOLE_MAX)
        return -TESSERA_EINVAL;
    if (len == 0)
        return 0; /* nothing to read, wherever it points */
    const void *buf = guest_mem_range(&env->ram, gpa, len);
    if (!buf)
        return -TESSERA_EFAULT;
    return env->console_write ? (int64_t)env->console_write(env->ctx, buf, len) : (int64_t)len;
}

static __attribute__((noinline)) void console_write(const struct hypercall_env *env, uint64_t gpa,
                                                    uint64_t len, uint64_t mask,
                                                    struct hypercall_outcome *out)
{
    out->rax = (uint64_t)console_copy(env, gpa, len) & mask;
}

void hypercall_decode(const struct vcpu_hypercall *hc, const struct hypercall_env *env,
                      struct hypercall_outcome *out)
{
    uint64_t mask = hc->width_mask;
    int64_t ret = 0;
    /* field by field: a struct assignment becomes a string store, a loop on every call */
    out->action = HYPERCALL_CONTINUE;
    out->exit_status = 0;
    out->set_rbx_rcx_rdx = false;
    out->set_timer = false;
    out->rax = out->rbx = out->rcx = out->rdx = 0;
    out->timer_deadline = 0;

    /* Only the guest's kernel may call (as with KVM): its user programs must not print its
     * memory or end the VM. */
    if (hc->cpl != 0) {
        out->rax = (uint64_t)-TESSERA_EPERM & mask;
        return;
    }
    /* the backend has cut the arguments to the caller's width already; cut again so that a
     * bad backend cannot widen them */
    uint64_t nr = hc->nr & mask, a1 = hc->arg1 & mask, a2 = hc->arg2 & mask;
    switch (nr) {
    case TESSERA_HC_CONSOLE_WRITE:
        console_write(env, a1, a2, mask, out); /* a tail call: the other calls save nothing */
        return;
    case TESSERA_HC_YIELD:
        out->action = HYPERCALL_END_SLICE;
        break;
    case TESSERA_HC_VM_ID:
        ret = env->vm_id;
        break;
    case TESSERA_HC_TIME:
        out->set_rbx_rcx_rdx = true;
        out->rbx = env->tsc_hz & mask;
        out->rcx = env->now & mask;
        out->rdx = ticks_to_ns(env->now - env->boot_tsc, env->tsc_hz) & mask;
        break;
    case TESSERA_HC_EXIT:
        out->action = HYPERCALL_EXIT;
        out->exit_status = (uint32_t)a1;
        return;
    case TESSERA_HC_SET_TIMER: {
        /* at most an hour ahead: a VM asleep forever could never be ended by its time_limit */
        if (a1 > env->tsc_hz * 3600) {
            ret = -TESSERA_EINVAL;
            break;
        }
        /* a floor on the period bounds how often a sleeper makes us switch (scheduler.md) */
        uint64_t per_ms = env->tsc_hz / 1000 ? env->tsc_hz / 1000 : 1;
        uint64_t min = per_ms * TESSERA_TIMER_MIN_US / 1000;
        out->set_timer = true;
        out->timer_deadline = a1 ? env->now + (a1 < min ? min : a1) : HYPERCALL_NO_TIMER;
        break;
    }
    default:
        ret = -TESSERA_ENOSYS;
        break;
    }
    out->rax = (uint64_t)ret & mask;
}
