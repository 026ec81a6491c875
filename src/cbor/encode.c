/*
 * encode.c - preferred-serialization CBOR encoder.
 *
 * Every put writes the shortest head for its argument (RFC 8949 section
 * 4.2.1) and floats in the narrowest width that keeps the exact value, so
 * the output of this file is always preferred serialization.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/cbor.h"

void ferry_cbor_buf_init(ferry_cbor_buf *b) {
    memset(b, 0, sizeof *b);
}

void ferry_cbor_buf_init_fixed(ferry_cbor_buf *b, void *mem, size_t cap) {
    memset(b, 0, sizeof *b);
    b->data = mem;
    b->cap = cap;
    b->fixed = true;
}

void ferry_cbor_buf_free(ferry_cbor_buf *b) {
    if (!b->fixed)
        free(b->data);
    ferry_cbor_buf_init(b);
}

int ferry_cbor_buf_reserve(ferry_cbor_buf *b, size_t n) {
    if (b->err)
        return b->err;
    if (b->cap - b->len >= n)
        return FERRY_OK;
    if (b->fixed || n > SIZE_MAX / 2 - b->len)
        return b->err = b->fixed ? FERRY_ENOSPC : FERRY_ENOMEM;
    /* Doubling keeps appends amortised O(1); 64 bytes avoids tiny steps. */
    size_t cap = b->cap ? b->cap : 64;
    while (cap - b->len < n)
        cap *= 2;
    uint8_t *p = realloc(b->data, cap);
    if (!p)
        return b->err = FERRY_ENOMEM;
    b->data = p;
    b->cap = cap;
    return FERRY_OK;
}

int ferry_cbor_buf_append(ferry_cbor_buf *b, const void *p, size_t n) {
    int rc = ferry_cbor_buf_reserve(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return FERRY_OK;
}

size_t ferry_cbor_head_size(uint64_t arg) {
    if (arg < 24)
        return 1;
    if (arg <= UINT8_MAX)
        return 2;
    if (arg <= UINT16_MAX)
        return 3;
    if (arg <= UINT32_MAX)
        return 5;
    return 9;
}

/* Writes a head with an explicit additional-information width; used for
 * floats, whose width is chosen by value rather than by argument size. */
static int fy_put_head_ai(ferry_cbor_buf *b, unsigned major, unsigned ai,
                          uint64_t arg) {
    static const uint8_t extra[] = {1, 2, 4, 8};
    size_t n = ai < 24 ? 0 : extra[ai - 24];
    int rc = ferry_cbor_buf_reserve(b, n + 1);
    if (rc)
        return rc;
    uint8_t *p = b->data + b->len;
    p[0] = (uint8_t)(major << 5 | ai);
    switch (n) { /* fixed widths: a few stores each, no loop */
    case 0: break;
    case 1: p[1] = (uint8_t)arg; break;
    case 2:
        p[1] = (uint8_t)(arg >> 8);
        p[2] = (uint8_t)arg;
        break;
    case 4:
        for (int i = 0; i < 4; i++)
            p[1 + i] = (uint8_t)(arg >> (24 - 8 * i));
        break;
    default:
        for (int i = 0; i < 8; i++)
            p[1 + i] = (uint8_t)(arg >> (56 - 8 * i));
        break;
    }
    b->len += n + 1;
    return FERRY_OK;
}

int ferry_cbor_put_head(ferry_cbor_buf *b, unsigned major, uint64_t arg) {
    if (major > 7)
        return b->err ? b->err : (b->err = FERRY_EINVAL);
    unsigned ai;
    if (arg < 24)
        ai = (unsigned)arg;
    else if (arg <= UINT8_MAX)
        ai = 24;
    else if (arg <= UINT16_MAX)
        ai = 25;
    else if (arg <= UINT32_MAX)
        ai = 26;
    else
        ai = 27;
    return fy_put_head_ai(b, major, ai, arg);
}

int ferry_cbor_put_uint(ferry_cbor_buf *b, uint64_t v) {
    return ferry_cbor_put_head(b, 0, v);
}

int ferry_cbor_put_negint(ferry_cbor_buf *b, uint64_t n) {
    return ferry_cbor_put_head(b, 1, n);
}

int ferry_cbor_put_int(ferry_cbor_buf *b, int64_t v) {
    /* -1 - v computed without overflow: for v < 0, ~v == -1 - v. */
    if (v < 0)
        return ferry_cbor_put_head(b, 1, (uint64_t)~v);
    return ferry_cbor_put_head(b, 0, (uint64_t)v);
}

int ferry_cbor_put_bytes(ferry_cbor_buf *b, const void *p, size_t n) {
    int rc = ferry_cbor_put_head(b, 2, n);
    return rc ? rc : ferry_cbor_buf_append(b, p, n);
}

int ferry_cbor_put_text(ferry_cbor_buf *b, const char *s, size_t n) {
    int rc = ferry_cbor_put_head(b, 3, n);
    return rc ? rc : ferry_cbor_buf_append(b, s, n);
}

int ferry_cbor_put_cstr(ferry_cbor_buf *b, const char *s) {
    return ferry_cbor_put_text(b, s, strlen(s));
}

int ferry_cbor_put_array(ferry_cbor_buf *b, uint64_t count) {
    return ferry_cbor_put_head(b, 4, count);
}

int ferry_cbor_put_map(ferry_cbor_buf *b, uint64_t pairs) {
    return ferry_cbor_put_head(b, 5, pairs);
}

int ferry_cbor_put_tag(ferry_cbor_buf *b, uint64_t tag) {
    return ferry_cbor_put_head(b, 6, tag);
}

int ferry_cbor_put_simple(ferry_cbor_buf *b, uint8_t v) {
    /* 24..31 are reserved: f818..f81f are not well-formed in RFC 8949. */
    if (v >= 24 && v < 32)
        return b->err ? b->err : (b->err = FERRY_EINVAL);
    return ferry_cbor_put_head(b, 7, v);
}

int ferry_cbor_put_bool(ferry_cbor_buf *b, bool v) {
    return ferry_cbor_put_head(b, 7, v ? 21 : 20);
}

int ferry_cbor_put_null(ferry_cbor_buf *b) {
    return ferry_cbor_put_head(b, 7, 22);
}

int ferry_cbor_put_undefined(ferry_cbor_buf *b) {
    return ferry_cbor_put_head(b, 7, 23);
}

double ferry_cbor_half_to_double(uint16_t h) {
    int exp = (h >> 10) & 0x1f;
    int mant = h & 0x3ff;
    double v;
    if (exp == 0)
        v = ldexp(mant, -24);
    else if (exp != 31)
        v = ldexp(mant + 1024, exp - 25);
    else if (mant == 0)
        v = INFINITY;
    else {
        /* Rebuild NaNs bit by bit so that their payload survives. */
        uint64_t d = (uint64_t)(h & 0x8000) << 48 | 0x7ff0000000000000ull |
                     (uint64_t)mant << 42;
        memcpy(&v, &d, 8);
        return v;
    }
    return (h & 0x8000) ? -v : v;
}

/* Returns true and sets *out if the float f is exactly a binary16 value. */
static bool fy_float_to_half(float f, uint16_t *out) {
    uint32_t u;
    memcpy(&u, &f, 4);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000);
    int exp = (int)((u >> 23) & 0xff);
    uint32_t mant = u & 0x7fffff;
    if (exp == 0xff) {
        /* Inf or NaN: the payload must survive dropping 13 low bits. */
        if (mant & 0x1fff)
            return false;
        *out = (uint16_t)(sign | 0x7c00 | (mant >> 13));
        return true;
    }
    if (exp == 0 && mant == 0) {
        *out = sign; /* +-0 */
        return true;
    }
    if (exp == 0)
        return false; /* float subnormals are far below half's range */
    int e = exp - 127;
    if (e > 15)
        return false;
    if (e >= -14) {
        if (mant & 0x1fff)
            return false;
        *out = (uint16_t)(sign | (uint16_t)((e + 15) << 10) | (mant >> 13));
        return true;
    }
    /* Half subnormal: value = m * 2^-24 with m < 1024. */
    if (e < -24)
        return false;
    uint32_t full = mant | 0x800000; /* 24-bit significand */
    int shift = 13 + (-14 - e);      /* bits dropped to reach 2^-24 units */
    if (full & ((1u << shift) - 1))
        return false;
    *out = (uint16_t)(sign | (full >> shift));
    return true;
}

int ferry_cbor_put_float(ferry_cbor_buf *b, double v) {
    uint64_t d;
    memcpy(&d, &v, 8);
    float f = 0;
    bool fits_single;
    if (isnan(v)) {
        /* Keep the payload: it fits a single if its 29 low bits are 0.
         * Converting with a cast could quieten or change a NaN, so bits. */
        fits_single = (d & 0x1fffffffu) == 0;
        if (fits_single) {
            uint32_t s = (uint32_t)((d >> 32) & 0x80000000u) | 0x7f800000u |
                         (uint32_t)((d >> 29) & 0x7fffff);
            memcpy(&f, &s, 4);
        }
    } else if (isinf(v) || fabs(v) <= FLT_MAX) {
        /* The range test comes first: casting a finite double beyond
         * FLT_MAX to float is undefined behaviour. -0.0 compares equal to
         * 0.0 here, but the cast keeps its sign, so nothing is lost. */
        f = (float)v;
        fits_single = isinf(v) || (double)f == v;
    } else {
        fits_single = false;
    }
    if (!fits_single)
        return fy_put_head_ai(b, 7, 27, d);
    uint16_t h;
    if (fy_float_to_half(f, &h))
        return fy_put_head_ai(b, 7, 25, h);
    uint32_t s;
    memcpy(&s, &f, 4);
    return fy_put_head_ai(b, 7, 26, s);
}
