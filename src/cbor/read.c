/*
 * read.c - the strict, non-recursive, non-allocating CBOR reader.
 *
 * The reader turns one CBOR item into a flat stream of events. Nesting is
 * tracked in an explicit stack inside the reader (bounded by max_depth), so
 * hostile input such as a million nested arrays ends in FERRY_ELIMIT instead
 * of a stack overflow, and nothing is allocated: declared lengths are checked
 * against the bytes actually left before anything trusts them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ferry/cbor.h"
#include "cbor_internal.h"

const ferry_cbor_limits ferry_cbor_default_limits = {
    .max_depth = FERRY_CBOR_MAX_DEPTH,
    .max_items = 16u * 1024 * 1024,
    .max_len = 256u * 1024 * 1024,
};

static const char *const fy_major_names[8] = {
    "unsigned integer",
    "negative integer",
    "byte string",
    "text string",
    "array",
    "map",
    "tag",
    "simple value or float",
};

const char *fy_cbor_major_name(unsigned major) {
    return fy_major_names[major & 7];
}

int ferry_cbor_reader_init(ferry_cbor_reader *r, const void *buf, size_t len,
                           const ferry_cbor_limits *lim) {
    /* The frame stack is deliberately left uninitialised: it is 24 KiB and
     * every frame is written before it is read. */
    r->buf = buf;
    r->len = len;
    r->pos = 0;
    r->items = 0;
    r->depth = 0;
    r->state = FY_READ_START;
    r->err.code = FERRY_OK;
    r->err.offset = 0;
    r->err.reason[0] = '\0';
    r->lim = lim ? *lim : ferry_cbor_default_limits;
    if (r->lim.max_depth < 1 || r->lim.max_depth > FERRY_CBOR_MAX_DEPTH ||
        (buf == NULL && len > 0)) {
        fy_cbor_fail(&r->err, FERRY_EINVAL, 0,
                     "limits out of range or no input buffer");
        r->state = FERRY_EINVAL;
        return FERRY_EINVAL;
    }
    return FERRY_OK;
}

const ferry_cbor_error *ferry_cbor_reader_error(const ferry_cbor_reader *r) {
    return &r->err;
}

int fy_cbor_fail(ferry_cbor_error *e, int code, size_t offset, const char *fmt,
                 ...) {
    e->code = code;
    e->offset = offset;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->reason, sizeof e->reason, fmt, ap);
    va_end(ap);
    return code;
}

static int fy_fail(ferry_cbor_reader *r, int code, size_t offset,
                   const char *fmt, ...) {
    r->err.code = code;
    r->err.offset = offset;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err.reason, sizeof r->err.reason, fmt, ap);
    va_end(ap);
    r->state = code;
    return code;
}

/* Index of the first byte that breaks UTF-8 (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), or n when all of s is valid. */
size_t fy_utf8_invalid_at(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        /* ASCII dominates real text; skip it eight bytes at a time. */
        while (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (w & 0x8080808080808080ull)
                break;
            i += 8;
        }
        if (i >= n)
            break;
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t need;
        uint8_t lo = 0x80, hi = 0xbf; /* range of the first continuation */
        if (c >= 0xc2 && c <= 0xdf)
            need = 1;
        else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            if (c == 0xe0)
                lo = 0xa0; /* overlong */
            else if (c == 0xed)
                hi = 0x9f; /* UTF-16 surrogates */
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            if (c == 0xf0)
                lo = 0x90; /* overlong */
            else if (c == 0xf4)
                hi = 0x8f; /* above U+10FFFF */
        } else
            return i;
        if (n - i <= need)
            return i;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return i;
        for (size_t k = 2; k <= need; k++)
            if ((s[i + k] & 0xc0) != 0x80)
                return i;
        i += need + 1;
    }
    return n;
}

double fy_cbor_single_to_double(uint32_t s) {
    /* NaN payloads are rebuilt bit by bit because a float->double cast may
     * quieten a signalling NaN, and recode must keep the exact bits. */
    if ((s & 0x7f800000u) == 0x7f800000u && (s & 0x7fffff)) {
        uint64_t d = (uint64_t)(s & 0x80000000u) << 32 | 0x7ff0000000000000ull |
                     (uint64_t)(s & 0x7fffff) << 29;
        double v;
        memcpy(&v, &d, 8);
        return v;
    }
    float f;
    memcpy(&f, &s, 4);
    return f;
}

/* Marks one item as finished inside its parent. */
static inline __attribute__((always_inline)) void
fy_complete(ferry_cbor_reader *r) {
    if (r->depth == 0) {
        r->state = FY_READ_DONE_ITEM;
        return;
    }
    fy_cbor_frame *f = &r->stack[r->depth - 1];
    if (!f->indef)
        f->left--;
    else if (f->type == FERRY_CBOR_MAP)
        f->left++; /* parity tells a break in a value position */
}

static int fy_push(ferry_cbor_reader *r, ferry_cbor_type type, bool indef,
                   uint64_t left, size_t head) {
    if (r->depth >= r->lim.max_depth)
        return fy_fail(r, FERRY_ELIMIT, head, "nesting deeper than %u levels",
                       (unsigned)r->lim.max_depth);
    fy_cbor_frame *f = &r->stack[r->depth++];
    f->type = (uint8_t)type;
    f->indef = indef;
    f->left = indef ? 0 : left; /* indefinite strings sum chunk lengths here */
    f->start = head;
    return FERRY_OK;
}

int ferry_cbor_read(ferry_cbor_reader *r, ferry_cbor_item *it) {
    if (r->state < 0)
        return r->state;
    if (r->state == FY_READ_END)
        return 0;
    if (r->state == FY_READ_DONE_ITEM) {
        if (r->pos != r->len)
            return fy_fail(r, FERRY_ETRAILING, r->pos,
                           "%zu trailing byte%s after the item",
                           r->len - r->pos, r->len - r->pos == 1 ? "" : "s");
        r->state = FY_READ_END;
        return 0;
    }
    r->state = FY_READ_INSIDE;

    memset(it, 0, sizeof *it);
    it->offset = r->pos;
    fy_cbor_frame *top = r->depth ? &r->stack[r->depth - 1] : NULL;

    /* A definite container whose items are all read closes without a byte. */
    if (top && !top->indef && top->left == 0) {
        r->depth--;
        it->type = FERRY_CBOR_END;
        it->container = top->type;
        it->depth = r->depth;
        fy_complete(r);
        return 1;
    }

    if (r->pos >= r->len) {
        if (top && top->indef)
            return fy_fail(r, FERRY_ETRUNCATED, r->pos,
                           "input ends before the break of the "
                           "indefinite-length %s at byte %zu",
                           fy_major_names[fy_cbor_type_major(top->type)],
                           top->start);
        return fy_fail(r, FERRY_ETRUNCATED, r->pos,
                       "input ends where an item was expected");
    }

    const size_t head = r->pos;
    const uint8_t ib = r->buf[head];
    const unsigned major = ib >> 5, ai = ib & 0x1f;

    if (ib == 0xff) {
        if (!top || !top->indef)
            return fy_fail(r, FERRY_EMALFORMED, head,
                           "break (0xff) outside an indefinite-length item");
        if (top->type == FERRY_CBOR_MAP && (top->left & 1))
            return fy_fail(r, FERRY_EMALFORMED, head,
                           "break where a value of the indefinite-length map "
                           "at byte %zu was expected",
                           top->start);
        r->pos++;
        r->depth--;
        it->type = FERRY_CBOR_END;
        it->container = top->type;
        it->indefinite = true;
        it->depth = r->depth;
        fy_complete(r);
        return 1;
    }

    if (top && top->indef &&
        (top->type == FERRY_CBOR_BYTES || top->type == FERRY_CBOR_TEXT)) {
        unsigned want = fy_cbor_type_major(top->type);
        if (major != want)
            return fy_fail(r, FERRY_EMALFORMED, head,
                           "chunk of the indefinite-length %s at byte %zu "
                           "has the wrong type (%s)",
                           fy_major_names[want], top->start,
                           fy_major_names[major]);
        if (ai == 31)
            return fy_fail(r, FERRY_EMALFORMED, head,
                           "chunk of the indefinite-length %s at byte %zu "
                           "is itself of indefinite length",
                           fy_major_names[want], top->start);
    }

    if (ai >= 28 && ai <= 30)
        return fy_fail(r, FERRY_EMALFORMED, head,
                       "reserved additional information %u in a %s head", ai,
                       fy_major_names[major]);
    if (ai == 31 && (major < 2 || major == 6))
        return fy_fail(r, FERRY_EMALFORMED, head,
                       "indefinite length (additional information 31) is "
                       "not allowed for a %s",
                       fy_major_names[major]);

    /* The argument. */
    uint64_t arg = ai;
    size_t extra = 0;
    if (ai >= 24 && ai <= 27) {
        extra = (size_t)1 << (ai - 24);
        if (r->len - head - 1 < extra)
            return fy_fail(r, FERRY_ETRUNCATED, head,
                           "%s head needs %zu more byte%s, %zu left",
                           fy_major_names[major], extra, extra == 1 ? "" : "s",
                           r->len - head - 1);
        arg = 0;
        for (size_t i = 0; i < extra; i++)
            arg = arg << 8 | r->buf[head + 1 + i];
    }
    r->pos = head + 1 + extra;
    const size_t left = r->len - r->pos;

    if (++r->items > r->lim.max_items)
        return fy_fail(r, FERRY_ELIMIT, head, "more than %llu data items",
                       (unsigned long long)r->lim.max_items);

    it->depth = r->depth;
    it->indefinite = ai == 31;
    switch (major) {
    case 0:
    case 1:
        it->type = major ? FERRY_CBOR_NEGINT : FERRY_CBOR_UINT;
        it->u = arg;
        fy_complete(r);
        return 1;

    case 2:
    case 3:
        it->type = major == 2 ? FERRY_CBOR_BYTES : FERRY_CBOR_TEXT;
        if (ai == 31)
            return fy_push(r, it->type, true, 0, head) ? r->state : 1;
        if (arg > left)
            return fy_fail(r, FERRY_ETRUNCATED, head,
                           "%s of %llu bytes runs past the end of input "
                           "(%zu left)",
                           fy_major_names[major], (unsigned long long)arg,
                           left);
        if (arg > r->lim.max_len)
            return fy_fail(r, FERRY_ELIMIT, head,
                           "%s of %llu bytes exceeds the limit of %llu",
                           fy_major_names[major], (unsigned long long)arg,
                           (unsigned long long)r->lim.max_len);
        if (top && top->indef &&
            (top->type == FERRY_CBOR_BYTES || top->type == FERRY_CBOR_TEXT)) {
            /* Chunks of one string share its length limit. (Only chunks:
             * an indefinite map keeps its key/value parity in `left`.) */
            if (arg > r->lim.max_len - top->left)
                return fy_fail(r, FERRY_ELIMIT, head,
                               "%s at byte %zu grows beyond the limit of "
                               "%llu bytes",
                               fy_major_names[major], top->start,
                               (unsigned long long)r->lim.max_len);
            top->left += arg;
        }
        it->u = arg;
        it->data = r->buf + r->pos;
        if (major == 3) {
            size_t bad = fy_utf8_invalid_at(it->data, (size_t)arg);
            if (bad != arg)
                return fy_fail(r, FERRY_EINVALID, r->pos + bad,
                               "invalid UTF-8 in the text string at byte %zu",
                               head);
        }
        r->pos += (size_t)arg;
        fy_complete(r);
        return 1;

    case 4:
    case 5: {
        it->type = major == 4 ? FERRY_CBOR_ARRAY : FERRY_CBOR_MAP;
        if (ai == 31)
            return fy_push(r, it->type, true, 0, head) ? r->state : 1;
        /* Every item takes at least one byte, so a count beyond the bytes
         * left is rejected here, before any consumer sizes memory by it. */
        uint64_t n = arg;
        if (major == 5 && (n > UINT64_MAX / 2 || (n *= 2, false)))
            n = UINT64_MAX;
        if (n > left)
            return fy_fail(r, FERRY_ETRUNCATED, head,
                           "%s of %llu %s cannot fit in the %zu byte%s left",
                           fy_major_names[major], (unsigned long long)arg,
                           major == 4 ? "items" : "pairs", left,
                           left == 1 ? "" : "s");
        it->u = arg;
        return fy_push(r, it->type, false, n, head) ? r->state : 1;
    }

    case 6:
        it->type = FERRY_CBOR_TAG;
        it->u = arg;
        return fy_push(r, it->type, false, 1, head) ? r->state : 1;

    default: /* major 7 */
        if (ai < 24) {
            it->type = FERRY_CBOR_SIMPLE;
            it->u = arg;
        } else if (ai == 24) {
            /* RFC 8949 3.3: f800..f81f are not well-formed. */
            if (arg < 32)
                return fy_fail(r, FERRY_EMALFORMED, head,
                               "simple value %u must use the one-byte head "
                               "(two-byte form is for 32..255)",
                               (unsigned)arg);
            it->type = FERRY_CBOR_SIMPLE;
            it->u = arg;
        } else {
            it->type = FERRY_CBOR_FLOAT;
            it->width = (uint8_t)extra;
            it->u = arg;
            if (ai == 25)
                it->f = ferry_cbor_half_to_double((uint16_t)arg);
            else if (ai == 26)
                it->f = fy_cbor_single_to_double((uint32_t)arg);
            else
                memcpy(&it->f, &arg, 8);
        }
        fy_complete(r);
        return 1;
    }
}

int ferry_cbor_skip(ferry_cbor_reader *r, const ferry_cbor_item *it) {
    bool opens =
        it->type == FERRY_CBOR_ARRAY || it->type == FERRY_CBOR_MAP ||
        it->type == FERRY_CBOR_TAG ||
        ((it->type == FERRY_CBOR_BYTES || it->type == FERRY_CBOR_TEXT) &&
         it->indefinite);
    if (!opens)
        return FERRY_OK;
    ferry_cbor_item ev;
    for (;;) {
        int rc = ferry_cbor_read(r, &ev);
        if (rc < 0)
            return rc;
        if (rc == 0)
            return fy_fail(r, FERRY_EINVAL, r->pos,
                           "skip called on an item that was already closed");
        if (ev.type == FERRY_CBOR_END && ev.depth == it->depth)
            return FERRY_OK;
    }
}

int ferry_cbor_check(const void *buf, size_t len, const ferry_cbor_limits *lim,
                     ferry_cbor_error *err) {
    ferry_cbor_reader r;
    ferry_cbor_item it;
    int rc = ferry_cbor_reader_init(&r, buf, len, lim);
    if (rc == FERRY_OK) {
        do
            rc = ferry_cbor_read(&r, &it);
        while (rc == 1);
    }
    if (err)
        *err = r.err;
    return rc;
}
