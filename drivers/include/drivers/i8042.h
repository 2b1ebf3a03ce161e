/* The PC keyboard controller (i8042, ports 0x60/0x64), polled: the host's keyboard input for the
 * monitor. BIOS and most UEFI firmware also drive it from a USB keyboard (legacy USB emulation,
 * "USB legacy support" in the setup). No VM may own these ports (kernel/config.c). */
#ifndef DRIVERS_I8042_H
#define DRIVERS_I8042_H

#include <stdbool.h>
#include <stdint.h>

/* Looks for a controller (status 0xff: none decodes the port); never waits. */
bool i8042_present(void);
/* A byte from the keyboard (scan code set 1: translation is on as firmware leaves it), or -1
 * when none is waiting; mouse bytes are dropped. */
int i8042_read(void);

#endif
