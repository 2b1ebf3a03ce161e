/* PIT channel 2 as a one-shot stopwatch (8254 mode 0: OUT2 rises at terminal count; read back in
 * bit 5 of port 0x61). The speaker stays off (bit 1 of port 0x61 clear). */
#include <drivers/pit.h>
#include <tessera/arch.h>
#include <x86/io.h>

#define PIT_CH2_DATA 0x42
#define PIT_COMMAND 0x43
#define PORT_B 0x61
#define PORT_B_GATE2 0x01
#define PORT_B_SPEAKER 0x02
#define PORT_B_OUT2 0x20
/* Generous bound on polls of port 0x61 (each takes about 1 us on real hardware). */
#define PIT_POLL_LIMIT 10000000u

uint64_t pit_measure_tsc(unsigned ms)
{
    if (ms == 0 || ms > 54)
        return 0;
    uint32_t count = (uint32_t)((uint64_t)PIT_HZ * ms / 1000);
    uint8_t b = inb(PORT_B) & (uint8_t) ~(PORT_B_SPEAKER | PORT_B_GATE2);
    outb(PORT_B, b);                  /* gate low: hold the counter while we load it */
    outb(PIT_COMMAND, 0xb0);          /* channel 2, lobyte/hibyte, mode 0, binary */
    outb(PIT_CH2_DATA, (uint8_t)count);
    outb(PIT_CH2_DATA, (uint8_t)(count >> 8));
    uint64_t start = arch_now();
    outb(PORT_B, b | PORT_B_GATE2);   /* gate high: counting starts */
    for (uint32_t i = 0; i < PIT_POLL_LIMIT; i++) {
        if (inb(PORT_B) & PORT_B_OUT2) {
            uint64_t end = arch_now();
            outb(PORT_B, b);
            return end - start;
        }
    }
    outb(PORT_B, b);
    return 0;
}
