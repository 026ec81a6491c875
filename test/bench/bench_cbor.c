/*
 * bench_cbor.c - throughput of ferry's CBOR codec on a mixed item set.
 *
 * One program, built twice: natively with -DFY_BENCH_LIBCBOR=1 (linked with
 * libcbor 0.8, the reference implementation) and with emscripten without
 * libcbor. test/bench/run.mjs runs both and turns the results into the rows
 * of `npm run bench` (ferry vs libcbor natively, ferry wasm vs ferry native).
 *
 * The data is a deterministic set of "message bodies": maps keyed by short
 * text, holding small and large unsigned ints, negative ints, floats of all
 * three widths, short and medium UTF-8 text, byte strings (ids, hashes, data
 * chunks), bools, nulls, a tag, and arrays and maps nested up to 3 deep. The
 * set is kept in memory as a flat preorder list of nodes, so every encoder
 * starts from the same plain C values and does the same loop around its own
 * calls; only the calls differ.
 *
 * Measurements (ids; each prints one JSON line on stdout):
 *   cbor.encode.ferry                ferry_cbor_put_* into one growable
 *                                    buffer, reused across passes.
 *   cbor.decode.ferry                ferry_cbor_reader over each message,
 *                                    touching every event (validates UTF-8,
 *                                    structure, trailing bytes; no allocation).
 *   cbor.encode.libcbor              cbor_build_* a tree, cbor_serialize it
 *                                    into a preallocated buffer, cbor_decref.
 *                                    This is libcbor's documented way from
 *                                    values to bytes, so the fair baseline for
 *                                    "in-memory values to bytes"; it allocates
 *                                    one node per item.
 *   cbor.encode.libcbor_serialize    cbor_serialize of trees built once,
 *                                    outside the timing: the lower bound of the
 *                                    tree API, not a full encode.
 *   cbor.encode.libcbor_stream       libcbor's low-level cbor_encode_* helpers
 *                                    writing heads into a fixed buffer; no
 *                                    allocation, no buffer growth, and the
 * float width is handed to it precomputed (ferry finds the shortest exact width
 * itself). cbor.decode.libcbor              cbor_load (builds a tree: one
 * allocation per item plus copies of every string; checks UTF-8), a walk of the
 * tree touching every value, cbor_decref. cbor.decode.libcbor_stream
 * cbor_stream_decode with callbacks: no tree, but also no check of nesting,
 * UTF-8 or trailing bytes.
 *
 * Timing: each measurement is warmed up, calibrated so that one batch of
 * whole passes over the set lasts about 50 ms (10 ms with --quick), then run
 * for 21 batches (9), interleaved with the batches of the other selected
 * measurements; the MEDIAN time per pass is reported, divided by the number
 * of data items (quartiles too, to show the noise). Every pass
 * checks its own result (output length, event count, checksum of the decoded
 * values) against what the set must give, so a broken codec fails loudly
 * instead of reporting a fast wrong answer. Before any timing, the outputs of
 * all encoders are compared byte for byte.
 *
 * Arguments: --quick (fewer, shorter batches), --only PREFIX (repeatable; run
 * only measurements whose id starts with PREFIX), --id ID (repeatable; run
 * that measurement), --list (print ids). Without --only or --id, all run.
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

#include <ferry/cbor.h>

#define FY_BENCH_NAME "bench_cbor"
#include "bench_common.h"

#ifndef FY_BENCH_LIBCBOR
#define FY_BENCH_LIBCBOR 0
#endif
#if FY_BENCH_LIBCBOR
#include <cbor.h>
#endif
#ifdef __EMSCRIPTEN__
#include <emscripten/version.h>
#endif

/* ------------------------------------------------------------ utilities */

/* Uniform in [lo, hi]. */
static uint64_t fy_range(uint64_t lo, uint64_t hi) {
    return lo + fy_rand() % (hi - lo + 1);
}

static bool fy_chance(unsigned percent) {
    return fy_rand() % 100 < percent;
}

/* The checksum every decoder must reproduce: one mix per data item, of its
 * major type (8 for floats, to tell them from simple values) and its value;
 * for strings the length and the first and last byte, which proves the
 * payload pointer is right without making the checksum the bottleneck. */
static inline uint64_t fy_mix(uint64_t h, unsigned kind, uint64_t x) {
    h ^= x + (uint64_t)(kind + 1) * 0x9E3779B97F4A7C15u;
    h *= 0xFF51AFD7ED558CCDu;
    return h ^ (h >> 32);
}

static inline uint64_t fy_mix_str(uint64_t h, unsigned kind, const uint8_t *p,
                                  size_t n) {
    uint64_t x = n;
    if (n)
        x ^= (uint64_t)p[0] << 32 ^ (uint64_t)p[n - 1] << 40;
    return fy_mix(h, kind, x);
}

static inline uint64_t fy_bits(double d) {
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

/* The shortest exact width (2, 4, 8) of d, as preferred serialization wants. */
static uint8_t fy_float_width(double d) {
    if (fy_half_exact(d))
        return 2;
    if (isnan(d) || (double)(float)d == d)
        return 4;
    return 8;
}

/* ------------------------------------------------------------ the item set */

enum fy_kind {
    FY_K_UINT,  /* v.u, encoded with put_uint (ids, timestamps, offsets) */
    FY_K_INT,   /* v.i, encoded with put_int (signed fields) */
    FY_K_FLOAT, /* v.f */
    FY_K_TEXT,  /* v.p, n bytes of UTF-8 */
    FY_K_BYTES, /* v.p, n bytes */
    FY_K_ARRAY, /* n items follow */
    FY_K_MAP,   /* n pairs (2n items) follow */
    FY_K_TAG,   /* tag v.u, one item follows */
    FY_K_BOOL,  /* v.u 0 or 1 */
    FY_K_NULL
};

typedef struct fy_node {
    uint8_t kind;   /* enum fy_kind */
    uint8_t fwidth; /* FLOAT: shortest exact width; libcbor must be told */
    uint32_t n;     /* TEXT/BYTES length, ARRAY/MAP count */
    union {
        uint64_t u;
        int64_t i;
        double f;
        const uint8_t *p;
    } v;
} fy_node;

typedef struct fy_set {
    fy_node *nodes; /* all messages, preorder, back to back */
    size_t count;   /* nodes = data items */
    size_t cap;
    size_t containers; /* arrays, maps and tags: each closes with an END */
    size_t *msg_first; /* first node of each message */
    size_t msgs;
    size_t msg_cap;
    uint8_t *arena; /* text and byte payloads */
    size_t arena_len;
    size_t arena_cap;
    uint64_t checksum; /* what decoding every message must give */
    /* Filled from the first ferry encode: message m is out[off[m]..off[m+1]).
     */
    size_t *off;
    size_t bytes;
} fy_set;

static fy_set fy_s;

/* Appends a node and returns it; valid until the next fy_emit (which may
 * move the array), so callers fill it in at once. */
static fy_node *fy_emit(enum fy_kind k, uint32_t n) {
    if (fy_s.count == fy_s.cap) {
        fy_s.cap = fy_s.cap ? fy_s.cap * 2 : 4096;
        fy_s.nodes = realloc(fy_s.nodes, fy_s.cap * sizeof *fy_s.nodes);
        if (!fy_s.nodes)
            fy_fail("out of memory");
    }
    fy_node *nd = &fy_s.nodes[fy_s.count++];
    memset(nd, 0, sizeof *nd);
    nd->kind = (uint8_t)k;
    nd->n = n;
    if (k == FY_K_ARRAY || k == FY_K_MAP || k == FY_K_TAG)
        fy_s.containers++;
    return nd;
}

static uint8_t *fy_alloc(size_t n) {
    /* The arena is sized once up front so payload pointers stay valid. */
    if (fy_s.arena_len + n > fy_s.arena_cap)
        fy_fail("payload arena too small");
    uint8_t *p = fy_s.arena + fy_s.arena_len;
    fy_s.arena_len += n;
    return p;
}

static void fy_uint(uint64_t v) {
    fy_emit(FY_K_UINT, 0)->v.u = v;
}
static void fy_int(int64_t v) {
    fy_emit(FY_K_INT, 0)->v.i = v;
}
static void fy_bool(bool v) {
    fy_emit(FY_K_BOOL, 0)->v.u = v;
}
static void fy_null(void) {
    fy_emit(FY_K_NULL, 0);
}
static void fy_array(uint32_t n) {
    fy_emit(FY_K_ARRAY, n);
}
static void fy_map(uint32_t n) {
    fy_emit(FY_K_MAP, n);
}
static void fy_tag(uint64_t t) {
    fy_emit(FY_K_TAG, 0)->v.u = t;
}

static void fy_float(double d) {
    fy_node *nd = fy_emit(FY_K_FLOAT, 0);
    nd->v.f = d;
    nd->fwidth = fy_float_width(d);
}

static void fy_textn(const char *s, size_t n) {
    fy_emit(FY_K_TEXT, (uint32_t)n)->v.p = (const uint8_t *)s;
}

/* Keys point at string literals, like field names in real encoders. */
static void fy_key(const char *s) {
    fy_textn(s, strlen(s));
}

static const char *const fy_words[] = {
    "ferry",   "actor",  "message", "worker", "chunk",     "cache",
    "reply",   "ok",     "status",  "the",    "a",         "of",
    "to",      "queue",  "timeout", "blob",   "naïve",     "Grüße",
    "café",    "日本語", "κόσμε",   "Ωmega",  "🚀",         "data",
    "request", "stream", "offset",  "length", "partition", "replica",
};
#define FY_NWORDS (sizeof fy_words / sizeof fy_words[0])

/* Text of whole words (so UTF-8 is never cut) up to about target bytes. */
static void fy_text(size_t target) {
    char tmp[1024];
    size_t n = 0;
    do {
        const char *w = fy_words[fy_rand() % FY_NWORDS];
        size_t wl = strlen(w);
        if (n + wl + 1 > sizeof tmp)
            break;
        if (n)
            tmp[n++] = ' ';
        memcpy(tmp + n, w, wl);
        n += wl;
    } while (n < target);
    uint8_t *p = fy_alloc(n);
    memcpy(p, tmp, n);
    fy_textn((const char *)p, n);
}

static void fy_bytes(size_t n) {
    uint8_t *p = fy_alloc(n);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)fy_rand();
    fy_emit(FY_K_BYTES, (uint32_t)n)->v.p = p;
}

/* A float of a random width: halves (small multiples of 1/8), singles and
 * doubles, as sensor values, ratios and scores come. */
static void fy_rand_float(void) {
    switch (fy_rand() % 3) {
    case 0:
        fy_float(((double)(int64_t)fy_range(0, 4095) - 2048.0) / 8.0);
        break;
    case 1:
        fy_float((double)(float)((double)fy_range(0, 1u << 30) / 1024.0 - 5e5));
        break;
    default:
        fy_float((double)fy_rand() / 18446744073709551616.0 * 1e6 - 5e5);
        break;
    }
}

/* A signed int spread over all head sizes, mostly small as in practice. */
static void fy_rand_int(void) {
    static const uint64_t lim[] = {23, 255, 65535, 0xFFFFFFFFu, INT64_MAX};
    uint64_t v = fy_range(0, lim[fy_rand() % 5]);
    fy_int(fy_chance(50) ? (int64_t)v : -1 - (int64_t)v);
}

static void fy_scalar(void) {
    switch (fy_rand() % 7) {
    case 0: fy_rand_int(); break;
    case 1: fy_uint(fy_range(0, UINT64_MAX - 1)); break;
    case 2: fy_rand_float(); break;
    case 3: fy_text(fy_range(1, 24)); break;
    case 4: fy_bool(fy_chance(50)); break;
    case 5: fy_null(); break;
    default: fy_bytes(fy_range(8, 16)); break;
    }
}

/* {type, id, ts, seq, ok, score, tags?, pos?, meta?, at?}: a typical event
 * with a nested meta map two levels deep. */
static void fy_msg_event(void) {
    bool tags = fy_chance(70), pos = fy_chance(50), meta = fy_chance(70);
    bool at = fy_chance(20);
    fy_map(6 + tags + pos + meta + at);
    fy_key("type");
    fy_text(fy_range(4, 16));
    fy_key("id");
    fy_uint(fy_range(1ull << 40, 1ull << 62));
    fy_key("ts");
    fy_uint(fy_range(1600000000000ull, 1800000000000ull));
    fy_key("seq");
    fy_uint(fy_range(0, 5000));
    fy_key("ok");
    fy_bool(fy_chance(80));
    fy_key("score");
    fy_rand_float();
    if (tags) {
        uint32_t n = (uint32_t)fy_range(0, 5);
        fy_key("tags");
        fy_array(n);
        while (n--)
            fy_text(fy_range(3, 12));
    }
    if (pos) {
        fy_key("pos");
        fy_array(3);
        fy_rand_float();
        fy_rand_float();
        fy_rand_int();
    }
    if (meta) {
        fy_key("meta");
        fy_map(4);
        fy_key("user");
        fy_text(fy_range(5, 20));
        fy_key("delta");
        fy_int(-(int64_t)fy_range(1, 100000));
        fy_key("ratio");
        fy_rand_float();
        fy_key("extra");
        fy_map(3);
        fy_key("a");
        fy_rand_int();
        fy_key("b");
        fy_null();
        fy_key("c");
        fy_array(2);
        fy_scalar();
        fy_scalar();
    }
    if (at) {
        /* Tag 1: epoch-based date/time, as a tagged uint. */
        fy_key("at");
        fy_tag(1);
        fy_uint(fy_range(1600000000, 1800000000));
    }
}

/* {key, off, len, hash, data, parts}: a cache chunk with a medium byte
 * string and a list of small maps. */
static void fy_msg_chunk(void) {
    fy_map(6);
    fy_key("key");
    fy_text(fy_range(12, 40));
    fy_key("off");
    fy_uint(fy_range(0, 1ull << 34));
    size_t len = fy_range(64, 2048);
    fy_key("len");
    fy_uint(len);
    fy_key("hash");
    fy_bytes(32);
    fy_key("data");
    fy_bytes(len);
    uint32_t n = (uint32_t)fy_range(1, 4);
    fy_key("parts");
    fy_array(n);
    while (n--) {
        fy_map(3);
        fy_key("i");
        fy_uint(fy_range(0, 64));
        fy_key("len");
        fy_uint(fy_range(0, 65536));
        fy_key("crc");
        fy_uint(fy_range(0, 0xFFFFFFFFu));
    }
}

/* {level, ts, msg, args}: a log record with medium text and mixed args. */
static void fy_msg_log(void) {
    fy_map(4);
    fy_key("level");
    fy_uint(fy_range(0, 5));
    fy_key("ts");
    fy_uint(fy_range(1600000000000ull, 1800000000000ull));
    fy_key("msg");
    fy_text(fy_range(40, 400));
    uint32_t n = (uint32_t)fy_range(0, 6);
    fy_key("args");
    fy_array(n);
    while (n--)
        fy_scalar();
}

/* The expected checksum, from the nodes themselves (not from any encoder). */
static uint64_t fy_expected_checksum(void) {
    uint64_t h = 0;
    for (size_t i = 0; i < fy_s.count; i++) {
        const fy_node *nd = &fy_s.nodes[i];
        switch ((enum fy_kind)nd->kind) {
        case FY_K_UINT: h = fy_mix(h, 0, nd->v.u); break;
        case FY_K_INT:
            h = nd->v.i >= 0 ? fy_mix(h, 0, (uint64_t)nd->v.i)
                             : fy_mix(h, 1, ~(uint64_t)nd->v.i);
            break;
        case FY_K_FLOAT: h = fy_mix(h, 8, fy_bits(nd->v.f)); break;
        case FY_K_BYTES: h = fy_mix_str(h, 2, nd->v.p, nd->n); break;
        case FY_K_TEXT: h = fy_mix_str(h, 3, nd->v.p, nd->n); break;
        case FY_K_ARRAY: h = fy_mix(h, 4, nd->n); break;
        case FY_K_MAP: h = fy_mix(h, 5, nd->n); break;
        case FY_K_TAG: h = fy_mix(h, 6, nd->v.u); break;
        case FY_K_BOOL: h = fy_mix(h, 7, 20 + nd->v.u); break;
        case FY_K_NULL: h = fy_mix(h, 7, 22); break;
        }
    }
    return h;
}

#define FY_MESSAGES 400

static void fy_build_set(void) {
    fy_s.arena_cap = (size_t)FY_MESSAGES * 4096;
    fy_s.arena = malloc(fy_s.arena_cap);
    fy_s.msg_first = malloc(FY_MESSAGES * sizeof *fy_s.msg_first);
    if (!fy_s.arena || !fy_s.msg_first)
        fy_fail("out of memory");
    for (size_t m = 0; m < FY_MESSAGES; m++) {
        fy_s.msg_first[m] = fy_s.count;
        unsigned r = (unsigned)(fy_rand() % 10);
        if (r < 5)
            fy_msg_event();
        else if (r < 7)
            fy_msg_chunk();
        else
            fy_msg_log();
    }
    fy_s.msgs = FY_MESSAGES;
    fy_s.checksum = fy_expected_checksum();
}

/* ------------------------------------------------------------ ferry */

static ferry_cbor_buf fy_fbuf; /* growable, reused by every encode pass */

static void fy_ferry_encode_range(ferry_cbor_buf *b, size_t first, size_t end) {
    for (size_t i = first; i < end; i++) {
        const fy_node *nd = &fy_s.nodes[i];
        switch ((enum fy_kind)nd->kind) {
        case FY_K_UINT: ferry_cbor_put_uint(b, nd->v.u); break;
        case FY_K_INT: ferry_cbor_put_int(b, nd->v.i); break;
        case FY_K_FLOAT: ferry_cbor_put_float(b, nd->v.f); break;
        case FY_K_TEXT:
            ferry_cbor_put_text(b, (const char *)nd->v.p, nd->n);
            break;
        case FY_K_BYTES: ferry_cbor_put_bytes(b, nd->v.p, nd->n); break;
        case FY_K_ARRAY: ferry_cbor_put_array(b, nd->n); break;
        case FY_K_MAP: ferry_cbor_put_map(b, nd->n); break;
        case FY_K_TAG: ferry_cbor_put_tag(b, nd->v.u); break;
        case FY_K_BOOL: ferry_cbor_put_bool(b, nd->v.u != 0); break;
        case FY_K_NULL: ferry_cbor_put_null(b); break;
        }
    }
}

static int fy_pass_ferry_encode(void) {
    /* Reuse: only the length is reset, the capacity stays, as a sender that
     * keeps one buffer per actor would do. */
    fy_fbuf.len = 0;
    fy_ferry_encode_range(&fy_fbuf, 0, fy_s.count);
    if (fy_fbuf.err != FERRY_OK)
        fy_fail("ferry encode: %s", ferry_strerror(fy_fbuf.err));
    return fy_fbuf.len == fy_s.bytes ? 0 : -1;
}

/* The encoded set every decoder reads; made by ferry, checked against
 * libcbor's output where libcbor is present. */
static uint8_t *fy_wire;

typedef struct fy_walk {
    uint64_t h;
    uint64_t events;
    uint64_t ends;
} fy_walk;

static int fy_ferry_decode_msg(const uint8_t *p, size_t n, fy_walk *w) {
    ferry_cbor_reader r;
    ferry_cbor_item it;
    int rc = ferry_cbor_reader_init(&r, p, n, NULL);
    if (rc != FERRY_OK)
        return rc;
    uint64_t h = w->h, events = 0, ends = 0;
    while ((rc = ferry_cbor_read(&r, &it)) == 1) {
        events++;
        switch (it.type) {
        case FERRY_CBOR_UINT: h = fy_mix(h, 0, it.u); break;
        case FERRY_CBOR_NEGINT: h = fy_mix(h, 1, it.u); break;
        case FERRY_CBOR_BYTES:
            h = fy_mix_str(h, 2, it.data, (size_t)it.u);
            break;
        case FERRY_CBOR_TEXT:
            h = fy_mix_str(h, 3, it.data, (size_t)it.u);
            break;
        case FERRY_CBOR_ARRAY: h = fy_mix(h, 4, it.u); break;
        case FERRY_CBOR_MAP: h = fy_mix(h, 5, it.u); break;
        case FERRY_CBOR_TAG: h = fy_mix(h, 6, it.u); break;
        case FERRY_CBOR_SIMPLE: h = fy_mix(h, 7, it.u); break;
        case FERRY_CBOR_FLOAT: h = fy_mix(h, 8, fy_bits(it.f)); break;
        case FERRY_CBOR_END: ends++; break;
        }
    }
    w->h = h;
    w->events += events;
    w->ends += ends;
    return rc;
}

static int fy_pass_ferry_decode(void) {
    fy_walk w = {0, 0, 0};
    for (size_t m = 0; m < fy_s.msgs; m++) {
        int rc = fy_ferry_decode_msg(fy_wire + fy_s.off[m],
                                     fy_s.off[m + 1] - fy_s.off[m], &w);
        if (rc != 0)
            fy_fail("ferry decode of message %zu: %s", m, ferry_strerror(rc));
    }
    /* Every item gives one event and every container one more (its END). */
    if (w.h != fy_s.checksum || w.ends != fy_s.containers ||
        w.events != fy_s.count + fy_s.containers)
        return -1;
    return 0;
}

/* ------------------------------------------------------------ libcbor */

#if FY_BENCH_LIBCBOR

static uint8_t *fy_lbuf; /* fixed output buffer for libcbor, fy_s.bytes long */

static void *fy_check_item(void *p) {
    if (!p)
        fy_fail("libcbor: allocation failed");
    return p;
}

/* libcbor keeps an integer's width, so the shortest one is chosen here to
 * produce the same preferred serialization as ferry. */
static cbor_item_t *fy_lc_uint(uint64_t v, bool neg) {
    cbor_item_t *it;
    if (v <= UINT8_MAX)
        it =
            neg ? cbor_build_negint8((uint8_t)v) : cbor_build_uint8((uint8_t)v);
    else if (v <= UINT16_MAX)
        it = neg ? cbor_build_negint16((uint16_t)v)
                 : cbor_build_uint16((uint16_t)v);
    else if (v <= UINT32_MAX)
        it = neg ? cbor_build_negint32((uint32_t)v)
                 : cbor_build_uint32((uint32_t)v);
    else
        it = neg ? cbor_build_negint64(v) : cbor_build_uint64(v);
    return fy_check_item(it);
}

/* Builds the item starting at node *i (recursion is bounded by the set's
 * depth of 4). Returns a new reference. */
static cbor_item_t *fy_lc_build(size_t *i) {
    const fy_node *nd = &fy_s.nodes[(*i)++];
    cbor_item_t *it = NULL;
    switch ((enum fy_kind)nd->kind) {
    case FY_K_UINT: return fy_lc_uint(nd->v.u, false);
    case FY_K_INT:
        return nd->v.i >= 0 ? fy_lc_uint((uint64_t)nd->v.i, false)
                            : fy_lc_uint(~(uint64_t)nd->v.i, true);
    case FY_K_FLOAT:
        it = nd->fwidth == 2   ? cbor_build_float2((float)nd->v.f)
             : nd->fwidth == 4 ? cbor_build_float4((float)nd->v.f)
                               : cbor_build_float8(nd->v.f);
        break;
    case FY_K_TEXT:
        it = cbor_build_stringn((const char *)nd->v.p, nd->n);
        break;
    case FY_K_BYTES: it = cbor_build_bytestring(nd->v.p, nd->n); break;
    case FY_K_ARRAY:
        it = fy_check_item(cbor_new_definite_array(nd->n));
        for (uint32_t k = 0; k < nd->n; k++)
            if (!cbor_array_push(it, cbor_move(fy_lc_build(i))))
                fy_fail("libcbor: cbor_array_push failed");
        break;
    case FY_K_MAP:
        it = fy_check_item(cbor_new_definite_map(nd->n));
        for (uint32_t k = 0; k < nd->n; k++) {
            cbor_item_t *key = fy_lc_build(i);
            cbor_item_t *val = fy_lc_build(i);
            if (!cbor_map_add(it, (struct cbor_pair){.key = cbor_move(key),
                                                     .value = cbor_move(val)}))
                fy_fail("libcbor: cbor_map_add failed");
        }
        break;
    case FY_K_TAG:
        it = cbor_build_tag(nd->v.u, cbor_move(fy_lc_build(i)));
        break;
    case FY_K_BOOL: it = cbor_build_bool(nd->v.u != 0); break;
    case FY_K_NULL: it = cbor_new_null(); break;
    }
    return fy_check_item(it);
}

static int fy_pass_libcbor_encode(void) {
    size_t pos = 0;
    for (size_t m = 0; m < fy_s.msgs; m++) {
        size_t i = fy_s.msg_first[m];
        cbor_item_t *root = fy_lc_build(&i);
        size_t n = cbor_serialize(root, fy_lbuf + pos, fy_s.bytes - pos);
        cbor_decref(&root);
        if (n == 0)
            return -1;
        pos += n;
    }
    return pos == fy_s.bytes ? 0 : -1;
}

static cbor_item_t **fy_lc_trees; /* for the serialize-only measurement */

static int fy_pass_libcbor_serialize(void) {
    size_t pos = 0;
    for (size_t m = 0; m < fy_s.msgs; m++) {
        size_t n =
            cbor_serialize(fy_lc_trees[m], fy_lbuf + pos, fy_s.bytes - pos);
        if (n == 0)
            return -1;
        pos += n;
    }
    return pos == fy_s.bytes ? 0 : -1;
}

static int fy_pass_libcbor_stream_encode(void) {
    uint8_t *out = fy_lbuf;
    size_t pos = 0, cap = fy_s.bytes;
    for (size_t i = 0; i < fy_s.count; i++) {
        const fy_node *nd = &fy_s.nodes[i];
        size_t n = 0;
        switch ((enum fy_kind)nd->kind) {
        case FY_K_UINT:
            n = cbor_encode_uint(nd->v.u, out + pos, cap - pos);
            break;
        case FY_K_INT:
            n = nd->v.i >= 0
                    ? cbor_encode_uint((uint64_t)nd->v.i, out + pos, cap - pos)
                    : cbor_encode_negint(~(uint64_t)nd->v.i, out + pos,
                                         cap - pos);
            break;
        case FY_K_FLOAT:
            n = nd->fwidth == 2
                    ? cbor_encode_half((float)nd->v.f, out + pos, cap - pos)
                : nd->fwidth == 4
                    ? cbor_encode_single((float)nd->v.f, out + pos, cap - pos)
                    : cbor_encode_double(nd->v.f, out + pos, cap - pos);
            break;
        case FY_K_TEXT:
        case FY_K_BYTES:
            n = nd->kind == FY_K_TEXT
                    ? cbor_encode_string_start(nd->n, out + pos, cap - pos)
                    : cbor_encode_bytestring_start(nd->n, out + pos, cap - pos);
            if (n == 0 || cap - pos - n < nd->n)
                return -1;
            memcpy(out + pos + n, nd->v.p, nd->n);
            n += nd->n;
            break;
        case FY_K_ARRAY:
            n = cbor_encode_array_start(nd->n, out + pos, cap - pos);
            break;
        case FY_K_MAP:
            n = cbor_encode_map_start(nd->n, out + pos, cap - pos);
            break;
        case FY_K_TAG:
            n = cbor_encode_tag(nd->v.u, out + pos, cap - pos);
            break;
        case FY_K_BOOL:
            n = cbor_encode_bool(nd->v.u != 0, out + pos, cap - pos);
            break;
        case FY_K_NULL: n = cbor_encode_null(out + pos, cap - pos); break;
        }
        if (n == 0)
            return -1;
        pos += n;
    }
    return pos == fy_s.bytes ? 0 : -1;
}

/* Walks a loaded tree in preorder, mixing exactly what the ferry walk mixes. */
static uint64_t fy_lc_walk(const cbor_item_t *it, uint64_t h) {
    switch (cbor_typeof(it)) {
    case CBOR_TYPE_UINT: return fy_mix(h, 0, cbor_get_int(it));
    case CBOR_TYPE_NEGINT: return fy_mix(h, 1, cbor_get_int(it));
    case CBOR_TYPE_BYTESTRING:
        return fy_mix_str(h, 2, cbor_bytestring_handle(it),
                          cbor_bytestring_length(it));
    case CBOR_TYPE_STRING:
        return fy_mix_str(h, 3, cbor_string_handle(it), cbor_string_length(it));
    case CBOR_TYPE_ARRAY: {
        size_t n = cbor_array_size(it);
        cbor_item_t **v = cbor_array_handle(it);
        h = fy_mix(h, 4, n);
        for (size_t k = 0; k < n; k++)
            h = fy_lc_walk(v[k], h);
        return h;
    }
    case CBOR_TYPE_MAP: {
        size_t n = cbor_map_size(it);
        struct cbor_pair *v = cbor_map_handle(it);
        h = fy_mix(h, 5, n);
        for (size_t k = 0; k < n; k++)
            h = fy_lc_walk(v[k].value, fy_lc_walk(v[k].key, h));
        return h;
    }
    case CBOR_TYPE_TAG: {
        h = fy_mix(h, 6, cbor_tag_value(it));
        cbor_item_t *t = cbor_tag_item(it); /* a new reference */
        h = fy_lc_walk(t, h);
        cbor_decref(&t);
        return h;
    }
    case CBOR_TYPE_FLOAT_CTRL:
        if (cbor_float_ctrl_is_ctrl(it))
            return fy_mix(h, 7, cbor_ctrl_value(it));
        return fy_mix(h, 8, fy_bits(cbor_float_get_float(it)));
    }
    return h;
}

static int fy_pass_libcbor_decode(void) {
    uint64_t h = 0;
    for (size_t m = 0; m < fy_s.msgs; m++) {
        struct cbor_load_result res;
        size_t len = fy_s.off[m + 1] - fy_s.off[m];
        cbor_item_t *root = cbor_load(fy_wire + fy_s.off[m], len, &res);
        if (!root || res.read != len)
            fy_fail("libcbor cbor_load of message %zu failed (code %d)", m,
                    (int)res.error.code);
        h = fy_lc_walk(root, h);
        cbor_decref(&root);
    }
    return h == fy_s.checksum ? 0 : -1;
}

/* Streaming decoder callbacks; ctx is a fy_walk. */
static void fy_cb_mix(void *ctx, unsigned kind, uint64_t x) {
    fy_walk *w = ctx;
    w->h = fy_mix(w->h, kind, x);
    w->events++;
}

/* One callback per argument type and major type; libcbor has no generic one. */
#define FY_CB(name, type, kind, conv)                                          \
    static void name(void *ctx, type v) {                                      \
        fy_cb_mix(ctx, kind, conv(v));                                         \
    }
#define FY_U64(v) ((uint64_t)(v))
FY_CB(fy_cb_u8, uint8_t, 0, FY_U64)
FY_CB(fy_cb_u16, uint16_t, 0, FY_U64)
FY_CB(fy_cb_u32, uint32_t, 0, FY_U64)
FY_CB(fy_cb_u64, uint64_t, 0, FY_U64)
FY_CB(fy_cb_n8, uint8_t, 1, FY_U64)
FY_CB(fy_cb_n16, uint16_t, 1, FY_U64)
FY_CB(fy_cb_n32, uint32_t, 1, FY_U64)
FY_CB(fy_cb_n64, uint64_t, 1, FY_U64)
FY_CB(fy_cb_array, size_t, 4, FY_U64)
FY_CB(fy_cb_map, size_t, 5, FY_U64)
FY_CB(fy_cb_tag, uint64_t, 6, FY_U64)
FY_CB(fy_cb_f2, float, 8, fy_bits) /* float2 and float4 */
FY_CB(fy_cb_f8, double, 8, fy_bits)
#undef FY_CB
#undef FY_U64

static void fy_cb_bytes(void *ctx, cbor_data p, size_t n) {
    fy_walk *w = ctx;
    w->h = fy_mix_str(w->h, 2, p, n);
    w->events++;
}

static void fy_cb_text(void *ctx, cbor_data p, size_t n) {
    fy_walk *w = ctx;
    w->h = fy_mix_str(w->h, 3, p, n);
    w->events++;
}

static void fy_cb_bool(void *ctx, bool v) {
    fy_cb_mix(ctx, 7, 20u + v);
}
static void fy_cb_null(void *ctx) {
    fy_cb_mix(ctx, 7, 22);
}

/* Indefinite items and undefined never occur in the set: poison the walk. */
static void fy_cb_bad(void *ctx) {
    ((fy_walk *)ctx)->ends = UINT64_MAX;
}

static struct cbor_callbacks fy_cbs;

static void fy_init_callbacks(void) {
    fy_cbs = cbor_empty_callbacks;
    fy_cbs.uint8 = fy_cb_u8;
    fy_cbs.uint16 = fy_cb_u16;
    fy_cbs.uint32 = fy_cb_u32;
    fy_cbs.uint64 = fy_cb_u64;
    fy_cbs.negint8 = fy_cb_n8;
    fy_cbs.negint16 = fy_cb_n16;
    fy_cbs.negint32 = fy_cb_n32;
    fy_cbs.negint64 = fy_cb_n64;
    fy_cbs.byte_string = fy_cb_bytes;
    fy_cbs.string = fy_cb_text;
    fy_cbs.array_start = fy_cb_array;
    fy_cbs.map_start = fy_cb_map;
    fy_cbs.tag = fy_cb_tag;
    fy_cbs.float2 = fy_cb_f2;
    fy_cbs.float4 = fy_cb_f2;
    fy_cbs.float8 = fy_cb_f8;
    fy_cbs.boolean = fy_cb_bool;
    fy_cbs.null = fy_cb_null;
    fy_cbs.undefined = fy_cb_bad;
    fy_cbs.byte_string_start = fy_cb_bad;
    fy_cbs.string_start = fy_cb_bad;
    fy_cbs.indef_array_start = fy_cb_bad;
    fy_cbs.indef_map_start = fy_cb_bad;
    fy_cbs.indef_break = fy_cb_bad;
}

static int fy_pass_libcbor_stream_decode(void) {
    fy_walk w = {0, 0, 0};
    for (size_t m = 0; m < fy_s.msgs; m++) {
        const uint8_t *p = fy_wire + fy_s.off[m];
        size_t len = fy_s.off[m + 1] - fy_s.off[m], pos = 0;
        while (pos < len) {
            struct cbor_decoder_result res =
                cbor_stream_decode(p + pos, len - pos, &fy_cbs, &w);
            if (res.status != CBOR_DECODER_FINISHED || res.read == 0)
                fy_fail("libcbor cbor_stream_decode of message %zu failed", m);
            pos += res.read;
        }
    }
    return w.h == fy_s.checksum && w.events == fy_s.count && w.ends == 0 ? 0
                                                                         : -1;
}

#endif /* FY_BENCH_LIBCBOR */

/* ------------------------------------------------------------ harness */

typedef struct fy_bench {
    const char *id;
    int (*pass)(void); /* one pass over the whole set; 0 when correct */
    /* Encoders: where the pass leaves its output, compared byte for byte with
     * the reference before and after timing (not in every pass: a memcmp of
     * the whole output would be a sizeable part of what is measured). */
    uint8_t *const *out;
    bool encode;    /* bytes produced (encode) or consumed (decode) */
    bool allocates; /* allocates per item while being timed */
    const char *note;
} fy_bench;

static const fy_bench fy_benches[] = {
    {"cbor.encode.ferry", fy_pass_ferry_encode, &fy_fbuf.data, true, false,
     "ferry_cbor_put_* into a reused growable buffer"},
    {"cbor.decode.ferry", fy_pass_ferry_decode, NULL, false, false,
     "ferry_cbor_reader walk, validating, every event touched"},
#if FY_BENCH_LIBCBOR
    {"cbor.encode.libcbor", fy_pass_libcbor_encode, &fy_lbuf, true, true,
     "cbor_build_* tree + cbor_serialize + cbor_decref (allocates)"},
    {"cbor.encode.libcbor_serialize", fy_pass_libcbor_serialize, &fy_lbuf, true,
     false, "cbor_serialize of trees built before timing (not a full encode)"},
    {"cbor.encode.libcbor_stream", fy_pass_libcbor_stream_encode, &fy_lbuf,
     true, false,
     "cbor_encode_* heads into a fixed buffer, float width precomputed"},
    {"cbor.decode.libcbor", fy_pass_libcbor_decode, NULL, false, true,
     "cbor_load tree + walk + cbor_decref (allocates, copies strings)"},
    {"cbor.decode.libcbor_stream", fy_pass_libcbor_stream_decode, NULL, false,
     false, "cbor_stream_decode callbacks (no nesting/UTF-8/trailing checks)"},
#endif
};
#define FY_NBENCH (sizeof fy_benches / sizeof fy_benches[0])

static int fy_cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void fy_check_pass(const fy_bench *b) {
    if (b->pass() != 0)
        fy_fail("%s: wrong result (length, event count or checksum)", b->id);
}

static void fy_check_output(const fy_bench *b) {
    if (b->out && memcmp(*b->out, fy_wire, fy_s.bytes) != 0)
        fy_fail("%s: output differs from the reference encoding", b->id);
}

/* Quick: 9 batches of ~10 ms; full: 21 of ~50 ms. Odd counts, so that the
 * median is one observed batch. */
/* Warms b up and returns how many passes make one batch. */
static uint64_t fy_warm(const fy_bench *b, const fy_opts *o) {
    const uint64_t batch_ns = o->quick ? 10000000u : 50000000u;
    /* Warm up for a while rather than a pass or two: V8 may run wasm from
     * its baseline compiler first and swap in optimized code later, and
     * natively the allocator (libcbor) and caches settle. */
    const uint64_t warm_ns = o->quick ? 100000000u : 300000000u;

    fy_check_pass(b);
    fy_check_output(b);
    uint64_t t0 = fy_now_ns(), warm_passes = 0;
    do {
        fy_check_pass(b);
        warm_passes++;
    } while (fy_now_ns() - t0 < warm_ns);
    /* Calibrate on a few more passes, now at full speed. */
    uint64_t n = warm_passes / 8 + 1;
    t0 = fy_now_ns();
    for (uint64_t p = 0; p < n; p++)
        fy_check_pass(b);
    uint64_t one = (fy_now_ns() - t0) / n;
    uint64_t passes = one ? batch_ns / one : 1000;
    return passes ? passes : 1;
}

/* Runs one batch; returns the time of one pass in ns. */
static uint64_t fy_batch(const fy_bench *b, uint64_t passes) {
    uint64_t t0 = fy_now_ns();
    for (uint64_t p = 0; p < passes; p++)
        fy_check_pass(b);
    return (fy_now_ns() - t0) / passes;
}

static void fy_report(const fy_bench *b, uint64_t *per_pass, unsigned nbatch,
                      uint64_t passes) {
    qsort(per_pass, nbatch, sizeof per_pass[0], fy_cmp_u64);
    double med = (double)per_pass[nbatch / 2];
    double q1 = (double)per_pass[nbatch / 4];
    double q3 = (double)per_pass[(3 * nbatch) / 4];
    double items = (double)fy_s.count;
    /* mbps: 10^6 bytes of CBOR (produced or consumed) per second. */
    printf(
        "{\"id\":\"%s\",\"ns_per_item\":%.3f,\"mbps\":%.2f,"
        "\"ns_per_item_q1\":%.3f,\"ns_per_item_q3\":%.3f,"
        "\"items\":%zu,\"bytes\":%zu,\"batches\":%u,\"passes_per_batch\":%llu,"
        "\"allocates\":%s,\"direction\":\"%s\",\"note\":\"%s\"}\n",
        b->id, med / items, (double)fy_s.bytes / med * 1e3, q1 / items,
        q3 / items, fy_s.count, fy_s.bytes, nbatch, (unsigned long long)passes,
        b->allocates ? "true" : "false", b->encode ? "encode" : "decode",
        b->note);
    fflush(stdout);
}

/* Times the selected measurements with their batches interleaved (A B C A B
 * C ...), so that a burst of load from elsewhere on a shared machine falls on
 * all of them alike and the ratios between them stay meaningful. */
static void fy_run_all(const fy_opts *o) {
    const unsigned nbatch = o->quick ? 9 : FY_MAX_BATCHES;
    static uint64_t per_pass[FY_NBENCH][FY_MAX_BATCHES];
    uint64_t passes[FY_NBENCH] = {0};
    bool on[FY_NBENCH];

    for (size_t k = 0; k < FY_NBENCH; k++) {
        on[k] = fy_selected(o, fy_benches[k].id);
        if (on[k])
            passes[k] = fy_warm(&fy_benches[k], o);
    }
    for (unsigned i = 0; i < nbatch; i++)
        for (size_t k = 0; k < FY_NBENCH; k++)
            if (on[k])
                per_pass[k][i] = fy_batch(&fy_benches[k], passes[k]);
    for (size_t k = 0; k < FY_NBENCH; k++) {
        if (!on[k])
            continue;
        fy_check_output(&fy_benches[k]);
        fy_report(&fy_benches[k], per_pass[k], nbatch, passes[k]);
    }
}

int main(int argc, char **argv) {
    fy_opts o = fy_parse_opts(argc, argv);
    if (o.list) {
        for (size_t k = 0; k < FY_NBENCH; k++)
            printf("%s\n", fy_benches[k].id);
        return 0;
    }

    fy_build_set();

    /* The reference encoding: ferry's, checked for size and by decoding. */
    ferry_cbor_buf_init(&fy_fbuf);
    fy_s.off = malloc((fy_s.msgs + 1) * sizeof *fy_s.off);
    if (!fy_s.off)
        fy_fail("out of memory");
    for (size_t m = 0; m < fy_s.msgs; m++) {
        fy_s.off[m] = fy_fbuf.len;
        size_t end = m + 1 < fy_s.msgs ? fy_s.msg_first[m + 1] : fy_s.count;
        fy_ferry_encode_range(&fy_fbuf, fy_s.msg_first[m], end);
    }
    if (fy_fbuf.err != FERRY_OK)
        fy_fail("ferry encode: %s", ferry_strerror(fy_fbuf.err));
    fy_s.off[fy_s.msgs] = fy_s.bytes = fy_fbuf.len;
    fy_wire = malloc(fy_s.bytes);
    if (!fy_wire)
        fy_fail("out of memory");
    memcpy(fy_wire, fy_fbuf.data, fy_s.bytes);
    for (size_t m = 0; m < fy_s.msgs; m++) {
        ferry_cbor_error err;
        if (ferry_cbor_check(fy_wire + fy_s.off[m],
                             fy_s.off[m + 1] - fy_s.off[m], NULL,
                             &err) != FERRY_OK)
            fy_fail("ferry_cbor_check of message %zu: %s at byte %zu", m,
                    err.reason, err.offset);
    }
    fy_check_pass(&fy_benches[1]); /* ferry decode: checksum of the values */

#if FY_BENCH_LIBCBOR
    fy_init_callbacks();
    fy_lbuf = malloc(fy_s.bytes);
    fy_lc_trees = malloc(fy_s.msgs * sizeof *fy_lc_trees);
    if (!fy_lbuf || !fy_lc_trees)
        fy_fail("out of memory");
    for (size_t m = 0; m < fy_s.msgs; m++) {
        size_t i = fy_s.msg_first[m];
        fy_lc_trees[m] = fy_lc_build(&i);
    }
    /* Both libcbor encoders must produce ferry's bytes exactly: the same
     * preferred serialization, so the comparison is like for like. */
    int (*const encoders[])(void) = {fy_pass_libcbor_encode,
                                     fy_pass_libcbor_serialize,
                                     fy_pass_libcbor_stream_encode};
    for (size_t k = 0; k < sizeof encoders / sizeof encoders[0]; k++) {
        memset(fy_lbuf, 0, fy_s.bytes);
        if (encoders[k]() != 0 || memcmp(fy_lbuf, fy_wire, fy_s.bytes) != 0) {
            size_t at = 0;
            while (at < fy_s.bytes && fy_lbuf[at] == fy_wire[at])
                at++;
            fy_fail("libcbor encoder %zu and ferry differ at byte %zu", k, at);
        }
    }
#endif

#ifdef __EMSCRIPTEN__
    const char *platform = "wasm";
#else
    const char *platform = "native";
#endif
#ifdef __OPTIMIZE__
    const char *optimized = "true";
#else
    const char *optimized = "false";
#endif
    char compiler[64] = "unknown";
#if defined(__EMSCRIPTEN__)
    snprintf(compiler, sizeof compiler, "emscripten %d.%d.%d",
             __EMSCRIPTEN_major__, __EMSCRIPTEN_minor__, __EMSCRIPTEN_tiny__);
#elif defined(__clang__)
    snprintf(compiler, sizeof compiler, "clang %d.%d.%d", __clang_major__,
             __clang_minor__, __clang_patchlevel__);
#elif defined(__GNUC__)
    snprintf(compiler, sizeof compiler, "gcc %d.%d.%d", __GNUC__,
             __GNUC_MINOR__, __GNUC_PATCHLEVEL__);
#endif
    printf("{\"id\":\"bench.env\",\"platform\":\"%s\",\"optimized\":%s,"
           "\"asan\":%s,\"compiler\":\"%s\",\"libcbor\":%s,\"messages\":%zu,"
           "\"items\":%zu,\"containers\":%zu,\"bytes\":%zu,\"quick\":%s}\n",
           platform, optimized, FY_ASAN ? "true" : "false", compiler,
           FY_BENCH_LIBCBOR ? "true" : "false", fy_s.msgs, fy_s.count,
           fy_s.containers, fy_s.bytes, o.quick ? "true" : "false");
    fflush(stdout);

    fy_run_all(&o);

#if FY_BENCH_LIBCBOR
    for (size_t m = 0; m < fy_s.msgs; m++)
        cbor_decref(&fy_lc_trees[m]);
    free(fy_lc_trees);
    free(fy_lbuf);
#endif
    ferry_cbor_buf_free(&fy_fbuf);
    free(fy_wire);
    free(fy_s.off);
    free(fy_s.nodes);
    free(fy_s.msg_first);
    free(fy_s.arena);
    return 0;
}
