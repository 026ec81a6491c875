/*
 * bench_struct.c - the struct codec rows: encode + decode of one 10-field
 * struct with ferry's schema serializer, against cbor-x in JavaScript (the
 * performance contract's `struct.codec_vs_cborx`) and libcbor natively.
 *
 * One source, built twice:
 *
 *   build/wasm/bench-struct.mjs  an ES module (no main) that
 *                                test/bench/struct.mjs loads into the Node
 *                                process that also times cbor-x, so both
 *                                sides share one process, one machine state
 *                                and interleaved batches. JS calls
 *                                fy_sb_run(which, n) and times it with
 *                                process.hrtime.bigint().
 *   build/bench/bench_struct     a native program (clang -O3, no sanitizers,
 *                                -DFY_BENCH_LIBCBOR=1) printing JSON lines
 *                                like bench_cbor: ferry native and libcbor
 *                                0.8 doing the equivalent work.
 *
 * The value (the same in C and, built from what this module hands out, in
 * JS): id uint64 5124095577148911 (above 2^32, below 2^53, so a plain JS
 * number), seq uint32, kind (a C enum, int32), temp float32 21.37f (needs a
 * single), ratio float64, ok bool, name 12 bytes of ASCII text (ferry_str),
 * payload 1024 pseudo-random bytes (ferry_bytes), samples 8 int32 of every
 * head size and sign, owner an actor id. Encoded by ferry: 1,155 bytes
 * (cbor-x: 1,159, as it writes id and temp as float64).
 *
 * One iteration of `struct.ferry`: ferry_encode into a ferry_cbor_buf that
 * is reused (len reset to 0), ferry_arena_reset, ferry_decode of those bytes
 * into a fresh struct (text and bytes point into the buffer, samples into
 * the arena), then a cheap check that the decoded struct equals the input:
 * every scalar, the name's length and bytes, the payload's length and its
 * first, middle and last byte, all 8 samples. The JS side checks exactly
 * the same things of its decoded object, so neither side's check costs more.
 * Every iteration that does not match is counted, and a measurement with any
 * mismatch fails the run; a full comparison (every payload byte) runs before
 * and after timing. A broken codec cannot report a fast wrong answer.
 *
 * `struct.libcbor` (native only, reference): cbor_new_definite_map(10) and
 * cbor_build_* for every field (integers and floats in their shortest width,
 * so the bytes equal ferry's, which is checked), cbor_serialize into a fixed
 * buffer, cbor_decref; then cbor_load, a walk of the map's pairs that looks
 * each key up in the field table and type- and range-checks its value into
 * the same struct (samples into a ferry_arena, strings pointing into the
 * loaded tree), the same check, cbor_decref.
 *
 * Native measurements (ids): struct.ferry, struct.ferry.encode,
 * struct.ferry.decode, struct.libcbor, struct.libcbor.encode,
 * struct.libcbor.decode. The .encode/.decode halves are for analysis; the
 * rows use the whole round. Timing as in bench_cbor.c: warm-up, calibration
 * to ~50 ms batches (10 ms with --quick), 21 batches (9) interleaved across
 * the selected measurements, median (and quartiles) of ns per iteration.
 *
 * Arguments (native): --quick, --list, --only PREFIX..., --id ID...
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* clock_gettime when built outside meson */
#endif

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ferry/schema.h>

#define FY_BENCH_NAME "bench_struct"
#include "bench_common.h"

#ifndef FY_BENCH_LIBCBOR
#define FY_BENCH_LIBCBOR 0
#endif
#if FY_BENCH_LIBCBOR
#include <cbor.h>
#endif
#ifdef __EMSCRIPTEN__
#include <emscripten.h>
#define FY_EXPORT EMSCRIPTEN_KEEPALIVE
#else
#define FY_EXPORT
#endif

/* ------------------------------------------------------------- the struct */

typedef enum fy_sb_kind {
    FY_SB_IDLE = 0,
    FY_SB_SAMPLE = 1,
    FY_SB_WARN = 2,
    FY_SB_ALARM = 3,
} fy_sb_kind;

typedef struct reading {
    uint64_t id;
    uint32_t seq;
    fy_sb_kind kind;
    float temp;
    double ratio;
    bool ok;
    ferry_str name;
    ferry_bytes payload;
    int32_t *samples;
    size_t n_samples;
    ferry_id owner;
} reading;

extern const ferry_schema reading_schema;
// clang-format off
FERRY_SCHEMA(reading_schema, reading, FERRY_F_U64(reading, id),
             FERRY_F_U32(reading, seq), FERRY_F_ENUM(reading, kind),
             FERRY_F_F32(reading, temp), FERRY_F_F64(reading, ratio),
             FERRY_F_BOOL(reading, ok), FERRY_F_TEXT(reading, name),
             FERRY_F_BYTES(reading, payload),
             FERRY_F_ARRAY(reading, samples, n_samples, FERRY_ELEM_I32, 8),
             FERRY_F_ACTOR(reading, owner));
// clang-format on

#define FY_SB_PAYLOAD 1024u
#define FY_SB_NSAMPLES 8u

static uint8_t fy_payload[FY_SB_PAYLOAD];
static int32_t fy_samples[FY_SB_NSAMPLES] = {
    -3, 17, 250, -1000, 65536, -70000, 123456789, INT32_MIN};
static const char fy_name[] = "kitchen-temp";

static reading fy_in; /* the value every iteration encodes */

static ferry_cbor_buf fy_buf; /* reused output buffer */
static ferry_arena fy_arena;  /* reset every iteration */
static ferry_decode_error fy_err;
static uint8_t *fy_wire; /* ferry's encoding of fy_in */
static size_t fy_wire_len;

/* What every iteration checks of its decoded struct (both sides, C and JS,
 * check the same things): all scalars, the name, the payload's length and
 * three of its bytes, all samples. */
static bool fy_same(const reading *a, const reading *b) {
    const size_t n = a->payload.len;
    if (a->id != b->id || a->seq != b->seq || a->kind != b->kind ||
        a->temp != b->temp || a->ratio != b->ratio || a->ok != b->ok ||
        a->owner != b->owner || a->name.len != b->name.len ||
        a->payload.len != b->payload.len || a->n_samples != b->n_samples)
        return false;
    if (memcmp(a->name.ptr, b->name.ptr, a->name.len) != 0)
        return false;
    if (n && (a->payload.ptr[0] != b->payload.ptr[0] ||
              a->payload.ptr[n / 2] != b->payload.ptr[n / 2] ||
              a->payload.ptr[n - 1] != b->payload.ptr[n - 1]))
        return false;
    for (size_t i = 0; i < a->n_samples; i++)
        if (a->samples[i] != b->samples[i])
            return false;
    return true;
}

/* fy_same plus every payload byte: run outside the timed loops. */
static bool fy_same_full(const reading *a, const reading *b) {
    return fy_same(a, b) &&
           memcmp(a->payload.ptr, b->payload.ptr, a->payload.len) == 0;
}

/* ------------------------------------------------------- ferry iterations */

/* One round: encode, reset the arena, decode, check. 0 when it matched. */
static int fy_ferry_round(void) {
    reading out;
    fy_buf.len = 0;
    if (ferry_encode(&reading_schema, &fy_in, &fy_buf) != FERRY_OK)
        return 1;
    ferry_arena_reset(&fy_arena);
    if (ferry_decode(&reading_schema, fy_buf.data, fy_buf.len, &out, &fy_arena,
                     NULL, &fy_err) != FERRY_OK)
        return 1;
    return !fy_same(&fy_in, &out);
}

static int fy_ferry_encode_only(void) {
    fy_buf.len = 0;
    if (ferry_encode(&reading_schema, &fy_in, &fy_buf) != FERRY_OK)
        return 1;
    return fy_buf.len != fy_wire_len;
}

static int fy_ferry_decode_only(void) {
    reading out;
    ferry_arena_reset(&fy_arena);
    if (ferry_decode(&reading_schema, fy_wire, fy_wire_len, &out, &fy_arena,
                     NULL, &fy_err) != FERRY_OK)
        return 1;
    return !fy_same(&fy_in, &out);
}

/* ---------------------------------------------------------------- setup */

static const char *fy_setup_error;

/* Builds the value and its reference encoding; 0 or -1 (fy_setup_error). */
static int fy_setup(void) {
    if (fy_wire)
        return 0;
    for (size_t i = 0; i < FY_SB_PAYLOAD; i++)
        fy_payload[i] = (uint8_t)(fy_rand() >> 32);
    fy_in = (reading){
        .id = 5124095577148911u,
        .seq = 48213,
        .kind = FY_SB_ALARM,
        .temp = 21.37f,
        .ratio = 0.6180339887498949,
        .ok = true,
        .name = {fy_name, sizeof fy_name - 1},
        .payload = {fy_payload, FY_SB_PAYLOAD},
        .samples = fy_samples,
        .n_samples = FY_SB_NSAMPLES,
        .owner = 0x00020005u,
    };
    ferry_cbor_buf_init(&fy_buf);
    ferry_arena_init(&fy_arena);
    if (ferry_encode(&reading_schema, &fy_in, &fy_buf) != FERRY_OK) {
        fy_setup_error = "ferry_encode failed";
        return -1;
    }
    fy_wire_len = fy_buf.len;
    if (ferry_encoded_size(&reading_schema, &fy_in) != fy_wire_len) {
        fy_setup_error = "ferry_encoded_size disagrees with ferry_encode";
        return -1;
    }
    fy_wire = malloc(fy_wire_len);
    if (!fy_wire) {
        fy_setup_error = "out of memory";
        return -1;
    }
    memcpy(fy_wire, fy_buf.data, fy_wire_len);
    if (ferry_cbor_check(fy_wire, fy_wire_len, NULL, NULL) != FERRY_OK) {
        fy_setup_error = "ferry's encoding is not valid CBOR";
        return -1;
    }
    reading out;
    if (ferry_decode(&reading_schema, fy_wire, fy_wire_len, &out, &fy_arena,
                     NULL, &fy_err) != FERRY_OK) {
        fy_setup_error = fy_err.message;
        return -1;
    }
    if (!fy_same_full(&fy_in, &out)) {
        fy_setup_error = "decoded struct differs from the input";
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------ wasm exports */

#ifdef __EMSCRIPTEN__

/* 0, or -1 with fy_sb_error() saying why. */
FY_EXPORT int fy_sb_init(void) {
    return fy_setup();
}

FY_EXPORT const char *fy_sb_error(void) {
    return fy_setup_error ? fy_setup_error : fy_err.message;
}

/* Runs n iterations of measurement `which` (0: encode + decode, 1: encode
 * only, 2: decode only) and returns how many of them did NOT match. */
FY_EXPORT uint32_t fy_sb_run(int which, uint32_t n) {
    int (*const fn[])(void) = {fy_ferry_round, fy_ferry_encode_only,
                               fy_ferry_decode_only};
    uint32_t bad = 0;
    if (which < 0 || which > 2)
        return n ? n : 1;
    int (*const f)(void) = fn[which];
    for (uint32_t i = 0; i < n; i++)
        bad += (uint32_t)f();
    return bad;
}

/* The value's parts JS needs to build the same value. */
FY_EXPORT const uint8_t *fy_sb_payload(void) {
    return fy_payload;
}
FY_EXPORT size_t fy_sb_payload_len(void) {
    return FY_SB_PAYLOAD;
}
FY_EXPORT const uint8_t *fy_sb_wire(void) {
    return fy_wire;
}
FY_EXPORT size_t fy_sb_wire_len(void) {
    return fy_wire_len;
}

FY_EXPORT void *fy_sb_alloc(size_t n) {
    return malloc(n ? n : 1);
}
FY_EXPORT void fy_sb_free(void *p) {
    free(p);
}

/* Decodes bytes (e.g. cbor-x's encoding of the JS value) and compares every
 * field and payload byte with the C value: 0 equal, 1 different, < 0 a
 * decode error (fy_sb_error() has the message). */
FY_EXPORT int fy_sb_check(const uint8_t *p, size_t n) {
    reading out;
    ferry_arena_reset(&fy_arena);
    int rc =
        ferry_decode(&reading_schema, p, n, &out, &fy_arena, NULL, &fy_err);
    if (rc)
        return rc;
    return !fy_same_full(&fy_in, &out);
}

#else /* native program */

/* -------------------------------------------------------------- libcbor */

#if FY_BENCH_LIBCBOR

static uint8_t fy_lbuf[4096]; /* libcbor's fixed output buffer */
static size_t fy_lbuf_len;

/* libcbor keeps whatever width it is given: pick the shortest, as ferry. */
static cbor_item_t *fy_lc_uint(uint64_t v, bool neg) {
    if (v <= UINT8_MAX)
        return neg ? cbor_build_negint8((uint8_t)v)
                   : cbor_build_uint8((uint8_t)v);
    if (v <= UINT16_MAX)
        return neg ? cbor_build_negint16((uint16_t)v)
                   : cbor_build_uint16((uint16_t)v);
    if (v <= UINT32_MAX)
        return neg ? cbor_build_negint32((uint32_t)v)
                   : cbor_build_uint32((uint32_t)v);
    return neg ? cbor_build_negint64(v) : cbor_build_uint64(v);
}

static cbor_item_t *fy_lc_int(int64_t v) {
    return v >= 0 ? fy_lc_uint((uint64_t)v, false)
                  : fy_lc_uint(~(uint64_t)v, true);
}

/* The shortest exact float, as ferry's encoder picks it. */
static cbor_item_t *fy_lc_float(double d) {
    if (fy_half_exact(d))
        return cbor_build_float2((float)d);
    if (isnan(d) || (double)(float)d == d)
        return cbor_build_float4((float)d);
    return cbor_build_float8(d);
}

static bool fy_lc_add(cbor_item_t *map, const ferry_field *f,
                      cbor_item_t *value) {
    cbor_item_t *key = cbor_build_stringn(f->name, f->name_len);
    if (!key || !value)
        return false;
    return cbor_map_add(map, (struct cbor_pair){.key = cbor_move(key),
                                                .value = cbor_move(value)});
}

/* Serializes r into fy_lbuf; returns the length, 0 on failure. */
static size_t fy_lc_encode(const reading *r) {
    const ferry_field *f = reading_schema.fields;
    cbor_item_t *m = cbor_new_definite_map(10);
    if (!m)
        return 0;
    cbor_item_t *arr = cbor_new_definite_array(r->n_samples);
    bool ok = arr != NULL;
    for (size_t i = 0; ok && i < r->n_samples; i++)
        ok = cbor_array_push(arr, cbor_move(fy_lc_int(r->samples[i])));
    ok = ok && fy_lc_add(m, &f[0], fy_lc_uint(r->id, false)) &&
         fy_lc_add(m, &f[1], fy_lc_uint(r->seq, false)) &&
         fy_lc_add(m, &f[2], fy_lc_int(r->kind)) &&
         fy_lc_add(m, &f[3], fy_lc_float(r->temp)) &&
         fy_lc_add(m, &f[4], fy_lc_float(r->ratio)) &&
         fy_lc_add(m, &f[5], cbor_build_bool(r->ok)) &&
         fy_lc_add(m, &f[6], cbor_build_stringn(r->name.ptr, r->name.len)) &&
         fy_lc_add(m, &f[7],
                   cbor_build_bytestring(r->payload.ptr, r->payload.len)) &&
         fy_lc_add(m, &f[8], arr) &&
         fy_lc_add(m, &f[9], fy_lc_uint(r->owner, false));
    size_t n = ok ? cbor_serialize(m, fy_lbuf, sizeof fy_lbuf) : 0;
    cbor_decref(&m);
    fy_lbuf_len = n;
    return n;
}

/* An integer item within [lo, hi] into *out; false when it is not one. */
static bool fy_lc_get_int(const cbor_item_t *v, int64_t lo, uint64_t hi,
                          uint64_t *uout, int64_t *sout) {
    if (cbor_isa_uint(v)) {
        uint64_t u = cbor_get_int(v);
        if (u > hi)
            return false;
        *uout = u;
        *sout = (int64_t)u;
        return true;
    }
    if (cbor_isa_negint(v)) {
        uint64_t n = cbor_get_int(v); /* value -1 - n */
        if (lo >= 0 || n > (uint64_t)(-(lo + 1)))
            return false;
        *sout = -1 - (int64_t)n;
        *uout = (uint64_t)*sout;
        return true;
    }
    return false;
}

static bool fy_lc_get_float(const cbor_item_t *v, double *out) {
    if (!cbor_isa_float_ctrl(v) || cbor_float_ctrl_is_ctrl(v))
        return false;
    *out = cbor_float_get_float(v);
    return true;
}

/* Loads p[0..n) and fills *out the way ferry_decode does (type and range
 * checks per field, unknown keys skipped, every field required). Strings
 * point into the tree, which is returned in *tree for the caller to
 * release after using *out. 0 on success. */
static int fy_lc_decode(const uint8_t *p, size_t n, reading *out,
                        ferry_arena *arena, cbor_item_t **tree) {
    struct cbor_load_result res;
    cbor_item_t *root = cbor_load(p, n, &res);
    *tree = root;
    if (!root || res.read != n || !cbor_isa_map(root))
        return 1;
    memset(out, 0, sizeof *out);
    const ferry_field *fields = reading_schema.fields;
    const size_t nf = reading_schema.nfields;
    size_t np = cbor_map_size(root), hint = 0;
    struct cbor_pair *kv = cbor_map_handle(root);
    unsigned seen = 0;
    for (size_t i = 0; i < np; i++) {
        const cbor_item_t *k = kv[i].key, *v = kv[i].value;
        if (!cbor_isa_string(k) || !cbor_string_is_definite(k))
            continue;
        size_t kl = cbor_string_length(k);
        const unsigned char *ks = cbor_string_handle(k);
        size_t idx = nf;
        for (size_t j = 0; j < nf; j++) {
            size_t c = hint + j < nf ? hint + j : hint + j - nf;
            if (fields[c].name_len == kl &&
                memcmp(fields[c].name, ks, kl) == 0) {
                idx = c;
                break;
            }
        }
        if (idx == nf)
            continue;
        if (seen & (1u << idx))
            return 1; /* duplicate key */
        seen |= 1u << idx;
        hint = idx + 1;
        uint64_t u;
        int64_t s;
        double d;
        switch (idx) {
        case 0:
            if (!fy_lc_get_int(v, 0, UINT64_MAX, &u, &s))
                return 1;
            out->id = u;
            break;
        case 1:
            if (!fy_lc_get_int(v, 0, UINT32_MAX, &u, &s))
                return 1;
            out->seq = (uint32_t)u;
            break;
        case 2:
            if (!fy_lc_get_int(v, INT32_MIN, INT32_MAX, &u, &s))
                return 1;
            out->kind = (fy_sb_kind)s;
            break;
        case 3:
            if (!fy_lc_get_float(v, &d) || (isfinite(d) && fabs(d) > 3.4e38))
                return 1;
            out->temp = (float)d;
            break;
        case 4:
            if (!fy_lc_get_float(v, &d))
                return 1;
            out->ratio = d;
            break;
        case 5:
            if (!cbor_isa_float_ctrl(v) || !cbor_is_bool(v))
                return 1;
            out->ok = cbor_get_bool(v);
            break;
        case 6:
            if (!cbor_isa_string(v) || !cbor_string_is_definite(v))
                return 1;
            out->name.ptr = (const char *)cbor_string_handle(v);
            out->name.len = cbor_string_length(v);
            break;
        case 7:
            if (!cbor_isa_bytestring(v) || !cbor_bytestring_is_definite(v))
                return 1;
            out->payload.ptr = cbor_bytestring_handle(v);
            out->payload.len = cbor_bytestring_length(v);
            break;
        case 8: {
            if (!cbor_isa_array(v))
                return 1;
            size_t cnt = cbor_array_size(v);
            if (cnt > FY_SB_NSAMPLES)
                return 1;
            cbor_item_t **el = cbor_array_handle(v);
            int32_t *a = cnt ? ferry_arena_alloc(arena, cnt * sizeof *a) : NULL;
            if (cnt && !a)
                return 1;
            for (size_t e = 0; e < cnt; e++) {
                if (!fy_lc_get_int(el[e], INT32_MIN, INT32_MAX, &u, &s))
                    return 1;
                a[e] = (int32_t)s;
            }
            out->samples = a;
            out->n_samples = cnt;
            break;
        }
        default:
            if (!fy_lc_get_int(v, 0, UINT32_MAX, &u, &s))
                return 1;
            out->owner = (ferry_id)u;
            break;
        }
    }
    return seen == (1u << nf) - 1 ? 0 : 1;
}

static int fy_libcbor_round(void) {
    reading out;
    cbor_item_t *tree;
    size_t n = fy_lc_encode(&fy_in);
    if (n != fy_wire_len)
        return 1;
    ferry_arena_reset(&fy_arena);
    int bad = fy_lc_decode(fy_lbuf, n, &out, &fy_arena, &tree);
    if (!bad)
        bad = !fy_same(&fy_in, &out);
    if (tree)
        cbor_decref(&tree);
    return bad;
}

static int fy_libcbor_encode_only(void) {
    return fy_lc_encode(&fy_in) != fy_wire_len;
}

static int fy_libcbor_decode_only(void) {
    reading out;
    cbor_item_t *tree;
    ferry_arena_reset(&fy_arena);
    int bad = fy_lc_decode(fy_wire, fy_wire_len, &out, &fy_arena, &tree);
    if (!bad)
        bad = !fy_same(&fy_in, &out);
    if (tree)
        cbor_decref(&tree);
    return bad;
}

#endif /* FY_BENCH_LIBCBOR */

/* ------------------------------------------------------------ the runner */

typedef struct fy_bench {
    const char *id;
    int (*iter)(void); /* one iteration; 0 when its result matched */
    const char *note;
} fy_bench;

static const fy_bench fy_benches[] = {
    {"struct.ferry", fy_ferry_round,
     "ferry_encode (reused buf) + arena reset + ferry_decode + check"},
    {"struct.ferry.encode", fy_ferry_encode_only,
     "ferry_encode into the reused buf, length checked"},
    {"struct.ferry.decode", fy_ferry_decode_only,
     "arena reset + ferry_decode of the reference bytes + check"},
#if FY_BENCH_LIBCBOR
    {"struct.libcbor", fy_libcbor_round,
     "cbor_build_* map + cbor_serialize + decref; cbor_load + extract + check "
     "+ decref"},
    {"struct.libcbor.encode", fy_libcbor_encode_only,
     "cbor_build_* map + cbor_serialize (fixed buffer) + cbor_decref"},
    {"struct.libcbor.decode", fy_libcbor_decode_only,
     "cbor_load + extract fields + check + cbor_decref"},
#endif
};
#define FY_NBENCH (sizeof fy_benches / sizeof fy_benches[0])

/* Runs n iterations; fails the program on any mismatch. */
static void fy_loop(const fy_bench *b, uint64_t n) {
    uint64_t bad = 0;
    for (uint64_t i = 0; i < n; i++)
        bad += (uint64_t)b->iter();
    if (bad)
        fy_fail("%s: %llu of %llu iterations gave a wrong result", b->id,
                (unsigned long long)bad, (unsigned long long)n);
}

static uint64_t fy_warm(const fy_bench *b, const fy_opts *o) {
    const uint64_t batch_ns = o->quick ? 10000000u : 50000000u;
    const uint64_t warm_ns = o->quick ? 100000000u : 300000000u;
    uint64_t t0 = fy_now_ns(), warm = 0;
    do {
        fy_loop(b, 100);
        warm += 100;
    } while (fy_now_ns() - t0 < warm_ns);
    uint64_t n = warm / 8 + 1;
    t0 = fy_now_ns();
    fy_loop(b, n);
    double one = (double)(fy_now_ns() - t0) / (double)n;
    uint64_t iters = one > 0 ? (uint64_t)((double)batch_ns / one) : 1000;
    return iters ? iters : 1;
}

static int fy_cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void fy_run_all(const fy_opts *o) {
    const unsigned nbatch = o->quick ? 9 : FY_MAX_BATCHES;
    static double per_iter[FY_NBENCH][FY_MAX_BATCHES];
    uint64_t iters[FY_NBENCH] = {0};
    bool on[FY_NBENCH];
    for (size_t k = 0; k < FY_NBENCH; k++) {
        on[k] = fy_selected(o, fy_benches[k].id);
        if (on[k])
            iters[k] = fy_warm(&fy_benches[k], o);
    }
    /* Interleaved (A B A B ...), so load from elsewhere hits all alike. */
    for (unsigned i = 0; i < nbatch; i++)
        for (size_t k = 0; k < FY_NBENCH; k++) {
            if (!on[k])
                continue;
            uint64_t t0 = fy_now_ns();
            fy_loop(&fy_benches[k], iters[k]);
            per_iter[k][i] = (double)(fy_now_ns() - t0) / (double)iters[k];
        }
    for (size_t k = 0; k < FY_NBENCH; k++) {
        if (!on[k])
            continue;
        double *v = per_iter[k];
        qsort(v, nbatch, sizeof v[0], fy_cmp_double);
        printf("{\"id\":\"%s\",\"ns_per_iter\":%.2f,\"ns_per_iter_q1\":%.2f,"
               "\"ns_per_iter_q3\":%.2f,\"bytes\":%zu,\"batches\":%u,"
               "\"iters_per_batch\":%llu,\"note\":\"%s\"}\n",
               fy_benches[k].id, v[nbatch / 2], v[nbatch / 4],
               v[(3 * nbatch) / 4], fy_wire_len, nbatch,
               (unsigned long long)iters[k], fy_benches[k].note);
        fflush(stdout);
    }
}

int main(int argc, char **argv) {
    fy_opts o = fy_parse_opts(argc, argv);
    if (o.list) {
        for (size_t k = 0; k < FY_NBENCH; k++)
            printf("%s\n", fy_benches[k].id);
        return 0;
    }
    if (fy_setup() != 0)
        fy_fail("setup: %s", fy_setup_error);

#if FY_BENCH_LIBCBOR
    /* libcbor must write ferry's bytes exactly and decode them to the same
     * struct, so that the comparison is like for like. */
    if (fy_lc_encode(&fy_in) != fy_wire_len ||
        memcmp(fy_lbuf, fy_wire, fy_wire_len) != 0)
        fy_fail("libcbor's encoding differs from ferry's");
    {
        reading out;
        cbor_item_t *tree;
        int bad = fy_lc_decode(fy_wire, fy_wire_len, &out, &fy_arena, &tree);
        if (!bad)
            bad = !fy_same_full(&fy_in, &out);
        if (tree)
            cbor_decref(&tree);
        if (bad)
            fy_fail("libcbor decode does not give the input back");
    }
#endif

    const char *optimized =
#ifdef __OPTIMIZE__
        "true";
#else
        "false";
#endif
    char compiler[64] = "unknown";
#if defined(__clang__)
    snprintf(compiler, sizeof compiler, "clang %d.%d.%d", __clang_major__,
             __clang_minor__, __clang_patchlevel__);
#elif defined(__GNUC__)
    snprintf(compiler, sizeof compiler, "gcc %d.%d.%d", __GNUC__,
             __GNUC_MINOR__, __GNUC_PATCHLEVEL__);
#endif
    printf("{\"id\":\"bench.env\",\"platform\":\"native\",\"optimized\":%s,"
           "\"asan\":%s,\"compiler\":\"%s\",\"libcbor\":%s,\"bytes\":%zu,"
           "\"quick\":%s}\n",
           optimized, FY_ASAN ? "true" : "false", compiler,
           FY_BENCH_LIBCBOR ? "true" : "false", fy_wire_len,
           o.quick ? "true" : "false");
    fflush(stdout);

    fy_run_all(&o);

    /* The value must still come back whole after all the timing. */
    {
        reading out;
        ferry_arena_reset(&fy_arena);
        if (ferry_decode(&reading_schema, fy_buf.data, fy_buf.len, &out,
                         &fy_arena, NULL, &fy_err) != FERRY_OK ||
            !fy_same_full(&fy_in, &out))
            fy_fail("after timing: ferry round trip differs from the input");
    }
    ferry_arena_free(&fy_arena);
    ferry_cbor_buf_free(&fy_buf);
    free(fy_wire);
    return 0;
}

#endif /* __EMSCRIPTEN__ */
