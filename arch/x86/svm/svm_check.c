/* Naming the guest state VMRUN refused (VMEXIT_INVALID): the consistency checks of AMD APM vol. 2
 * 15.5.1 ("Basic Operation", canonicalization and consistency checks), tried in order on the state
 * we gave it; and the sentence for a CPU whose AMD-V cannot run guests. Pure: host unit test in
 * tests/unit/test_svm_check.c. */
#include <tessera/errno.h>
#include <tessera/printf.h>

#include <x86/cpu.h>

#include "svm.h"

#define CS_L (1u << 9)
#define CS_D (1u << 10)
/* EFER bits that are reserved (must be zero) on every AMD64 CPU: 63:16 except those defined
 * since, and 9, 7:1. */
#define EFER_MBZ (~((1ull << 0) | (1ull << 8) | (1ull << 10) | (1ull << 11) | (1ull << 12) |        \
                    (1ull << 13) | (1ull << 14) | (1ull << 15) | (1ull << 17) | (1ull << 18) |      \
                    (1ull << 20) | (1ull << 21)))

static bool pat_invalid(uint64_t pat)
{
    for (unsigned i = 0; i < 8; i++) {
        unsigned type = (pat >> (8 * i)) & 0xff;
        if (type == 2 || type == 3 || type > 7)
            return true;
    }
    return false;
}

void svm_explain_invalid(const struct svm_check_state *s, char *out, size_t len)
{
    const char *why = NULL;
    if (!(s->efer & EFER_SVME))
        why = "guest EFER.SVME is clear";
    else if (!(s->cr0 & CR0_CD) && (s->cr0 & CR0_NW))
        why = "guest CR0.NW is set without CR0.CD";
    else if (s->cr0 >> 32)
        why = "guest CR0 bits 63:32 are not zero";
    else if (s->maxphyaddr < 64 && (s->cr3 >> s->maxphyaddr) && (s->efer & EFER_LME))
        why = "guest CR3 has bits set beyond MAXPHYADDR";
    else if (s->cr4 >> 32)
        why = "guest CR4 has reserved bits set";
    else if (s->dr6 >> 32)
        why = "guest DR6 bits 63:32 are not zero";
    else if (s->dr7 >> 32)
        why = "guest DR7 bits 63:32 are not zero";
    else if (s->efer & EFER_MBZ)
        why = "guest EFER has reserved bits set";
    else if ((s->efer & EFER_LME) && (s->cr0 & CR0_PG) && !(s->cr4 & CR4_PAE))
        why = "guest EFER.LME and CR0.PG are set with CR4.PAE clear";
    else if ((s->efer & EFER_LME) && (s->cr0 & CR0_PG) && !(s->cr0 & CR0_PE))
        why = "guest EFER.LME and CR0.PG are set with CR0.PE clear";
    else if ((s->efer & EFER_LME) && (s->cr0 & CR0_PG) && (s->cr4 & CR4_PAE) &&
             (s->cs_attrib & CS_L) && (s->cs_attrib & CS_D))
        why = "guest in long mode with both CS.L and CS.D set";
    else if (!(s->intercept_misc2 & SVM_INTERCEPT_VMRUN))
        why = "the VMRUN intercept is clear";
    else if (s->asid == 0)
        why = "the guest ASID is 0 (the host's)";
    else if ((s->event_inject & SVM_EVENT_VALID) &&
             ((s->event_inject & SVM_EVENT_TYPE_MASK) == (1ull << 8) ||
              (s->event_inject & SVM_EVENT_TYPE_MASK) > SVM_EVENT_TYPE_SOFT_INT ||
              ((s->event_inject & SVM_EVENT_TYPE_MASK) == SVM_EVENT_TYPE_EXCEPTION &&
               (s->event_inject & 0xff) == 2)))
        why = "the event to inject is invalid";
    else if (s->rflags >> 32)
        why = "guest RFLAGS bits 63:32 are not zero";
    else if (pat_invalid(s->g_pat))
        why = "guest G_PAT holds a reserved memory type";
    if (why)
        ksnprintf(out, len, "%s", why);
    else if (len)
        out[0] = '\0';
}

int svm_refusal(const struct svm_probe_facts *f, char *out, size_t len)
{
    out[0] = '\0';
    if (!f->svm) {
        ksnprintf(out, len, "this CPU does not offer AMD-V (CPUID.80000001h:ECX.SVM = 0), so no guest can run");
        return -ENODEV;
    }
    /* APM 15.4: firmware may disable SVM with VM_CR.SVMDIS and lock it; EFER.SVME then #GPs. */
    if (f->vm_cr & VM_CR_SVMDIS) {
        ksnprintf(out, len,
                  "AMD-V is disabled by the firmware (VM_CR.SVMDIS = 1%s): enable \"SVM Mode\" "
                  "(AMD-V) in the firmware setup",
                  (f->vm_cr & VM_CR_LOCK) ? ", locked" : "");
        return -EPERM;
    }
    if (!(f->features & SVM_FEATURE_NPT)) {
        ksnprintf(out, len,
                  "this CPU's AMD-V lacks nested paging (CPUID.8000000Ah:EDX.NP = 0): no firmware "
                  "setting adds it; under another hypervisor, give the virtual CPU nested paging "
                  "(QEMU: -cpu max or +npt)");
        return -ENOTSUP;
    }
    if (f->asids < 2) {
        ksnprintf(out, len, "this CPU's AMD-V has no guest ASIDs");
        return -ENOTSUP;
    }
    return 0;
}
