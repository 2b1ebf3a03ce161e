/* Scheduling policy for the vCPUs sharing one physical CPU: proportional share by weight with
 * virtual-runtime accounting (see docs/scheduler.md). Pure bookkeeping: the caller runs the chosen
 * vCPU for the returned slice (VMX-preemption timer) and reports the ticks it really used. */
#ifndef TESSERA_SCHED_POLICY_H
#define TESSERA_SCHED_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#define SCHED_MAX_ENTITIES 32
#define SCHED_WEIGHT_MAX 1000u
/* vruntime advances by ticks * SCHED_VRUNTIME_SCALE / weight. */
#define SCHED_VRUNTIME_SCALE (1ull << 16)
#define SCHED_NO_TIMER UINT64_MAX
#define SCHED_MAX_QUANTUM (1ull << 32)
/* The minimum slice, as a fraction of the quantum: a pending wake-up cuts the running entity's
 * slice only once it has run this long since it got the CPU (docs/scheduler.md says why 7/8). */
#define SCHED_MIN_SLICE_NUM 7u
#define SCHED_MIN_SLICE_DEN 8u
/* A charge counts at most this many ticks towards vruntime (ticks_run gets them all). */
#define SCHED_MAX_CHARGE (1ull << 40)
/* When a vruntime reaches SCHED_REBASE_AT, all are lowered by SCHED_REBASE_BY (stopping at 0), so
 * they never overflow; only order and differences matter. */
#define SCHED_REBASE_AT (1ull << 62)
#define SCHED_REBASE_BY (1ull << 61)

enum sched_state { SCHED_RUNNABLE = 0, SCHED_BLOCKED = 1, SCHED_DONE = 2 };

struct sched_entity {
    uint32_t weight;
    uint32_t state;           /* enum sched_state */
    uint64_t vruntime;
    uint64_t wake_at;         /* absolute ticks; SCHED_NO_TIMER: woken only by sched_wake */
    uint64_t ticks_run;
    uint64_t times_scheduled;
};

struct sched_policy {
    struct sched_entity *entities[SCHED_MAX_ENTITIES];
    unsigned count;
    uint64_t quantum;
    uint64_t min_slice;  /* quantum * SCHED_MIN_SLICE_NUM / SCHED_MIN_SLICE_DEN, at least 1 */
    int current;         /* the entity picked last while it keeps the CPU; -1: none */
    uint64_t held_since; /* when current got the CPU (the pick that switched to it) */
};

/* A quantum of 0 is taken as 1, one above SCHED_MAX_QUANTUM as that. Functions taking an index
 * ignore one that sched_add did not return. */
void sched_init(struct sched_policy *s, uint64_t quantum_ticks);

/* Adds a runnable entity (weight 1..SCHED_WEIGHT_MAX) that joins at the smallest vruntime of the
 * runnable ones, so it neither starves them nor waits for them. Returns its index, or -EINVAL
 * (NULL, bad weight), -EEXIST (added already), -ENOSPC (table full). */
int sched_add(struct sched_policy *s, struct sched_entity *e, uint32_t weight);

/* Wakes blocked entities whose wake_at <= now, then picks the runnable one with the smallest
 * vruntime (ties: lowest index) and counts it in times_scheduled. Returns its index and in *slice
 * the ticks it may run: the quantum, cut short to the earliest pending wake_at so a timer wakes
 * its entity on time, but never to less than what it lacks of the minimum slice since it got
 * the CPU (picked again in a row, it keeps counting from its first pick): a sleeper waking often
 * cannot cut its neighbours into slices shorter than that. With nothing runnable returns -1,
 * *slice = 0 and *idle_until = earliest wake_at among blocked entities (SCHED_NO_TIMER when none
 * has a timer: all done, or waiting for sched_wake). */
int sched_pick(struct sched_policy *s, uint64_t now, uint64_t *slice, uint64_t *idle_until);

/* Accounts ticks the entity ran (any state: a vCPU that blocked or ended during its slice
 * still used them). */
void sched_charge(struct sched_policy *s, unsigned index, uint64_t ticks);

/* Blocks a runnable entity until wake_at (absolute ticks) or sched_wake; its hold on the CPU
 * (for the minimum slice) ends. */
void sched_block(struct sched_policy *s, unsigned index, uint64_t wake_at);

/* Makes a blocked entity runnable now; its vruntime is raised to at least the smallest runnable
 * vruntime minus one quantum of its own, so sleeping banks at most one slice of credit. */
void sched_wake(struct sched_policy *s, unsigned index);

/* The entity has ended for good (until sched_restart); its hold on the CPU ends. */
void sched_finish(struct sched_policy *s, unsigned index);

/* A restarted VM rejoins runnable with its vruntime raised to at least the smallest runnable
 * vruntime: no credit for the time it was gone. Its counters keep accumulating. */
void sched_restart(struct sched_policy *s, unsigned index);

/* True when every entity is done (or none was added). */
bool sched_all_done(const struct sched_policy *s);

#endif
