/* Proportional-share policy with virtual runtime: each entity's vruntime grows by the ticks it
 * ran divided by its weight, and the runnable entity furthest behind runs next. Because the charge
 * is for ticks actually used, an entity leaving its slice early keeps its share. */
#include <stddef.h>

#include <tessera/errno.h>
#include <tessera/sched_policy.h>

static struct sched_entity *entity_at(struct sched_policy *s, unsigned index)
{
    if (!s || index >= s->count)
        return NULL;
    return s->entities[index];
}

/* ticks * SCALE / weight, exact: ticks is clamped to SCHED_MAX_CHARGE (2^40), so the product
 * stays below 2^56. */
_Static_assert(SCHED_MAX_CHARGE <= UINT64_MAX / SCHED_VRUNTIME_SCALE, "the charge would overflow");
static uint64_t vruntime_delta(uint64_t ticks, uint32_t weight)
{
    if (ticks > SCHED_MAX_CHARGE)
        ticks = SCHED_MAX_CHARGE;
    return ticks * SCHED_VRUNTIME_SCALE / weight;
}

/* The virtual time an entity (re)joining is measured against: the smallest vruntime among the
 * other runnable entities, or, with none runnable, the largest among the blocked ones (the most
 * recent progress). False when there is no other live entity. */
static bool reference_vruntime(const struct sched_policy *s, unsigned exclude, uint64_t *out)
{
    bool found_runnable = false, found_blocked = false;
    uint64_t min_runnable = 0, max_blocked = 0;
    for (unsigned i = 0; i < s->count; i++) {
        const struct sched_entity *e = s->entities[i];
        if (i == exclude)
            continue;
        if (e->state == SCHED_RUNNABLE && (!found_runnable || e->vruntime < min_runnable)) {
            min_runnable = e->vruntime;
            found_runnable = true;
        } else if (e->state == SCHED_BLOCKED && (!found_blocked || e->vruntime > max_blocked)) {
            max_blocked = e->vruntime;
            found_blocked = true;
        }
    }
    if (found_runnable)
        *out = min_runnable;
    else if (found_blocked)
        *out = max_blocked;
    return found_runnable || found_blocked;
}

/* Raises vruntime to at least reference - credit. */
static void place(struct sched_policy *s, unsigned index, uint64_t credit)
{
    struct sched_entity *e = s->entities[index];
    uint64_t ref;
    if (!reference_vruntime(s, index, &ref))
        return;
    uint64_t floor = ref > credit ? ref - credit : 0;
    if (e->vruntime < floor)
        e->vruntime = floor;
}

void sched_init(struct sched_policy *s, uint64_t quantum_ticks)
{
    if (!s)
        return;
    for (unsigned i = 0; i < SCHED_MAX_ENTITIES; i++)
        s->entities[i] = NULL;
    s->count = 0;
    if (quantum_ticks == 0)
        quantum_ticks = 1;
    if (quantum_ticks > SCHED_MAX_QUANTUM)
        quantum_ticks = SCHED_MAX_QUANTUM;
    s->quantum = quantum_ticks;
    s->min_slice = quantum_ticks * SCHED_MIN_SLICE_NUM / SCHED_MIN_SLICE_DEN;
    if (s->min_slice == 0)
        s->min_slice = 1;
    s->current = -1;
    s->held_since = 0;
}

/* The entity stops holding the CPU: whatever runs next starts a new minimum slice. */
static void release(struct sched_policy *s, unsigned index)
{
    if (s->current == (int)index)
        s->current = -1;
}

int sched_add(struct sched_policy *s, struct sched_entity *e, uint32_t weight)
{
    if (!s || !e || weight == 0 || weight > SCHED_WEIGHT_MAX)
        return -EINVAL;
    for (unsigned i = 0; i < s->count; i++)
        if (s->entities[i] == e)
            return -EEXIST;
    if (s->count >= SCHED_MAX_ENTITIES)
        return -ENOSPC;
    unsigned index = s->count;
    e->weight = weight;
    e->state = SCHED_RUNNABLE;
    e->vruntime = 0;
    e->wake_at = SCHED_NO_TIMER;
    e->ticks_run = 0;
    e->times_scheduled = 0;
    s->entities[index] = e;
    s->count++;
    place(s, index, 0);
    return (int)index;
}

static void wake(struct sched_policy *s, unsigned index)
{
    struct sched_entity *e = s->entities[index];
    e->state = SCHED_RUNNABLE;
    e->wake_at = SCHED_NO_TIMER;
    /* At most one quantum of its own ahead of the others: sleeping banks no more credit. */
    place(s, index, vruntime_delta(s->quantum, e->weight));
}

/* The slice of the entity picked at best (see sched_pick). */
static inline int picked(struct sched_policy *s, int best, uint64_t now, uint64_t next_wake,
                         uint64_t *slice)
{
    s->entities[best]->times_scheduled++;
    if (s->current != best || now < s->held_since) {
        s->current = best;
        s->held_since = now;
    }
    if (slice) {
        uint64_t length = s->quantum;
        /* next_wake > now: every due timer was handled. */
        if (next_wake != SCHED_NO_TIMER && next_wake - now < length)
            length = next_wake - now;
        uint64_t held = now - s->held_since;
        uint64_t lacking = held < s->min_slice ? s->min_slice - held : 0;
        if (length < lacking)
            length = lacking; /* <= min_slice <= quantum */
        *slice = length;
    }
    return best;
}

/* sched_pick when some entity's timer is due: it wakes those. */
static __attribute__((noinline)) int pick_waking(struct sched_policy *s, uint64_t now,
                                                 uint64_t *slice, uint64_t *idle_until)
{
    /* One pass: an entity due to wake is woken before it is compared. The same as waking every
     * due one first: a wake changes only that entity's vruntime, and place() sees the entities
     * before it already woken and those after it not yet, in both orders. */
    int best = -1;
    uint64_t next_wake = SCHED_NO_TIMER;
    for (unsigned i = 0; i < s->count; i++) {
        struct sched_entity *e = s->entities[i];
        if (e->state == SCHED_BLOCKED) {
            if (e->wake_at <= now)
                wake(s, i);
            else if (e->wake_at < next_wake)
                next_wake = e->wake_at;
        }
        /* Strictly smaller: ties go to the lowest index. */
        if (e->state == SCHED_RUNNABLE &&
            (best < 0 || e->vruntime < s->entities[best]->vruntime))
            best = (int)i;
    }
    if (best < 0) {
        s->current = -1;
        if (idle_until)
            *idle_until = next_wake;
        return -1;
    }
    return picked(s, best, now, next_wake, slice);
}

int sched_pick(struct sched_policy *s, uint64_t now, uint64_t *slice, uint64_t *idle_until)
{
    if (slice)
        *slice = 0;
    if (idle_until)
        *idle_until = SCHED_NO_TIMER;
    if (!s)
        return -1;

    /* The common case first, a pass that calls nothing: no timer due. Otherwise start again
     * in pick_waking, which wakes the due ones. */
    int best = -1;
    uint64_t best_vruntime = 0, next_wake = SCHED_NO_TIMER;
    for (unsigned i = 0; i < s->count; i++) {
        const struct sched_entity *e = s->entities[i];
        if (e->state == SCHED_RUNNABLE) {
            if (best < 0 || e->vruntime < best_vruntime) { /* ties: the lowest index */
                best = (int)i;
                best_vruntime = e->vruntime;
            }
        } else if (e->state == SCHED_BLOCKED) {
            if (e->wake_at <= now)
                return pick_waking(s, now, slice, idle_until);
            if (e->wake_at < next_wake)
                next_wake = e->wake_at;
        }
    }
    if (best < 0) {
        s->current = -1;
        if (idle_until)
            *idle_until = next_wake;
        return -1;
    }
    return picked(s, best, now, next_wake, slice);
}

void sched_charge(struct sched_policy *s, unsigned index, uint64_t ticks)
{
    struct sched_entity *e = entity_at(s, index);
    if (!e)
        return;
    e->ticks_run += ticks;
    e->vruntime += vruntime_delta(ticks, e->weight);
    if (e->vruntime < SCHED_REBASE_AT)
        return;
    /* Runnable entities stay within a few slices of each other, far less than SCHED_REBASE_BY,
     * so only long-blocked or done ones stop at 0, and they are placed again when they return. */
    for (unsigned i = 0; i < s->count; i++) {
        struct sched_entity *other = s->entities[i];
        other->vruntime = other->vruntime > SCHED_REBASE_BY ? other->vruntime - SCHED_REBASE_BY : 0;
    }
}

void sched_block(struct sched_policy *s, unsigned index, uint64_t wake_at)
{
    struct sched_entity *e = entity_at(s, index);
    if (!e || e->state == SCHED_DONE)
        return;
    e->state = SCHED_BLOCKED;
    e->wake_at = wake_at;
    release(s, index);
}

void sched_wake(struct sched_policy *s, unsigned index)
{
    struct sched_entity *e = entity_at(s, index);
    if (!e || e->state != SCHED_BLOCKED)
        return;
    wake(s, index);
}

void sched_finish(struct sched_policy *s, unsigned index)
{
    struct sched_entity *e = entity_at(s, index);
    if (!e)
        return;
    e->state = SCHED_DONE;
    e->wake_at = SCHED_NO_TIMER;
    release(s, index);
}

void sched_restart(struct sched_policy *s, unsigned index)
{
    struct sched_entity *e = entity_at(s, index);
    if (!e)
        return;
    e->state = SCHED_RUNNABLE;
    e->wake_at = SCHED_NO_TIMER;
    place(s, index, 0);
}

bool sched_all_done(const struct sched_policy *s)
{
    if (!s)
        return true;
    for (unsigned i = 0; i < s->count; i++)
        if (s->entities[i]->state != SCHED_DONE)
            return false;
    return true;
}
