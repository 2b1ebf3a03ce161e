/* The monitor's commands: the table, and the parser that turns one edited line into a command
 * and its VM. Pure (host-testable): a bad line (unknown command, wrong arguments, unknown VM
 * name, control bytes, too long) gets exactly one error line, and nothing runs. */
#ifndef TESSERA_MONITOR_CMD_H
#define TESSERA_MONITOR_CMD_H

#include <stdbool.h>
#include <stddef.h>

enum monitor_cmd_id {
    MONITOR_HELP,
    MONITOR_LIST,
    MONITOR_STATS,
    MONITOR_REGS,
    MONITOR_STOP,
    MONITOR_START,
    MONITOR_RESTART,
    MONITOR_CONSOLE,
    MONITOR_LOG,
    MONITOR_CPUS,
    MONITOR_MEM,
    MONITOR_POWEROFF,
    MONITOR_REBOOT,
    MONITOR_CMD_COUNT
};

struct monitor_cmd_info {
    const char *name;
    bool takes_vm; /* exactly one argument, a VM name; otherwise none */
    const char *help;
};
extern const struct monitor_cmd_info monitor_cmds[MONITOR_CMD_COUNT];

#define MONITOR_LINE_MAX 120
#define MONITOR_ERROR_MAX 128

/* Looks a VM up by name: its index, or -1. */
typedef int (*monitor_find_vm_fn)(void *ctx, const char *name);

enum monitor_parse_result {
    MONITOR_PARSE_EMPTY, /* blank line: nothing to do, nothing to say */
    MONITOR_PARSE_OK,    /* *id and *vm (-1 without a VM) are set */
    MONITOR_PARSE_ERROR, /* error holds one line (no newline) */
};
enum monitor_parse_result monitor_parse(const char *line, size_t len, monitor_find_vm_fn find_vm,
                                        void *ctx, enum monitor_cmd_id *id, int *vm,
                                        char *error, size_t error_size);

#endif
