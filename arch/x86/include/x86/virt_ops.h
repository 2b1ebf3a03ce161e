/* The seam between arch/x86/virt.c (the vendor-neutral vCPU interface of tessera/vcpu.h) and the
 * two backends, arch/x86/vmx/ and arch/x86/svm/: one table of operations per backend, chosen once
 * at boot from CPUID, and the per-VM arch object both share. Only arch/x86/ includes this. */
#ifndef X86_VIRT_OPS_H
#define X86_VIRT_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <tessera/vcpu.h>
#include <x86/slat.h>

/* What belongs to a VM rather than to one of its vCPUs: the second-level page tables (EPT or
 * NPT), the I/O permission map (one bit per port, 1 = intercept: the layout of VMX's bitmaps A
 * and B and of SVM's IOPM alike) and the MSR permission map (vendor format), and the tag its
 * translations carry (VPID or ASID). */
struct x86_vm {
    struct slat slat;
    struct vcpu_memory mem;
    uint64_t io_map_phys;
    uint64_t msr_map_phys;
    uint16_t tag; /* non-zero: VPID (VMX) or ASID (SVM); 0 is the host's */
};

struct virt_ops {
    const char *name; /* "VT-x", "AMD-V" */
    enum slat_format slat_format;
    unsigned io_map_pages, msr_map_pages;
    /* Clears the intercept bits of the MSRs every guest reads and writes directly. */
    void (*msr_map_init)(uint8_t *map);
    bool (*report)(void);
    int (*cpu_enable)(char *why, size_t why_len);
    int (*vcpu_create)(struct vcpu *v, struct x86_vm *vm, char *why, size_t why_len);
    int (*vcpu_reset)(struct vcpu *v, const struct guest_boot_state *s, char *why, size_t why_len);
    void (*vcpu_run)(struct vcpu *v, uint64_t deadline, struct vcpu_exit *exit);
    void (*vcpu_complete_io)(struct vcpu *v, uint32_t value);
    void (*vcpu_skip_instruction)(struct vcpu *v);
    uint64_t (*vcpu_get_reg)(struct vcpu *v, enum vcpu_reg reg);
    void (*vcpu_set_reg)(struct vcpu *v, enum vcpu_reg reg, uint64_t value);
    void (*vcpu_hypercall_args)(struct vcpu *v, struct vcpu_hypercall *hc);
    void (*vcpu_hypercall_return)(struct vcpu *v, const struct vcpu_hypercall *hc, uint64_t ret);
    void (*vcpu_dump)(struct vcpu *v, const char *prefix);
    void (*vcpu_destroy)(struct vcpu *v);
    void (*vcpu_test_corrupt_state)(struct vcpu *v);
    void (*vcpu_unload)(struct vcpu *v);
    int (*vcpu_adopt)(struct vcpu *v, char *why, size_t why_len);
};

extern const struct virt_ops vmx_ops;
extern const struct virt_ops svm_ops;

/* Ends exit as VCPU_EXIT_FAULT with a one-line reason. */
void x86_exit_fault(struct vcpu_exit *exit, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Clears the intercept bits of ports first..last in an I/O permission map. */
void x86_io_map_allow(uint8_t *map, uint16_t first, uint16_t last);

#endif
