/* COM1 output by polling the line status register. Waits are bounded so a machine without a
 * UART (or a stuck one) cannot hang a guest forever. */
#include <tessera/printf.h>
#include "guest.h"

#define UART_POLL_LIMIT 1000000

void serial_init(void)
{
    uart_init_com1();
}

static void wait_lsr(uint8_t bit)
{
    for (int i = 0; i < UART_POLL_LIMIT; i++)
        if (inb(COM1_BASE + UART_LSR) & bit)
            return;
}

void serial_putc(char c)
{
    wait_lsr(UART_LSR_THRE);
    outb(COM1_BASE + UART_DATA, (uint8_t)c);
}

void serial_write(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        serial_putc(s[i]);
}

void serial_drain(void)
{
    wait_lsr(UART_LSR_TEMT);
}

int guest_vprintf(const char *fmt, va_list ap)
{
    char buf[GUEST_PRINTF_MAX];
    int n = kvsnprintf(buf, sizeof(buf), fmt, ap);
    if (n < 0)
        return n;
    size_t len = (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1;
    serial_write(buf, len);
    return (int)len;
}

int guest_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = guest_vprintf(fmt, ap);
    va_end(ap);
    return n;
}
