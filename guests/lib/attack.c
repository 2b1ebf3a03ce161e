/* Attack selection and the ring-3 hypercall probe of the attacker guests (attack.h). */
#include <tessera/errno.h>
#include <tessera/printf.h>
#include <tessera/string.h>
#include "attack.h"
#include "guest.h"

#define ESCAPED 99
#define ATTACK_NAME_MAX 32

const struct guest_attack *guest_attack_choose(const char *who, const struct guest_attack *table,
                                               size_t count)
{
    char name[ATTACK_NAME_MAX];
    int rc = cmdline_get(guest_cmdline, "attack", name, sizeof(name));
    for (size_t i = 0; rc >= 0 && i < count; i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    guest_printf("%s: need attack=NAME, one of:", who);
    for (size_t i = 0; i < count; i++)
        guest_printf(" %s", table[i].name);
    guest_printf("\n");
    return NULL;
}

int guest_attack_run(const char *who, const struct guest_attack *a)
{
    guest_printf("%s: attack=%s starting\n", who, a->name);
    int rc = a->run();
    guest_printf("%s: attack=%s finished status=%d\n", who, a->name, rc);
    return rc;
}

/* What ring 3 writes and what the calls returned; ring 3 reaches them because the guest's pages
 * are user-accessible (or paging is off). */
static char kernel_secret[96];
static size_t kernel_secret_len;
static volatile long ring3_console_rc = 1, ring3_exit_rc = 1;
static uint8_t ring3_stack[4096] __attribute__((aligned(16)));

/* Runs at CPL 3: no port I/O (IOPL 0), no printing; records what the calls returned. */
static void ring3_main(void)
{
    ring3_console_rc = tessera_hypercall(TESSERA_HC_CONSOLE_WRITE, (uintptr_t)kernel_secret,
                                         kernel_secret_len, 0, NULL);
    ring3_exit_rc = tessera_hypercall(TESSERA_HC_EXIT, 77, 0, 0, NULL);
    __asm__ volatile("int $0x80" : : : "memory");
    for (;;) /* never reached: the gate does not return here */
        ;
}

bool ring3_probe_possible(const char *who)
{
    if (tessera_detect(NULL, NULL))
        return true;
    guest_printf("%s: not running under Tessera, VMCALL would #UD\n", who);
    return false;
}

int ring3_probe_run(const char *who, ring3_enter_fn *enter)
{
    kernel_secret_len = (size_t)ksnprintf(kernel_secret, sizeof(kernel_secret),
                                          "%s: ring3 LEAKED kernel memory through CONSOLE_WRITE\n",
                                          who);
    guest_printf("%s: entering ring 3 for CONSOLE_WRITE of kernel memory and EXIT 77\n", who);
    enter((uintptr_t)ring3_main, (uintptr_t)(ring3_stack + sizeof(ring3_stack)));
    uint16_t cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    guest_printf("%s: back in ring 0 (cs=0x%x): console_write rc=%ld exit rc=%ld\n", who, cs,
                 ring3_console_rc, ring3_exit_rc);
    if (ring3_console_rc >= 0 || ring3_exit_rc >= 0) {
        guest_printf("%s: ESCAPED a hypercall was honoured at CPL 3\n", who);
        return ESCAPED;
    }
    if (ring3_console_rc != -TESSERA_EPERM || ring3_exit_rc != -TESSERA_EPERM) {
        guest_printf("%s: refused, but not with -%d\n", who, TESSERA_EPERM);
        return 1;
    }
    /* the same calls from ring 0 still work: the refusal is about the caller's CPL */
    char ring0_line[96];
    int len = ksnprintf(ring0_line, sizeof(ring0_line),
                        "%s: CONSOLE_WRITE from ring 0 still works\n", who);
    if (tessera_console_write(ring0_line, (unsigned long)len) != len) {
        guest_printf("%s: CONSOLE_WRITE from ring 0 failed\n", who);
        return 1;
    }
    guest_printf("%s: ring-3 hypercalls refused with -EPERM\n", who);
    return 0;
}
