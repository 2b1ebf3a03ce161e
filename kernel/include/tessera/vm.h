/* Virtual machines: created from the config and an image, run by the scheduler loop
 * (kernel/vmm.c), ended by their own exit, a fault, or a failure we detect. */
#ifndef TESSERA_VM_H
#define TESSERA_VM_H

#include <stdbool.h>
#include <stdint.h>
#include <tessera/acpi_pm.h>
#include <tessera/boot_info.h>
#include <tessera/config.h>
#include <tessera/console_pump.h>
#include <tessera/dev.h>
#include <tessera/hypercall.h>
#include <tessera/image.h>
#include <tessera/legacy_pc.h>
#include <tessera/ring.h>
#include <tessera/rtc.h>
#include <tessera/sched_policy.h>
#include <tessera/vcpu.h>
#include <tessera/vuart.h>

#define VM_MAX CONFIG_MAX_VMS
#define VM_RING_SIZE 4096
#define VM_MAX_RESTARTS 3
#define VM_NO_TIMER UINT64_MAX

enum vm_state {
    VM_RUNNING = 1,
    VM_EXITED = 2, /* ended itself: exit hypercall or port 0xf4 */
    VM_FAILED = 3, /* stopped by the hypervisor: reason says why */
    VM_ENDING = 4, /* stopped, never scheduled again; reported once its queued output is out */
    VM_STOPPED = 5, /* stopped from the monitor (`stop NAME`) */
};

/* How a VM in VM_ENDING ended. */
enum vm_end { VM_END_EXIT = 1, VM_END_FAIL = 2, VM_END_FAIL_FOR_GOOD = 3,
              VM_END_REBOOT = 4 /* the guest's own (reset register) */,
              VM_END_STOP = 5 /* the monitor's stop */, VM_END_RESTART = 6 /* its restart */ };

/* What the monitor (kernel/monitor/monitor.c, on the boot CPU) asks of a VM's own CPU, whose run
 * loop acts on it between slices (vmm_serve_requests): the VMCS and the scheduler are that CPU's.
 * The monitor stores the request (release) and waits, bounded, for the word to return to 0;
 * request_answer then holds an enum vm_request_answer. */
enum vm_request { VM_REQUEST_NONE, VM_REQUEST_REGS, VM_REQUEST_STOP, VM_REQUEST_START,
                  VM_REQUEST_RESTART, VM_REQUEST_LOG };
enum vm_request_answer { VM_ANSWER_DONE = 1, VM_ANSWER_NOT_RUNNING, VM_ANSWER_RUNNING,
                         VM_ANSWER_ENDING, VM_ANSWER_FAILED };

struct vm {
    unsigned id; /* 0-based, in config order */
    struct vm_config cfg;
    char prefix[CONFIG_NAME_MAX + 4]; /* "[name] " */
    const struct boot_module *image_file;
    struct image_info image;
    struct image_module modules[CONFIG_MAX_MODULES];
    struct image_module initrd; /* a Linux VM's initrd when cfg.initrd names one */

    uint64_t ram_host; /* guest-physical 0 lives here */
    uint64_t ram_size;

    struct vcpu vcpu;
    struct vuart uart;
    struct dev_bus bus;      /* the port devices its exits reach (kernel/vm_devices.c) */
    bool has_legacy_pc;      /* Linux images: PIC pair, PIT, UART on IRQ 4 (docs/devices.md), the
                              * CMOS RTC, the ACPI PM device, reset register and pvpanic */
    struct legacy_pc pc;
    struct acpi_pm acpi_pm;
    struct rtc rtc;
    bool keep_nvram;         /* the next vm_devices_reset keeps the RTC's CMOS RAM (a reboot) */
    struct pump_source console; /* its output queue, drained by the console pump */
    struct outq input;          /* the monitor's `console NAME` keystrokes for its COM1 (the
                                 * monitor produces, its own CPU moves them into the vUART) */
    struct ring output;         /* recent output, for failure reports */
    uint8_t output_storage[VM_RING_SIZE];

    int sched_index;
    struct sched_entity sched;
    uint64_t timer_deadline; /* armed by SET_TIMER, VM_NO_TIMER when none */
    struct hypercall_env hypercall_env; /* what its calls see; filled at its first (vm_hypercall.c) */
    uint64_t time_limit_end; /* with a time_limit: TSC at which this life ends; VM_NO_TIMER
                              * until the life's first entry */
    bool life_entered; /* this life has had its first slice (kernel/vmm.c) */
    /* The record of its vCPU's runs (tessera/vcpu.h), started at each life's reset and kept
     * across slices: between two slices the guest does not run, so what its last exit said of
     * it still holds at the next entry. */
    struct vcpu_exit exit;

    uint64_t share_ticks; /* ticks_run when the first VM of its CPU ended for good (summary) */
    uint64_t first_entry_tsc; /* TSC at its first slice's start (summary; 0: never ran) */

    uint32_t state;
    uint32_t end_how;  /* enum vm_end, while VM_ENDING */
    bool end_for_good; /* while VM_ENDING: it will not restart */
    bool parked;       /* while VM_ENDING: its CPU's scheduler has taken it off the run queue */
    uint32_t exit_status;
    char fail_reason[160];
    unsigned restarts;
    unsigned reboots;        /* restarts the guest asked for itself (reset register) */
    bool guest_panicked;     /* this life ended by the guest's pvpanic report */
    const char *end_note;    /* while VM_ENDING: how it ended, printed before the report */
    unsigned monitor_starts;   /* lives begun by the monitor's start/restart */
    uint64_t life_started;     /* TSC when this life was loaded */
    uint64_t life_ended;       /* TSC when it last ended (0 while it runs) */
    uint64_t exit_ticks;       /* time in the run loop's exit handling (vmm.c), not the guest */
    uint32_t request;          /* enum vm_request (atomic), see above */
    uint32_t request_answer;
    unsigned ignored_ports_reported;
};

/* I/O ports of this machine no VM may own, beyond the fixed ones the config parser refuses. */
struct port_reservation {
    uint16_t first, last;
    const char *owner;
};
void vm_reserve_ports(const struct port_reservation *list, unsigned count);

/* Drops (and reports) every configured VM whose image or modules were not loaded. */
void vm_config_check_files(struct config *cfg, const struct boot_info *bi);
/* Creates every VM the config describes; a VM that cannot be created is reported and skipped. */
void vm_create_all(const struct config *cfg, const struct boot_info *bi, unsigned cpu_count);
unsigned vm_count(void);
struct vm *vm_get(unsigned index);

/* Console output of a VM, on its own exits: into its queue (the console pump prints it) and its
 * ring. Never waits: returns how many bytes were taken, fewer than n (0 when full) while the
 * queue holds OUTQ_SIZE bytes not yet printed. */
bool vm_output_byte(struct vm *vm, uint8_t byte);
size_t vm_output(struct vm *vm, const uint8_t *bytes, size_t n);
/* Ends a VM: status from its own exit, or a failure (which may restart it, per config). In two
 * steps, so that no exit does unbounded work (its queue may hold 4096 lines): these stop it at
 * once (VM_ENDING: the scheduler never picks it again, its time_limit no longer counts), and
 * vm_finish_ending, from its CPU's run loop, reports it once the pump has drained its queue. */
void vm_exit(struct vm *vm, uint32_t status);
void vm_fail(struct vm *vm, const char *reason);
/* The guest's own power-off (ACPI S5): ends it with status 0. */
void vm_power_off(struct vm *vm);
/* The guest's own reboot (ACPI reset register): with on_reboot = restart, vm_finish_ending
 * reloads its image and devices (keeping the CMOS RAM, as a PC's battery does) and counts it in
 * reboots, neither a failure nor bounded by VM_MAX_RESTARTS; with on_reboot = stop it ends with
 * status 0. */
void vm_reboot(struct vm *vm);
/* The guest reported a kernel panic (pvpanic): a failure ("guest kernel panicked"), whose
 * report shows more of its last output (the panic message precedes the stack dump). */
void vm_guest_panic(struct vm *vm);
/* Like vm_fail, but never restarts it (it cannot run at all). */
void vm_fail_permanently(struct vm *vm, const char *reason);
/* On the VM's own CPU (the register dump and a restart need its VMCS there): when its queued
 * output is out, prints its last partial line and the report ("exited with status N", or
 * "failed: ..." with registers and recent output), then ends (VM_EXITED / VM_FAILED) or restarts
 * it (VM_RUNNING) and says which. Returns VM_FINISH_WAIT, having done nothing, while its output
 * is still draining. The caller (the run loop) does the scheduler's part. */
enum vm_finish { VM_FINISH_WAIT, VM_FINISH_ENDED, VM_FINISH_RESTARTED };
enum vm_finish vm_finish_ending(struct vm *vm);
/* The monitor's stop and restart of a running VM, on its own CPU: vm_stop_from_monitor stops it
 * like vm_exit (VM_ENDING; reported as stopped, or reloaded and run again for a restart). */
void vm_stop_from_monitor(struct vm *vm, bool restart);
/* Starts an ended VM again on its own CPU: fresh RAM, its image reloaded; false (said why) when
 * that fails. The caller puts it back into the scheduler. */
bool vm_start_again(struct vm *vm);
/* Its COM1 receives what the monitor queued in vm->input, as far as the receiver has room; on
 * the VM's CPU (before an entry and before a COM1 read). */
void vm_take_input(struct vm *vm);
/* Prints its recent-output ring (up to VM_RING_SIZE bytes), line by line; on its own CPU (the
 * ring is written there). */
void vm_print_log(struct vm *vm);

/* Its devices (kernel/vm_devices.c). vm_devices_reset (re)creates the bus: COM1 for every VM,
 * the legacy PC interrupt path for Linux images; 0 or a negative error with why filled in. */
int vm_devices_reset(struct vm *vm, char *why, size_t why_len);
/* A port access from an exit, through the bus; now is the TSC when the exit reached generic code
 * (the devices' time). vm_port_write returns false when the write ended the VM (the debug-exit
 * port). */
uint32_t vm_port_read(struct vm *vm, uint16_t port, unsigned size, uint64_t now);
bool vm_port_write(struct vm *vm, uint16_t port, unsigned size, uint32_t value, uint64_t now);
/* For VMs with interrupt sources: before an entry, brings the devices to now and fills exit's
 * injection request; returns the entry's deadline (deadline, or a device's earlier one). */
uint64_t vm_devices_prepare_entry(struct vm *vm, uint64_t deadline, struct vcpu_exit *exit);
/* HLT with interrupts enabled: when to wake (TSC), VM_NO_TIMER when nothing will, 0 when an
 * interrupt is pending already. */
uint64_t vm_devices_halt(struct vm *vm);
/* VCPU_EXIT_MMIO: the access to the device that owns the address, completed; false (reason
 * filled in, nothing completed) when no device does: the VM must be stopped. */
bool vm_mmio_access(struct vm *vm, const struct vcpu_mmio *m, char *reason, size_t len);
/* VCPU_EXIT_MSR: the platform's MSRs (the local APIC's), #GP for any other; completed. False
 * when the guest gets #GP: the next entry then delivers that exception, so it can carry no
 * external interrupt (the caller treats the guest as not interruptible). */
bool vm_msr_access(struct vm *vm, const struct vcpu_msr *m);

/* Its hypercalls (kernel/vm_hypercall.c): applies the call of a VCPU_EXIT_HYPERCALL. */
enum vm_hypercall_result {
    VM_HYPERCALL_CONTINUE,  /* back into the guest */
    VM_HYPERCALL_END_SLICE, /* it gave up its slice */
    VM_HYPERCALL_ENDED,     /* it ended itself (VM_ENDING) */
};
enum vm_hypercall_result vm_hypercall(struct vm *vm);
/* TSC value at hypervisor start: the TIME hypercall's nanoseconds count from it. */
void hypercall_set_boot_time(uint64_t tsc);

/* Prints the summary table of every VM (kernel/summary.c). */
void vm_print_summary(void);
/* What every other CPU runs once started: waits for the VMs, then runs its own. */
void vmm_ap_main(unsigned cpu);
/* Runs every VM to its end, then prints the summary. Returns true if all ended with status 0.
 * With stay, the boot CPU then keeps running the monitor (and every CPU serves its requests)
 * until the monitor powers the machine off: vmm_run does not return. */
bool vmm_run(uint64_t quantum_ticks, bool stay);
/* Asks vm's CPU to act on vm->request (set by the caller first): its run loop looks between
 * slices. */
void vmm_post_request(struct vm *vm);
/* Whether every CPU's VMs have ended (the monitor's prompt says so). */
bool vmm_all_ended(void);
/* How much of the run (since vmm_run started the VMs) CPU cpu spent halted with nothing to run,
 * in permille; halts: how many times it halted. */
unsigned vmm_cpu_halted_permille(unsigned cpu, uint64_t *halts);

#endif
