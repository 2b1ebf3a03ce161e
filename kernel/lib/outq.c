/* SPSC output queue. See tessera/outq.h. Indices run freely and wrap at 2^32; head - tail is
 * the fill level because OUTQ_SIZE divides 2^32. */
#include <tessera/outq.h>
#include <tessera/string.h>

#define OUTQ_MASK (OUTQ_SIZE - 1)
_Static_assert((OUTQ_SIZE & OUTQ_MASK) == 0, "OUTQ_SIZE must be a power of two");

void outq_init(struct outq *q)
{
    __atomic_store_n(&q->head, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&q->tail, 0, __ATOMIC_RELAXED);
}

size_t outq_space(const struct outq *q)
{
    uint32_t head = __atomic_load_n(&q->head, __ATOMIC_RELAXED); /* our own */
    uint32_t tail = __atomic_load_n(&q->tail, __ATOMIC_ACQUIRE); /* the consumer is done with
                                                                    every byte before it */
    return OUTQ_SIZE - (size_t)(head - tail);
}

size_t outq_write(struct outq *q, const void *data, size_t n)
{
    const uint8_t *src = data;
    uint32_t head = __atomic_load_n(&q->head, __ATOMIC_RELAXED);
    size_t space = outq_space(q);
    if (n > space)
        n = space;
    size_t at = head & OUTQ_MASK, first = OUTQ_SIZE - at;
    if (first > n)
        first = n;
    memcpy(q->buf + at, src, first);
    memcpy(q->buf, src + first, n - first);
    /* the bytes are in place before the consumer can see the new head */
    __atomic_store_n(&q->head, head + (uint32_t)n, __ATOMIC_RELEASE);
    return n;
}

bool outq_put(struct outq *q, uint8_t byte)
{
    uint32_t head = __atomic_load_n(&q->head, __ATOMIC_RELAXED);
    uint32_t tail = __atomic_load_n(&q->tail, __ATOMIC_ACQUIRE);
    if (head - tail >= OUTQ_SIZE)
        return false;
    q->buf[head & OUTQ_MASK] = byte;
    __atomic_store_n(&q->head, head + 1, __ATOMIC_RELEASE); /* the byte first, then the index */
    return true;
}


size_t outq_peek(const struct outq *q, void *out, size_t max)
{
    uint8_t *dst = out;
    uint32_t tail = __atomic_load_n(&q->tail, __ATOMIC_RELAXED);
    size_t n = outq_used(q);
    if (n > max)
        n = max;
    if (n == 0)
        return 0; /* the common case when the pump looks at an idle VM */
    size_t at = tail & OUTQ_MASK, first = OUTQ_SIZE - at;
    if (first > n)
        first = n;
    memcpy(dst, q->buf + at, first);
    memcpy(dst + first, q->buf, n - first);
    return n;
}

void outq_discard(struct outq *q, size_t n)
{
    size_t used = outq_used(q);
    if (n > used)
        n = used;
    uint32_t tail = __atomic_load_n(&q->tail, __ATOMIC_RELAXED);
    /* we are done reading before the producer may overwrite those bytes */
    __atomic_store_n(&q->tail, tail + (uint32_t)n, __ATOMIC_RELEASE);
}

size_t outq_read(struct outq *q, void *out, size_t max)
{
    size_t n = outq_peek(q, out, max);
    outq_discard(q, n);
    return n;
}
