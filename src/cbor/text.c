/*
 * text.c - whole-item operations built on the reader: diagnostic
 * notation (RFC 8949 section 8) and re-encoding in preferred serialization.
 *
 * Both walk the reader's event stream with their own explicit stacks, so
 * they share the reader's guarantee: no recursion, depth bounded by limits.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbor_internal.h"
#include "ferry/cbor.h"

static int fy_puts(ferry_cbor_buf *out, const char *s) {
    return ferry_cbor_buf_append(out, s, strlen(s));
}

/* True if the decimal d[0].d[1..n) x 10^exp reads back as exactly v. */
static bool fy_digits_match(const char *d, size_t n, int exp, double v) {
    char s[48];
    size_t o = 0;
    s[o++] = d[0];
    s[o++] = '.';
    for (size_t i = 1; i < n; i++)
        s[o++] = d[i];
    snprintf(s + o, sizeof s - o, "e%d", exp);
    return strtod(s, NULL) == v;
}

/* Moves the digits one unit up or down in the last place and keeps the
 * result if it reads back as v; otherwise restores the digits. */
static bool fy_digits_step(char *d, size_t n, int *exp, int dir, double v) {
    char save[24];
    memcpy(save, d, n);
    int e = *exp;
    size_t i = n;
    if (dir > 0) {
        while (i > 0 && d[i - 1] == '9')
            d[--i] = '0';
        if (i == 0) { /* 9.99 -> 10.0: renormalise as 1.00 x 10^(e+1) */
            d[0] = '1';
            e++;
        } else
            d[i - 1]++;
    } else {
        while (i > 0 && d[i - 1] == '0')
            d[--i] = '9';
        if (i == 0 || (i == 1 && d[0] == '1')) {
            memcpy(d, save, n); /* would lose a digit: not a candidate */
            return false;
        }
        d[i - 1]--;
    }
    if (fy_digits_match(d, n, e, v)) {
        *exp = e;
        return true;
    }
    memcpy(d, save, n);
    return false;
}

/* Shortest decimal that reads back as exactly v, written like Python's
 * repr (which RFC 8949 Appendix A follows): "1.5", "100000.0", "1.0e+300",
 * "5.960464477539063e-8". */
void fy_format_double(double v, char *out, size_t cap) {
    if (isnan(v)) {
        snprintf(out, cap, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(out, cap, v < 0 ? "-Infinity" : "Infinity");
        return;
    }
    /* printf rounds correctly to p digits, but the shortest string that
     * reads back as v may be the neighbour one unit away in the last digit
     * (near powers of two the round-trip interval is lopsided), so each
     * length tries the rounded digits and both neighbours. */
    char digits[24];
    size_t nd = 0;
    int exp = 0;
    bool neg = signbit(v) != 0;
    for (int prec = 0; prec < 17; prec++) {
        char tmp[40];
        snprintf(tmp, sizeof tmp, "%.*e", prec, fabs(v));
        nd = 0;
        for (const char *p = tmp; *p && *p != 'e'; p++)
            if (*p != '.')
                digits[nd++] = *p;
        exp = atoi(strchr(tmp, 'e') + 1);
        if (fy_digits_match(digits, nd, exp, fabs(v)))
            break;
        if (fy_digits_step(digits, nd, &exp, +1, fabs(v)))
            break;
        if (fy_digits_step(digits, nd, &exp, -1, fabs(v)))
            break;
    }
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = '\0';
    char *o = out;
    char *end = out + cap - 1;
#define FY_OUT(c)                                                              \
    do {                                                                       \
        if (o < end)                                                           \
            *o++ = (c);                                                        \
    } while (0)
    if (neg)
        FY_OUT('-');
    if (exp < -4 || exp >= 16) {
        FY_OUT(digits[0]);
        FY_OUT('.');
        if (nd == 1)
            FY_OUT('0');
        for (size_t i = 1; i < nd; i++)
            FY_OUT(digits[i]);
        o += snprintf(o, (size_t)(end - o) + 1, "e%c%d", exp < 0 ? '-' : '+',
                      exp < 0 ? -exp : exp);
        if (o > end)
            o = end;
    } else if (exp >= 0) {
        for (int i = 0; i <= exp; i++)
            FY_OUT((size_t)i < nd ? digits[i] : '0');
        FY_OUT('.');
        if (nd <= (size_t)exp + 1)
            FY_OUT('0');
        for (size_t i = (size_t)exp + 1; i < nd; i++)
            FY_OUT(digits[i]);
    } else {
        FY_OUT('0');
        FY_OUT('.');
        for (int i = 0; i < -exp - 1; i++)
            FY_OUT('0');
        for (size_t i = 0; i < nd; i++)
            FY_OUT(digits[i]);
    }
#undef FY_OUT
    *o = '\0';
}

static int fy_diag_text(ferry_cbor_buf *out, const uint8_t *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    ferry_cbor_buf_append(out, "\"", 1);
    size_t run = 0; /* bytes copied verbatim are appended in runs */
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
            continue;
        ferry_cbor_buf_append(out, s + run, i - run);
        run = i + 1;
        char esc[7] = {'\\', 0};
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
        }
        fy_puts(out, esc);
    }
    ferry_cbor_buf_append(out, s + run, n - run);
    return ferry_cbor_buf_append(out, "\"", 1);
}

static int fy_diag_bytes(ferry_cbor_buf *out, const uint8_t *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    if (fy_puts(out, "h'") || ferry_cbor_buf_reserve(out, 2 * n + 1))
        return out->err;
    uint8_t *o = out->data + out->len;
    for (size_t i = 0; i < n; i++) {
        *o++ = (uint8_t)hex[s[i] >> 4];
        *o++ = (uint8_t)hex[s[i] & 15];
    }
    out->len += 2 * n;
    return fy_puts(out, "'");
}

/* Per-depth state of the diag writer: which container, how many of its
 * items were written (for separators), and whether it is indefinite. */
typedef struct fy_diag_frame {
    uint64_t n;
    uint8_t type;
    uint8_t indef;
} fy_diag_frame;

static int fy_finish(ferry_cbor_reader *r, int rc, ferry_cbor_buf *out,
                     size_t start, ferry_cbor_error *err) {
    if (rc == 0 && out->err)
        rc = fy_cbor_fail(&r->err, out->err, r->pos,
                          "cannot write the output: %s",
                          ferry_strerror(out->err));
    if (rc < 0 && out->len > start)
        out->len = start; /* nothing partial is left behind */
    if (err)
        *err = r->err;
    return rc;
}

int ferry_cbor_diag(const void *buf, size_t len, const ferry_cbor_limits *lim,
                    ferry_cbor_buf *out, ferry_cbor_error *err) {
    ferry_cbor_reader r;
    ferry_cbor_item it;
    const size_t start = out->len;
    fy_diag_frame *st = malloc(sizeof *st * (FERRY_CBOR_MAX_DEPTH + 1));
    int rc = ferry_cbor_reader_init(&r, buf, len, lim);
    if (!st && rc == FERRY_OK)
        rc = fy_cbor_fail(&r.err, FERRY_ENOMEM, 0, "out of memory");
    while (rc == FERRY_OK || rc == 1) {
        rc = ferry_cbor_read(&r, &it);
        if (rc != 1 || out->err)
            break;
        char num[48];
        if (it.type == FERRY_CBOR_END) {
            fy_diag_frame *f = &st[it.depth];
            switch (f->type) {
            case FERRY_CBOR_ARRAY: fy_puts(out, "]"); break;
            case FERRY_CBOR_MAP: fy_puts(out, "}"); break;
            case FERRY_CBOR_TAG: fy_puts(out, ")"); break;
            default: /* indefinite string; RFC 8949 8.1: ''_ if empty */
                if (f->n)
                    fy_puts(out, ")");
                else
                    fy_puts(out, f->type == FERRY_CBOR_BYTES ? "''_" : "\"\"_");
            }
            continue;
        }
        if (it.depth > 0) {
            fy_diag_frame *p = &st[it.depth - 1];
            if (p->type == FERRY_CBOR_MAP && (p->n & 1))
                fy_puts(out, ": ");
            else if ((p->type == FERRY_CBOR_BYTES ||
                      p->type == FERRY_CBOR_TEXT) &&
                     p->n == 0)
                fy_puts(out, "(_ ");
            else if (p->n && p->type != FERRY_CBOR_TAG)
                fy_puts(out, ", ");
            p->n++;
        }
        bool opens = true;
        switch (it.type) {
        case FERRY_CBOR_UINT:
            snprintf(num, sizeof num, "%" PRIu64, it.u);
            fy_puts(out, num);
            opens = false;
            break;
        case FERRY_CBOR_NEGINT:
            if (it.u == UINT64_MAX)
                fy_puts(out, "-18446744073709551616");
            else {
                snprintf(num, sizeof num, "-%" PRIu64, it.u + 1);
                fy_puts(out, num);
            }
            opens = false;
            break;
        case FERRY_CBOR_BYTES:
        case FERRY_CBOR_TEXT:
            if (it.indefinite)
                break; /* "(_ " waits for the first chunk, see above */
            if (it.type == FERRY_CBOR_BYTES)
                fy_diag_bytes(out, it.data, (size_t)it.u);
            else
                fy_diag_text(out, it.data, (size_t)it.u);
            opens = false;
            break;
        case FERRY_CBOR_ARRAY: fy_puts(out, it.indefinite ? "[_ " : "["); break;
        case FERRY_CBOR_MAP: fy_puts(out, it.indefinite ? "{_ " : "{"); break;
        case FERRY_CBOR_TAG:
            snprintf(num, sizeof num, "%" PRIu64 "(", it.u);
            fy_puts(out, num);
            break;
        case FERRY_CBOR_SIMPLE:
            switch (it.u) {
            case 20: fy_puts(out, "false"); break;
            case 21: fy_puts(out, "true"); break;
            case 22: fy_puts(out, "null"); break;
            case 23: fy_puts(out, "undefined"); break;
            default:
                snprintf(num, sizeof num, "simple(%u)", (unsigned)it.u);
                fy_puts(out, num);
            }
            opens = false;
            break;
        case FERRY_CBOR_FLOAT:
            fy_format_double(it.f, num, sizeof num);
            fy_puts(out, num);
            opens = false;
            break;
        case FERRY_CBOR_END: break;
        }
        if (opens) {
            st[it.depth].type = (uint8_t)it.type;
            st[it.depth].indef = it.indefinite;
            st[it.depth].n = 0;
        }
    }
    free(st);
    return fy_finish(&r, rc, out, start, err);
}

/* Per-depth state of recode: where an indefinite container's contents
 * start in the output and how many items (or string bytes) it holds, so
 * its definite head can be inserted in front once the break is seen. */
typedef struct fy_recode_frame {
    size_t pos;
    uint64_t n;
    uint8_t type;
    uint8_t indef;
} fy_recode_frame;

/* Inserts the shortest head for (major, arg) at out->data[pos]. */
static int fy_insert_head(ferry_cbor_buf *out, size_t pos, unsigned major,
                          uint64_t arg) {
    uint8_t head[9];
    ferry_cbor_buf tmp;
    ferry_cbor_buf_init_fixed(&tmp, head, sizeof head);
    ferry_cbor_put_head(&tmp, major, arg);
    if (ferry_cbor_buf_reserve(out, tmp.len))
        return out->err;
    memmove(out->data + pos + tmp.len, out->data + pos, out->len - pos);
    memcpy(out->data + pos, head, tmp.len);
    out->len += tmp.len;
    return FERRY_OK;
}

int ferry_cbor_recode(const void *buf, size_t len, const ferry_cbor_limits *lim,
                      ferry_cbor_buf *out, ferry_cbor_error *err) {
    ferry_cbor_reader r;
    ferry_cbor_item it;
    const size_t start = out->len;
    fy_recode_frame *st = malloc(sizeof *st * (FERRY_CBOR_MAX_DEPTH + 1));
    int rc = ferry_cbor_reader_init(&r, buf, len, lim);
    if (!st && rc == FERRY_OK)
        rc = fy_cbor_fail(&r.err, FERRY_ENOMEM, 0, "out of memory");
    while (rc == FERRY_OK || rc == 1) {
        rc = ferry_cbor_read(&r, &it);
        if (rc != 1 || out->err)
            break;
        fy_recode_frame *parent = it.depth ? &st[it.depth - 1] : NULL;
        if (it.type == FERRY_CBOR_END) {
            fy_recode_frame *f = &st[it.depth];
            if (f->indef) {
                unsigned major = fy_cbor_type_major(f->type);
                uint64_t arg = f->type == FERRY_CBOR_MAP ? f->n / 2 : f->n;
                fy_insert_head(out, f->pos, major, arg);
            }
            if (parent)
                parent->n++;
            continue;
        }
        bool in_indef_string = parent && parent->indef &&
                               (parent->type == FERRY_CBOR_BYTES ||
                                parent->type == FERRY_CBOR_TEXT);
        if (in_indef_string) {
            /* Chunks are concatenated; the head comes at the break. */
            ferry_cbor_buf_append(out, it.data, (size_t)it.u);
            parent->n += it.u;
            continue;
        }
        bool opens = false;
        switch (it.type) {
        case FERRY_CBOR_UINT: ferry_cbor_put_uint(out, it.u); break;
        case FERRY_CBOR_NEGINT: ferry_cbor_put_negint(out, it.u); break;
        case FERRY_CBOR_BYTES:
        case FERRY_CBOR_TEXT:
            if (it.indefinite)
                opens = true;
            else if (it.type == FERRY_CBOR_BYTES)
                ferry_cbor_put_bytes(out, it.data, (size_t)it.u);
            else
                ferry_cbor_put_text(out, (const char *)it.data, (size_t)it.u);
            break;
        case FERRY_CBOR_ARRAY:
        case FERRY_CBOR_MAP:
            if (!it.indefinite)
                ferry_cbor_put_head(out, fy_cbor_type_major(it.type), it.u);
            opens = true;
            break;
        case FERRY_CBOR_TAG:
            ferry_cbor_put_tag(out, it.u);
            opens = true;
            break;
        case FERRY_CBOR_SIMPLE: ferry_cbor_put_head(out, 7, it.u); break;
        case FERRY_CBOR_FLOAT: ferry_cbor_put_float(out, it.f); break;
        case FERRY_CBOR_END: break;
        }
        if (opens) {
            st[it.depth].type = (uint8_t)it.type;
            st[it.depth].indef = it.indefinite;
            st[it.depth].pos = out->len;
            st[it.depth].n = 0;
        } else if (parent) {
            parent->n++;
        }
    }
    free(st);
    return fy_finish(&r, rc, out, start, err);
}
