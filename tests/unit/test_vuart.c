/* Virtual 16550A: every register, DLAB, scratch, loopback, IIR/IER interplay, output. */
/* UNIT-SOURCES: kernel/vuart.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <tessera/vuart.h>

struct sink {
    uint8_t bytes[64];
    unsigned count;
    bool full;     /* the queue behind the UART takes nothing */
    unsigned room; /* else, when not 0: how many bytes it takes */
};

static bool sink_output(void *ctx, uint8_t byte)
{
    struct sink *s = ctx;
    if (s->full)
        return false;
    assert_true(s->count < sizeof(s->bytes));
    s->bytes[s->count++] = byte;
    return true;
}

static bool sink_busy(void *ctx, unsigned need)
{
    const struct sink *s = ctx;
    return s->full || (s->room && s->room < need);
}

static struct sink sink;
static struct vuart uart;

static int setup(void **state)
{
    (void)state;
    memset(&sink, 0, sizeof(sink));
    vuart_init(&uart, sink_output, sink_busy, &sink);
    return 0;
}

static uint8_t rd(unsigned offset)
{
    return vuart_read(&uart, offset);
}

static void wr(unsigned offset, uint8_t value)
{
    vuart_write(&uart, offset, value);
}

static void test_reset_state(void **state)
{
    (void)state;
    assert_int_equal(rd(VUART_IER), 0);
    assert_int_equal(rd(VUART_IIR), 0x01); /* no interrupt, FIFOs off */
    assert_int_equal(rd(VUART_LCR), 0);
    assert_int_equal(rd(VUART_MCR), 0);
    assert_int_equal(rd(VUART_LSR), 0x60); /* THRE | TEMT, no data */
    assert_int_equal(rd(VUART_MSR), 0xb0); /* CTS, DSR, DCD: a ready terminal */
    assert_int_equal(rd(VUART_SCR), 0);
    assert_int_equal(rd(VUART_RBR), 0);
    wr(VUART_LCR, 0x80);
    assert_int_equal(rd(VUART_DLL), 1); /* 115200 baud */
    assert_int_equal(rd(VUART_DLM), 0);
    assert_false(vuart_irq_pending(&uart));
    assert_int_equal(uart.bytes_out, 0);
}

static void test_output_reaches_callback(void **state)
{
    (void)state;
    const char *text = "Hi!\n";
    for (const char *p = text; *p; p++) {
        assert_true(rd(VUART_LSR) & 0x20); /* polled driver waits for THRE */
        wr(VUART_THR, (uint8_t)*p);
    }
    assert_int_equal(sink.count, 4);
    assert_memory_equal(sink.bytes, text, 4);
    assert_int_equal(uart.bytes_out, 4);
    /* Transmission is instant: never data in, always empty out. */
    assert_int_equal(rd(VUART_LSR), 0x60);
    assert_int_equal(rd(VUART_RBR), 0);
}

static void test_output_callback_optional(void **state)
{
    (void)state;
    vuart_init(&uart, NULL, NULL, NULL);
    wr(VUART_THR, 'x');
    assert_int_equal(uart.bytes_out, 1);
}

static void test_dlab_switching(void **state)
{
    (void)state;
    wr(VUART_IER, 0x05);
    wr(VUART_LCR, 0x83); /* DLAB + 8N1 */
    assert_int_equal(rd(VUART_LCR), 0x83);
    wr(VUART_DLL, 0x0c);
    wr(VUART_DLM, 0x34);
    assert_int_equal(rd(VUART_DLL), 0x0c);
    assert_int_equal(rd(VUART_DLM), 0x34);
    /* The divisor writes neither transmitted nor touched IER. */
    assert_int_equal(sink.count, 0);
    assert_int_equal(uart.bytes_out, 0);
    wr(VUART_LCR, 0x03);
    assert_int_equal(rd(VUART_LCR), 0x03);
    assert_int_equal(rd(VUART_IER), 0x05);
    wr(VUART_THR, 'A');
    assert_int_equal(sink.count, 1);
    assert_int_equal(sink.bytes[0], 'A');
    /* Back under DLAB the divisor is as written and IER writes go to DLM. */
    wr(VUART_LCR, 0x80);
    assert_int_equal(rd(VUART_DLL), 0x0c);
    wr(VUART_DLM, 0x00);
    wr(VUART_LCR, 0x00);
    assert_int_equal(rd(VUART_IER), 0x05);
    wr(VUART_LCR, 0x80);
    assert_int_equal(rd(VUART_DLM), 0x00);
    /* Offsets 2..7 are not affected by DLAB. */
    wr(VUART_SCR, 0x5a);
    assert_int_equal(rd(VUART_SCR), 0x5a);
    assert_int_equal(rd(VUART_LSR), 0x60);
}

static void test_scratch(void **state)
{
    (void)state;
    const uint8_t values[] = {0x00, 0x55, 0xaa, 0xff, 0x5a};
    for (unsigned i = 0; i < sizeof(values); i++) {
        wr(VUART_SCR, values[i]);
        assert_int_equal(rd(VUART_SCR), values[i]);
    }
}

static void test_ier_keeps_four_bits(void **state)
{
    (void)state;
    /* Linux's probe: IER = 0 reads 0, IER = 0x0f reads 0x0f, upper bits never stick. */
    wr(VUART_IER, 0x00);
    assert_int_equal(rd(VUART_IER) & 0x0f, 0);
    wr(VUART_IER, 0xff);
    assert_int_equal(rd(VUART_IER), 0x0f);
    wr(VUART_IER, 0xf0);
    assert_int_equal(rd(VUART_IER), 0x00);
}

static void test_mcr_and_read_only_registers(void **state)
{
    (void)state;
    wr(VUART_MCR, 0xff);
    assert_int_equal(rd(VUART_MCR), 0x1f);
    wr(VUART_MCR, 0x0b);
    assert_int_equal(rd(VUART_MCR), 0x0b);
    (void)rd(VUART_MSR);
    /* Writes to LSR and MSR change nothing. */
    wr(VUART_LSR, 0x00);
    wr(VUART_MSR, 0x00);
    assert_int_equal(rd(VUART_LSR), 0x60);
    assert_int_equal(rd(VUART_MSR), 0xb0);
    /* Offsets beyond the chip. */
    assert_int_equal(rd(8), 0xff);
    wr(8, 0x12);
    assert_int_equal(sink.count, 0);
}

static void test_thr_interrupt_needs_ier(void **state)
{
    (void)state;
    wr(VUART_THR, 'a');
    assert_int_equal(rd(VUART_IIR), 0x01); /* IER bit 1 clear: nothing reported */
    wr(VUART_MCR, VUART_MCR_OUT2);
    assert_false(vuart_irq_pending(&uart));
    /* Enabling THRI with THR empty raises it at once. */
    wr(VUART_IER, VUART_IER_THRI);
    assert_true(vuart_irq_pending(&uart));
    assert_int_equal(rd(VUART_IIR), 0x02);
    /* The IIR read acknowledged it. */
    assert_int_equal(rd(VUART_IIR), 0x01);
    assert_false(vuart_irq_pending(&uart));
    /* Writing THR: the byte leaves at once, THR is empty again, interrupt again. */
    wr(VUART_THR, 'b');
    assert_int_equal(rd(VUART_IIR), 0x02);
    assert_int_equal(rd(VUART_IIR), 0x01);
    /* Rewriting IER with THRI still set does not re-raise; toggling it does (Linux's
     * UART_BUG_THRE test). */
    wr(VUART_IER, VUART_IER_THRI);
    assert_int_equal(rd(VUART_IIR), 0x01);
    wr(VUART_IER, 0);
    wr(VUART_IER, VUART_IER_THRI);
    assert_int_equal(rd(VUART_IIR), 0x02);
    /* Disabling THRI drops a pending interrupt. */
    wr(VUART_THR, 'c');
    wr(VUART_IER, 0);
    wr(VUART_IER, VUART_IER_RDI);
    assert_int_equal(rd(VUART_IIR), 0x01);
    /* OUT2 gates the line. */
    wr(VUART_IER, VUART_IER_THRI | VUART_IER_RDI);
    wr(VUART_MCR, 0);
    assert_false(vuart_irq_pending(&uart));
    wr(VUART_MCR, VUART_MCR_OUT2);
    assert_true(vuart_irq_pending(&uart));
    assert_int_equal(sink.count, 3);
}

static void test_fifo_bits_in_iir(void **state)
{
    (void)state;
    wr(VUART_FCR, VUART_FCR_ENABLE | VUART_FCR_CLEAR_RX | VUART_FCR_CLEAR_TX | 0xc0);
    assert_int_equal(rd(VUART_IIR), 0xc1);
    wr(VUART_IER, VUART_IER_THRI);
    assert_int_equal(rd(VUART_IIR), 0xc2);
    assert_int_equal(rd(VUART_IIR), 0xc1);
    /* FCR is write-only: offset 2 still reads IIR. Disabling the FIFOs clears bits 7:6. */
    wr(VUART_FCR, 0);
    assert_int_equal(rd(VUART_IIR), 0x01);
    /* Bits other than enable are ignored while enable is clear. */
    wr(VUART_FCR, 0xc0);
    assert_int_equal(rd(VUART_IIR), 0x01);
    /* Linux's 16750 check: IIR bit 5 never set, with or without DLAB. */
    wr(VUART_FCR, VUART_FCR_ENABLE | 0x20);
    assert_int_equal(rd(VUART_IIR) >> 5, 6);
    wr(VUART_LCR, 0x80);
    assert_int_equal(rd(VUART_IIR) >> 5, 6);
}

static void test_loopback_linux_probe(void **state)
{
    (void)state;
    /* 8250 autoconfig: MCR = LOOP | OUT2 | RTS must give MSR bits 7:4 = 0x90. */
    wr(VUART_MCR, VUART_MCR_LOOP | 0x0a);
    assert_int_equal(rd(VUART_MSR) & 0xf0, 0x90);
    /* Each output maps to its input. */
    wr(VUART_MCR, VUART_MCR_LOOP | VUART_MCR_DTR);
    assert_int_equal(rd(VUART_MSR) & 0xf0, VUART_MSR_DSR);
    wr(VUART_MCR, VUART_MCR_LOOP | VUART_MCR_RTS);
    assert_int_equal(rd(VUART_MSR) & 0xf0, VUART_MSR_CTS);
    wr(VUART_MCR, VUART_MCR_LOOP | VUART_MCR_OUT1);
    assert_int_equal(rd(VUART_MSR) & 0xf0, VUART_MSR_RI);
    wr(VUART_MCR, VUART_MCR_LOOP | VUART_MCR_OUT2);
    assert_int_equal(rd(VUART_MSR) & 0xf0, VUART_MSR_DCD);
    wr(VUART_MCR, VUART_MCR_LOOP);
    assert_int_equal(rd(VUART_MSR) & 0xf0, 0);
    /* Leaving loopback reconnects the terminal. */
    wr(VUART_MCR, 0);
    assert_int_equal(rd(VUART_MSR) & 0xf0, 0xb0);
}

static void test_msr_deltas(void **state)
{
    (void)state;
    wr(VUART_MCR, VUART_MCR_LOOP | VUART_MCR_OUT1); /* CTS, DSR, DCD drop; RI rises */
    assert_int_equal(rd(VUART_MSR), VUART_MSR_RI | VUART_MSR_DCTS | VUART_MSR_DDSR |
                                        VUART_MSR_DDCD);
    assert_int_equal(rd(VUART_MSR), VUART_MSR_RI); /* deltas clear on read */
    wr(VUART_MCR, VUART_MCR_LOOP); /* RI falls: trailing edge */
    assert_int_equal(rd(VUART_MSR), VUART_MSR_TERI);
    wr(VUART_MCR, VUART_MCR_LOOP | VUART_MCR_OUT1); /* RI rises: no TERI */
    assert_int_equal(rd(VUART_MSR), VUART_MSR_RI);
    /* A modem-status interrupt while deltas are pending, lowest priority, cleared by MSR. */
    wr(VUART_IER, VUART_IER_MSI);
    assert_int_equal(rd(VUART_IIR), 0x01);
    wr(VUART_MCR, VUART_MCR_LOOP | VUART_MCR_RTS);
    assert_int_equal(rd(VUART_IIR), 0x00);
    (void)rd(VUART_MSR);
    assert_int_equal(rd(VUART_IIR), 0x01);
}

static void test_loopback_data(void **state)
{
    (void)state;
    wr(VUART_MCR, VUART_MCR_LOOP);
    wr(VUART_THR, 0x42);
    /* Not sent to the console. */
    assert_int_equal(sink.count, 0);
    assert_int_equal(uart.bytes_out, 0);
    assert_int_equal(rd(VUART_LSR), 0x61); /* DR */
    assert_int_equal(rd(VUART_RBR), 0x42);
    assert_int_equal(rd(VUART_LSR), 0x60);
    /* Empty RBR keeps returning the last byte, like the chip. */
    assert_int_equal(rd(VUART_RBR), 0x42);
    /* Without FIFOs a second byte overruns and replaces the first. */
    wr(VUART_THR, 0x01);
    wr(VUART_THR, 0x02);
    assert_int_equal(rd(VUART_LSR), 0x63); /* DR | OE */
    assert_int_equal(rd(VUART_LSR), 0x61); /* OE clears on read */
    assert_int_equal(rd(VUART_RBR), 0x02);
    /* Out of loopback, output flows again. */
    wr(VUART_MCR, 0);
    wr(VUART_THR, 'z');
    assert_int_equal(sink.count, 1);
    assert_int_equal(sink.bytes[0], 'z');
    assert_int_equal(rd(VUART_LSR), 0x60);
}

static void test_loopback_fifo(void **state)
{
    (void)state;
    wr(VUART_FCR, VUART_FCR_ENABLE);
    wr(VUART_MCR, VUART_MCR_LOOP);
    for (unsigned i = 0; i < VUART_RX_FIFO; i++)
        wr(VUART_THR, (uint8_t)(0x30 + i));
    assert_int_equal(rd(VUART_LSR), 0x61);
    wr(VUART_THR, 0xee); /* 17th byte: overrun, dropped */
    assert_int_equal(rd(VUART_LSR), 0x63);
    for (unsigned i = 0; i < VUART_RX_FIFO; i++)
        assert_int_equal(rd(VUART_RBR), 0x30 + i);
    assert_int_equal(rd(VUART_LSR), 0x60);
    /* FCR "clear receiver" empties the FIFO. */
    wr(VUART_THR, 1);
    wr(VUART_THR, 2);
    wr(VUART_FCR, VUART_FCR_ENABLE | VUART_FCR_CLEAR_RX);
    assert_int_equal(rd(VUART_LSR), 0x60);
    /* So does turning the FIFOs off. */
    wr(VUART_THR, 3);
    wr(VUART_FCR, 0);
    assert_int_equal(rd(VUART_LSR), 0x60);
    /* And on. */
    wr(VUART_THR, 4);
    wr(VUART_FCR, VUART_FCR_ENABLE);
    assert_int_equal(rd(VUART_LSR), 0x60);
    assert_int_equal(sink.count, 0);
}

static void test_interrupt_priorities(void **state)
{
    (void)state;
    wr(VUART_MCR, VUART_MCR_LOOP);
    wr(VUART_IER, 0x0f);
    assert_int_equal(rd(VUART_IIR), 0x02); /* THR empty */
    wr(VUART_THR, 0x11);                    /* data: outranks THR empty */
    assert_int_equal(rd(VUART_IIR), 0x04);
    wr(VUART_THR, 0x22);                    /* overrun: outranks data */
    assert_int_equal(rd(VUART_IIR), 0x06);
    (void)rd(VUART_LSR);                    /* acknowledges the line status */
    assert_int_equal(rd(VUART_IIR), 0x04);
    /* An IIR read reporting data does not consume the THR interrupt. */
    (void)rd(VUART_RBR);
    assert_int_equal(rd(VUART_IIR), 0x02);
    /* Entering loopback dropped CTS/DSR/DCD: the modem-status interrupt comes last. */
    assert_int_equal(rd(VUART_IIR), 0x00);
    assert_int_equal(rd(VUART_MSR), VUART_MSR_DCTS | VUART_MSR_DDSR | VUART_MSR_DDCD);
    assert_int_equal(rd(VUART_IIR), 0x01);
    /* In loopback the IRQ pin stays quiet even with OUT2. */
    wr(VUART_MCR, VUART_MCR_LOOP | VUART_MCR_OUT2);
    wr(VUART_THR, 0x33);
    assert_false(vuart_irq_pending(&uart));
    /* Masked sources are not reported. */
    wr(VUART_IER, 0);
    assert_int_equal(rd(VUART_IIR), 0x01);
}

/* A full output queue is a busy transmitter: THRE and TEMT clear, a THR write then is lost and
 * counted; once there is room again both come back and bytes flow. */
static void test_busy_transmitter(void **state)
{
    (void)state;
    vuart_write(&uart, VUART_THR, 'a');
    sink.full = true;
    assert_int_equal(rd(VUART_LSR) & (VUART_LSR_THRE | VUART_LSR_TEMT), 0);
    vuart_write(&uart, VUART_THR, 'b');
    assert_int_equal(uart.bytes_lost, 1);
    assert_int_equal(uart.bytes_out, 1);
    sink.full = false;
    assert_int_equal(rd(VUART_LSR) & (VUART_LSR_THRE | VUART_LSR_TEMT),
                     VUART_LSR_THRE | VUART_LSR_TEMT);
    vuart_write(&uart, VUART_THR, 'c');
    assert_int_equal(sink.count, 2);
    assert_memory_equal(sink.bytes, "ac", 2);
}

/* With the FIFOs on, THRE promises room for a whole transmit FIFO (16 bytes, which Linux's 8250
 * then writes without looking at LSR): a queue with less room is a busy transmitter; without
 * FIFOs one byte of room is enough. */
static void test_busy_until_fifo_fits(void **state)
{
    (void)state;
    sink.room = VUART_TX_FIFO - 1;
    assert_int_equal(rd(VUART_LSR) & VUART_LSR_THRE, VUART_LSR_THRE); /* FIFOs off: 1 byte */
    wr(VUART_FCR, VUART_FCR_ENABLE);
    assert_int_equal(rd(VUART_LSR) & (VUART_LSR_THRE | VUART_LSR_TEMT), 0);
    sink.room = VUART_TX_FIFO;
    assert_int_equal(rd(VUART_LSR) & (VUART_LSR_THRE | VUART_LSR_TEMT),
                     VUART_LSR_THRE | VUART_LSR_TEMT);
    sink.room = 0;
}

/* A THR-empty interrupt waits while the transmitter is busy (THR is not empty yet): IIR does not
 * report it, the IRQ line stays low and vuart_thr_interrupt_held says to look again; with room
 * in the queue it is reported. */
static void test_thr_interrupt_held_while_busy(void **state)
{
    (void)state;
    wr(VUART_MCR, VUART_MCR_OUT2);
    wr(VUART_IER, VUART_IER_THRI);
    vuart_write(&uart, VUART_THR, 'a');
    sink.full = true;
    assert_false(vuart_irq_pending(&uart));
    assert_true(vuart_thr_interrupt_held(&uart));
    assert_int_equal(rd(VUART_IIR) & 0x0f, VUART_IIR_NO_INT);
    sink.full = false;
    assert_false(vuart_thr_interrupt_held(&uart));
    assert_true(vuart_irq_pending(&uart));
    assert_int_equal(rd(VUART_IIR) & 0x0f, VUART_IIR_THRI);
    assert_false(vuart_irq_pending(&uart));
}

/* Loopback disconnects the transmitter from the line: a full queue does not make it busy. */
static void test_busy_ignored_in_loopback(void **state)
{
    (void)state;
    sink.full = true;
    vuart_write(&uart, VUART_MCR, VUART_MCR_LOOP);
    assert_int_equal(rd(VUART_LSR) & VUART_LSR_THRE, VUART_LSR_THRE);
    vuart_write(&uart, VUART_THR, 'x');
    assert_int_equal(rd(VUART_RBR), 'x');
    assert_int_equal(uart.bytes_lost, 0);
}

/* Input from the line (the monitor's console session): room as the FIFO allows, data ready,
 * the received-data interrupt, none while in loopback. */
static void test_receive_from_the_line(void **state)
{
    (void)state;
    assert_int_equal(vuart_rx_room(&uart), 1); /* FIFOs off: one byte */
    vuart_receive(&uart, 'a');
    assert_int_equal(vuart_rx_room(&uart), 0);
    assert_true(rd(VUART_LSR) & VUART_LSR_DR);
    assert_int_equal(rd(VUART_RBR), 'a');
    assert_false(rd(VUART_LSR) & VUART_LSR_DR);
    wr(VUART_FCR, VUART_FCR_ENABLE);
    assert_int_equal(vuart_rx_room(&uart), VUART_RX_FIFO);
    wr(VUART_IER, VUART_IER_RDI);
    wr(VUART_MCR, VUART_MCR_OUT2);
    assert_false(vuart_irq_pending(&uart));
    vuart_receive(&uart, 'b');
    vuart_receive(&uart, 'c');
    assert_int_equal(vuart_rx_room(&uart), VUART_RX_FIFO - 2);
    assert_true(vuart_irq_pending(&uart));
    assert_int_equal(rd(VUART_IIR) & 0x0f, VUART_IIR_RDI);
    assert_int_equal(rd(VUART_RBR), 'b');
    assert_int_equal(rd(VUART_RBR), 'c');
    assert_false(vuart_irq_pending(&uart));
    assert_false(rd(VUART_LSR) & VUART_LSR_OE); /* never an overrun when room is respected */
    wr(VUART_MCR, VUART_MCR_LOOP | VUART_MCR_OUT2);
    assert_int_equal(vuart_rx_room(&uart), 0); /* loopback: the line is disconnected */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_reset_state, setup),
        cmocka_unit_test_setup(test_output_reaches_callback, setup),
        cmocka_unit_test_setup(test_output_callback_optional, setup),
        cmocka_unit_test_setup(test_dlab_switching, setup),
        cmocka_unit_test_setup(test_scratch, setup),
        cmocka_unit_test_setup(test_ier_keeps_four_bits, setup),
        cmocka_unit_test_setup(test_mcr_and_read_only_registers, setup),
        cmocka_unit_test_setup(test_thr_interrupt_needs_ier, setup),
        cmocka_unit_test_setup(test_fifo_bits_in_iir, setup),
        cmocka_unit_test_setup(test_loopback_linux_probe, setup),
        cmocka_unit_test_setup(test_msr_deltas, setup),
        cmocka_unit_test_setup(test_loopback_data, setup),
        cmocka_unit_test_setup(test_loopback_fifo, setup),
        cmocka_unit_test_setup(test_interrupt_priorities, setup),
        cmocka_unit_test_setup(test_busy_transmitter, setup),
        cmocka_unit_test_setup(test_busy_until_fifo_fits, setup),
        cmocka_unit_test_setup(test_busy_ignored_in_loopback, setup),
        cmocka_unit_test_setup(test_thr_interrupt_held_while_busy, setup),
        cmocka_unit_test_setup(test_receive_from_the_line, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
