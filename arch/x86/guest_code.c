/* Guest linear-to-physical walk (SDM Vol. 3A 4.3-4.5, APM vol. 2 5.2-5.3) for x86/guest_code.h. */
#include <tessera/guest_mem.h>
#include <tessera/string.h>
#include <x86/guest_code.h>

#define CR0_PG (1ull << 31)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_LA57 (1ull << 12)
#define EFER_LMA (1ull << 10)
#define PTE_P 1ull
#define PTE_PS (1ull << 7)
#define ADDR_MASK 0x000ffffffffff000ull

static bool read_entry(const struct vcpu_memory *mem, uint64_t gpa, unsigned size, uint64_t *out)
{
    const void *p = guest_mem_range(mem, gpa, size);
    if (!p)
        return false;
    uint64_t v = 0;
    memcpy(&v, p, size);
    *out = v;
    return true;
}

bool x86_guest_translate(const struct vcpu_memory *mem, const struct x86_paging *p,
                         uint64_t linear, uint64_t *gpa)
{
    if (!(p->cr0 & CR0_PG)) {
        *gpa = (p->efer & EFER_LMA) ? linear : (linear & 0xffffffffull);
        return true;
    }
    uint64_t entry;
    if (!(p->cr4 & CR4_PAE)) { /* 32-bit paging: 4 KiB pages, 4 MiB with CR4.PSE */
        uint32_t la = (uint32_t)linear;
        if (!read_entry(mem, (p->cr3 & 0xfffff000ull) + ((la >> 22) << 2), 4, &entry) ||
            !(entry & PTE_P))
            return false;
        if ((entry & PTE_PS) && (p->cr4 & CR4_PSE)) {
            *gpa = (entry & 0xffc00000ull) | ((entry & 0x1fe000ull) << 19) | (la & 0x3fffff);
            return true;
        }
        if (!read_entry(mem, (entry & 0xfffff000ull) + (((la >> 12) & 0x3ff) << 2), 4, &entry) ||
            !(entry & PTE_P))
            return false;
        *gpa = (entry & 0xfffff000ull) | (la & 0xfff);
        return true;
    }
    int levels;
    uint64_t table;
    if (p->efer & EFER_LMA) {
        levels = (p->cr4 & CR4_LA57) ? 5 : 4;
        table = p->cr3 & ADDR_MASK;
    } else { /* PAE: the PDPTE first */
        if (!read_entry(mem, (p->cr3 & 0xffffffe0ull) + (((linear >> 30) & 3) << 3), 8, &entry) ||
            !(entry & PTE_P))
            return false;
        table = entry & ADDR_MASK;
        levels = 2;
        linear &= 0xffffffffull;
    }
    for (int level = levels - 1; level >= 0; level--) {
        unsigned shift = 12 + 9 * (unsigned)level;
        if (!read_entry(mem, table + (((linear >> shift) & 511) << 3), 8, &entry) ||
            !(entry & PTE_P))
            return false;
        if (level == 0 || ((entry & PTE_PS) && level <= 2)) {
            uint64_t span = 1ull << shift;
            *gpa = ((entry & ADDR_MASK) & ~(span - 1)) | (linear & (span - 1));
            return true;
        }
        table = entry & ADDR_MASK;
    }
    return false;
}

bool x86_guest_code_bytes(const struct vcpu_memory *mem, const struct x86_paging *p,
                          uint64_t linear, uint8_t *out, size_t len)
{
    size_t done = 0;
    while (done < len) {
        /* one walk per 4 KiB of linear space: the smallest page maps it in one piece */
        uint64_t at = linear + done, gpa;
        size_t chunk = 4096 - (size_t)(at & 4095);
        if (chunk > len - done)
            chunk = len - done;
        const uint8_t *b;
        if (!x86_guest_translate(mem, p, at, &gpa) || !(b = guest_mem_range(mem, gpa, chunk)))
            return false;
        memcpy(out + done, b, chunk);
        done += chunk;
    }
    return true;
}
