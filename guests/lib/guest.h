/* The tiny library every 32- and 64-bit in-tree guest links with: COM1 output, formatted lines,
 * Tessera detection and hypercalls, command-line parsing, and a way out. */
#ifndef GUEST_GUEST_H
#define GUEST_GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <tessera/cmdline.h>
#include <tessera/hypercall_abi.h>
#include "io.h"

/* ---- console (COM1, polled) ---- */
void serial_init(void);
void serial_putc(char c);
void serial_write(const char *s, size_t len);
void serial_drain(void); /* waits until the last byte has left the transmitter */

/* Formats with kvsnprintf (%d %u %x %s %c %p, l/ll/z/h) and writes the result to COM1 in one
 * go; output is cut at GUEST_PRINTF_MAX bytes. A call should print whole lines. */
#define GUEST_PRINTF_MAX 256
int guest_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int guest_vprintf(const char *fmt, va_list ap);

/* ---- Tessera detection and hypercalls (hypercall_abi.h) ---- */
/* True when CPUID 0x40000000 carries the "TesseraVisor" signature. Fills max_leaf and the ABI
 * version (CPUID 0x40000001.EAX) when the pointers are non-NULL. Never executes VMCALL. */
bool tessera_detect(uint32_t *max_leaf, uint32_t *abi_version);
/* CPUID.1:ECX bit 31: some hypervisor is present. */
bool cpu_has_hypervisor_bit(void);

struct tessera_time {
    uint64_t tsc_hz;
    uint64_t ticks; /* monotonic TSC ticks */
    uint64_t ns;    /* since boot */
};

/* Raw call: RAX = nr, RBX/RCX/RDX = args; returns RAX and, when out != NULL, RBX/RCX/RDX after
 * the call. Only valid under Tessera (elsewhere VMCALL raises #UD). */
long tessera_hypercall(unsigned long nr, unsigned long a1, unsigned long a2, unsigned long a3,
                       unsigned long out[3]);
/* All len bytes (at most TESSERA_HC_CONSOLE_MAX), looping on short writes and yielding between
 * them; returns len, or the bytes written before an error, or the error (< 0). */
long tessera_console_write(const void *buf, unsigned long len);
long tessera_yield(void);
long tessera_vm_id(void);
long tessera_time(struct tessera_time *t);
long tessera_set_timer(uint64_t ticks);
void tessera_exit(unsigned long status) __attribute__((noreturn));

/* ---- ending ---- */
/* Drains COM1 and writes status to port 0xf4 (Tessera and QEMU isa-debug-exit end there). If the
 * machine is still running afterwards (bare hardware, Bochs), guest_poweroff() follows. */
void guest_exit(uint8_t status) __attribute__((noreturn));
/* Bare-machine power off for the emulators we test on: Bochs/QEMU ACPI PM1a and the Bochs
 * shutdown port; halts forever when nothing listens. */
void guest_poweroff(void) __attribute__((noreturn));

/* ---- command line: space-separated words, options are key=value ---- */
/* cmdline_get, cmdline_get_u64: kernel/include/tessera/cmdline.h (the hypervisor's own). */
/* Like cmdline_get_u64 but leaves *out = dflt when absent; prints a line naming the key and
 * returns -EINVAL on a malformed value, or when it lies outside [min, max]. */
int cmdline_u64_option(const char *prefix, const char *cmdline, const char *key, uint64_t dflt,
                       uint64_t min, uint64_t max, uint64_t *out);

/* ---- checksums ---- */
uint32_t crc32(uint32_t crc, const void *data, size_t len); /* zlib's CRC-32: start with 0 */

/* Every guest's entry (lib/start64.c or lib/start32.c) leaves its command line here ("" when
 * there is none). */
extern const char *guest_cmdline;

#endif
