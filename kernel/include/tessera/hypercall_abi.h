/* Tessera guest ABI: shared by the hypervisor and guests/. Documented in docs/hypercalls.md.
 *
 * Detection: CPUID.1:ECX bit 31 (hypervisor present) = 1; CPUID 0x40000000 returns
 * EAX = highest hypervisor leaf, EBX:ECX:EDX = "TesseraVisor".
 * Call: VMCALL with RAX = call number, RBX, RCX, RDX = arguments (EAX/EBX/ECX/EDX in 32-bit
 * and real mode; upper halves ignored there). Result in RAX (negative = error, see TESSERA_E*);
 * some calls also return values in RBX/RCX/RDX. All other registers are preserved. */
#ifndef TESSERA_HYPERCALL_ABI_H
#define TESSERA_HYPERCALL_ABI_H

#define TESSERA_CPUID_BASE 0x40000000u
#define TESSERA_CPUID_MAX 0x40000001u
/* "TesseraVisor" as the three little-endian registers EBX, ECX, EDX */
#define TESSERA_CPUID_SIG_EBX 0x73736554u /* "Tess" */
#define TESSERA_CPUID_SIG_ECX 0x56617265u /* "eraV" */
#define TESSERA_CPUID_SIG_EDX 0x726f7369u /* "isor" */
#define TESSERA_ABI_VERSION 1u              /* CPUID 0x40000001.EAX */

enum tessera_hypercall {
    TESSERA_HC_CONSOLE_WRITE = 1, /* RBX = guest-physical buffer, RCX = length (<= 4096) -> bytes */
    TESSERA_HC_YIELD = 2,         /* give up the rest of this time slice -> 0 */
    TESSERA_HC_VM_ID = 3,         /* -> VM id (0-based, config order) */
    TESSERA_HC_TIME = 4,          /* -> 0; RBX = TSC Hz, RCX = monotonic TSC ticks, RDX = ns since boot */
    TESSERA_HC_EXIT = 5,          /* RBX = status: the VM ends; does not return */
    TESSERA_HC_SET_TIMER = 6,     /* RBX = ticks from now (0 = cancel, at most 1 h): next HLT wakes by then */
};

/* SET_TIMER's shortest period: a shorter one is taken as this many microseconds' worth of ticks
 * (the scheduler's minimum slice, docs/scheduler.md, is what protects other VMs) */
#define TESSERA_TIMER_MIN_US 1000u

#define TESSERA_EPERM 1   /* returned as -TESSERA_EPERM: the call came from CPL > 0 */
#define TESSERA_EINVAL 22 /* returned as -TESSERA_EINVAL */
#define TESSERA_EFAULT 14
#define TESSERA_ENOSYS 38

#define TESSERA_HC_CONSOLE_MAX 4096

/* Port that ends a VM with a status (QEMU isa-debug-exit convention): out 0xf4, value. */
#define TESSERA_DEBUG_EXIT_PORT 0xf4

/* ELF64 guests start with RDI = guest-physical address of this block. */
#define TESSERA_START_MAGIC 0x54535354u /* "TSST" */
struct tessera_start_module {
    unsigned long long addr, size;
    char name[64];
};
struct tessera_start_info {
    unsigned int magic;   /* TESSERA_START_MAGIC */
    unsigned int version; /* 1 */
    unsigned long long mem_size;   /* guest RAM: [0, mem_size) */
    unsigned long long cmdline;    /* guest-physical address of a NUL-terminated string (0: none) */
    unsigned int module_count;
    unsigned int reserved;
    unsigned long long modules;    /* guest-physical address of tessera_start_module[module_count] */
};

#endif
