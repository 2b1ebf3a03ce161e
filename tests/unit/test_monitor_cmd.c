/* The monitor's command parser: every command of the table, VM names, and each kind of bad line
 * (unknown command, missing or extra arguments, unknown VM, control bytes, too long) answered
 * with exactly one line, naming what was wrong. */
/* UNIT-SOURCES: kernel/monitor/monitor_cmd.c kernel/lib/printf.c kernel/lib/string.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <tessera/monitor_cmd.h>

static const char *const names[] = { "hello", "echo", "linux-1" };

static int find(void *ctx, const char *name)
{
    int *lookups = ctx;
    (*lookups)++;
    for (int i = 0; i < 3; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}

static enum monitor_parse_result parse(const char *line, enum monitor_cmd_id *id, int *vm,
                                       char *error)
{
    int lookups = 0;
    memset(error, 0x55, MONITOR_ERROR_MAX);
    enum monitor_parse_result r = monitor_parse(line, strlen(line), find, &lookups, id, vm,
                                                error, MONITOR_ERROR_MAX);
    if (r == MONITOR_PARSE_ERROR) {
        assert_non_null(memchr(error, 0, MONITOR_ERROR_MAX));
        assert_null(strchr(error, '\n')); /* one line */
        assert_true(strncmp(error, "error: ", 7) == 0);
    }
    return r;
}

static void ok(const char *line, enum monitor_cmd_id want, int want_vm)
{
    enum monitor_cmd_id id;
    int vm;
    char error[MONITOR_ERROR_MAX];
    assert_int_equal(parse(line, &id, &vm, error), MONITOR_PARSE_OK);
    assert_int_equal(id, want);
    assert_int_equal(vm, want_vm);
}

static void bad(const char *line, const char *want)
{
    enum monitor_cmd_id id;
    int vm;
    char error[MONITOR_ERROR_MAX];
    assert_int_equal(parse(line, &id, &vm, error), MONITOR_PARSE_ERROR);
    assert_string_equal(error, want);
}

static void test_every_command(void **state)
{
    (void)state;
    ok("help", MONITOR_HELP, -1);
    ok("list", MONITOR_LIST, -1);
    ok("stats hello", MONITOR_STATS, 0);
    ok("regs echo", MONITOR_REGS, 1);
    ok("stop linux-1", MONITOR_STOP, 2);
    ok("start hello", MONITOR_START, 0);
    ok("restart echo", MONITOR_RESTART, 1);
    ok("console echo", MONITOR_CONSOLE, 1);
    ok("log hello", MONITOR_LOG, 0);
    ok("cpus", MONITOR_CPUS, -1);
    ok("mem", MONITOR_MEM, -1);
    ok("poweroff", MONITOR_POWEROFF, -1);
    ok("reboot", MONITOR_REBOOT, -1);
    /* every entry of the table is reachable and has its help text */
    for (unsigned c = 0; c < MONITOR_CMD_COUNT; c++) {
        assert_non_null(monitor_cmds[c].name);
        assert_non_null(monitor_cmds[c].help);
    }
}

static void test_spaces(void **state)
{
    (void)state;
    ok("   list   ", MONITOR_LIST, -1);
    ok("stats    echo  ", MONITOR_STATS, 1);
    enum monitor_cmd_id id;
    int vm;
    char error[MONITOR_ERROR_MAX];
    assert_int_equal(parse("", &id, &vm, error), MONITOR_PARSE_EMPTY);
    assert_int_equal(parse("     ", &id, &vm, error), MONITOR_PARSE_EMPTY);
}

static void test_bad_lines(void **state)
{
    (void)state;
    bad("bogus", "error: unknown command 'bogus' (try 'help')");
    bad("LIST", "error: unknown command 'LIST' (try 'help')"); /* names are exact */
    bad("lis", "error: unknown command 'lis' (try 'help')");
    bad("listx", "error: unknown command 'listx' (try 'help')");
    bad("abcdefghijklmnopqrstuvwxyz", "error: unknown command 'abcdefghijklmnop...' (try 'help')");
    bad("list now", "error: 'list' takes no arguments");
    bad("stats", "error: 'stats' needs one VM name: stats NAME");
    bad("stop a b", "error: 'stop' needs one VM name: stop NAME");
    bad("stats nosuch", "error: no VM named 'nosuch' (see 'list')");
    bad("console HELLO", "error: no VM named 'HELLO' (see 'list')");
    bad("stats hello\x01", "error: control byte 0x01 in the line");
    bad("\x1b[Alist", "error: control byte 0x1b in the line");
    bad("list\xc3\xa9", "error: control byte 0xc3 in the line");
}

static void test_too_long(void **state)
{
    (void)state;
    char line[MONITOR_LINE_MAX + 2];
    memset(line, 'x', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\0';
    bad(line, "error: line too long (at most 120 characters)");
    line[MONITOR_LINE_MAX] = '\0'; /* exactly the limit: parsed (as an unknown command) */
    bad(line, "error: unknown command 'xxxxxxxxxxxxxxxx...' (try 'help')");
}

static void test_nul_inside_is_a_control_byte(void **state)
{
    (void)state;
    enum monitor_cmd_id id;
    int vm;
    char error[MONITOR_ERROR_MAX];
    assert_int_equal(monitor_parse("li\0st", 5, find, &(int){0}, &id, &vm, error, sizeof(error)),
                     MONITOR_PARSE_ERROR);
    assert_string_equal(error, "error: control byte 0x00 in the line");
}

static void test_no_lookup_without_a_name_argument(void **state)
{
    (void)state;
    int lookups = 0;
    enum monitor_cmd_id id;
    int vm;
    char error[MONITOR_ERROR_MAX];
    monitor_parse("list", 4, find, &lookups, &id, &vm, error, sizeof(error));
    monitor_parse("stats", 5, find, &lookups, &id, &vm, error, sizeof(error));
    assert_int_equal(lookups, 0);
    /* a small error buffer: cut, still terminated */
    char small[10];
    assert_int_equal(monitor_parse("bogus", 5, find, &lookups, &id, &vm, small, sizeof(small)),
                     MONITOR_PARSE_ERROR);
    assert_int_equal(strlen(small), 9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_command),
        cmocka_unit_test(test_spaces),
        cmocka_unit_test(test_bad_lines),
        cmocka_unit_test(test_too_long),
        cmocka_unit_test(test_nul_inside_is_a_control_byte),
        cmocka_unit_test(test_no_lookup_without_a_name_argument),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
