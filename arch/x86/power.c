/* Ending a run: QEMU's isa-debug-exit port when asked (exit=qemu), else ACPI S5 power-off,
 * falling back to the FADT reset register, the 0xCF9 reset and finally a halt with a message. */
#include <drivers/uart16550.h>
#include <tessera/acpi.h>
#include <tessera/arch.h>
#include <tessera/printf.h>
#include <x86/io.h>
#include <x86/timer.h>

#define PM1_SCI_EN (1u << 0)
#define PM1_SLP_TYP_SHIFT 10
#define PM1_SLP_TYP_MASK (7u << 10)
#define PM1_SLP_EN (1u << 13)
#define SLEEP_CONTROL_SLP_EN (1u << 5) /* hardware-reduced sleep control register (ACPI 4.8.3.7) */
#define QEMU_EXIT_PORT 0xf4

static bool end_exit_qemu;
static const struct acpi_info *end_acpi;

void arch_set_poweroff_info(bool exit_qemu, const struct acpi_info *acpi)
{
    end_exit_qemu = exit_qemu;
    end_acpi = acpi;
}

bool arch_poweroff_exit_qemu(void)
{
    return end_exit_qemu;
}

void arch_end_run(bool ok)
{
    arch_poweroff(ok, end_exit_qemu, end_acpi);
}

static unsigned gas_width(const struct acpi_gas *g, unsigned fallback)
{
    switch (g->bit_width) {
    case 8: case 16: case 32: case 64: return g->bit_width;
    default: break;
    }
    switch (g->access_size) { /* 1 byte, 2 word, 3 dword, 4 qword */
    case 1: return 8;
    case 2: return 16;
    case 3: return 32;
    case 4: return 64;
    default: return fallback;
    }
}

/* The PCI configuration space of a GAS: device in bits 32-47, function 16-31, offset 0-15, bus 0
 * (ACPI 5.2.3.2). */
static uint32_t pci_config_address(uint64_t a)
{
    uint32_t dev = (uint32_t)(a >> 32) & 0x1f, fn = (uint32_t)(a >> 16) & 0x7;
    return 0x80000000u | dev << 11 | fn << 8 | ((uint32_t)a & 0xfc);
}

static bool gas_read(const struct acpi_gas *g, unsigned fallback, uint64_t *v)
{
    if (g->address == 0)
        return false;
    unsigned w = gas_width(g, fallback);
    if (g->space_id == ACPI_GAS_IO) {
        uint16_t port = (uint16_t)g->address;
        *v = w == 8 ? inb(port) : w == 16 ? inw(port) : inl(port);
        return true;
    }
    if (g->space_id == ACPI_GAS_MEMORY) {
        volatile void *p = (volatile void *)(uintptr_t)g->address;
        *v = w == 8    ? *(volatile uint8_t *)p
             : w == 16 ? *(volatile uint16_t *)p
             : w == 32 ? *(volatile uint32_t *)p
                       : *(volatile uint64_t *)p;
        return true;
    }
    return false;
}

static bool gas_write(const struct acpi_gas *g, unsigned fallback, uint64_t v)
{
    if (g->address == 0)
        return false;
    unsigned w = gas_width(g, fallback);
    if (g->space_id == ACPI_GAS_IO) {
        uint16_t port = (uint16_t)g->address;
        if (w == 8)
            outb(port, (uint8_t)v);
        else if (w == 16)
            outw(port, (uint16_t)v);
        else
            outl(port, (uint32_t)v);
        return true;
    }
    if (g->space_id == ACPI_GAS_MEMORY) {
        volatile void *p = (volatile void *)(uintptr_t)g->address;
        if (w == 8)
            *(volatile uint8_t *)p = (uint8_t)v;
        else if (w == 16)
            *(volatile uint16_t *)p = (uint16_t)v;
        else if (w == 32)
            *(volatile uint32_t *)p = (uint32_t)v;
        else
            *(volatile uint64_t *)p = v;
        return true;
    }
    if (g->space_id == ACPI_GAS_PCI_CONFIG && w == 8) {
        outl(0xcf8, pci_config_address(g->address));
        outb((uint16_t)(0xcfc + (g->address & 3)), (uint8_t)v);
        return true;
    }
    return false;
}

/* Firmware may leave the machine in legacy mode: ACPI_ENABLE through SMI_CMD hands the PM
 * registers to us (ACPI 4.8.2.1 / 16.3.1). Waits up to 3 s for SCI_EN. */
static void acpi_enable_mode(const struct acpi_info *a)
{
    uint64_t v;
    if (!gas_read(&a->pm1a_cnt, 16, &v) || (v & PM1_SCI_EN))
        return;
    if (a->smi_cmd == 0 || a->acpi_enable == 0)
        return;
    outb((uint16_t)a->smi_cmd, a->acpi_enable);
    for (unsigned i = 0; i < 3000; i++) {
        if (gas_read(&a->pm1a_cnt, 16, &v) && (v & PM1_SCI_EN))
            return;
        x86_delay_us(1000);
    }
}

static void acpi_power_off(const struct acpi_info *a)
{
    if (a->fadt_flags & ACPI_FADT_HW_REDUCED) {
        if (a->has_s5 && gas_write(&a->sleep_control, 8,
                                   (uint64_t)(a->s5_slp_typ_a & 7) << 2 | SLEEP_CONTROL_SLP_EN))
            x86_delay_us(100000);
        return;
    }
    if (!a->has_s5) {
        kprintf("tessera: no \\_S5 sleep type in the DSDT: cannot power off through ACPI\n");
        return;
    }
    acpi_enable_mode(a);
    uint64_t v = 0;
    if (!gas_read(&a->pm1a_cnt, 16, &v))
        return;
    v = (v & ~(uint64_t)PM1_SLP_TYP_MASK) | (uint64_t)(a->s5_slp_typ_a & 7) << PM1_SLP_TYP_SHIFT;
    uint64_t vb = 0;
    bool have_b = gas_read(&a->pm1b_cnt, 16, &vb);
    if (have_b) {
        vb = (vb & ~(uint64_t)PM1_SLP_TYP_MASK) |
             (uint64_t)(a->s5_slp_typ_b & 7) << PM1_SLP_TYP_SHIFT;
        /* Both registers get SLP_TYP first, then SLP_EN: the sleep starts on the SLP_EN write. */
        gas_write(&a->pm1b_cnt, 16, vb);
    }
    gas_write(&a->pm1a_cnt, 16, v);
    if (have_b)
        gas_write(&a->pm1b_cnt, 16, vb | PM1_SLP_EN);
    gas_write(&a->pm1a_cnt, 16, v | PM1_SLP_EN);
    x86_delay_us(100000);
}

static void acpi_reset(const struct acpi_info *a)
{
    if (!a->reset_supported)
        return;
    if (gas_write(&a->reset_reg, 8, a->reset_value))
        x86_delay_us(100000);
}

void arch_poweroff(bool ok, bool exit_qemu, const struct acpi_info *acpi)
{
    __asm__ volatile("cli");
    uart_drain();
    if (exit_qemu) {
        /* QEMU exits with (value << 1) | 1: 33 for ok, 35 for failure. */
        outb(QEMU_EXIT_PORT, ok ? 0x10 : 0x11);
        kprintf("tessera: exit=qemu, but no isa-debug-exit device at port 0xf4; powering off\n");
    }
    if (acpi && acpi->has_fadt) {
        acpi_power_off(acpi);
        kprintf("tessera: ACPI power-off did not take effect; resetting\n");
        uart_drain();
        acpi_reset(acpi);
    } else {
        kprintf("tessera: no ACPI FADT: cannot power off; resetting\n");
    }
    uart_drain();
    outb(0xcf9, 0x02); /* PCI reset control: hard reset (bit 1) asserted by the 0->1 of bit 2 */
    x86_delay_us(10);
    outb(0xcf9, 0x06);
    x86_delay_us(100000);
    kprintf("tessera: could not power off or reset: halted, the machine can be switched off\n");
    uart_drain();
    arch_halt_forever();
}

void arch_reboot(void)
{
    __asm__ volatile("cli");
    uart_drain();
    if (end_acpi && end_acpi->has_fadt)
        acpi_reset(end_acpi);
    outb(0xcf9, 0x02); /* PCI reset control, as in arch_poweroff */
    x86_delay_us(10);
    outb(0xcf9, 0x06);
    x86_delay_us(100000);
    outb(0x64, 0xfe); /* the keyboard controller's reset pulse: the oldest way */
    x86_delay_us(100000);
    kprintf("tessera: could not reset: halted, the machine can be switched off\n");
    uart_drain();
    arch_halt_forever();
}
