/* Placeholder until the SVM backend lands: AMD-V is reported and refused. */
#include <tessera/printf.h>
#include <x86/virt_ops.h>

static bool svm_report_stub(void)
{
    kprintf("tessera: svm: present, but this build has no AMD-V backend yet\n");
    return false;
}

const struct virt_ops svm_ops = { .name = "AMD-V", .report = svm_report_stub };
