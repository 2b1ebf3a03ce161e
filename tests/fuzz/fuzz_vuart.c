/* The virtual 16550A register model: input = a sequence of guest port accesses, two bytes each
 * (bit 7 of the first: write; bit 6: the output queue behind the UART is full during this
 * access; bits 3:0: offset, so offsets 8-15 test the "not ours" path; the second: the value
 * written). Checks after every access that the FIFO indices stay in range, that every byte a
 * guest transmits outside loopback reaches the output exactly once or, written while the queue
 * is full, is counted lost, that LSR says busy exactly then, and that the registers read back
 * within their documented bits.
 * FUZZ-SOURCES: kernel/vuart.c */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include <tessera/vuart.h>

static uint64_t delivered;
static uint8_t last_out;
static bool queue_full;

static bool output(void *ctx, uint8_t byte)
{
    (void)ctx;
    if (queue_full)
        return false;
    delivered++;
    last_out = byte;
    return true;
}

static bool busy(void *ctx, unsigned need)
{
    (void)ctx;
    (void)need;
    return queue_full; /* a full queue has no room for any need */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vuart u;
    uint64_t sent = 0, lost = 0;

    delivered = 0;
    vuart_init(&u, output, busy, NULL);
    for (size_t i = 0; i + 1 < size; i += 2) {
        unsigned offset = data[i] & 0x0f;
        uint8_t value = data[i + 1];
        int dlab = (u.lcr & VUART_LCR_DLAB) != 0;
        queue_full = (data[i] & 0x40) != 0;
        bool tx_busy = queue_full && !(u.mcr & VUART_MCR_LOOP);

        if (data[i] & 0x80) {
            int counts = offset == VUART_THR && !dlab && !(u.mcr & VUART_MCR_LOOP);
            vuart_write(&u, offset, value);
            if (counts && tx_busy) {
                lost++; /* written while THRE was clear: dropped, as by a full FIFO */
            } else if (counts) {
                sent++;
                if (last_out != value)
                    abort();
            }
        } else {
            uint8_t r = vuart_read(&u, offset);
            if (offset >= VUART_REGISTERS && r != 0xff)
                abort();
            if (offset == VUART_LSR && (r & (VUART_LSR_THRE | VUART_LSR_TEMT)) !=
                                           (tx_busy ? 0 : VUART_LSR_THRE | VUART_LSR_TEMT))
                abort(); /* transmission is instant: THR empty unless the queue is full */
            if (offset == VUART_IIR && (r & 0x30))
                abort(); /* bits 5:4 read as zero on a 16550A */
            if (offset == VUART_IER && !dlab && (r & 0xf0))
                abort();
            if (offset == VUART_MCR && (r & 0xe0))
                abort();
            if (offset == VUART_MSR && !(u.mcr & VUART_MCR_LOOP) &&
                (r & 0xf0) != VUART_MSR_CONNECTED)
                abort();
        }
        unsigned capacity = (u.fcr & VUART_FCR_ENABLE) ? VUART_RX_FIFO : 1;
        if (u.rx_head >= VUART_RX_FIFO || u.rx_count > capacity)
            abort();
        if (delivered != sent || u.bytes_out != sent || u.bytes_lost != lost)
            abort();
        if (vuart_irq_pending(&u) && (!(u.mcr & VUART_MCR_OUT2) || (u.mcr & VUART_MCR_LOOP)))
            abort();
    }
    return 0;
}
