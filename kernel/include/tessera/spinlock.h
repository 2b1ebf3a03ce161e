/* Test-and-set spinlock. The hypervisor runs with interrupts off, so no IRQ juggling here. */
#ifndef TESSERA_SPINLOCK_H
#define TESSERA_SPINLOCK_H

struct spinlock {
    volatile int locked;
};

static inline void spin_lock(struct spinlock *l)
{
    while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
            __builtin_ia32_pause();
}

/* True if it took the lock; never waits. */
static inline int spin_trylock(struct spinlock *l)
{
    return !__atomic_load_n(&l->locked, __ATOMIC_RELAXED) &&
           !__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE);
}

static inline void spin_unlock(struct spinlock *l)
{
    __atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

#endif
