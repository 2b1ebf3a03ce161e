/* Byte ring for a VM's recent console output: a write never fails, the oldest bytes are
 * overwritten. Pure; the caller owns the storage. */
#ifndef TESSERA_RING_H
#define TESSERA_RING_H

#include <stddef.h>
#include <stdint.h>

struct ring {
    uint8_t *buf;
    size_t capacity;
    size_t head; /* index of the next byte written */
    size_t size; /* bytes held, <= capacity */
};

/* -EINVAL if storage is NULL or capacity is 0. */
int ring_init(struct ring *r, uint8_t *storage, size_t capacity);
/* Appends len bytes; when more than capacity arrive, only the last capacity bytes are kept. */
void ring_write(struct ring *r, const void *data, size_t len);
void ring_putc(struct ring *r, uint8_t c);
size_t ring_size(const struct ring *r);
void ring_clear(struct ring *r);
/* Copies the most recent min(size, max) bytes, oldest first, to out; returns how many. */
size_t ring_copy_out(const struct ring *r, void *out, size_t max);

#endif
