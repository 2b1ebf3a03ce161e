/* What the attacker guests (attacker.c, attacker32.c) share: choosing one attack by the command
 * line's attack=NAME and running it between a "starting" and a "finished" line, and the ring-3
 * hypercall probe (attack=ring3). Every line printed starts with the guest's name, `who`. */
#ifndef GUEST_ATTACK_H
#define GUEST_ATTACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct guest_attack {
    const char *name;
    int (*run)(void); /* returns the guest's exit status */
    unsigned flags;   /* the guest's own meaning */
};

/* The entry of table named by attack=NAME; NULL (after printing the names there are) when the
 * command line names none of them. */
const struct guest_attack *guest_attack_choose(const char *who, const struct guest_attack *table,
                                               size_t count);
/* Runs a between "WHO: attack=NAME starting" and "... finished status=S"; returns its status. */
int guest_attack_run(const char *who, const struct guest_attack *a);

/* ---- attack=ring3: from CPL 3, CONSOLE_WRITE of a supervisor string and EXIT 77 must both fail
 * with -EPERM, while the same CONSOLE_WRITE from ring 0 still works ---- */
/* Drops to ring 3 at ip on stack sp and returns once ring 3 comes back through the guest's
 * DPL-3 gate 0x80. Each guest has its own (IRETQ or IRET, its own selectors). */
typedef void ring3_enter_fn(uintptr_t ip, uintptr_t sp);

/* False (and says why) when not under Tessera, where VMCALL would #UD. */
bool ring3_probe_possible(const char *who);
/* Enters ring 3 through enter (the guest's GDT, TSS and gate 0x80 already in place), then checks
 * what the two calls returned: 0 when both were refused with -EPERM, 99 when one was honoured,
 * 1 otherwise. */
int ring3_probe_run(const char *who, ring3_enter_fn *enter);

#endif
