/* libFuzzer harness for the monitor's input path: the line editor (kernel/monitor/line_edit.c)
 * and the command parser (kernel/monitor/monitor_cmd.c) fed arbitrary bytes as typed on the
 * serial console, and the same bytes as PS/2 scan codes through kernel/monitor/kbd_set1.c into a
 * second editor. Checked after every byte: the edit line is NUL-terminated, at most
 * LINE_EDIT_MAX printable bytes, the cursor inside it; its rendering fits and holds no newline.
 * For every line handed over: it is printable only, and the parser either runs a command of the
 * table (a VM exactly when the command takes one), says nothing for a blank line, or answers
 * with exactly one line starting "error: ". History entries stay printable and terminated.
 * FUZZ-SOURCES: kernel/monitor/line_edit.c kernel/monitor/monitor_cmd.c kernel/monitor/kbd_set1.c kernel/lib/printf.c kernel/lib/string.c */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <tessera/kbd_set1.h>
#include <tessera/line_edit.h>
#include <tessera/monitor_cmd.h>

static const char *const vm_names[] = { "hello", "echo", "linux" };

static int find_vm(void *ctx, const char *name)
{
    (void)ctx;
    for (int i = 0; i < 3; i++)
        if (strcmp(vm_names[i], name) == 0)
            return i;
    return -1;
}

static void check_printable(const char *s, size_t len)
{
    if (len > LINE_EDIT_MAX || s[len] != '\0')
        abort();
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            abort();
}

static void check_editor(const struct line_edit *e)
{
    check_printable(e->buf, e->len);
    if (e->cursor > e->len)
        abort();
    for (unsigned h = 0; h < LINE_EDIT_HISTORY; h++)
        check_printable(e->history[h], strnlen(e->history[h], LINE_EDIT_MAX + 1));
    char out[256];
    size_t n = line_edit_render(e, "tessera> ", out, sizeof(out));
    if (n >= sizeof(out) || strlen(out) != n || memchr(out, '\n', n))
        abort();
}

static void check_line(const struct line_edit *e)
{
    check_printable(e->done, e->done_len);
    enum monitor_cmd_id id;
    int vm = -7;
    char error[MONITOR_ERROR_MAX];
    enum monitor_parse_result r = monitor_parse(e->done, e->done_len, find_vm, NULL, &id, &vm,
                                                error, sizeof(error));
    if (r == MONITOR_PARSE_OK) {
        if ((unsigned)id >= MONITOR_CMD_COUNT)
            abort();
        if (monitor_cmds[id].takes_vm ? (vm < 0 || vm > 2) : vm != -1)
            abort();
    } else if (r == MONITOR_PARSE_ERROR) {
        size_t n = strnlen(error, sizeof(error));
        if (n == sizeof(error) || strncmp(error, "error: ", 7) != 0 || memchr(error, '\n', n))
            abort();
    } else if (r == MONITOR_PARSE_EMPTY) {
        for (size_t i = 0; i < e->done_len; i++)
            if (e->done[i] != ' ')
                abort();
    } else {
        abort();
    }
}

static void feed(struct line_edit *e, uint8_t byte)
{
    enum line_edit_event ev = line_edit_feed(e, byte);
    if (ev == LINE_EDIT_ENTER)
        check_line(e);
    check_editor(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct line_edit serial, keyboard_editor;
    static struct kbd_set1 keyboard;
    line_edit_init(&serial);
    line_edit_init(&keyboard_editor);
    kbd_set1_init(&keyboard);
    for (size_t i = 0; i < size; i++) {
        feed(&serial, data[i]);
        char out[4];
        size_t n = kbd_set1_feed(&keyboard, data[i], out);
        if (n > 4)
            abort();
        for (size_t k = 0; k < n; k++)
            feed(&keyboard_editor, (uint8_t)out[k]);
    }
    return 0;
}
