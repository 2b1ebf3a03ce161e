/* The run loop of each physical CPU: pick one of its VMs (kernel/sched_policy.c), run its vCPU for
 * a slice, handle what it exits for (port I/O, hypercalls, HLT, faults), account the time. Each CPU
 * schedules only the VMs its config assigns to it. When every VM has ended, the boot CPU prints
 * the summary table. */
#include <tessera/arch.h>
#include <tessera/console.h>
#include <tessera/errno.h>
#include <tessera/hypercall.h>
#include <tessera/hypercall_abi.h>
#include <tessera/mm.h>
#include <tessera/printf.h>
#include <tessera/string.h>
#include <tessera/vm.h>

#define IGNORED_PORT_REPORTS 4

/* One scheduler per physical CPU; only that CPU touches it. */
struct cpu_run {
    struct sched_policy sched;
    bool shares_taken;
    uint64_t share_ticks[VM_MAX]; /* ticks_run of its VMs when the first of them ended */
    unsigned vm_total;
    unsigned vm_limited;          /* how many of them have a time_limit */
    struct vm *vm_at[SCHED_MAX_ENTITIES]; /* by scheduler index */
    unsigned vm_ending;           /* stopped, not yet reported (VM_ENDING) */
    int done;                     /* set (release) when its last VM has ended */
};

static struct cpu_run cpu_runs[ARCH_MAX_CPUS];
static uint64_t boot_tsc;
static uint64_t run_quantum;
static int go; /* set by the boot CPU once every VM exists */

static struct cpu_run *run_of(const struct vm *vm) { return &cpu_runs[vm->cfg.cpu]; }

static void take_shares_snapshot(struct cpu_run *run, unsigned cpu)
{
    if (run->shares_taken)
        return;
    run->shares_taken = true;
    for (unsigned i = 0; i < vm_count(); i++)
        if (vm_get(i)->cfg.cpu == cpu)
            run->share_ticks[i] = vm_get(i)->sched.ticks_run;
}

/* Blocked without a timer: never picked again until it finishes or restarts. */
void sched_stop_vm(struct vm *vm, bool for_good)
{
    if (for_good) /* the shares of the VMs that ran together: not the time it takes to report */
        take_shares_snapshot(run_of(vm), vm->cfg.cpu);
    sched_block(&run_of(vm)->sched, (unsigned)vm->sched_index, SCHED_NO_TIMER);
    run_of(vm)->vm_ending++;
}

void sched_finish_vm(struct vm *vm)
{
    take_shares_snapshot(run_of(vm), vm->cfg.cpu);
    sched_finish(&run_of(vm)->sched, (unsigned)vm->sched_index);
    run_of(vm)->vm_ending--;
}

void sched_restart_vm(struct vm *vm)
{
    sched_restart(&run_of(vm)->sched, (unsigned)vm->sched_index);
    run_of(vm)->vm_ending--;
}

/* ---- port I/O ----------------------------------------------------------------------------- */

/* A port access goes to the bus region holding all of it; one that is not wholly inside a region
 * is split into bytes, each to its own region, so an access straddling a device's end reads and
 * writes what the bytes would alone. Unclaimed bytes read as all ones (the bus floats high). */
static uint32_t port_read(struct vm *vm, uint16_t port, unsigned size)
{
    uint64_t now = arch_now();
    const struct dev_region *r = dev_bus_find(&vm->bus, DEV_SPACE_PORT, port, size);
    if (r)
        return (uint32_t)r->ops->read(r->dev, port - r->base, size, now);
    uint32_t value = 0;
    for (unsigned i = 0; i < size; i++) {
        uint16_t p = (uint16_t)(port + i);
        r = dev_bus_find(&vm->bus, DEV_SPACE_PORT, p, 1);
        uint8_t b = r ? (uint8_t)r->ops->read(r->dev, p - r->base, 1, now) : 0xff;
        value |= (uint32_t)b << (8 * i);
    }
    return value;
}

/* Returns false when the write ended the VM. */
static bool port_write(struct vm *vm, uint16_t port, unsigned size, uint32_t value)
{
    /* the debug-exit port is the VM's own end, not a device */
    if (port >= TESSERA_DEBUG_EXIT_PORT && port < TESSERA_DEBUG_EXIT_PORT + 4) {
        vm_exit(vm, size == 1 ? (value & 0xff) : size == 2 ? (value & 0xffff) : value);
        return false;
    }
    uint64_t now = arch_now();
    const struct dev_region *r = dev_bus_find(&vm->bus, DEV_SPACE_PORT, port, size);
    if (r) {
        r->ops->write(r->dev, port - r->base, size, value, now);
        return true;
    }
    for (unsigned i = 0; i < size; i++) {
        uint16_t p = (uint16_t)(port + i);
        uint8_t b = (uint8_t)(value >> (8 * i));
        r = dev_bus_find(&vm->bus, DEV_SPACE_PORT, p, 1);
        if (r) {
            r->ops->write(r->dev, p - r->base, 1, b, now);
        } else if (vm->ignored_ports_reported < IGNORED_PORT_REPORTS) {
            vm->ignored_ports_reported++;
            kprintf("tessera: vm %s: write 0x%x to port 0x%x ignored (no device there)%s\n",
                    vm->cfg.name, b, p,
                    vm->ignored_ports_reported == IGNORED_PORT_REPORTS ? "; not reporting more" : "");
        }
    }
    return true;
}

/* ---- device memory and MSRs ---------------------------------------------------------------- */

/* A data access outside RAM goes to the bus region holding all of it; anything else (no device
 * there, or an access straddling a device's end) stops the VM, as any other EPT violation.
 * Returns false with reason filled in then. */
static bool mmio_access(struct vm *vm, const struct vcpu_mmio *m, char *reason, size_t len)
{
    const struct dev_region *r = dev_bus_find(&vm->bus, DEV_SPACE_MMIO, m->gpa, m->size);
    if (!r) {
        ksnprintf(reason, len, "EPT violation: %u-byte %s at guest-physical 0x%llx, outside the "
                  "VM's memory and its devices", m->size, m->write ? "write" : "read",
                  (unsigned long long)m->gpa);
        return false;
    }
    uint64_t now = arch_now();
    if (m->write) {
        r->ops->write(r->dev, m->gpa - r->base, m->size, m->value, now);
        vcpu_complete_mmio(&vm->vcpu, 0);
    } else {
        vcpu_complete_mmio(&vm->vcpu, r->ops->read(r->dev, m->gpa - r->base, m->size, now));
    }
    return true;
}

/* An MSR the backend left to generic code: the platform's local APIC MSRs, else #GP as on a
 * CPU without that MSR. */
static void msr_access(struct vm *vm, const struct vcpu_msr *m)
{
    uint64_t value = 0;
    int err = -ENOENT;
    if (vm->has_legacy_pc)
        err = m->write ? legacy_pc_msr_write(&vm->pc, m->index, m->value, arch_now())
                       : legacy_pc_msr_read(&vm->pc, m->index, &value, arch_now());
    vcpu_complete_msr(&vm->vcpu, err == 0, value);
}

/* ---- the PC platform's interrupts (VMs with has_legacy_pc) ------------------------------------ */

/* Before an entry: devices brought to now, then inject the PIC's vector when the guest can take
 * it or ask for the window. Returns the entry's deadline: the slice's, or the devices' next one
 * if that is earlier, so a due timer tick is delivered on time. */
static uint64_t legacy_pc_prepare(struct vm *vm, uint64_t deadline, struct vcpu_exit *exit)
{
    uint64_t now = arch_now();
    legacy_pc_advance(&vm->pc, now);
    struct legacy_pc_entry e = legacy_pc_before_entry(&vm->pc, exit->interruptible);
    exit->inject_vector = e.vector;
    exit->want_interrupt_window = e.want_window;
    uint64_t next = legacy_pc_next_deadline(&vm->pc, now);
    return next < deadline ? next : deadline;
}

/* HLT with interrupts enabled waits for the devices (or the SET_TIMER timer): returns when to
 * wake, VM_NO_TIMER to give up the slice only, or 0 to go on at once (one is pending). */
static uint64_t legacy_pc_halt(struct vm *vm)
{
    uint64_t now = arch_now();
    legacy_pc_advance(&vm->pc, now);
    if (legacy_pc_interrupt_pending(&vm->pc))
        return 0;
    uint64_t next = legacy_pc_next_deadline(&vm->pc, now);
    if (vm->timer_deadline <= next) {
        next = vm->timer_deadline;
        vm->timer_deadline = VM_NO_TIMER;
    }
    return next == DEV_NO_DEADLINE ? VM_NO_TIMER : next;
}

/* ---- hypercalls --------------------------------------------------------------------------- */

static uint64_t ticks_per_ms(void)
{
    return arch_tsc_hz() / 1000 ? arch_tsc_hz() / 1000 : 1;
}

enum hypercall_result { HC_CONTINUE, HC_END_SLICE, HC_VM_ENDED };

static size_t hypercall_console(void *ctx, const void *buf, size_t len)
{
    return vm_output(ctx, buf, len); /* may be short: the queue is full */
}

/* Decoding and every check are in kernel/hypercall.c (pure); this applies the outcome. */
static enum hypercall_result hypercall(struct vm *vm)
{
    struct vcpu *v = &vm->vcpu;
    struct vcpu_hypercall hc;
    vcpu_hypercall_args(v, &hc);
    const struct hypercall_env env = {
        .ram = { vm->ram_host, vm->ram_size },
        .vm_id = vm->id,
        .now = arch_now(),
        .tsc_hz = arch_tsc_hz(),
        .boot_tsc = boot_tsc,
        .console_write = hypercall_console,
        .ctx = vm,
    };
    struct hypercall_outcome out;
    hypercall_decode(&hc, &env, &out);
    if (out.action == HYPERCALL_EXIT) {
        vm_exit(vm, out.exit_status);
        return HC_VM_ENDED;
    }
    if (out.set_rbx_rcx_rdx) {
        vcpu_set_reg(v, VCPU_REG_RBX, out.rbx);
        vcpu_set_reg(v, VCPU_REG_RCX, out.rcx);
        vcpu_set_reg(v, VCPU_REG_RDX, out.rdx);
    }
    if (out.set_timer)
        vm->timer_deadline = out.timer_deadline == HYPERCALL_NO_TIMER ? VM_NO_TIMER
                                                                      : out.timer_deadline;
    vcpu_hypercall_return(v, &hc, out.rax);
    return out.action == HYPERCALL_END_SLICE ? HC_END_SLICE : HC_CONTINUE;
}

/* ---- the loop ----------------------------------------------------------------------------- */

/* A VM with a time_limit is stopped once that much time has passed since its current life
 * first entered the guest, whether it spent it running, spinning or asleep: the way to end a
 * guest that never ends itself. A life not yet entered has no end yet (run_slice sets it).
 * Returns the earliest limit still ahead on this CPU (SCHED_NO_TIMER: none). */
static uint64_t enforce_time_limits(unsigned cpu)
{
    if (!cpu_runs[cpu].vm_limited)
        return SCHED_NO_TIMER; /* the common case costs one compare per pick */
    uint64_t now = arch_now(), next = SCHED_NO_TIMER;
    for (unsigned i = 0; i < vm_count(); i++) {
        struct vm *vm = vm_get(i);
        uint64_t limit_ms = vm->cfg.time_limit_ms;
        if (vm->cfg.cpu != cpu || !limit_ms || vm->state != VM_RUNNING)
            continue;
        uint64_t end = vm->time_limit_end;
        if (now < end) {
            if (end < next)
                next = end;
            continue;
        }
        char reason[96];
        ksnprintf(reason, sizeof(reason), "ran past its time_limit of %llu ms",
                  (unsigned long long)limit_ms);
        vm_fail(vm, reason); /* stops it; a restarted life gets a new limit at its entry */
    }
    return next;
}

/* Runs vm for one slice. */
static void run_slice(struct vm *vm, uint64_t slice)
{
    struct vcpu *v = &vm->vcpu;
    struct vcpu_exit exit = VCPU_EXIT_INIT;
    exit.want_interrupt_state = vm->has_legacy_pc;
    uint64_t start = arch_now(), deadline = start + slice;
    uint64_t wake = VM_NO_TIMER; /* HLT with an armed timer: block until then */
    const char *failure = NULL;
    if (vm->cfg.time_limit_ms && vm->time_limit_end == VM_NO_TIMER) /* this life's first entry */
        vm->time_limit_end = start + vm->cfg.time_limit_ms * ticks_per_ms();
    while (arch_now() < deadline) {
        uint64_t entry_deadline = vm->has_legacy_pc ? legacy_pc_prepare(vm, deadline, &exit) : deadline;
        vcpu_run(v, entry_deadline, &exit);
        if (exit.kind == VCPU_EXIT_INTERRUPT_WINDOW ||
            (exit.kind == VCPU_EXIT_PREEMPTED && entry_deadline < deadline))
            continue; /* a device's interrupt can be delivered now, or one is due */
        if (exit.kind == VCPU_EXIT_IO) {
            if (exit.io.write) {
                if (!port_write(vm, exit.io.port, exit.io.size, exit.io.value))
                    break;
                vcpu_complete_io(v, 0);
            } else {
                vcpu_complete_io(v, port_read(vm, exit.io.port, exit.io.size));
            }
            continue;
        }
        if (exit.kind == VCPU_EXIT_MMIO) {
            if (mmio_access(vm, &exit.mmio, exit.reason, sizeof(exit.reason)))
                continue;
            failure = exit.reason;
            break;
        }
        if (exit.kind == VCPU_EXIT_MSR) {
            msr_access(vm, &exit.msr);
            continue;
        }
        if (exit.kind == VCPU_EXIT_HYPERCALL) {
            if (hypercall(vm) == HC_CONTINUE)
                continue;
            break;
        }
        if (exit.kind == VCPU_EXIT_HLT && vm->has_legacy_pc) {
            vcpu_skip_instruction(v);
            if (!exit.interrupts_enabled) {
                /* Nothing can ever wake it (no NMI reaches a VM): Linux's halt, and its
                 * power-off without ACPI, end here. The VM has stopped itself. */
                kprintf("tessera: vm %s: halted with interrupts disabled\n", vm->cfg.name);
                vm_exit(vm, 0);
                break;
            }
            wake = legacy_pc_halt(vm);
            if (wake == 0) {
                wake = VM_NO_TIMER;
                continue;
            }
            break;
        }
        if (exit.kind == VCPU_EXIT_HLT) {
            /* HLT waits for the armed timer; without one it simply gives up the slice. */
            vcpu_skip_instruction(v);
            wake = vm->timer_deadline;
            vm->timer_deadline = VM_NO_TIMER;
            break;
        }
        if (exit.kind == VCPU_EXIT_FAULT)
            failure = exit.reason;
        break; /* the fault, or VCPU_EXIT_PREEMPTED */
    }
    /* charge the guest's time before a failure report: not the time the report takes */
    struct sched_policy *sched = &run_of(vm)->sched;
    sched_charge(sched, (unsigned)vm->sched_index, arch_now() - start);
    if (failure)
        vm_fail(vm, failure);
    else if (wake != VM_NO_TIMER)
        sched_block(sched, (unsigned)vm->sched_index, wake);
}

static void print_shares(unsigned cpu)
{
    struct cpu_run *run = &cpu_runs[cpu];
    uint64_t share_total = 0;
    unsigned weight_total = 0;
    for (unsigned i = 0; i < vm_count(); i++)
        if (vm_get(i)->cfg.cpu == cpu) {
            share_total += run->share_ticks[i];
            weight_total += vm_get(i)->cfg.weight;
        }
    if (run->vm_total < 2 || !share_total)
        return;
    static char line[128 + VM_MAX * 64]; /* one line, however many VMs */
    unsigned n = cpu == 0 ? ksnprintf(line, sizeof(line), "tessera: shares while all VMs ran:")
                          : ksnprintf(line, sizeof(line),
                                      "tessera: shares on cpu %u while all its VMs ran:", cpu);
    for (unsigned i = 0; i < vm_count(); i++) {
        if (vm_get(i)->cfg.cpu != cpu)
            continue;
        uint64_t got = (run->share_ticks[i] * 1000 + share_total / 2) / share_total;
        uint64_t want = ((uint64_t)vm_get(i)->cfg.weight * 1000 + weight_total / 2) / weight_total;
        n += ksnprintf(line + n, sizeof(line) - n, " %s=%llu.%llu%%(weight %llu.%llu%%)",
                       vm_get(i)->cfg.name, (unsigned long long)(got / 10),
                       (unsigned long long)(got % 10), (unsigned long long)(want / 10),
                       (unsigned long long)(want % 10));
    }
    n += ksnprintf(line + n, sizeof(line) - n, "\n");
    console_write(line, n < sizeof(line) ? n : sizeof(line) - 1);
}

static void print_summary(void)
{
    uint64_t total = 0;
    for (unsigned i = 0; i < vm_count(); i++)
        total += vm_get(i)->sched.ticks_run;
    kprintf("tessera: summary (%u VMs, %llu TSC ticks in guests)\n", vm_count(),
            (unsigned long long)total);
    kprintf("tessera:   %-12s %-10s %14s %6s %6s %3s %6s  exits\n", "vm", "result", "ticks", "share",
            "weight", "cpu", "slices");
    for (unsigned i = 0; i < vm_count(); i++) {
        struct vm *vm = vm_get(i);
        char result[24], exits[200];
        if (vm->state == VM_EXITED)
            ksnprintf(result, sizeof(result), "exit %u", vm->exit_status);
        else
            ksnprintf(result, sizeof(result), "FAILED");
        unsigned n = 0;
        for (unsigned s = 0; s < VCPU_STAT_COUNT; s++)
            if (vm->vcpu.stats[s])
                n += ksnprintf(exits + n, sizeof(exits) - n, "%s=%llu ", vcpu_stat_names[s],
                               (unsigned long long)vm->vcpu.stats[s]);
        if (n == 0)
            str_copy(exits, "none", sizeof(exits));
        uint64_t permille = total ? (vm->sched.ticks_run * 1000 + total / 2) / total : 0;
        kprintf("tessera:   %-12s %-10s %14llu %3llu.%llu%% %6u %3u %6llu  %s\n", vm->cfg.name,
                result, (unsigned long long)vm->sched.ticks_run,
                (unsigned long long)(permille / 10), (unsigned long long)(permille % 10),
                vm->cfg.weight, vm->cfg.cpu, (unsigned long long)vm->sched.times_scheduled, exits);
        if (vm->state == VM_FAILED)
            kprintf("tessera:   %-12s reason: %s\n", "", vm->fail_reason);
    }
    for (unsigned cpu = 0; cpu < ARCH_MAX_CPUS; cpu++)
        print_shares(cpu);
}

void vmm_set_boot_time(uint64_t tsc)
{
    boot_tsc = tsc;
}

/* Reports (and finishes or restarts) this CPU's stopped VMs whose output is out. */
static void finish_ending(unsigned cpu)
{
    for (unsigned i = 0; i < vm_count() && cpu_runs[cpu].vm_ending; i++) {
        struct vm *vm = vm_get(i);
        if (vm->cfg.cpu == cpu && vm->state == VM_ENDING)
            vm_finish_ending(vm);
    }
}

/* Runs this CPU's VMs until every one of them has ended and been reported. */
static void run_cpu(unsigned cpu)
{
    struct cpu_run *run = &cpu_runs[cpu];
    for (;;) {
        uint64_t slice, idle_until;
        if (run->vm_ending)
            finish_ending(cpu);
        uint64_t next_limit = enforce_time_limits(cpu);
        int index = sched_pick(&run->sched, arch_now(), &slice, &idle_until);
        if (index < 0) {
            if (idle_until == SCHED_NO_TIMER && next_limit == SCHED_NO_TIMER && !run->vm_ending)
                break; /* every VM of this CPU has ended */
            if (next_limit < idle_until)
                idle_until = next_limit; /* a sleeping VM may have to be stopped first */
            if (run->vm_ending) {
                /* an ending VM's queue may empty with any pump: back to the top after each one;
                 * the pause leaves other CPUs a turn at the (test-and-set) console lock */
                console_pump(CONSOLE_PUMP_BUDGET);
                __builtin_ia32_pause();
                continue;
            }
            while (arch_now() < idle_until)
                if (!console_pump(CONSOLE_PUMP_BUDGET))
                    __builtin_ia32_pause();
            continue;
        }
        struct vm *vm = run->vm_at[index];
        if (!vm || vm->state != VM_RUNNING) {
            sched_finish(&run->sched, (unsigned)index);
            continue;
        }
        console_pump(CONSOLE_PUMP_BUDGET);
        run_slice(vm, slice);
    }
    __atomic_store_n(&run->done, 1, __ATOMIC_RELEASE);
}

/* Puts this CPU's VMs into its scheduler; returns how many there are. */
static unsigned cpu_add_vms(unsigned cpu)
{
    struct cpu_run *run = &cpu_runs[cpu];
    sched_init(&run->sched, run_quantum);
    for (unsigned i = 0; i < vm_count(); i++) {
        struct vm *vm = vm_get(i);
        if (vm->cfg.cpu != cpu)
            continue;
        vm->sched_index = sched_add(&run->sched, &vm->sched, vm->cfg.weight);
        if (vm->sched_index < 0) {
            vm->state = VM_FAILED;
            str_copy(vm->fail_reason, "scheduler is full", sizeof(vm->fail_reason));
            continue;
        }
        run->vm_at[vm->sched_index] = vm;
        if (vm->cfg.time_limit_ms)
            run->vm_limited++;
        run->vm_total++;
    }
    return run->vm_total;
}

void vmm_ap_main(unsigned cpu)
{
    while (!__atomic_load_n(&go, __ATOMIC_ACQUIRE))
        __builtin_ia32_pause();
    if (cpu_add_vms(cpu) == 0) {
        __atomic_store_n(&cpu_runs[cpu].done, 1, __ATOMIC_RELEASE);
        return; /* nothing to run here: the CPU halts */
    }
    char why[160];
    bool ok = virt_cpu_enable(why, sizeof(why)) == 0;
    for (unsigned i = 0; i < vm_count(); i++) {
        struct vm *vm = vm_get(i);
        if (vm->cfg.cpu != cpu || vm->state != VM_RUNNING)
            continue;
        if (ok && vcpu_adopt(&vm->vcpu, why, sizeof(why)) == 0)
            continue;
        char reason[200];
        ksnprintf(reason, sizeof(reason), "cannot run on CPU %u: %s", cpu, why);
        vm_fail_permanently(vm, reason);
    }
    kprintf("tessera: cpu %u: %s enabled, running %u VMs\n", cpu, virt_name(), cpu_runs[cpu].vm_total);
    run_cpu(cpu);
}

bool vmm_run(uint64_t quantum_ticks)
{
    run_quantum = quantum_ticks;
    unsigned on_boot_cpu = cpu_add_vms(0);
    kprintf("tessera: running %u VMs (%u on CPU 0; time slice %llu TSC ticks)\n", vm_count(),
            on_boot_cpu, (unsigned long long)quantum_ticks);
    __atomic_store_n(&go, 1, __ATOMIC_RELEASE);
    run_cpu(0);
    for (unsigned cpu = 1; cpu < ARCH_MAX_CPUS; cpu++)
        while (arch_cpu_online(cpu) && !__atomic_load_n(&cpu_runs[cpu].done, __ATOMIC_ACQUIRE))
            __builtin_ia32_pause();
    print_summary();
    bool all_ok = true;
    for (unsigned i = 0; i < vm_count(); i++)
        if (vm_get(i)->state != VM_EXITED || vm_get(i)->exit_status != 0)
            all_ok = false;
    return all_ok;
}
