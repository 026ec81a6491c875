/*
 * test_schema.c - the struct serializer: round trips of every kind and
 * nesting, the exact CBOR it writes, scatter-gather, and one test per class
 * of decode error with its message and field path.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ferry.h"
#include "harness.h"
#include "schemas.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void test_exact_cbor(void) {
    item it = {.sku = 1, .qty = 2, .gift = true};
    ferry_cbor_buf b;
    ferry_cbor_buf_init(&b);
    CHECK(ferry_encode(&item_schema, &it, &b) == FERRY_OK, "encode");
    uint8_t want[64];
    size_t n = unhex("a363736b750163717479026467696674f5", want);
    /* {"sku": 1, "qty": 2, "gift": true} in table order. */
    CHECK(b.len == n && memcmp(b.data, want, n) == 0, "bytes differ (len %zu)",
          b.len);
    CHECK(ferry_encoded_size(&item_schema, &it) == b.len, "size");
    ferry_cbor_buf_free(&b);
}

static void test_roundtrip_everything(void) {
    ferry_arena arena;
    ferry_arena_init(&arena);
    everything in, out;
    fill_everything(&in, 1);
    ferry_cbor_buf b;
    ferry_cbor_buf_init(&b);
    CHECK(ferry_encode(&everything_schema, &in, &b) == FERRY_OK, "encode");
    CHECK(ferry_encoded_size(&everything_schema, &in) == b.len,
          "size %zu vs %zu", ferry_encoded_size(&everything_schema, &in),
          b.len);
    CHECK(ferry_cbor_check(b.data, b.len, NULL, NULL) == FERRY_OK, "valid");
    ferry_decode_error e;
    int rc =
        ferry_decode(&everything_schema, b.data, b.len, &out, &arena, NULL, &e);
    CHECK(rc == FERRY_OK, "decode: %s", e.message);
    char why[200];
    CHECK(everything_equal(&in, &out, why, sizeof why), "%s", why);
    /* Zero copy: text and bytes point into the input buffer. */
    CHECK(out.text.ptr >= (const char *)b.data &&
              out.text.ptr < (const char *)b.data + b.len,
          "text is not zero-copy");
    CHECK(out.bytes.ptr >= b.data && out.bytes.ptr < b.data + b.len,
          "bytes are not zero-copy");

    /* Re-encoding the decoded struct gives the same bytes. */
    ferry_cbor_buf b2;
    ferry_cbor_buf_init(&b2);
    CHECK(ferry_encode(&everything_schema, &out, &b2) == FERRY_OK, "re-encode");
    CHECK(b2.len == b.len && memcmp(b2.data, b.data, b.len) == 0, "stable");
    ferry_cbor_buf_free(&b2);
    ferry_cbor_buf_free(&b);
    free_everything(&in);
    ferry_arena_free(&arena);
}

static void test_roundtrip_generated(void) {
    /* Many generated values: extremes, empties, optionals on and off. */
    ferry_arena arena;
    ferry_arena_init(&arena);
    ferry_cbor_buf b;
    ferry_cbor_buf_init(&b);
    for (unsigned seed = 2; seed < 2000; seed++) {
        everything in, out;
        fill_everything(&in, seed);
        b.len = 0;
        CHECK(ferry_encode(&everything_schema, &in, &b) == FERRY_OK, "enc %u",
              seed);
        ferry_decode_error e;
        CHECK(ferry_decode(&everything_schema, b.data, b.len, &out, &arena,
                           NULL, &e) == FERRY_OK,
              "seed %u: %s", seed, e.message);
        char why[200];
        CHECK(everything_equal(&in, &out, why, sizeof why), "seed %u: %s", seed,
              why);
        free_everything(&in);
        ferry_arena_reset(&arena);
    }
    ferry_cbor_buf_free(&b);
    ferry_arena_free(&arena);
}

static void test_any_order_and_unknown_keys(void) {
    /* {"gift": false, "extra": [1, {"x": [2]}], "qty": 7, 5: 6, "sku": 9,
     *  ["k"]: 1, "zz": 23(h'01')} */
    uint8_t in[96];
    size_t n = unhex("a76467696674f46565787472618201a161788102637174"
                     "7907050663736b750981616b01627a7ad74101",
                     in);
    item out;
    ferry_arena arena;
    ferry_arena_init(&arena);
    ferry_decode_error e;
    int rc = ferry_decode(&item_schema, in, n, &out, &arena, NULL, &e);
    CHECK(rc == FERRY_OK, "decode: %s", e.message);
    CHECK(out.sku == 9 && out.qty == 7 && !out.gift, "values %u %u %d", out.sku,
          out.qty, out.gift);
    /* Indefinite-length map, strings and arrays are read too. */
    n = unhex("bf63736b751903e86371747918646467696674f5ff", in);
    rc = ferry_decode(&item_schema, in, n, &out, &arena, NULL, &e);
    CHECK(rc == FERRY_OK && out.sku == 1000 && out.qty == 100 && out.gift,
          "indefinite map: %s", e.message);
    ferry_arena_free(&arena);
}

static void test_optional(void) {
    note_msg m = {.id = 1};
    ferry_cbor_buf b;
    ferry_cbor_buf_init(&b);
    CHECK(ferry_encode(&note_schema, &m, &b) == FERRY_OK, "encode");
    /* Absent optionals are left out: {"id": 1}. */
    CHECK(b.len == 5 && b.data[0] == 0xa1, "len %zu", b.len);
    m.has_text = true;
    m.text = "hi";
    m.has_where = true;
    m.where = (point){1.5, 2.0f};
    b.len = 0;
    ferry_encode(&note_schema, &m, &b);
    note_msg out;
    ferry_arena arena;
    ferry_arena_init(&arena);
    ferry_decode_error e;
    CHECK(ferry_decode(&note_schema, b.data, b.len, &out, &arena, NULL, &e) ==
              0,
          "%s", e.message);
    CHECK(out.has_text && strcmp(out.text, "hi") == 0 && out.has_where &&
              out.where.x == 1.5 && out.where.y == 2.0f,
          "present optionals");
    /* null counts as absent. */
    uint8_t in[32];
    size_t n = unhex("a2626964016474657874f6", in);
    CHECK(ferry_decode(&note_schema, in, n, &out, &arena, NULL, &e) == 0 &&
              !out.has_text && !out.has_where,
          "null optional: %s", e.message);
    ferry_arena_free(&arena);
    ferry_cbor_buf_free(&b);
}

static void test_scatter_gather(void) {
    static uint8_t big[5000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 7);
    chunk_msg c = {.key = {"k1", 2},
                   .data = {big, sizeof big},
                   .small = {big, 10},
                   .version = 3};
    ferry_sg sg;
    ferry_sg_init(&sg);
    CHECK(ferry_encode_sg(&chunk_schema, &c, 1024, &sg) == FERRY_OK, "sg");
    ferry_cbor_buf flat;
    ferry_cbor_buf_init(&flat);
    ferry_encode(&chunk_schema, &c, &flat);
    CHECK(sg.total == flat.len, "total %zu vs %zu", sg.total, flat.len);
    CHECK(sg.nsegs == 3, "segments %zu", sg.nsegs);
    CHECK(sg.segs[1].ext == big && sg.segs[1].len == sizeof big,
          "the big field is referenced, not copied");
    CHECK(sg.buf.len + sizeof big == sg.total, "the buffer holds the rest");
    uint8_t *gathered = malloc(sg.total);
    ferry_sg_gather(&sg, gathered);
    CHECK(memcmp(gathered, flat.data, flat.len) == 0, "gather equals encode");
    free(gathered);
    /* Below the threshold, everything is one segment. */
    CHECK(ferry_encode_sg(&chunk_schema, &c, 1 << 20, &sg) == FERRY_OK &&
              sg.nsegs == 1 && sg.total == flat.len,
          "one segment");
    ferry_sg_free(&sg);
    ferry_cbor_buf_free(&flat);
}

/* Decodes hex into an `order` and checks the error code and message. */
static void expect_order_error(const char *hex, int code, const char *message) {
    uint8_t in[256];
    size_t n = unhex(hex, in);
    order out;
    ferry_arena arena;
    ferry_arena_init(&arena);
    ferry_decode_error e;
    int rc = ferry_decode(&order_schema, in, n, &out, &arena, NULL, &e);
    CHECK(rc == code && e.code == code, "%s: got %s (%s), want %s", hex,
          ferry_errname(rc), e.message, ferry_errname(code));
    CHECK(strcmp(e.message, message) == 0, "message '%s', want '%s'", e.message,
          message);
    ferry_arena_free(&arena);
}

/* order {"id": 1, "customer": "al", "items": [...]} helpers: each item is
 * {"sku": S, "qty": Q, "gift": false}. */
#define ORDER_HEAD                                                             \
    "a3626964016863757374"                                                     \
    "6f6d6572626168656974656d73"
#define ITEM_OK "a363736b750163717479016467696674f4"

static void test_error_missing(void) {
    expect_order_error("a2626964016863757374"
                       "6f6d657262616c",
                       FERRY_EMISSING, "order.items: required field missing");
    expect_order_error(ORDER_HEAD "81a263736b750163717479 01", FERRY_EMISSING,
                       "order.items[0].gift: required field missing");
}

static void test_error_type(void) {
    expect_order_error(
        ORDER_HEAD "82" ITEM_OK "a363736b7561316371747901646769667"
                   "4f4",
        FERRY_ETYPE, "order.items[1].sku: expected uint32, got text string");
    expect_order_error("a3626964616168637573746f6d657262616c656974656d7380",
                       FERRY_ETYPE,
                       "order.id: expected uint64, got text string");
    expect_order_error("83010203", FERRY_ETYPE,
                       "order: expected map, got array");
    expect_order_error(ORDER_HEAD "a0", FERRY_ETYPE,
                       "order.items: expected array, got map");
}

static void test_error_range(void) {
    expect_order_error(
        ORDER_HEAD "84" ITEM_OK ITEM_OK ITEM_OK "a363736b7501637174791901"
                   "2c6467696674f4",
        FERRY_ERANGE, "order.items[3].qty: 300 does not fit uint8");
    expect_order_error(ORDER_HEAD "81a363736b75206371747901646769667"
                                  "4f4",
                       FERRY_ERANGE,
                       "order.items[0].sku: -1 does not fit uint32");
    expect_order_error(ORDER_HEAD "81a363736b75f93e006371747901646769667"
                                  "4f4",
                       FERRY_ETYPE,
                       "order.items[0].sku: 1.5 is not an integer (uint32)");
    /* More items than the maximum of 4. */
    expect_order_error(ORDER_HEAD "85" ITEM_OK ITEM_OK ITEM_OK ITEM_OK ITEM_OK,
                       FERRY_ERANGE,
                       "order.items: array of 5 elements is longer than its "
                       "maximum of 4");
    expect_order_error(
        ORDER_HEAD "9f" ITEM_OK ITEM_OK ITEM_OK ITEM_OK ITEM_OK "ff",
        FERRY_ERANGE, "order.items: array is longer than its maximum of 4");
}

static void test_error_utf8_and_limits(void) {
    expect_order_error("a36269640168637573746f6d657262c328656974656d7380",
                       FERRY_EINVALID,
                       "order.customer: invalid UTF-8 in the text string at "
                       "byte 14");
    expect_order_error(ORDER_HEAD "80"
                                  "00",
                       FERRY_ETRAILING,
                       "order: 1 trailing byte after the item");
    expect_order_error(ORDER_HEAD "81a263736b7501", FERRY_ETRUNCATED,
                       "order.items[0]: input ends where an item was expected");
    expect_order_error("a2626964016269640280", FERRY_EINVALID,
                       "order.id: duplicate key");
    expect_order_error("a362696401686375737"
                       "46f6d6572636100626569746"
                       "56d7380",
                       FERRY_EINVALID,
                       "order.customer: text holds a NUL byte, so it cannot be "
                       "a C string");

    /* Depth limit from the options. */
    uint8_t in[64];
    size_t n = unhex(ORDER_HEAD "81" ITEM_OK, in);
    order out;
    ferry_arena arena;
    ferry_arena_init(&arena);
    ferry_decode_error e;
    ferry_decode_opts opts = {.limits = ferry_cbor_default_limits};
    opts.limits.max_depth = 2;
    CHECK(ferry_decode(&order_schema, in, n, &out, &arena, &opts, &e) ==
              FERRY_ELIMIT,
          "depth: %s", e.message);
    CHECK(strcmp(e.message, "order.items[0]: nesting deeper than 2 levels") ==
              0,
          "%s", e.message);
    /* Arena limit: allocation failure is an error, not a crash. */
    arena.limit = 16;
    CHECK(ferry_decode(&order_schema, in, n, &out, &arena, NULL, &e) ==
              FERRY_ENOMEM,
          "arena limit: %s", e.message);
    ferry_arena_free(&arena);
}

static void test_error_float32_range(void) {
    /* {"x": 1, "y": 1e300} into point, where y is float32. */
    uint8_t in[32];
    size_t n = unhex("a261780161"
                     "79fb7e37e43c8800759c",
                     in);
    point p;
    ferry_arena arena;
    ferry_arena_init(&arena);
    ferry_decode_error e;
    CHECK(ferry_decode(&point_schema, in, n, &p, &arena, NULL, &e) ==
              FERRY_ERANGE,
          "%s", e.message);
    CHECK(strcmp(e.message, "point.y: 1.0e+300 does not fit float32") == 0,
          "%s", e.message);
    ferry_arena_free(&arena);
}

static void test_encode_errors(void) {
    order o = {.id = 1, .customer = "x", .items = NULL, .n_items = 2};
    ferry_cbor_buf b;
    ferry_cbor_buf_init(&b);
    CHECK(ferry_encode(&order_schema, &o, &b) == FERRY_EINVAL && b.len == 0,
          "NULL items with a count");
    item items[5] = {{0}};
    o.items = items;
    o.n_items = 5;
    CHECK(ferry_encode(&order_schema, &o, &b) == FERRY_EINVAL && b.len == 0,
          "count over the maximum");
    CHECK(ferry_encoded_size(&order_schema, &o) == 0, "size of invalid");
    o.n_items = 4;
    CHECK(ferry_encode(&order_schema, &o, &b) == FERRY_OK, "four is fine");
    ferry_cbor_buf_free(&b);
}

static const fy_test tests[] = {
    TEST(test_exact_cbor),
    TEST(test_roundtrip_everything),
    TEST(test_roundtrip_generated),
    TEST(test_any_order_and_unknown_keys),
    TEST(test_optional),
    TEST(test_scatter_gather),
    TEST(test_error_missing),
    TEST(test_error_type),
    TEST(test_error_range),
    TEST(test_error_utf8_and_limits),
    TEST(test_error_float32_range),
    TEST(test_encode_errors),
};
TEST_MAIN(tests)
