/* VM creation from config entries and images, output plumbing, and ending VMs. */
#include <tessera/acpi_gen.h>
#include <tessera/arch.h>
#include <tessera/console.h>
#include <tessera/errno.h>
#include <tessera/mm.h>
#include <tessera/printf.h>
#include <tessera/sha256.h>
#include <tessera/string.h>
#include <tessera/vm.h>

_Static_assert(VM_MAX <= PUMP_MAX_SOURCES, "every VM needs a console source");
_Static_assert(sizeof(((struct vm *)0)->prefix) <= PUMP_PREFIX_MAX + 1, "VM prefixes fit the pump");

static struct vm vms[VM_MAX];
static unsigned nr_vms;
static const struct port_reservation *machine_ports;
static unsigned machine_port_count;

void vm_reserve_ports(const struct port_reservation *list, unsigned count)
{
    machine_ports = list;
    machine_port_count = count;
}

/* A port range the machine needs for itself (found at run time, e.g. in the FADT). */
static const struct port_reservation *port_conflict(uint16_t first, uint16_t last)
{
    for (unsigned i = 0; i < machine_port_count; i++)
        if (first <= machine_ports[i].last && machine_ports[i].first <= last)
            return &machine_ports[i];
    return NULL;
}

unsigned vm_count(void) { return nr_vms; }
struct vm *vm_get(unsigned index) { return index < nr_vms ? &vms[index] : NULL; }

/* Bounded work from inside an output exit: the console lines it completed can go out now, and
 * a guest that only prints still sees its queue drain between its own slices. */
static void pump_a_little(void)
{
    console_pump_in_exit(CONSOLE_PUMP_EXIT_BUDGET);
}

bool vm_output_byte(struct vm *vm, uint8_t byte)
{
    if (!outq_put(&vm->console.queue, byte))
        return false;
    console_note_output();
    ring_putc(&vm->output, byte);
    if (byte == '\n')
        pump_a_little();
    return true;
}

size_t vm_output(struct vm *vm, const uint8_t *bytes, size_t n)
{
    size_t taken = outq_write(&vm->console.queue, bytes, n);
    if (taken)
        console_note_output();
    ring_write(&vm->output, bytes, taken);
    pump_a_little();
    return taken;
}

static bool vuart_out(void *ctx, uint8_t byte)
{
    return vm_output_byte(ctx, byte);
}

/* Asked when the guest reads LSR: a guest polling for THRE makes room by waiting, a little. */
static bool vuart_tx_busy(void *ctx, unsigned need)
{
    struct vm *vm = ctx;
    if (outq_space(&vm->console.queue) >= need)
        return false;
    pump_a_little();
    return outq_space(&vm->console.queue) < need;
}

static const struct boot_module *find_file(const struct boot_info *bi, const char *name)
{
    for (unsigned i = 0; i < bi->module_count; i++)
        if (strcmp(bi->modules[i].name, name) == 0)
            return &bi->modules[i];
    return NULL;
}

static void refuse(const struct vm_config *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void refuse(const struct vm_config *c, const char *fmt, ...)
{
    char why[200];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    kprintf("tessera: vm %s (config line %u): refused: %s\n", c->name, c->line, why);
}

/* Zeroes the VM's RAM, loads its image and sets the vCPU to the image's start state. Used at
 * creation and on every restart, so no data survives from one life of a VM to the next. */
static int vm_load(struct vm *vm, char *why, size_t why_len)
{
    phys_zero(vm->ram_host, vm->ram_size);
    struct guest_boot_state state;
    const char *cmdline = vm->cfg.cmdline;
    const struct vcpu_memory ram = { vm->ram_host, vm->ram_size };
    uint64_t rsdp = 0;
    if (vm->image.format == IMAGE_FORMAT_LINUX) {
        /* Its ACPI tables, rebuilt each life (the guest may have written over them), in the
         * reserved BIOS area its e820 map keeps from the OS (docs/devices.md, ACPI tables). */
        struct acpi_gen_machine m;
        struct acpi_gen_layout layout;
        acpi_gen_machine_pc(&m, 1, ACPI_GEN_TABLES_GPA);
        int err = acpi_gen_install(&ram, &m, ACPI_GEN_TABLES_LEN, &layout, why, why_len);
        if (err)
            return err;
        rsdp = layout.rsdp;
    }
    const struct image_linux_args linux_args = { vm->cfg.initrd[0] ? &vm->initrd : NULL, rsdp };
    int err = image_load(&vm->image, phys_to_virt(vm->image_file->addr), vm->image_file->size,
                         &ram, cmdline, vm->modules, vm->cfg.module_count, &linux_args, &state,
                         why, why_len);
    if (err)
        return err;
    vm->timer_deadline = VM_NO_TIMER;
    vm->end_note = NULL;
    vm->guest_panicked = false;
    vm->life_started = arch_now();
    vm->life_ended = 0;
    /* keystrokes typed for an earlier life are dropped (as the queue's consumer: the monitor
     * may be writing into it at this moment) */
    outq_discard(&vm->input, outq_used(&vm->input));
    /* time_limit counts from this life's first entry (kernel/vmm.c), not from loading: creating
     * many VMs can take longer than their limit */
    vm->time_limit_end = VM_NO_TIMER;
    vm->life_entered = false;
    vuart_init(&vm->uart, vuart_out, vuart_tx_busy, vm);
    err = vm_devices_reset(vm, why, why_len);
    if (err)
        return err;
    return vcpu_reset(&vm->vcpu, &state, why, why_len);
}

static bool vm_create(struct vm *vm, const struct vm_config *c, const struct boot_info *bi,
                      unsigned cpu_count)
{
    char why[160];
    memset(vm, 0, sizeof(*vm));
    vm->cfg = *c;
    vm->id = nr_vms;
    ksnprintf(vm->prefix, sizeof(vm->prefix), "[%s] ", c->name);

    if (c->cpu >= cpu_count) {
        refuse(c, "CPU %u does not exist (this machine has %u)", c->cpu, cpu_count);
        return false;
    }
    if (c->cpu >= ARCH_MAX_CPUS || !arch_cpu_online(c->cpu)) {
        refuse(c, "CPU %u exists but is not running (%s)", c->cpu,
               c->cpu >= ARCH_MAX_CPUS ? "beyond the CPUs Tessera supports" : "it did not start");
        return false;
    }
    /* vm_config_check_files has dropped every VM whose files are missing */
    vm->image_file = find_file(bi, c->image);
    for (unsigned i = 0; i < c->module_count; i++) {
        const struct boot_module *m = find_file(bi, c->modules[i]);
        vm->modules[i].data = phys_to_virt(m->addr);
        vm->modules[i].size = m->size;
        vm->modules[i].name = m->name;
    }
    if (c->initrd[0]) {
        const struct boot_module *m = find_file(bi, c->initrd);
        vm->initrd.data = phys_to_virt(m->addr);
        vm->initrd.size = m->size;
        vm->initrd.name = m->name;
    }
    const void *data = phys_to_virt(vm->image_file->addr);
    uint8_t digest[32];
    sha256(data, vm->image_file->size, digest);
    char hex[65];
    sha256_hex(digest, hex);
    if (c->has_sha256 && memcmp(c->sha256, digest, 32) != 0) {
        char want[65];
        sha256_hex(c->sha256, want);
        refuse(c, "image '%s' has SHA-256 %s, the config expects %s", c->image, hex, want);
        return false;
    }
    if (image_probe(data, vm->image_file->size, &vm->image, why, sizeof(why)) != 0) {
        refuse(c, "image '%s': %s", c->image, why);
        return false;
    }
    vm->ram_size = c->memory_bytes;
    /* 2 MiB-aligned so the EPT maps it with large pages; vm_load zeroes it. */
    if (phys_alloc(vm->ram_size, 2ull << 20, &vm->ram_host) != 0) {
        refuse(c, "needs %llu MiB of RAM, but the largest free block is %llu MiB (%llu MiB free)",
               (unsigned long long)(vm->ram_size >> 20),
               (unsigned long long)(pmm_largest_free(&kernel_pmm) >> 20),
               (unsigned long long)(pmm_free_bytes(&kernel_pmm) >> 20));
        return false;
    }
    for (unsigned i = 0; i < c->port_count; i++) {
        const struct port_reservation *r = port_conflict(c->ports[i].first, c->ports[i].last);
        if (r) {
            refuse(c, "ports 0x%x-0x%x: port 0x%x belongs to the %s", c->ports[i].first,
                   c->ports[i].last, r->first, r->owner);
            phys_free(vm->ram_host, vm->ram_size);
            return false;
        }
    }
    struct vcpu_memory mem = { vm->ram_host, vm->ram_size };
    struct vcpu_port_range ports[CONFIG_MAX_PORT_RANGES];
    for (unsigned i = 0; i < c->port_count; i++) {
        ports[i].first = c->ports[i].first;
        ports[i].last = c->ports[i].last;
    }
    if (vcpu_create(&vm->vcpu, vm, vm->id + 1, &mem, ports, c->port_count, why, sizeof(why))) {
        refuse(c, "%s", why);
        phys_free(vm->ram_host, vm->ram_size);
        return false;
    }
    ring_init(&vm->output, vm->output_storage, sizeof(vm->output_storage));
    if (vm_load(vm, why, sizeof(why)) != 0) {
        refuse(c, "image '%s': %s", c->image, why);
        vcpu_destroy(&vm->vcpu);
        phys_free(vm->ram_host, vm->ram_size);
        return false;
    }
    if (c->cpu != arch_cpu_index())
        vcpu_unload(&vm->vcpu); /* its own CPU adopts it when it starts running */
    vm->state = VM_RUNNING;
    kprintf("tessera: vm %s: image=%s format=%s size=%llu sha256=%s\n", c->name, c->image,
            image_format_name(vm->image.format), (unsigned long long)vm->image_file->size, hex);
    kprintf("tessera: vm %s: guest-physical 0x0-0x%llx -> host-physical 0x%llx-0x%llx, cpu=%u "
            "weight=%u on_fail=%s\n", c->name, (unsigned long long)vm->ram_size,
            (unsigned long long)vm->ram_host, (unsigned long long)(vm->ram_host + vm->ram_size),
            c->cpu, c->weight, c->on_fail == VM_FAIL_RESTART ? "restart" : "stop");
    for (unsigned i = 0; i < c->port_count; i++)
        kprintf("tessera: vm %s: owns ports 0x%x-0x%x\n", c->name, c->ports[i].first,
                c->ports[i].last);
    return true;
}

/* Drops, with a message naming the file, every VM whose image or module was not loaded. Runs
 * whether or not guests can run here, so a bad config shows on any machine. */
void vm_config_check_files(struct config *cfg, const struct boot_info *bi)
{
    unsigned kept = 0;
    for (unsigned i = 0; i < cfg->vm_count; i++) {
        const struct vm_config *c = &cfg->vms[i];
        const char *missing = find_file(bi, c->image) ? NULL : c->image;
        const char *what = "image";
        for (unsigned m = 0; !missing && m < c->module_count; m++)
            if (!find_file(bi, c->modules[m])) {
                missing = c->modules[m];
                what = "module";
            }
        if (!missing && c->initrd[0] && !find_file(bi, c->initrd)) {
            missing = c->initrd;
            what = "initrd";
        }
        if (missing) {
            refuse(c, "%s '%s' was not found among the loaded files", what, missing);
            continue;
        }
        if (kept != i)
            cfg->vms[kept] = *c;
        kept++;
    }
    cfg->vm_count = kept;
}

void vm_create_all(const struct config *cfg, const struct boot_info *bi, unsigned cpu_count)
{
    for (unsigned i = 0; i < cfg->vm_count && nr_vms < VM_MAX; i++)
        if (vm_create(&vms[nr_vms], &cfg->vms[i], bi, cpu_count)) {
            /* VM_MAX <= PUMP_MAX_SOURCES (asserted above): there is always room */
            console_add_source(&vms[nr_vms].console, vms[nr_vms].prefix);
            nr_vms++;
        }
}

/* Inside an exit (or before the VM ever ran): only stops it. Its queue, up to 4096 lines, goes
 * out through the fair pump like any output; vm_finish_ending reports it afterwards. */
static void vm_stop(struct vm *vm, enum vm_end how, bool for_good)
{
    vm->state = VM_ENDING;
    vm->end_how = how;
    vm->end_for_good = for_good;
    vm->parked = false; /* the run loop takes it off its CPU's run queue */
}

void vm_exit(struct vm *vm, uint32_t status)
{
    vm->exit_status = status;
    vm_stop(vm, VM_END_EXIT, true);
}

void vm_power_off(struct vm *vm)
{
    vm->end_note = "powered off (ACPI S5)";
    vm_exit(vm, 0);
}

void vm_reboot(struct vm *vm)
{
    if (vm->cfg.on_reboot == VM_REBOOT_STOP) {
        vm->end_note = "rebooted itself; on_reboot = stop: not restarting";
        vm_exit(vm, 0);
        return;
    }
    vm->end_note = "reboot requested (ACPI reset register)";
    vm_stop(vm, VM_END_REBOOT, false);
}

static bool will_restart(const struct vm *vm, bool may_restart)
{
    return may_restart && vm->cfg.on_fail == VM_FAIL_RESTART && vm->restarts < VM_MAX_RESTARTS;
}

static void vm_fail_how(struct vm *vm, const char *reason, bool may_restart)
{
    str_copy(vm->fail_reason, reason, sizeof(vm->fail_reason));
    vm_stop(vm, may_restart ? VM_END_FAIL : VM_END_FAIL_FOR_GOOD, !will_restart(vm, may_restart));
}

static enum vm_finish report_failure(struct vm *vm, bool may_restart);

enum vm_finish vm_finish_ending(struct vm *vm)
{
    /* its last lines reach the console before the report about it (and agree with its ring) */
    if (!console_finish_source(&vm->console))
        return VM_FINISH_WAIT;
    if (vm->uart.bytes_lost)
        kprintf("tessera: vm %s: %llu bytes written to its UART while it reported itself busy "
                "were lost\n", vm->cfg.name, (unsigned long long)vm->uart.bytes_lost);
    vm->life_ended = arch_now();
    if (vm->end_note)
        kprintf("tessera: vm %s: %s\n", vm->cfg.name, vm->end_note);
    if (vm->end_how == VM_END_REBOOT) {
        char why[160];
        vm->reboots++;
        kprintf("tessera: vm %s: rebooting (reboot %u)\n", vm->cfg.name, vm->reboots);
        vm->keep_nvram = true;
        if (vm_load(vm, why, sizeof(why)) == 0) {
            vm->state = VM_RUNNING;
            return VM_FINISH_RESTARTED;
        }
        kprintf("tessera: vm %s: reboot failed: %s\n", vm->cfg.name, why);
        str_copy(vm->fail_reason, "its reboot failed", sizeof(vm->fail_reason));
        vm->state = VM_FAILED;
        return VM_FINISH_ENDED;
    }
    if (vm->end_how == VM_END_EXIT) {
        vm->state = VM_EXITED;
        kprintf("tessera: vm %s exited with status %u\n", vm->cfg.name, vm->exit_status);
        return VM_FINISH_ENDED;
    }
    if (vm->end_how == VM_END_STOP) {
        vm->state = VM_STOPPED;
        kprintf("tessera: vm %s stopped from the monitor\n", vm->cfg.name);
        return VM_FINISH_ENDED;
    }
    if (vm->end_how == VM_END_RESTART) {
        kprintf("tessera: vm %s stopped from the monitor: restarting\n", vm->cfg.name);
        return vm_start_again(vm) ? VM_FINISH_RESTARTED : VM_FINISH_ENDED;
    }
    return report_failure(vm, vm->end_how == VM_END_FAIL);
}

void vm_stop_from_monitor(struct vm *vm, bool restart)
{
    vm_stop(vm, restart ? VM_END_RESTART : VM_END_STOP, !restart);
}

bool vm_start_again(struct vm *vm)
{
    char why[160];
    if (vm_load(vm, why, sizeof(why)) != 0) {
        kprintf("tessera: vm %s: start failed: %s\n", vm->cfg.name, why);
        vm->state = VM_FAILED;
        str_copy(vm->fail_reason, why, sizeof(vm->fail_reason));
        return false;
    }
    vm->monitor_starts++;
    vm->state = VM_RUNNING;
    kprintf("tessera: vm %s: started from the monitor (image reloaded, RAM zeroed)\n",
            vm->cfg.name);
    return true;
}

void vm_take_input(struct vm *vm)
{
    uint8_t byte;
    while (outq_used(&vm->input) && vuart_rx_room(&vm->uart) &&
           outq_read(&vm->input, &byte, 1) == 1)
        vuart_receive(&vm->uart, byte);
}

/* The last lines the VM printed, from its ring buffer (up to its whole 4 KiB): context for a
 * failure report. */
#define RECENT_LINES 10
/* Linux's "Kernel panic - not syncing" line precedes its stack dump, about 30 lines (measured:
 * 30 for a sysrq crash of Debian's 6.1): after a guest's panic report, the whole ring */
#define RECENT_LINES_PANIC 80
static void print_recent_output(struct vm *vm, unsigned max_lines)
{
    char recent[VM_RING_SIZE + 1];
    size_t n = ring_copy_out(&vm->output, recent, sizeof(recent) - 1);
    recent[n] = '\0';
    size_t start = 0, lines = 0;
    for (size_t i = n; i > 0; i--) /* back up over the last max_lines lines */
        if (recent[i - 1] == '\n' && i != n && ++lines == max_lines) {
            start = i;
            break;
        }
    if (start == 0 && n == sizeof(recent) - 1) /* the ring's first line may be cut: skip it */
        for (size_t i = 0; i < n; i++)
            if (recent[i] == '\n') {
                start = i + 1;
                break;
            }
    kprintf("tessera: vm %s:   recent output (%llu bytes in its ring):\n", vm->cfg.name,
            (unsigned long long)ring_size(&vm->output));
    char *line = recent + start;
    while (*line) {
        char *end = line;
        while (*end && *end != '\n')
            end++;
        char saved = *end;
        *end = '\0';
        if (end > line && end[-1] == '\r')
            end[-1] = '\0'; /* a serial console's CR LF: the CR is no content */
        for (char *c = line; *c; c++)
            if (*c < 0x20 || *c > 0x7e)
                *c = '.';
        kprintf("tessera: vm %s:     | %s\n", vm->cfg.name, line);
        if (!saved)
            break;
        line = end + 1;
    }
}

void vm_guest_panic(struct vm *vm)
{
    vm->guest_panicked = true;
    vm_fail(vm, "guest kernel panicked");
}

void vm_print_log(struct vm *vm)
{
    static char text[VM_RING_SIZE + 1]; /* one CPU at a time: under the monitor's one request */
    size_t n = ring_copy_out(&vm->output, text, VM_RING_SIZE);
    text[n] = '\0';
    kprintf("tessera: vm %s: recent output (%llu bytes):\n", vm->cfg.name, (unsigned long long)n);
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && text[i] != '\n')
            continue;
        if (i > start || i < n) {
            for (size_t c = start; c < i; c++)
                if ((unsigned char)text[c] < 0x20 || (unsigned char)text[c] > 0x7e)
                    text[c] = '.';
            text[i] = '\0';
            kprintf("tessera: vm %s: | %s\n", vm->cfg.name, text + start);
        }
        start = i + 1;
    }
}

void vm_fail(struct vm *vm, const char *reason)
{
    vm_fail_how(vm, reason, true);
}

void vm_fail_permanently(struct vm *vm, const char *reason)
{
    vm_fail_how(vm, reason, false);
}

/* The VM has not run since it failed: its VMCS and registers are as the failure left them. */
static enum vm_finish report_failure(struct vm *vm, bool may_restart)
{
    char prefix[CONFIG_NAME_MAX + 24];
    kprintf("tessera: vm %s failed: %s\n", vm->cfg.name, vm->fail_reason);
    ksnprintf(prefix, sizeof(prefix), "tessera: vm %s:   ", vm->cfg.name);
    vcpu_dump(&vm->vcpu, prefix);
    print_recent_output(vm, vm->guest_panicked ? RECENT_LINES_PANIC : RECENT_LINES);
    if (will_restart(vm, may_restart)) {
        char why[160];
        vm->restarts++;
        kprintf("tessera: vm %s: restarting (restart %u of at most %u)\n", vm->cfg.name,
                vm->restarts, VM_MAX_RESTARTS);
        if (vm_load(vm, why, sizeof(why)) == 0) {
            vm->state = VM_RUNNING;
            return VM_FINISH_RESTARTED;
        }
        kprintf("tessera: vm %s: restart failed: %s\n", vm->cfg.name, why);
    } else if (vm->cfg.on_fail == VM_FAIL_RESTART) {
        kprintf("tessera: vm %s: not restarting again (%u restarts)\n", vm->cfg.name, vm->restarts);
    }
    vm->state = VM_FAILED;
    return VM_FINISH_ENDED;
}
