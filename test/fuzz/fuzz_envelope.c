/*
 * fuzz_envelope.c - libFuzzer target for the envelope parser
 * (src/runtime/envelope.c), the first code in an actor's worker to read the
 * bytes a peer posted.
 *
 * The input is copied into a heap buffer of exactly its size (the parser
 * writes into it: the type is NUL-terminated in place), so the sanitizers
 * see any access past it. For every input:
 *
 *   - a failure has a reason and an offset inside the input, and agrees with
 *     ferry_cbor_check: where the bytes are one valid CBOR item the failure
 *     is about the shape (FERRY_EINVALID), never a CBOR error; where they are
 *     not, it is that same CBOR error at the same byte, or a shape error
 *     found before it.
 *   - a success means the input is one valid CBOR item; kind is 0..3; the
 *     type is NUL-terminated inside the buffer, holds no NUL and is valid
 *     CBOR text; the body lies inside the buffer and is exactly one valid
 *     item; and the envelope rebuilt from the parts (fy_env_head + body)
 *     parses to the same parts and holds the same data as the input (both
 *     recode to the same bytes).
 *
 * Build: clang -fsanitize=fuzzer,address,undefined (see meson.build).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "ferry.h"

#define FY_REQUIRE(cond)                                                       \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "fuzz_envelope: property violated at %s:%d: %s\n", \
                    __FILE__, __LINE__, #cond);                                \
            __builtin_trap();                                                  \
        }                                                                      \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input recoded in preferred serialization (ferry_cbor_recode). */
static void fy_recode(const uint8_t *in, size_t len, ferry_cbor_buf *out) {
    ferry_cbor_buf_init(out);
    FY_REQUIRE(ferry_cbor_recode(in, len, NULL, out, NULL) == FERRY_OK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *buf = malloc(size ? size : 1);
    FY_REQUIRE(buf != NULL);
    if (size)
        memcpy(buf, data, size);
    fy_env env;
    ferry_cbor_error e = {0}, ce = {0};
    int rc = fy_env_parse(buf, size, &env, &e);
    int crc = ferry_cbor_check(data, size, NULL, &ce);
    if (rc != FERRY_OK) {
        FY_REQUIRE(rc < 0 && e.code == rc);
        FY_REQUIRE(e.reason[0] != '\0');
        FY_REQUIRE(e.offset <= size);
        /* Nothing written into the buffer on failure. */
        FY_REQUIRE(size == 0 || memcmp(buf, data, size) == 0);
        if (crc == FERRY_OK)
            FY_REQUIRE(rc == FERRY_EINVALID);
        else
            FY_REQUIRE((rc == crc && e.offset == ce.offset) ||
                       (rc == FERRY_EINVALID && e.offset <= ce.offset));
        free(buf);
        return 0;
    }
    FY_REQUIRE(crc == FERRY_OK);
    FY_REQUIRE(env.kind >= 0 && env.kind <= 3);
    const uint8_t *end = buf + size;
    const uint8_t *type = (const uint8_t *)env.type;
    FY_REQUIRE(type > buf && type < end);
    const uint8_t *nul = memchr(type, 0, (size_t)(end - type));
    FY_REQUIRE(nul != NULL);
    size_t type_len = (size_t)(nul - type);
    /* The type ends before the corr and the body. */
    FY_REQUIRE(nul < env.body);
    FY_REQUIRE(env.body > buf && env.body_len > 0 &&
               env.body + env.body_len <= end);
    /* The body was the last item of the array: the input ends with it. */
    FY_REQUIRE(env.body + env.body_len == end);
    FY_REQUIRE(ferry_cbor_check(env.body, env.body_len, NULL, NULL) ==
               FERRY_OK);

    /* Rebuild [kind, type, corr, body] and parse it again. */
    size_t head = fy_env_head_size(type_len, env.corr);
    size_t n = head + env.body_len;
    uint8_t *again = malloc(n);
    FY_REQUIRE(again != NULL);
    FY_REQUIRE(fy_env_head(again, head, env.kind, env.type, type_len,
                           env.corr) == head);
    memcpy(again + head, env.body, env.body_len);
    /* Same data model as the input: both recode to the same bytes. */
    ferry_cbor_buf ra, rb;
    fy_recode(data, size, &ra);
    fy_recode(again, n, &rb);
    FY_REQUIRE(ra.len == rb.len && memcmp(ra.data, rb.data, ra.len) == 0);
    ferry_cbor_buf_free(&ra);
    ferry_cbor_buf_free(&rb);
    fy_env env2;
    ferry_cbor_error e2;
    FY_REQUIRE(fy_env_parse(again, n, &env2, &e2) == FERRY_OK);
    FY_REQUIRE(env2.kind == env.kind && env2.corr == env.corr);
    FY_REQUIRE(strcmp(env2.type, env.type) == 0);
    FY_REQUIRE(env2.body_len == env.body_len &&
               memcmp(env2.body, env.body, env.body_len) == 0);
    free(again);
    free(buf);
    return 0;
}
