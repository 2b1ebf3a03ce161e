/* Polled 16550 driver for the hypervisor's console. */
#include <drivers/uart16550.h>
#include <x86/io.h>

#define UART_THR 0
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_IIR 2
#define UART_SCR 7
#define UART_RBR 0
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define IIR_FIFOS_ON 0xc0

static uint16_t uart_base;
static unsigned tx_fifo_depth; /* bytes the transmitter takes at once when THRE is set */
static bool cr_sent;           /* uart_try_write sent the '\r' of a "\r\n" but not the '\n' */

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
    /* A 16550A says its FIFOs are on in IIR bits 7:6; a 16450 (or a 16550 with its broken
     * FIFO) does not, and holds one byte (PC16550D datasheet, FCR and IIR). */
    tx_fifo_depth = (inb(base + UART_IIR) & IIR_FIFOS_ON) == IIR_FIFOS_ON ? 16 : 1;
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
        if (s[i] == '\n' && !cr_sent)
            uart_putc('\r');
        cr_sent = false;
        uart_putc(s[i]);
    }
}

/* THRE set means the holding register and, with FIFOs on, the whole transmit FIFO are empty
 * (PC16550D: "THRE ... set when the XMIT FIFO is empty"), so that many bytes fit now. */
size_t uart_try_write(const char *s, size_t n)
{
    if (!uart_base)
        return n; /* no UART: everything is "sent" */
    if (!(inb(uart_base + UART_LSR) & LSR_THRE))
        return 0;
    unsigned room = tx_fifo_depth;
    size_t i = 0;
    while (i < n && room) {
        if (s[i] == '\n' && !cr_sent) {
            outb(uart_base + UART_THR, '\r');
            cr_sent = true;
            room--;
            continue;
        }
        outb(uart_base + UART_THR, (uint8_t)s[i]);
        cr_sent = false;
        room--;
        i++;
    }
    return i;
}

int uart_getc(void)
{
    if (!uart_base || !(inb(uart_base + UART_LSR) & LSR_DR))
        return -1;
    return inb(uart_base + UART_RBR);
}

void uart_drain(void)
{
    if (!uart_base)
        return;
    for (unsigned spins = 0; spins < 1000000; spins++)
        if (inb(uart_base + UART_LSR) & LSR_TEMT)
            break;
}
