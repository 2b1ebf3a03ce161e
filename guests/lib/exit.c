/* Ending a guest: port 0xf4 under Tessera (and QEMU's isa-debug-exit), otherwise the power-off
 * doors of the emulators we test on. */
#include "guest.h"

void guest_exit(uint8_t status)
{
    serial_drain();
    outb(TESSERA_DEBUG_EXIT_PORT, status);
    /* Still here: nothing listens at 0xf4. Under Tessera that cannot happen (the write ends the
     * VM); on a bare machine, power off. */
    guest_poweroff();
}

void guest_poweroff(void)
{
    serial_drain();
    /* Bochs: the string "Shutdown" at port 0x8900 (platforms.md). */
    const char *magic = "Shutdown";
    for (const char *p = magic; *p; p++)
        outb(0x8900, (uint8_t)*p);
    /* ACPI PM1a control, SLP_EN with the S5 sleep type these firmwares use: Bochs BIOS puts the
     * PM block at 0xb000, SeaBIOS on QEMU i440fx at 0x600. */
    outw(0xb004, 0x2000);
    outw(0x604, 0x2000);
    cpu_halt_forever();
}
