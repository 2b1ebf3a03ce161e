/* Lazy switching of the registers in x86/lazy_regs.h. */
#include <tessera/string.h>
#include <x86/cpu.h>
#include <x86/lazy_regs.h>

void x86_lazy_reset(struct x86_lazy_regs *l)
{
    memset(l, 0, sizeof(*l));
    l->dr6 = 0xffff0ff0;
    uint16_t fcw = 0x037f; /* all exceptions masked, 64-bit precision */
    uint32_t mxcsr = 0x1f80;
    memcpy(&l->fxsave[0], &fcw, sizeof(fcw));
    memcpy(&l->fxsave[24], &mxcsr, sizeof(mxcsr));
}
