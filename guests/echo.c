/* echo: the receive path of the virtual UART. Reads COM1 by polling LSR (data ready), collects a
 * line (CR or LF ends it) and prints it back as "echo: got 'LINE'". The line "quit" ends it with
 * status 0. Between polls it sleeps 1 ms (SET_TIMER + HLT), so an idle echo costs its CPU little.
 * It is what the monitor's `console NAME` is tested with (tests/integration/test_monitor.sh).
 * cmdline: ticks=N sleeps N TSC ticks instead of 1 ms. */
#include "guest.h"
#include "start64.h"

#define UART_LSR_DR 0x01
#define LINE_MAX 100

int guest_main(const struct tessera_start_info *info)
{
    (void)info;
    struct tessera_time t;
    if (!tessera_detect(NULL, NULL) || tessera_time(&t) != 0) {
        guest_printf("echo: not running under Tessera\n");
        return 1;
    }
    uint64_t ticks;
    if (cmdline_u64_option("echo", guest_cmdline, "ticks", t.tsc_hz / 1000 ? t.tsc_hz / 1000 : 1000,
                           1, 1ull << 40, &ticks) < 0)
        return 2;
    guest_printf("echo: ready, type a line\n");
    char line[LINE_MAX + 1];
    unsigned len = 0, lines = 0;
    bool overlong = false;
    for (;;) {
        if (!(inb(COM1_BASE + UART_LSR) & UART_LSR_DR)) {
            tessera_set_timer(ticks);
            __asm__ volatile("hlt" : : : "memory");
            continue;
        }
        char c = (char)inb(COM1_BASE + UART_DATA);
        if (c != '\r' && c != '\n') {
            if (len < LINE_MAX)
                line[len++] = c;
            else
                overlong = true;
            continue;
        }
        if (len == 0)
            continue; /* the LF of a CR LF, or an empty line */
        line[len] = '\0';
        for (unsigned i = 0; i < len; i++)
            if (line[i] < 0x20 || line[i] > 0x7e)
                line[i] = '?';
        lines++;
        guest_printf("echo: got '%s'%s (line %u)\n", line, overlong ? " (cut)" : "", lines);
        if (len == 4 && line[0] == 'q' && line[1] == 'u' && line[2] == 'i' && line[3] == 't') {
            guest_printf("echo: bye\n");
            return 0;
        }
        len = 0;
        overlong = false;
    }
}
