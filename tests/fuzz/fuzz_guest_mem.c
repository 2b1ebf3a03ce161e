/* FUZZ-SOURCES: kernel/mm/guest_mem.c */
/* libFuzzer harness for guest_mem_range. Input: host_base, size, gpa, len as four little-endian
 * u64 (missing bytes are 0). Checks the answer against 128-bit arithmetic, then, with a real
 * buffer of (size % 4096) bytes, touches every byte the returned pointer covers (ASan sees any
 * byte outside the buffer). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <tessera/guest_mem.h>

#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = { data, size, 0 };
    uint64_t host_base = take(&in, 8), ram = take(&in, 8);
    uint64_t gpa = take(&in, 8), len = take(&in, 8);

    const struct vcpu_memory mem = { host_base, ram };
    void *p = guest_mem_range(&mem, gpa, len);
    unsigned __int128 end = (unsigned __int128)gpa + len;
    unsigned __int128 host_end = (unsigned __int128)host_base + ram;
    int want = host_base != 0 && len > 0 && end <= ram && host_end <= ((unsigned __int128)1 << 64);
    if ((p != NULL) != want)
        abort();
    if (p && (uint64_t)(uintptr_t)p != host_base + gpa)
        abort();

    /* the same range over a real, small buffer */
    uint64_t small = ram % 4096;
    uint8_t *buf = malloc(small ? small : 1);
    if (!buf)
        return 0;
    const struct vcpu_memory real = { (uint64_t)(uintptr_t)buf, small };
    uint8_t *q = guest_mem_range(&real, gpa, len);
    if (q)
        memset(q, 0xa5, len);
    free(buf);
    return 0;
}
