/*
 * decode.c - CBOR maps back into C structs, driven by the static field
 * tables of ferry/schema.h.
 *
 * The decoder reads the reader's event stream directly into the struct;
 * it recurses only along the schema, and the reader's depth limit bounds
 * that even for self-referential schemas. Every error names the path of
 * the value it is about (order.items[3].qty).
 */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbor/cbor_internal.h"
#include "ferry/schema.h"

static const char *const fy_kind_names[FERRY_K__COUNT] = {
    "bool",   "int8",   "int16",  "int32",    "int64",   "uint8",
    "uint16", "uint32", "uint64", "float32",  "float64", "text",
    "text",   "bytes",  "blob",   "actor id", "struct",  "array",
};

const char *ferry_kind_name(ferry_kind k) {
    return (unsigned)k < FERRY_K__COUNT ? fy_kind_names[k] : "unknown";
}

#define FY_PATH_MAX 64

typedef struct fy_dec {
    ferry_cbor_reader r;
    ferry_arena *arena;
    size_t max_array;
    bool map_blobs;
    uint32_t blob_base, blob_count;
    ferry_decode_error *err;
    /* The path to the value being decoded, rendered only on error. */
    struct {
        const char *name;
        size_t index;
        bool is_index;
    } path[FY_PATH_MAX];
    unsigned depth;
    unsigned hidden; /* levels beyond FY_PATH_MAX, shown as "..." */
} fy_dec;

static void fy_path_push_name(fy_dec *d, const char *name) {
    if (d->depth < FY_PATH_MAX) {
        d->path[d->depth].name = name;
        d->path[d->depth].is_index = false;
        d->depth++;
    } else
        d->hidden++;
}

static void fy_path_push_index(fy_dec *d, size_t i) {
    if (d->depth < FY_PATH_MAX) {
        d->path[d->depth].index = i;
        d->path[d->depth].is_index = true;
        d->depth++;
    } else
        d->hidden++;
}

static void fy_path_pop(fy_dec *d) {
    if (d->hidden)
        d->hidden--;
    else
        d->depth--;
}

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static int
fy_dec_fail(fy_dec *d, int code, size_t offset, const char *fmt, ...) {
    ferry_decode_error *e = d->err;
    if (!e)
        return code;
    e->code = code;
    e->offset = offset;
    size_t n = 0;
    e->path[0] = '\0';
    for (unsigned i = 0; i < d->depth && n < sizeof e->path; i++) {
        if (d->path[i].is_index)
            n += (size_t)snprintf(e->path + n, sizeof e->path - n, "[%zu]",
                                  d->path[i].index);
        else
            n += (size_t)snprintf(e->path + n, sizeof e->path - n, "%s%s",
                                  i ? "." : "", d->path[i].name);
    }
    if (d->hidden && n < sizeof e->path)
        snprintf(e->path + n, sizeof e->path - n, "...");
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* "path: msg", cut to fit. Joined by hand: gcc's -Wformat-truncation
     * rightly sees that a snprintf of both may not fit, and cutting is
     * what is meant here. */
    /* (memchr, not strnlen: the sources also build under strict -std=c11,
     * where POSIX's strnlen is not declared.) */
    const char *pz = memchr(e->path, 0, sizeof e->path);
    size_t pl = pz ? (size_t)(pz - e->path) : sizeof e->path;
    if (pl > sizeof e->message - 3)
        pl = sizeof e->message - 3;
    memcpy(e->message, e->path, pl);
    memcpy(e->message + pl, ": ", 2);
    const char *mz = memchr(msg, 0, sizeof msg);
    size_t ml = mz ? (size_t)(mz - msg) : sizeof msg;
    if (ml > sizeof e->message - pl - 3)
        ml = sizeof e->message - pl - 3;
    memcpy(e->message + pl + 2, msg, ml);
    e->message[pl + 2 + ml] = '\0';
    return code;
}

/* Reads the next event; reader errors become decode errors with a path. */
static int fy_next(fy_dec *d, ferry_cbor_item *it) {
    int rc = ferry_cbor_read(&d->r, it);
    if (rc == 1)
        return FERRY_OK;
    if (rc == 0)
        return fy_dec_fail(d, FERRY_EINVAL, d->r.pos,
                           "value expected after the end of the item");
    const ferry_cbor_error *e = ferry_cbor_reader_error(&d->r);
    return fy_dec_fail(d, rc, e->offset, "%s", e->reason);
}

/* Words for what an event is, in "expected X, got Y" messages. */
static const char *fy_got(const ferry_cbor_item *it) {
    switch (it->type) {
    case FERRY_CBOR_UINT: return "unsigned integer";
    case FERRY_CBOR_NEGINT: return "negative integer";
    case FERRY_CBOR_BYTES: return "byte string";
    case FERRY_CBOR_TEXT: return "text string";
    case FERRY_CBOR_ARRAY: return "array";
    case FERRY_CBOR_MAP: return "map";
    case FERRY_CBOR_TAG: return "tag";
    case FERRY_CBOR_FLOAT: return "float";
    case FERRY_CBOR_SIMPLE:
        switch (it->u) {
        case 20:
        case 21: return "bool";
        case 22: return "null";
        case 23: return "undefined";
        default: return "simple value";
        }
    default: return "end of container";
    }
}

static int fy_type_error(fy_dec *d, const ferry_cbor_item *it,
                         const char *want) {
    return fy_dec_fail(d, FERRY_ETYPE, it->offset, "expected %s, got %s", want,
                       fy_got(it));
}

/* Formats an integer event's value for messages. */
static void fy_int_text(const ferry_cbor_item *it, char *buf, size_t cap) {
    if (it->type == FERRY_CBOR_UINT)
        snprintf(buf, cap, "%" PRIu64, it->u);
    else if (it->u == UINT64_MAX)
        snprintf(buf, cap, "-18446744073709551616");
    else
        snprintf(buf, cap, "-%" PRIu64, it->u + 1);
}

/* Decodes an integer event (or an integral float) into [min, max]. */
static int fy_dec_int(fy_dec *d, const ferry_cbor_item *it, ferry_kind k,
                      int64_t smin, uint64_t umax, bool is_signed,
                      uint64_t *out_u, int64_t *out_s) {
    char num[40];
    if (it->type == FERRY_CBOR_FLOAT) {
        /* An exactly integral float is accepted (JS numbers); anything
         * else would silently lose the fraction. */
        double f = it->f;
        if (!(f == floor(f)) || fabs(f) > 1.8446744073709552e19) {
            fy_format_double(f, num, sizeof num);
            return fy_dec_fail(d, FERRY_ETYPE, it->offset,
                               "%s is not an integer (%s)", num,
                               ferry_kind_name(k));
        }
        if (f >= 0) {
            if (f >= 18446744073709551616.0 || (uint64_t)f > umax) {
                fy_format_double(f, num, sizeof num);
                return fy_dec_fail(d, FERRY_ERANGE, it->offset,
                                   "%s does not fit %s", num,
                                   ferry_kind_name(k));
            }
            *out_u = (uint64_t)f;
            *out_s = (int64_t)*out_u;
            return FERRY_OK;
        }
        if (!is_signed || f < -9223372036854775808.0 || (int64_t)f < smin) {
            fy_format_double(f, num, sizeof num);
            return fy_dec_fail(d, FERRY_ERANGE, it->offset,
                               "%s does not fit %s", num, ferry_kind_name(k));
        }
        *out_s = (int64_t)f;
        return FERRY_OK;
    }
    if (it->type == FERRY_CBOR_UINT) {
        if (it->u > umax) {
            fy_int_text(it, num, sizeof num);
            return fy_dec_fail(d, FERRY_ERANGE, it->offset,
                               "%s does not fit %s", num, ferry_kind_name(k));
        }
        *out_u = it->u;
        *out_s = (int64_t)it->u;
        return FERRY_OK;
    }
    if (it->type == FERRY_CBOR_NEGINT) {
        /* value = -1 - u; fits when u <= -1 - smin. */
        if (!is_signed || it->u > (uint64_t)(-(smin + 1))) {
            fy_int_text(it, num, sizeof num);
            return fy_dec_fail(d, FERRY_ERANGE, it->offset,
                               "%s does not fit %s", num, ferry_kind_name(k));
        }
        *out_s = -1 - (int64_t)it->u;
        return FERRY_OK;
    }
    return fy_type_error(d, it, ferry_kind_name(k));
}

/* Reads a string (definite: zero copy; indefinite: chunks joined in the
 * arena). nul adds a terminating NUL, which needs a copy. */
static int fy_dec_string(fy_dec *d, const ferry_cbor_item *it, bool nul,
                         const uint8_t **out, size_t *len) {
    if (!it->indefinite && !nul) {
        *out = it->data;
        *len = (size_t)it->u;
        return FERRY_OK;
    }
    if (!it->indefinite) {
        uint8_t *p = ferry_arena_alloc(d->arena, (size_t)it->u + 1);
        if (!p)
            return fy_dec_fail(d, FERRY_ENOMEM, it->offset,
                               "out of memory (arena) for %" PRIu64 " bytes",
                               it->u);
        memcpy(p, it->data, (size_t)it->u);
        p[it->u] = 0;
        *out = p;
        *len = (size_t)it->u;
        return FERRY_OK;
    }
    /* Indefinite: the reader has already bounded the total by max_len. Two
     * passes would need the input again, so grow a copy instead. */
    size_t cap = 64, n = 0;
    uint8_t *p = ferry_arena_alloc(d->arena, cap);
    ferry_cbor_item c;
    for (;;) {
        int rc = fy_next(d, &c);
        if (rc)
            return rc;
        if (c.type == FERRY_CBOR_END)
            break;
        if (!p || n + c.u + 1 > cap) {
            while (cap < n + c.u + 1)
                cap *= 2;
            uint8_t *q = ferry_arena_alloc(d->arena, cap);
            if (!q)
                return fy_dec_fail(d, FERRY_ENOMEM, c.offset,
                                   "out of memory (arena)");
            if (n)
                memcpy(q, p, n);
            p = q;
        }
        memcpy(p + n, c.data, (size_t)c.u);
        n += (size_t)c.u;
    }
    if (!p)
        return fy_dec_fail(d, FERRY_ENOMEM, it->offset, "out of memory");
    p[n] = 0;
    *out = p;
    *len = n;
    return FERRY_OK;
}

static int fy_dec_struct(fy_dec *d, const ferry_schema *s, uint8_t *v,
                         const ferry_cbor_item *it);

static int fy_dec_value(fy_dec *d, const ferry_field *f, uint8_t *base,
                        const ferry_cbor_item *it) {
    uint8_t *p = base + f->offset;
    uint64_t u = 0;
    int64_t sv = 0;
    int rc;
    switch ((ferry_kind)f->kind) {
    case FERRY_K_BOOL:
        if (it->type != FERRY_CBOR_SIMPLE || (it->u != 20 && it->u != 21))
            return fy_type_error(d, it, "bool");
        *(bool *)p = it->u == 21;
        return FERRY_OK;
#define FY_INT_CASE(K, T, MIN, MAX, SIGNED, VAR)                               \
    case K: {                                                                  \
        rc = fy_dec_int(d, it, K, MIN, MAX, SIGNED, &u, &sv);                  \
        if (rc)                                                                \
            return rc;                                                         \
        T x = (T)VAR;                                                          \
        memcpy(p, &x, sizeof x);                                               \
        return FERRY_OK;                                                       \
    }
        FY_INT_CASE(FERRY_K_I8, int8_t, INT8_MIN, INT8_MAX, true, sv)
        FY_INT_CASE(FERRY_K_I16, int16_t, INT16_MIN, INT16_MAX, true, sv)
        FY_INT_CASE(FERRY_K_I32, int32_t, INT32_MIN, INT32_MAX, true, sv)
        FY_INT_CASE(FERRY_K_I64, int64_t, INT64_MIN, INT64_MAX, true, sv)
        FY_INT_CASE(FERRY_K_U8, uint8_t, 0, UINT8_MAX, false, u)
        FY_INT_CASE(FERRY_K_U16, uint16_t, 0, UINT16_MAX, false, u)
        FY_INT_CASE(FERRY_K_U32, uint32_t, 0, UINT32_MAX, false, u)
        FY_INT_CASE(FERRY_K_U64, uint64_t, 0, UINT64_MAX, false, u)
        FY_INT_CASE(FERRY_K_ACTOR, uint32_t, 0, UINT32_MAX, false, u)
#undef FY_INT_CASE
    case FERRY_K_F32:
    case FERRY_K_F64: {
        double x;
        if (it->type == FERRY_CBOR_FLOAT)
            x = it->f;
        else if (it->type == FERRY_CBOR_UINT)
            x = (double)it->u;
        else if (it->type == FERRY_CBOR_NEGINT)
            x = -1.0 - (double)it->u;
        else
            return fy_type_error(d, it, ferry_kind_name(f->kind));
        if (f->kind == FERRY_K_F64) {
            memcpy(p, &x, 8);
            return FERRY_OK;
        }
        /* float32 rounds (JS has no single floats), but a finite value
         * beyond float's range would become infinity: refuse that. */
        if (isfinite(x) && fabs(x) > FLT_MAX) {
            char num[40];
            fy_format_double(x, num, sizeof num);
            return fy_dec_fail(d, FERRY_ERANGE, it->offset,
                               "%s does not fit float32", num);
        }
        float y = (float)x;
        memcpy(p, &y, 4);
        return FERRY_OK;
    }
    case FERRY_K_TEXT:
    case FERRY_K_BYTES: {
        ferry_cbor_type want =
            f->kind == FERRY_K_TEXT ? FERRY_CBOR_TEXT : FERRY_CBOR_BYTES;
        if (it->type != want)
            return fy_type_error(d, it, ferry_kind_name(f->kind));
        ferry_bytes x;
        rc = fy_dec_string(d, it, false, &x.ptr, &x.len);
        if (rc)
            return rc;
        memcpy(p, &x, sizeof x);
        return FERRY_OK;
    }
    case FERRY_K_CSTR: {
        const char *x = NULL;
        if (it->type == FERRY_CBOR_SIMPLE && it->u == 22) {
            memcpy(p, &x, sizeof x);
            return FERRY_OK;
        }
        if (it->type != FERRY_CBOR_TEXT)
            return fy_type_error(d, it, "text");
        const uint8_t *s;
        size_t n;
        rc = fy_dec_string(d, it, true, &s, &n);
        if (rc)
            return rc;
        if (memchr(s, 0, n))
            return fy_dec_fail(d, FERRY_EINVALID, it->offset,
                               "text holds a NUL byte, so it cannot be a C "
                               "string");
        x = (const char *)s;
        memcpy(p, &x, sizeof x);
        return FERRY_OK;
    }
    case FERRY_K_BLOB: {
        if (it->type != FERRY_CBOR_TAG || it->u != FERRY_TAG_OOB)
            return fy_type_error(d, it, "blob (tag 41999)");
        ferry_cbor_item h, end;
        if ((rc = fy_next(d, &h)))
            return rc;
        if (h.type != FERRY_CBOR_UINT || h.u > UINT32_MAX)
            return fy_type_error(d, &h, "blob index (uint32)");
        if (d->map_blobs && h.u >= d->blob_count)
            return fy_dec_fail(d, FERRY_ERANGE, h.offset,
                               "blob %" PRIu64 " but the message carries %u",
                               h.u, (unsigned)d->blob_count);
        if ((rc = fy_next(d, &end)))
            return rc;
        ferry_blob x = {(uint32_t)h.u + (d->map_blobs ? d->blob_base : 0)};
        memcpy(p, &x, sizeof x);
        return FERRY_OK;
    }
    case FERRY_K_STRUCT: return fy_dec_struct(d, f->schema, p, it);
    case FERRY_K_ARRAY: {
        if (it->type != FERRY_CBOR_ARRAY)
            return fy_type_error(d, it, "array");
        uint64_t max = f->max ? f->max : d->max_array;
        if (!it->indefinite && it->u > max)
            return fy_dec_fail(d, FERRY_ERANGE, it->offset,
                               "array of %" PRIu64
                               " elements is longer than its maximum of "
                               "%" PRIu64,
                               it->u, max);
        size_t cap = it->indefinite ? 8 : (size_t)it->u;
        uint8_t *items =
            cap ? ferry_arena_alloc(d->arena, cap * f->elem_size) : NULL;
        if (cap && !items)
            return fy_dec_fail(d, FERRY_ENOMEM, it->offset,
                               "out of memory (arena) for %zu elements", cap);
        size_t n = 0;
        ferry_cbor_item e;
        /* One path entry for the whole array; its index follows n. */
        fy_path_push_index(d, 0);
        for (;;) {
            if (d->depth && !d->hidden)
                d->path[d->depth - 1].index = n;
            if ((rc = fy_next(d, &e)))
                return rc;
            if (e.type == FERRY_CBOR_END) {
                fy_path_pop(d);
                break;
            }
            if (n == max) {
                fy_path_pop(d);
                return fy_dec_fail(d, FERRY_ERANGE, e.offset,
                                   "array is longer than its maximum of "
                                   "%" PRIu64,
                                   max);
            }
            if (n == cap) { /* indefinite: grow */
                size_t ncap = cap * 2;
                uint8_t *q = ferry_arena_alloc(d->arena, ncap * f->elem_size);
                if (!q)
                    return fy_dec_fail(d, FERRY_ENOMEM, e.offset,
                                       "out of memory (arena)");
                memcpy(q, items, n * f->elem_size);
                items = q;
                cap = ncap;
            }
            uint8_t *slot = items + n * f->elem_size;
            rc = fy_dec_value(d, f->elem, slot, &e);
            if (rc)
                return rc;
            n++;
        }
        memcpy(p, &items, sizeof items);
        memcpy(base + f->count_off, &n, sizeof n);
        return FERRY_OK;
    }
    default:
        return fy_dec_fail(d, FERRY_EINVAL, it->offset, "bad field kind %u",
                           f->kind);
    }
}

/* Field names are short: an inline loop beats a call to memcmp. */
static inline bool fy_name_eq(const char *a, const uint8_t *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        if ((uint8_t)a[i] != b[i])
            return false;
    return true;
}

static int fy_dec_struct(fy_dec *d, const ferry_schema *s, uint8_t *v,
                         const ferry_cbor_item *it) {
    if (it->type != FERRY_CBOR_MAP)
        return fy_type_error(d, it, "map");
    if (s->nfields > 256)
        return fy_dec_fail(d, FERRY_EINVAL, it->offset,
                           "schema %s has more than 256 fields", s->name);
    uint8_t seen[256];
    memset(seen, 0, s->nfields);
    memset(v, 0, s->size);
    size_t hint = 0; /* keys usually come in table order */
    ferry_cbor_item key, val;
    int rc;
    for (;;) {
        if ((rc = fy_next(d, &key)))
            return rc;
        if (key.type == FERRY_CBOR_END)
            break;
        const ferry_field *f = NULL;
        size_t idx = 0;
        if (key.type == FERRY_CBOR_TEXT && !key.indefinite) {
            for (size_t k = 0; k < s->nfields; k++) {
                idx = hint + k < s->nfields ? hint + k : hint + k - s->nfields;
                const ferry_field *c = &s->fields[idx];
                if (c->name_len == key.u &&
                    fy_name_eq(c->name, key.data, (size_t)key.u)) {
                    f = c;
                    break;
                }
            }
        } else if ((rc = ferry_cbor_skip(&d->r, &key))) {
            /* A key that is not plain text matches no field; skip all of
             * it (it may be a container) before its value. */
            return fy_dec_fail(d, rc, ferry_cbor_reader_error(&d->r)->offset,
                               "%s", ferry_cbor_reader_error(&d->r)->reason);
        }
        if (!f) {
            /* Unknown keys are skipped: forward compatibility. */
            if ((rc = fy_next(d, &val)))
                return rc;
            if ((rc = ferry_cbor_skip(&d->r, &val)))
                return fy_dec_fail(d, rc,
                                   ferry_cbor_reader_error(&d->r)->offset, "%s",
                                   ferry_cbor_reader_error(&d->r)->reason);
            continue;
        }
        fy_path_push_name(d, f->name);
        if ((rc = fy_next(d, &val)))
            return rc;
        if (seen[idx])
            return fy_dec_fail(d, FERRY_EINVALID, key.offset, "duplicate key");
        seen[idx] = 1;
        hint = idx + 1;
        if (f->optional && val.type == FERRY_CBOR_SIMPLE &&
            (val.u == 22 || val.u == 23)) {
            /* null/undefined for an optional field means absent. */
            *(bool *)(v + f->present_off) = false;
        } else {
            rc = fy_dec_value(d, f, v, &val);
            if (rc)
                return rc;
            if (f->optional)
                *(bool *)(v + f->present_off) = true;
        }
        fy_path_pop(d);
    }
    for (size_t k = 0; k < s->nfields; k++) {
        if (!seen[k] && !s->fields[k].optional) {
            fy_path_push_name(d, s->fields[k].name);
            return fy_dec_fail(d, FERRY_EMISSING, it->offset,
                               "required field missing");
        }
    }
    return FERRY_OK;
}

int ferry_decode(const ferry_schema *s, const void *buf, size_t len, void *out,
                 ferry_arena *arena, const ferry_decode_opts *opts,
                 ferry_decode_error *err) {
    /* On the stack: about 25 KiB, mostly the reader's container stack,
     * which is never touched beyond the depth actually reached. */
    fy_dec d;
    d.arena = arena;
    d.err = err;
    d.depth = 0;
    d.hidden = 0;
    d.max_array = opts && opts->max_array ? opts->max_array : (size_t)1 << 20;
    d.map_blobs = opts && opts->map_blobs;
    d.blob_base = opts ? opts->blob_base : 0;
    d.blob_count = opts ? opts->blob_count : 0;
    const ferry_cbor_limits *lim =
        opts && opts->limits.max_depth ? &opts->limits : NULL;
    if (err)
        err->code = FERRY_OK;
    fy_path_push_name(&d, s->name);
    int rc = ferry_cbor_reader_init(&d.r, buf, len, lim);
    ferry_cbor_item it;
    if (rc)
        rc = fy_dec_fail(&d, rc, 0, "bad decode options");
    else if (!(rc = fy_next(&d, &it)))
        rc = fy_dec_struct(&d, s, out, &it);
    if (!rc) {
        int end = ferry_cbor_read(&d.r, &it);
        if (end < 0) {
            d.depth = 1;
            const ferry_cbor_error *e = ferry_cbor_reader_error(&d.r);
            rc = fy_dec_fail(&d, end, e->offset, "%s", e->reason);
        }
    }
    return rc;
}
