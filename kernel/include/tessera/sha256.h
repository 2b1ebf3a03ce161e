/* SHA-256 (FIPS 180-4): proves which guest image a VM runs. Pure integer code, freestanding. */
#ifndef TESSERA_SHA256_H
#define TESSERA_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_SIZE 32
#define SHA256_BLOCK_SIZE 64

struct sha256_ctx {
    uint32_t state[8];
    uint64_t total_bytes; /* message length so far */
    uint8_t block[SHA256_BLOCK_SIZE];
    uint32_t block_used; /* bytes waiting in block[] */
};

void sha256_init(struct sha256_ctx *ctx);
void sha256_update(struct sha256_ctx *ctx, const void *data, size_t len);
/* Writes the digest and wipes the context. */
void sha256_final(struct sha256_ctx *ctx, uint8_t out[SHA256_DIGEST_SIZE]);

void sha256(const void *data, size_t len, uint8_t out[SHA256_DIGEST_SIZE]);
/* 64 lowercase hex digits and a NUL. */
void sha256_hex(const uint8_t digest[SHA256_DIGEST_SIZE], char out[65]);

#endif
