/*
 * encode.c - C structs to CBOR maps, driven by the static field tables of
 * ferry/schema.h.
 *
 * One encoder walks the table for three purposes (count the size, write
 * contiguously, write scatter-gather), so the three can never disagree.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cbor/cbor_internal.h"
#include "ferry/schema.h"

typedef struct fy_enc {
    ferry_cbor_buf *buf; /* NULL: count only */
    size_t size;         /* bytes counted (count mode) */
    ferry_sg *sg;        /* scatter-gather mode when non-NULL */
    size_t threshold;
    size_t seg_start; /* start of the current buf segment */
    int err;
} fy_enc;

static void fy_enc_head(fy_enc *e, unsigned major, uint64_t arg) {
    if (e->buf)
        ferry_cbor_put_head(e->buf, major, arg);
    else
        e->size += ferry_cbor_head_size(arg);
}

static void fy_enc_raw(fy_enc *e, const void *p, size_t n) {
    if (e->buf)
        ferry_cbor_buf_append(e->buf, p, n);
    else
        e->size += n;
}

static void fy_enc_float(fy_enc *e, double v) {
    if (e->buf) {
        ferry_cbor_put_float(e->buf, v);
        return;
    }
    uint8_t tmp[9];
    ferry_cbor_buf b;
    ferry_cbor_buf_init_fixed(&b, tmp, sizeof tmp);
    ferry_cbor_put_float(&b, v);
    e->size += b.len;
}

static int fy_seg_push(ferry_sg *sg, const uint8_t *ext, size_t off,
                       size_t len) {
    if (len == 0)
        return FERRY_OK;
    if (sg->nsegs == sg->cap) {
        size_t cap = sg->cap ? sg->cap * 2 : 8;
        ferry_seg *p = realloc(sg->segs, cap * sizeof *p);
        if (!p)
            return FERRY_ENOMEM;
        sg->segs = p;
        sg->cap = cap;
    }
    sg->segs[sg->nsegs++] = (ferry_seg){ext, off, len};
    sg->total += len;
    return FERRY_OK;
}

static void fy_enc_bytes(fy_enc *e, unsigned major, const void *p, size_t n) {
    fy_enc_head(e, major, n);
    if (e->sg && major == 2 && n >= e->threshold && n > 0) {
        /* Close the CBOR run so far, then point at the caller's bytes. */
        ferry_sg *sg = e->sg;
        int rc =
            fy_seg_push(sg, NULL, e->seg_start, sg->buf.len - e->seg_start);
        if (!rc)
            rc = fy_seg_push(sg, p, 0, n);
        if (rc)
            e->err = rc;
        e->seg_start = sg->buf.len;
        return;
    }
    fy_enc_raw(e, p, n);
}

/* Loads an integer member of 1, 2, 4 or 8 bytes (memcpy: members of
 * packed or misaligned structs are fine). */
static int64_t fy_load_int(const uint8_t *p, uint32_t size) {
    switch (size) {
    case 1: return (int8_t)p[0];
    case 2: {
        int16_t x;
        memcpy(&x, p, 2);
        return x;
    }
    case 4: {
        int32_t x;
        memcpy(&x, p, 4);
        return x;
    }
    default: {
        int64_t x;
        memcpy(&x, p, 8);
        return x;
    }
    }
}

static uint64_t fy_load_uint(const uint8_t *p, uint32_t size) {
    switch (size) {
    case 1: return p[0];
    case 2: {
        uint16_t x;
        memcpy(&x, p, 2);
        return x;
    }
    case 4: {
        uint32_t x;
        memcpy(&x, p, 4);
        return x;
    }
    default: {
        uint64_t x;
        memcpy(&x, p, 8);
        return x;
    }
    }
}

static void fy_enc_struct(fy_enc *e, const ferry_schema *s, const uint8_t *v);

static void fy_enc_value(fy_enc *e, const ferry_field *f, const uint8_t *v) {
    const uint8_t *p = v + f->offset;
    switch ((ferry_kind)f->kind) {
    case FERRY_K_BOOL: fy_enc_head(e, 7, *(const bool *)p ? 21 : 20); break;
    case FERRY_K_I8:
    case FERRY_K_I16:
    case FERRY_K_I32:
    case FERRY_K_I64: {
        int64_t x = fy_load_int(p, f->size);
        /* For x < 0 the argument is -1 - x, which is ~x without overflow. */
        fy_enc_head(e, x < 0, x < 0 ? (uint64_t)~x : (uint64_t)x);
        break;
    }
    case FERRY_K_U8:
    case FERRY_K_U16:
    case FERRY_K_U32:
    case FERRY_K_U64:
    case FERRY_K_ACTOR: fy_enc_head(e, 0, fy_load_uint(p, f->size)); break;
    case FERRY_K_F32: {
        float x;
        memcpy(&x, p, 4);
        fy_enc_float(e, (double)x);
        break;
    }
    case FERRY_K_F64: {
        double x;
        memcpy(&x, p, 8);
        fy_enc_float(e, x);
        break;
    }
    case FERRY_K_TEXT:
    case FERRY_K_BYTES: {
        ferry_str x; /* same layout as ferry_bytes */
        memcpy(&x, p, sizeof x);
        if (!x.ptr && x.len) {
            e->err = FERRY_EINVAL;
            return;
        }
        fy_enc_bytes(e, f->kind == FERRY_K_TEXT ? 3 : 2, x.ptr, x.len);
        break;
    }
    case FERRY_K_CSTR: {
        const char *x;
        memcpy(&x, p, sizeof x);
        if (!x)
            fy_enc_head(e, 7, 22); /* null */
        else
            fy_enc_bytes(e, 3, x, strlen(x));
        break;
    }
    case FERRY_K_BLOB: {
        ferry_blob x;
        memcpy(&x, p, sizeof x);
        uint64_t index = x.h;
        if (e->sg) {
            /* The message refers to its blobs by transfer-list index. */
            ferry_sg *sg = e->sg;
            if (sg->nblobs == sg->blobs_cap) {
                size_t cap = sg->blobs_cap ? sg->blobs_cap * 2 : 4;
                uint32_t *q = realloc(sg->blobs, cap * sizeof *q);
                if (!q) {
                    e->err = FERRY_ENOMEM;
                    return;
                }
                sg->blobs = q;
                sg->blobs_cap = cap;
            }
            index = sg->nblobs;
            sg->blobs[sg->nblobs++] = x.h;
        }
        fy_enc_head(e, 6, FERRY_TAG_OOB);
        fy_enc_head(e, 0, index);
        break;
    }
    case FERRY_K_STRUCT: fy_enc_struct(e, f->schema, p); break;
    case FERRY_K_ARRAY: {
        const uint8_t *items;
        size_t n;
        memcpy(&items, p, sizeof items);
        memcpy(&n, v + f->count_off, sizeof n);
        if ((!items && n) || (f->max && n > f->max)) {
            e->err = FERRY_EINVAL;
            return;
        }
        fy_enc_head(e, 4, n);
        for (size_t i = 0; i < n && !e->err; i++)
            fy_enc_value(e, f->elem, items + i * f->elem_size);
        break;
    }
    default: e->err = FERRY_EINVAL;
    }
}

static void fy_enc_struct(fy_enc *e, const ferry_schema *s, const uint8_t *v) {
    size_t present = 0;
    for (size_t i = 0; i < s->nfields; i++)
        present += !s->fields[i].optional ||
                   *(const bool *)(v + s->fields[i].present_off);
    fy_enc_head(e, 5, present);
    for (size_t i = 0; i < s->nfields && !e->err; i++) {
        const ferry_field *f = &s->fields[i];
        if (f->optional && !*(const bool *)(v + f->present_off))
            continue;
        if (e->buf && f->name_len < 24) {
            /* The usual short key: head and name in one reservation. */
            ferry_cbor_buf *b = e->buf;
            if (ferry_cbor_buf_reserve(b, 1 + (size_t)f->name_len) == 0) {
                uint8_t *o = b->data + b->len;
                o[0] = (uint8_t)(0x60 | f->name_len);
                for (uint32_t k = 0; k < f->name_len; k++)
                    o[1 + k] = (uint8_t)f->name[k];
                b->len += 1 + (size_t)f->name_len;
            }
        } else {
            fy_enc_head(e, 3, f->name_len);
            fy_enc_raw(e, f->name, f->name_len);
        }
        fy_enc_value(e, f, v);
    }
}

int ferry_encode(const ferry_schema *s, const void *value,
                 ferry_cbor_buf *out) {
    if (out->err)
        return out->err;
    /* No sizing pass: output buffers are reused, so growth is rare and a
     * second walk of the struct would cost more than it saves. */
    size_t start = out->len;
    fy_enc e = {.buf = out};
    fy_enc_struct(&e, s, value);
    if (e.err || out->err) {
        out->len = start;
        if (!e.err)
            return out->err;
        return e.err;
    }
    return FERRY_OK;
}

size_t ferry_encoded_size(const ferry_schema *s, const void *value) {
    fy_enc e = {0};
    fy_enc_struct(&e, s, value);
    return e.err ? 0 : e.size;
}

void ferry_sg_init(ferry_sg *sg) {
    memset(sg, 0, sizeof *sg);
    ferry_cbor_buf_init(&sg->buf);
}

void ferry_sg_free(ferry_sg *sg) {
    ferry_cbor_buf_free(&sg->buf);
    free(sg->segs);
    free(sg->blobs);
    memset(sg, 0, sizeof *sg);
}

int ferry_encode_sg(const ferry_schema *s, const void *value, size_t threshold,
                    ferry_sg *sg) {
    sg->buf.len = 0;
    sg->buf.err = FERRY_OK;
    sg->nsegs = 0;
    sg->total = 0;
    sg->nblobs = 0;
    fy_enc e = {.buf = &sg->buf, .sg = sg, .threshold = threshold};
    fy_enc_struct(&e, s, value);
    if (!e.err && !sg->buf.err)
        e.err = fy_seg_push(sg, NULL, e.seg_start, sg->buf.len - e.seg_start);
    if (e.err || sg->buf.err) {
        sg->nsegs = 0;
        sg->total = 0;
        return e.err ? e.err : sg->buf.err;
    }
    return FERRY_OK;
}

const uint8_t *ferry_sg_ptr(const ferry_sg *sg, size_t i) {
    const ferry_seg *g = &sg->segs[i];
    return g->ext ? g->ext : sg->buf.data + g->off;
}

void ferry_sg_gather(const ferry_sg *sg, void *dst) {
    uint8_t *o = dst;
    for (size_t i = 0; i < sg->nsegs; i++) {
        memcpy(o, ferry_sg_ptr(sg, i), sg->segs[i].len);
        o += sg->segs[i].len;
    }
}
