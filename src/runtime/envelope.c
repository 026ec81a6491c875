/*
 * envelope.c - the wire envelope [kind, type, corr, body]
 * (docs/wire-format.md): building its head and parsing a received one strictly.
 * Platform independent, so it is tested natively as well as used by the wasm
 * runtime.
 */
#include <string.h>

#include "envelope.h"

size_t fy_env_head(uint8_t *out, size_t cap, int kind, const char *type,
                   size_t type_len, uint64_t corr) {
    ferry_cbor_buf b;
    ferry_cbor_buf_init_fixed(&b, out, cap);
    ferry_cbor_put_array(&b, 4);
    ferry_cbor_put_uint(&b, (uint64_t)kind);
    ferry_cbor_put_text(&b, type, type_len);
    ferry_cbor_put_uint(&b, corr);
    return b.err ? 0 : b.len;
}

size_t fy_env_head_size(size_t type_len, uint64_t corr) {
    return 1 + 1 + ferry_cbor_head_size(type_len) + type_len +
           ferry_cbor_head_size(corr);
}

int fy_env_parse(uint8_t *buf, size_t len, fy_env *env, ferry_cbor_error *err) {
    ferry_cbor_reader r;
    ferry_cbor_item it;
    memset(env, 0, sizeof *env);
    ferry_cbor_reader_init(&r, buf, len, NULL);
    int rc;
    /* The head: a definite array of four. */
    if ((rc = ferry_cbor_read(&r, &it)) < 0)
        goto bad_cbor;
    if (it.type != FERRY_CBOR_ARRAY || it.indefinite || it.u != 4)
        return fy_cbor_fail(err, FERRY_EINVALID, 0,
                            "envelope must be an array of 4 "
                            "[kind, type, corr, body]");
    if ((rc = ferry_cbor_read(&r, &it)) < 0)
        goto bad_cbor;
    if (it.type != FERRY_CBOR_UINT || it.u > 3)
        return fy_cbor_fail(err, FERRY_EINVALID, it.offset,
                            "envelope kind must be 0..3 (send, call, reply, "
                            "error)");
    env->kind = (int)it.u;
    if ((rc = ferry_cbor_read(&r, &it)) < 0)
        goto bad_cbor;
    if (it.type != FERRY_CBOR_TEXT || it.indefinite)
        return fy_cbor_fail(err, FERRY_EINVALID, it.offset,
                            "envelope type must be a definite-length text");
    if (memchr(it.data, 0, (size_t)it.u))
        return fy_cbor_fail(err, FERRY_EINVALID, it.offset,
                            "envelope type holds a NUL byte");
    size_t type_off = (size_t)(it.data - buf), type_len = (size_t)it.u;
    if ((rc = ferry_cbor_read(&r, &it)) < 0)
        goto bad_cbor;
    if (it.type != FERRY_CBOR_UINT)
        return fy_cbor_fail(err, FERRY_EINVALID, it.offset,
                            "envelope corr must be an unsigned integer");
    env->corr = it.u;
    /* The body: any one valid item; walk it whole to validate it. */
    if ((rc = ferry_cbor_read(&r, &it)) < 0)
        goto bad_cbor;
    size_t body_off = it.offset;
    if (it.type == FERRY_CBOR_END)
        return fy_cbor_fail(err, FERRY_EINVALID, it.offset,
                            "envelope has no body");
    if ((rc = ferry_cbor_skip(&r, &it)) < 0)
        goto bad_cbor;
    if ((rc = ferry_cbor_read(&r, &it)) < 0) /* the array's END */
        goto bad_cbor;
    size_t body_end = r.pos;
    if ((rc = ferry_cbor_read(&r, &it)) < 0) /* no trailing bytes */
        goto bad_cbor;
    /* NUL-terminate the type in place: slide it one byte left over the
     * last byte of its own head (at least one byte long) and put the NUL
     * where its last byte was. The CBOR is not re-read after this. */
    memmove(buf + type_off - 1, buf + type_off, type_len);
    buf[type_off - 1 + type_len] = '\0';
    env->type = (const char *)buf + type_off - 1;
    env->body = buf + body_off;
    env->body_len = body_end - body_off;
    return FERRY_OK;
bad_cbor:
    *err = *ferry_cbor_reader_error(&r);
    return rc;
}
