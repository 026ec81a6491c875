/*
 * message.c - sending and receiving envelopes (wasm only).
 *
 * A message leaves as segments: the envelope head built here, then the
 * body's segments (a raw body, or the schema encoder's scatter-gather
 * list), which the glue copies once, straight into the outgoing
 * ArrayBuffer. Blobs move beside it as handles. A received envelope is
 * copied once into a malloc'd buffer that the ferry_msg owns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "runtime.h"

/* ------------------------------------------------------------- sending */

/* Posts an envelope: head, then body segments, blobs alongside. */
static int fy_post_env(ferry_id to, int kind, const char *type, uint64_t corr,
                       const ferry_seg *body, size_t nbody,
                       const uint8_t *body_base, const uint32_t *blobs,
                       size_t nblobs) {
    if (!type)
        return FERRY_EINVAL;
    size_t tlen = strlen(type);
    uint8_t small[128];
    size_t hlen = fy_env_head_size(tlen, corr);
    uint8_t *head = hlen <= sizeof small ? small : malloc(hlen);
    if (!head)
        return FERRY_ENOMEM;
    fy_env_head(head, hlen, kind, type, tlen, corr);
    uint32_t stack_segs[FY_SEG_WORDS * 8];
    size_t nsegs = 1 + nbody;
    uint32_t *segs =
        nsegs <= 8 ? stack_segs : malloc(FY_SEG_WORDS * nsegs * sizeof *segs);
    if (!segs) {
        if (head != small)
            free(head);
        return FERRY_ENOMEM;
    }
    segs[FY_SEG_PTR] = (uint32_t)(uintptr_t)head;
    segs[FY_SEG_LEN] = (uint32_t)hlen;
    for (size_t i = 0; i < nbody; i++) {
        const uint8_t *p = body[i].ext ? body[i].ext : body_base + body[i].off;
        uint32_t *seg = segs + FY_SEG_WORDS * (i + 1);
        seg[FY_SEG_PTR] = (uint32_t)(uintptr_t)p;
        seg[FY_SEG_LEN] = (uint32_t)body[i].len;
    }
    int rc = fy_post(to, kind, (double)corr, segs, nsegs, blobs, nblobs);
    if (segs != stack_segs)
        free(segs);
    if (head != small)
        free(head);
    return rc;
}

int fy_post_raw(ferry_id to, int kind, const char *type, uint64_t corr,
                const void *cbor, size_t len, const ferry_blob *blobs,
                size_t nblobs) {
    if (!cbor || !len) {
        static const uint8_t null_item = 0xf6; /* an empty body is null */
        cbor = &null_item;
        len = 1;
    }
    ferry_seg seg = {cbor, 0, len};
    return fy_post_env(to, kind, type, corr, &seg, 1, NULL,
                       (const uint32_t *)blobs, nblobs);
}

/* One scatter-gather list serves every struct message: an actor runs one
 * post at a time, and its buffers are kept between posts. */
static ferry_sg fy_sg;

int fy_post_struct(ferry_id to, int kind, const char *type, uint64_t corr,
                   const ferry_schema *s, const void *value) {
    if (!s || !value)
        return FERRY_EINVAL;
    int rc = ferry_encode_sg(s, value, FY_SG_THRESHOLD, &fy_sg);
    if (rc)
        return rc;
    return fy_post_env(to, kind, type, corr, fy_sg.segs, fy_sg.nsegs,
                       fy_sg.buf.data, fy_sg.blobs, fy_sg.nblobs);
}

/* {code, name, message}: the error body of the wire format. */
static int fy_error_body(ferry_cbor_buf *b, int code, const char *message) {
    ferry_cbor_put_map(b, 3);
    ferry_cbor_put_cstr(b, "code");
    ferry_cbor_put_int(b, code);
    ferry_cbor_put_cstr(b, "name");
    ferry_cbor_put_cstr(b, ferry_errname(code));
    ferry_cbor_put_cstr(b, "message");
    ferry_cbor_put_cstr(b, message ? message : ferry_strerror(code));
    return b->err;
}

int fy_post_error(ferry_id to, const char *type, uint64_t corr, int code,
                  const char *message) {
    ferry_cbor_buf b;
    ferry_cbor_buf_init(&b);
    int rc = fy_error_body(&b, code, message);
    if (!rc)
        rc = fy_post_raw(to, FERRY_MSG_ERROR, type, corr, b.data, b.len, NULL,
                         0);
    ferry_cbor_buf_free(&b);
    return rc;
}

int ferry_send(ferry_id to, const char *type, const ferry_schema *s,
               const void *value) {
    return fy_post_struct(to, FERRY_MSG_SEND, type, 0, s, value);
}

int ferry_send_raw(ferry_id to, const char *type, const void *cbor,
                   size_t len) {
    return fy_post_raw(to, FERRY_MSG_SEND, type, 0, cbor, len, NULL, 0);
}

int ferry_send_raw_blobs(ferry_id to, const char *type, const void *cbor,
                         size_t len, const ferry_blob *blobs, size_t nblobs) {
    return fy_post_raw(to, FERRY_MSG_SEND, type, 0, cbor, len, blobs, nblobs);
}

/* Replies go back to the caller under the call's type and corr; replying
 * to anything but a call is a programming error, reported, not sent. */
#define FY_REPLY_TO(req, post)                                                 \
    ((req) && (req)->kind == FERRY_MSG_CALL ? (post) : FERRY_EINVAL)

int ferry_reply(const ferry_msg *req, const ferry_schema *s,
                const void *value) {
    return FY_REPLY_TO(req, fy_post_struct(req->from, FERRY_MSG_REPLY,
                                           req->type, req->corr, s, value));
}

int ferry_reply_raw(const ferry_msg *req, const void *cbor, size_t len) {
    return FY_REPLY_TO(req, fy_post_raw(req->from, FERRY_MSG_REPLY, req->type,
                                        req->corr, cbor, len, NULL, 0));
}

int ferry_reply_raw_blobs(const ferry_msg *req, const void *cbor, size_t len,
                          const ferry_blob *blobs, size_t nblobs) {
    return FY_REPLY_TO(req, fy_post_raw(req->from, FERRY_MSG_REPLY, req->type,
                                        req->corr, cbor, len, blobs, nblobs));
}

int ferry_reply_error(const ferry_msg *req, int code, const char *message) {
    return FY_REPLY_TO(
        req, fy_post_error(req->from, req->type, req->corr, code, message));
}

/* ----------------------------------------------------------- receiving */

void ferry_msg_free(ferry_msg *m) {
    if (!m)
        return;
    for (uint32_t i = 0; i < m->fy_nblobs; i++)
        if (!m->fy_taken || !m->fy_taken[i])
            fy_blob_free(m->fy_blob_base + i);
    free(m->fy_taken);
    free(m->fy_buf);
    memset(m, 0, sizeof *m);
}

int fy_receive(ferry_msg *out, int timeout_ms, uint64_t corr) {
    memset(out, 0, sizeof *out);
    for (;;) {
        int n = fy_wait(timeout_ms, (double)corr);
        if (n < 0)
            return n;
        uint8_t *buf = malloc((size_t)n ? (size_t)n : 1);
        uint32_t meta[FY_META_LEN];
        if (!buf) {
            /* Take it anyway (into nothing) so it does not block the queue;
             * the glue copies no bytes into a NULL destination. */
            fy_take(NULL, meta);
            return FERRY_ENOMEM;
        }
        fy_take(buf, meta);
        fy_env env;
        ferry_cbor_error e;
        int rc = fy_env_parse(buf, (size_t)n, &env, &e);
        if (rc) {
            /* Tell the sender, drop the message, keep running. */
            char why[200];
            snprintf(why, sizeof why,
                     "actor %u rejected a malformed message: "
                     "error at byte %zu: %s",
                     (unsigned)fy_self_id(), e.offset, e.reason);
            /* A call whose head was read before the fault gets this as
             * its reply, or its caller would wait forever; anything else
             * is told with corr 0 (never a reply to a reply). */
            uint64_t corr = env.kind == FERRY_MSG_CALL ? env.corr : 0;
            fy_post_error(meta[FY_META_FROM], "ferry.malformed", corr, rc, why);
            for (uint32_t i = 0; i < meta[FY_META_NBLOBS]; i++)
                fy_blob_free(meta[FY_META_BLOB_BASE] + i);
            free(buf);
            continue;
        }
        out->from = meta[FY_META_FROM];
        out->fy_blob_base = meta[FY_META_BLOB_BASE];
        out->fy_nblobs = meta[FY_META_NBLOBS];
        out->kind = env.kind;
        out->corr = env.corr;
        out->type = env.type;
        out->body = env.body;
        out->body_len = env.body_len;
        out->fy_buf = buf;
        return FERRY_OK;
    }
}

int ferry_recv(ferry_msg *out, int timeout_ms) {
    if (!out)
        return FERRY_EINVAL;
    return fy_receive(out, timeout_ms, 0);
}

int ferry_msg_error(const ferry_msg *m, char *buf, size_t cap) {
    if (buf && cap)
        buf[0] = '\0';
    if (!m || m->kind != FERRY_MSG_ERROR)
        return FERRY_EINVAL;
    ferry_cbor_reader r;
    ferry_cbor_item it, v;
    int code = FERRY_EREMOTE;
    ferry_cbor_reader_init(&r, m->body, m->body_len, NULL);
    if (ferry_cbor_read(&r, &it) != 1 || it.type != FERRY_CBOR_MAP)
        return code;
    while (ferry_cbor_read(&r, &it) == 1 && it.type != FERRY_CBOR_END) {
        if (ferry_cbor_read(&r, &v) != 1)
            break;
        bool is_text_key = it.type == FERRY_CBOR_TEXT && !it.indefinite;
        if (is_text_key && it.u == 4 && !memcmp(it.data, "code", 4) &&
            v.type == FERRY_CBOR_NEGINT && v.u < 1000)
            code = -1 - (int)v.u;
        else if (is_text_key && it.u == 7 && !memcmp(it.data, "message", 7) &&
                 v.type == FERRY_CBOR_TEXT && !v.indefinite && buf && cap) {
            size_t n = v.u < cap - 1 ? (size_t)v.u : cap - 1;
            memcpy(buf, v.data, n);
            buf[n] = '\0';
        }
        if (ferry_cbor_skip(&r, &v))
            break;
    }
    return code;
}

int ferry_msg_decode(const ferry_msg *m, const ferry_schema *s, void *out,
                     ferry_arena *arena, ferry_decode_error *err) {
    if (!m || !m->body)
        return FERRY_EINVAL;
    ferry_decode_opts opts = {.map_blobs = true,
                              .blob_base = m->fy_blob_base,
                              .blob_count = m->fy_nblobs};
    return ferry_decode(s, m->body, m->body_len, out, arena, &opts, err);
}

/* Copies a text item into a fixed array, NUL-terminated, cut to fit. */
static void fy_copy_text(char *dst, size_t cap, const ferry_cbor_item *v) {
    size_t n = v->u < cap - 1 ? (size_t)v->u : cap - 1;
    memcpy(dst, v->data, n);
    dst[n] = '\0';
}

static bool fy_key_is(const ferry_cbor_item *k, const char *name) {
    size_t n = strlen(name);
    return k->type == FERRY_CBOR_TEXT && !k->indefinite && k->u == n &&
           !memcmp(k->data, name, n);
}

/* A signed integer item, or 0. */
static int64_t fy_item_int(const ferry_cbor_item *v) {
    if (v->type == FERRY_CBOR_UINT && v->u <= INT64_MAX)
        return (int64_t)v->u;
    if (v->type == FERRY_CBOR_NEGINT && v->u < INT64_MAX)
        return -1 - (int64_t)v->u;
    return 0;
}

int ferry_msg_notice(const ferry_msg *m, ferry_notice *out) {
    if (!out)
        return FERRY_EINVAL;
    memset(out, 0, sizeof *out);
    if (!m || !m->body)
        return FERRY_EINVAL;
    ferry_cbor_reader r;
    ferry_cbor_item k, v;
    ferry_cbor_reader_init(&r, m->body, m->body_len, NULL);
    if (ferry_cbor_read(&r, &k) != 1 || k.type != FERRY_CBOR_MAP)
        return FERRY_EINVAL;
    while (ferry_cbor_read(&r, &k) == 1 && k.type != FERRY_CBOR_END) {
        if (ferry_cbor_read(&r, &v) != 1)
            break;
        bool text = v.type == FERRY_CBOR_TEXT && !v.indefinite;
        if (fy_key_is(&k, "code"))
            out->code = (int)fy_item_int(&v);
        else if (fy_key_is(&k, "name") && text)
            fy_copy_text(out->name, sizeof out->name, &v);
        else if (fy_key_is(&k, "message") && text)
            fy_copy_text(out->message, sizeof out->message, &v);
        else if (fy_key_is(&k, "type") && text)
            fy_copy_text(out->type, sizeof out->type, &v);
        else if (fy_key_is(&k, "to"))
            out->to = (ferry_id)fy_item_int(&v);
        else if (fy_key_is(&k, "corr") && v.type == FERRY_CBOR_UINT)
            out->corr = v.u;
        else if (fy_key_is(&k, "id"))
            out->id = (ferry_id)fy_item_int(&v);
        else if (fy_key_is(&k, "normal"))
            out->normal = v.type == FERRY_CBOR_SIMPLE && v.u == 21;
        else if (fy_key_is(&k, "exitCode") || fy_key_is(&k, "exit_code"))
            out->exit_code = (int)fy_item_int(&v);
        else if (fy_key_is(&k, "blob"))
            out->blob = (ferry_blob){(uint32_t)fy_item_int(&v)};
        else if (fy_key_is(&k, "borrower"))
            out->borrower = (ferry_id)fy_item_int(&v);
        if (ferry_cbor_skip(&r, &v))
            break;
    }
    return FERRY_OK;
}
