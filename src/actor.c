/*
 * actor.c - the C side of the actor runtime (wasm only).
 *
 * The worker's glue (glue/worker.mjs) owns the mailbox, the ports and the
 * blobs; C reaches it through the imports below. Only ferry_wait may
 * suspend: it is the one import Asyncify instruments, so a blocking call
 * unwinds from there to the worker's event loop and rewinds when the glue
 * has a message (or the timeout fired).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "ferry/actor.h"

#define FY_IMPORT(name)                                                        \
    __attribute__((import_module("env"), import_name(#name)))
#define FY_EXPORT(name) __attribute__((export_name(#name), used))

/* Waits for the next message (corr 0) or for the reply or error with this
 * corr, up to timeout_ms (-1: forever). Returns the envelope's length, or
 * FERRY_ETIMEDOUT. The message becomes "current" for ferry_take. */
FY_IMPORT(ferry_wait) int fy_wait(int timeout_ms, double corr);
/* Copies the current envelope to dst; meta gets [from, blob_base, nblobs]. */
FY_IMPORT(ferry_take) void fy_take(uint8_t *dst, uint32_t *meta);
/* Queues an envelope made of nsegs (ptr, len) pairs, with blobs moving
 * along, for actor `to`. */
FY_IMPORT(ferry_post)
int fy_post(uint32_t to, int kind, double corr, const uint32_t *segs,
            size_t nsegs, const uint32_t *blobs, size_t nblobs);
FY_IMPORT(ferry_self_id) uint32_t fy_self_id(void);
FY_IMPORT(ferry_started) void fy_started(void);
FY_IMPORT(ferry_blob_size_) double fy_blob_size(uint32_t h);
FY_IMPORT(ferry_blob_read_)
int fy_blob_read(uint32_t h, double off, void *dst, size_t len);
FY_IMPORT(ferry_blob_from_) uint32_t fy_blob_from(const void *src, size_t len);
FY_IMPORT(ferry_blob_dup_) uint32_t fy_blob_dup(uint32_t h);
FY_IMPORT(ferry_blob_free_) void fy_blob_free(uint32_t h);

/* ------------------------------------------------------------ registry */

#define FY_MAX_TYPES 64
static struct {
    const char *name;
    ferry_actor_fn fn;
} fy_types[FY_MAX_TYPES];
static size_t fy_ntypes;
static char fy_type_list[1024];

void ferry_register_actor(const char *name, ferry_actor_fn fn) {
    if (fy_ntypes < FY_MAX_TYPES) {
        fy_types[fy_ntypes].name = name;
        fy_types[fy_ntypes].fn = fn;
        fy_ntypes++;
    }
}

/* Comma-separated registered type names, for the glue's error messages. */
FY_EXPORT(ferry__type_names) const char *ferry__type_names(void) {
    size_t n = 0;
    fy_type_list[0] = '\0';
    for (size_t i = 0; i < fy_ntypes && n < sizeof fy_type_list; i++)
        n += (size_t)snprintf(fy_type_list + n, sizeof fy_type_list - n, "%s%s",
                              i ? ", " : "", fy_types[i].name);
    return fy_type_list;
}

ferry_id ferry_self(void) {
    return fy_self_id();
}

/* ------------------------------------------------------------- sending */

static uint64_t fy_next_corr;

/* Posts an envelope: head, then body segments, blobs alongside. The glue
 * copies every segment once into the outgoing ArrayBuffer. */
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
    uint32_t stack_segs[2 * 8];
    size_t nsegs = 1 + nbody;
    uint32_t *segs = nsegs <= 8 ? stack_segs : malloc(2 * nsegs * sizeof *segs);
    if (!segs) {
        if (head != small)
            free(head);
        return FERRY_ENOMEM;
    }
    segs[0] = (uint32_t)(uintptr_t)head;
    segs[1] = (uint32_t)hlen;
    for (size_t i = 0; i < nbody; i++) {
        const uint8_t *p = body[i].ext ? body[i].ext : body_base + body[i].off;
        segs[2 + 2 * i] = (uint32_t)(uintptr_t)p;
        segs[3 + 2 * i] = (uint32_t)body[i].len;
    }
    int rc = fy_post(to, kind, (double)corr, segs, nsegs, blobs, nblobs);
    if (segs != stack_segs)
        free(segs);
    if (head != small)
        free(head);
    return rc;
}

static int fy_post_raw(ferry_id to, int kind, const char *type, uint64_t corr,
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

/* Large byte fields are not copied into the encoder's buffer: the glue
 * copies them once, straight from the struct, into the outgoing buffer. */
#define FY_SG_THRESHOLD 1024
static ferry_sg fy_sg;

static int fy_post_struct(ferry_id to, int kind, const char *type,
                          uint64_t corr, const ferry_schema *s,
                          const void *value) {
    if (!s || !value)
        return FERRY_EINVAL;
    int rc = ferry_encode_sg(s, value, FY_SG_THRESHOLD, &fy_sg);
    if (rc)
        return rc;
    return fy_post_env(to, kind, type, corr, fy_sg.segs, fy_sg.nsegs,
                       fy_sg.buf.data, fy_sg.blobs, fy_sg.nblobs);
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

static int fy_check_call(const ferry_msg *req) {
    return req && req->kind == FERRY_MSG_CALL ? FERRY_OK : FERRY_EINVAL;
}

int ferry_reply(const ferry_msg *req, const ferry_schema *s,
                const void *value) {
    int rc = fy_check_call(req);
    return rc ? rc
              : fy_post_struct(req->from, FERRY_MSG_REPLY, req->type, req->corr,
                               s, value);
}

int ferry_reply_raw(const ferry_msg *req, const void *cbor, size_t len) {
    int rc = fy_check_call(req);
    return rc ? rc
              : fy_post_raw(req->from, FERRY_MSG_REPLY, req->type, req->corr,
                            cbor, len, NULL, 0);
}

int ferry_reply_raw_blobs(const ferry_msg *req, const void *cbor, size_t len,
                          const ferry_blob *blobs, size_t nblobs) {
    int rc = fy_check_call(req);
    return rc ? rc
              : fy_post_raw(req->from, FERRY_MSG_REPLY, req->type, req->corr,
                            cbor, len, blobs, nblobs);
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

static int fy_post_error(ferry_id to, const char *type, uint64_t corr, int code,
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

int ferry_reply_error(const ferry_msg *req, int code, const char *message) {
    int rc = fy_check_call(req);
    return rc ? rc
              : fy_post_error(req->from, req->type, req->corr, code, message);
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

/* Takes one message (any, or the answer to corr) from the glue. */
static int fy_receive(ferry_msg *out, int timeout_ms, uint64_t corr) {
    memset(out, 0, sizeof *out);
    for (;;) {
        int n = fy_wait(timeout_ms, (double)corr);
        if (n < 0)
            return n;
        uint8_t *buf = malloc((size_t)n ? (size_t)n : 1);
        uint32_t meta[3];
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
            fy_post_error(meta[0], "ferry.malformed", 0, rc, why);
            for (uint32_t i = 0; i < meta[2]; i++)
                fy_blob_free(meta[1] + i);
            free(buf);
            continue;
        }
        out->from = meta[0];
        out->fy_blob_base = meta[1];
        out->fy_nblobs = meta[2];
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

int ferry_call_raw(ferry_id to, const char *type, const void *cbor, size_t len,
                   ferry_msg *reply, int timeout_ms) {
    if (!reply)
        return FERRY_EINVAL;
    memset(reply, 0, sizeof *reply);
    uint64_t corr = ++fy_next_corr;
    int rc = fy_post_raw(to, FERRY_MSG_CALL, type, corr, cbor, len, NULL, 0);
    if (rc)
        return rc;
    rc = fy_receive(reply, timeout_ms, corr);
    if (rc)
        return rc;
    if (reply->kind != FERRY_MSG_ERROR)
        return FERRY_OK;
    /* Errors the runtime itself reports keep their code; anything else
     * the peer answered is FERRY_EREMOTE, with its body in *reply. */
    int code = ferry_msg_error(reply, NULL, 0);
    switch (code) {
    case FERRY_EDOWN:
    case FERRY_EFULL:
    case FERRY_ENOTFOUND:
    case FERRY_ECLOSED: return code;
    default: return FERRY_EREMOTE;
    }
}

int ferry_call(ferry_id to, const char *type, const ferry_schema *s,
               const void *value, ferry_msg *reply, int timeout_ms) {
    if (!reply || !s || !value)
        return FERRY_EINVAL;
    memset(reply, 0, sizeof *reply);
    int rc = ferry_encode_sg(s, value, FY_SG_THRESHOLD, &fy_sg);
    if (rc)
        return rc;
    uint64_t corr = ++fy_next_corr;
    rc = fy_post_env(to, FERRY_MSG_CALL, type, corr, fy_sg.segs, fy_sg.nsegs,
                     fy_sg.buf.data, fy_sg.blobs, fy_sg.nblobs);
    if (rc)
        return rc;
    rc = fy_receive(reply, timeout_ms, corr);
    if (rc || reply->kind != FERRY_MSG_ERROR)
        return rc;
    int code = ferry_msg_error(reply, NULL, 0);
    return code == FERRY_EDOWN || code == FERRY_EFULL ||
                   code == FERRY_ENOTFOUND || code == FERRY_ECLOSED
               ? code
               : FERRY_EREMOTE;
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

size_t ferry_msg_blob_count(const ferry_msg *m) {
    return m ? m->fy_nblobs : 0;
}

ferry_blob ferry_msg_blob(const ferry_msg *m, size_t i) {
    if (!m || i >= m->fy_nblobs)
        return FERRY_BLOB_NONE;
    return (ferry_blob){m->fy_blob_base + (uint32_t)i};
}

ferry_blob ferry_msg_take_blob(ferry_msg *m, ferry_blob b) {
    if (!m || b.h < m->fy_blob_base || b.h - m->fy_blob_base >= m->fy_nblobs)
        return FERRY_BLOB_NONE;
    if (!m->fy_taken) {
        m->fy_taken = calloc(m->fy_nblobs, 1);
        if (!m->fy_taken)
            return FERRY_BLOB_NONE;
    }
    m->fy_taken[b.h - m->fy_blob_base] = 1;
    return b;
}

/* --------------------------------------------------------------- spawn */

int ferry_spawn(const char *name, const void *init_cbor, size_t init_len,
                ferry_id *out) {
    if (!name || !out)
        return FERRY_EINVAL;
    ferry_cbor_buf b;
    ferry_cbor_buf_init(&b);
    ferry_cbor_put_map(&b, 2);
    ferry_cbor_put_cstr(&b, "name");
    ferry_cbor_put_cstr(&b, name);
    ferry_cbor_put_cstr(&b, "init");
    if (init_cbor && init_len)
        ferry_cbor_buf_append(&b, init_cbor, init_len);
    else
        ferry_cbor_put_null(&b);
    if (b.err) {
        ferry_cbor_buf_free(&b);
        return b.err;
    }
    ferry_msg reply;
    int rc = ferry_call_raw(FERRY_HOST, "ferry.spawn", b.data, b.len, &reply,
                            FERRY_FOREVER);
    ferry_cbor_buf_free(&b);
    if (rc == FERRY_EREMOTE)
        rc = ferry_msg_error(&reply, NULL, 0);
    if (rc == FERRY_OK) {
        /* The reply is {"id": n}. */
        ferry_cbor_reader r;
        ferry_cbor_item it;
        rc = FERRY_EINVAL;
        ferry_cbor_reader_init(&r, reply.body, reply.body_len, NULL);
        while (ferry_cbor_read(&r, &it) == 1)
            if (it.type == FERRY_CBOR_UINT && it.depth == 1 &&
                it.u <= UINT32_MAX) {
                *out = (ferry_id)it.u;
                rc = FERRY_OK;
            }
    }
    ferry_msg_free(&reply);
    return rc;
}

/* --------------------------------------------------------------- blobs */

int64_t ferry_blob_size(ferry_blob b) {
    return (int64_t)fy_blob_size(b.h);
}

int ferry_blob_read(ferry_blob b, size_t off, void *dst, size_t len) {
    if (len && !dst)
        return FERRY_EINVAL;
    return fy_blob_read(b.h, (double)off, dst, len);
}

ferry_blob ferry_blob_from(const void *src, size_t len) {
    if (len && !src)
        return FERRY_BLOB_NONE;
    return (ferry_blob){fy_blob_from(src, len)};
}

ferry_blob ferry_blob_dup(ferry_blob b) {
    return (ferry_blob){fy_blob_dup(b.h)};
}

void ferry_blob_free(ferry_blob b) {
    if (b.h)
        fy_blob_free(b.h);
}

/* --------------------------------------------------------------- start */

/*
 * The glue calls this once per worker (and again to resume after each
 * suspension). The first message in the mailbox is the init message: its
 * type names the actor type to run and its body is the init value.
 */
FY_EXPORT(ferry__start) int ferry__start(void) {
    static ferry_msg init;
    static ferry_actor_fn fn;
    if (!fn) {
        int rc = fy_receive(&init, 0, 0);
        if (rc)
            return rc;
        for (size_t i = 0; i < fy_ntypes && !fn; i++)
            if (strcmp(fy_types[i].name, init.type) == 0)
                fn = fy_types[i].fn;
        if (!fn) {
            ferry_msg_free(&init);
            return FERRY_ENOTFOUND;
        }
        fy_started();
    }
    int code = fn(&init);
    ferry_msg_free(&init);
    return code;
}
