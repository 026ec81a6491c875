/*
 * test_envelope.c - the wire envelope [kind, type, corr, body]: building
 * its head, parsing valid envelopes, and rejecting malformed ones with the
 * right code and byte (natively with sanitizers, and as wasm).
 */
#include <string.h>

#include "envelope.h"
#include "ferry.h"
#include "harness.h"

static void test_head_and_parse(void) {
    uint8_t buf[256];
    size_t n = fy_env_head(buf, sizeof buf, FERRY_MSG_CALL, "get", 3, 1000);
    CHECK(n == fy_env_head_size(3, 1000), "size %zu", n);
    CHECK(n == 1 + 1 + 4 + 3, "head is 84 01 63'get' 1903e8");
    ferry_cbor_buf b;
    ferry_cbor_buf_init_fixed(&b, buf + n, sizeof buf - n);
    ferry_cbor_put_map(&b, 1);
    ferry_cbor_put_cstr(&b, "k");
    ferry_cbor_put_uint(&b, 7);
    size_t len = n + b.len;
    CHECK(ferry_cbor_check(buf, len, NULL, NULL) == FERRY_OK, "valid CBOR");
    fy_env env;
    ferry_cbor_error e;
    CHECK(fy_env_parse(buf, len, &env, &e) == FERRY_OK, "%s", e.reason);
    CHECK(env.kind == FERRY_MSG_CALL && env.corr == 1000, "kind/corr");
    CHECK(strcmp(env.type, "get") == 0, "type '%s'", env.type);
    CHECK(env.body == buf + n && env.body_len == b.len, "body span");
    CHECK(fy_env_head(buf, 4, 0, "long type", 9, 0) == 0, "too small");
}

static void test_bodies(void) {
    /* Bodies of every shape, including containers and an empty type. */
    static const char *const cases[] = {
        "8400600080",
        "840360001bffffffffffffffff",
        "8402617818189ff6ff",
        "840161790a9f0102ff",
        "8400617800d82a4401020304",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t buf[64];
        size_t n = unhex(cases[i], buf);
        fy_env env;
        ferry_cbor_error e;
        CHECK(fy_env_parse(buf, n, &env, &e) == FERRY_OK, "%s: %s", cases[i],
              e.reason);
        CHECK(ferry_cbor_check(env.body, env.body_len, NULL, NULL) == 0,
              "%s: body is one item", cases[i]);
    }
}

static void test_rejects(void) {
    static const struct {
        const char *hex;
        int code;
        size_t offset;
    } bad[] = {
        {"a0", FERRY_EINVALID, 0},             /* not an array */
        {"83000000", FERRY_EINVALID, 0},       /* three elements */
        {"9f0060000000ff", FERRY_EINVALID, 0}, /* indefinite */
        {"8404600000", FERRY_EINVALID, 1},     /* kind 4 */
        {"8420600000", FERRY_EINVALID, 1},     /* kind -1 */
        {"8400400000", FERRY_EINVALID, 2},     /* type is bytes */
        {"84006100000000", FERRY_EINVALID, 2}, /* type holds NUL */
        {"840060f600", FERRY_EINVALID, 3},     /* corr null */
        {"84006000", FERRY_ETRUNCATED, 0},     /* no body */
        {"8400600000ff", FERRY_ETRAILING, 5},  /* trailing byte */
        {"840060006261", FERRY_ETRUNCATED, 4}, /* body truncated */
        {"8400600061ff", FERRY_EINVALID, 5},   /* body bad UTF-8 */
        {"", FERRY_ETRUNCATED, 0},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t buf[64];
        size_t n = unhex(bad[i].hex, buf);
        fy_env env;
        ferry_cbor_error e = {0};
        int rc = fy_env_parse(buf, n, &env, &e);
        CHECK(rc == bad[i].code && e.offset == bad[i].offset,
              "%s: got %s at %zu (%s), want %s at %zu", bad[i].hex,
              ferry_errname(rc), e.offset, e.reason, ferry_errname(bad[i].code),
              bad[i].offset);
        CHECK(e.reason[0] != '\0', "%s: no reason", bad[i].hex);
    }
}

static void test_reject_keeps_head(void) {
    /* A call whose body is bad: kind and corr were read and stay, so the
     * runtime can answer the call with the error. */
    uint8_t buf[64];
    size_t n = unhex("840161781903e8ff", buf); /* [1, "x", 1000, break] */
    fy_env env;
    ferry_cbor_error e;
    CHECK(fy_env_parse(buf, n, &env, &e) < 0, "rejected");
    CHECK(env.kind == FERRY_MSG_CALL && env.corr == 1000, "kind %d corr %llu",
          env.kind, (unsigned long long)env.corr);
    n = unhex("8401617840f6", buf); /* corr is bytes: not read */
    CHECK(fy_env_parse(buf, n, &env, &e) == FERRY_EINVALID, "rejected");
    CHECK(env.kind == FERRY_MSG_CALL && env.corr == 0, "corr not read");
}

static const fy_test tests[] = {
    TEST(test_head_and_parse),
    TEST(test_bodies),
    TEST(test_rejects),
    TEST(test_reject_keeps_head),
};
TEST_MAIN(tests)
