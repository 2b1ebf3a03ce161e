/* Reading a guest's instruction bytes at a linear address: a small walk of the guest's own page
 * tables (no permission checks: the bytes are only decoded, never executed, and come from the
 * VM's own RAM through guest_mem_range). Pure; host unit tests in tests/unit/test_guest_code.c.
 * Used where the CPU does not decode for us: SVM without decode assists, and the other vendor's
 * hypercall instruction. */
#ifndef X86_GUEST_CODE_H
#define X86_GUEST_CODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <tessera/vcpu.h>

struct x86_paging {
    uint64_t cr0, cr3, cr4, efer;
};

/* Guest-physical address of linear under paging p; false when a table or the address is outside
 * the VM's RAM, or the page is not present. */
bool x86_guest_translate(const struct vcpu_memory *mem, const struct x86_paging *p,
                         uint64_t linear, uint64_t *gpa);
/* Copies len bytes at linear (each byte translated on its own, so a page boundary may fall
 * anywhere); false when any of them cannot be read. */
bool x86_guest_code_bytes(const struct vcpu_memory *mem, const struct x86_paging *p,
                          uint64_t linear, uint8_t *out, size_t len);

#endif
