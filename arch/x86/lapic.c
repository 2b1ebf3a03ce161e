/* Local APIC and the legacy 8259 PICs. The hypervisor polls and runs with interrupts off; the
 * point here is a defined state: APIC enabled (INIT-SIPI and later timer use need it), every
 * local interrupt source masked, the PICs remapped away from the exception vectors and masked. */
#include <x86/cpu.h>
#include <x86/io.h>
#include <x86/lapic.h>

#define APIC_BASE_X2APIC (1ULL << 10)
#define APIC_BASE_ENABLE (1ULL << 11)
#define APIC_BASE_ADDR_MASK 0x000ffffffffff000ULL
#define SVR_ENABLE (1u << 8)
#define ICR_DELIVERY_PENDING (1u << 12)

static uint64_t apic_mmio;
static bool apic_x2;
static bool apic_ok;

bool lapic_present(void) { return apic_ok; }
uint64_t lapic_base(void) { return apic_mmio; }

uint32_t lapic_read(uint32_t reg)
{
    if (apic_x2)
        return (uint32_t)rdmsr(0x800 + (reg >> 4));
    return *(volatile uint32_t *)(uintptr_t)(apic_mmio + reg);
}

void lapic_write(uint32_t reg, uint32_t v)
{
    if (apic_x2)
        wrmsr(0x800 + (reg >> 4), v);
    else
        *(volatile uint32_t *)(uintptr_t)(apic_mmio + reg) = v;
}

uint32_t lapic_id(void)
{
    uint32_t id = lapic_read(LAPIC_REG_ID);
    return apic_x2 ? id : id >> 24;
}

void lapic_eoi(void)
{
    lapic_write(LAPIC_REG_EOI, 0);
}

void lapic_send_ipi(uint32_t apic_id, uint32_t icr_low)
{
    if (apic_x2) {
        /* x2APIC: one 64-bit ICR write, destination in the high half (SDM Vol. 3A 11.12.9). */
        wrmsr(0x830, (uint64_t)apic_id << 32 | icr_low);
        return;
    }
    lapic_write(LAPIC_REG_ICR_HIGH, apic_id << 24);
    lapic_write(LAPIC_REG_ICR_LOW, icr_low);
    for (unsigned i = 0; i < 1000000 && (lapic_read(LAPIC_REG_ICR_LOW) & ICR_DELIVERY_PENDING); i++)
        cpu_relax();
}

uint64_t lapic_msr_base(void)
{
    if (!(cpuid(1, 0).edx & CPUID1_EDX_APIC))
        return 0; /* no local APIC */
    return rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_ADDR_MASK;
}

bool lapic_init(uint64_t mmio_base)
{
    if (!(cpuid(1, 0).edx & CPUID1_EDX_APIC))
        return false;
    uint64_t msr = rdmsr(MSR_IA32_APIC_BASE);
    apic_x2 = (msr & APIC_BASE_X2APIC) != 0;
    if (!(msr & APIC_BASE_ENABLE)) {
        msr |= APIC_BASE_ENABLE;
        wrmsr(MSR_IA32_APIC_BASE, msr);
    }
    uint64_t msr_base = msr & APIC_BASE_ADDR_MASK;
    /* The MSR says where this CPU's APIC really answers; the MADT value is only a hint. */
    apic_mmio = msr_base ? msr_base : mmio_base;
    if (!apic_mmio && !apic_x2)
        return false;

    unsigned max_lvt = (lapic_read(LAPIC_REG_VERSION) >> 16) & 0xff;
    lapic_write(LAPIC_REG_TPR, 0);
    lapic_write(LAPIC_REG_LVT_TIMER, LAPIC_LVT_MASKED);
    lapic_write(LAPIC_REG_LVT_LINT0, LAPIC_LVT_MASKED);
    /* LINT1 as a PC wires it (the MADT's Local APIC NMI entry; SDM Vol. 3A 11.5.1): the NMI
     * button, chipset errors, QEMU's `nmi`. trap.c takes one; a guest's run ends for it (VMX
     * NMI exiting, the SVM NMI intercept). Masked, they were lost without a trace. */
    lapic_write(LAPIC_REG_LVT_LINT1, LAPIC_LVT_DELIVERY_NMI);
    lapic_write(LAPIC_REG_LVT_ERROR, LAPIC_LVT_MASKED);
    if (max_lvt >= 4)
        lapic_write(LAPIC_REG_LVT_PERF, LAPIC_LVT_MASKED);
    if (max_lvt >= 5)
        lapic_write(LAPIC_REG_LVT_THERMAL, LAPIC_LVT_MASKED);
    lapic_write(LAPIC_REG_SVR, SVR_ENABLE | LAPIC_SPURIOUS_VECTOR);
    /* The ESR is cleared by a write before it is read (SDM Vol. 3A 11.5.3). */
    lapic_write(LAPIC_REG_ESR, 0);
    apic_ok = true;
    return true;
}

void pic_disable(void)
{
    /* ICW1-ICW4: edge, cascade, vectors 0x20/0x28 (away from exceptions), 8086 mode. */
    outb(0x20, 0x11);
    outb(0xa0, 0x11);
    outb(0x21, 0x20);
    outb(0xa1, 0x28);
    outb(0x21, 0x04); /* slave on IRQ2 */
    outb(0xa1, 0x02);
    outb(0x21, 0x01);
    outb(0xa1, 0x01);
    outb(0x21, 0xff); /* mask everything */
    outb(0xa1, 0xff);
}
