/* UNIT-SOURCES: kernel/dev/pic.c */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <tessera/pic.h>

static unsigned intr_changes;
static bool intr_level;

static void on_intr(void *ctx, bool level)
{
    (void)ctx;
    intr_changes++;
    intr_level = level;
}

static struct pic pic;
static struct dev_region regions[PIC_REGIONS];

static const struct dev_region *region_of(unsigned port)
{
    for (unsigned i = 0; i < PIC_REGIONS; i++)
        if (port >= regions[i].base && port < regions[i].base + regions[i].length)
            return &regions[i];
    fail_msg("no region for port %#x", port);
    return NULL;
}

static void outb(uint8_t value, unsigned port)
{
    const struct dev_region *r = region_of(port);
    r->ops->write(r->dev, port - r->base, 1, value, 0);
}

static uint8_t inb(unsigned port)
{
    const struct dev_region *r = region_of(port);
    return (uint8_t)r->ops->read(r->dev, port - r->base, 1, 0);
}

static void reset(void)
{
    intr_changes = 0;
    intr_level = false;
    pic_init(&pic, on_intr, NULL);
    pic_regions(&pic, regions);
}

/* What Linux's init_8259A() writes (arch/x86/kernel/i8259.c), vectors 0x30 and 0x38. */
static void linux_init(bool auto_eoi)
{
    outb(0xff, 0x21);
    outb(0xff, 0xa1);
    outb(0x11, 0x20);              /* ICW1: edge, cascade, ICW4 */
    outb(0x30, 0x21);              /* ICW2: vectors 0x30-0x37 */
    outb(1u << 2, 0x21);           /* ICW3: slave on IR2 */
    outb(auto_eoi ? 0x03 : 0x01, 0x21); /* ICW4: 8086 mode (and AEOI) */
    outb(0x11, 0xa0);
    outb(0x38, 0xa1);
    outb(2, 0xa1);                 /* ICW3: slave ID 2 */
    outb(0x01, 0xa1);
    outb(0xfb, 0x21);              /* everything masked except the cascade */
    outb(0xff, 0xa1);
}

static void pulse(unsigned irq)
{
    pic_set_irq(&pic, irq, true);
    pic_set_irq(&pic, irq, false);
}

static void unmask(unsigned irq)
{
    unsigned port = irq < 8 ? 0x21 : 0xa1;
    outb(inb(port) & ~(1u << (irq & 7)), port);
}

/* Linux's mask_and_ack_8259A EOI part: specific EOI, to the slave then the master's IR2. */
static void linux_eoi(unsigned irq)
{
    if (irq & 8) {
        outb(0x60 + (irq & 7), 0xa0);
        outb(0x60 + 2, 0x20);
    } else {
        outb(0x60 + irq, 0x20);
    }
}

static uint8_t read_isr(unsigned cmd_port)
{
    outb(0x0b, cmd_port);
    uint8_t v = inb(cmd_port);
    outb(0x0a, cmd_port);
    return v;
}

static void test_power_on_and_linux_probe(void **state)
{
    (void)state;
    reset();
    assert_false(pic_has_interrupt(&pic));
    /* probe_8259A: mask the slave, write a pattern to the master mask, read it back */
    outb(0xff, 0xa1);
    outb(0xa5, 0x21);
    assert_int_equal(inb(0x21), 0xa5);
    linux_init(false);
    assert_int_equal(pic.chip[0].vector_base, 0x30);
    assert_int_equal(pic.chip[1].vector_base, 0x38);
    assert_int_equal(pic.chip[0].icw3, 0x04);
    assert_int_equal(pic.chip[1].icw3, 0x02);
    assert_int_equal(pic.chip[0].init_step, 0);
    assert_int_equal(pic.chip[1].init_step, 0);
    assert_int_equal(inb(0x21), 0xfb);
    assert_int_equal(inb(0xa1), 0xff);
    assert_int_equal(inb(0x20), 0); /* IRR */
    assert_int_equal(intr_changes, 0);
}

static void test_edge_request_ack_eoi(void **state)
{
    (void)state;
    reset();
    linux_init(false);
    pulse(0); /* masked: latched in IRR, no INTR */
    assert_false(pic_has_interrupt(&pic));
    assert_int_equal(inb(0x20), 0x01);
    unmask(0);
    assert_true(pic_has_interrupt(&pic));
    assert_int_equal(intr_changes, 1);
    assert_true(intr_level);
    assert_int_equal(pic_acknowledge(&pic), 0x30);
    assert_false(pic_has_interrupt(&pic));
    assert_false(intr_level);
    assert_int_equal(read_isr(0x20), 0x01);
    assert_int_equal(inb(0x20), 0x00); /* the request moved from IRR to ISR */
    pulse(0); /* a new edge while in service waits */
    assert_false(pic_has_interrupt(&pic));
    assert_int_equal(inb(0x20), 0x01);
    linux_eoi(0);
    assert_int_equal(read_isr(0x20), 0x00);
    assert_true(pic_has_interrupt(&pic));
    assert_int_equal(pic_acknowledge(&pic), 0x30);
    linux_eoi(0);
    assert_false(pic_has_interrupt(&pic));
    /* a line held high is one edge, not a stream */
    pic_set_irq(&pic, 0, true);
    assert_int_equal(pic_acknowledge(&pic), 0x30);
    linux_eoi(0);
    pic_set_irq(&pic, 0, true);
    assert_false(pic_has_interrupt(&pic));
}

static void test_priority_and_nesting(void **state)
{
    (void)state;
    reset();
    linux_init(false);
    outb(0x00, 0x21);
    outb(0x00, 0xa1);
    pulse(4);
    pulse(1);
    assert_int_equal(pic_acknowledge(&pic), 0x31);
    assert_false(pic_has_interrupt(&pic)); /* IRQ 4 is below IRQ 1 in service */
    pulse(0);
    assert_true(pic_has_interrupt(&pic)); /* IRQ 0 nests */
    assert_int_equal(pic_acknowledge(&pic), 0x30);
    assert_int_equal(read_isr(0x20), 0x03);
    outb(0x20, 0x20); /* non-specific EOI ends the highest: IRQ 0 */
    assert_int_equal(read_isr(0x20), 0x02);
    outb(0x20, 0x20);
    assert_int_equal(pic_acknowledge(&pic), 0x34);
    /* slave requests rank at the master's IR2: IRQ 9 beats IRQ 3, loses to IRQ 1 */
    outb(0x20, 0x20);
    pulse(3);
    pulse(9);
    pulse(1);
    assert_int_equal(pic_acknowledge(&pic), 0x31);
    assert_false(pic_has_interrupt(&pic));
    outb(0x20, 0x20);
    assert_int_equal(pic_acknowledge(&pic), 0x39);
    assert_false(pic_has_interrupt(&pic)); /* IRQ 3 waits behind IR2 in service */
    linux_eoi(9);
    assert_int_equal(pic_acknowledge(&pic), 0x33);
}

static void test_cascade(void **state)
{
    (void)state;
    reset();
    linux_init(false);
    unmask(12);
    pulse(12);
    assert_true(pic_has_interrupt(&pic));
    assert_int_equal(inb(0x20), 0x04); /* master sees its IR2 */
    assert_int_equal(pic_acknowledge(&pic), 0x3c);
    assert_int_equal(read_isr(0x20), 0x04);
    assert_int_equal(read_isr(0xa0), 0x10);
    pulse(14); /* a second slave request, masked at the slave */
    unmask(14);
    assert_false(pic_has_interrupt(&pic));
    linux_eoi(12);
    assert_true(pic_has_interrupt(&pic));
    assert_int_equal(pic_acknowledge(&pic), 0x3e);
    linux_eoi(14);
    assert_int_equal(read_isr(0x20), 0);
    assert_int_equal(read_isr(0xa0), 0);
    assert_false(pic_has_interrupt(&pic));
    /* masking the cascade input hides every slave request */
    outb(0xff, 0x21);
    pulse(14);
    assert_false(pic_has_interrupt(&pic));
    unmask(2);
    assert_int_equal(pic_acknowledge(&pic), 0x3e);
}

static void test_elcr_and_level(void **state)
{
    (void)state;
    reset();
    linux_init(false);
    outb(0xff, 0x4d0);
    outb(0xff, 0x4d1);
    assert_int_equal(inb(0x4d0), 0xf8); /* IRQ 0, 1, 2 edge only */
    assert_int_equal(inb(0x4d1), 0xde); /* IRQ 8, 13 edge only */
    outb(0x00, 0x4d0);
    outb(0x0e, 0x4d1); /* IRQ 9, 10, 11 level */
    unmask(10);
    pic_set_irq(&pic, 10, true);
    assert_int_equal(pic_acknowledge(&pic), 0x3a);
    linux_eoi(10);
    assert_true(pic_has_interrupt(&pic)); /* still high: requests again */
    assert_int_equal(pic_acknowledge(&pic), 0x3a);
    pic_set_irq(&pic, 10, false);
    linux_eoi(10);
    assert_false(pic_has_interrupt(&pic));
    assert_int_equal(inb(0xa0), 0x00);
    /* a level request that goes away before INTA: spurious IRQ 15, master IR2 in service */
    pic_set_irq(&pic, 10, true);
    assert_true(pic_has_interrupt(&pic));
    pic_set_irq(&pic, 10, false);
    assert_int_equal(pic_acknowledge(&pic), 0x3f);
    assert_int_equal(read_isr(0xa0), 0x00);
    assert_int_equal(read_isr(0x20), 0x04);
    outb(0x62, 0x20); /* Linux's spurious-15 path EOIs the master's cascade */
    assert_int_equal(read_isr(0x20), 0x00);
    assert_false(pic_has_interrupt(&pic));
}

static void test_spurious_irq7(void **state)
{
    (void)state;
    reset();
    linux_init(false);
    unmask(5);
    pulse(5);
    assert_true(pic_has_interrupt(&pic));
    outb(inb(0x21) | 0x20, 0x21); /* masked between INTR and INTA */
    assert_false(pic_has_interrupt(&pic));
    assert_int_equal(pic_acknowledge(&pic), 0x37);
    assert_int_equal(read_isr(0x20), 0x00); /* i8259A_irq_real: not a real IRQ 7 */
    /* acknowledge with nothing pending at all */
    assert_int_equal(pic_acknowledge(&pic), 0x37);
    /* a real IRQ 7 does show in ISR */
    unmask(7);
    pulse(7);
    assert_int_equal(pic_acknowledge(&pic), 0x37);
    assert_int_equal(read_isr(0x20), 0x80);
}

static void test_auto_eoi_and_rotation(void **state)
{
    (void)state;
    reset();
    linux_init(true);
    outb(0x00, 0x21);
    pulse(3);
    assert_int_equal(pic_acknowledge(&pic), 0x33);
    assert_int_equal(read_isr(0x20), 0x00);
    pulse(3);
    assert_int_equal(pic_acknowledge(&pic), 0x33); /* not blocked: nothing in service */
    /* rotate in AEOI mode: the acknowledged level becomes the lowest */
    outb(0x80, 0x20);
    pulse(3);
    pulse(5);
    assert_int_equal(pic_acknowledge(&pic), 0x33);
    assert_int_equal(pic.chip[0].lowest_prio, 3);
    pulse(1);
    assert_int_equal(pic_acknowledge(&pic), 0x35); /* 5 now outranks 1 */
    assert_int_equal(pic_acknowledge(&pic), 0x31);
    outb(0x00, 0x20);
    assert_false(pic.chip[0].rotate_on_aeoi);
}

static void test_rotation_commands(void **state)
{
    (void)state;
    reset();
    linux_init(false);
    outb(0x00, 0x21);
    outb(0xc4, 0x20); /* set priority: IR4 lowest, IR5 highest */
    pulse(0);
    pulse(6);
    assert_int_equal(pic_acknowledge(&pic), 0x36);
    outb(0xa0, 0x20); /* rotate on non-specific EOI: IR6 becomes lowest */
    assert_int_equal(pic.chip[0].lowest_prio, 6);
    assert_int_equal(read_isr(0x20), 0x00);
    pulse(6);
    assert_int_equal(pic_acknowledge(&pic), 0x30); /* IR0 now outranks IR6 */
    outb(0xe0, 0x20);                              /* rotate on specific EOI for IR0 */
    assert_int_equal(pic.chip[0].lowest_prio, 0);
    assert_int_equal(pic_acknowledge(&pic), 0x36);
    outb(0x40, 0x20); /* no operation */
    assert_int_equal(read_isr(0x20), 0x40);
}

static void test_ocw3_poll_and_special_mask(void **state)
{
    (void)state;
    reset();
    linux_init(false);
    outb(0x00, 0x21);
    outb(0x0c, 0x20); /* poll */
    assert_int_equal(inb(0x20), 0x00);
    pulse(6);
    outb(0x0c, 0x20);
    assert_int_equal(inb(0x20), 0x86);
    assert_int_equal(read_isr(0x20), 0x40);
    assert_false(pic_has_interrupt(&pic));
    assert_int_equal(inb(0x20), 0x00); /* back to reading IRR */
    /* special mask mode: mask the level in service, lower levels get through */
    pulse(7);
    assert_false(pic_has_interrupt(&pic));
    outb(0x68, 0x20);
    outb(0x40, 0x21);
    assert_true(pic_has_interrupt(&pic));
    assert_int_equal(pic_acknowledge(&pic), 0x37);
    outb(0x48, 0x20); /* leave special mask mode */
    assert_false(pic.chip[0].special_mask);
}

static void test_reinit_needs_new_edge(void **state)
{
    (void)state;
    reset();
    linux_init(false);
    unmask(1);
    pic_set_irq(&pic, 1, true);
    assert_true(pic_has_interrupt(&pic));
    outb(0x11, 0x20); /* ICW1 clears IRR, ISR and the mask */
    outb(0x40, 0x21);
    outb(0x04, 0x21);
    outb(0x01, 0x21);
    assert_int_equal(inb(0x21), 0x00);
    assert_false(pic_has_interrupt(&pic));
    pic_set_irq(&pic, 1, false);
    pic_set_irq(&pic, 1, true);
    assert_int_equal(pic_acknowledge(&pic), 0x41);
    /* single mode, no ICW4: ICW2 then straight to operation */
    outb(0x12, 0xa0);
    outb(0x70, 0xa1);
    assert_int_equal(pic.chip[1].init_step, 0);
    outb(0x5a, 0xa1);
    assert_int_equal(inb(0xa1), 0x5a);
}

static void test_ignored_inputs_and_wide_access(void **state)
{
    (void)state;
    reset();
    linux_init(false);
    outb(0x00, 0x21);
    pic_set_irq(&pic, 2, true); /* the cascade input belongs to the slave */
    pic_set_irq(&pic, 16, true);
    pic_set_irq(&pic, 1000, true);
    assert_false(pic_has_interrupt(&pic));
    /* a 16-bit write is two byte cycles: OCW3 "read ISR" to 0x20, then the mask to 0x21 */
    const struct dev_region *r = region_of(0x20);
    r->ops->write(r->dev, 0, 2, 0x550b, 0);
    assert_int_equal(inb(0x21), 0x55);
    assert_true(pic.chip[0].read_isr);
    assert_int_equal(r->ops->read(r->dev, 0, 2, 0), 0x5500);
    r = region_of(0x4d0);
    r->ops->write(r->dev, 0, 2, 0xffff, 0);
    assert_int_equal(r->ops->read(r->dev, 0, 2, 0), 0xdef8);
    r->ops->write(r->dev, 0, 2, 0, 0);
    /* the irq_line adapter */
    struct irq_line line = { pic_irq_line_set, &pic, 4 };
    outb(0x00, 0x21);
    irq_line_set(&line, true);
    irq_line_set(&line, false);
    assert_int_equal(pic_acknowledge(&pic), 0x34);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_power_on_and_linux_probe),
        cmocka_unit_test(test_edge_request_ack_eoi),
        cmocka_unit_test(test_priority_and_nesting),
        cmocka_unit_test(test_cascade),
        cmocka_unit_test(test_elcr_and_level),
        cmocka_unit_test(test_spurious_irq7),
        cmocka_unit_test(test_auto_eoi_and_rotation),
        cmocka_unit_test(test_rotation_commands),
        cmocka_unit_test(test_ocw3_poll_and_special_mask),
        cmocka_unit_test(test_reinit_needs_new_edge),
        cmocka_unit_test(test_ignored_inputs_and_wide_access),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
