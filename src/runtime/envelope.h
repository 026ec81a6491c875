/* envelope.h - private: the wire envelope (see envelope.c). */
#ifndef FY_ENVELOPE_H
#define FY_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "cbor/cbor_internal.h"
#include "ferry/cbor.h"

typedef struct fy_env {
    int kind;
    uint64_t corr;
    const char *type; /* NUL-terminated, inside the parsed buffer */
    const uint8_t *body;
    size_t body_len;
} fy_env;

/* Writes the envelope head 84 kind type corr (the body follows it);
 * returns its length, or 0 if cap is too small. */
size_t fy_env_head(uint8_t *out, size_t cap, int kind, const char *type,
                   size_t type_len, uint64_t corr);
size_t fy_env_head_size(size_t type_len, uint64_t corr);

/* Parses and validates a whole envelope in buf (exactly one CBOR item of
 * the right shape, body included). On success, type is NUL-terminated in
 * place, so buf is modified. On failure err says what and where, and
 * env->kind and env->corr hold what was read of them before the fault (0
 * if not reached): a call can still be answered. */
int fy_env_parse(uint8_t *buf, size_t len, fy_env *env, ferry_cbor_error *err);

#endif
