/* The byte reader the fuzz harnesses share: take() returns the next `bytes` input bytes as a
 * little-endian number, reading zeros once the input is used up, so every input runs to the end
 * of the harness's script. */
#ifndef FUZZ_INPUT_H
#define FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>

struct input {
    const uint8_t *data;
    size_t size, pos;
};

static inline uint64_t take(struct input *in, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; i++)
        v |= (uint64_t)(in->pos < in->size ? in->data[in->pos++] : 0) << (8 * i);
    return v;
}

#endif
