/* kernel_main: the generic kernel, entered once by either boot path with one boot-info block.
 * Brings up the machine, prints the boot summary, builds the VMs from the config and runs them,
 * then ends the run (ACPI power-off, or the emulator's exit port with exit=qemu). */
#include <drivers/fbcon.h>
#include <drivers/uart16550.h>
#include <tessera/acpi.h>
#include <tessera/arch.h>
#include <tessera/boot_info.h>
#include <tessera/cmdline.h>
#include <tessera/config.h>
#include <tessera/console.h>
#include <tessera/image.h>
#include <tessera/kernel.h>
#include <tessera/mm.h>
#include <tessera/monitor.h>
#include <tessera/printf.h>
#include <tessera/string.h>
#include <tessera/vcpu.h>
#include <tessera/vm.h>

#define CONFIG_FILE_NAME "tessera.cfg"
#define MIN_USABLE_MEMORY (8ull << 20) /* the hypervisor's own tables plus one small guest */

extern char __kernel_start[], __kernel_end[];

static void serial_sink_write(const char *s, size_t n) { uart_write(s, n); }
static struct console_sink serial_sink = { .name = "serial", .write = serial_sink_write,
                                            .try_write = uart_try_write };

static struct acpi_info acpi;
static struct config config;
static struct port_reservation acpi_ports[ACPI_MAX_PM_PORT_RANGES];

/* The ACPI power-management ports: a VM owning one could power off, reset or hang the machine. */
static unsigned acpi_port_reservations(void)
{
    struct acpi_port_range ranges[ACPI_MAX_PM_PORT_RANGES];
    unsigned n = acpi_pm_ports(&acpi, ranges, ACPI_MAX_PM_PORT_RANGES);
    for (unsigned i = 0; i < n; i++)
        acpi_ports[i] = (struct port_reservation){ ranges[i].first, ranges[i].last,
                                                   ranges[i].owner };
    return n;
}

static const char *mem_type_name(uint32_t type)
{
    static const char *const names[] = {
        [BOOT_MEM_USABLE] = "usable", [BOOT_MEM_RESERVED] = "reserved",
        [BOOT_MEM_ACPI_RECLAIM] = "ACPI tables", [BOOT_MEM_ACPI_NVS] = "ACPI NVS",
        [BOOT_MEM_BAD] = "bad", [BOOT_MEM_LOADER] = "loader", [BOOT_MEM_FIRMWARE] = "firmware",
        [BOOT_MEM_MMIO] = "MMIO",
    };
    return type < sizeof(names) / sizeof(names[0]) && names[type] ? names[type] : "unknown";
}

static const void *acpi_identity_map(void *ctx, uint64_t phys, uint64_t len)
{
    (void)ctx;
    (void)len;
    return phys_to_virt(phys);
}

static void config_error(void *ctx, const char *file, unsigned line, const char *reason)
{
    (void)ctx;
    kprintf("tessera: config error: %s:%u: %s\n", file, line, reason);
}

static void end_run(bool ok) __attribute__((noreturn));
static void end_run(bool ok)
{
    kprintf("tessera: end status=%s\n", ok ? "ok" : "fail");
    arch_end_run(ok);
}

static void memory_init(const struct boot_info *bi)
{
    struct pmm_range exclude[BOOT_MAX_MODULES + 3];
    unsigned n = 0;
    exclude[n++] = (struct pmm_range){ virt_to_phys(__kernel_start), virt_to_phys(__kernel_end) };
    exclude[n++] = (struct pmm_range){ virt_to_phys(bi), virt_to_phys(bi) + sizeof(*bi) };
    if (bi->fb.type != BOOT_FB_NONE)
        exclude[n++] = (struct pmm_range){ bi->fb.addr,
                                           bi->fb.addr + (uint64_t)bi->fb.pitch * bi->fb.height };
    for (unsigned i = 0; i < bi->module_count; i++)
        exclude[n++] = (struct pmm_range){ bi->modules[i].addr,
                                           bi->modules[i].addr + bi->modules[i].size };
    int err = pmm_init(&kernel_pmm, bi->mem, bi->mem_region_count, exclude, n);
    uint64_t usable = 0;
    unsigned usable_regions = 0;
    for (unsigned i = 0; i < bi->mem_region_count; i++) {
        const struct boot_mem_region *r = &bi->mem[i];
        kprintf("tessera:   mem 0x%012llx-0x%012llx %s\n", (unsigned long long)r->base,
                (unsigned long long)(r->base + r->length), mem_type_name(r->type));
        if (r->type == BOOT_MEM_USABLE) {
            usable += r->length;
            usable_regions++;
        }
    }
    kprintf("tessera: memory: usable=%llu MiB in %u regions, free for the hypervisor and guests "
            "%llu MiB (largest block %llu MiB)\n", (unsigned long long)(usable >> 20),
            usable_regions, (unsigned long long)(pmm_free_bytes(&kernel_pmm) >> 20),
            (unsigned long long)(pmm_largest_free(&kernel_pmm) >> 20));
    if (err || pmm_free_bytes(&kernel_pmm) < MIN_USABLE_MEMORY) {
        kprintf("tessera: not enough memory to run: %llu MiB free after the hypervisor and its "
                "files, at least %llu MiB needed%s\n",
                (unsigned long long)(pmm_free_bytes(&kernel_pmm) >> 20),
                (unsigned long long)(MIN_USABLE_MEMORY >> 20),
                err ? " (the memory map could not be used)" : "");
        end_run(false);
    }
}

static unsigned platform_init(const struct boot_info *bi)
{
    unsigned cpus = 1;
    if (!bi->rsdp) {
        kprintf("tessera: acpi: no RSDP from the boot loader; assuming 1 CPU\n");
    } else if (acpi_parse(bi->rsdp, bi->rsdp_len, acpi_identity_map, NULL, &acpi) != 0 &&
               !acpi.has_madt) {
        kprintf("tessera: acpi: %s; assuming 1 CPU\n", acpi.error);
    } else {
        if (acpi.error[0])
            kprintf("tessera: acpi: %s\n", acpi.error);
        if (acpi.warning[0])
            kprintf("tessera: acpi: warning: %s\n", acpi.warning);
        kprintf("tessera: acpi: RSDP revision %u, OEM \"%s\", %s; MADT %s, FADT %s, S5 %s, HPET %s\n",
                acpi.rsdp_revision, acpi.oem_id, acpi.uses_xsdt ? "XSDT" : "RSDT",
                acpi.has_madt ? "yes" : "no", acpi.has_fadt ? "yes" : "no",
                acpi.has_s5 ? "yes" : "no", acpi.has_hpet ? "yes" : "no");
        if (acpi.has_madt && acpi.cpu_count)
            cpus = acpi.cpu_count;
    }
    char ids[128];
    unsigned n = 0;
    ids[0] = '\0';
    for (unsigned i = 0; i < acpi.cpu_count && n < sizeof(ids) - 12; i++)
        n += ksnprintf(ids + n, sizeof(ids) - n, "%s%u", i ? "," : "", acpi.cpus[i].apic_id);
    kprintf("tessera: cpus=%u (APIC ids: %s)\n", cpus, acpi.cpu_count ? ids : "unknown");
    return cpus;
}

/* No config file: one VM per loaded file that is a guest image, with default settings. */
static void default_config(const struct boot_info *bi)
{
    kprintf("tessera: no %s was loaded: using the built-in default (one VM per guest image, "
            "16 MiB each, CPU 0)\n", CONFIG_FILE_NAME);
    memset(&config, 0, sizeof(config));
    for (unsigned i = 0; i < bi->module_count && config.vm_count < CONFIG_MAX_VMS; i++) {
        const struct boot_module *m = &bi->modules[i];
        struct image_info info;
        char why[8];
        if (image_probe(phys_to_virt(m->addr), m->size, &info, why, sizeof(why)) != 0)
            continue;
        struct vm_config *c = &config.vms[config.vm_count++];
        config_default_vm(c);
        str_copy(c->image, m->name, sizeof(c->image));
        unsigned j = 0;
        for (; m->name[j] && m->name[j] != '.' && j < sizeof(c->name) - 1; j++)
            c->name[j] = config_is_name_char(m->name[j]) ? m->name[j] : '_';
        c->name[j] = '\0';
        c->line = 0;
    }
}

static void config_load(const struct boot_info *bi)
{
    for (unsigned i = 0; i < bi->module_count; i++) {
        const struct boot_module *m = &bi->modules[i];
        if (strcmp(m->name, CONFIG_FILE_NAME) != 0)
            continue;
        kprintf("tessera: config: %s (%llu bytes)\n", m->name, (unsigned long long)m->size);
        config_parse(phys_to_virt(m->addr), m->size, m->name, &config, config_error, NULL);
        kprintf("tessera: config: %u VMs accepted, %u errors\n", config.vm_count,
                config.error_count);
        return;
    }
    default_config(bi);
}

void kernel_main(struct boot_info *bi)
{
    hypercall_set_boot_time(arch_now());
    if (uart_init(0x3f8))
        console_register(&serial_sink);
    kprintf("\ntessera: Tessera hypervisor starting\n");
    if (bi->magic != BOOT_INFO_MAGIC || bi->version != BOOT_INFO_VERSION) {
        kprintf("tessera: boot info is invalid (magic 0x%llx version %u): loader mismatch\n",
                (unsigned long long)bi->magic, bi->version);
        arch_halt_forever();
    }
    bool exit_qemu = false;
    char value[32];
    if (cmdline_get(bi->cmdline, "exit", value, sizeof(value)) >= 0 && strcmp(value, "qemu") == 0)
        exit_qemu = true;
    arch_set_poweroff_info(exit_qemu, NULL); /* the fault handler needs the exit mode */
    arch_cpu_init();

    kprintf("tessera: boot path=%s firmware=%s loader=\"%s\"\n",
            bi->path == BOOT_PATH_UEFI ? "UEFI" : "Multiboot2",
            bi->firmware == BOOT_FIRMWARE_UEFI ? "UEFI" : "BIOS", bi->loader_name);
    kprintf("tessera: cmdline=\"%s\"\n", bi->cmdline);
    for (unsigned i = 0; i < bi->module_count; i++)
        kprintf("tessera: file %s: %llu bytes at 0x%llx\n", bi->modules[i].name,
                (unsigned long long)bi->modules[i].size, (unsigned long long)bi->modules[i].addr);

    memory_init(bi);
    if (arch_paging_init(bi, &kernel_pmm) != 0) {
        kprintf("tessera: cannot build the hypervisor's page tables\n");
        end_run(false);
    }
    if (bi->fb.type != BOOT_FB_NONE && fbcon_init(&bi->fb) == 0) {
        console_register(&fbcon_sink);
        kprintf("tessera: screen console: %s %ux%u at 0x%llx\n",
                bi->fb.type == BOOT_FB_RGB ? "framebuffer" : "VGA text", bi->fb.width,
                bi->fb.height, (unsigned long long)bi->fb.addr);
    } else {
        kprintf("tessera: no framebuffer: serial console only\n");
    }

    unsigned cpus = platform_init(bi);
    arch_set_poweroff_info(exit_qemu, &acpi);
    arch_timer_init(&acpi);
    char cpu_name[160];
    arch_cpu_describe(cpu_name, sizeof(cpu_name));
    kprintf("tessera: cpu: %s\n", cpu_name);
    kprintf("tessera: tsc: %llu Hz (%s)\n", (unsigned long long)arch_tsc_hz(), arch_tsc_source());
    unsigned online = arch_start_cpus(acpi.has_madt ? &acpi : NULL, bi, vmm_ap_main);
    kprintf("tessera: cpus online: %u of %u\n", online, cpus);

    arch_mitigations_init(bi->cmdline);
    bool can_run = virt_report();
    char why[200];
    if (can_run && virt_cpu_enable(why, sizeof(why)) != 0) {
        kprintf("tessera: %s: cannot enable: %s\n", virt_name(), why);
        can_run = false;
    }
    /* After the backend is on (where it can be): the dump is taken in VMX root operation or with
     * EFER.SVME set, the state the hypervisor's own faults happen in. */
    if (cmdline_get(bi->cmdline, "test_fault", value, sizeof(value)) >= 0) {
        kprintf("tessera: test_fault=%s: faulting on purpose\n", value);
        arch_trigger_fault(value);
    }
    config_load(bi);
    vm_config_check_files(&config, bi);
    if (!can_run) {
        kprintf("tessera: no guest can run on this machine (see the %s lines above); %u configured "
                "VMs not started\n", virt_name(), config.vm_count);
        end_run(true);
    }
    kprintf("tessera: %s enabled on CPU 0\n", virt_name());
    vm_reserve_ports(acpi_ports, acpi_port_reservations());
    vm_create_all(&config, bi, cpus);
    if (cmdline_get(bi->cmdline, "test_corrupt_vm", value, sizeof(value)) >= 0) {
        for (unsigned i = 0; i < vm_count(); i++)
            if (strcmp(vm_get(i)->cfg.name, value) == 0) {
                kprintf("tessera: test_corrupt_vm=%s: breaking its guest state on purpose\n", value);
                vcpu_test_corrupt_state(&vm_get(i)->vcpu);
            }
    }
    uint64_t quantum_us = 10000;
    cmdline_get_u64(bi->cmdline, "quantum_us", &quantum_us);
    uint64_t quantum = arch_tsc_hz() / 1000000 * quantum_us;
    if (quantum < 10000)
        quantum = 10000;
    /* end=poweroff: power off when every VM has ended (tests, benchmarks); otherwise the monitor
     * stays at the console with the summary shown until its poweroff or reboot command */
    bool end_poweroff = cmdline_get(bi->cmdline, "end", value, sizeof(value)) >= 0 &&
                        strcmp(value, "poweroff") == 0;
    monitor_start(!end_poweroff);
    bool all_ok = vmm_run(quantum, !end_poweroff);
    arch_mitigations_report();
    kprintf("tessera: all VMs ended (%s)\n", all_ok ? "every VM exited with status 0"
                                                   : "some VMs failed or exited non-zero");
    end_run(true);
}
