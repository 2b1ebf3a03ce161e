/* tessera.cfg parser. One pass, line by line; a VM collects its keys until the next [vm] header or
 * the end of the text, then is accepted or, if any of its lines had an error, dropped. Every error
 * is reported with file, line and reason; the format is described in docs/config.md. */
#include <stdarg.h>
#include <tessera/cmdline.h>
#include <tessera/config.h>
#include <tessera/errno.h>
#include <tessera/printf.h>
#include <tessera/string.h>

enum config_key {
    KEY_IMAGE,
    KEY_MEMORY,
    KEY_CPU,
    KEY_WEIGHT,
    KEY_PORTS,
    KEY_ON_FAIL,
    KEY_CMDLINE,
    KEY_MODULE,
    KEY_SHA256,
    KEY_TIME_LIMIT,
    KEY_INITRD,
    KEY_ON_REBOOT,
    KEY_COUNT,
};

static const struct {
    const char *name;
    bool repeatable;
} config_keys[KEY_COUNT] = {
    [KEY_IMAGE] = {"image", false},     [KEY_MEMORY] = {"memory", false},
    [KEY_CPU] = {"cpu", false},         [KEY_WEIGHT] = {"weight", false},
    [KEY_PORTS] = {"ports", true},      [KEY_ON_FAIL] = {"on_fail", false},
    [KEY_CMDLINE] = {"cmdline", false}, [KEY_MODULE] = {"module", true},
    [KEY_SHA256] = {"sha256", false},   [KEY_TIME_LIMIT] = {"time_limit", false},
    [KEY_INITRD] = {"initrd", false},   [KEY_ON_REBOOT] = {"on_reboot", false},
};

/* Ports the hypervisor emulates or needs itself: a VM may never own them. */
static const struct {
    uint16_t first, last;
    const char *owner;
} reserved_ports[] = {
    {0x20, 0x21, "master PIC"},
    {0x60, 0x60, "keyboard controller data port (the monitor's keyboard input)"},
    {0x61, 0x61, "NMI status and control port (masks IOCHK/SERR NMIs machine-wide)"},
    {0x64, 0x64, "keyboard controller status/command port (keyboard input, CPU reset)"},
    {0x70, 0x71, "CMOS/RTC index (NMI mask)"},
    {0x92, 0x92, "system control port A (fast reset)"},
    {0xa0, 0xa1, "slave PIC"},
    {0xf4, 0xf7, "debug exit"},
    {0x3f8, 0x3ff, "virtual COM1 UART"},
    {0x4d0, 0x4d1, "PIC edge/level control (ELCR)"},
    {0xcf8, 0xcff, "PCI configuration"},
};

struct parse_state {
    const char *file;
    struct config *out;
    config_error_fn on_error;
    void *ctx;
    bool in_section; /* a header (good or bad) was seen: keys belong to vm */
    bool header_ok;  /* that header named a valid, unused name */
    bool vm_bad;     /* vm had an error: it will be dropped */
    struct vm_config vm;
    unsigned port_line[CONFIG_MAX_PORT_RANGES];
    unsigned key_line[KEY_COUNT]; /* line a key was first set on, 0: not yet */
    bool image_line_seen;         /* an image line, even a bad one (already reported) */
};

#define REASON_MAX 200

static void report(struct parse_state *st, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void report(struct parse_state *st, unsigned line, const char *fmt, ...)
{
    char reason[REASON_MAX];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    st->out->error_count++;
    if (st->on_error)
        st->on_error(st->ctx, st->file, line, reason);
}

/* Errors inside a section drop that section's VM. */
#define vm_error(st, line, ...)                                                                   \
    do {                                                                                          \
        if ((st)->in_section)                                                                     \
            (st)->vm_bad = true;                                                                  \
        report((st), (line), __VA_ARGS__);                                                        \
    } while (0)

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

static const char *skip_space(const char *p)
{
    while (is_space(*p))
        p++;
    return p;
}

bool config_is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-';
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decimal or 0x-prefixed hex at s (at most n chars). Sets *used to the characters consumed.
 * Returns 0, -EINVAL (no digits) or -ERANGE (does not fit 64 bits). */
static int parse_u64(const char *s, size_t n, uint64_t *value, size_t *used)
{
    size_t i = 0;
    unsigned base = 10;
    uint64_t v = 0;

    if (n >= 3 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && hex_digit(s[2]) >= 0) {
        base = 16;
        i = 2;
    }
    size_t first_digit = i;
    for (; i < n; i++) {
        int d = hex_digit(s[i]);
        if (d < 0 || (unsigned)d >= base)
            break;
        if (v > (UINT64_MAX - (unsigned)d) / base)
            return -ERANGE;
        v = v * base + (unsigned)d;
    }
    if (i == first_digit)
        return -EINVAL;
    *value = v;
    *used = i;
    return 0;
}

bool config_port_reserved(uint16_t first, uint16_t last, const char **owner)
{
    for (size_t i = 0; i < sizeof(reserved_ports) / sizeof(reserved_ports[0]); i++) {
        if (first <= reserved_ports[i].last && last >= reserved_ports[i].first) {
            if (owner)
                *owner = reserved_ports[i].owner;
            return true;
        }
    }
    return false;
}

void config_default_vm(struct vm_config *vm)
{
    memset(vm, 0, sizeof(*vm));
    vm->memory_bytes = CONFIG_MEMORY_DEFAULT;
    vm->cpu = 0;
    vm->weight = 1;
    vm->on_fail = VM_FAIL_STOP;
    vm->on_reboot = VM_REBOOT_RESTART;
}

/* The current section ends: check what needs the whole section, then keep or drop the VM. */
static void finish_vm(struct parse_state *st)
{
    struct vm_config *vm = &st->vm;
    struct config *out = st->out;

    if (!st->in_section)
        return;
    if (st->header_ok) {
        if (vm->image[0] == '\0' && !st->image_line_seen)
            vm_error(st, vm->line, "VM '%s' has no image (image = FILE is required)", vm->name);
        /* Refuse the later VM of an overlapping pair, naming the earlier one. */
        for (unsigned i = 0; i < vm->port_count; i++) {
            const struct config_port_range *r = &vm->ports[i];
            for (unsigned v = 0; v < out->vm_count; v++) {
                const struct vm_config *other = &out->vms[v];
                for (unsigned j = 0; j < other->port_count; j++) {
                    const struct config_port_range *o = &other->ports[j];
                    if (r->first <= o->last && r->last >= o->first) {
                        vm_error(st, st->port_line[i],
                                 "ports 0x%x-0x%x of VM '%s' overlap ports 0x%x-0x%x of VM '%s' "
                                 "(line %u)",
                                 r->first, r->last, vm->name, o->first, o->last, other->name,
                                 other->line);
                    }
                }
            }
        }
        if (!st->vm_bad) {
            if (out->vm_count >= CONFIG_MAX_VMS)
                vm_error(st, vm->line, "too many VMs (at most %u): VM '%s' skipped",
                         CONFIG_MAX_VMS, vm->name);
            else
                out->vms[out->vm_count++] = *vm;
        }
    }
    st->in_section = false;
}

static void start_section(struct parse_state *st, unsigned line)
{
    finish_vm(st);
    config_default_vm(&st->vm);
    st->vm.line = line;
    st->in_section = true;
    st->header_ok = false;
    st->vm_bad = false;
    st->image_line_seen = false;
    memset(st->key_line, 0, sizeof(st->key_line));
}

/* "[vm NAME]" with optional spaces and a trailing comment. */
static void parse_header(struct parse_state *st, const char *p, unsigned line)
{
    start_section(st, line);
    const char *q = skip_space(p + 1);
    if (!(q[0] == 'v' && q[1] == 'm' && (is_space(q[2]) || q[2] == ']'))) {
        vm_error(st, line, "bad section header: expected [vm NAME]");
        return;
    }
    q = skip_space(q + 2);
    const char *name = q;
    while (*q && !is_space(*q) && *q != ']' && *q != '#')
        q++;
    size_t name_len = (size_t)(q - name);
    q = skip_space(q);
    if (*q != ']') {
        vm_error(st, line, "bad section header: expected [vm NAME]");
        return;
    }
    const char *after = skip_space(q + 1);
    if (*after != '\0' && *after != '#') {
        vm_error(st, line, "text after the section header: '%.40s'", after);
        return;
    }
    if (name_len == 0) {
        vm_error(st, line, "bad section header: the VM has no name");
        return;
    }
    for (size_t i = 0; i < name_len; i++) {
        if (!config_is_name_char(name[i])) {
            vm_error(st, line, "bad VM name '%.*s': use only letters, digits, '_' and '-'",
                     (int)(name_len > 40 ? 40 : name_len), name);
            return;
        }
    }
    if (name_len >= CONFIG_NAME_MAX) {
        vm_error(st, line, "VM name '%.*s...' is longer than %u characters", 20, name,
                 CONFIG_NAME_MAX - 1);
        return;
    }
    memcpy(st->vm.name, name, name_len);
    st->vm.name[name_len] = '\0';
    for (unsigned v = 0; v < st->out->vm_count; v++) {
        if (strcmp(st->out->vms[v].name, st->vm.name) == 0) {
            vm_error(st, line, "duplicate VM name '%s': already used by the VM on line %u",
                     st->vm.name, st->out->vms[v].line);
            return;
        }
    }
    st->header_ok = true;
}

static bool value_is_one_token(const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (is_space(v[i]))
            return false;
    return true;
}

static void set_string(struct parse_state *st, unsigned line, const char *key, char *dst,
                       size_t dst_size, const char *v, size_t n)
{
    if (n >= dst_size) {
        vm_error(st, line, "value of '%s' is longer than %u characters", key,
                 (unsigned)(dst_size - 1));
        return;
    }
    memcpy(dst, v, n);
    dst[n] = '\0';
}

static void set_memory(struct parse_state *st, unsigned line, const char *v, size_t n)
{
    uint64_t value;
    size_t used;
    int err = parse_u64(v, n, &value, &used);
    unsigned shift = 0;
    if (!err && n - used == 1) {
        switch (v[used]) {
        case 'K': case 'k': shift = 10; break;
        case 'M': case 'm': shift = 20; break;
        case 'G': case 'g': shift = 30; break;
        default: err = -EINVAL; break;
        }
    } else if (!err && n != used) {
        err = -EINVAL;
    }
    if (!err && value > (UINT64_MAX >> shift))
        err = -ERANGE;
    if (err == -ERANGE) {
        vm_error(st, line, "memory '%.*s' is too large", (int)n, v);
        return;
    }
    if (err) {
        vm_error(st, line, "bad memory size '%.*s': expected a number with an optional K, M or "
                 "G suffix", (int)(n > 40 ? 40 : n), v);
        return;
    }
    value <<= shift;
    if (value % (1ULL << 20) != 0) {
        vm_error(st, line, "memory '%.*s' is not a multiple of 1M", (int)n, v);
        return;
    }
    if (value < CONFIG_MEMORY_MIN || value > CONFIG_MEMORY_MAX) {
        vm_error(st, line, "memory '%.*s' is outside 2M..3G", (int)n, v);
        return;
    }
    st->vm.memory_bytes = value;
}

/* time_limit = N ms | N s | N m: how long each life of the VM may last, in real time from its
 * first entry, before it is stopped. */
static void set_time_limit(struct parse_state *st, unsigned line, const char *v, size_t n)
{
    uint64_t value;
    size_t used;
    int err = parse_u64(v, n, &value, &used);
    uint64_t unit_ms = 0;
    if (!err) {
        size_t rest = n - used;
        if (rest == 2 && v[used] == 'm' && v[used + 1] == 's')
            unit_ms = 1;
        else if (rest == 1 && v[used] == 's')
            unit_ms = 1000;
        else if (rest == 1 && v[used] == 'm')
            unit_ms = 60000;
    }
    if (err || unit_ms == 0) {
        vm_error(st, line, "bad time_limit '%.*s': expected a number with ms, s or m",
                 (int)(n > 40 ? 40 : n), v);
        return;
    }
    if (value == 0 || value > CONFIG_TIME_LIMIT_MAX_MS / unit_ms) {
        vm_error(st, line, "time_limit '%.*s' is outside 1ms..24h", (int)(n > 40 ? 40 : n), v);
        return;
    }
    st->vm.time_limit_ms = value * unit_ms;
}

static void set_ranged(struct parse_state *st, unsigned line, const char *key, uint32_t *dst,
                       uint64_t min, uint64_t max, const char *v, size_t n)
{
    uint64_t value;
    int err = cmdline_parse_u64(v, n, &value); /* one whole number */
    if (err) {
        vm_error(st, line, "bad number '%.*s' for '%s'", (int)(n > 40 ? 40 : n), v, key);
        return;
    }
    if (value < min || value > max) {
        vm_error(st, line, "%s %.*s is outside %llu..%llu", key, (int)n, v,
                 (unsigned long long)min, (unsigned long long)max);
        return;
    }
    *dst = (uint32_t)value;
}

/* "A-B, C, D - E": each item one port or an inclusive range. */
static void add_ports(struct parse_state *st, unsigned line, const char *v, size_t n)
{
    struct vm_config *vm = &st->vm;
    size_t pos = 0;

    while (pos <= n) {
        size_t end = pos;
        while (end < n && v[end] != ',')
            end++;
        const char *item = v + pos;
        size_t len = end - pos;
        while (len > 0 && is_space(item[0])) {
            item++;
            len--;
        }
        while (len > 0 && is_space(item[len - 1]))
            len--;
        pos = end + 1;

        if (len == 0) {
            vm_error(st, line, "malformed port range: empty item in 'ports'");
            return;
        }
        uint64_t first, last;
        size_t used, used2;
        int err = parse_u64(item, len, &first, &used);
        last = first;
        if (!err) {
            size_t i = used;
            while (i < len && is_space(item[i]))
                i++;
            if (i < len && item[i] == '-') {
                i++;
                while (i < len && is_space(item[i]))
                    i++;
                err = parse_u64(item + i, len - i, &last, &used2);
                i += used2;
            }
            if (!err && i != len)
                err = -EINVAL;
        }
        if (err || first > 0xffff || last > 0xffff) {
            vm_error(st, line, "malformed port range '%.*s': expected PORT or FIRST-LAST, "
                     "ports 0..0xffff", (int)(len > 40 ? 40 : len), item);
            return;
        }
        if (first > last) {
            vm_error(st, line, "malformed port range '%.*s': first port above last", (int)len,
                     item);
            return;
        }
        const char *owner;
        if (config_port_reserved((uint16_t)first, (uint16_t)last, &owner)) {
            vm_error(st, line, "ports 0x%llx-0x%llx include ports the hypervisor keeps (%s)",
                     (unsigned long long)first, (unsigned long long)last, owner);
            return;
        }
        for (unsigned i = 0; i < vm->port_count; i++) {
            if (first <= vm->ports[i].last && last >= vm->ports[i].first) {
                vm_error(st, line, "ports 0x%llx-0x%llx overlap ports 0x%x-0x%x of this VM",
                         (unsigned long long)first, (unsigned long long)last, vm->ports[i].first,
                         vm->ports[i].last);
                return;
            }
        }
        if (vm->port_count >= CONFIG_MAX_PORT_RANGES) {
            vm_error(st, line, "too many port ranges (at most %u per VM)",
                     CONFIG_MAX_PORT_RANGES);
            return;
        }
        st->port_line[vm->port_count] = line;
        vm->ports[vm->port_count].first = (uint16_t)first;
        vm->ports[vm->port_count].last = (uint16_t)last;
        vm->port_count++;
    }
}

static void set_sha256(struct parse_state *st, unsigned line, const char *v, size_t n)
{
    bool ok = n == 64;
    for (size_t i = 0; ok && i < n; i++)
        ok = hex_digit(v[i]) >= 0;
    if (!ok) {
        vm_error(st, line, "sha256 must be exactly 64 hex digits");
        return;
    }
    for (unsigned i = 0; i < 32; i++)
        st->vm.sha256[i] = (uint8_t)(hex_digit(v[2 * i]) << 4 | hex_digit(v[2 * i + 1]));
    st->vm.has_sha256 = true;
}

/* "key = value" with an optionally quoted value and an optional trailing comment. */
static void parse_key_value(struct parse_state *st, const char *p, unsigned line)
{
    const char *key = p;
    while (*p && (config_is_name_char(*p)))
        p++;
    size_t key_len = (size_t)(p - key);
    p = skip_space(p);
    if (key_len == 0 || *p != '=') {
        vm_error(st, line, "expected 'key = value', a [vm NAME] header or a comment");
        return;
    }
    if (!st->in_section) {
        report(st, line, "key '%.*s' outside a [vm NAME] section",
               (int)(key_len > 40 ? 40 : key_len), key);
        return;
    }
    int k;
    for (k = 0; k < KEY_COUNT; k++)
        if (strlen(config_keys[k].name) == key_len &&
            memcmp(config_keys[k].name, key, key_len) == 0)
            break;
    if (k == KEY_COUNT) {
        vm_error(st, line, "unknown key '%.*s'", (int)(key_len > 40 ? 40 : key_len), key);
        return;
    }
    const char *name = config_keys[k].name;
    if (k == KEY_IMAGE)
        st->image_line_seen = true;

    p = skip_space(p + 1);
    const char *v;
    size_t n;
    bool quoted = *p == '"';
    if (quoted) {
        v = p + 1;
        const char *close = strchr(v, '"');
        if (!close) {
            vm_error(st, line, "unterminated quote in the value of '%s'", name);
            return;
        }
        n = (size_t)(close - v);
        const char *after = skip_space(close + 1);
        if (*after != '\0' && *after != '#') {
            vm_error(st, line, "text after the value of '%s': '%.40s'", name, after);
            return;
        }
    } else {
        v = p;
        n = 0;
        while (v[n] && v[n] != '#')
            n++;
        while (n > 0 && is_space(v[n - 1]))
            n--;
    }
    if (n == 0 && !(quoted && k == KEY_CMDLINE)) {
        vm_error(st, line, "missing value for '%s'", name);
        return;
    }
    if (!quoted && k != KEY_CMDLINE && k != KEY_PORTS && !value_is_one_token(v, n)) {
        size_t i = 0;
        while (!is_space(v[i]))
            i++;
        while (is_space(v[i]))
            i++;
        vm_error(st, line, "text after the value of '%s': '%.*s'", name,
                 (int)(n - i > 40 ? 40 : n - i), v + i);
        return;
    }
    if (!config_keys[k].repeatable) {
        if (st->key_line[k]) {
            vm_error(st, line, "duplicate key '%s' (already set on line %u)", name,
                     st->key_line[k]);
            return;
        }
        st->key_line[k] = line;
    }

    switch (k) {
    case KEY_IMAGE:
        set_string(st, line, name, st->vm.image, sizeof(st->vm.image), v, n);
        break;
    case KEY_MEMORY:
        set_memory(st, line, v, n);
        break;
    case KEY_CPU:
        set_ranged(st, line, name, &st->vm.cpu, 0, CONFIG_CPU_MAX, v, n);
        break;
    case KEY_WEIGHT:
        set_ranged(st, line, name, &st->vm.weight, 1, CONFIG_WEIGHT_MAX, v, n);
        break;
    case KEY_PORTS:
        add_ports(st, line, v, n);
        break;
    case KEY_ON_FAIL:
        if (n == 4 && memcmp(v, "stop", 4) == 0)
            st->vm.on_fail = VM_FAIL_STOP;
        else if (n == 7 && memcmp(v, "restart", 7) == 0)
            st->vm.on_fail = VM_FAIL_RESTART;
        else
            vm_error(st, line, "on_fail must be 'stop' or 'restart', not '%.*s'",
                     (int)(n > 40 ? 40 : n), v);
        break;
    case KEY_ON_REBOOT:
        if (n == 4 && memcmp(v, "stop", 4) == 0)
            st->vm.on_reboot = VM_REBOOT_STOP;
        else if (n == 7 && memcmp(v, "restart", 7) == 0)
            st->vm.on_reboot = VM_REBOOT_RESTART;
        else
            vm_error(st, line, "on_reboot must be 'restart' or 'stop', not '%.*s'",
                     (int)(n > 40 ? 40 : n), v);
        break;
    case KEY_TIME_LIMIT:
        set_time_limit(st, line, v, n);
        break;
    case KEY_CMDLINE:
        set_string(st, line, name, st->vm.cmdline, sizeof(st->vm.cmdline), v, n);
        break;
    case KEY_MODULE:
        if (st->vm.module_count >= CONFIG_MAX_MODULES) {
            vm_error(st, line, "too many modules (at most %u per VM)", CONFIG_MAX_MODULES);
            break;
        }
        if (n >= CONFIG_MODULE_MAX) {
            vm_error(st, line, "value of 'module' is longer than %u characters",
                     CONFIG_MODULE_MAX - 1);
            break;
        }
        set_string(st, line, name, st->vm.modules[st->vm.module_count++], CONFIG_MODULE_MAX, v,
                   n);
        break;
    case KEY_SHA256:
        set_sha256(st, line, v, n);
        break;
    case KEY_INITRD:
        set_string(st, line, name, st->vm.initrd, sizeof(st->vm.initrd), v, n);
        break;
    }
}

static void parse_line(struct parse_state *st, const char *text, unsigned line)
{
    const char *p = skip_space(text);
    if (*p == '\0' || *p == '#')
        return;
    if (*p == '[')
        parse_header(st, p, line);
    else
        parse_key_value(st, p, line);
}

/* A line we cannot read: if it looks like a header, it starts a new (dropped) section so its
 * keys do not land in the previous VM. */
static void bad_line(struct parse_state *st, const char *start, size_t len, unsigned line,
                     const char *why)
{
    size_t i = 0;
    while (i < len && is_space(start[i]))
        i++;
    if (i < len && start[i] == '[') {
        start_section(st, line);
        st->vm_bad = true;
    }
    vm_error(st, line, "%s", why);
}

int config_parse(const char *text, size_t len, const char *file, struct config *out,
                 config_error_fn on_error, void *ctx)
{
    if (!out || (!text && len > 0))
        return -EINVAL;
    memset(out, 0, sizeof(*out));

    struct parse_state st;
    memset(&st, 0, sizeof(st));
    st.file = file ? file : "config";
    st.out = out;
    st.on_error = on_error;
    st.ctx = ctx;

    char buf[CONFIG_MAX_LINE + 1];
    unsigned line = 0;
    size_t pos = 0;
    while (pos < len) {
        size_t end = pos;
        while (end < len && text[end] != '\n')
            end++;
        size_t line_len = end - pos;
        const char *start = text + pos;
        pos = end + 1;
        line++;

        if (line_len > 0 && start[line_len - 1] == '\r')
            line_len--;
        if (strnlen(start, line_len) != line_len) {
            bad_line(&st, start, line_len, line, "NUL byte in the line");
            continue;
        }
        if (line_len > CONFIG_MAX_LINE) {
            bad_line(&st, start, line_len, line, "line longer than 1024 characters");
            continue;
        }
        memcpy(buf, start, line_len);
        buf[line_len] = '\0';
        parse_line(&st, buf, line);
    }
    finish_vm(&st);
    return 0;
}
