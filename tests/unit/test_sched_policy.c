/* Scheduler policy: weighted shares, early yields, timers, the minimum slice, idle, joins, wakes,
 * restarts, errors. */
/* UNIT-SOURCES: kernel/sched_policy.c */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <tessera/sched_policy.h>

#define Q 1000ull /* quantum in ticks */
#define MIN_SLICE (Q * SCHED_MIN_SLICE_NUM / SCHED_MIN_SLICE_DEN)

/* Ticks an entity uses of its slice (0: all of it). */
static uint64_t uses[SCHED_MAX_ENTITIES];

/* Runs n slices from *now; each picked entity uses min(slice, uses[i]) ticks. Returns false on
 * an idle pick. */
static bool run(struct sched_policy *s, uint64_t *now, unsigned n)
{
    for (unsigned k = 0; k < n; k++) {
        uint64_t slice = 0, idle = 0;
        int i = sched_pick(s, *now, &slice, &idle);
        if (i < 0)
            return false;
        assert_true(slice > 0 && slice <= s->quantum);
        uint64_t t = uses[i] && uses[i] < slice ? uses[i] : slice;
        sched_charge(s, (unsigned)i, t);
        *now += t;
    }
    return true;
}

static void setup_entities(struct sched_policy *s, struct sched_entity *e, const uint32_t *weights,
                           unsigned n)
{
    sched_init(s, Q);
    memset(uses, 0, sizeof(uses));
    for (unsigned i = 0; i < n; i++)
        assert_int_equal(sched_add(s, &e[i], weights[i]), (int)i);
}

/* |got/total - num/den| <= 1% of the total. */
static void assert_share(uint64_t got, uint64_t total, uint64_t num, uint64_t den)
{
    double share = (double)got / (double)total, want = (double)num / (double)den;
    if (share < want - 0.01 || share > want + 0.01)
        fail_msg("share %.4f, want %.4f", share, want);
}

static void test_weights_1_2_3(void **state)
{
    (void)state;
    struct sched_policy s;
    struct sched_entity e[3];
    const uint32_t w[] = {1, 2, 3};
    setup_entities(&s, e, w, 3);
    uint64_t now = 0;
    assert_true(run(&s, &now, 6000));
    uint64_t total = e[0].ticks_run + e[1].ticks_run + e[2].ticks_run;
    assert_int_equal(total, now);
    assert_share(e[0].ticks_run, total, 1, 6);
    assert_share(e[1].ticks_run, total, 2, 6);
    assert_share(e[2].ticks_run, total, 3, 6);
    /* Full slices: the ratio is exact to within one slice. */
    assert_true(e[2].ticks_run >= 3 * e[0].ticks_run - 3 * Q);
    assert_true(e[2].ticks_run <= 3 * e[0].ticks_run + 3 * Q);
    assert_int_equal(e[0].times_scheduled + e[1].times_scheduled + e[2].times_scheduled, 6000);
}

static void test_early_yield_keeps_share(void **state)
{
    (void)state;
    struct sched_policy s;
    struct sched_entity e[2];
    const uint32_t w[] = {1, 1};
    setup_entities(&s, e, w, 2);
    uses[0] = 30; /* yields after 30 of its 1000 ticks, stays runnable */
    uint64_t now = 0;
    assert_true(run(&s, &now, 20000));
    assert_share(e[0].ticks_run, now, 1, 2);
    assert_share(e[1].ticks_run, now, 1, 2);
    assert_true(e[0].times_scheduled > 20 * e[1].times_scheduled);

    /* Weights 1 and 3 where the heavy one always leaves after 10 ticks. */
    const uint32_t w2[] = {1, 3};
    setup_entities(&s, e, w2, 2);
    uses[1] = 10;
    now = 0;
    assert_true(run(&s, &now, 50000));
    assert_share(e[0].ticks_run, now, 1, 4);
    assert_share(e[1].ticks_run, now, 3, 4);
}

static void test_ties_by_index(void **state)
{
    (void)state;
    struct sched_policy s;
    struct sched_entity e[3];
    const uint32_t w[] = {5, 5, 5};
    setup_entities(&s, e, w, 3);
    uint64_t now = 0, slice;
    for (unsigned k = 0; k < 9; k++) {
        int i = sched_pick(&s, now, &slice, NULL);
        assert_int_equal(i, (int)(k % 3));
        assert_int_equal(slice, Q);
        sched_charge(&s, (unsigned)i, Q);
        now += Q;
    }
}

static void test_timer_wakes_on_time(void **state)
{
    (void)state;
    struct sched_policy s;
    struct sched_entity e[2];
    const uint32_t w[] = {1, 1};
    setup_entities(&s, e, w, 2);
    uint64_t slice = 0;
    assert_int_equal(sched_pick(&s, 0, &slice, NULL), 0);
    sched_charge(&s, 0, 100);
    sched_block(&s, 0, 2500); /* HLT with a timer at tick 2500 */
    assert_int_equal(e[0].state, SCHED_BLOCKED);

    uint64_t now = 100;
    assert_int_equal(sched_pick(&s, now, &slice, NULL), 1);
    assert_int_equal(slice, Q);
    sched_charge(&s, 1, slice);
    now += slice; /* 1100 */
    assert_int_equal(sched_pick(&s, now, &slice, NULL), 1);
    assert_int_equal(slice, Q);
    sched_charge(&s, 1, slice);
    now += slice; /* 2100: the slice is cut so the timer is served at 2500 */
    assert_int_equal(sched_pick(&s, now, &slice, NULL), 1);
    assert_int_equal(slice, 400);
    sched_charge(&s, 1, slice);
    now += slice;
    assert_int_equal(now, 2500);
    assert_int_equal(sched_pick(&s, now, &slice, NULL), 0);
    assert_int_equal(e[0].state, SCHED_RUNNABLE);
    assert_int_equal(e[0].wake_at, SCHED_NO_TIMER);
    assert_int_equal(e[0].times_scheduled, 2);

    /* A timer already due when blocking wakes at the next pick. */
    sched_charge(&s, 0, 10);
    sched_block(&s, 0, 2000);
    assert_int_equal(sched_pick(&s, 2510, &slice, NULL), 0);
}

static void test_idle_until(void **state)
{
    (void)state;
    struct sched_policy s;
    struct sched_entity e[3];
    const uint32_t w[] = {1, 2, 3};
    setup_entities(&s, e, w, 3);
    sched_block(&s, 0, 700);
    sched_block(&s, 1, 400);
    sched_block(&s, 2, SCHED_NO_TIMER);
    uint64_t slice = 123, idle = 0;
    assert_int_equal(sched_pick(&s, 100, &slice, &idle), -1);
    assert_int_equal(idle, 400);
    assert_int_equal(slice, 0);
    /* At 400 entity 1 wakes; entity 0's timer at 700 cuts its slice, but not below the minimum
     * slice. */
    assert_int_equal(sched_pick(&s, 400, &slice, &idle), 1);
    assert_int_equal(slice, MIN_SLICE);
    sched_block(&s, 1, SCHED_NO_TIMER);
    assert_int_equal(sched_pick(&s, 450, &slice, &idle), -1);
    assert_int_equal(idle, 700);
    sched_finish(&s, 0);
    /* Nothing can ever run by itself: blocked without timers. */
    assert_int_equal(sched_pick(&s, 800, &slice, &idle), -1);
    assert_int_equal(idle, SCHED_NO_TIMER);
    assert_false(sched_all_done(&s));
    sched_wake(&s, 2);
    assert_int_equal(sched_pick(&s, 800, &slice, &idle), 2);
    assert_int_equal(slice, Q);
    /* All done. */
    sched_finish(&s, 1);
    sched_finish(&s, 2);
    assert_true(sched_all_done(&s));
    idle = 0;
    assert_int_equal(sched_pick(&s, 900, &slice, &idle), -1);
    assert_int_equal(idle, SCHED_NO_TIMER);
    /* NULL outputs are allowed. */
    assert_int_equal(sched_pick(&s, 900, NULL, NULL), -1);
}

static void test_late_joiner_does_not_starve_others(void **state)
{
    (void)state;
    struct sched_policy s;
    struct sched_entity e[3];
    const uint32_t w[] = {1, 1};
    setup_entities(&s, e, w, 2);
    uint64_t now = 0;
    assert_true(run(&s, &now, 1000));
    uint64_t min = e[0].vruntime < e[1].vruntime ? e[0].vruntime : e[1].vruntime;
    assert_int_equal(sched_add(&s, &e[2], 1), 2);
    assert_int_equal(e[2].vruntime, min);
    /* The next 3 slices go to 3 different entities. */
    uint64_t before[3] = {e[0].ticks_run, e[1].ticks_run, e[2].ticks_run};
    assert_true(run(&s, &now, 3));
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal(e[i].ticks_run - before[i], Q);
    /* And from here on a third each. */
    for (unsigned i = 0; i < 3; i++)
        before[i] = e[i].ticks_run;
    uint64_t start = now;
    assert_true(run(&s, &now, 3000));
    for (unsigned i = 0; i < 3; i++)
        assert_share(e[i].ticks_run - before[i], now - start, 1, 3);
}

static void test_late_waker_gets_one_slice_of_credit(void **state)
{
    (void)state;
    struct sched_policy s;
    struct sched_entity e[3];
    const uint32_t w[] = {2, 1, 1};
    setup_entities(&s, e, w, 3);
    sched_block(&s, 0, SCHED_NO_TIMER);
    uint64_t now = 0;
    assert_true(run(&s, &now, 1000));
    assert_int_equal(e[0].ticks_run, 0);
    uint64_t min = e[1].vruntime < e[2].vruntime ? e[1].vruntime : e[2].vruntime;
    sched_wake(&s, 0);
    /* One quantum of its own weight behind the others, no more. */
    assert_int_equal(e[0].vruntime, min - Q * SCHED_VRUNTIME_SCALE / 2);
    assert_int_equal(e[0].wake_at, SCHED_NO_TIMER);
    /* It runs first, then the others get their turns within the next slices. */
    uint64_t slice;
    assert_int_equal(sched_pick(&s, now, &slice, NULL), 0);
    sched_charge(&s, 0, Q);
    now += Q;
    uint64_t before[3] = {e[0].ticks_run, e[1].ticks_run, e[2].ticks_run};
    assert_true(run(&s, &now, 4));
    assert_true(e[1].ticks_run > before[1]);
    assert_true(e[2].ticks_run > before[2]);
    /* Long run: 2:1:1. */
    for (unsigned i = 0; i < 3; i++)
        before[i] = e[i].ticks_run;
    uint64_t start = now;
    assert_true(run(&s, &now, 4000));
    assert_share(e[0].ticks_run - before[0], now - start, 2, 4);
    assert_share(e[1].ticks_run - before[1], now - start, 1, 4);
    assert_share(e[2].ticks_run - before[2], now - start, 1, 4);
}

static void test_wake_keeps_higher_vruntime(void **state)
{
    (void)state;
    struct sched_policy s;
    struct sched_entity e[2];
    const uint32_t w[] = {1, 1};
    setup_entities(&s, e, w, 2);
    sched_charge(&s, 0, 50 * Q); /* ran a lot before sleeping */
    sched_block(&s, 0, SCHED_NO_TIMER);
    uint64_t v = e[0].vruntime;
    sched_wake(&s, 0);
    assert_int_equal(e[0].vruntime, v);
    /* Waking a runnable entity changes nothing. */
    sched_wake(&s, 1);
    assert_int_equal(e[1].vruntime, 0);
    assert_int_equal(e[1].state, SCHED_RUNNABLE);
}

static void test_wake_with_nothing_runnable(void **state)
{
    (void)state;
    struct sched_policy s;
    struct sched_entity e[2];
    const uint32_t w[] = {1, 1};
    setup_entities(&s, e, w, 2);
    sched_charge(&s, 1, 100 * Q);
    sched_block(&s, 0, SCHED_NO_TIMER);
    sched_block(&s, 1, SCHED_NO_TIMER);
    /* Entity 0 slept through entity 1's run: measured against the blocked one's progress. */
    sched_wake(&s, 0);
    assert_int_equal(e[0].vruntime, (100 * Q - Q) * SCHED_VRUNTIME_SCALE);
}

static void test_finish_and_restart(void **state)
{
    (void)state;
    struct sched_policy s;
    struct sched_entity e[3];
    const uint32_t w[] = {1, 1, 1};
    setup_entities(&s, e, w, 3);
    uint64_t now = 0;
    sched_finish(&s, 0);
    assert_int_equal(e[0].state, SCHED_DONE);
    assert_true(run(&s, &now, 1000));
    assert_int_equal(e[0].ticks_run, 0);
    assert_int_equal(e[0].times_scheduled, 0);
    /* Blocking a finished entity does not revive it. */
    sched_block(&s, 0, 0);
    assert_int_equal(e[0].state, SCHED_DONE);
    sched_wake(&s, 0);
    assert_int_equal(e[0].state, SCHED_DONE);

    uint64_t min = e[1].vruntime < e[2].vruntime ? e[1].vruntime : e[2].vruntime;
    sched_restart(&s, 0);
    assert_int_equal(e[0].state, SCHED_RUNNABLE);
    assert_int_equal(e[0].vruntime, min); /* no credit for the time it was gone */
    uint64_t before[3] = {e[0].ticks_run, e[1].ticks_run, e[2].ticks_run};
    uint64_t start = now;
    assert_true(run(&s, &now, 3000));
    for (unsigned i = 0; i < 3; i++)
        assert_share(e[i].ticks_run - before[i], now - start, 1, 3);
    assert_false(sched_all_done(&s));
    for (unsigned i = 0; i < 3; i++)
        sched_finish(&s, i);
    assert_true(sched_all_done(&s));
    /* Restarting the only entity keeps its vruntime and counters. */
    uint64_t v = e[1].vruntime, ticks = e[1].ticks_run;
    sched_restart(&s, 1);
    assert_int_equal(e[1].vruntime, v);
    assert_int_equal(e[1].ticks_run, ticks);
    assert_false(sched_all_done(&s));
    uint64_t slice;
    assert_int_equal(sched_pick(&s, now, &slice, NULL), 1);
}

static void test_restart_keeps_higher_vruntime(void **state)
{
    (void)state;
    struct sched_policy s;
    struct sched_entity e[2];
    const uint32_t w[] = {1, 1};
    setup_entities(&s, e, w, 2);
    sched_charge(&s, 0, 10 * Q);
    sched_finish(&s, 0);
    uint64_t v = e[0].vruntime;
    sched_restart(&s, 0);
    assert_int_equal(e[0].vruntime, v);
}

static void test_single_entity(void **state)
{
    (void)state;
    struct sched_policy s;
    struct sched_entity e;
    sched_init(&s, Q);
    assert_true(sched_all_done(&s)); /* nothing added */
    uint64_t slice = 0, idle = 0;
    assert_int_equal(sched_pick(&s, 0, &slice, &idle), -1);
    assert_int_equal(idle, SCHED_NO_TIMER);
    assert_int_equal(sched_add(&s, &e, 7), 0);
    assert_int_equal(e.weight, 7);
    assert_int_equal(e.vruntime, 0);
    for (unsigned k = 0; k < 5; k++) {
        assert_int_equal(sched_pick(&s, k * Q, &slice, &idle), 0);
        assert_int_equal(slice, Q);
        sched_charge(&s, 0, Q);
    }
    assert_int_equal(e.ticks_run, 5 * Q);
    assert_int_equal(e.times_scheduled, 5);
    /* Each charge rounds down on its own. */
    assert_int_equal(e.vruntime, 5 * (Q * SCHED_VRUNTIME_SCALE / 7));
    sched_block(&s, 0, 9000);
    assert_int_equal(sched_pick(&s, 5000, &slice, &idle), -1);
    assert_int_equal(idle, 9000);
    assert_int_equal(sched_pick(&s, 9000, &slice, &idle), 0);
    sched_finish(&s, 0);
    assert_true(sched_all_done(&s));
}

static void test_add_errors(void **state)
{
    (void)state;
    struct sched_policy s;
    struct sched_entity e[SCHED_MAX_ENTITIES + 1];
    sched_init(&s, Q);
    assert_int_equal(sched_add(&s, &e[0], 0), -EINVAL);
    assert_int_equal(sched_add(&s, &e[0], SCHED_WEIGHT_MAX + 1), -EINVAL);
    assert_int_equal(sched_add(&s, NULL, 1), -EINVAL);
    assert_int_equal(sched_add(NULL, &e[0], 1), -EINVAL);
    assert_int_equal(s.count, 0);
    assert_int_equal(sched_add(&s, &e[0], SCHED_WEIGHT_MAX), 0);
    assert_int_equal(sched_add(&s, &e[0], 1), -EEXIST);
    for (unsigned i = 1; i < SCHED_MAX_ENTITIES; i++)
        assert_int_equal(sched_add(&s, &e[i], 1), (int)i);
    assert_int_equal(sched_add(&s, &e[SCHED_MAX_ENTITIES], 1), -ENOSPC);
    assert_int_equal(s.count, SCHED_MAX_ENTITIES);
}

static void test_bad_index_ignored(void **state)
{
    (void)state;
    struct sched_policy s;
    struct sched_entity e;
    sched_init(&s, Q);
    assert_int_equal(sched_add(&s, &e, 1), 0);
    sched_charge(&s, 1, 100);
    sched_block(&s, 1, 5);
    sched_wake(&s, 1);
    sched_finish(&s, 1);
    sched_restart(&s, 1);
    sched_charge(NULL, 0, 100);
    sched_finish(NULL, 0);
    assert_int_equal(e.state, SCHED_RUNNABLE);
    assert_int_equal(e.ticks_run, 0);
    assert_int_equal(e.vruntime, 0);
    assert_int_equal(sched_pick(NULL, 0, NULL, NULL), -1);
    assert_true(sched_all_done(NULL));
}

static void test_quantum_limits(void **state)
{
    (void)state;
    struct sched_policy s;
    sched_init(&s, 0);
    assert_int_equal(s.quantum, 1);
    assert_int_equal(s.min_slice, 1);
    sched_init(&s, 3);
    assert_int_equal(s.min_slice, 3 * SCHED_MIN_SLICE_NUM / SCHED_MIN_SLICE_DEN);
    sched_init(&s, UINT64_MAX);
    assert_int_equal(s.quantum, SCHED_MAX_QUANTUM);
    assert_int_equal(s.min_slice, SCHED_MAX_QUANTUM * SCHED_MIN_SLICE_NUM / SCHED_MIN_SLICE_DEN);
}

/* The minimum slice is a real fraction of the quantum: shorter would let a sleeper cut its
 * neighbours into switch overhead, longer than the quantum would break the quantum. */
static void test_min_slice_value(void **state)
{
    (void)state;
    struct sched_policy s;
    sched_init(&s, Q);
    assert_true(s.min_slice >= Q / 2 && s.min_slice < Q);
}

/* A sleeper that wakes every 20 ticks and runs 10 beside an entity that always uses its whole
 * slice: each time the CPU-bound one gets the CPU it keeps it for at least the minimum slice,
 * so the sleeper runs at most once per minimum slice and the CPU-bound one gets its share. */
static void test_min_slice_against_frequent_sleeper(void **state)
{
    (void)state;
    struct sched_policy s;
    struct sched_entity e[2];
    const uint32_t w[] = {1, 1};
    setup_entities(&s, e, w, 2);
    uint64_t now = 0, held = 0, switches_to_busy = 0, sleeper_runs = 0;
    int last = -1;
    for (unsigned k = 0; k < 10000; k++) {
        uint64_t slice = 0, idle = 0;
        int i = sched_pick(&s, now, &slice, &idle);
        assert_true(i == 0 || i == 1);
        assert_true(slice > 0 && slice <= Q);
        if (i == 1) {
            if (last == 0) /* the busy one held the CPU since it got it */
                assert_true(held >= MIN_SLICE);
            sched_charge(&s, 1, 10);
            now += 10;
            sched_block(&s, 1, now + 20);
            sleeper_runs++;
        } else {
            if (last != 0) {
                held = 0;
                switches_to_busy++;
                assert_true(slice >= MIN_SLICE);
            }
            sched_charge(&s, 0, slice);
            now += slice;
            held += slice;
        }
        last = i;
    }
    /* the sleeper got the CPU once per busy stretch of at least MIN_SLICE */
    assert_true(sleeper_runs <= switches_to_busy + 1);
    assert_true(sleeper_runs * MIN_SLICE <= e[0].ticks_run + MIN_SLICE);
    assert_true(e[0].ticks_run * 100 >= (e[0].ticks_run + e[1].ticks_run) * 98);
}

/* The minimum slice counts from the pick that gave the entity the CPU: an entity that already
 * ran that long in a row has its slice cut exactly at the pending timer. */
static void test_min_slice_counts_from_first_pick(void **state)
{
    (void)state;
    struct sched_policy s;
    struct sched_entity e[2];
    const uint32_t w[] = {1, 1};
    setup_entities(&s, e, w, 2);
    uint64_t slice = 0;
    assert_int_equal(sched_pick(&s, 0, &slice, NULL), 0);
    sched_charge(&s, 0, 5);
    sched_block(&s, 0, 1105);
    assert_int_equal(sched_pick(&s, 5, &slice, NULL), 1);
    assert_int_equal(slice, Q); /* timer 1100 ahead */
    sched_charge(&s, 1, Q);
    /* held Q >= MIN_SLICE: cut at the timer */
    assert_int_equal(sched_pick(&s, 5 + Q, &slice, NULL), 1);
    assert_int_equal(slice, 100);
    sched_charge(&s, 1, 100);
    assert_int_equal(sched_pick(&s, 1105, &slice, NULL), 0);

    /* Entity 0 sleeps 10 ticks: entity 1, switched to at 1110, runs the minimum slice first. */
    sched_charge(&s, 0, 5);
    sched_block(&s, 0, 1120);
    assert_int_equal(sched_pick(&s, 1110, &slice, NULL), 1);
    assert_int_equal(slice, MIN_SLICE);
    /* It leaves the CPU by itself (yield) after 100: entity 0, due since 1120, runs. */
    sched_charge(&s, 1, 100);
    assert_int_equal(sched_pick(&s, 1210, &slice, NULL), 0);
    sched_charge(&s, 0, 5);
    sched_block(&s, 0, 1525);
    /* a new hold for entity 1 */
    assert_int_equal(sched_pick(&s, 1215, &slice, NULL), 1);
    assert_int_equal(slice, MIN_SLICE);
    sched_charge(&s, 1, 300);
    /* picked again in a row after a yield: the timer 10 ahead waits for what it lacks */
    assert_int_equal(sched_pick(&s, 1515, &slice, NULL), 1);
    assert_int_equal(slice, MIN_SLICE - 300);
    sched_charge(&s, 1, slice);
    assert_int_equal(sched_pick(&s, 1515 + MIN_SLICE - 300, &slice, NULL), 0);
}

/* Latency bound: whenever an entity's timer falls, it runs again no later than the minimum
 * slice after its deadline, and on time when the running one already had the minimum slice. */
static void test_wake_latency_bound(void **state)
{
    (void)state;
    for (uint64_t sleep = 1; sleep <= 2 * Q; sleep += 37) {
        struct sched_policy s;
        struct sched_entity e[2];
        const uint32_t w[] = {1, 1};
        setup_entities(&s, e, w, 2);
        uint64_t now = 0, slice = 0, deadline = 0;
        for (unsigned k = 0; k < 200; k++) {
            int i = sched_pick(&s, now, &slice, NULL);
            if (i == 1) {
                if (deadline) {
                    assert_true(now >= deadline);
                    assert_true(now - deadline <= MIN_SLICE);
                }
                sched_charge(&s, 1, 3);
                now += 3;
                deadline = now + sleep;
                sched_block(&s, 1, deadline);
            } else {
                assert_int_equal(i, 0);
                sched_charge(&s, 0, slice);
                now += slice;
            }
        }
        assert_true(e[1].times_scheduled > 10);
    }
}

static void test_huge_charge_and_rebase(void **state)
{
    (void)state;
    struct sched_policy s;
    struct sched_entity e[3];
    const uint32_t w[] = {1, 1, 1};
    setup_entities(&s, e, w, 3);
    /* A charge beyond SCHED_MAX_CHARGE counts fully in ticks_run, clamped in vruntime. */
    sched_charge(&s, 2, 4 * SCHED_MAX_CHARGE);
    assert_int_equal(e[2].ticks_run, 4 * SCHED_MAX_CHARGE);
    assert_int_equal(e[2].vruntime, SCHED_MAX_CHARGE * SCHED_VRUNTIME_SCALE);

    /* Near the top, a charge lowers every vruntime; a long-blocked one stops at 0. */
    e[0].vruntime = SCHED_REBASE_AT - 10;
    e[1].vruntime = SCHED_REBASE_AT - 5;
    e[2].vruntime = 1234;
    sched_block(&s, 2, SCHED_NO_TIMER);
    sched_charge(&s, 0, 1);
    assert_int_equal(e[0].vruntime, SCHED_REBASE_AT - 10 + SCHED_VRUNTIME_SCALE - SCHED_REBASE_BY);
    assert_int_equal(e[1].vruntime, SCHED_REBASE_AT - 5 - SCHED_REBASE_BY);
    assert_int_equal(e[2].vruntime, 0);
    /* Order is kept, and the long sleeper is placed again when it wakes. */
    uint64_t slice;
    assert_int_equal(sched_pick(&s, 0, &slice, NULL), 1);
    sched_wake(&s, 2);
    assert_int_equal(e[2].vruntime, e[1].vruntime - Q * SCHED_VRUNTIME_SCALE);
    /* Below the threshold nothing moves. */
    uint64_t v1 = e[1].vruntime;
    sched_charge(&s, 0, 1);
    assert_int_equal(e[1].vruntime, v1);
}

static void test_charge_rounds_per_charge(void **state)
{
    (void)state;
    struct sched_policy s;
    struct sched_entity e;
    sched_init(&s, Q);
    assert_int_equal(sched_add(&s, &e, 3), 0);
    sched_charge(&s, 0, 7); /* 7 * 65536 / 3 = 152917.33 */
    assert_int_equal(e.vruntime, 7 * SCHED_VRUNTIME_SCALE / 3);
    sched_charge(&s, 0, 0);
    assert_int_equal(e.vruntime, 7 * SCHED_VRUNTIME_SCALE / 3);
    assert_int_equal(e.ticks_run, 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_weights_1_2_3),
        cmocka_unit_test(test_early_yield_keeps_share),
        cmocka_unit_test(test_ties_by_index),
        cmocka_unit_test(test_timer_wakes_on_time),
        cmocka_unit_test(test_idle_until),
        cmocka_unit_test(test_late_joiner_does_not_starve_others),
        cmocka_unit_test(test_late_waker_gets_one_slice_of_credit),
        cmocka_unit_test(test_wake_keeps_higher_vruntime),
        cmocka_unit_test(test_wake_with_nothing_runnable),
        cmocka_unit_test(test_finish_and_restart),
        cmocka_unit_test(test_restart_keeps_higher_vruntime),
        cmocka_unit_test(test_single_entity),
        cmocka_unit_test(test_add_errors),
        cmocka_unit_test(test_bad_index_ignored),
        cmocka_unit_test(test_quantum_limits),
        cmocka_unit_test(test_min_slice_value),
        cmocka_unit_test(test_min_slice_against_frequent_sleeper),
        cmocka_unit_test(test_min_slice_counts_from_first_pick),
        cmocka_unit_test(test_wake_latency_bound),
        cmocka_unit_test(test_huge_charge_and_rebase),
        cmocka_unit_test(test_charge_rounds_per_charge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
