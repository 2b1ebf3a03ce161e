/* tessera.cfg parser: any text, copied into a buffer of exactly its length (so ASan sees any read
 * past the end), must parse without a fault, and every VM it accepts must obey the documented
 * limits (docs/config.md).
 * FUZZ-SOURCES: kernel/config.c kernel/lib/cmdline.c kernel/lib/printf.c kernel/lib/string.c */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <tessera/config.h>

static unsigned errors_seen;

static void on_error(void *ctx, const char *file, unsigned line, const char *reason)
{
    (void)ctx;
    (void)line;
    /* both must be NUL-terminated strings: strlen faults under ASan if not */
    if (strlen(file) == 0 || strlen(reason) == 0)
        abort();
    errors_seen++;
}

static int str_ok(const char *s, size_t size)
{
    return memchr(s, 0, size) != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct config cfg;
    char *text = malloc(size ? size : 1);

    if (!text)
        return 0;
    memcpy(text, data, size);
    errors_seen = 0;
    if (config_parse(text, size, "fuzz.cfg", &cfg, on_error, NULL) != 0)
        abort(); /* only bad arguments may fail */
    if (cfg.error_count != errors_seen || cfg.vm_count > CONFIG_MAX_VMS)
        abort();
    for (unsigned i = 0; i < cfg.vm_count; i++) {
        const struct vm_config *vm = &cfg.vms[i];
        if (!str_ok(vm->name, sizeof(vm->name)) || vm->name[0] == 0 ||
            !str_ok(vm->image, sizeof(vm->image)) || vm->image[0] == 0 ||
            !str_ok(vm->cmdline, sizeof(vm->cmdline)))
            abort();
        for (unsigned c = 0; vm->name[c]; c++)
            if (!config_is_name_char(vm->name[c]))
                abort();
        for (unsigned j = 0; j < i; j++)
            if (strcmp(cfg.vms[j].name, vm->name) == 0)
                abort(); /* names are unique */
        if (vm->memory_bytes < CONFIG_MEMORY_MIN || vm->memory_bytes > CONFIG_MEMORY_MAX ||
            vm->cpu > CONFIG_CPU_MAX || vm->weight < 1 || vm->weight > CONFIG_WEIGHT_MAX ||
            vm->port_count > CONFIG_MAX_PORT_RANGES ||
            vm->module_count > CONFIG_MAX_MODULES ||
            vm->time_limit_ms > CONFIG_TIME_LIMIT_MAX_MS ||
            (vm->on_fail != VM_FAIL_STOP && vm->on_fail != VM_FAIL_RESTART))
            abort();
        for (unsigned p = 0; p < vm->port_count; p++) {
            const struct config_port_range *r = &vm->ports[p];
            if (r->first > r->last || config_port_reserved(r->first, r->last, NULL))
                abort(); /* a VM never gets a port the hypervisor keeps */
        }
        for (unsigned m = 0; m < vm->module_count; m++)
            if (!str_ok(vm->modules[m], sizeof(vm->modules[m])) || vm->modules[m][0] == 0)
                abort();
    }
    free(text);
    return 0;
}
