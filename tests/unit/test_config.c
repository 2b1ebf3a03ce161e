/* Config parser: the happy path, the defaults, and every error path (each skips only its VM).
 * UNIT-SOURCES: kernel/config.c kernel/lib/cmdline.c kernel/lib/printf.c kernel/lib/string.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <tessera/config.h>
#include <tessera/errno.h>

#define MAX_ERRORS 32

struct errors {
    unsigned count;
    unsigned line[MAX_ERRORS];
    char reason[MAX_ERRORS][256];
    char file[MAX_ERRORS][32];
};

static void collect(void *ctx, const char *file, unsigned line, const char *reason)
{
    struct errors *e = ctx;
    if (e->count < MAX_ERRORS) {
        e->line[e->count] = line;
        snprintf(e->reason[e->count], sizeof(e->reason[0]), "%s", reason);
        snprintf(e->file[e->count], sizeof(e->file[0]), "%s", file);
    }
    e->count++;
}

static struct config cfg;
static struct errors errs;

static void parse_len(const char *text, size_t len)
{
    memset(&errs, 0, sizeof(errs));
    assert_int_equal(config_parse(text, len, "tessera.cfg", &cfg, collect, &errs), 0);
    assert_int_equal(cfg.error_count, errs.count);
}

static void parse(const char *text)
{
    parse_len(text, strlen(text));
}

static void assert_error(unsigned index, unsigned line, const char *needle)
{
    assert_true(index < errs.count);
    if (!strstr(errs.reason[index], needle))
        fail_msg("error %u on line %u is \"%s\", expected it to contain \"%s\"", index,
                 errs.line[index], errs.reason[index], needle);
    assert_int_equal(errs.line[index], line);
    assert_string_equal(errs.file[index], "tessera.cfg");
}

/* The case text sits between two good VMs; lines in `line` count from the case's first line. */
#define PRE "[vm good1]\nimage = a.elf\nports = 0x2f8-0x2fc\n"
#define PRE_LINES 3
#define POST "\n[vm good2]\nimage = b.elf\nports = 0x72\n"

static void check_case_len(const char *body, size_t body_len, unsigned line, const char *needle)
{
    size_t total = strlen(PRE) + body_len + strlen(POST);
    char *text = malloc(total);
    assert_non_null(text);
    memcpy(text, PRE, strlen(PRE));
    memcpy(text + strlen(PRE), body, body_len);
    memcpy(text + strlen(PRE) + body_len, POST, strlen(POST));
    parse_len(text, total);
    free(text);
    if (errs.count != 1) {
        for (unsigned i = 0; i < errs.count && i < MAX_ERRORS; i++)
            print_message("  line %u: %s\n", errs.line[i], errs.reason[i]);
        fail_msg("case \"%.60s\": %u errors, expected 1", body, errs.count);
    }
    assert_error(0, PRE_LINES + line, needle);
    /* Only the VM in the case was skipped. */
    assert_int_equal(cfg.vm_count, 2);
    assert_string_equal(cfg.vms[0].name, "good1");
    assert_string_equal(cfg.vms[1].name, "good2");
    assert_string_equal(cfg.vms[1].image, "b.elf");
    /* good2's header comes right after the case's last line. */
    unsigned body_lines = 1;
    for (size_t i = 0; i < body_len; i++)
        body_lines += body[i] == '\n';
    assert_int_equal(cfg.vms[1].line, PRE_LINES + body_lines + 1);
}

static void check_case(const char *body, unsigned line, const char *needle)
{
    check_case_len(body, strlen(body), line, needle);
}

/* ---- happy path ------------------------------------------------------------------------------ */

static void test_happy_path(void **state)
{
    (void)state;
    static const char text[] =
        "# Tessera test config\r\n"
        "\r\n"
        "   [vm hello]   # the 64-bit one\r\n"
        "image = hello64.elf\r\n"
        "\tmemory = 32M\r\n"
        "cpu = 1\r\n"
        "weight = 2   \r\n"
        "ports = 0x62-0x63, 0x80\r\n"
        "ports=0x2f8 - 0x2ff,1000\r\n"
        "on_fail = restart\r\n"
        "cmdline = \"console=ttyS0 # not a comment\"  # but this is\r\n"
        "module = extra.bin\r\n"
        "module = \"second one.bin\"\r\n"
        "sha256 = 0123456789ABCDEFabcdef0123456789abcdef0123456789abcdef0123456789\r\n"
        "[vm Boot_sector-2]\n"
        "image = boot.bin\n"
        "memory = 0x200000\n"
        "weight = 1000\n"
        "cpu = 255\n"
        "cmdline = plain words here   # comment\n"
        "[vm mb]\n"
        "image = \"mb.elf\"\n"
        "memory = 3G\n"
        "cmdline = \"\"\n"
        "[vm k]\n"
        "image = k.elf\n"
        "memory = 2048k"; /* no final newline */
    parse(text);
    assert_int_equal(errs.count, 0);
    assert_int_equal(cfg.vm_count, 4);

    const struct vm_config *v = &cfg.vms[0];
    assert_string_equal(v->name, "hello");
    assert_int_equal(v->line, 3);
    assert_string_equal(v->image, "hello64.elf");
    assert_int_equal(v->memory_bytes, 32ULL << 20);
    assert_int_equal(v->cpu, 1);
    assert_int_equal(v->weight, 2);
    assert_int_equal(v->port_count, 4);
    assert_int_equal(v->ports[0].first, 0x62);
    assert_int_equal(v->ports[0].last, 0x63);
    assert_int_equal(v->ports[1].first, 0x80);
    assert_int_equal(v->ports[1].last, 0x80);
    assert_int_equal(v->ports[2].first, 0x2f8);
    assert_int_equal(v->ports[2].last, 0x2ff);
    assert_int_equal(v->ports[3].first, 1000);
    assert_int_equal(v->ports[3].last, 1000);
    assert_int_equal(v->on_fail, VM_FAIL_RESTART);
    assert_string_equal(v->cmdline, "console=ttyS0 # not a comment");
    assert_int_equal(v->module_count, 2);
    assert_string_equal(v->modules[0], "extra.bin");
    assert_string_equal(v->modules[1], "second one.bin");
    assert_true(v->has_sha256);
    assert_int_equal(v->sha256[0], 0x01);
    assert_int_equal(v->sha256[1], 0x23);
    assert_int_equal(v->sha256[7], 0xef);
    assert_int_equal(v->sha256[8], 0xab);
    assert_int_equal(v->sha256[31], 0x89);

    v = &cfg.vms[1];
    assert_string_equal(v->name, "Boot_sector-2");
    assert_int_equal(v->line, 15);
    assert_int_equal(v->memory_bytes, 2ULL << 20);
    assert_int_equal(v->weight, 1000);
    assert_int_equal(v->cpu, 255);
    assert_string_equal(v->cmdline, "plain words here");
    assert_false(v->has_sha256);
    assert_int_equal(v->on_fail, VM_FAIL_STOP);
    assert_int_equal(v->port_count, 0);
    assert_int_equal(v->module_count, 0);

    v = &cfg.vms[2];
    assert_string_equal(v->image, "mb.elf");
    assert_int_equal(v->memory_bytes, 3ULL << 30);
    assert_string_equal(v->cmdline, "");

    v = &cfg.vms[3];
    assert_int_equal(v->line, 25);
    assert_int_equal(v->memory_bytes, 2ULL << 20);
}

static void test_defaults(void **state)
{
    (void)state;
    parse("[vm d]\nimage = d.elf\n");
    assert_int_equal(errs.count, 0);
    assert_int_equal(cfg.vm_count, 1);
    const struct vm_config *v = &cfg.vms[0];
    assert_int_equal(v->memory_bytes, 16ULL << 20);
    assert_int_equal(v->cpu, 0);
    assert_int_equal(v->weight, 1);
    assert_int_equal(v->on_fail, VM_FAIL_STOP);
    assert_int_equal(v->on_reboot, VM_REBOOT_RESTART);
    assert_int_equal(v->port_count, 0);
    assert_int_equal(v->module_count, 0);
    assert_false(v->has_sha256);
    assert_string_equal(v->cmdline, "");

    struct vm_config d;
    memset(&d, 0xff, sizeof(d));
    config_default_vm(&d);
    assert_int_equal(d.memory_bytes, 16ULL << 20);
    assert_int_equal(d.weight, 1);
    assert_int_equal(d.cpu, 0);
    assert_int_equal(d.on_fail, VM_FAIL_STOP);
    assert_int_equal(d.on_reboot, VM_REBOOT_RESTART);
    assert_int_equal(d.name[0], 0);
    assert_int_equal(d.port_count, 0);
    assert_int_equal(d.module_count, 0);
    assert_false(d.has_sha256);
}

static void test_limits_accepted(void **state)
{
    (void)state;
    char text[2048];
    /* 31-char name, 63-char image and module, 255-char cmdline, 8 ranges, 4 modules. */
    snprintf(text, sizeof(text),
             "[vm %s]\nimage = %s\nmodule = %s\nmodule = m2\nmodule = m3\nmodule = m4\n"
             "cmdline = \"%s\"\n"
             "ports = 0x100, 0x102, 0x104, 0x106\nports = 0x108, 0x10a, 0x10c, 0x1000-0xffff\n"
             "memory = 2M\nweight = 1\n",
             "n234567890123456789012345678901", /* 31 */
             "i23456789012345678901234567890123456789012345678901234567890123", /* 63 */
             "m23456789012345678901234567890123456789012345678901234567890123",
             /* 255 characters: */
             "c2345678901234567890123456789012345678901234567890123456789012345678901234567890"
             "1234567890123456789012345678901234567890123456789012345678901234567890123456789012"
             "3456789012345678901234567890123456789012345678901234567890123456789012345678901234"
             "56789012345");
    parse(text);
    for (unsigned i = 0; i < errs.count; i++)
        print_message("line %u: %s\n", errs.line[i], errs.reason[i]);
    assert_int_equal(errs.count, 0);
    assert_int_equal(cfg.vm_count, 1);
    assert_int_equal(strlen(cfg.vms[0].name), 31);
    assert_int_equal(strlen(cfg.vms[0].image), 63);
    assert_int_equal(strlen(cfg.vms[0].modules[0]), 63);
    assert_int_equal(strlen(cfg.vms[0].cmdline), 255);
    assert_int_equal(cfg.vms[0].module_count, 4);
    assert_int_equal(cfg.vms[0].port_count, 8);
    assert_int_equal(cfg.vms[0].ports[7].last, 0xffff);
    /* Ports next to the reserved ones are fine. */
    parse("[vm p]\nimage = p\nports = 0x22-0x5f, 0x62-0x63, 0x65-0x6f, 0x72-0x91, 0x93-0x9f, 0xa2-0xf3, "
          "0x4cf, 0x4d2-0x4d3\n");
    assert_int_equal(errs.count, 0);
    assert_int_equal(cfg.vms[0].port_count, 8);
    parse("[vm p]\nimage = p\nports = 0x400, 0xcf7, 0xd00\n");
    assert_int_equal(errs.count, 0);
    assert_int_equal(cfg.vms[0].port_count, 3);
}

static void test_empty_and_comment_only(void **state)
{
    (void)state;
    parse("");
    assert_int_equal(errs.count, 0);
    assert_int_equal(cfg.vm_count, 0);
    parse("# nothing\n\n   \t\n# more\n");
    assert_int_equal(errs.count, 0);
    assert_int_equal(cfg.vm_count, 0);
    memset(&errs, 0, sizeof(errs));
    assert_int_equal(config_parse(NULL, 0, NULL, &cfg, NULL, NULL), 0);
    assert_int_equal(cfg.vm_count, 0);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    assert_int_equal(config_parse("x", 1, "f", NULL, collect, &errs), -EINVAL);
    assert_int_equal(config_parse(NULL, 5, "f", &cfg, collect, &errs), -EINVAL);
}

static void test_null_callback_and_file(void **state)
{
    (void)state;
    /* Errors still counted without a callback; a NULL file is reported as "config". */
    static const char text[] = "[vm a]\nimage = a\nfoo = 1\n[vm b]\nimage = b\n";
    assert_int_equal(config_parse(text, strlen(text), NULL, &cfg, NULL, NULL), 0);
    assert_int_equal(cfg.error_count, 1);
    assert_int_equal(cfg.vm_count, 1);
    assert_string_equal(cfg.vms[0].name, "b");
    memset(&errs, 0, sizeof(errs));
    assert_int_equal(config_parse("foo = 1\n", 8, NULL, &cfg, collect, &errs), 0);
    assert_int_equal(errs.count, 1);
    assert_string_equal(errs.file[0], "config");
}

/* ---- every error path ------------------------------------------------------------------------ */

static void test_unknown_key(void **state)
{
    (void)state;
    check_case("[vm x]\nimage = x\nfoo = 1", 3, "unknown key 'foo'");
    check_case("[vm x]\nimage = x\nImage = y", 3, "unknown key 'Image'");
}

static void test_key_outside_section(void **state)
{
    (void)state;
    parse("image = a.elf\n[vm a]\nimage = a.elf\n");
    assert_int_equal(errs.count, 1);
    assert_error(0, 1, "outside a [vm NAME] section");
    assert_int_equal(cfg.vm_count, 1);
    assert_string_equal(cfg.vms[0].image, "a.elf");
    parse("garbage\n[vm a]\nimage = a.elf\n");
    assert_int_equal(errs.count, 1);
    assert_error(0, 1, "expected 'key = value'");
    assert_int_equal(cfg.vm_count, 1);
}

static void test_not_key_value(void **state)
{
    (void)state;
    check_case("[vm x]\nimage = x\njust words", 3, "expected 'key = value'");
    check_case("[vm x]\nimage = x\n= 5", 3, "expected 'key = value'");
}

static void test_bad_section_header(void **state)
{
    (void)state;
    check_case("[vmx]\nimage = x", 1, "bad section header");
    check_case("[vm x\nimage = x", 1, "bad section header");
    check_case("[global]\nimage = x", 1, "bad section header");
    check_case("[vm x y]\nimage = x", 1, "bad section header");
    check_case("[vm x] junk\nimage = x", 1, "text after the section header");
    check_case("[vm]\nimage = x", 1, "has no name");
    check_case("[vm   ]\nimage = x", 1, "has no name");
}

static void test_bad_name(void **state)
{
    (void)state;
    check_case("[vm a.b]\nimage = x", 1, "bad VM name 'a.b'");
    check_case("[vm a/b]\nimage = x", 1, "bad VM name");
    check_case("[vm n2345678901234567890123456789012]\nimage = x", 1, "longer than 31");
}

static void test_duplicate_name(void **state)
{
    (void)state;
    check_case("[vm good1]\nimage = x", 1,
               "duplicate VM name 'good1': already used by the VM on line 1");
}

static void test_missing_image(void **state)
{
    (void)state;
    check_case("[vm x]\nmemory = 4M", 1, "VM 'x' has no image");
    check_case("[vm x]", 1, "VM 'x' has no image");
}

static void test_missing_value(void **state)
{
    (void)state;
    check_case("[vm x]\nimage =", 2, "missing value for 'image'");
    check_case("[vm x]\nimage = x\nmemory = # nothing", 3, "missing value for 'memory'");
    check_case("[vm x]\nimage = \"\"", 2, "missing value for 'image'");
}

static void test_bad_numbers(void **state)
{
    (void)state;
    check_case("[vm x]\nimage = x\ncpu = abc", 3, "bad number 'abc' for 'cpu'");
    check_case("[vm x]\nimage = x\ncpu = 12x", 3, "bad number '12x' for 'cpu'");
    check_case("[vm x]\nimage = x\nweight = -1", 3, "bad number '-1' for 'weight'");
    check_case("[vm x]\nimage = x\nweight = 0x", 3, "bad number '0x' for 'weight'");
    check_case("[vm x]\nimage = x\ncpu = 99999999999999999999999", 3, "bad number");
}

static void test_bad_memory(void **state)
{
    (void)state;
    check_case("[vm x]\nimage = x\nmemory = 16T", 3, "bad memory size '16T'");
    check_case("[vm x]\nimage = x\nmemory = 16MB", 3, "bad memory size '16MB'");
    check_case("[vm x]\nimage = x\nmemory = M", 3, "bad memory size 'M'");
    check_case("[vm x]\nimage = x\nmemory = 1536K", 3, "not a multiple of 1M");
    check_case("[vm x]\nimage = x\nmemory = 3000000", 3, "not a multiple of 1M");
    check_case("[vm x]\nimage = x\nmemory = 1M", 3, "outside 2M..3G");
    check_case("[vm x]\nimage = x\nmemory = 0", 3, "outside 2M..3G");
    check_case("[vm x]\nimage = x\nmemory = 3073M", 3, "outside 2M..3G");
    check_case("[vm x]\nimage = x\nmemory = 4G", 3, "outside 2M..3G");
    check_case("[vm x]\nimage = x\nmemory = 99999999999G", 3, "too large");
    check_case("[vm x]\nimage = x\nmemory = 99999999999999999999999", 3, "too large");
}

static void test_time_limit(void **state)
{
    (void)state;
    struct config cfg;
    const char *ok = "[vm a]\nimage = x\ntime_limit = 250ms\n"
                     "[vm b]\nimage = x\ntime_limit = 3s\n"
                     "[vm c]\nimage = x\ntime_limit = 2m\n[vm d]\nimage = x\n";
    assert_int_equal(config_parse(ok, strlen(ok), "t.cfg", &cfg, NULL, NULL), 0);
    assert_int_equal(cfg.vm_count, 4);
    assert_int_equal(cfg.vms[0].time_limit_ms, 250);
    assert_int_equal(cfg.vms[1].time_limit_ms, 3000);
    assert_int_equal(cfg.vms[2].time_limit_ms, 120000);
    assert_int_equal(cfg.vms[3].time_limit_ms, 0); /* default: no limit */
    check_case("[vm x]\nimage = x\ntime_limit = 10", 3, "bad time_limit '10'");
    check_case("[vm x]\nimage = x\ntime_limit = 10h", 3, "bad time_limit '10h'");
    check_case("[vm x]\nimage = x\ntime_limit = ms", 3, "bad time_limit 'ms'");
    check_case("[vm x]\nimage = x\ntime_limit = 0s", 3, "outside 1ms..24h");
    check_case("[vm x]\nimage = x\ntime_limit = 1441m", 3, "outside 1ms..24h");
    check_case("[vm x]\nimage = x\ntime_limit = 99999999999999999m", 3, "outside 1ms..24h");
}

static void test_weight_and_cpu_range(void **state)
{
    (void)state;
    check_case("[vm x]\nimage = x\nweight = 0", 3, "weight 0 is outside 1..1000");
    check_case("[vm x]\nimage = x\nweight = 1001", 3, "weight 1001 is outside 1..1000");
    check_case("[vm x]\nimage = x\ncpu = 256", 3, "cpu 256 is outside 0..255");
}

static void test_malformed_ports(void **state)
{
    (void)state;
    check_case("[vm x]\nimage = x\nports = 0x90-0x80", 3, "first port above last");
    check_case("[vm x]\nimage = x\nports = 0x10000", 3, "malformed port range '0x10000'");
    check_case("[vm x]\nimage = x\nports = 0x100-0x10000", 3, "malformed port range");
    check_case("[vm x]\nimage = x\nports = 0x100-", 3, "malformed port range '0x100-'");
    check_case("[vm x]\nimage = x\nports = 0x100 0x200", 3, "malformed port range");
    check_case("[vm x]\nimage = x\nports = 0x100,,0x200", 3, "empty item");
    check_case("[vm x]\nimage = x\nports = 0x100,", 3, "empty item");
    check_case("[vm x]\nimage = x\nports = io", 3, "malformed port range 'io'");
    check_case("[vm x]\nimage = x\nports = 0x100-0x105, 0x103", 3,
               "overlap ports 0x100-0x105 of this VM");
}

static void test_port_overlap_between_vms(void **state)
{
    (void)state;
    /* good1 (line 1) owns 0x2f8-0x2fc: the later VM is refused, naming good1 and its line. */
    check_case("[vm x]\nimage = x\nports = 0x200\nports = 0x2f0-0x2f8", 4,
               "overlap ports 0x2f8-0x2fc of VM 'good1' (line 1)");
    check_case("[vm x]\nimage = x\nports = 0x2fc", 3, "of VM 'good1' (line 1)");
    /* Overlap with a VM that comes later is charged to the later one. */
    parse("[vm a]\nimage = a\nports = 0x300-0x310\n[vm b]\nimage = b\nports = 0x310-0x320\n");
    assert_int_equal(errs.count, 1);
    assert_error(0, 6, "VM 'b' overlap ports 0x300-0x310 of VM 'a' (line 1)");
    assert_int_equal(cfg.vm_count, 1);
    assert_string_equal(cfg.vms[0].name, "a");
    /* A dropped VM's ports do not block a later one. */
    parse("[vm a]\nports = 0x300\n[vm b]\nimage = b\nports = 0x300\n");
    assert_int_equal(errs.count, 1);
    assert_error(0, 1, "no image");
    assert_int_equal(cfg.vm_count, 1);
    assert_string_equal(cfg.vms[0].name, "b");
}

static void test_reserved_ports(void **state)
{
    (void)state;
    check_case("[vm x]\nimage = x\nports = 0x3f8", 3, "virtual COM1 UART");
    check_case("[vm x]\nimage = x\nports = 0x3ff-0x400", 3, "virtual COM1 UART");
    check_case("[vm x]\nimage = x\nports = 0x300-0x3f8", 3, "virtual COM1 UART");
    check_case("[vm x]\nimage = x\nports = 0xf4", 3, "debug exit");
    check_case("[vm x]\nimage = x\nports = 0xf7", 3, "debug exit");
    check_case("[vm x]\nimage = x\nports = 0xcf8-0xcfb", 3, "PCI configuration");
    check_case("[vm x]\nimage = x\nports = 0xcff", 3, "PCI configuration");
    check_case("[vm x]\nimage = x\nports = 0x10-0x20", 3, "master PIC");
    check_case("[vm x]\nimage = x\nports = 0x21", 3, "master PIC");
    check_case("[vm x]\nimage = x\nports = 0xa0", 3, "slave PIC");
    check_case("[vm x]\nimage = x\nports = 0xa1-0xa5", 3, "slave PIC");
    check_case("[vm x]\nimage = x\nports = 0x62-0x64", 3, "keyboard controller status/command port");
    check_case("[vm x]\nimage = x\nports = 0x60", 3, "keyboard controller data port");
    check_case("[vm x]\nimage = x\nports = 0x71", 3, "CMOS/RTC index");
    check_case("[vm x]\nimage = x\nports = 0x90-0x97", 3, "fast reset");
    check_case("[vm x]\nimage = x\nports = 0x61", 3, "NMI status and control port");
    check_case("[vm x]\nimage = x\nports = 0x4d1-0x4d8", 3, "PIC edge/level control");
    check_case("[vm x]\nimage = x\nports = 0-0xffff", 3, "hypervisor keeps");

    const char *owner = NULL;
    assert_true(config_port_reserved(0x3fc, 0x3fc, &owner));
    assert_string_equal(owner, "virtual COM1 UART");
    assert_false(config_port_reserved(0x22, 0x5f, &owner));
    assert_true(config_port_reserved(0x60, 0x60, &owner)); /* the monitor's keyboard */
    assert_false(config_port_reserved(0x62, 0x63, &owner));
    assert_true(config_port_reserved(0x22, 0x9f, &owner)); /* 0x64: keyboard controller */
    assert_true(config_port_reserved(0, 0xffff, NULL));
}

static void test_too_many_ranges(void **state)
{
    (void)state;
    check_case("[vm x]\nimage = x\nports = 0x100, 0x101, 0x102, 0x103, 0x104\n"
               "ports = 0x105, 0x106, 0x107, 0x108",
               4, "too many port ranges (at most 8 per VM)");
}

static void test_too_many_modules(void **state)
{
    (void)state;
    check_case("[vm x]\nimage = x\nmodule = 1\nmodule = 2\nmodule = 3\nmodule = 4\nmodule = 5", 7,
               "too many modules (at most 4 per VM)");
}

/* initrd: one file name, at most 63 characters, once per VM. */
static void test_initrd(void **state)
{
    (void)state;
    parse("[vm linux]\nimage = vmlinuz\ninitrd = initramfs.cpio.gz\nmemory = 128M\n[vm b]\n"
          "image = b.elf\n");
    assert_int_equal(errs.count, 0);
    assert_int_equal(cfg.vm_count, 2);
    assert_string_equal(cfg.vms[0].initrd, "initramfs.cpio.gz");
    assert_string_equal(cfg.vms[1].initrd, "");
    check_case("[vm x]\nimage = x\ninitrd = a\ninitrd = b", 4,
               "duplicate key 'initrd' (already set on line 6)");
    check_case("[vm x]\nimage = x\ninitrd = "
               "r234567890123456789012345678901234567890123456789012345678901234",
               3, "value of 'initrd' is longer than 63 characters");
}

static void test_too_many_vms(void **state)
{
    (void)state;
    char text[4096];
    size_t pos = 0;
    for (int i = 0; i < CONFIG_MAX_VMS + 2; i++)
        pos += (size_t)snprintf(text + pos, sizeof(text) - pos, "[vm v%d]\nimage = i%d\n", i, i);
    parse(text);
    assert_int_equal(cfg.vm_count, CONFIG_MAX_VMS);
    assert_int_equal(errs.count, 2);
    assert_error(0, 2 * CONFIG_MAX_VMS + 1, "too many VMs (at most 32): VM 'v32' skipped");
    assert_error(1, 2 * CONFIG_MAX_VMS + 3, "VM 'v33' skipped");
    assert_string_equal(cfg.vms[CONFIG_MAX_VMS - 1].name, "v31");
}

static void test_on_reboot(void **state)
{
    (void)state;
    parse("[vm a]\nimage = a\non_reboot = stop\n[vm b]\nimage = b\non_reboot = restart\n");
    assert_int_equal(errs.count, 0);
    assert_int_equal(cfg.vm_count, 2);
    assert_int_equal(cfg.vms[0].on_reboot, VM_REBOOT_STOP);
    assert_int_equal(cfg.vms[1].on_reboot, VM_REBOOT_RESTART);
    check_case("[vm x]\nimage = x\non_reboot = destroy", 3,
               "on_reboot must be 'restart' or 'stop', not 'destroy'");
    check_case("[vm x]\nimage = x\non_reboot = Stop", 3, "on_reboot must be");
    check_case("[vm x]\nimage = x\non_reboot = stop\non_reboot = stop", 4, "on_reboot");
}

static void test_bad_on_fail(void **state)
{
    (void)state;
    check_case("[vm x]\nimage = x\non_fail = reboot", 3,
               "on_fail must be 'stop' or 'restart', not 'reboot'");
    check_case("[vm x]\nimage = x\non_fail = STOP", 3, "on_fail must be");
}

static void test_bad_sha256(void **state)
{
    (void)state;
    check_case("[vm x]\nimage = x\nsha256 = "
               "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde",
               3, "64 hex digits"); /* 63 */
    check_case("[vm x]\nimage = x\nsha256 = "
               "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0",
               3, "64 hex digits"); /* 65 */
    check_case("[vm x]\nimage = x\nsha256 = "
               "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg",
               3, "64 hex digits"); /* a 'g' */
}

static void test_overlong_values(void **state)
{
    (void)state;
    check_case("[vm x]\nimage = "
               "i234567890123456789012345678901234567890123456789012345678901234",
               2,
               "value of 'image' is longer than 63 characters");
    check_case("[vm x]\nimage = x\nmodule = "
               "m234567890123456789012345678901234567890123456789012345678901234",
               3, "value of 'module' is longer than 63 characters");
    char body[400];
    memset(body, 0, sizeof(body));
    strcpy(body, "[vm x]\nimage = x\ncmdline = ");
    memset(body + strlen(body), 'c', 256);
    check_case(body, 3, "value of 'cmdline' is longer than 255 characters");
}

static void test_unterminated_quote(void **state)
{
    (void)state;
    check_case("[vm x]\nimage = x\ncmdline = \"abc", 3,
               "unterminated quote in the value of 'cmdline'");
    check_case("[vm x]\nimage = \"x", 2, "unterminated quote");
}

static void test_text_after_value(void **state)
{
    (void)state;
    check_case("[vm x]\nimage = x\ncmdline = \"a\" b", 3, "text after the value of 'cmdline': 'b'");
    check_case("[vm x]\nimage = x\nmemory = 16M 32M", 3, "text after the value of 'memory': '32M'");
    check_case("[vm x]\nimage = a b", 2, "text after the value of 'image'");
    check_case("[vm x]\nimage = x\ncpu = 1 2", 3, "text after the value of 'cpu'");
    check_case("[vm x]\nimage = x\non_fail = stop now", 3, "text after the value of 'on_fail'");
}

static void test_nul_bytes(void **state)
{
    (void)state;
    static const char body[] = "[vm x]\nimage = x\ncmdline = a\0b";
    check_case_len(body, sizeof(body) - 1, 3, "NUL byte");
    /* A NUL in a header line starts a dropped section: its keys do not reach good1. */
    static const char body2[] = "[vm x\0]\nimage = x";
    check_case_len(body2, sizeof(body2) - 1, 1, "NUL byte");
}

static void test_overlong_lines(void **state)
{
    (void)state;
    char body[1200];
    strcpy(body, "[vm x]\nimage = x\n#");
    size_t start = strlen(body);
    memset(body + start, 'c', 1024); /* '#' + 1024 = 1025 characters */
    body[start + 1024] = '\0';
    check_case(body, 3, "line longer than 1024 characters");

    /* Exactly 1024 characters, ending in CRLF, is fine. */
    char text[1200];
    strcpy(text, "[vm y]\nimage = y\n#");
    start = strlen(text);
    memset(text + start, 'c', 1023);
    strcpy(text + start + 1023, "\r\n");
    parse(text);
    assert_int_equal(errs.count, 0);
    assert_int_equal(cfg.vm_count, 1);

    /* An over-long header starts a dropped section: the keys after it do not reach good1. */
    strcpy(body, "[vm ");
    memset(body + 4, 'n', 1100);
    strcpy(body + 1104, "]\nimage = x");
    check_case(body, 1, "line longer than 1024 characters");
}

static void test_duplicate_keys(void **state)
{
    (void)state;
    check_case("[vm x]\nimage = a\nimage = b", 3, "duplicate key 'image' (already set on line 5)");
    check_case("[vm x]\nimage = a\nmemory = 4M\nmemory = 4M", 4, "duplicate key 'memory'");
    check_case("[vm x]\nimage = a\ncpu = 1\ncpu = 1", 4, "duplicate key 'cpu'");
    check_case("[vm x]\nimage = a\nweight = 1\nweight = 1", 4, "duplicate key 'weight'");
    check_case("[vm x]\nimage = a\non_fail = stop\non_fail = stop", 4, "duplicate key 'on_fail'");
    check_case("[vm x]\nimage = a\ncmdline = a\ncmdline = b", 4, "duplicate key 'cmdline'");
    char body[300];
    snprintf(body, sizeof(body), "[vm x]\nimage = a\nsha256 = %s\nsha256 = %s",
             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    check_case(body, 4, "duplicate key 'sha256'");
}

/* Several errors in one VM are all reported; the VM is dropped once. */
static void test_multiple_errors_one_vm(void **state)
{
    (void)state;
    parse("[vm a]\nimage = a\n[vm b]\nfoo = 1\ncpu = 300\n[vm c]\nimage = c\n");
    assert_int_equal(errs.count, 3);
    assert_error(0, 4, "unknown key 'foo'");
    assert_error(1, 5, "cpu 300");
    assert_error(2, 3, "VM 'b' has no image");
    assert_int_equal(cfg.vm_count, 2);
    assert_string_equal(cfg.vms[0].name, "a");
    assert_string_equal(cfg.vms[1].name, "c");
    assert_int_equal(cfg.vms[1].line, 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_happy_path),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_limits_accepted),
        cmocka_unit_test(test_empty_and_comment_only),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_null_callback_and_file),
        cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_key_outside_section),
        cmocka_unit_test(test_not_key_value),
        cmocka_unit_test(test_bad_section_header),
        cmocka_unit_test(test_bad_name),
        cmocka_unit_test(test_duplicate_name),
        cmocka_unit_test(test_missing_image),
        cmocka_unit_test(test_missing_value),
        cmocka_unit_test(test_bad_numbers),
        cmocka_unit_test(test_bad_memory),
        cmocka_unit_test(test_weight_and_cpu_range),
        cmocka_unit_test(test_time_limit),
        cmocka_unit_test(test_malformed_ports),
        cmocka_unit_test(test_port_overlap_between_vms),
        cmocka_unit_test(test_reserved_ports),
        cmocka_unit_test(test_too_many_ranges),
        cmocka_unit_test(test_too_many_modules),
        cmocka_unit_test(test_initrd),
        cmocka_unit_test(test_too_many_vms),
        cmocka_unit_test(test_bad_on_fail),
        cmocka_unit_test(test_on_reboot),
        cmocka_unit_test(test_bad_sha256),
        cmocka_unit_test(test_overlong_values),
        cmocka_unit_test(test_unterminated_quote),
        cmocka_unit_test(test_text_after_value),
        cmocka_unit_test(test_nul_bytes),
        cmocka_unit_test(test_overlong_lines),
        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_multiple_errors_one_vm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
