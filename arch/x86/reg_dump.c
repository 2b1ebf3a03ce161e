/* See x86/reg_dump.h. */
#include <tessera/printf.h>
#include <x86/reg_dump.h>

void x86_dump_gprs(const char *prefix, const struct x86_reg_dump *d)
{
    kprintf("%sRIP=%016llx RSP=%016llx RFLAGS=%016llx mode=%u-bit\n", prefix,
            (unsigned long long)d->rip, (unsigned long long)d->rsp, (unsigned long long)d->rflags,
            d->mode_bits);
    kprintf("%sRAX=%016llx RBX=%016llx RCX=%016llx RDX=%016llx\n", prefix,
            (unsigned long long)d->rax, (unsigned long long)d->rbx, (unsigned long long)d->rcx,
            (unsigned long long)d->rdx);
    kprintf("%sRSI=%016llx RDI=%016llx RBP=%016llx R8 =%016llx\n", prefix,
            (unsigned long long)d->rsi, (unsigned long long)d->rdi, (unsigned long long)d->rbp,
            (unsigned long long)d->r8);
    kprintf("%sR9 =%016llx R10=%016llx R11=%016llx R12=%016llx\n", prefix,
            (unsigned long long)d->r9, (unsigned long long)d->r10, (unsigned long long)d->r11,
            (unsigned long long)d->r12);
    kprintf("%sR13=%016llx R14=%016llx R15=%016llx\n", prefix, (unsigned long long)d->r13,
            (unsigned long long)d->r14, (unsigned long long)d->r15);
}
