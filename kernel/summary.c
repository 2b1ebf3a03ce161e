/* The summary table printed when every VM has ended: each VM's result, its time in the guest,
 * share, weight, CPU, slices and exits by kind, then per CPU the shares its VMs got while all of
 * them ran (taken when the first of them ended for good) next to their weights, how much of the
 * run each CPU spent halted, and the host NMIs taken. */
#include <tessera/arch.h>
#include <tessera/console.h>
#include <tessera/printf.h>
#include <tessera/string.h>
#include <tessera/vm.h>

static void print_shares(unsigned cpu)
{
    uint64_t share_total = 0;
    unsigned weight_total = 0, vms_here = 0;
    for (unsigned i = 0; i < vm_count(); i++)
        if (vm_get(i)->cfg.cpu == cpu) {
            share_total += vm_get(i)->share_ticks;
            weight_total += vm_get(i)->cfg.weight;
            vms_here++;
        }
    if (vms_here < 2 || !share_total)
        return;
    static char line[128 + VM_MAX * 64]; /* one line, however many VMs */
    unsigned n = cpu == 0 ? ksnprintf(line, sizeof(line), "tessera: shares while all VMs ran:")
                          : ksnprintf(line, sizeof(line),
                                      "tessera: shares on cpu %u while all its VMs ran:", cpu);
    for (unsigned i = 0; i < vm_count(); i++) {
        if (vm_get(i)->cfg.cpu != cpu)
            continue;
        uint64_t got = (vm_get(i)->share_ticks * 1000 + share_total / 2) / share_total;
        uint64_t want = ((uint64_t)vm_get(i)->cfg.weight * 1000 + weight_total / 2) / weight_total;
        n += ksnprintf(line + n, sizeof(line) - n, " %s=%llu.%llu%%(weight %llu.%llu%%)",
                       vm_get(i)->cfg.name, (unsigned long long)(got / 10),
                       (unsigned long long)(got % 10), (unsigned long long)(want / 10),
                       (unsigned long long)(want % 10));
    }
    n += ksnprintf(line + n, sizeof(line) - n, "\n");
    console_write(line, n < sizeof(line) ? n : sizeof(line) - 1);
}

/* How much of the run each CPU spent halted with nothing to run (arch_idle_until), and the
 * host NMIs taken, wherever they came (in a guest's run, in the hypervisor, in a halt). */
static void print_cpus(void)
{
    for (unsigned cpu = 0; cpu < ARCH_MAX_CPUS; cpu++) {
        if (!arch_cpu_online(cpu))
            continue;
        uint64_t halts;
        unsigned permille = vmm_cpu_halted_permille(cpu, &halts);
        kprintf("tessera: cpu %u idle: halted %u.%u%% of the run (%llu halts)\n", cpu, permille / 10,
                permille % 10, (unsigned long long)halts);
    }
    if (arch_host_nmis())
        kprintf("tessera: host NMIs: %llu, all taken by the hypervisor\n",
                (unsigned long long)arch_host_nmis());
}

/* The TSC at each VM's first entry: with no TSC offset a guest's RDTSC reads the same clock, so a
 * guest's TSC marker minus this is the time from its start (make bench's Linux row). */
static void print_first_entries(void)
{
    for (unsigned i = 0; i < vm_count(); i++)
        if (vm_get(i)->first_entry_tsc)
            kprintf("tessera: first entry of vm %s at tsc=%llu\n", vm_get(i)->cfg.name,
                    (unsigned long long)vm_get(i)->first_entry_tsc);
}

void vm_print_summary(void)
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
        else if (vm->state == VM_STOPPED)
            ksnprintf(result, sizeof(result), "stopped");
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
        if (vm->reboots)
            kprintf("tessera:   %-12s rebooted %u time%s (its own reboot, not a failure)\n", "",
                    vm->reboots, vm->reboots == 1 ? "" : "s");
    }
    for (unsigned cpu = 0; cpu < ARCH_MAX_CPUS; cpu++)
        print_shares(cpu);
    print_cpus();
    print_first_entries();
}

