/* Polled 16550 driver for the hypervisor's console. */
#include <drivers/uart16550.h>
#include <x86/io.h>

#define UART_THR 0
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_SCR 7
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

static uint16_t uart_base;

bool uart_init(uint16_t base)
{
    /* The scratch register tells whether a UART is there at all (many PCs have none). */
    outb(base + UART_SCR, 0x5a);
    if (inb(base + UART_SCR) != 0x5a)
        return false;
    outb(base + UART_IER, 0x00);    /* polled: no interrupts */
    outb(base + UART_LCR, 0x80);    /* DLAB on */
    outb(base + 0, 1);              /* divisor 1 = 115200 baud */
    outb(base + 1, 0);
    outb(base + UART_LCR, 0x03);    /* 8N1, DLAB off */
    outb(base + UART_FCR, 0x07);    /* FIFOs on and cleared */
    outb(base + UART_MCR, 0x03);    /* DTR, RTS */
    uart_base = base;
    return true;
}

void uart_putc(char c)
{
    if (!uart_base)
        return;
    /* Bounded wait: a wedged UART must not hang the hypervisor. */
    for (unsigned spins = 0; spins < 1000000; spins++)
        if (inb(uart_base + UART_LSR) & LSR_THRE)
            break;
    outb(uart_base + UART_THR, (uint8_t)c);
}

void uart_write(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            uart_putc('\r');
        uart_putc(s[i]);
    }
}

void uart_drain(void)
{
    if (!uart_base)
        return;
    for (unsigned spins = 0; spins < 1000000; spins++)
        if (inb(uart_base + UART_LSR) & LSR_TEMT)
            break;
}
