/* A VM's console output queue: a bounded single-producer, single-consumer byte queue. The
 * producer is the CPU running the VM (on its exits: THR writes, CONSOLE_WRITE); the consumer is
 * whoever holds the console (kernel/console.c). They share nothing but the two indices, each
 * written by one side only and published with a release store, read by the other with an acquire
 * load, so neither takes a lock. Pure. */
#ifndef TESSERA_OUTQ_H
#define TESSERA_OUTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OUTQ_SIZE 4096 /* a power of two */

struct outq {
    uint32_t head; /* bytes ever written: only the producer stores it */
    uint32_t tail; /* bytes ever read: only the consumer stores it */
    uint8_t buf[OUTQ_SIZE];
};

void outq_init(struct outq *q); /* only while neither side runs */

/* Producer: appends as many of the n bytes as fit and returns how many (0 when full): never
 * waits, never overwrites what the consumer has not read. */
size_t outq_write(struct outq *q, const void *data, size_t n);
/* Producer: one byte, as outq_write(q, &byte, 1) == 1 without the copy loop (a guest's THR
 * write). */
bool outq_put(struct outq *q, uint8_t byte);
/* Producer: free space now (it can only grow until the producer writes). */
size_t outq_space(const struct outq *q);

/* Consumer: takes up to max bytes, oldest first; returns how many. */
size_t outq_read(struct outq *q, void *out, size_t max);
/* Consumer: copies up to max bytes, oldest first, without taking them; returns how many. */
size_t outq_peek(const struct outq *q, void *out, size_t max);
/* Consumer: takes n bytes (at most outq_used) without copying them: after an outq_peek. */
void outq_discard(struct outq *q, size_t n);
/* Consumer: bytes waiting (it can only grow until the consumer reads). Inline: the port exits
 * of COM1 ask it on every read. */
static inline size_t outq_used(const struct outq *q)
{
    uint32_t head = __atomic_load_n(&q->head, __ATOMIC_ACQUIRE); /* the producer's bytes up to
                                                                    head are visible */
    uint32_t tail = __atomic_load_n(&q->tail, __ATOMIC_RELAXED);
    return (size_t)(head - tail);
}

#endif
