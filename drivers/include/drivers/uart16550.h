/* The host's own serial console: a 16550 at COM1, 115200 8N1, polled. */
#ifndef DRIVERS_UART16550_H
#define DRIVERS_UART16550_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

bool uart_init(uint16_t base); /* false when no UART answers at base */
void uart_putc(char c);
void uart_write(const char *s, size_t n); /* '\n' goes out as "\r\n" */
/* Never waits: sends what the transmitter takes now (up to its FIFO depth when it is empty, else
 * nothing) and returns how many of the n bytes went; the rest is for a later call. */
size_t uart_try_write(const char *s, size_t n);
/* A received byte, or -1 when none is waiting (never waits). */
int uart_getc(void);
void uart_drain(void); /* wait until the last byte has left the transmitter */

#endif
