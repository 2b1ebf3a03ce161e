/* Virtual 16550A (register behaviour after the NS PC16550D datasheet). */
#include <stddef.h>

#include <tessera/vuart.h>

static bool fifo_enabled(const struct vuart *u)
{
    return (u->fcr & VUART_FCR_ENABLE) != 0;
}

/* MSR input lines: in loopback they are wired to the MCR outputs (RTS->CTS, DTR->DSR, OUT1->RI,
 * OUT2->DCD); Linux's 8250 probe sets MCR = LOOP|OUT2|RTS and expects MSR bits 7:4 = 0x90. */
static uint8_t modem_lines(const struct vuart *u)
{
    if (!(u->mcr & VUART_MCR_LOOP))
        return VUART_MSR_CONNECTED;
    uint8_t lines = 0;
    if (u->mcr & VUART_MCR_RTS)
        lines |= VUART_MSR_CTS;
    if (u->mcr & VUART_MCR_DTR)
        lines |= VUART_MSR_DSR;
    if (u->mcr & VUART_MCR_OUT1)
        lines |= VUART_MSR_RI;
    if (u->mcr & VUART_MCR_OUT2)
        lines |= VUART_MSR_DCD;
    return lines;
}

static void update_modem_lines(struct vuart *u)
{
    uint8_t lines = modem_lines(u), changed = lines ^ u->msr_lines;
    if (changed & VUART_MSR_CTS)
        u->msr_deltas |= VUART_MSR_DCTS;
    if (changed & VUART_MSR_DSR)
        u->msr_deltas |= VUART_MSR_DDSR;
    if (changed & VUART_MSR_DCD)
        u->msr_deltas |= VUART_MSR_DDCD;
    if ((u->msr_lines & VUART_MSR_RI) && !(lines & VUART_MSR_RI))
        u->msr_deltas |= VUART_MSR_TERI; /* trailing edge only */
    u->msr_lines = lines;
}

static bool transmitter_busy(const struct vuart *u);

/* Highest-priority pending interrupt, as IIR bits 3:0. A THR-empty interrupt waits while the
 * transmitter is busy (its output queue full): THR is not empty until the byte moves on. */
static uint8_t interrupt_source(const struct vuart *u)
{
    if ((u->ier & VUART_IER_RLSI) && u->lsr_errors)
        return VUART_IIR_RLSI;
    if ((u->ier & VUART_IER_RDI) && u->rx_count)
        return VUART_IIR_RDI;
    if ((u->ier & VUART_IER_THRI) && u->thr_interrupt && !transmitter_busy(u))
        return VUART_IIR_THRI;
    if ((u->ier & VUART_IER_MSI) && u->msr_deltas)
        return VUART_IIR_MSI;
    return VUART_IIR_NO_INT;
}

static void rx_clear(struct vuart *u)
{
    u->rx_head = 0;
    u->rx_count = 0;
}

/* A byte arriving in loopback: queued, or an overrun when the buffer is full. */
static void rx_push(struct vuart *u, uint8_t byte)
{
    unsigned capacity = fifo_enabled(u) ? VUART_RX_FIFO : 1;
    if (u->rx_count < capacity) {
        u->rx[(u->rx_head + u->rx_count) % VUART_RX_FIFO] = byte;
        u->rx_count++;
        return;
    }
    u->lsr_errors |= VUART_LSR_OE;
    if (!fifo_enabled(u))
        u->rx[u->rx_head] = byte; /* without FIFOs the new byte overwrites RBR */
}

static uint8_t rx_pop(struct vuart *u)
{
    if (u->rx_count) {
        u->rbr_last = u->rx[u->rx_head];
        u->rx_head = (uint8_t)((u->rx_head + 1) % VUART_RX_FIFO);
        u->rx_count--;
    }
    return u->rbr_last;
}

void vuart_init(struct vuart *u, vuart_output_fn output, vuart_busy_fn tx_busy, void *ctx)
{
    *u = (struct vuart){0};
    u->dll = 1;
    u->msr_lines = VUART_MSR_CONNECTED;
    u->output = output;
    u->tx_busy = tx_busy;
    u->ctx = ctx;
}

/* Loopback disconnects the transmitter from the line, so only then is it never busy. THRE says
 * "the transmitter holding register (with FIFOs: the whole transmit FIFO) is empty", and a
 * driver that sees it writes that many bytes without looking again (Linux's 8250 writes 16): so
 * with FIFOs on, the transmitter is busy until the queue behind it has room for 16. */
static bool transmitter_busy(const struct vuart *u)
{
    return !(u->mcr & VUART_MCR_LOOP) && u->tx_busy &&
           u->tx_busy(u->ctx, fifo_enabled(u) ? VUART_TX_FIFO : 1);
}

uint8_t vuart_read(struct vuart *u, unsigned offset)
{
    bool dlab = (u->lcr & VUART_LCR_DLAB) != 0;
    switch (offset) {
    case VUART_RBR:
        return dlab ? u->dll : rx_pop(u);
    case VUART_IER:
        return dlab ? u->dlm : u->ier;
    case VUART_IIR: {
        uint8_t source = interrupt_source(u);
        if (source == VUART_IIR_THRI)
            u->thr_interrupt = false; /* reading IIR acknowledges a THR-empty interrupt */
        return (uint8_t)(source | (fifo_enabled(u) ? VUART_IIR_FIFO : 0));
    }
    case VUART_LCR:
        return u->lcr;
    case VUART_MCR:
        return u->mcr;
    case VUART_LSR: {
        uint8_t lsr = u->lsr_errors;
        if (!transmitter_busy(u))
            lsr |= VUART_LSR_THRE | VUART_LSR_TEMT;
        if (u->rx_count)
            lsr |= VUART_LSR_DR;
        u->lsr_errors = 0;
        return lsr;
    }
    case VUART_MSR: {
        uint8_t msr = u->msr_lines | u->msr_deltas;
        u->msr_deltas = 0;
        return msr;
    }
    case VUART_SCR:
        return u->scr;
    default:
        return 0xff; /* nothing decodes this port */
    }
}

static void transmit(struct vuart *u, uint8_t byte)
{
    if (u->mcr & VUART_MCR_LOOP) {
        rx_push(u, byte); /* loopback: the serial output is disconnected */
    } else if (u->output && !u->output(u->ctx, byte)) {
        u->bytes_lost++; /* written while THRE was clear: a full FIFO drops it */
        return;
    } else {
        u->bytes_out++;
    }
    /* The byte left at once, so THR is empty again and says so. */
    u->thr_interrupt = true;
}

void vuart_write(struct vuart *u, unsigned offset, uint8_t value)
{
    bool dlab = (u->lcr & VUART_LCR_DLAB) != 0;
    switch (offset) {
    case VUART_THR:
        if (dlab)
            u->dll = value;
        else
            transmit(u, value);
        break;
    case VUART_IER:
        if (dlab) {
            u->dlm = value;
        } else {
            uint8_t changed = (u->ier ^ value) & VUART_IER_THRI;
            u->ier = value & 0x0f;
            /* Enabling THRI with THR empty raises the interrupt (drivers test for it);
             * disabling it drops a pending one. */
            if (changed)
                u->thr_interrupt = (u->ier & VUART_IER_THRI) != 0;
        }
        break;
    case VUART_FCR: {
        /* FCR bit 0 gates the others; toggling it empties both FIFOs. */
        uint8_t fcr = (value & VUART_FCR_ENABLE) ? (uint8_t)(value & 0xc9) : 0;
        if ((fcr ^ u->fcr) & VUART_FCR_ENABLE)
            rx_clear(u);
        else if (fcr && (value & VUART_FCR_CLEAR_RX))
            rx_clear(u);
        u->fcr = fcr;
        break;
    }
    case VUART_LCR:
        u->lcr = value;
        break;
    case VUART_MCR:
        u->mcr = value & 0x1f;
        update_modem_lines(u);
        break;
    case VUART_SCR:
        u->scr = value;
        break;
    default:
        break; /* LSR and MSR are read-only here; other offsets are not ours */
    }
}

bool vuart_thr_interrupt_held(const struct vuart *u)
{
    return (u->ier & VUART_IER_THRI) && u->thr_interrupt && (u->mcr & VUART_MCR_OUT2) &&
           transmitter_busy(u);
}

/* The port region adapter: one register per byte, as the chip decodes them. A wider access is a
 * loop out of line, so the byte accesses drivers make are a tail call. */
static __attribute__((noinline)) uint64_t read_bytes(struct vuart *u, unsigned offset, unsigned size)
{
    uint64_t value = 0;
    for (unsigned i = 0; i < size; i++)
        value |= (uint64_t)vuart_read(u, offset + i) << (8 * i);
    return value;
}

static __attribute__((noinline)) void write_bytes(struct vuart *u, unsigned offset, unsigned size,
                                                  uint64_t value)
{
    for (unsigned i = 0; i < size; i++)
        vuart_write(u, offset + i, (uint8_t)(value >> (8 * i)));
}

static uint64_t vuart_bus_read(void *dev, uint64_t offset, unsigned size, uint64_t now)
{
    (void)now;
    if (size == 1)
        return vuart_read(dev, (unsigned)offset);
    return read_bytes(dev, (unsigned)offset, size);
}

static void vuart_bus_write(void *dev, uint64_t offset, unsigned size, uint64_t value, uint64_t now)
{
    (void)now;
    if (size == 1)
        vuart_write(dev, (unsigned)offset, (uint8_t)value);
    else
        write_bytes(dev, (unsigned)offset, size, value);
}

const struct dev_ops vuart_ops = { vuart_bus_read, vuart_bus_write };

bool vuart_irq_pending(const struct vuart *u)
{
    /* OUT2 gates the PC's IRQ line, and loopback forces the output pins inactive. */
    if (!(u->mcr & VUART_MCR_OUT2) || (u->mcr & VUART_MCR_LOOP))
        return false;
    return interrupt_source(u) != VUART_IIR_NO_INT;
}

unsigned vuart_rx_room(const struct vuart *u)
{
    if (u->mcr & VUART_MCR_LOOP)
        return 0;
    unsigned capacity = fifo_enabled(u) ? VUART_RX_FIFO : 1;
    return u->rx_count < capacity ? capacity - u->rx_count : 0;
}

void vuart_receive(struct vuart *u, uint8_t byte)
{
    rx_push(u, byte);
}
