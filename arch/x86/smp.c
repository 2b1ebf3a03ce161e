/* Starting the other CPUs (INIT-SIPI-SIPI, SDM Vol. 3A 9.4.4 and 11.6) and per-CPU data. CPU
 * index 0 is the boot CPU; the others are numbered in MADT order. */
#include <tessera/acpi.h>
#include <tessera/arch.h>
#include <tessera/mm.h>
#include <tessera/printf.h>
#include <tessera/string.h>
#include <x86/cpu.h>
#include <x86/desc.h>
#include <x86/lapic.h>
#include <x86/timer.h>
#include <x86/paging.h>
#include <x86/percpu.h>

#define AP_STACK_SIZE (32 * 1024)
#define ICR_INIT 0x00004500u    /* INIT, level assert */
#define ICR_STARTUP 0x00004600u /* start-up IPI; low byte = vector (page number) */
#define LOW_MEMORY_END 0x9f000u /* stay below the EBDA */

struct ap_params { /* ap_trampoline_params in ap_trampoline.asm */
    uint64_t cr3, stack, entry;
    uint32_t cr0, cr4, efer, cpu;
} __attribute__((packed));

extern const char ap_trampoline[], ap_trampoline_end[], ap_trampoline_params[];

static struct x86_percpu percpu[X86_MAX_CPUS];
static volatile int cpu_online[X86_MAX_CPUS];
static void (*ap_main_fn)(unsigned cpu);

void x86_percpu_init(unsigned index, uint32_t apic_id)
{
    struct x86_percpu *p = &percpu[index];
    p->self = p;
    p->index = index;
    p->apic_id = apic_id;
    wrmsr(MSR_IA32_GS_BASE, (uint64_t)(uintptr_t)p);
}

unsigned arch_cpu_index(void) { return x86_cpu_index(); }

uint32_t x86_cpu_apic_id(unsigned cpu) { return percpu[cpu].apic_id; }

bool arch_cpu_online(unsigned cpu)
{
    return cpu < X86_MAX_CPUS && __atomic_load_n(&cpu_online[cpu], __ATOMIC_ACQUIRE);
}

static void ap_entry(unsigned cpu) __attribute__((noreturn));
static void ap_entry(unsigned cpu)
{
    x86_cpu_tables_init(cpu);
    x86_cpu_control_init();
    x86_pat_init_this_cpu();
    lapic_init(lapic_base());
    x86_percpu_init(cpu, lapic_id());
    __atomic_store_n(&cpu_online[cpu], 1, __ATOMIC_RELEASE);
    ap_main_fn(cpu);
    arch_halt_forever();
}

/* A usable page below 1 MiB (the SIPI vector is a page number) that holds none of our files. */
static uint64_t find_trampoline_page(const struct boot_info *bi)
{
    for (unsigned i = 0; i < bi->mem_region_count; i++) {
        const struct boot_mem_region *r = &bi->mem[i];
        if (r->type != BOOT_MEM_USABLE)
            continue;
        uint64_t page = (r->base + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
        if (page < PAGE_SIZE)
            page = PAGE_SIZE; /* keep the real-mode IVT page alone */
        for (; page + PAGE_SIZE <= r->base + r->length && page + PAGE_SIZE <= LOW_MEMORY_END;
             page += PAGE_SIZE) {
            bool used = false;
            for (unsigned m = 0; m < bi->module_count; m++)
                if (page < bi->modules[m].addr + bi->modules[m].size &&
                    bi->modules[m].addr < page + PAGE_SIZE)
                    used = true;
            if (!used)
                return page;
        }
    }
    return 0;
}

static bool start_one(uint32_t apic_id, unsigned index, uint64_t page, struct ap_params *params)
{
    uint64_t stack;
    if (phys_alloc_zeroed(AP_STACK_SIZE, PAGE_SIZE, &stack) != 0) {
        kprintf("tessera: cpu %u (APIC id %u): no memory for its stack\n", index, apic_id);
        return false;
    }
    params->cpu = index;
    params->stack = stack + AP_STACK_SIZE;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    lapic_write(LAPIC_REG_ESR, 0);
    lapic_send_ipi(apic_id, ICR_INIT);
    x86_delay_us(10000);
    for (unsigned attempt = 0; attempt < 2 && !arch_cpu_online(index); attempt++) {
        lapic_send_ipi(apic_id, ICR_STARTUP | (uint32_t)(page >> 12));
        x86_delay_us(attempt == 0 ? 200 : 100000);
    }
    for (unsigned i = 0; i < 100 && !arch_cpu_online(index); i++)
        x86_delay_us(1000);
    return arch_cpu_online(index);
}

unsigned arch_start_cpus(const struct acpi_info *acpi, const struct boot_info *bi,
                         void (*ap_main)(unsigned cpu))
{
    uint32_t bsp_id = lapic_present() ? lapic_id() : 0;
    x86_percpu_init(0, bsp_id);
    __atomic_store_n(&cpu_online[0], 1, __ATOMIC_RELEASE);
    if (!acpi || !acpi->has_madt || acpi->cpu_count < 2 || !lapic_present())
        return 1;
    uint64_t page = find_trampoline_page(bi);
    uint64_t cr3 = read_cr3();
    if (!page || cr3 >= (1ull << 32)) {
        kprintf("tessera: cannot start the other CPUs (%s); running on CPU 0 only\n",
                page ? "page tables above 4 GiB" : "no free page below 1 MiB for start-up code");
        return 1;
    }
    memcpy(phys_to_virt(page), ap_trampoline, (size_t)(ap_trampoline_end - ap_trampoline));
    struct ap_params *params =
        phys_to_virt(page + (uint64_t)(ap_trampoline_params - ap_trampoline));
    params->cr3 = cr3;
    params->cr0 = (uint32_t)read_cr0();
    params->cr4 = (uint32_t)(read_cr4() & (CR4_PAE | CR4_PGE | CR4_LA57)); /* LA57 before paging */
    params->efer = (uint32_t)(rdmsr(MSR_IA32_EFER) & (EFER_LME | EFER_NXE));
    params->entry = (uint64_t)(uintptr_t)ap_entry;
    ap_main_fn = ap_main;

    unsigned online = 1;
    for (unsigned i = 0; i < acpi->cpu_count; i++) {
        const struct acpi_cpu *c = &acpi->cpus[i];
        if (!c->enabled || c->apic_id == bsp_id)
            continue;
        if (online >= X86_MAX_CPUS) {
            kprintf("tessera: cpu with APIC id %u not started: at most %u CPUs are supported\n",
                    c->apic_id, X86_MAX_CPUS);
            continue;
        }
        if (!start_one(c->apic_id, online, page, params)) {
            /* A late starter would share the next CPU's stack: start no more. */
            kprintf("tessera: cpu %u (APIC id %u) did not start; not starting any more CPUs\n",
                    online, c->apic_id);
            break;
        }
        kprintf("tessera: cpu %u (APIC id %u) started\n", online, c->apic_id);
        online++;
    }
    return online;
}
