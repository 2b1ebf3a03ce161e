/* A VM's devices on its bus: the virtual 16550 at COM1 for every VM; for a VM running a Linux
 * image also the PC interrupt platform (kernel/dev/legacy_pc.c: 8259A pair, 8254 PIT and port
 * 0x61, local APIC and I/O APIC, the UART on IRQ 4), the CMOS RTC on IRQ 8, and the ACPI PM
 * device with the reset register and pvpanic (kernel/dev/acpi_pm.c, SCI on IRQ 9), which the run
 * loop (kernel/vmm.c) advances and injects from through vm_devices_prepare_entry and
 * vm_devices_halt, and the CPUID that describes them (local APIC, TSC rate). Device memory
 * (VCPU_EXIT_MMIO) and the APIC's MSRs (VCPU_EXIT_MSR) reach them through vm_mmio_access and
 * vm_msr_access. Other VMs keep exactly the devices and CPUID they always had. */
#include <tessera/acpi_gen.h>
#include <tessera/arch.h>
#include <tessera/errno.h>
#include <tessera/string.h>
#include <tessera/hypercall_abi.h>
#include <tessera/printf.h>
#include <tessera/vm.h>

#define COM1_BASE 0x3f8
#define IGNORED_PORT_REPORTS 4
#define RTC_IRQ 8
/* The RTC's time of day at a VM's power-on when the host's RTC gives no valid date (2026-01-01
 * 00:00:00 UTC); otherwise the host's (arch_wall_clock: its RTC read once, by the hypervisor).
 * The guest may set its own clock; the host's is never written. */
#define RTC_FALLBACK_SECONDS 1767225600ull

/* The RTC, the ACPI PM device, the reset register and pvpanic of a Linux VM, on the legacy
 * PC's interrupt router. A reboot keeps the CMOS RAM (bytes 0x0e-0x7f but the century). */
static int attach_platform(struct vm *vm, uint64_t now)
{
    uint8_t nvram[128];
    bool keep = vm->keep_nvram;
    vm->keep_nvram = false;
    if (keep)
        memcpy(nvram, vm->rtc.ram, sizeof(nvram));
    struct irq_line irq8 = irq_router_line(&vm->pc.router, RTC_IRQ);
    uint64_t seconds;
    if (!arch_wall_clock(&seconds))
        seconds = RTC_FALLBACK_SECONDS;
    rtc_init(&vm->rtc, arch_tsc_hz(), now, seconds, &irq8);
    for (unsigned i = 0x0e; keep && i < sizeof(nvram); i++)
        rtc_cmos_set(&vm->rtc, i, nvram[i]); /* refuses the century byte */
    struct irq_line sci = irq_router_line(&vm->pc.router, ACPI_GEN_SCI_IRQ);
    /* a 32-bit PM timer: the generated FADT sets TMR_VAL_EXT */
    acpi_pm_init(&vm->acpi_pm, arch_tsc_hz(), now, true, ACPI_GEN_S5_SLP_TYP, &sci);
    struct dev_region r[RTC_REGIONS + ACPI_PM_REGIONS];
    rtc_regions(&vm->rtc, r);
    acpi_pm_regions(&vm->acpi_pm, r + RTC_REGIONS);
    for (unsigned i = 0; i < RTC_REGIONS + ACPI_PM_REGIONS; i++) {
        int err = dev_bus_add(&vm->bus, &r[i]);
        if (err)
            return err;
    }
    return 0;
}

int vm_devices_reset(struct vm *vm, char *why, size_t why_len)
{
    dev_bus_init(&vm->bus);
    const struct dev_region com1 = { DEV_SPACE_PORT, COM1_BASE, VUART_REGISTERS, &vuart_ops,
                                     &vm->uart, "16550 UART" };
    int err = dev_bus_add(&vm->bus, &com1);
    vm->has_legacy_pc = vm->image.format == IMAGE_FORMAT_LINUX;
    vm->exit = (struct vcpu_exit)VCPU_EXIT_INIT;
    vm->exit.want_interrupt_state = vm->has_legacy_pc; /* only such a VM has interrupt sources */
    struct vcpu_guest_cpu cpu = { 0 };
    if (!err && vm->has_legacy_pc) {
        uint64_t now = arch_now();
        err = legacy_pc_init(&vm->pc, arch_tsc_hz(), now, &vm->uart);
        if (!err)
            err = legacy_pc_attach(&vm->pc, &vm->bus);
        if (!err)
            err = attach_platform(vm, now);
        /* CPUID 0x15: the crystal is the local APIC timer's clock, so Linux's
         * lapic_timer_period (crystal / HZ) and the TSC rate (crystal * ratio) are both exact */
        cpu.apic = true;
        cpu.apic_id = LEGACY_PC_APIC_ID;
        cpu.tsc_hz = arch_tsc_hz();
        cpu.crystal_hz = (uint32_t)vlapic_timer_hz(&vm->pc.apic);
        cpu.crystal_ratio = (uint32_t)vlapic_timer_tsc_ratio(&vm->pc.apic);
    }
    vcpu_set_guest_cpu(&vm->vcpu, &cpu);
    if (err)
        ksnprintf(why, why_len, "cannot register its devices (error %d)", err);
    return err;
}

/* A port access goes to the bus region holding all of it; one that is not wholly inside a region
 * is split into bytes, each to its own region, so an access straddling a device's end reads and
 * writes what the bytes would alone. Unclaimed bytes read as all ones (the bus floats high).
 * The split is out of line: the common case (one region) stays a short path on every exit. */
static __attribute__((noinline)) uint32_t port_read_split(struct vm *vm, uint16_t port,
                                                          unsigned size, uint64_t now)
{
    uint32_t value = 0;
    for (unsigned i = 0; i < size; i++) {
        uint16_t p = (uint16_t)(port + i);
        const struct dev_region *r = dev_bus_find(&vm->bus, DEV_SPACE_PORT, p, 1);
        uint8_t b = r ? (uint8_t)r->ops->read(r->dev, p - r->base, 1, now) : 0xff;
        value |= (uint32_t)b << (8 * i);
    }
    return value;
}

static __attribute__((noinline)) uint32_t port_read_slow(struct vm *vm, uint16_t port,
                                                         unsigned size, uint64_t now)
{
    if (port >= COM1_BASE && port < COM1_BASE + VUART_REGISTERS)
        vm_take_input(vm); /* what the monitor typed for it reaches RBR/LSR before the read */
    const struct dev_region *r = dev_bus_find_port(&vm->bus, port, size);
    if (r)
        return (uint32_t)r->ops->read(r->dev, port - r->base, size, now);
    return port_read_split(vm, port, size, now);
}

/* The common case (the region of the last access, no typed input waiting) keeps no register
 * across its call: the rest is out of line. */
uint32_t vm_port_read(struct vm *vm, uint16_t port, unsigned size, uint64_t now)
{
    const struct dev_region *r = dev_bus_cached_port(&vm->bus, port, size);
    if (!r || outq_used(&vm->input))
        return port_read_slow(vm, port, size, now);
    return (uint32_t)r->ops->read(r->dev, port - r->base, size, now);
}

static __attribute__((noinline)) void port_write_split(struct vm *vm, uint16_t port, unsigned size,
                                                       uint32_t value, uint64_t now)
{
    for (unsigned i = 0; i < size; i++) {
        uint16_t p = (uint16_t)(port + i);
        uint8_t b = (uint8_t)(value >> (8 * i));
        const struct dev_region *r = dev_bus_find(&vm->bus, DEV_SPACE_PORT, p, 1);
        if (r) {
            r->ops->write(r->dev, p - r->base, 1, b, now);
        } else if (vm->ignored_ports_reported < IGNORED_PORT_REPORTS) {
            vm->ignored_ports_reported++;
            kprintf("tessera: vm %s: write 0x%x to port 0x%x ignored (no device there)%s\n",
                    vm->cfg.name, b, p,
                    vm->ignored_ports_reported == IGNORED_PORT_REPORTS ? "; not reporting more" : "");
        }
    }
}

/* What the guest asked of its platform with the write just done: power-off, reboot, or the
 * report of a kernel panic. Each only stops the VM (vm.c's two-step end). False: it ended. */
static bool take_platform_request(struct vm *vm)
{
    switch (acpi_pm_take_request(&vm->acpi_pm)) {
    case ACPI_PM_POWER_OFF:
        vm_power_off(vm);
        return false;
    case ACPI_PM_RESET:
        vm_reboot(vm);
        return false;
    case ACPI_PM_PANIC:
        vm_guest_panic(vm);
        return false;
    case ACPI_PM_NONE:
        break;
    }
    return true;
}

static bool write_done(struct vm *vm)
{
    return vm->has_legacy_pc ? take_platform_request(vm) : true;
}

static __attribute__((noinline)) bool port_write_slow(struct vm *vm, uint16_t port, unsigned size,
                                                      uint32_t value, uint64_t now)
{
    /* the debug-exit port is the VM's own end, not a device */
    if (port >= TESSERA_DEBUG_EXIT_PORT && port < TESSERA_DEBUG_EXIT_PORT + 4) {
        vm_exit(vm, size == 1 ? (value & 0xff) : size == 2 ? (value & 0xffff) : value);
        return false;
    }
    const struct dev_region *r = dev_bus_find_port(&vm->bus, port, size);
    if (r)
        r->ops->write(r->dev, port - r->base, size, value, now);
    else
        port_write_split(vm, port, size, value, now);
    return write_done(vm);
}

/* Returns false when the write ended the VM. The common case (a VM without the PC platform,
 * the region of the last access) keeps no register across its call: the rest is out of line.
 * Such a VM has only COM1 on its bus, so the cached region is never the debug-exit port. */
bool vm_port_write(struct vm *vm, uint16_t port, unsigned size, uint32_t value, uint64_t now)
{
    const struct dev_region *r = dev_bus_cached_port(&vm->bus, port, size);
    if (!r || vm->has_legacy_pc)
        return port_write_slow(vm, port, size, value, now);
    r->ops->write(r->dev, port - r->base, size, value, now);
    return true;
}

static void platform_advance(struct vm *vm, uint64_t now)
{
    rtc_advance(&vm->rtc, now);
    acpi_pm_advance(&vm->acpi_pm, now);
    legacy_pc_advance(&vm->pc, now);
}

static uint64_t platform_next_deadline(struct vm *vm, uint64_t now)
{
    uint64_t next = legacy_pc_next_deadline(&vm->pc, now);
    uint64_t rtc = rtc_next_deadline(&vm->rtc), pm = acpi_pm_next_deadline(&vm->acpi_pm);
    if (rtc < next)
        next = rtc;
    return pm < next ? pm : next;
}

/* A data access outside RAM goes to the bus region holding all of it; anything else (no device
 * there, or an access straddling a device's end) stops the VM, as any other EPT violation.
 * Returns false with reason filled in then. */
bool vm_mmio_access(struct vm *vm, const struct vcpu_mmio *m, char *reason, size_t len)
{
    const struct dev_region *r = dev_bus_find(&vm->bus, DEV_SPACE_MMIO, m->gpa, m->size);
    if (!r) {
        ksnprintf(reason, len, "%s: %s at guest-physical 0x%llx, outside the VM's memory and "
                  "its devices (%u-byte access)", virt_slat_fault_name(),
                  m->write ? "write" : "read", (unsigned long long)m->gpa, m->size);
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
 * CPU without that MSR. Returns false when it raised #GP. */
bool vm_msr_access(struct vm *vm, const struct vcpu_msr *m)
{
    uint64_t value = 0;
    int err = -ENOENT;
    if (vm->has_legacy_pc)
        err = m->write ? legacy_pc_msr_write(&vm->pc, m->index, m->value, arch_now())
                       : legacy_pc_msr_read(&vm->pc, m->index, &value, arch_now());
    vcpu_complete_msr(&vm->vcpu, err == 0, value);
    return err == 0;
}

/* Before an entry: devices brought to now, then inject the pending vector (the PIC's through
 * ExtINT, or the local APIC's) when the guest can take it or ask for the window. Returns the
 * entry's deadline: the slice's, or the devices' next one if that is earlier, so a due timer
 * tick is delivered on time. */
uint64_t vm_devices_prepare_entry(struct vm *vm, uint64_t deadline, struct vcpu_exit *exit)
{
    uint64_t now = arch_now();
    vm_take_input(vm); /* typed input raises IRQ 4 before the devices are sampled */
    platform_advance(vm, now);
    struct legacy_pc_entry e = legacy_pc_before_entry(&vm->pc, exit->interruptible);
    exit->inject_vector = e.vector;
    exit->want_interrupt_window = e.want_window;
    uint64_t next = platform_next_deadline(vm, now);
    return next < deadline ? next : deadline;
}

/* HLT with interrupts enabled waits for the devices (or the SET_TIMER timer): returns when to
 * wake, VM_NO_TIMER to give up the slice only, or 0 to go on at once (one is pending). */
uint64_t vm_devices_halt(struct vm *vm)
{
    uint64_t now = arch_now();
    vm_take_input(vm);
    platform_advance(vm, now);
    if (legacy_pc_interrupt_pending(&vm->pc))
        return 0;
    uint64_t next = platform_next_deadline(vm, now);
    if (vm->timer_deadline <= next) {
        next = vm->timer_deadline;
        vm->timer_deadline = VM_NO_TIMER;
    }
    return next == DEV_NO_DEADLINE ? VM_NO_TIMER : next;
}
