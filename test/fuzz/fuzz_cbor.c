/*
 * fuzz_cbor.c - libFuzzer target for ferry's CBOR reader, diag and recode.
 *
 * For every input the target checks properties that must hold whatever the
 * bytes are, and traps on the first one that does not:
 *
 *   - check, diag and recode agree: all succeed, or all fail with the same
 *     code and offset; a full read with the default limits ends the same way.
 *   - on valid input, recode's output is valid, recoding it again is the
 *     identity, its diag equals the diag of the second recode (and of the
 *     input when that has no indefinite lengths), and it holds
 *     the same data model as the input (event streams compared with
 *     indefinite lengths and string chunks folded away, floats bit for bit,
 *     never wider than in the input).
 *   - a read with tight limits produces a well-nested event stream whose
 *     depths, lengths and payload pointers stay inside limits and input,
 *     ends in 0 or an error that then sticks, agrees with ferry_cbor_check
 *     under the same limits, and ends like the default read unless it
 *     fails with FERRY_ELIMIT.
 *   - skipping every container at depth 1 ends like the check does.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined (see meson.build).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/cbor.h"

/* Prints what broke before trapping, so a crash report says which property
 * failed without a debugger. */
#define FY_REQUIRE(cond)                                                       \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "fuzz_cbor: property violated at %s:%d: %s\n",     \
                    __FILE__, __LINE__, #cond);                                \
            __builtin_trap();                                                  \
        }                                                                      \
    } while (0)

/* Readers are ~24 KiB each; static keeps them off the fuzzer's stack. The
 * target is single-threaded, as libFuzzer runs it. */
static ferry_cbor_reader fy_ra, fy_rb;

static const ferry_cbor_limits fy_tight = {
    .max_depth = 8, .max_items = 64, .max_len = 32};

static bool fy_same_bytes(const ferry_cbor_buf *a, const ferry_cbor_buf *b) {
    return a->len == b->len &&
           (a->len == 0 || !memcmp(a->data, b->data, a->len));
}

/* Set by fy_walk: the input used an indefinite length somewhere. */
static bool fy_saw_indef;

static bool fy_is_container(const ferry_cbor_item *it) {
    return it->type == FERRY_CBOR_ARRAY || it->type == FERRY_CBOR_MAP ||
           it->type == FERRY_CBOR_TAG ||
           ((it->type == FERRY_CBOR_BYTES || it->type == FERRY_CBOR_TEXT) &&
            it->indefinite);
}

/*
 * Reads r to the end, checking the invariants of the event stream itself.
 * Returns the final result (0 or a negative code).
 */
static int fy_walk(ferry_cbor_reader *r, const uint8_t *data, size_t size,
                   const ferry_cbor_limits *lim) {
    /* Opener type per open container; depth is bounded by lim->max_depth. */
    static uint8_t open[FERRY_CBOR_MAX_DEPTH + 1];
    uint32_t nest = 0;
    uint64_t events = 0;
    ferry_cbor_item it;
    int rc;
    fy_saw_indef = false;
    while ((rc = ferry_cbor_read(r, &it)) == 1) {
        fy_saw_indef |= it.indefinite;
        /* Each event consumes at least one input byte, except END events of
         * definite containers and tags, which close at most one opener. */
        events++;
        FY_REQUIRE(events <= 2 * (uint64_t)size + 2);
        if (it.type == FERRY_CBOR_END) {
            FY_REQUIRE(nest > 0);
            nest--;
            FY_REQUIRE(it.depth == nest);
            FY_REQUIRE(it.container == open[nest]);
            continue;
        }
        FY_REQUIRE(it.type <= FERRY_CBOR_FLOAT);
        FY_REQUIRE(it.depth == nest);
        /* max_depth bounds open containers, so leaves may sit one deeper. */
        FY_REQUIRE(it.depth <= lim->max_depth);
        FY_REQUIRE(it.offset < size);
        switch (it.type) {
        case FERRY_CBOR_BYTES:
        case FERRY_CBOR_TEXT:
            if (!it.indefinite) {
                FY_REQUIRE(it.u <= lim->max_len);
                FY_REQUIRE(it.u <= size);
                FY_REQUIRE(it.u == 0 ||
                           (it.data >= data && it.data + it.u <= data + size &&
                            it.data > data + it.offset));
            }
            break;
        case FERRY_CBOR_SIMPLE:
            /* 24..31 are not simple values; 20..23 need the short head. */
            FY_REQUIRE(it.u <= 255 && (it.u < 24 || it.u > 31));
            break;
        case FERRY_CBOR_FLOAT:
            FY_REQUIRE(it.width == 2 || it.width == 4 || it.width == 8);
            break;
        case FERRY_CBOR_ARRAY:
        case FERRY_CBOR_MAP:
            /* A definite count can never exceed the bytes left. */
            FY_REQUIRE(it.indefinite || it.u <= size);
            break;
        default: break;
        }
        if (fy_is_container(&it)) {
            FY_REQUIRE(nest < lim->max_depth);
            open[nest++] = (uint8_t)it.type;
        }
    }
    FY_REQUIRE(rc <= 0);
    if (rc == 0)
        FY_REQUIRE(nest == 0);
    /* After the end or an error the reader must stay where it is. */
    FY_REQUIRE(ferry_cbor_read(r, &it) == rc);
    FY_REQUIRE(ferry_cbor_read(r, &it) == rc);
    FY_REQUIRE(ferry_cbor_reader_error(r)->code == rc);
    return rc;
}

/* Reads one event of b, which must be the definite string that the
 * indefinite string just opened in a folds into. */
static void fy_fold_string(const ferry_cbor_item *ea, ferry_cbor_item *eb,
                           uint8_t *scratch, size_t cap) {
    size_t len = 0;
    ferry_cbor_item c;
    for (;;) {
        FY_REQUIRE(ferry_cbor_read(&fy_ra, &c) == 1);
        if (c.type == FERRY_CBOR_END)
            break;
        FY_REQUIRE(c.type == ea->type && !c.indefinite);
        FY_REQUIRE(c.u <= cap - len);
        if (c.u)
            memcpy(scratch + len, c.data, (size_t)c.u);
        len += (size_t)c.u;
    }
    FY_REQUIRE(c.depth == ea->depth && c.container == ea->type && c.indefinite);
    FY_REQUIRE(eb->type == ea->type && !eb->indefinite && eb->u == len);
    FY_REQUIRE(len == 0 || !memcmp(eb->data, scratch, len));
}

/*
 * Walks input a and its recoding b side by side: the same data model, with
 * indefinite containers in a closed where b's definite ones close, and a's
 * chunked strings equal to b's single strings.
 */
static void fy_same_model(const uint8_t *a, size_t na, const uint8_t *b,
                          size_t nb) {
    uint8_t *scratch = malloc(na ? na : 1);
    FY_REQUIRE(scratch != NULL);
    FY_REQUIRE(ferry_cbor_reader_init(&fy_ra, a, na, NULL) == FERRY_OK);
    FY_REQUIRE(ferry_cbor_reader_init(&fy_rb, b, nb, NULL) == FERRY_OK);
    ferry_cbor_item ea, eb;
    int rc;
    while ((rc = ferry_cbor_read(&fy_ra, &ea)) == 1) {
        FY_REQUIRE(ferry_cbor_read(&fy_rb, &eb) == 1);
        FY_REQUIRE(eb.depth == ea.depth);
        if ((ea.type == FERRY_CBOR_BYTES || ea.type == FERRY_CBOR_TEXT) &&
            ea.indefinite) {
            fy_fold_string(&ea, &eb, scratch, na);
            continue;
        }
        FY_REQUIRE(eb.type == ea.type);
        FY_REQUIRE(!eb.indefinite);
        switch (ea.type) {
        case FERRY_CBOR_UINT:
        case FERRY_CBOR_NEGINT:
        case FERRY_CBOR_TAG:
        case FERRY_CBOR_SIMPLE: FY_REQUIRE(eb.u == ea.u); break;
        case FERRY_CBOR_BYTES:
        case FERRY_CBOR_TEXT:
            FY_REQUIRE(eb.u == ea.u);
            FY_REQUIRE(ea.u == 0 || !memcmp(eb.data, ea.data, (size_t)ea.u));
            break;
        case FERRY_CBOR_ARRAY:
        case FERRY_CBOR_MAP:
            /* An indefinite count is only known at its END, which must line
             * up with b's END below. */
            FY_REQUIRE(ea.indefinite || eb.u == ea.u);
            break;
        case FERRY_CBOR_FLOAT: {
            uint64_t fa, fb;
            memcpy(&fa, &ea.f, sizeof fa);
            memcpy(&fb, &eb.f, sizeof fb);
            FY_REQUIRE(fa == fb); /* NaN payloads and -0.0 included */
            FY_REQUIRE(eb.width <= ea.width);
            break;
        }
        case FERRY_CBOR_END: FY_REQUIRE(eb.container == ea.container); break;
        }
    }
    FY_REQUIRE(rc == 0);
    FY_REQUIRE(ferry_cbor_read(&fy_rb, &eb) == 0);
    free(scratch);
}

/* Reads to the end, skipping every container opened at depth 1. */
static int fy_walk_skipping(const uint8_t *data, size_t size) {
    FY_REQUIRE(ferry_cbor_reader_init(&fy_ra, data, size, NULL) == FERRY_OK);
    ferry_cbor_item it;
    int rc;
    while ((rc = ferry_cbor_read(&fy_ra, &it)) == 1) {
        if (it.depth == 1 && fy_is_container(&it)) {
            int s = ferry_cbor_skip(&fy_ra, &it);
            FY_REQUIRE(s <= 0);
            if (s < 0) {
                FY_REQUIRE(ferry_cbor_read(&fy_ra, &it) == s);
                return s;
            }
        }
    }
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ferry_cbor_error err, e2;
    int rc = ferry_cbor_check(data, size, NULL, &err);
    FY_REQUIRE(rc <= 0);
    FY_REQUIRE(err.code == rc);
    if (rc != FERRY_OK)
        FY_REQUIRE(err.offset <= size && err.reason[0] != '\0');

    /* A plain read with the defaults ends exactly like the check. */
    FY_REQUIRE(ferry_cbor_reader_init(&fy_rb, data, size, NULL) == FERRY_OK);
    int wrc = fy_walk(&fy_rb, data, size, &ferry_cbor_default_limits);
    FY_REQUIRE(wrc == rc);
    bool indef = fy_saw_indef;
    if (rc != FERRY_OK)
        FY_REQUIRE(ferry_cbor_reader_error(&fy_rb)->offset == err.offset);

    ferry_cbor_buf diag, rec;
    ferry_cbor_buf_init(&diag);
    ferry_cbor_buf_init(&rec);
    int drc = ferry_cbor_diag(data, size, NULL, &diag, &e2);
    FY_REQUIRE(drc == rc);
    if (rc != FERRY_OK)
        FY_REQUIRE(e2.code == rc && e2.offset == err.offset);
    int rrc = ferry_cbor_recode(data, size, NULL, &rec, &e2);
    FY_REQUIRE(rrc == rc);
    if (rc != FERRY_OK)
        FY_REQUIRE(e2.code == rc && e2.offset == err.offset);

    if (rc == FERRY_OK) {
        FY_REQUIRE(diag.len > 0);
        FY_REQUIRE(ferry_cbor_check(rec.data, rec.len, NULL, NULL) == FERRY_OK);

        ferry_cbor_buf rec2, diag1, diag2;
        ferry_cbor_buf_init(&rec2);
        ferry_cbor_buf_init(&diag1);
        ferry_cbor_buf_init(&diag2);
        FY_REQUIRE(ferry_cbor_recode(rec.data, rec.len, NULL, &rec2, NULL) ==
                   FERRY_OK);
        FY_REQUIRE(fy_same_bytes(&rec, &rec2));
        /* diag(x) itself may differ from diag(recode(x)) only by "_ "
         * markers and chunking, so the recoded forms are compared. */
        FY_REQUIRE(ferry_cbor_diag(rec.data, rec.len, NULL, &diag1, NULL) ==
                   FERRY_OK);
        FY_REQUIRE(ferry_cbor_diag(rec2.data, rec2.len, NULL, &diag2, NULL) ==
                   FERRY_OK);
        FY_REQUIRE(fy_same_bytes(&diag1, &diag2));
        /* Without indefinite lengths nothing else may differ: diag shows
         * values, not head widths. */
        if (!indef)
            FY_REQUIRE(fy_same_bytes(&diag, &diag1));
        fy_same_model(data, size, rec.data, rec.len);
        ferry_cbor_buf_free(&rec2);
        ferry_cbor_buf_free(&diag1);
        ferry_cbor_buf_free(&diag2);
    }
    ferry_cbor_buf_free(&diag);
    ferry_cbor_buf_free(&rec);

    /* Tight limits: the stream stays well-formed and inside the limits. */
    FY_REQUIRE(ferry_cbor_reader_init(&fy_rb, data, size, &fy_tight) ==
               FERRY_OK);
    int trc = fy_walk(&fy_rb, data, size, &fy_tight);
    FY_REQUIRE(ferry_cbor_check(data, size, &fy_tight, NULL) == trc);
    /* Until a limit triggers, the tight read is the default read: so it
     * fails with ELIMIT, or exactly as the default read does. */
    if (trc != FERRY_ELIMIT) {
        FY_REQUIRE(trc == rc);
        if (rc != FERRY_OK)
            FY_REQUIRE(ferry_cbor_reader_error(&fy_rb)->offset == err.offset);
    }

    /* ferry_cbor_skip must not change how the input ends. */
    int src = fy_walk_skipping(data, size);
    FY_REQUIRE(src == rc);
    if (rc != FERRY_OK)
        FY_REQUIRE(ferry_cbor_reader_error(&fy_ra)->offset == err.offset);
    return 0;
}
