/* What the generic kernel asks of the architecture (arch/x86/ implements it). Generic code
 * includes only this; the x86 details stay behind it. */
#ifndef TESSERA_ARCH_H
#define TESSERA_ARCH_H

#include <stdbool.h>
#include <stdint.h>
#include <tessera/boot_info.h>

struct pmm;
struct acpi_info;

/* GDT, TSS and IDT with exception handlers that dump state and stop. */
void arch_cpu_init(void);
/* The hypervisor's own 4-level page tables: identity map of all memory in the map, the
 * framebuffer and the local APIC. Tables come from pmm. */
int arch_paging_init(const struct boot_info *bi, struct pmm *pmm);
/* Local APIC, TSC frequency (CPUID 0x15/0x16, else PIT calibration). */
void arch_timer_init(const struct acpi_info *acpi);
uint64_t arch_tsc_hz(void);
const char *arch_tsc_source(void); /* "CPUID 0x15", "PIT calibration", ... */
static inline uint64_t arch_now(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}
/* Transient-execution mitigations between VMs: decides them for this CPU (mitigations=off and
 * mitigations_force= on the command line) and prints the decision. Before any guest runs. */
void arch_mitigations_init(const char *cmdline);
/* How often the rare mechanisms ran (IBPBs on VM switches), for the end-of-run summary. */
void arch_mitigations_report(void);
/* The host's time of day, seconds since 1970-01-01 (as its RTC keeps it, UTC or local): its
 * CMOS RTC is read once, at the first call, later calls add the TSC time since. False when the
 * RTC gives no valid date. */
bool arch_wall_clock(uint64_t *seconds);
/* CPU vendor/brand line for the boot summary. */
void arch_cpu_describe(char *buf, unsigned len);
/* Ends the run: ACPI power-off, or with exit_qemu the isa-debug-exit port (status 0x10 ok,
 * 0x11 failure). Never returns. */
void arch_poweroff(bool ok, bool exit_qemu, const struct acpi_info *acpi) __attribute__((noreturn));
/* How the run ends (exit=qemu; the ACPI info, NULL until parsed): used by the fault handler and
 * arch_end_run. Call as soon as the command line is known, and again once ACPI is parsed. */
void arch_set_poweroff_info(bool exit_qemu, const struct acpi_info *acpi);
bool arch_poweroff_exit_qemu(void);
/* arch_poweroff with the recorded exit mode and ACPI info. */
void arch_end_run(bool ok) __attribute__((noreturn));
/* Resets the machine: the FADT reset register, port 0xCF9, the keyboard controller. */
void arch_reboot(void) __attribute__((noreturn));
/* Other CPUs. ARCH_MAX_CPUS bounds the CPU indices; index 0 is the boot CPU. arch_start_cpus
 * sets up per-CPU data on the boot CPU, starts every other enabled CPU of the MADT and calls
 * ap_main(index) on each; returns how many CPUs are online. */
#define ARCH_MAX_CPUS 16
unsigned arch_start_cpus(const struct acpi_info *acpi, const struct boot_info *bi,
                         void (*ap_main)(unsigned cpu));
bool arch_cpu_online(unsigned cpu);
unsigned arch_cpu_index(void);

/* Idle: halts this CPU (it does not spin: nested under another hypervisor, a spinning CPU burns
 * a host core) until the TSC reaches deadline (ARCH_NO_DEADLINE: no timer), arch_wake_cpu
 * names it, or an NMI arrives; it may return earlier. Call with nothing left to do: a wake
 * that comes after the caller's last look is not lost. */
#define ARCH_NO_DEADLINE UINT64_MAX
void arch_idle_until(uint64_t deadline);
/* Ends another CPU's arch_idle_until (an IPI); a CPU not idle takes it as a short interrupt. */
void arch_wake_cpu(unsigned cpu);
/* The TSC ticks this CPU spent halted in arch_idle_until, and how many times it halted. */
void arch_idle_stats(unsigned cpu, uint64_t *ticks, uint64_t *halts);
/* Host NMIs the hypervisor took since boot (none is fatal; they belong to no guest). */
uint64_t arch_host_nmis(void);

/* Deliberately faults inside the hypervisor (test switch): "ud", "pf", "gp", "de", or "df" (a
 * double fault: #UD on an unmapped stack). Returns only for an unknown kind. */
void arch_trigger_fault(const char *kind);
void arch_halt_forever(void) __attribute__((noreturn));

#endif
