/* A VM's devices on its bus: the virtual 16550 at COM1 for every VM; for a VM running a Linux
 * image also the legacy PC interrupt path (kernel/dev/legacy_pc.c: 8259A pair, 8254 PIT and
 * port 0x61, the UART on IRQ 4), which the run loop (kernel/vmm.c) advances and injects from.
 * Other VMs keep exactly the devices they always had. */
#include <tessera/arch.h>
#include <tessera/errno.h>
#include <tessera/printf.h>
#include <tessera/vm.h>

#define COM1_BASE 0x3f8

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
