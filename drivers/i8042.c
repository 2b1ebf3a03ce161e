/* Polled i8042 keyboard input (drivers/i8042.h). */
#include <drivers/i8042.h>
#include <x86/io.h>

#define I8042_DATA 0x60
#define I8042_STATUS 0x64
#define STATUS_OUTPUT_FULL 0x01
#define STATUS_AUX 0x20 /* the byte is from the mouse port */

bool i8042_present(void)
{
    return inb(I8042_STATUS) != 0xff;
}

int i8042_read(void)
{
    for (unsigned tries = 0; tries < 4; tries++) {
        uint8_t status = inb(I8042_STATUS);
        if (status == 0xff || !(status & STATUS_OUTPUT_FULL))
            return -1;
        uint8_t data = inb(I8042_DATA);
        if (!(status & STATUS_AUX))
            return data;
    }
    return -1;
}
