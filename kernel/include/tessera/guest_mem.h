/* A VM's memory as the hypervisor touches it on the VM's behalf: hypercall buffers, PAE
 * page-directory pointers, image loading. Every such read or write takes its pointer from
 * guest_mem_range, the one place that checks a guest-physical range against the VM's RAM. */
#ifndef TESSERA_GUEST_MEM_H
#define TESSERA_GUEST_MEM_H

#include <stdint.h>
#include <tessera/vcpu.h>

/* Host pointer to guest-physical [gpa, gpa + len) of the VM whose RAM mem describes, valid for
 * exactly len bytes; NULL when len is 0, when any byte of the range lies outside [0, mem->size),
 * or when mem itself is unusable (NULL, host_base 0, or a host range that would wrap). No sum that could wrap
 * is ever computed: a range running past 2^64 is simply outside RAM. */
void *guest_mem_range(const struct vcpu_memory *mem, uint64_t gpa, uint64_t len);

#endif
