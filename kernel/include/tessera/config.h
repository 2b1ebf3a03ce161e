/* tessera.cfg: which VMs to run and what each one owns. Format and every error: docs/config.md.
 * Pure parser (host-tested): text in, fixed-size structs out, no allocation. */
#ifndef TESSERA_CONFIG_H
#define TESSERA_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_MAX_VMS 32
#define CONFIG_MAX_PORT_RANGES 8
#define CONFIG_MAX_MODULES 4
#define CONFIG_MAX_LINE 1024 /* characters per line, not counting the line end */
#define CONFIG_NAME_MAX 32   /* buffer sizes, terminating NUL included */
#define CONFIG_IMAGE_MAX 64
#define CONFIG_CMDLINE_MAX 256
#define CONFIG_MODULE_MAX 64

#define CONFIG_MEMORY_DEFAULT (16ULL << 20)
#define CONFIG_MEMORY_MIN (2ULL << 20)
#define CONFIG_MEMORY_MAX (3ULL << 30)
#define CONFIG_WEIGHT_MAX 1000
#define CONFIG_CPU_MAX 255
#define CONFIG_TIME_LIMIT_MAX_MS (24ULL * 3600 * 1000)

enum vm_fail_action { VM_FAIL_STOP = 0, VM_FAIL_RESTART = 1 };
/* What a guest's own reboot request (ACPI reset register) does: restart the VM, or end it. */
enum vm_reboot_action { VM_REBOOT_RESTART = 0, VM_REBOOT_STOP = 1 };

struct config_port_range {
    uint16_t first, last; /* inclusive */
};

struct vm_config {
    char name[CONFIG_NAME_MAX];
    char image[CONFIG_IMAGE_MAX];
    uint64_t memory_bytes;
    uint32_t cpu;
    uint32_t weight;
    struct config_port_range ports[CONFIG_MAX_PORT_RANGES];
    unsigned port_count;
    uint32_t on_fail; /* enum vm_fail_action */
    uint32_t on_reboot; /* enum vm_reboot_action */
    char cmdline[CONFIG_CMDLINE_MAX];
    char modules[CONFIG_MAX_MODULES][CONFIG_MODULE_MAX];
    unsigned module_count;
    char initrd[CONFIG_MODULE_MAX]; /* Linux initrd file, "" when none */
    bool has_sha256;
    uint8_t sha256[32];
    uint64_t time_limit_ms; /* CPU time before the VM is stopped; 0: no limit */
    unsigned line; /* line of its [vm] header */
};

struct config {
    struct vm_config vms[CONFIG_MAX_VMS]; /* accepted VMs, in file order */
    unsigned vm_count;
    unsigned error_count; /* errors reported through on_error */
};

/* Called once per error; reason is a sentence without the file and line. */
typedef void (*config_error_fn)(void *ctx, const char *file, unsigned line, const char *reason);

/* Parses len bytes of text (need not be NUL-terminated). A VM with any error is reported and left
 * out; every other VM is kept. Returns 0 once the text was parsed (errors or not), -EINVAL only for
 * unusable arguments (out NULL, text NULL with len > 0). file names the text in reports (NULL:
 * "config"); on_error may be NULL. */
int config_parse(const char *text, size_t len, const char *file, struct config *out,
                 config_error_fn on_error, void *ctx);

/* Defaults for a VM: memory 16M, cpu 0, weight 1, on_fail stop, on_reboot restart, everything else empty. */
void config_default_vm(struct vm_config *vm);
/* A character allowed in a VM name: A-Z a-z 0-9 _ - */
bool config_is_name_char(char c);

/* True when [first, last] touches a port the hypervisor keeps for itself (virtual COM1 UART, debug
 * exit, PCI configuration, the PICs); *owner (if owner is not NULL) then names what uses it. */
bool config_port_reserved(uint16_t first, uint16_t last, const char **owner);

#endif
