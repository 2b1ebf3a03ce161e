/* The run loop of each physical CPU: pick one of its VMs (kernel/sched_policy.c), run its vCPU for
 * a slice, handle what it exits for (port I/O, hypercalls, HLT, faults), account the time. Each CPU
 * schedules only the VMs its config assigns to it. When every VM has ended, the boot CPU prints
 * the summary table. */
#include <tessera/arch.h>
#include <tessera/console.h>
#include <tessera/errno.h>
#include <tessera/mm.h>
#include <tessera/monitor.h>
#include <tessera/printf.h>
#include <tessera/string.h>
#include <tessera/vm.h>

/* One scheduler per physical CPU; only that CPU touches it. */
struct cpu_run {
    struct sched_policy sched;
    bool shares_taken; /* its VMs' share_ticks are set */
    unsigned vm_total;
    unsigned vm_limited;          /* how many of them have a time_limit */
    struct vm *vm_at[SCHED_MAX_ENTITIES]; /* by scheduler index */
    unsigned vm_ending;           /* stopped, not yet reported (VM_ENDING) */
    int done;                     /* set (release) when its last VM has ended */
    int requests;                 /* the monitor posted a request to one of its VMs */
};

static struct cpu_run cpu_runs[ARCH_MAX_CPUS];
static uint64_t run_quantum;
static int go; /* set by the boot CPU once every VM exists */
static uint64_t run_started; /* the TSC when vmm_run started the VMs */
static bool stay_at_monitor; /* end=poweroff not given: CPUs idle at the end instead of leaving */

static struct cpu_run *run_of(const struct vm *vm) { return &cpu_runs[vm->cfg.cpu]; }

/* The shares of the VMs that ran together, for the summary: taken once per CPU, when the first
 * of its VMs ends for good (not counting the time it takes to report). */
static void take_shares_snapshot(struct cpu_run *run, unsigned cpu)
{
    if (run->shares_taken)
        return;
    run->shares_taken = true;
    for (unsigned i = 0; i < vm_count(); i++)
        if (vm_get(i)->cfg.cpu == cpu)
            vm_get(i)->share_ticks = vm_get(i)->sched.ticks_run;
}

/* vm.c has just stopped vm (VM_ENDING): blocked without a timer, it is never picked again until
 * finish_ending reports it and it finishes or restarts. */
static __attribute__((noinline)) void park(struct vm *vm)
{
    vm->parked = true;
    if (vm->end_for_good)
        take_shares_snapshot(run_of(vm), vm->cfg.cpu);
    sched_block(&run_of(vm)->sched, (unsigned)vm->sched_index, SCHED_NO_TIMER);
    run_of(vm)->vm_ending++;
}

static inline void park_if_stopped(struct vm *vm)
{
    if (vm->state == VM_ENDING && !vm->parked)
        park(vm);
}

static uint64_t ticks_per_ms(void)
{
    return arch_tsc_hz() / 1000 ? arch_tsc_hz() / 1000 : 1;
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
        park_if_stopped(vm);
    }
    return next;
}

/* After an exit the run loop handled: its time (since *back, when vcpu_run returned) is the
 * hypervisor's, not the guest's (the monitor's `stats`); the same clock read decides whether the
 * slice goes on. */
static inline bool slice_goes_on(struct vm *vm, uint64_t *back, uint64_t deadline)
{
    uint64_t now = arch_now();
    vm->exit_ticks += now - *back;
    *back = now;
    return now < deadline;
}

/* The first slice of the VM's current life. */
static __attribute__((noinline)) void first_entry(struct vm *vm, uint64_t start)
{
    vm->life_entered = true;
    if (vm->cfg.time_limit_ms && vm->time_limit_end == VM_NO_TIMER)
        vm->time_limit_end = start + vm->cfg.time_limit_ms * ticks_per_ms();
    if (!vm->first_entry_tsc)
        vm->first_entry_tsc = start; /* make bench: guest TSC markers are measured from here */
}

/* Runs vm for one slice from start, the TSC now (the scheduler's clock reading when it did
 * nothing else since). */
static void run_slice(struct vm *vm, uint64_t slice, uint64_t start)
{
    struct vcpu *v = &vm->vcpu;
    struct vcpu_exit *exit = &vm->exit; /* kept across slices: nothing to start per slice */
    uint64_t deadline = start + slice;
    uint64_t wake = VM_NO_TIMER; /* HLT with an armed timer: block until then */
    const char *failure = NULL;
    if (__builtin_expect(!vm->life_entered, 0))
        first_entry(vm, start);
    uint64_t back = start; /* when the last vcpu_run returned */
    /* the first entry needs no clock check: slice > 0, and an entry past its deadline exits at
     * once (the backend's timer) */
    do {
        uint64_t entry_deadline = vm->has_legacy_pc ? vm_devices_prepare_entry(vm, deadline, exit) : deadline;
        vcpu_run(v, entry_deadline, exit);
        back = arch_now();
        switch (exit->kind) {
        case VCPU_EXIT_IO:
            if (exit->io.write) {
                if (!vm_port_write(vm, exit->io.port, exit->io.size, exit->io.value, back))
                    goto slice_over;
                vcpu_complete_io(v, 0);
            } else {
                vcpu_complete_io(v, vm_port_read(vm, exit->io.port, exit->io.size, back));
            }
            continue;
        case VCPU_EXIT_INTERRUPT_WINDOW:
            continue; /* a device's interrupt can be delivered now */
        case VCPU_EXIT_PREEMPTED:
            if (entry_deadline < deadline)
                continue; /* a device's interrupt is due */
            goto slice_over;
        case VCPU_EXIT_MMIO:
            if (vm_mmio_access(vm, &exit->mmio, exit->reason, sizeof(exit->reason)))
                continue;
            failure = exit->reason; /* no device there: a VM failure, as any EPT violation */
            goto slice_over;
        case VCPU_EXIT_MSR:
            /* a #GP now pending injection leaves no room for an interrupt at this entry: one
             * acknowledged from the APIC or PIC would be lost (SDM 26.6: one event per entry) */
            if (!vm_msr_access(vm, &exit->msr))
                exit->interruptible = false;
            continue;
        case VCPU_EXIT_HYPERCALL:
            if (vm_hypercall(vm) == VM_HYPERCALL_CONTINUE)
                continue;
            goto slice_over;
        case VCPU_EXIT_HLT:
            vcpu_skip_instruction(v);
            if (!vm->has_legacy_pc) {
                /* HLT waits for the armed timer; without one it simply gives up the slice. */
                wake = vm->timer_deadline;
                vm->timer_deadline = VM_NO_TIMER;
                goto slice_over;
            }
            if (!exit->interrupts_enabled) {
                /* Nothing can ever wake it (no NMI reaches a VM): Linux's halt, and its
                 * power-off without ACPI, end here. The VM has stopped itself. */
                kprintf("tessera: vm %s: halted with interrupts disabled\n", vm->cfg.name);
                vm_exit(vm, 0);
                goto slice_over;
            }
            wake = vm_devices_halt(vm);
            if (wake == 0) {
                wake = VM_NO_TIMER;
                continue;
            }
            goto slice_over;
        case VCPU_EXIT_FAULT:
            failure = exit->reason;
            goto slice_over;
        default:
            goto slice_over;
        }
    } while (slice_goes_on(vm, &back, deadline));
slice_over:
    /* charge the guest's time before a failure report: not the time the report takes */
    struct sched_policy *sched = &run_of(vm)->sched;
    uint64_t end = arch_now();
    vm->exit_ticks += end - back;
    sched_charge(sched, (unsigned)vm->sched_index, end - start);
    if (failure)
        vm_fail(vm, failure);
    else if (wake != VM_NO_TIMER)
        sched_block(sched, (unsigned)vm->sched_index, wake);
    park_if_stopped(vm);
}

/* Reports (and finishes or restarts) this CPU's stopped VMs whose output is out. */
static void finish_ending(unsigned cpu)
{
    struct cpu_run *run = &cpu_runs[cpu];
    for (unsigned i = 0; i < vm_count() && run->vm_ending; i++) {
        struct vm *vm = vm_get(i);
        if (vm->cfg.cpu != cpu || vm->state != VM_ENDING)
            continue;
        enum vm_finish f = vm_finish_ending(vm);
        if (f == VM_FINISH_WAIT)
            continue;
        if (f == VM_FINISH_RESTARTED) {
            sched_restart(&run->sched, (unsigned)vm->sched_index);
        } else {
            take_shares_snapshot(run, cpu);
            sched_finish(&run->sched, (unsigned)vm->sched_index);
        }
        run->vm_ending--;
    }
}

/* ---- the monitor's requests (kernel/monitor/monitor.c) --------------------------------------- */

void vmm_post_request(struct vm *vm)
{
    __atomic_store_n(&run_of(vm)->requests, 1, __ATOMIC_SEQ_CST);
    if (vm->cfg.cpu != arch_cpu_index())
        arch_wake_cpu(vm->cfg.cpu); /* it may be halted (cpu_idle) */
}

static enum vm_request_answer act_on_request(struct cpu_run *run, struct vm *vm, uint32_t request)
{
    char prefix[CONFIG_NAME_MAX + 24];
    switch (request) {
    case VM_REQUEST_REGS:
        ksnprintf(prefix, sizeof(prefix), "tessera: vm %s:   ", vm->cfg.name);
        kprintf("tessera: vm %s: registers (%s)\n", vm->cfg.name,
                vm->state == VM_RUNNING ? "between two slices" : "as it ended");
        vcpu_dump(&vm->vcpu, prefix);
        return VM_ANSWER_DONE;
    case VM_REQUEST_LOG:
        vm_print_log(vm);
        return VM_ANSWER_DONE;
    case VM_REQUEST_STOP:
    case VM_REQUEST_RESTART:
        if (vm->state == VM_RUNNING) {
            vm_stop_from_monitor(vm, request == VM_REQUEST_RESTART);
            park_if_stopped(vm); /* finish_ending reports it, and restarts it for a restart */
            return VM_ANSWER_DONE;
        }
        if (request == VM_REQUEST_STOP)
            return vm->state == VM_ENDING ? VM_ANSWER_ENDING : VM_ANSWER_NOT_RUNNING;
        __attribute__((fallthrough)); /* restarting an ended VM starts it */
    case VM_REQUEST_START:
        if (vm->state == VM_RUNNING)
            return VM_ANSWER_RUNNING;
        if (vm->state == VM_ENDING)
            return VM_ANSWER_ENDING;
        if (!vm_start_again(vm))
            return VM_ANSWER_FAILED;
        sched_restart(&run->sched, (unsigned)vm->sched_index);
        __atomic_store_n(&run->done, 0, __ATOMIC_RELEASE);
        return VM_ANSWER_DONE;
    default:
        return VM_ANSWER_FAILED;
    }
}

/* Between slices: one load when nothing was asked. */
static void serve_requests(unsigned cpu)
{
    struct cpu_run *run = &cpu_runs[cpu];
    if (!__atomic_load_n(&run->requests, __ATOMIC_ACQUIRE))
        return;
    __atomic_store_n(&run->requests, 0, __ATOMIC_SEQ_CST);
    for (unsigned i = 0; i < vm_count(); i++) {
        struct vm *vm = vm_get(i);
        uint32_t request = __atomic_load_n(&vm->request, __ATOMIC_ACQUIRE);
        if (vm->cfg.cpu != cpu || request == VM_REQUEST_NONE || vm->sched_index < 0)
            continue;
        __atomic_store_n(&vm->request_answer, act_on_request(run, vm, request), __ATOMIC_RELAXED);
        __atomic_store_n(&vm->request, VM_REQUEST_NONE, __ATOMIC_RELEASE);
    }
}

unsigned vmm_cpu_halted_permille(unsigned cpu, uint64_t *halts)
{
    uint64_t ticks, run = arch_now() - run_started;
    arch_idle_stats(cpu, &ticks, halts);
    return run && run_started ? (unsigned)((ticks * 1000 + run / 2) / run) : 0;
}

bool vmm_all_ended(void)
{
    for (unsigned cpu = 0; cpu < ARCH_MAX_CPUS; cpu++)
        if (arch_cpu_online(cpu) && !__atomic_load_n(&cpu_runs[cpu].done, __ATOMIC_ACQUIRE))
            return false;
    return true;
}

/* The boot CPU's share of the monitor, at each point where it pumps the console (once its next
 * poll is due: it reads input at most every millisecond). */
static inline void poll_monitor_at(unsigned cpu, uint64_t now)
{
    if (cpu == 0 && now >= __atomic_load_n(&monitor_next_poll, __ATOMIC_RELAXED))
        monitor_poll();
}

static inline void poll_monitor(unsigned cpu)
{
    poll_monitor_at(cpu, arch_now());
}

/* Nothing to run on this CPU before until: it halts (arch_idle_until) till then, the boot CPU no
 * later than its next monitor poll; it spins instead while console output waits for another
 * CPU's pump. A monitor request (vmm_post_request) wakes it. */
static void cpu_idle(unsigned cpu, uint64_t until)
{
    if (__atomic_load_n(&console_output_pending, __ATOMIC_RELAXED)) {
        __builtin_ia32_pause();
        return;
    }
    if (cpu == 0) {
        uint64_t poll = __atomic_load_n(&monitor_next_poll, __ATOMIC_RELAXED);
        if (poll < until)
            until = poll;
    }
    if (__atomic_load_n(&cpu_runs[cpu].requests, __ATOMIC_SEQ_CST))
        return;
    arch_idle_until(until);
}

/* Every VM of this CPU has ended: it stays, serving the monitor's requests (a start brings it
 * back to its run loop); the boot CPU prints the summary when all CPUs got here. */
static void idle_at_end(unsigned cpu)
{
    struct cpu_run *run = &cpu_runs[cpu];
    if (!__atomic_load_n(&run->done, __ATOMIC_RELAXED))
        __atomic_store_n(&run->done, 1, __ATOMIC_RELEASE);
    static bool summary_shown; /* the boot CPU's */
    if (cpu == 0) {
        bool all = vmm_all_ended();
        if (all && !summary_shown) {
            vm_print_summary();
            kprintf("tessera: every VM has ended; the monitor stays (type 'poweroff' to leave)\n");
        }
        summary_shown = all;
    }
    bool worked = console_pump(CONSOLE_PUMP_BUDGET) != 0;
    poll_monitor(cpu);
    if (!worked)
        cpu_idle(cpu, ARCH_NO_DEADLINE);
}

/* Runs this CPU's VMs until every one of them has ended and been reported. */
static void run_cpu(unsigned cpu)
{
    struct cpu_run *run = &cpu_runs[cpu];
    for (;;) {
        uint64_t slice, idle_until;
        serve_requests(cpu);
        if (run->vm_ending)
            finish_ending(cpu);
        uint64_t next_limit = enforce_time_limits(cpu);
        uint64_t now = arch_now();
        int index = sched_pick(&run->sched, now, &slice, &idle_until);
        if (index < 0) {
            if (idle_until == SCHED_NO_TIMER && next_limit == SCHED_NO_TIMER && !run->vm_ending) {
                if (!stay_at_monitor)
                    break; /* every VM of this CPU has ended */
                idle_at_end(cpu);
                continue;
            }
            if (next_limit < idle_until)
                idle_until = next_limit; /* a sleeping VM may have to be stopped first */
            if (run->vm_ending) {
                /* an ending VM's queue may empty with any pump: back to the top after each one;
                 * the pause leaves other CPUs a turn at the (test-and-set) console lock */
                console_pump(CONSOLE_PUMP_BUDGET);
                poll_monitor(cpu);
                __builtin_ia32_pause();
                continue;
            }
            while (arch_now() < idle_until && !__atomic_load_n(&run->requests, __ATOMIC_RELAXED)) {
                bool worked = console_pump(CONSOLE_PUMP_BUDGET) != 0;
                poll_monitor(cpu);
                if (!worked)
                    cpu_idle(cpu, idle_until);
            }
            continue;
        }
        struct vm *vm = run->vm_at[index];
        if (!vm || vm->state != VM_RUNNING) {
            sched_finish(&run->sched, (unsigned)index);
            continue;
        }
        /* the pick's clock reading starts the slice unless the console or the monitor took
         * time since (rarely: nothing queued, no poll due) */
        bool worked = console_pump(CONSOLE_PUMP_BUDGET) != 0;
        if (cpu == 0 && now >= __atomic_load_n(&monitor_next_poll, __ATOMIC_RELAXED)) {
            monitor_poll();
            worked = true;
        }
        run_slice(vm, slice, worked ? arch_now() : now);
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
        park_if_stopped(vm);
    }
    kprintf("tessera: cpu %u: %s enabled, running %u VMs\n", cpu, virt_name(), cpu_runs[cpu].vm_total);
    run_cpu(cpu);
}

bool vmm_run(uint64_t quantum_ticks, bool stay)
{
    run_quantum = quantum_ticks;
    stay_at_monitor = stay;
    unsigned on_boot_cpu = cpu_add_vms(0);
    kprintf("tessera: running %u VMs (%u on CPU 0; time slice %llu TSC ticks)\n", vm_count(),
            on_boot_cpu, (unsigned long long)quantum_ticks);
    run_started = arch_now();
    __atomic_store_n(&go, 1, __ATOMIC_RELEASE);
    run_cpu(0);
    for (unsigned cpu = 1; cpu < ARCH_MAX_CPUS; cpu++)
        while (arch_cpu_online(cpu) && !__atomic_load_n(&cpu_runs[cpu].done, __ATOMIC_ACQUIRE))
            __builtin_ia32_pause();
    vm_print_summary();
    bool all_ok = true;
    for (unsigned i = 0; i < vm_count(); i++)
        if (vm_get(i)->state != VM_EXITED || vm_get(i)->exit_status != 0)
            all_ok = false;
    return all_ok;
}
