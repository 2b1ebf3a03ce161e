/* A VM's devices on its bus: the virtual 16550 at COM1 for every VM; for a VM running a Linux
 * image also the legacy PC interrupt path (kernel/dev/legacy_pc.c: 8259A pair, 8254 PIT and
 * port 0x61, the UART on IRQ 4), which the run loop (kernel/vmm.c) advances and injects from
 * through vm_devices_prepare_entry and vm_devices_halt.
 * Other VMs keep exactly the devices they always had. */
#include <tessera/arch.h>
#include <tessera/errno.h>
#include <tessera/hypercall_abi.h>
#include <tessera/printf.h>
#include <tessera/vm.h>

#define COM1_BASE 0x3f8
#define IGNORED_PORT_REPORTS 4

int vm_devices_reset(struct vm *vm, char *why, size_t why_len)
{
    dev_bus_init(&vm->bus);
    const struct dev_region com1 = { DEV_SPACE_PORT, COM1_BASE, VUART_REGISTERS, &vuart_ops,
                                     &vm->uart, "16550 UART" };
    int err = dev_bus_add(&vm->bus, &com1);
    vm->has_legacy_pc = vm->image.format == IMAGE_FORMAT_LINUX;
    if (!err && vm->has_legacy_pc) {
        legacy_pc_init(&vm->pc, arch_tsc_hz(), arch_now(), &vm->uart);
        err = legacy_pc_attach(&vm->pc, &vm->bus);
    }
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

uint32_t vm_port_read(struct vm *vm, uint16_t port, unsigned size)
{
    if (port >= COM1_BASE && port < COM1_BASE + VUART_REGISTERS)
        vm_take_input(vm); /* what the monitor typed for it reaches RBR/LSR before the read */
    const struct dev_region *r = dev_bus_find(&vm->bus, DEV_SPACE_PORT, port, size);
    if (r)
        return (uint32_t)r->ops->read(r->dev, port - r->base, size, arch_now());
    return port_read_split(vm, port, size, arch_now());
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

/* Returns false when the write ended the VM. */
bool vm_port_write(struct vm *vm, uint16_t port, unsigned size, uint32_t value)
{
    /* the debug-exit port is the VM's own end, not a device */
    if (port >= TESSERA_DEBUG_EXIT_PORT && port < TESSERA_DEBUG_EXIT_PORT + 4) {
        vm_exit(vm, size == 1 ? (value & 0xff) : size == 2 ? (value & 0xffff) : value);
        return false;
    }
    const struct dev_region *r = dev_bus_find(&vm->bus, DEV_SPACE_PORT, port, size);
    if (r)
        r->ops->write(r->dev, port - r->base, size, value, arch_now());
    else
        port_write_split(vm, port, size, value, arch_now());
    return true;
}

/* Before an entry: devices brought to now, then inject the PIC's vector when the guest can take
 * it or ask for the window. Returns the entry's deadline: the slice's, or the devices' next one
 * if that is earlier, so a due timer tick is delivered on time. */
uint64_t vm_devices_prepare_entry(struct vm *vm, uint64_t deadline, struct vcpu_exit *exit)
{
    uint64_t now = arch_now();
    vm_take_input(vm); /* typed input raises IRQ 4 before the devices are sampled */
    legacy_pc_advance(&vm->pc, now);
    struct legacy_pc_entry e = legacy_pc_before_entry(&vm->pc, exit->interruptible);
    exit->inject_vector = e.vector;
    exit->want_interrupt_window = e.want_window;
    uint64_t next = legacy_pc_next_deadline(&vm->pc, now);
    return next < deadline ? next : deadline;
}

/* HLT with interrupts enabled waits for the devices (or the SET_TIMER timer): returns when to
 * wake, VM_NO_TIMER to give up the slice only, or 0 to go on at once (one is pending). */
uint64_t vm_devices_halt(struct vm *vm)
{
    uint64_t now = arch_now();
    vm_take_input(vm);
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
