/* The VM's interrupt router: GSI -> 8259 input and I/O APIC pin (see irq_router.h). */
#include <tessera/irq_router.h>

void irq_router_init(struct irq_router *router, struct ioapic *ioapic,
                     void (*pic_set)(void *pic, unsigned irq, bool level), void *pic,
                     uint32_t active_low)
{
    router->ioapic = ioapic;
    router->pic_set = pic_set;
    router->pic = pic;
    router->active_low = active_low;
    /* an idle active-low line sits high: otherwise the guest's first unmask sees it asserted */
    for (unsigned pin = 0; ioapic && pin < IRQ_ROUTER_GSIS; pin++)
        if ((active_low >> pin) & 1)
            ioapic_set_irq(ioapic, pin, true);
}

void irq_router_set(void *opaque, unsigned gsi, bool level)
{
    struct irq_router *router = opaque;
    if (gsi >= IRQ_ROUTER_GSIS || gsi == 2)
        return; /* nothing there; IRQ 2 is the cascade inside the PIC pair */
    if (gsi < 16 && router->pic_set)
        router->pic_set(router->pic, gsi, level);
    unsigned pin = gsi == 0 ? 2 : gsi; /* MADT interrupt source override: ISA 0 -> GSI 2 */
    if (router->ioapic)
        ioapic_set_irq(router->ioapic, pin, level != ((router->active_low >> pin) & 1));
}

struct irq_line irq_router_line(struct irq_router *router, unsigned gsi)
{
    return (struct irq_line){ irq_router_set, router, gsi };
}
