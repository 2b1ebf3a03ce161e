/* Overwrite-oldest byte ring. See tessera/ring.h. */
#include <tessera/ring.h>
#include <tessera/errno.h>
#include <tessera/string.h>

int ring_init(struct ring *r, uint8_t *storage, size_t capacity)
{
    if (!r || !storage || capacity == 0)
        return -EINVAL;
    r->buf = storage;
    r->capacity = capacity;
    r->head = 0;
    r->size = 0;
    return 0;
}

void ring_write(struct ring *r, const void *data, size_t len)
{
    const uint8_t *src = data;

    if (len >= r->capacity) { /* only the tail survives: write it once, from index 0 */
        memcpy(r->buf, src + (len - r->capacity), r->capacity);
        r->head = 0;
        r->size = r->capacity;
        return;
    }
    while (len > 0) {
        size_t chunk = r->capacity - r->head;
        if (chunk > len)
            chunk = len;
        memcpy(r->buf + r->head, src, chunk);
        r->head = (r->head + chunk) % r->capacity;
        r->size = r->size + chunk > r->capacity ? r->capacity : r->size + chunk;
        src += chunk;
        len -= chunk;
    }
}

void ring_putc(struct ring *r, uint8_t c)
{
    /* ring_write for one byte, without the chunk loop: capacity >= 1, head < capacity */
    r->buf[r->head] = c;
    r->head = r->head + 1 == r->capacity ? 0 : r->head + 1;
    if (r->size < r->capacity)
        r->size++;
}

size_t ring_size(const struct ring *r)
{
    return r->size;
}

void ring_clear(struct ring *r)
{
    r->head = 0;
    r->size = 0;
}

size_t ring_copy_out(const struct ring *r, void *out, size_t max)
{
    uint8_t *dst = out;
    size_t n = r->size < max ? r->size : max;
    /* the newest n bytes end at head; head - n wraps below 0 when they straddle the end */
    size_t start = (r->head + r->capacity - n) % r->capacity;
    size_t first = r->capacity - start;

    if (n == 0)
        return 0;
    if (first > n)
        first = n;
    memcpy(dst, r->buf + start, first);
    memcpy(dst + first, r->buf, n - first);
    return n;
}
