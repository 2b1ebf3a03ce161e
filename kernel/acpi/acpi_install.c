/* A VM's ACPI tables put into its RAM (see acpi_gen_install in tessera/acpi_gen.h): the region
 * comes from guest_mem_range, the one checked way into a VM's RAM. */
#include <tessera/acpi_gen.h>
#include <tessera/errno.h>
#include <tessera/guest_mem.h>
#include <tessera/printf.h>

int acpi_gen_install(const struct vcpu_memory *ram, const struct acpi_gen_machine *m, uint64_t len,
                     struct acpi_gen_layout *layout, char *why, size_t why_len)
{
    void *buf = guest_mem_range(ram, m->tables_gpa, len);
    if (!buf)
        return kreason(why, why_len, -ENOSPC,
                      "its ACPI tables need RAM at 0x%llx-0x%llx, the VM has 0x%llx bytes",
                      (unsigned long long)m->tables_gpa,
                      (unsigned long long)(m->tables_gpa + len),
                      (unsigned long long)(ram ? ram->size : 0));
    int err = acpi_gen_build(m, buf, len, layout);
    if (err == -ENOSPC)
        return kreason(why, why_len, err, "its ACPI tables need %llu bytes, %llu are set aside",
                      (unsigned long long)layout->size, (unsigned long long)len);
    if (err)
        return kreason(why, why_len, err, "its ACPI tables cannot be built (error %d)", err);
    return 0;
}
