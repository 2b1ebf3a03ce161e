/* The monitor's command table and parser (tessera/monitor_cmd.h). */
#include <tessera/monitor_cmd.h>
#include <tessera/printf.h>
#include <tessera/string.h>

const struct monitor_cmd_info monitor_cmds[MONITOR_CMD_COUNT] = {
    [MONITOR_HELP] = { "help", false, "this list" },
    [MONITOR_LIST] = { "list", false, "every VM: state, CPU, weight, memory, share, uptime, exits, restarts" },
    [MONITOR_STATS] = { "stats", true, "exit counts by reason, time in guest and hypervisor, slices" },
    [MONITOR_REGS] = { "regs", true, "register dump (as in a failure report)" },
    [MONITOR_STOP] = { "stop", true, "stop a running VM" },
    [MONITOR_START] = { "start", true, "start an ended VM again (fresh RAM, its image reloaded)" },
    [MONITOR_RESTART] = { "restart", true, "stop a VM and start it again" },
    [MONITOR_CONSOLE] = { "console", true, "type into a VM's COM1; Ctrl-] returns to the monitor" },
    [MONITOR_LOG] = { "log", true, "replay a VM's recent output (its 4 KiB ring)" },
    [MONITOR_CPUS] = { "cpus", false, "physical CPUs and the VMs each runs" },
    [MONITOR_MEM] = { "mem", false, "where every VM's RAM lives" },
    [MONITOR_POWEROFF] = { "poweroff", false, "power the machine off" },
    [MONITOR_REBOOT] = { "reboot", false, "reset the machine" },
};

/* Up to 16 bytes of a word for an error message (the line holds printable ASCII only). */
static void quote(char *out, size_t size, const char *word, size_t len)
{
    bool cut = len > 16;
    ksnprintf(out, size, "%.*s%s", (int)(cut ? 16 : len), word, cut ? "..." : "");
}

enum monitor_parse_result monitor_parse(const char *line, size_t len, monitor_find_vm_fn find_vm,
                                        void *ctx, enum monitor_cmd_id *id, int *vm,
                                        char *error, size_t error_size)
{
    *vm = -1;
    if (len > MONITOR_LINE_MAX) {
        ksnprintf(error, error_size, "error: line too long (at most %u characters)",
                  MONITOR_LINE_MAX);
        return MONITOR_PARSE_ERROR;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)line[i];
        if (c < 0x20 || c > 0x7e) {
            ksnprintf(error, error_size, "error: control byte 0x%02x in the line", c);
            return MONITOR_PARSE_ERROR;
        }
    }
    /* split into at most three words (the third only to say there are too many) */
    const char *word[3];
    size_t word_len[3];
    unsigned words = 0;
    for (size_t i = 0; i < len;) {
        while (i < len && line[i] == ' ')
            i++;
        if (i == len)
            break;
        size_t start = i;
        while (i < len && line[i] != ' ')
            i++;
        if (words < 3) {
            word[words] = line + start;
            word_len[words] = i - start;
        }
        words++;
    }
    if (words == 0)
        return MONITOR_PARSE_EMPTY;
    char shown[24];
    int found = -1;
    for (unsigned c = 0; c < MONITOR_CMD_COUNT; c++)
        if (strlen(monitor_cmds[c].name) == word_len[0] &&
            memcmp(monitor_cmds[c].name, word[0], word_len[0]) == 0)
            found = (int)c;
    if (found < 0) {
        quote(shown, sizeof(shown), word[0], word_len[0]);
        ksnprintf(error, error_size, "error: unknown command '%s' (try 'help')", shown);
        return MONITOR_PARSE_ERROR;
    }
    const struct monitor_cmd_info *cmd = &monitor_cmds[found];
    if (!cmd->takes_vm && words > 1) {
        ksnprintf(error, error_size, "error: '%s' takes no arguments", cmd->name);
        return MONITOR_PARSE_ERROR;
    }
    if (cmd->takes_vm && words != 2) {
        ksnprintf(error, error_size, "error: '%s' needs one VM name: %s NAME", cmd->name,
                  cmd->name);
        return MONITOR_PARSE_ERROR;
    }
    if (cmd->takes_vm) {
        char name[MONITOR_LINE_MAX + 1];
        memcpy(name, word[1], word_len[1]);
        name[word_len[1]] = '\0';
        *vm = find_vm ? find_vm(ctx, name) : -1;
        if (*vm < 0) {
            quote(shown, sizeof(shown), word[1], word_len[1]);
            ksnprintf(error, error_size, "error: no VM named '%s' (see 'list')", shown);
            return MONITOR_PARSE_ERROR;
        }
    }
    *id = (enum monitor_cmd_id)found;
    return MONITOR_PARSE_OK;
}
