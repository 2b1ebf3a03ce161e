/* Guest page-table walker (see x86/gpt_walk.h). SDM vol. 3A: 4.3 (32-bit), 4.4 (PAE), 4.5
 * (4-level and 5-level), 4.6 (access rights), 4.7 (page-fault error code). */
#include <tessera/errno.h>
#include <tessera/guest_mem.h>
#include <tessera/string.h>
#include <x86/gpt_walk.h>

#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_LA57 (1ull << 12)
#define CR4_SMEP (1ull << 20)
#define CR4_SMAP (1ull << 21)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_PS (1ull << 7)
#define PTE_XD (1ull << 63)
#define ADDR_MASK 0x000ffffffffff000ull

static int read_entry(const struct vcpu_memory *mem, uint64_t gpa, unsigned size, uint64_t *out)
{
    const void *p = guest_mem_range(mem, gpa, size);
    if (!p)
        return -EFAULT;
    /* __builtin_memcpy: one load (a memcpy call is a byte-wise REP MOVSB) */
    if (size == 4) {
        uint32_t v;
        __builtin_memcpy(&v, p, 4);
        *out = v;
    } else {
        __builtin_memcpy(out, p, 8);
    }
    return 0;
}

/* Bits at and above MAXPHYADDR up to 51, and XD without EFER.NXE: reserved in PAE and 4-level
 * entries (SDM 4.4.2, 4.5.4). */
static unsigned phys_width(const struct gpt_state *s)
{
    return s->maxphyaddr < 32 ? 32 : s->maxphyaddr > 52 ? 52 : s->maxphyaddr;
}

static uint64_t reserved_high(const struct gpt_state *s)
{
    uint64_t r = ((1ull << 52) - 1) & ~((1ull << phys_width(s)) - 1);
    if (!(s->efer & EFER_NXE))
        r |= PTE_XD;
    return r;
}

/* The rights along the walk: R/W and U/S must be set at every level (ANDed), XD at any (ORed). */
struct walk {
    uint64_t all, any;
};

/* The access check once the leaf is found (SDM 4.6.1). */
static int check_rights(const struct gpt_state *s, const struct walk *w, unsigned access,
                        uint32_t *pf)
{
    bool user_mode = s->cpl == 3;
    bool write = access & GPT_WRITE, fetch = access & GPT_FETCH;
    bool ok = true;
    bool user = w->all & PTE_US, writable = w->all & PTE_RW, xd = w->any & PTE_XD;
    if (user_mode) {
        ok = user && (!write || writable);
    } else {
        if (write && !writable && (s->cr0 & CR0_WP))
            ok = false;
        if (fetch && user && (s->cr4 & CR4_SMEP))
            ok = false;
        if (!fetch && user && (s->cr4 & CR4_SMAP) && !s->rflags_ac)
            ok = false;
    }
    if (fetch && xd && (s->efer & EFER_NXE))
        ok = false;
    if (ok)
        return 0;
    *pf |= GPT_PF_PRESENT;
    return -EPERM;
}

static int not_present(uint32_t *pf)
{
    (void)pf; /* P = 0: the error code already holds W/U/I */
    return -EPERM;
}

static int reserved(uint32_t *pf)
{
    *pf |= GPT_PF_PRESENT | GPT_PF_RSVD;
    return -EPERM;
}

static void accumulate(struct walk *w, uint64_t e)
{
    w->all &= e;
    w->any |= e;
}

/* 32-bit paging (SDM 4.3): two levels of 4-byte entries, 4 MiB pages with CR4.PSE. */
static int walk32(const struct vcpu_memory *mem, const struct gpt_state *s, uint32_t la,
                  unsigned access, uint64_t *gpa, uint32_t *pf)
{
    struct walk w = { ~0ull, 0 };
    uint64_t pde, pte;
    int err = read_entry(mem, (s->cr3 & 0xfffff000u) + ((la >> 22) & 0x3ff) * 4, 4, &pde);
    if (err)
        return err;
    if (!(pde & PTE_P))
        return not_present(pf);
    accumulate(&w, pde);
    if ((pde & PTE_PS) && (s->cr4 & CR4_PSE)) {
        /* PSE-36: bits 20:13 are address bits 39:32; bit 21 reserved (SDM table 4-4) */
        if (pde & (1u << 21))
            return reserved(pf);
        uint64_t high = ((pde >> 13) & 0xff) << 32;
        if (high >> phys_width(s))
            return reserved(pf);
        err = check_rights(s, &w, access, pf);
        if (!err)
            *gpa = high | (pde & 0xffc00000u) | (la & 0x3fffff);
        return err;
    }
    err = read_entry(mem, (pde & 0xfffff000u) + ((la >> 12) & 0x3ff) * 4, 4, &pte);
    if (err)
        return err;
    if (!(pte & PTE_P))
        return not_present(pf);
    accumulate(&w, pte);
    err = check_rights(s, &w, access, pf);
    if (!err)
        *gpa = (pte & 0xfffff000u) | (la & 0xfff);
    return err;
}

/* PAE, 4-level and 5-level paging: 8-byte entries, 9 bits a level (SDM 4.4, 4.5). levels is
 * the number of table levels below the top one (PAE: the PDPTE comes from the state). */
static int walk64(const struct vcpu_memory *mem, const struct gpt_state *s, uint64_t la,
                  unsigned access, uint64_t *gpa, uint32_t *pf)
{
    struct walk w = { ~0ull, 0 };
    uint64_t rsvd = reserved_high(s);
    uint64_t table, e;
    int level; /* 5: PML5, 4: PML4, 3: PDPT, 2: PD, 1: PT */
    int err;
    if (s->efer & EFER_LMA) {
        level = (s->cr4 & CR4_LA57) ? 5 : 4;
        table = s->cr3 & ADDR_MASK;
    } else {
        if (s->cr4 & CR4_LA57)
            return -EINVAL;
        e = s->pdpte[(la >> 30) & 3];
        if (!(e & PTE_P))
            return not_present(pf);
        /* PAE PDPTE: bits 2:1 and 8:5 reserved too (SDM 4.4.1); no rights in it */
        if (e & (rsvd | 0x1e6))
            return reserved(pf);
        table = e & ADDR_MASK;
        level = 2;
    }
    for (;; level--) {
        unsigned shift = 12 + 9 * (unsigned)(level - 1);
        err = read_entry(mem, table + ((la >> shift) & 0x1ff) * 8, 8, &e);
        if (err)
            return err;
        if (!(e & PTE_P))
            return not_present(pf);
        if (e & rsvd)
            return reserved(pf);
        accumulate(&w, e);
        bool large = (e & PTE_PS) && level <= 3 && level >= 2;
        if ((e & PTE_PS) && level >= 4)
            return reserved(pf); /* PS is reserved in PML4 and PML5 entries */
        if (level == 1 || large) {
            uint64_t page = 1ull << shift;
            /* a large page's address bits below its size, above the PAT bit, are reserved */
            if (large && (e & (page - 1) & ~0x1fffull))
                return reserved(pf);
            err = check_rights(s, &w, access, pf);
            if (!err)
                *gpa = (e & ADDR_MASK & ~(page - 1)) | (la & (page - 1));
            return err;
        }
        table = e & ADDR_MASK;
    }
}

int gpt_translate(const struct vcpu_memory *mem, const struct gpt_state *s, uint64_t la,
                  unsigned access, uint64_t *gpa, uint32_t *pf_error)
{
    uint32_t pf = 0;
    if (access & GPT_WRITE)
        pf |= GPT_PF_WRITE;
    if (s->cpl == 3)
        pf |= GPT_PF_USER;
    if ((access & GPT_FETCH) && (s->cr4 & CR4_PAE) &&
        ((s->efer & EFER_NXE) || (s->cr4 & CR4_SMEP)))
        pf |= GPT_PF_FETCH; /* I/D is reported only when NX or SMEP is in use (SDM 4.7) */
    else if ((access & GPT_FETCH) && (s->cr4 & CR4_SMEP))
        pf |= GPT_PF_FETCH;
    *pf_error = 0;
    int err;
    if (!(s->cr0 & CR0_PG)) {
        *gpa = la & 0xffffffffull; /* no paging: 32-bit linear = physical */
        return 0;
    }
    if (!(s->cr4 & CR4_PAE)) {
        err = walk32(mem, s, (uint32_t)la, access, gpa, &pf);
    } else {
        if (s->efer & EFER_LMA) {
            unsigned bits = (s->cr4 & CR4_LA57) ? 57 : 48;
            int64_t sx = (int64_t)(la << (64 - bits)) >> (64 - bits);
            if ((uint64_t)sx != la)
                return -EINVAL; /* non-canonical: #GP, not #PF */
        } else {
            la &= 0xffffffffull;
        }
        err = walk64(mem, s, la, access, gpa, &pf);
    }
    if (err == -EPERM)
        *pf_error = pf;
    return err;
}

size_t gpt_read(const struct vcpu_memory *mem, const struct gpt_state *s, uint64_t la,
                unsigned access, void *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        uint64_t at = la + done, gpa;
        uint32_t pf;
        if (!(s->efer & EFER_LMA))
            at &= 0xffffffffull; /* linear addresses wrap at 4 GiB outside long mode */
        if (gpt_translate(mem, s, at, access, &gpa, &pf))
            break;
        size_t chunk = 0x1000 - (at & 0xfff);
        if (chunk > len - done)
            chunk = len - done;
        const void *p = guest_mem_range(mem, gpa, chunk);
        if (!p)
            break;
        memcpy((uint8_t *)buf + done, p, chunk);
        done += chunk;
    }
    return done;
}
