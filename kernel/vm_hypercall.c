/* A VM's hypercall, applied: decoding and every check are in kernel/hypercall.c (pure); this
 * reads the call from the vCPU, gives the decoder the VM's view of the machine and carries out
 * the outcome (registers, timer, output, the VM's own end). */
#include <tessera/arch.h>
#include <tessera/hypercall.h>
#include <tessera/vm.h>

static uint64_t boot_tsc;

void hypercall_set_boot_time(uint64_t tsc)
{
    boot_tsc = tsc;
}

static size_t hypercall_console(void *ctx, const void *buf, size_t len)
{
    return vm_output(ctx, buf, len); /* may be short: the queue is full */
}

/* All but the time stays the same for the VM's whole existence (its RAM, id and the clock's rate
 * and start are fixed before any VM runs): built at its first call. */
static __attribute__((noinline)) void env_init(struct vm *vm)
{
    vm->hypercall_env = (struct hypercall_env){
        .ram = { vm->ram_host, vm->ram_size },
        .vm_id = vm->id,
        .tsc_hz = arch_tsc_hz(),
        .boot_tsc = boot_tsc,
        .console_write = hypercall_console,
        .ctx = vm,
    };
}

/* What a call asks beyond its return value: the VM's end, registers, the timer. */
static __attribute__((noinline)) enum vm_hypercall_result
apply_outcome(struct vm *vm, const struct vcpu_hypercall *hc, const struct hypercall_outcome *out)
{
    struct vcpu *v = &vm->vcpu;
    if (out->action == HYPERCALL_EXIT) {
        vm_exit(vm, out->exit_status);
        return VM_HYPERCALL_ENDED;
    }
    if (out->set_rbx_rcx_rdx) {
        vcpu_set_reg(v, VCPU_REG_RBX, out->rbx);
        vcpu_set_reg(v, VCPU_REG_RCX, out->rcx);
        vcpu_set_reg(v, VCPU_REG_RDX, out->rdx);
    }
    if (out->set_timer)
        vm->timer_deadline = out->timer_deadline == HYPERCALL_NO_TIMER ? VM_NO_TIMER
                                                                       : out->timer_deadline;
    vcpu_hypercall_return(v, hc, out->rax);
    return out->action == HYPERCALL_END_SLICE ? VM_HYPERCALL_END_SLICE : VM_HYPERCALL_CONTINUE;
}

enum vm_hypercall_result vm_hypercall(struct vm *vm)
{
    struct vcpu *v = &vm->vcpu;
    struct vcpu_hypercall hc;
    vcpu_hypercall_args(v, &hc);
    struct hypercall_env *env = &vm->hypercall_env;
    if (!env->console_write)
        env_init(vm);
    env->now = arch_now();
    struct hypercall_outcome out;
    hypercall_decode(&hc, env, &out);
    if (out.action == HYPERCALL_EXIT || out.set_rbx_rcx_rdx || out.set_timer)
        return apply_outcome(vm, &hc, &out); /* out of line: the common case saves less */
    vcpu_hypercall_return(v, &hc, out.rax);
    return out.action == HYPERCALL_END_SLICE ? VM_HYPERCALL_END_SLICE : VM_HYPERCALL_CONTINUE;
}
