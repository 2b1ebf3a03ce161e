/* The monitor (tessera/monitor.h): input from the serial port and the PS/2 keyboard into one
 * queue, the line editor, the commands, and `console NAME` sessions. It runs only on the boot
 * CPU, from its run loop: what touches a VM on another CPU (registers, stop, start, restart, its
 * output ring) is a request that VM's CPU acts on between slices (vmm_serve_requests); the monitor
 * waits for the answer, bounded, without blocking its own CPU's run loop (it simply does not read
 * further input until then). Reading another CPU's counters for `list` and `stats` takes no lock:
 * each is one aligned 64-bit load, at worst a moment old. */
#include <drivers/i8042.h>
#include <drivers/uart16550.h>
#include <tessera/arch.h>
#include <tessera/console.h>
#include <tessera/kbd_set1.h>
#include <tessera/line_edit.h>
#include <tessera/mm.h>
#include <tessera/monitor.h>
#include <tessera/monitor_cmd.h>
#include <tessera/pmm.h>
#include <tessera/printf.h>
#include <tessera/string.h>
#include <tessera/vm.h>

#define PROMPT "tessera> "
#define INPUT_QUEUE 256
#define INPUT_PER_POLL 64      /* bytes taken from each device per poll */
#define REQUEST_TIMEOUT_MS 3000

static bool active, prompt_wanted;
static uint64_t poll_interval, run_started;
uint64_t monitor_next_poll = UINT64_MAX; /* none while the monitor is off */
static struct line_edit editor;
static struct kbd_set1 keyboard;
static bool keyboard_present;
static uint8_t input[INPUT_QUEUE];
static unsigned input_head, input_count;
static int attached = -1;            /* the VM of a console session */
static uint64_t attached_dropped;    /* keystrokes its full input queue refused */
static struct vm *waiting;           /* a request posted to this VM's CPU */
static uint32_t waiting_request;
static uint64_t waiting_since;

static void input_push(uint8_t byte)
{
    if (input_count == INPUT_QUEUE)
        return; /* typed faster than a slice: the excess is dropped */
    input[(input_head + input_count) % INPUT_QUEUE] = byte;
    input_count++;
}

static uint8_t input_pop(void)
{
    uint8_t byte = input[input_head];
    input_head = (input_head + 1) % INPUT_QUEUE;
    input_count--;
    return byte;
}

/* Both devices feed the one queue; each poll takes a bounded number of bytes. */
static void gather_input(void)
{
    for (unsigned i = 0; i < INPUT_PER_POLL; i++) {
        int c = uart_getc();
        if (c < 0)
            break;
        input_push((uint8_t)c);
    }
    if (!keyboard_present)
        return;
    for (unsigned i = 0; i < INPUT_PER_POLL; i++) {
        int code = i8042_read();
        if (code < 0)
            break;
        char out[4];
        size_t n = kbd_set1_feed(&keyboard, (uint8_t)code, out);
        for (size_t k = 0; k < n; k++)
            input_push((uint8_t)out[k]);
    }
}

static void draw_prompt(void)
{
    char line[sizeof(PROMPT) + LINE_EDIT_MAX + 32];
    size_t n = line_edit_render(&editor, PROMPT, line, sizeof(line));
    console_prompt_show(line, n);
}

static int find_vm(void *ctx, const char *name)
{
    (void)ctx;
    for (unsigned i = 0; i < vm_count(); i++)
        if (strcmp(vm_get(i)->cfg.name, name) == 0)
            return (int)i;
    return -1;
}

static const char *state_name(const struct vm *vm, char *buf, size_t size)
{
    switch (vm->state) {
    case VM_RUNNING: return "running";
    case VM_ENDING: return "ending";
    case VM_EXITED: ksnprintf(buf, size, "exit %u", vm->exit_status); return buf;
    case VM_FAILED: return "failed";
    case VM_STOPPED: return "stopped";
    default: return "?";
    }
}

/* ticks as seconds with three decimals */
static void format_seconds(char *buf, size_t size, uint64_t ticks)
{
    uint64_t hz = arch_tsc_hz() ? arch_tsc_hz() : 1;
    uint64_t ms = ticks / (hz / 1000 ? hz / 1000 : 1);
    ksnprintf(buf, size, "%llu.%03llus", (unsigned long long)(ms / 1000),
              (unsigned long long)(ms % 1000));
}

static uint64_t exits_of(const struct vm *vm)
{
    uint64_t total = 0;
    for (unsigned s = 0; s < VCPU_STAT_COUNT; s++)
        total += vm->vcpu.stats[s];
    return total;
}

static void cmd_help(void)
{
    for (unsigned c = 0; c < MONITOR_CMD_COUNT; c++) {
        char usage[32];
        ksnprintf(usage, sizeof(usage), "%s%s", monitor_cmds[c].name,
                  monitor_cmds[c].takes_vm ? " NAME" : "");
        kprintf("  %-14s %s\n", usage, monitor_cmds[c].help);
    }
    kprintf("  keys: Left/Right, Up/Down (history), Backspace, Ctrl-U (clear), Ctrl-A/E, Ctrl-C\n");
}

static void cmd_list(void)
{
    uint64_t now = arch_now(), elapsed = now - run_started;
    kprintf("  %-12s %-8s %3s %6s %7s %6s %10s %10s %8s\n", "vm", "state", "cpu", "weight",
            "memory", "share", "uptime", "exits", "restarts");
    for (unsigned i = 0; i < vm_count(); i++) {
        const struct vm *vm = vm_get(i);
        char state[16], uptime[24];
        uint64_t ran = __atomic_load_n(&vm->sched.ticks_run, __ATOMIC_RELAXED);
        uint64_t permille = elapsed ? ran * 1000 / elapsed : 0;
        uint64_t ended = __atomic_load_n(&vm->life_ended, __ATOMIC_RELAXED);
        uint64_t started = __atomic_load_n(&vm->life_started, __ATOMIC_RELAXED);
        format_seconds(uptime, sizeof(uptime), (ended ? ended : now) - started);
        kprintf("  %-12s %-8s %3u %6u %6lluM %4llu.%llu%% %10s %10llu %8u\n", vm->cfg.name,
                state_name(vm, state, sizeof(state)), vm->cfg.cpu, vm->cfg.weight,
                (unsigned long long)(vm->ram_size >> 20), (unsigned long long)(permille / 10),
                (unsigned long long)(permille % 10), uptime, (unsigned long long)exits_of(vm),
                vm->restarts + vm->monitor_starts);
    }
}

static void cmd_stats(const struct vm *vm)
{
    char exits[300];
    unsigned n = 0;
    for (unsigned s = 0; s < VCPU_STAT_COUNT; s++) {
        uint64_t count = __atomic_load_n(&vm->vcpu.stats[s], __ATOMIC_RELAXED);
        if (count)
            n += ksnprintf(exits + n, sizeof(exits) - n, " %s=%llu", vcpu_stat_names[s],
                           (unsigned long long)count);
    }
    kprintf("  %s: exits:%s\n", vm->cfg.name, n ? exits : " none");
    uint64_t ran = __atomic_load_n(&vm->sched.ticks_run, __ATOMIC_RELAXED);
    uint64_t handling = __atomic_load_n(&vm->exit_ticks, __ATOMIC_RELAXED);
    if (handling > ran)
        handling = ran;
    char guest[24], hv[24];
    format_seconds(guest, sizeof(guest), ran - handling);
    format_seconds(hv, sizeof(hv), handling);
    kprintf("  %s: time in guest %s (%llu ticks), in the hypervisor's exit handling %s (%llu "
            "ticks), slices %llu\n", vm->cfg.name, guest, (unsigned long long)(ran - handling),
            hv, (unsigned long long)handling,
            (unsigned long long)__atomic_load_n(&vm->sched.times_scheduled, __ATOMIC_RELAXED));
}

static void cmd_cpus(void)
{
    for (unsigned cpu = 0; cpu < ARCH_MAX_CPUS; cpu++) {
        if (!arch_cpu_online(cpu))
            continue;
        char names[200];
        unsigned n = 0, total = 0, running = 0;
        names[0] = '\0';
        for (unsigned i = 0; i < vm_count(); i++) {
            const struct vm *vm = vm_get(i);
            if (vm->cfg.cpu != cpu)
                continue;
            total++;
            if (vm->state == VM_RUNNING)
                running++;
            if (n < sizeof(names) - 1)
                n += ksnprintf(names + n, sizeof(names) - n, " %s", vm->cfg.name);
        }
        uint64_t halts;
        unsigned halted = vmm_cpu_halted_permille(cpu, &halts);
        kprintf("  cpu %u: %u VMs, %u running:%s%s; halted %u.%u%% of the run\n", cpu, total, running,
                total ? names : " -", cpu == 0 ? " (runs the monitor)" : "", halted / 10, halted % 10);
    }
}

static void cmd_mem(void)
{
    for (unsigned i = 0; i < vm_count(); i++) {
        const struct vm *vm = vm_get(i);
        kprintf("  %-12s guest-physical 0x0-0x%llx -> host-physical 0x%llx-0x%llx (%llu MiB)\n",
                vm->cfg.name, (unsigned long long)vm->ram_size,
                (unsigned long long)vm->ram_host,
                (unsigned long long)(vm->ram_host + vm->ram_size),
                (unsigned long long)(vm->ram_size >> 20));
    }
    kprintf("  free: %llu MiB (largest block %llu MiB)\n",
            (unsigned long long)(pmm_free_bytes(&kernel_pmm) >> 20),
            (unsigned long long)(pmm_largest_free(&kernel_pmm) >> 20));
}

static void post(struct vm *vm, uint32_t request)
{
    if (vm->sched_index < 0) {
        kprintf("error: vm %s never ran (%s)\n", vm->cfg.name, vm->fail_reason);
        return;
    }
    if (__atomic_load_n(&vm->request, __ATOMIC_ACQUIRE) != VM_REQUEST_NONE) {
        kprintf("error: vm %s: an earlier request is still pending\n", vm->cfg.name);
        return;
    }
    waiting = vm;
    waiting_request = request;
    waiting_since = arch_now();
    __atomic_store_n(&vm->request, request, __ATOMIC_RELEASE);
    vmm_post_request(vm);
}

static void attach(int index)
{
    struct vm *vm = vm_get((unsigned)index);
    kprintf("tessera: console %s: typing goes to its COM1; Ctrl-] returns to the monitor "
            "(other VMs' output waits until then)\n", vm->cfg.name);
    attached = index;
    attached_dropped = 0;
    console_attach(&vm->console);
}

static void detach(const char *why)
{
    struct vm *vm = vm_get((unsigned)attached);
    attached = -1;
    console_attach(NULL);
    kprintf("tessera: console %s: back to the monitor%s%s\n", vm->cfg.name, why,
            attached_dropped ? " (some keystrokes were dropped: its input queue was full)" : "");
}

/* A session ends with its VM: once the VM has ended and been reported (its last output is
 * out), what is typed next is for the monitor again, without an Escape first. */
static void detach_if_ended(void)
{
    uint32_t state = __atomic_load_n(&vm_get((unsigned)attached)->state, __ATOMIC_ACQUIRE);
    if (state == VM_EXITED || state == VM_FAILED || state == VM_STOPPED)
        detach(" (the VM has ended)");
}

static void run_line(const char *line, size_t len, bool overlong, uint8_t bad_control)
{
    if (overlong) {
        kprintf("error: line too long (at most %u characters); nothing done\n", LINE_EDIT_MAX);
        return;
    }
    if (bad_control) {
        kprintf("error: control byte 0x%02x in the line; nothing done\n", bad_control);
        return;
    }
    enum monitor_cmd_id id;
    int index;
    char error[MONITOR_ERROR_MAX];
    enum monitor_parse_result r = monitor_parse(line, len, find_vm, NULL, &id, &index, error,
                                                sizeof(error));
    if (r == MONITOR_PARSE_EMPTY)
        return;
    if (r == MONITOR_PARSE_ERROR) {
        kprintf("%s\n", error);
        return;
    }
    struct vm *vm = index >= 0 ? vm_get((unsigned)index) : NULL;
    switch (id) {
    case MONITOR_HELP: cmd_help(); break;
    case MONITOR_LIST: cmd_list(); break;
    case MONITOR_STATS: cmd_stats(vm); break;
    case MONITOR_REGS: post(vm, VM_REQUEST_REGS); break;
    case MONITOR_STOP: post(vm, VM_REQUEST_STOP); break;
    case MONITOR_START: post(vm, VM_REQUEST_START); break;
    case MONITOR_RESTART: post(vm, VM_REQUEST_RESTART); break;
    case MONITOR_LOG: post(vm, VM_REQUEST_LOG); break;
    case MONITOR_CONSOLE: attach(index); break;
    case MONITOR_CPUS: cmd_cpus(); break;
    case MONITOR_MEM: cmd_mem(); break;
    case MONITOR_POWEROFF:
        kprintf("tessera: poweroff from the monitor\n");
        kprintf("tessera: end status=ok\n");
        arch_end_run(true);
    case MONITOR_REBOOT:
        kprintf("tessera: reboot from the monitor\n");
        arch_reboot();
    default:
        break;
    }
}

/* The answer to the request in flight, or a timeout: one line either way. */
static void check_request(uint64_t now)
{
    struct vm *vm = waiting;
    if (__atomic_load_n(&vm->request, __ATOMIC_ACQUIRE) == VM_REQUEST_NONE) {
        uint32_t answer = __atomic_load_n(&vm->request_answer, __ATOMIC_RELAXED);
        waiting = NULL;
        /* done: the VM's CPU has said so itself (its report, "started", the dump) */
        if (answer == VM_ANSWER_DONE)
            return;
        if (answer == VM_ANSWER_NOT_RUNNING)
            kprintf("error: vm %s is not running\n", vm->cfg.name);
        else if (answer == VM_ANSWER_RUNNING)
            kprintf("error: vm %s is running already (restart NAME starts it anew)\n",
                    vm->cfg.name);
        else if (answer == VM_ANSWER_ENDING)
            kprintf("error: vm %s is ending (its output is draining); try again\n", vm->cfg.name);
        else if (answer == VM_ANSWER_FAILED)
            kprintf("error: vm %s could not be started\n", vm->cfg.name);
        return;
    }
    if (now - waiting_since > REQUEST_TIMEOUT_MS * (poll_interval ? poll_interval : 1)) {
        /* its CPU did not get to it (a slice far too long, a CPU stuck): it stays posted */
        kprintf("error: vm %s: CPU %u did not answer within %u ms; the request stays posted\n",
                vm->cfg.name, vm->cfg.cpu, REQUEST_TIMEOUT_MS);
        waiting = NULL;
    }
}

static void handle_byte(uint8_t byte)
{
    if (attached >= 0) {
        if (byte == MONITOR_ESCAPE_KEY) {
            detach("");
            return;
        }
        if (outq_write(&vm_get((unsigned)attached)->input, &byte, 1) == 0)
            attached_dropped++;
        return;
    }
    if (byte == MONITOR_ESCAPE_KEY)
        return; /* the session had already ended with its VM: the escape has nothing to leave */
    prompt_wanted = true;
    switch (line_edit_feed(&editor, byte)) {
    case LINE_EDIT_CHANGED:
        draw_prompt();
        break;
    case LINE_EDIT_CANCEL:
        console_prompt_leave();
        break;
    case LINE_EDIT_ENTER:
        console_prompt_leave();
        run_line(editor.done, editor.done_len, editor.done_overlong, editor.done_bad_control);
        break;
    default:
        break;
    }
}

void monitor_start(bool show_prompt)
{
    line_edit_init(&editor);
    kbd_set1_init(&keyboard);
    keyboard_present = i8042_present();
    poll_interval = arch_tsc_hz() / 1000 ? arch_tsc_hz() / 1000 : 1;
    run_started = arch_now();
    prompt_wanted = show_prompt;
    active = true;
    monitor_next_poll = 0;
    kprintf("tessera: monitor: on the serial console%s; type 'help' (a VM's console: "
            "'console NAME', Ctrl-] to return)\n", keyboard_present ? " and the PS/2 keyboard" : "");
}

void monitor_poll(void)
{
    if (!active)
        return;
    uint64_t now = arch_now();
    if (now < monitor_next_poll)
        return;
    monitor_next_poll = now + poll_interval;
    gather_input();
    if (attached >= 0)
        detach_if_ended();
    if (waiting)
        check_request(now);
    while (input_count && !waiting)
        handle_byte(input_pop());
    if (prompt_wanted && attached < 0 && !waiting && console_prompt_redraw_due())
        draw_prompt();
}
