/*
 * call.c - request and reply (wasm only).
 *
 * A call posts its request under a fresh corr and then waits for the
 * message with that corr alone: fy_receive leaves everything else queued,
 * in order, for later ferry_recv. ferry_call and ferry_call_raw differ only
 * in how the request's body is made; the wait and the error mapping are
 * one path, fy_await_reply. Async calls post the same way and leave the
 * reply to ferry_recv.
 */
#include <string.h>

#include "runtime.h"

static uint64_t fy_next_corr;

/* Waits for the reply to corr. Errors the runtime itself reports keep
 * their code; anything else the peer answered with is FERRY_EREMOTE, with
 * its body in *reply for ferry_msg_error. */
static int fy_await_reply(uint64_t corr, ferry_msg *reply, int timeout_ms) {
    int rc = fy_receive(reply, timeout_ms, corr);
    if (rc || reply->kind != FERRY_MSG_ERROR)
        return rc;
    int code = ferry_msg_error(reply, NULL, 0);
    switch (code) {
    case FERRY_EDOWN:
    case FERRY_EFULL:
    case FERRY_ENOTFOUND:
    case FERRY_ECLOSED: return code;
    default: return FERRY_EREMOTE;
    }
}

int ferry_call_raw(ferry_id to, const char *type, const void *cbor, size_t len,
                   ferry_msg *reply, int timeout_ms) {
    if (!reply)
        return FERRY_EINVAL;
    memset(reply, 0, sizeof *reply);
    uint64_t corr = ++fy_next_corr;
    int rc = fy_post_raw(to, FERRY_MSG_CALL, type, corr, cbor, len, NULL, 0);
    return rc ? rc : fy_await_reply(corr, reply, timeout_ms);
}

int ferry_call(ferry_id to, const char *type, const ferry_schema *s,
               const void *value, ferry_msg *reply, int timeout_ms) {
    if (!reply)
        return FERRY_EINVAL;
    memset(reply, 0, sizeof *reply);
    uint64_t corr = ++fy_next_corr;
    int rc = fy_post_struct(to, FERRY_MSG_CALL, type, corr, s, value);
    return rc ? rc : fy_await_reply(corr, reply, timeout_ms);
}

/* ---------------------------------------------------------------- async */

/* The glue keeps the deadline: when it passes before the reply, it puts an
 * ETIMEDOUT error with this corr in the mailbox and drops a late reply. */
static int fy_async_posted(int rc, uint64_t corr, int timeout_ms,
                           uint64_t *out) {
    if (rc)
        return rc;
    if (timeout_ms >= 0)
        fy_deadline((double)corr, timeout_ms);
    *out = corr;
    return FERRY_OK;
}

int ferry_call_async(ferry_id to, const char *type, const ferry_schema *s,
                     const void *value, int timeout_ms, uint64_t *corr) {
    if (!corr)
        return FERRY_EINVAL;
    uint64_t c = ++fy_next_corr;
    int rc = fy_post_struct(to, FERRY_MSG_CALL, type, c, s, value);
    return fy_async_posted(rc, c, timeout_ms, corr);
}

int ferry_call_async_raw(ferry_id to, const char *type, const void *cbor,
                         size_t len, int timeout_ms, uint64_t *corr) {
    if (!corr)
        return FERRY_EINVAL;
    uint64_t c = ++fy_next_corr;
    int rc = fy_post_raw(to, FERRY_MSG_CALL, type, c, cbor, len, NULL, 0);
    return fy_async_posted(rc, c, timeout_ms, corr);
}
