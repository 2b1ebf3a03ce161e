/* The monitor: a shell on the hypervisor's console (serial and screen), fed by the host's serial
 * port and PS/2 keyboard, run by the boot CPU from its run loop (docs/design.md, "The monitor").
 * Commands: kernel/monitor/monitor_cmd.c; line editing: kernel/monitor/line_edit.c. */
#ifndef TESSERA_MONITOR_H
#define TESSERA_MONITOR_H

#include <stdbool.h>
#include <stdint.h>

/* Escape from `console NAME` back to the monitor: Ctrl-] (as telnet). */
#define MONITOR_ESCAPE_KEY 0x1d

/* Turns the monitor on (once the VMs exist). show_prompt: draw the prompt at once; otherwise
 * (end=poweroff runs: tests, benchmarks) only after the first keystroke, so that an untouched
 * run's log is the same as without a monitor. */
void monitor_start(bool show_prompt);
/* On the boot CPU, wherever its run loop pumps the console: reads input (at most every
 * millisecond), edits, runs commands, forwards a console session's keystrokes. Bounded. */
void monitor_poll(void);
/* When monitor_poll next has something to do (UINT64_MAX while the monitor is off): the run loop
 * calls it only then, one compare per slice. */
extern uint64_t monitor_next_poll;

#endif
