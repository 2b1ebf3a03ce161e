/* FUZZ-SOURCES: arch/x86/gpt_walk.c kernel/mm/guest_mem.c */
/* libFuzzer harness for the guest page-table walker. Input: CR0, CR3, CR4, EFER, four PDPTEs,
 * CPL/AC/MAXPHYADDR, a linear address and an access (little-endian), then the VM's RAM (up to
 * 64 KiB; RAM is a fresh buffer of exactly that size, so ASan sees any access outside it).
 * CR3 and the entries are folded into RAM's size often enough to make deep walks. Checks: a
 * result is one of the documented ones; the error code's W/U bits match the access; a
 * translation with paging off is the address itself; gpt_read never reports more than asked and
 * what it read matches RAM at the translated address. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <x86/gpt_walk.h>

#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = { data, size, 0 };
    struct gpt_state s;
    memset(&s, 0, sizeof(s));
    s.cr0 = take(&in, 8);
    s.cr3 = take(&in, 8);
    s.cr4 = take(&in, 8);
    s.efer = take(&in, 8);
    for (unsigned i = 0; i < 4; i++)
        s.pdpte[i] = take(&in, 8);
    uint8_t misc = (uint8_t)take(&in, 1);
    s.cpl = misc & 3;
    s.rflags_ac = (misc >> 2) & 1;
    s.maxphyaddr = (unsigned)take(&in, 1);
    uint64_t la = take(&in, 8);
    unsigned access = (unsigned)take(&in, 1) & (GPT_WRITE | GPT_FETCH);
    size_t ram_size = size - in.pos;
    if (ram_size > 65536)
        ram_size = 65536;
    if (ram_size == 0)
        ram_size = 1;
    uint8_t *ram = malloc(ram_size);
    memset(ram, 0, ram_size);
    if (in.pos < size)
        memcpy(ram, data + in.pos, size - in.pos < ram_size ? size - in.pos : ram_size);
    if (misc & 0x80) /* keep CR3 inside RAM */
        s.cr3 %= ram_size;
    struct vcpu_memory mem = { (uint64_t)(uintptr_t)ram, ram_size };

    uint64_t gpa = 0;
    uint32_t pf = 0;
    int err = gpt_translate(&mem, &s, la, access, &gpa, &pf);
    if (err != 0 && err != -EPERM && err != -EFAULT && err != -EINVAL)
        abort();
    if (err == -EPERM) {
        if (!!(pf & GPT_PF_WRITE) != !!(access & GPT_WRITE) ||
            !!(pf & GPT_PF_USER) != (s.cpl == 3) || (pf & ~0x1fu))
            abort();
        if ((pf & GPT_PF_RSVD) && !(pf & GPT_PF_PRESENT))
            abort();
    }
    if (err == 0 && !(s.cr0 & (1ull << 31)) && gpa != (la & 0xffffffffull))
        abort();
    if (err == 0 && (gpa >> 52))
        abort();
    uint8_t buf[20];
    size_t n = gpt_read(&mem, &s, la, access, buf, sizeof(buf));
    if (n > sizeof(buf))
        abort();
    if (n > 0) {
        /* the first byte is RAM's byte at the first translation */
        if (gpt_translate(&mem, &s, (s.efer & (1ull << 10)) ? la : la & 0xffffffffull, access,
                          &gpa, &pf) != 0 || gpa >= ram_size || buf[0] != ram[gpa])
            abort();
    }
    free(ram);
    return 0;
}
