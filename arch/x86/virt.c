/* The vendor-neutral vCPU interface (tessera/vcpu.h), dispatched to the backend this CPU has.
 * Only VMX exists today; an SVM backend adds a second table and a CPUID check here. */
#include <tessera/errno.h>
#include <tessera/printf.h>
#include <tessera/vcpu.h>

#include "vmx/vmx.h"

const char *const vcpu_stat_names[VCPU_STAT_COUNT] = {
    [VCPU_STAT_CPUID] = "cpuid", [VCPU_STAT_IO] = "io", [VCPU_STAT_HYPERCALL] = "vmcall",
    [VCPU_STAT_HLT] = "hlt", [VCPU_STAT_PREEMPT] = "preempt", [VCPU_STAT_CR] = "cr",
    [VCPU_STAT_MSR] = "msr", [VCPU_STAT_EXCEPTION] = "exception", [VCPU_STAT_NPF] = "ept",
    [VCPU_STAT_INTR] = "intr", [VCPU_STAT_OTHER] = "other", [VCPU_STAT_IRQ] = "irq",
    [VCPU_STAT_WINDOW] = "irqwin",
};

const char *virt_name(void) { return "VT-x"; }
bool virt_report(void) { return vmx_report(); }
int virt_cpu_enable(char *why, size_t why_len) { return vmx_cpu_enable(why, why_len); }

int vcpu_create(struct vcpu *v, struct vm *vm, unsigned id, const struct vcpu_memory *mem,
                const struct vcpu_port_range *ports, unsigned port_count, char *why, size_t why_len)
{
    v->vm = vm;
    v->id = id;
    v->backend = NULL;
    for (unsigned i = 0; i < VCPU_STAT_COUNT; i++)
        v->stats[i] = 0;
    if (id == 0 || id > 0xffff) {
        ksnprintf(why, why_len, "vCPU id %u out of range", id);
        return -EINVAL;
    }
    return vmx_vcpu_create(v, mem, ports, port_count, why, why_len);
}

int vcpu_reset(struct vcpu *v, const struct guest_boot_state *s, char *why, size_t why_len)
{
    return vmx_vcpu_reset(v, s, why, why_len);
}

void vcpu_run(struct vcpu *v, uint64_t deadline, struct vcpu_exit *exit)
{
    vmx_vcpu_run(v, deadline, exit);
}

void vcpu_complete_io(struct vcpu *v, uint32_t value) { vmx_vcpu_complete_io(v, value); }
void vcpu_complete_mmio(struct vcpu *v, uint64_t value) { vmx_vcpu_complete_mmio(v, value); }
void vcpu_complete_msr(struct vcpu *v, bool ok, uint64_t value) { vmx_vcpu_complete_msr(v, ok, value); }
void vcpu_set_guest_cpu(struct vcpu *v, const struct vcpu_guest_cpu *cpu) { vmx_vcpu_set_guest_cpu(v, cpu); }
void vcpu_skip_instruction(struct vcpu *v) { vmx_vcpu_skip_instruction(v); }
uint64_t vcpu_get_reg(struct vcpu *v, enum vcpu_reg reg) { return vmx_vcpu_get_reg(v, reg); }
void vcpu_set_reg(struct vcpu *v, enum vcpu_reg reg, uint64_t value) { vmx_vcpu_set_reg(v, reg, value); }
void vcpu_hypercall_args(struct vcpu *v, struct vcpu_hypercall *hc) { vmx_vcpu_hypercall_args(v, hc); }
void vcpu_hypercall_return(struct vcpu *v, const struct vcpu_hypercall *hc, uint64_t ret)
{
    vmx_vcpu_hypercall_return(v, hc, ret);
}
void vcpu_dump(struct vcpu *v, const char *prefix) { vmx_vcpu_dump(v, prefix); }
void vcpu_destroy(struct vcpu *v) { vmx_vcpu_destroy(v); }
void vcpu_test_corrupt_state(struct vcpu *v) { vmx_vcpu_test_corrupt_state(v); }
void vcpu_unload(struct vcpu *v) { vmx_vcpu_unload(v); }
int vcpu_adopt(struct vcpu *v, char *why, size_t why_len) { return vmx_vcpu_adopt(v, why, why_len); }
