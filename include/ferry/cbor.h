/*
 * ferry/cbor.h - CBOR (RFC 8949) encoder and strict, non-allocating reader.
 *
 * Encoder: writes preferred serialization only (shortest argument heads,
 * floats in the shortest of half/single/double that keeps the exact value,
 * definite lengths only) into a ferry_cbor_buf, growable or fixed.
 *
 * Reader: walks a caller-owned input buffer as a flat stream of events
 * (ferry_cbor_read), without recursion and without allocating. It checks
 * well-formedness (RFC 8949 Appendix F) and the validity rules ferry relies
 * on: UTF-8 in text strings, simple values in their canonical head, chunk
 * types of indefinite strings, exactly one item and no trailing bytes. Depth,
 * item count and string length are bounded by ferry_cbor_limits.
 *
 * Every failure is described by a ferry_cbor_error: a FERRY_E* code, the byte
 * offset where the problem was found, and a reason in words.
 */
#ifndef FERRY_CBOR_H
#define FERRY_CBOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- errors */

typedef struct ferry_cbor_error {
    int code;         /* FERRY_OK or a negative FERRY_E* code */
    size_t offset;    /* byte offset in the input where the error was found */
    char reason[120]; /* NUL-terminated explanation, e.g. "reserved ..." */
} ferry_cbor_error;

/* ---------------------------------------------------------------- limits */

#define FERRY_CBOR_MAX_DEPTH 1024u /* hard ceiling of nesting depth */

typedef struct ferry_cbor_limits {
    uint32_t max_depth; /* nesting depth, 1..FERRY_CBOR_MAX_DEPTH */
    uint64_t max_items; /* data items in one top-level item (chunks count) */
    uint64_t max_len;   /* bytes in one byte or text string (total) */
} ferry_cbor_limits;

/* The defaults: depth 1024, 16 Mi items, 256 MiB per string. */
extern const ferry_cbor_limits ferry_cbor_default_limits;

/* ---------------------------------------------------------------- encoder */

/*
 * An output buffer. A growable buffer (ferry_cbor_buf_init) owns its memory
 * and must be released with ferry_cbor_buf_free. A fixed buffer
 * (ferry_cbor_buf_init_fixed) writes into caller memory and never allocates.
 *
 * Errors are sticky: after the first failure (FERRY_ENOMEM, FERRY_ENOSPC,
 * FERRY_EINVAL) every later put is a no-op returning the same code, so a
 * sequence of puts needs one check at the end (buf.err).
 */
typedef struct ferry_cbor_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
    int err;    /* first error, or FERRY_OK */
    bool fixed; /* true: caller memory, no growth */
} ferry_cbor_buf;

void ferry_cbor_buf_init(ferry_cbor_buf *b);
void ferry_cbor_buf_init_fixed(ferry_cbor_buf *b, void *mem, size_t cap);
/* Releases a growable buffer's memory; no-op for fixed ones. Re-inits b. */
void ferry_cbor_buf_free(ferry_cbor_buf *b);
/* Makes room for n more bytes; returns FERRY_OK or the sticky error. */
int ferry_cbor_buf_reserve(ferry_cbor_buf *b, size_t n);
/* Appends raw bytes (not a CBOR item by itself). */
int ferry_cbor_buf_append(ferry_cbor_buf *b, const void *p, size_t n);

int ferry_cbor_put_uint(ferry_cbor_buf *b, uint64_t v);
/* Major type 1 with argument n: the value is -1 - n (full 64-bit range). */
int ferry_cbor_put_negint(ferry_cbor_buf *b, uint64_t n);
int ferry_cbor_put_int(ferry_cbor_buf *b, int64_t v);
int ferry_cbor_put_bytes(ferry_cbor_buf *b, const void *p, size_t n);
/* Text must be valid UTF-8; the encoder does not re-check it. */
int ferry_cbor_put_text(ferry_cbor_buf *b, const char *s, size_t n);
int ferry_cbor_put_cstr(ferry_cbor_buf *b, const char *s);
int ferry_cbor_put_array(ferry_cbor_buf *b, uint64_t count);
int ferry_cbor_put_map(ferry_cbor_buf *b, uint64_t pairs);
int ferry_cbor_put_tag(ferry_cbor_buf *b, uint64_t tag);
/* Simple values 0..19 and 32..255 (20..23 are the bool/null/undefined
 * helpers below; 24..31 are not simple values and give FERRY_EINVAL). */
int ferry_cbor_put_simple(ferry_cbor_buf *b, uint8_t v);
int ferry_cbor_put_bool(ferry_cbor_buf *b, bool v);
int ferry_cbor_put_null(ferry_cbor_buf *b);
int ferry_cbor_put_undefined(ferry_cbor_buf *b);
/* Shortest exact float: half, single or double; NaN payloads are kept when
 * they fit the narrower width, so the canonical NaN is f97e00. */
int ferry_cbor_put_float(ferry_cbor_buf *b, double v);
/* Writes only a head (major type 0..7, argument) in its shortest form. */
int ferry_cbor_put_head(ferry_cbor_buf *b, unsigned major, uint64_t arg);
/* Size in bytes of the shortest head for an argument (1, 2, 3, 5 or 9). */
size_t ferry_cbor_head_size(uint64_t arg);

/* ---------------------------------------------------------------- reader */

typedef enum ferry_cbor_type {
    FERRY_CBOR_UINT,   /* u = value */
    FERRY_CBOR_NEGINT, /* u = n, the value is -1 - n */
    FERRY_CBOR_BYTES,  /* definite: u = length, data = bytes; indefinite:
                          a start event, then chunks, then FERRY_CBOR_END */
    FERRY_CBOR_TEXT,   /* as BYTES; data is valid UTF-8 */
    FERRY_CBOR_ARRAY,  /* u = count (definite); items then FERRY_CBOR_END */
    FERRY_CBOR_MAP,    /* u = pairs (definite); 2u items then END */
    FERRY_CBOR_TAG,    /* u = tag number; one item then FERRY_CBOR_END */
    FERRY_CBOR_SIMPLE, /* u = simple value (false=20, true=21, null=22,
                          undefined=23) */
    FERRY_CBOR_FLOAT,  /* f = value, width = 2, 4 or 8 bytes */
    FERRY_CBOR_END     /* closes the container opened at the same depth;
                          container = its type, indefinite as it was */
} ferry_cbor_type;

typedef struct ferry_cbor_item {
    ferry_cbor_type type;
    ferry_cbor_type container; /* for FERRY_CBOR_END: what it closes */
    bool indefinite;           /* container or string of indefinite length */
    uint8_t width;             /* FLOAT: 2, 4 or 8 */
    uint32_t depth;            /* 0 for the top-level item */
    uint64_t u;                /* see ferry_cbor_type */
    double f;                  /* FLOAT value */
    const uint8_t *data;       /* BYTES/TEXT payload, borrowed from input */
    size_t offset;             /* byte offset of the item's head */
} ferry_cbor_item;

typedef struct fy_cbor_frame {
    uint64_t left; /* definite: items still expected; indefinite string:
                      bytes so far */
    size_t start;  /* offset of the container's head */
    uint8_t type;  /* ferry_cbor_type of the container */
    uint8_t indef; /* 1 for indefinite length */
} fy_cbor_frame;

/*
 * The reader's state. It borrows the input (which must outlive it) and holds
 * its own container stack, so it never allocates; about 24 KiB, fine on a
 * stack. Fields are private.
 */
typedef struct ferry_cbor_reader {
    const uint8_t *buf;
    size_t len;
    size_t pos;
    ferry_cbor_limits lim;
    uint64_t items;
    uint32_t depth;
    int state; /* 0 = before the item, 1 = inside, 2 = done, <0 = error */
    ferry_cbor_error err;
    fy_cbor_frame stack[FERRY_CBOR_MAX_DEPTH];
} ferry_cbor_reader;

/* Prepares r to read exactly one item from buf[0..len). lim may be NULL for
 * the defaults; out-of-range limits give FERRY_EINVAL. */
int ferry_cbor_reader_init(ferry_cbor_reader *r, const void *buf, size_t len,
                           const ferry_cbor_limits *lim);

/*
 * Reads the next event into *it. Returns 1 when an event was produced, 0
 * once the top-level item is complete and every input byte was used, or a
 * negative FERRY_E* code (details in ferry_cbor_reader_error). After 0 or an
 * error, further calls return the same result.
 */
int ferry_cbor_read(ferry_cbor_reader *r, ferry_cbor_item *it);

/* Skips the rest of the container that *it opened (ARRAY, MAP, TAG or an
 * indefinite string), including its END; no-op for other events. Returns
 * FERRY_OK or a negative code. */
int ferry_cbor_skip(ferry_cbor_reader *r, const ferry_cbor_item *it);

/* The last error of r (code FERRY_OK when none). */
const ferry_cbor_error *ferry_cbor_reader_error(const ferry_cbor_reader *r);

/* ---------------------------------------------------------------- whole items
 */

/* Checks that buf holds exactly one valid item. err may be NULL. */
int ferry_cbor_check(const void *buf, size_t len, const ferry_cbor_limits *lim,
                     ferry_cbor_error *err);

/* Appends RFC 8949 section 8 diagnostic notation of the item to out (not
 * NUL-terminated; out->len is the text length). */
int ferry_cbor_diag(const void *buf, size_t len, const ferry_cbor_limits *lim,
                    ferry_cbor_buf *out, ferry_cbor_error *err);

/* Appends the item re-encoded in preferred serialization to out: indefinite
 * lengths become definite, heads and floats shortest. */
int ferry_cbor_recode(const void *buf, size_t len, const ferry_cbor_limits *lim,
                      ferry_cbor_buf *out, ferry_cbor_error *err);

/* Half-precision helpers (IEEE 754 binary16 bits). */
double ferry_cbor_half_to_double(uint16_t h);

#ifdef __cplusplus
}
#endif
#endif /* FERRY_CBOR_H */
