/*
 * schema_wasm.c - the test schemas as a wasm module, so that jest can check
 * the C serializer against its JavaScript twin (test/js/schema-cross.test.mjs).
 * One call at a time; results stay in module memory until the next call.
 */
#include <emscripten.h>
#include <stdlib.h>
#include <string.h>

#include "ferry.h"
#include "schemas.h"

static ferry_cbor_buf out;
static ferry_decode_error err;
static ferry_arena arena;

EMSCRIPTEN_KEEPALIVE void *fy_t_alloc(size_t n) {
    return malloc(n ? n : 1);
}
EMSCRIPTEN_KEEPALIVE void fy_t_free(void *p) {
    free(p);
}
EMSCRIPTEN_KEEPALIVE const uint8_t *fy_t_out_ptr(void) {
    return out.data;
}
EMSCRIPTEN_KEEPALIVE size_t fy_t_out_len(void) {
    return out.len;
}
EMSCRIPTEN_KEEPALIVE const char *fy_t_err_message(void) {
    return err.message;
}
EMSCRIPTEN_KEEPALIVE const char *fy_t_err_path(void) {
    return err.path;
}
EMSCRIPTEN_KEEPALIVE const char *fy_t_errname(int code) {
    return ferry_errname(code);
}

/* C encodes the generated value for seed. */
EMSCRIPTEN_KEEPALIVE int fy_t_encode_seed(unsigned seed) {
    everything e;
    fill_everything(&e, seed);
    out.len = 0;
    int rc = ferry_encode(&everything_schema, &e, &out);
    free_everything(&e);
    return rc;
}

/* C decodes bytes and compares them field by field with seed's value:
 * 0 when equal, 1 when different (err.message says where), or < 0.
 * via_js: the bytes went through the JS twin, which cannot keep -0.0
 * (cbor-x writes it as the integer 0), so signed zeros compare as zero. */
EMSCRIPTEN_KEEPALIVE int fy_t_check_seed(const uint8_t *p, size_t n,
                                         unsigned seed, int via_js) {
    everything want, got;
    ferry_arena_reset(&arena);
    int rc = ferry_decode(&everything_schema, p, n, &got, &arena, NULL, &err);
    if (rc)
        return rc;
    fill_everything(&want, seed);
    if (via_js) {
        if (want.f64 == 0)
            want.f64 = 0, got.f64 = got.f64 == 0 ? 0 : got.f64;
        if (want.f32 == 0)
            want.f32 = 0, got.f32 = got.f32 == 0 ? 0 : got.f32;
    }
    bool same = everything_equal(&want, &got, err.message, sizeof err.message);
    free_everything(&want);
    return same ? 0 : 1;
}

static const ferry_schema *pick(int which) {
    switch (which) {
    case 0: return &everything_schema;
    case 1: return &order_schema;
    case 2: return &note_schema;
    case 3: return &item_schema;
    default: return &chunk_schema;
    }
}

/* C decodes bytes with schema `which` and encodes the struct again. */
EMSCRIPTEN_KEEPALIVE int fy_t_roundtrip(int which, const uint8_t *p, size_t n) {
    const ferry_schema *s = pick(which);
    void *v = calloc(1, s->size);
    ferry_arena_reset(&arena);
    int rc = ferry_decode(s, p, n, v, &arena, NULL, &err);
    out.len = 0;
    out.err = FERRY_OK;
    if (!rc)
        rc = ferry_encode(s, v, &out);
    free(v);
    return rc;
}
