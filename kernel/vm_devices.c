/* A VM's devices on its bus: the virtual 16550 at COM1 for every VM; for a VM running a Linux
 * image also the PC platform (kernel/dev/legacy_pc.c: 8259A pair, 8254 PIT and port 0x61, CMOS
 * RTC, local APIC and I/O APIC, the UART on IRQ 4), which the run loop (kernel/vmm.c) advances
 * and injects from, and the CPUID that describes it (local APIC, TSC rate). Other VMs keep
 * exactly the devices and CPUID they always had. */
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
    struct vcpu_guest_cpu cpu = { 0 };
    if (!err && vm->has_legacy_pc) {
        uint64_t seconds;
        if (!arch_wall_clock(&seconds))
            seconds = 946684800; /* 2000-01-01: the host's RTC gave no valid date */
        err = legacy_pc_init(&vm->pc, arch_tsc_hz(), arch_now(), &vm->uart, seconds);
        if (!err)
            err = legacy_pc_attach(&vm->pc, &vm->bus);
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
