/* What lib/start64.c hands an ELF64 guest. */
#ifndef GUEST_START64_H
#define GUEST_START64_H

#include <stdint.h>
#include <tessera/hypercall_abi.h>

/* The guest's own main; info is NULL when RDI did not point at a valid start block. The return
 * value is written to port 0xf4 as the exit status. */
int guest_main(const struct tessera_start_info *info);

extern uint64_t guest_mem_size; /* 0 when unknown */

#endif
