/*
 * chunk.h - what a chunk of the cache demo is, shared by the origin that
 * makes it and by anyone who checks it (examples/cache/chunk.mjs is the
 * JavaScript twin; both must agree bit for bit).
 *
 * A key names a chunk. Its 32-bit FNV-1a hash picks the size (1 to 20 MiB,
 * whole MiB, so every chunk is a whole number of 32-bit words) and seeds a
 * xorshift32 generator whose successive outputs, stored little-endian, are
 * the chunk's words. Any reader can therefore regenerate and compare.
 */
#ifndef CACHE_CHUNK_H
#define CACHE_CHUNK_H

#include <stddef.h>
#include <stdint.h>

static inline uint32_t chunk_hash(const char *key, size_t len) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (uint8_t)key[i];
        h *= 16777619u;
    }
    return h;
}

/* Size in bytes of the chunk with hash h: 1..20 MiB. */
static inline uint32_t chunk_size(uint32_t h) {
    return (1u + (h >> 8) % 20u) << 20;
}

/* The generator's first state: never 0 (xorshift would stay at 0). */
static inline uint32_t chunk_seed(uint32_t h) {
    return h ? h : 0x9e3779b9u;
}

static inline uint32_t chunk_next(uint32_t *x) {
    uint32_t v = *x;
    v ^= v << 13;
    v ^= v >> 17;
    v ^= v << 5;
    return *x = v;
}

#endif
