/*
 * fuzz_schema.c - libFuzzer target for the schema decoder.
 *
 * Random and mutated bytes are decoded against the nested test schema
 * `everything` (every kind, arrays of structs and of arrays, optionals).
 * Sanitizers catch any out-of-bounds read; beyond that, a value that
 * decodes must encode again, and that encoding must decode to an equal
 * value that encodes to the same bytes (the encoder is deterministic).
 */
#include <stdlib.h>
#include <string.h>

#include "ferry.h"
#include "schemas.h"

static ferry_arena arena;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    everything v, w;
    ferry_decode_error err;
    ferry_decode_opts opts = {.limits = ferry_cbor_default_limits,
                              .max_array = 4096};
    ferry_arena_reset(&arena);
    arena.limit = 1 << 20;
    int rc =
        ferry_decode(&everything_schema, data, size, &v, &arena, &opts, &err);
    if (rc < 0) {
        /* Every failure names a path rooted at the schema and a reason. */
        if (strncmp(err.message, "everything", 10) != 0 || err.code != rc ||
            err.offset > size)
            __builtin_trap();
        return 0;
    }
    ferry_cbor_buf a, b;
    ferry_cbor_buf_init(&a);
    ferry_cbor_buf_init(&b);
    size_t want = ferry_encoded_size(&everything_schema, &v);
    /* Arrays over a schema maximum cannot decode, so encoding must work. */
    if (ferry_encode(&everything_schema, &v, &a) != FERRY_OK || a.len != want)
        __builtin_trap();
    if (ferry_decode(&everything_schema, a.data, a.len, &w, &arena, &opts,
                     &err) != FERRY_OK)
        __builtin_trap();
    char why[200];
    if (!everything_equal(&v, &w, why, sizeof why))
        __builtin_trap();
    if (ferry_encode(&everything_schema, &w, &b) != FERRY_OK ||
        b.len != a.len || memcmp(a.data, b.data, a.len) != 0)
        __builtin_trap();
    ferry_cbor_buf_free(&a);
    ferry_cbor_buf_free(&b);
    return 0;
}
