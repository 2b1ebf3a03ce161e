/* Time: the local APIC brought to a defined state, the legacy PICs masked, and the TSC frequency,
 * from CPUID 0x15 (crystal ratio; crystal from 0x15 ECX or 0x16 base frequency) where the CPU
 * reports it, else measured against PIT channel 2 (median of several rounds). The PIT
 * measurement always runs (50 ms) as a cross-check. */
#include <drivers/pit.h>
#include <tessera/acpi.h>
#include <tessera/arch.h>
#include <x86/cpu.h>
#include <x86/lapic.h>
#include <x86/io.h>
#include <x86/timer.h>

#define CALIBRATION_ROUNDS 5
#define CALIBRATION_MS 10

static uint64_t tsc_hz;
static const char *tsc_source = "unknown";

/* CPUID 0x15: TSC = crystal * EBX / EAX (SDM Vol. 3B 18.7.3). When ECX (crystal Hz) is 0, the
 * crystal follows from the processor base frequency in 0x16 EAX (MHz):
 * crystal = base * EAX / EBX. */
static uint64_t tsc_hz_from_cpuid(const char **source)
{
    if (cpuid_max_leaf() < 0x15)
        return 0;
    struct cpuid_regs r = cpuid(0x15, 0);
    if (r.eax == 0 || r.ebx == 0)
        return 0;
    if (r.ecx != 0) {
        *source = "CPUID 0x15";
        return (uint64_t)r.ecx * r.ebx / r.eax;
    }
    if (cpuid_max_leaf() < 0x16)
        return 0;
    uint64_t base_mhz = cpuid(0x16, 0).eax & 0xffff;
    if (base_mhz == 0)
        return 0;
    uint64_t crystal = base_mhz * 1000000ULL * r.eax / r.ebx;
    *source = "CPUID 0x15+0x16";
    return crystal * r.ebx / r.eax;
}

static uint64_t tsc_hz_from_pit(void)
{
    uint64_t v[CALIBRATION_ROUNDS];
    unsigned n = 0;
    for (unsigned i = 0; i < CALIBRATION_ROUNDS; i++) {
        uint64_t d = pit_measure_tsc(CALIBRATION_MS);
        if (d)
            v[n++] = d;
    }
    if (n == 0)
        return 0;
    for (unsigned i = 1; i < n; i++) /* insertion sort: n is tiny */
        for (unsigned j = i; j > 0 && v[j - 1] > v[j]; j--) {
            uint64_t t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return v[n / 2] * (1000 / CALIBRATION_MS);
}

void arch_timer_init(const struct acpi_info *acpi)
{
    /* The 8259s exist unless the MADT says otherwise (MADT flags bit 0, PCAT_COMPAT). */
    if (!acpi || !acpi->has_madt || (acpi->madt_flags & 1))
        pic_disable();
    lapic_init(acpi && acpi->has_madt ? acpi->lapic_address : 0);

    const char *source = "unknown";
    uint64_t hz = tsc_hz_from_cpuid(&source);
    uint64_t measured = tsc_hz_from_pit();
    uint64_t claimed = hz;
    /* Trust CPUID unless the PIT disagrees by more than 5 %: an emulator may report a model's
     * nominal frequency while its TSC runs at another rate (Bochs: one tick per instruction). */
    if (hz == 0 || (measured && (measured > hz + hz / 20 || measured < hz - hz / 20))) {
        hz = measured;
        source = !measured ? "unknown" : claimed ? "PIT calibration (CPUID disagrees)"
                                                      : "PIT calibration";
    }
    tsc_hz = hz;
    tsc_source = source;
}

uint64_t arch_tsc_hz(void)
{
    return tsc_hz;
}

const char *arch_tsc_source(void)
{
    return tsc_source;
}

/* Busy wait. Before the TSC is calibrated, port 0x80 reads (about 1 us each on a PC) pace it. */
void x86_delay_us(uint64_t us)
{
    uint64_t hz = arch_tsc_hz();
    if (hz) {
        uint64_t end = arch_now() + hz / 1000000 * us;
        while (arch_now() < end)
            __builtin_ia32_pause();
    } else {
        for (uint64_t i = 0; i < us; i++)
            (void)inb(0x80);
    }
}
