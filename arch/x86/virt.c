/* The vendor-neutral vCPU interface (tessera/vcpu.h), dispatched through the operations of the
 * backend this CPU has (x86/virt_ops.h): VT-x (arch/x86/vmx/) or AMD-V (arch/x86/svm/), chosen
 * once, at boot, from CPUID. The per-VM arch object (second-level tables, permission maps) is
 * built here, in the backend's formats. */
#include <stdarg.h>
#include <tessera/errno.h>
#include <tessera/mm.h>
#include <tessera/printf.h>
#include <tessera/string.h>
#include <tessera/vcpu.h>
#include <x86/cpu.h>
#include <x86/virt_ops.h>

const char *const vcpu_stat_names[VCPU_STAT_COUNT] = {
    [VCPU_STAT_CPUID] = "cpuid", [VCPU_STAT_IO] = "io", [VCPU_STAT_HYPERCALL] = "vmcall",
    [VCPU_STAT_HLT] = "hlt", [VCPU_STAT_PREEMPT] = "preempt", [VCPU_STAT_CR] = "cr",
    [VCPU_STAT_MSR] = "msr", [VCPU_STAT_EXCEPTION] = "exception", [VCPU_STAT_NPF] = "ept",
    [VCPU_STAT_INTR] = "intr", [VCPU_STAT_OTHER] = "other", [VCPU_STAT_IRQ] = "irq",
    [VCPU_STAT_WINDOW] = "irqwin",
};

#define CPUID1_ECX_VMX (1u << 5)
#define CPUIDX1_ECX_SVM (1u << 2)

static const struct virt_ops *ops = &vmx_ops;

/* VT-x where CPUID.1:ECX.VMX says so, else AMD-V where CPUID.80000001h:ECX.SVM does. */
static const struct virt_ops *pick_backend(void)
{
    if (cpuid(1, 0).ecx & CPUID1_ECX_VMX)
        return &vmx_ops;
    if (cpuid_max_ext_leaf() >= 0x80000001u && (cpuid(0x80000001u, 0).ecx & CPUIDX1_ECX_SVM))
        return &svm_ops;
    return NULL;
}

const char *virt_name(void) { return ops ? ops->name : "VT-x/AMD-V"; }

bool virt_report(void)
{
    ops = pick_backend();
    if (!ops) {
        kprintf("tessera: virt: not available: this CPU offers neither VT-x (CPUID.1:ECX.VMX = 0) "
                "nor AMD-V (CPUID.80000001h:ECX.SVM = 0), so no guest can run: no firmware "
                "setting adds them; under another hypervisor, enable nested virtualization\n");
        return false;
    }
    return ops->report();
}

int virt_cpu_enable(char *why, size_t why_len)
{
    if (!ops) {
        ksnprintf(why, why_len, "no virtualization extension");
        return -ENODEV;
    }
    return ops->cpu_enable(why, why_len);
}

void x86_exit_fault(struct vcpu_exit *exit, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(exit->reason, sizeof(exit->reason), fmt, ap);
    va_end(ap);
    exit->kind = VCPU_EXIT_FAULT;
}

void x86_io_map_allow(uint8_t *map, uint16_t first, uint16_t last)
{
    for (uint32_t port = first; port <= last; port++)
        map[port / 8] &= ~(1u << (port % 8));
}

static int slat_page_alloc(void *ctx, uint64_t *phys)
{
    (void)ctx;
    return page_alloc_zeroed(phys);
}

static void *slat_p2v(void *ctx, uint64_t phys)
{
    (void)ctx;
    return phys_to_virt(phys);
}

static void slat_free_table(void *ctx, uint64_t phys)
{
    (void)ctx;
    phys_free(phys, PAGE_SIZE);
}

static void x86_vm_destroy(struct x86_vm *vm)
{
    if (!vm)
        return;
    if (vm->io_map_phys)
        phys_free(vm->io_map_phys, ops->io_map_pages * PAGE_SIZE);
    if (vm->msr_map_phys)
        phys_free(vm->msr_map_phys, ops->msr_map_pages * PAGE_SIZE);
    if (vm->slat.pml4_phys)
        slat_for_each_table(&vm->slat, slat_free_table, NULL);
    phys_free(virt_to_phys(vm), PAGE_SIZE);
}

static int x86_vm_create(struct x86_vm **out, unsigned tag, const struct vcpu_memory *mem,
                         const struct vcpu_port_range *ports, unsigned port_count)
{
    uint64_t phys;
    if (sizeof(struct x86_vm) > PAGE_SIZE || page_alloc_zeroed(&phys))
        return -ENOMEM;
    struct x86_vm *vm = phys_to_virt(phys);
    vm->mem = *mem;
    vm->tag = (uint16_t)tag;
    int err = phys_alloc_zeroed(ops->io_map_pages * PAGE_SIZE, PAGE_SIZE, &vm->io_map_phys);
    if (!err)
        err = phys_alloc_zeroed(ops->msr_map_pages * PAGE_SIZE, PAGE_SIZE, &vm->msr_map_phys);
    if (!err)
        err = slat_init(&vm->slat, ops->slat_format, slat_page_alloc, slat_p2v, NULL);
    if (!err) /* the VM's RAM and nothing else (SDM 29.3, APM 15.25) */
        err = slat_map(&vm->slat, 0, mem->host_base, mem->size, SLAT_READ | SLAT_WRITE | SLAT_EXEC);
    if (err) {
        x86_vm_destroy(vm);
        return err;
    }
    uint8_t *io = phys_to_virt(vm->io_map_phys);
    memset(io, 0xff, ops->io_map_pages * PAGE_SIZE); /* every port exits unless the VM owns it */
    for (unsigned i = 0; i < port_count; i++)
        x86_io_map_allow(io, ports[i].first, ports[i].last);
    uint8_t *msr = phys_to_virt(vm->msr_map_phys);
    memset(msr, 0xff, ops->msr_map_pages * PAGE_SIZE); /* every MSR exits unless listed */
    ops->msr_map_init(msr);
    *out = vm;
    return 0;
}

int vcpu_create(struct vcpu *v, struct vm *vm, unsigned id, const struct vcpu_memory *mem,
                const struct vcpu_port_range *ports, unsigned port_count, char *why, size_t why_len)
{
    v->vm = vm;
    v->id = id;
    v->backend = NULL;
    v->arch_vm = NULL;
    for (unsigned i = 0; i < VCPU_STAT_COUNT; i++)
        v->stats[i] = 0;
    if (id == 0 || id > 0xffff) {
        ksnprintf(why, why_len, "vCPU id %u out of range", id);
        return -EINVAL;
    }
    struct x86_vm *xvm;
    int err = x86_vm_create(&xvm, id, mem, ports, port_count);
    if (err) {
        ksnprintf(why, why_len, "cannot set up the VM's %s structures (error %d)", ops->name, err);
        return err;
    }
    v->arch_vm = xvm;
    err = ops->vcpu_create(v, xvm, why, why_len);
    if (err) {
        x86_vm_destroy(xvm);
        v->arch_vm = NULL;
    }
    return err;
}

void vcpu_destroy(struct vcpu *v)
{
    ops->vcpu_destroy(v);
    x86_vm_destroy(v->arch_vm);
    v->arch_vm = NULL;
}

int vcpu_reset(struct vcpu *v, const struct guest_boot_state *s, char *why, size_t why_len)
{
    return ops->vcpu_reset(v, s, why, why_len);
}

void vcpu_run(struct vcpu *v, uint64_t deadline, struct vcpu_exit *exit)
{
    ops->vcpu_run(v, deadline, exit);
}

void vcpu_complete_io(struct vcpu *v, uint32_t value) { ops->vcpu_complete_io(v, value); }
void vcpu_skip_instruction(struct vcpu *v) { ops->vcpu_skip_instruction(v); }
uint64_t vcpu_get_reg(struct vcpu *v, enum vcpu_reg reg) { return ops->vcpu_get_reg(v, reg); }
void vcpu_set_reg(struct vcpu *v, enum vcpu_reg reg, uint64_t value) { ops->vcpu_set_reg(v, reg, value); }
void vcpu_hypercall_args(struct vcpu *v, struct vcpu_hypercall *hc) { ops->vcpu_hypercall_args(v, hc); }
void vcpu_hypercall_return(struct vcpu *v, const struct vcpu_hypercall *hc, uint64_t ret)
{
    ops->vcpu_hypercall_return(v, hc, ret);
}
void vcpu_dump(struct vcpu *v, const char *prefix) { ops->vcpu_dump(v, prefix); }
void vcpu_test_corrupt_state(struct vcpu *v) { ops->vcpu_test_corrupt_state(v); }
void vcpu_unload(struct vcpu *v) { ops->vcpu_unload(v); }
int vcpu_adopt(struct vcpu *v, char *why, size_t why_len) { return ops->vcpu_adopt(v, why, why_len); }
