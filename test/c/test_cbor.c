/*
 * test_cbor.c - the CBOR codec against RFC 8949: Appendix A examples,
 * Appendix F malformed inputs, every truncation, limits and the encoder's
 * preferred serialization. Runs natively with sanitizers and as wasm.
 */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ferry.h"
#include "harness.h"
#include "vectors.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void tohex(const uint8_t *p, size_t n, char *out) {
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
    out[2 * n] = '\0';
}

/* Encoder output as hex, for comparing against literal expectations. */
static const char *enc_hex(ferry_cbor_buf *b) {
    static char hex[256];
    if (b->len > 100)
        return "(too long)";
    tohex(b->data, b->len, hex);
    return hex;
}

static void test_error_table(void) {
    CHECK(strcmp(ferry_strerror(FERRY_OK), "success") == 0, "OK string");
    CHECK(strcmp(ferry_errname(FERRY_ETRUNCATED), "ETRUNCATED") == 0, "name");
    CHECK(strcmp(ferry_strerror(-999), "unknown error") == 0, "unknown");
    CHECK(strcmp(ferry_errname(12345), "EUNKNOWN") == 0, "unknown name");
    CHECK(FERRY_EDOWN < 0 && FERRY_ETIMEDOUT < 0 && FERRY_EFULL < 0, "neg");
}

static void test_encode_ints(void) {
    static const struct {
        int64_t v;
        const char *hex;
    } cases[] = {
        {0, "00"},
        {23, "17"},
        {24, "1818"},
        {255, "18ff"},
        {256, "190100"},
        {65535, "19ffff"},
        {65536, "1a00010000"},
        {4294967295, "1affffffff"},
        {4294967296, "1b0000000100000000"},
        {INT64_MAX, "1b7fffffffffffffff"},
        {-1, "20"},
        {-24, "37"},
        {-25, "3818"},
        {-256, "38ff"},
        {-257, "390100"},
        {INT64_MIN, "3b7fffffffffffffff"},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        ferry_cbor_buf b;
        ferry_cbor_buf_init(&b);
        CHECK(ferry_cbor_put_int(&b, cases[i].v) == FERRY_OK, "put");
        CHECK(strcmp(enc_hex(&b), cases[i].hex) == 0,
              "%" PRId64 ": got %s want %s", cases[i].v, enc_hex(&b),
              cases[i].hex);
        CHECK(ferry_cbor_head_size(
                  (uint64_t)(cases[i].v < 0 ? ~cases[i].v : cases[i].v)) ==
                  b.len,
              "head size of %" PRId64, cases[i].v);
        ferry_cbor_buf_free(&b);
    }
    ferry_cbor_buf b;
    ferry_cbor_buf_init(&b);
    ferry_cbor_put_uint(&b, UINT64_MAX);
    ferry_cbor_put_negint(&b, UINT64_MAX);
    CHECK(strcmp(enc_hex(&b), "1bffffffffffffffff3bffffffffffffffff") == 0,
          "64-bit extremes: %s", enc_hex(&b));
    ferry_cbor_buf_free(&b);
}

static void test_encode_floats(void) {
    static const struct {
        uint64_t bits;
        const char *hex;
        const char *what;
    } cases[] = {
        {0x0000000000000000ull, "f90000", "0.0"},
        {0x8000000000000000ull, "f98000", "-0.0"},
        {0x3ff0000000000000ull, "f93c00", "1.0"},
        {0x3ff8000000000000ull, "f93e00", "1.5"},
        {0x40effc0000000000ull, "f97bff", "65504, largest half"},
        {0x40effc2000000000ull, "fa477fe100", "65505 needs single"},
        {0x40f86a0000000000ull, "fa47c35000", "100000.0"},
        {0x47efffffe0000000ull, "fa7f7fffff", "FLT_MAX"},
        {0x7e37e43c8800759cull, "fb7e37e43c8800759c", "1e300"},
        {0x3e70000000000000ull, "f90001", "2^-24, smallest half subnormal"},
        {0x3e80000000000000ull, "f90002", "2^-23"},
        {0x3e88000000000000ull, "f90003", "3 * 2^-24"},
        {0x3e60000000000000ull, "fa33000000", "2^-25 needs single"},
        {0x3f10000000000000ull, "f90400", "2^-14, smallest half normal"},
        {0x3810000000000000ull, "fa00800000", "FLT_MIN normal"},
        {0x36a0000000000000ull, "fa00000001", "smallest single subnormal"},
        {0x0000000000000001ull, "fb0000000000000001", "smallest double"},
        {0xc010000000000000ull, "f9c400", "-4.0"},
        {0xc010666666666666ull, "fbc010666666666666", "-4.1"},
        {0x3ff199999999999aull, "fb3ff199999999999a", "1.1"},
        {0x7ff0000000000000ull, "f97c00", "Infinity"},
        {0xfff0000000000000ull, "f9fc00", "-Infinity"},
        {0x7ff8000000000000ull, "f97e00", "canonical NaN"},
        {0xfff8000000000000ull, "f9fe00", "negative NaN"},
        {0x7ff8040000000000ull, "f97e01", "NaN payload fits half"},
        {0x7ff8000020000000ull, "fa7fc00001", "NaN payload fits single"},
        {0x7ff8000000000001ull, "fb7ff8000000000001",
         "NaN payload needs double"},
        {0x7ff0000000000001ull, "fb7ff0000000000001", "signalling NaN kept"},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        double v;
        memcpy(&v, &cases[i].bits, 8);
        ferry_cbor_buf b;
        ferry_cbor_buf_init(&b);
        CHECK(ferry_cbor_put_float(&b, v) == FERRY_OK, "put");
        CHECK(strcmp(enc_hex(&b), cases[i].hex) == 0, "%s: got %s want %s",
              cases[i].what, enc_hex(&b), cases[i].hex);
        /* Reading it back gives the same bits, NaN payloads included. */
        ferry_cbor_reader r;
        ferry_cbor_item it;
        ferry_cbor_reader_init(&r, b.data, b.len, NULL);
        CHECK(ferry_cbor_read(&r, &it) == 1 && it.type == FERRY_CBOR_FLOAT,
              "%s: read back", cases[i].what);
        uint64_t back;
        memcpy(&back, &it.f, 8);
        CHECK(back == cases[i].bits, "%s: bits %016" PRIx64 " back %016" PRIx64,
              cases[i].what, cases[i].bits, back);
        ferry_cbor_buf_free(&b);
    }
}

static void test_encode_misc(void) {
    ferry_cbor_buf b;
    ferry_cbor_buf_init(&b);
    ferry_cbor_put_map(&b, 2);
    ferry_cbor_put_cstr(&b, "a");
    ferry_cbor_put_bytes(&b, "\x01\x02", 2);
    ferry_cbor_put_text(&b, "b", 1);
    ferry_cbor_put_array(&b, 5);
    ferry_cbor_put_tag(&b, 1);
    ferry_cbor_put_uint(&b, 0);
    ferry_cbor_put_bool(&b, true);
    ferry_cbor_put_null(&b);
    ferry_cbor_put_undefined(&b);
    ferry_cbor_put_simple(&b, 255);
    CHECK(b.err == FERRY_OK, "no error");
    CHECK(strcmp(enc_hex(&b), "a2616142010261628"
                              "5c100f5f6f7f8ff") == 0,
          "got %s", enc_hex(&b));
    /* Simple values 24..31 do not exist; the error sticks. */
    CHECK(ferry_cbor_put_simple(&b, 24) == FERRY_EINVAL, "simple 24");
    CHECK(ferry_cbor_put_uint(&b, 1) == FERRY_EINVAL, "sticky");
    CHECK(ferry_cbor_put_head(&b, 8, 1) == FERRY_EINVAL, "major 8");
    ferry_cbor_buf_free(&b);

    uint8_t mem[4];
    ferry_cbor_buf_init_fixed(&b, mem, sizeof mem);
    CHECK(ferry_cbor_put_uint(&b, 1000) == FERRY_OK, "fits");
    CHECK(ferry_cbor_put_uint(&b, 1000) == FERRY_ENOSPC, "fixed is full");
    CHECK(b.len == 3 && b.err == FERRY_ENOSPC, "len %zu", b.len);
    ferry_cbor_buf_free(&b); /* no-op on fixed memory */

    ferry_cbor_buf_init(&b);
    ferry_cbor_put_head(&b, 8, 0);
    CHECK(b.err == FERRY_EINVAL, "major > 7 rejected");
    ferry_cbor_buf_free(&b);
}

/* Checks one input against check, diag and recode expecting an error. */
static void expect_error(const uint8_t *in, size_t n,
                         const ferry_cbor_limits *lim, int code, size_t offset,
                         const char *label) {
    ferry_cbor_error e;
    int rc = ferry_cbor_check(in, n, lim, &e);
    CHECK(rc == code && e.code == code,
          "%s: check gave %s (%s at %zu), want %s", label, ferry_errname(rc),
          e.reason, e.offset, ferry_errname(code));
    CHECK(e.offset == offset, "%s: offset %zu, want %zu (%s)", label, e.offset,
          offset, e.reason);
    CHECK(e.reason[0] != '\0', "%s: reason is empty", label);
    ferry_cbor_buf out;
    ferry_cbor_buf_init(&out);
    ferry_cbor_buf_append(&out, "x", 1);
    ferry_cbor_error e2;
    rc = ferry_cbor_diag(in, n, lim, &out, &e2);
    CHECK(rc == code && e2.offset == offset, "%s: diag gave %s at %zu", label,
          ferry_errname(rc), e2.offset);
    CHECK(out.len == 1, "%s: diag left %zu bytes behind", label, out.len);
    rc = ferry_cbor_recode(in, n, lim, &out, &e2);
    CHECK(rc == code && e2.offset == offset, "%s: recode gave %s at %zu", label,
          ferry_errname(rc), e2.offset);
    CHECK(out.len == 1, "%s: recode left %zu bytes behind", label, out.len);
    ferry_cbor_buf_free(&out);
}

static void test_appendix_a(void) {
    for (size_t i = 0; i < COUNT(fy_appendix_a); i++) {
        const fy_vector *v = &fy_appendix_a[i];
        uint8_t in[64], want[64];
        size_t n = unhex(v->hex, in), wn = unhex(v->recode, want);
        ferry_cbor_error e;
        CHECK(ferry_cbor_check(in, n, NULL, &e) == FERRY_OK, "check %s: %s",
              v->hex, e.reason);

        ferry_cbor_buf out;
        ferry_cbor_buf_init(&out);
        CHECK(ferry_cbor_diag(in, n, NULL, &out, &e) == FERRY_OK, "diag %s",
              v->hex);
        CHECK(out.len == strlen(v->diag) &&
                  memcmp(out.data, v->diag, out.len) == 0,
              "diag %s: got '%.*s' want '%s'", v->hex, (int)out.len,
              (const char *)out.data, v->diag);
        out.len = 0;
        CHECK(ferry_cbor_recode(in, n, NULL, &out, &e) == FERRY_OK, "recode %s",
              v->hex);
        char got[160];
        tohex(out.data, out.len < 70 ? out.len : 70, got);
        CHECK(out.len == wn && memcmp(out.data, want, wn) == 0,
              "recode %s: got %s want %s", v->hex, got, v->recode);
        if (v->preferred)
            CHECK(out.len == n && memcmp(out.data, in, n) == 0,
                  "preferred input %s must recode to itself", v->hex);
        ferry_cbor_buf_free(&out);
    }
}

static void test_malformed(void) {
    for (size_t i = 0; i < COUNT(fy_malformed); i++) {
        const fy_bad *c = &fy_malformed[i];
        uint8_t in[64];
        size_t n = unhex(c->hex, in);
        ferry_cbor_limits lim = ferry_cbor_default_limits;
        if (c->max_depth)
            lim.max_depth = c->max_depth;
        if (c->max_items)
            lim.max_items = c->max_items;
        if (c->max_len)
            lim.max_len = c->max_len;
        char label[200];
        snprintf(label, sizeof label, "%s (%s)", c->hex, c->why);
        expect_error(in, n, &lim, c->code, c->offset, label);
    }
}

/* Offsets where events start and end in a full parse: a truncated input
 * must report either the cut itself or the start of the event whose own
 * bytes the cut splits (or of a container whose count cannot fit). */
static void test_truncations(void) {
    size_t total = 0;
    for (size_t i = 0; i < COUNT(fy_appendix_a); i++) {
        uint8_t in[64];
        size_t n = unhex(fy_appendix_a[i].hex, in);
        size_t starts[64], nstarts = 0;
        ferry_cbor_reader r;
        ferry_cbor_item it;
        ferry_cbor_reader_init(&r, in, n, NULL);
        while (ferry_cbor_read(&r, &it) == 1)
            if (it.type != FERRY_CBOR_END || it.indefinite)
                starts[nstarts++] = it.offset;
        for (size_t cut = 0; cut < n; cut++) {
            ferry_cbor_error e;
            int rc = ferry_cbor_check(in, cut, NULL, &e);
            bool known = e.offset == cut;
            for (size_t k = 0; k < nstarts; k++)
                known |= starts[k] == e.offset;
            CHECK(rc == FERRY_ETRUNCATED && e.offset <= cut && known,
                  "%s cut at %zu: %s at %zu (%s)", fy_appendix_a[i].hex, cut,
                  ferry_errname(rc), e.offset, e.reason);
            total++;
        }
    }
    CHECK(total > 400, "only %zu truncations", total);
}

static void test_deep_nesting(void) {
    const size_t n = 1000000;
    uint8_t *in = malloc(n + 1);
    const uint8_t openers[] = {0x81, 0x9f, 0xc1, 0xa1};
    for (size_t k = 0; k < COUNT(openers); k++) {
        memset(in, openers[k], n);
        in[n] = 0;
        char label[64];
        snprintf(label, sizeof label, "1,000,000 x %02x", openers[k]);
        expect_error(in, n + 1, NULL, FERRY_ELIMIT, FERRY_CBOR_MAX_DEPTH,
                     label);
    }
    /* Exactly the maximum depth is fine for every operation. */
    memset(in, 0x81, FERRY_CBOR_MAX_DEPTH);
    in[FERRY_CBOR_MAX_DEPTH] = 0;
    ferry_cbor_error e;
    CHECK(ferry_cbor_check(in, FERRY_CBOR_MAX_DEPTH + 1, NULL, &e) == FERRY_OK,
          "depth 1024: %s", e.reason);
    ferry_cbor_buf out;
    ferry_cbor_buf_init(&out);
    CHECK(ferry_cbor_diag(in, FERRY_CBOR_MAX_DEPTH + 1, NULL, &out, &e) == 0 &&
              out.len == 2 * FERRY_CBOR_MAX_DEPTH + 1,
          "deep diag");
    out.len = 0;
    CHECK(ferry_cbor_recode(in, FERRY_CBOR_MAX_DEPTH + 1, NULL, &out, &e) ==
                  0 &&
              out.len == FERRY_CBOR_MAX_DEPTH + 1 &&
              memcmp(out.data, in, out.len) == 0,
          "deep recode");
    /* Indefinite arrays at full depth recode to definite ones. */
    memset(in, 0x9f, FERRY_CBOR_MAX_DEPTH);
    memset(in + FERRY_CBOR_MAX_DEPTH, 0xff, FERRY_CBOR_MAX_DEPTH);
    out.len = 0;
    CHECK(ferry_cbor_recode(in, 2 * FERRY_CBOR_MAX_DEPTH, NULL, &out, &e) ==
                  0 &&
              out.len == FERRY_CBOR_MAX_DEPTH && out.data[0] == 0x81 &&
              out.data[FERRY_CBOR_MAX_DEPTH - 1] == 0x80,
          "deep indefinite recode: %s", e.reason);
    ferry_cbor_buf_free(&out);
    free(in);
}

static void test_reader_events(void) {
    /* [1, {"a": h'01'}, 23(-2)] */
    uint8_t in[32];
    size_t n = unhex("8301a161614101d721", in);
    static const struct {
        ferry_cbor_type type;
        uint32_t depth;
        size_t offset;
        uint64_t u;
    } want[] = {
        {FERRY_CBOR_ARRAY, 0, 0, 3}, {FERRY_CBOR_UINT, 1, 1, 1},
        {FERRY_CBOR_MAP, 1, 2, 1},   {FERRY_CBOR_TEXT, 2, 3, 1},
        {FERRY_CBOR_BYTES, 2, 5, 1}, {FERRY_CBOR_END, 1, 7, 0},
        {FERRY_CBOR_TAG, 1, 7, 23},  {FERRY_CBOR_NEGINT, 2, 8, 1},
        {FERRY_CBOR_END, 1, 9, 0},   {FERRY_CBOR_END, 0, 9, 0},
    };
    ferry_cbor_reader r;
    ferry_cbor_item it;
    CHECK(ferry_cbor_reader_init(&r, in, n, NULL) == FERRY_OK, "init");
    for (size_t i = 0; i < COUNT(want); i++) {
        CHECK(ferry_cbor_read(&r, &it) == 1, "event %zu", i);
        CHECK(it.type == want[i].type && it.depth == want[i].depth &&
                  it.offset == want[i].offset && it.u == want[i].u,
              "event %zu: type %d depth %u offset %zu u %" PRIu64, i, it.type,
              it.depth, it.offset, it.u);
    }
    CHECK(ferry_cbor_read(&r, &it) == 0, "done");
    CHECK(ferry_cbor_read(&r, &it) == 0, "done stays done");

    /* skip jumps over a whole container. */
    ferry_cbor_reader_init(&r, in, n, NULL);
    ferry_cbor_read(&r, &it); /* array */
    ferry_cbor_read(&r, &it); /* 1 */
    ferry_cbor_read(&r, &it); /* map */
    CHECK(ferry_cbor_skip(&r, &it) == FERRY_OK, "skip map");
    CHECK(ferry_cbor_read(&r, &it) == 1 && it.type == FERRY_CBOR_TAG,
          "tag next");

    /* Errors stick. */
    ferry_cbor_reader_init(&r, "\xff", 1, NULL);
    CHECK(ferry_cbor_read(&r, &it) == FERRY_EMALFORMED, "break");
    CHECK(ferry_cbor_read(&r, &it) == FERRY_EMALFORMED, "sticky");
    CHECK(ferry_cbor_reader_error(&r)->offset == 0, "offset");

    /* Bad limits and bad arguments are refused, not trusted. */
    ferry_cbor_limits lim = ferry_cbor_default_limits;
    lim.max_depth = 0;
    CHECK(ferry_cbor_reader_init(&r, in, n, &lim) == FERRY_EINVAL, "depth 0");
    lim.max_depth = FERRY_CBOR_MAX_DEPTH + 1;
    CHECK(ferry_cbor_reader_init(&r, in, n, &lim) == FERRY_EINVAL,
          "depth 1025");
    CHECK(ferry_cbor_check(NULL, 3, NULL, NULL) == FERRY_EINVAL, "NULL input");
    CHECK(ferry_cbor_check(NULL, 0, NULL, NULL) == FERRY_ETRUNCATED, "empty");
}

static void test_text_escapes(void) {
    /* "a\"\\\n\x01\x7f" and a non-ASCII character stay readable. */
    uint8_t in[32];
    size_t n = unhex("6861225c0a017fc3bc", in);
    ferry_cbor_buf out;
    ferry_cbor_buf_init(&out);
    ferry_cbor_error e;
    CHECK(ferry_cbor_diag(in, n, NULL, &out, &e) == FERRY_OK, "%s", e.reason);
    const char *want = "\"a\\\"\\\\\\n\\u0001\\u007f\xc3\xbc\"";
    CHECK(out.len == strlen(want) && memcmp(out.data, want, out.len) == 0,
          "got %.*s want %s", (int)out.len, (const char *)out.data, want);
    /* Empty indefinite strings use RFC 8949's ''_ and ""_ forms. */
    out.len = 0;
    n = unhex("825fff7fff", in);
    CHECK(ferry_cbor_diag(in, n, NULL, &out, &e) == FERRY_OK, "%s", e.reason);
    CHECK(out.len == 10 && memcmp(out.data, "[''_, \"\"_]", 10) == 0,
          "got %.*s", (int)out.len, (const char *)out.data);
    ferry_cbor_buf_free(&out);
}

/* Strings inside indefinite maps and arrays: each string has its own
 * max_len budget, and their lengths do not disturb key/value pairing. */
static void test_indefinite_containers(void) {
    uint8_t in[64];
    size_t n = unhex("bf411f01ff", in); /* {_ h'1f': 1} */
    ferry_cbor_error e;
    CHECK(ferry_cbor_check(in, n, NULL, &e) == FERRY_OK, "%s", e.reason);
    ferry_cbor_limits lim = ferry_cbor_default_limits;
    lim.max_len = 32;
    /* [_ "a" x 20, "a" x 20]: 40 bytes of text, 20 per string. */
    n = 0;
    in[n++] = 0x9f;
    for (int k = 0; k < 2; k++) {
        in[n++] = 0x74;
        memset(in + n, 'a', 20);
        n += 20;
    }
    in[n++] = 0xff;
    CHECK(ferry_cbor_check(in, n, &lim, &e) == FERRY_OK, "%s", e.reason);
}

static const fy_test tests[] = {
    TEST(test_indefinite_containers),
    TEST(test_error_table),
    TEST(test_encode_ints),
    TEST(test_encode_floats),
    TEST(test_encode_misc),
    TEST(test_appendix_a),
    TEST(test_malformed),
    TEST(test_truncations),
    TEST(test_deep_nesting),
    TEST(test_reader_events),
    TEST(test_text_escapes),
};
TEST_MAIN(tests)
