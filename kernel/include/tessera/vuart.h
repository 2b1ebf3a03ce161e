/* The virtual 16550A each VM sees at COM1. A transmitted byte goes straight to the output
 * callback (the VM's console queue); while that cannot take a byte (tx_busy), the transmitter
 * reports itself busy (LSR THRE and TEMT clear), as a real UART does while its FIFO is full, so a
 * guest that polls LSR waits. A byte written to THR while busy is lost, as on a 16550 with a full
 * transmit FIFO, and counted in bytes_lost. Input comes from the line (vuart_receive: the
 * monitor's `console NAME`) or, in loopback mode (MCR bit 4), from the transmitter; the registers read back the way a real chip's do, so polled output and ordinary
 * drivers (Linux's 8250 probe included) work. */
#ifndef TESSERA_VUART_H
#define TESSERA_VUART_H

#include <stdbool.h>
#include <stdint.h>

#include <tessera/dev.h>

/* Register offsets from the base port. */
#define VUART_RBR 0 /* read, DLAB=0 */
#define VUART_THR 0 /* write, DLAB=0 */
#define VUART_DLL 0 /* DLAB=1 */
#define VUART_IER 1 /* DLAB=0 */
#define VUART_DLM 1 /* DLAB=1 */
#define VUART_IIR 2 /* read */
#define VUART_FCR 2 /* write */
#define VUART_LCR 3
#define VUART_MCR 4
#define VUART_LSR 5
#define VUART_MSR 6
#define VUART_SCR 7
#define VUART_REGISTERS 8

#define VUART_IER_RDI 0x01  /* received data available */
#define VUART_IER_THRI 0x02 /* transmitter holding register empty */
#define VUART_IER_RLSI 0x04 /* receiver line status */
#define VUART_IER_MSI 0x08  /* modem status */

#define VUART_IIR_NO_INT 0x01
#define VUART_IIR_MSI 0x00
#define VUART_IIR_THRI 0x02
#define VUART_IIR_RDI 0x04
#define VUART_IIR_RLSI 0x06
#define VUART_IIR_FIFO 0xc0 /* FIFOs enabled */

#define VUART_FCR_ENABLE 0x01
#define VUART_FCR_CLEAR_RX 0x02
#define VUART_FCR_CLEAR_TX 0x04

#define VUART_LCR_DLAB 0x80

#define VUART_MCR_DTR 0x01
#define VUART_MCR_RTS 0x02
#define VUART_MCR_OUT1 0x04
#define VUART_MCR_OUT2 0x08
#define VUART_MCR_LOOP 0x10

#define VUART_LSR_DR 0x01
#define VUART_LSR_OE 0x02
#define VUART_LSR_THRE 0x20
#define VUART_LSR_TEMT 0x40

#define VUART_MSR_DCTS 0x01
#define VUART_MSR_DDSR 0x02
#define VUART_MSR_TERI 0x04
#define VUART_MSR_DDCD 0x08
#define VUART_MSR_CTS 0x10
#define VUART_MSR_DSR 0x20
#define VUART_MSR_RI 0x40
#define VUART_MSR_DCD 0x80
/* Outside loopback a ready terminal is attached: CTS, DSR and DCD asserted, RI not. */
#define VUART_MSR_CONNECTED (VUART_MSR_CTS | VUART_MSR_DSR | VUART_MSR_DCD)

#define VUART_RX_FIFO 16
#define VUART_TX_FIFO 16 /* what a driver may write after seeing THRE with the FIFOs on */

/* Takes one transmitted byte; false when it cannot (the byte is lost). */
typedef bool (*vuart_output_fn)(void *ctx, uint8_t byte);
/* True while output could not take need bytes in a row. */
typedef bool (*vuart_busy_fn)(void *ctx, unsigned need);

struct vuart {
    uint8_t ier, lcr, mcr, scr, dll, dlm;
    uint8_t fcr;          /* last FCR value, clear bits dropped */
    uint8_t lsr_errors;   /* VUART_LSR_OE until LSR is read */
    uint8_t msr_lines;    /* bits 7:4 of MSR */
    uint8_t msr_deltas;   /* bits 3:0 of MSR until MSR is read */
    bool thr_interrupt;   /* THR-empty interrupt pending (cleared by an IIR read reporting it) */
    uint8_t rx[VUART_RX_FIFO]; /* loopback bytes: 1 deep without FIFOs, 16 with */
    uint8_t rx_head, rx_count;
    uint8_t rbr_last;     /* RBR reads this when empty, as the chip keeps its last byte */
    vuart_output_fn output;
    vuart_busy_fn tx_busy;
    void *ctx;
    uint64_t bytes_out;   /* bytes output took */
    uint64_t bytes_lost;  /* bytes written to THR while the transmitter was busy */
};

/* Power-on state: divisor 1 (115200 baud), 8N1 not set (LCR = 0), FIFOs off. output may be
 * NULL (bytes are counted, then dropped), tx_busy NULL (never busy). */
void vuart_init(struct vuart *u, vuart_output_fn output, vuart_busy_fn tx_busy, void *ctx);

/* Guest IN/OUT at base + offset. An offset beyond 7 reads 0xff and ignores writes. */
uint8_t vuart_read(struct vuart *u, unsigned offset);
void vuart_write(struct vuart *u, unsigned offset, uint8_t value);

/* Bytes the receiver can take from the line now without an overrun: 0 in loopback (the line is
 * disconnected), else what is free of its FIFO (16 bytes, 1 with FIFOs off). */
unsigned vuart_rx_room(const struct vuart *u);
/* A byte arriving from the line (call only while vuart_rx_room says there is room). */
void vuart_receive(struct vuart *u, uint8_t byte);

/* Whether the chip would assert its interrupt line (IIR bit 0 clear and OUT2 set, which gates
 * the IRQ on PCs). No side effects. */
bool vuart_irq_pending(const struct vuart *u);
/* A THR-empty interrupt is due but held back while the transmitter is busy: the caller should
 * look again (vuart_irq_pending) once the output queue may have drained. */
bool vuart_thr_interrupt_held(const struct vuart *u);

/* The 8 registers as a dev_bus port region (dev = the struct vuart): multi-byte accesses go
 * to consecutive registers. */
extern const struct dev_ops vuart_ops;

#endif
