/*
 * test_actors.c - actors that exercise the runtime for the jest tests
 * (test/js/runtime.test.mjs). Built into one module with the examples.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ferry.h>

#include "schemas.h"

/* ------------------------------------------------------------ helpers */

/* Replies {rc: code} (plus "extra" when given as an unsigned). */
typedef struct rc_res {
    int32_t rc;
    bool has_extra;
    uint64_t extra;
} rc_res;
// clang-format off
FERRY_SCHEMA(rc_res_schema, rc_res,
             FERRY_F_I32(rc_res, rc),
             FERRY_F_U64(rc_res, extra, FERRY_OPT(rc_res, has_extra)));
// clang-format on

static void reply_rc(ferry_msg *m, int rc) {
    ferry_reply(m, &rc_res_schema, &(rc_res){.rc = rc});
}

static void reply_rc_extra(ferry_msg *m, int rc, uint64_t extra) {
    ferry_reply(m, &rc_res_schema,
                &(rc_res){.rc = rc, .has_extra = true, .extra = extra});
}

/* Reads an unsigned body (or 0). */
static uint64_t body_uint(const ferry_msg *m) {
    ferry_cbor_reader r;
    ferry_cbor_item it;
    ferry_cbor_reader_init(&r, m->body, m->body_len, NULL);
    return ferry_cbor_read(&r, &it) == 1 && it.type == FERRY_CBOR_UINT ? it.u
                                                                       : 0;
}

static bool is(const ferry_msg *m, const char *type) {
    return strcmp(m->type, type) == 0;
}

/* ------------------------------------------------------------- crash */

static volatile int sink;

static int crash_main(ferry_msg *init) {
    (void)init;
    ferry_msg m;
    while (ferry_recv(&m, FERRY_FOREVER) == FERRY_OK) {
        if (is(&m, "trap"))
            __builtin_trap();
        if (is(&m, "abort"))
            abort();
        if (is(&m, "exit"))
            exit(3);
        if (is(&m, "oob"))
            sink = *(volatile int *)(uintptr_t)0xfffffff0u;
        if (is(&m, "return")) {
            reply_rc(&m, 0);
            ferry_msg_free(&m);
            return 7;
        }
        if (m.kind == FERRY_MSG_CALL)
            reply_rc(&m, 0);
        ferry_msg_free(&m);
    }
    return 0;
}
FERRY_ACTOR("crash", crash_main);

/* ----------------------------------------------------------- counter */

/* Counts "n" sends whose bodies must arrive as 0, 1, 2, ... */
static int counter_main(ferry_msg *init) {
    (void)init;
    uint64_t next = 0, bad = 0;
    ferry_msg m;
    while (ferry_recv(&m, FERRY_FOREVER) == FERRY_OK) {
        if (is(&m, "n")) {
            if (body_uint(&m) != next)
                bad++;
            next++;
        } else if (is(&m, "get")) {
            ferry_cbor_buf b;
            ferry_cbor_buf_init(&b);
            ferry_cbor_put_map(&b, 2);
            ferry_cbor_put_cstr(&b, "count");
            ferry_cbor_put_uint(&b, next);
            ferry_cbor_put_cstr(&b, "out_of_order");
            ferry_cbor_put_uint(&b, bad);
            ferry_reply_raw(&m, b.data, b.len);
            ferry_cbor_buf_free(&b);
        }
        ferry_msg_free(&m);
    }
    return 0;
}
FERRY_ACTOR("counter", counter_main);

/* ---------------------------------------------------------- producer */

typedef struct produce_req {
    ferry_id to;
    uint32_t n;
} produce_req;
// clang-format off
FERRY_SCHEMA(produce_req_schema, produce_req,
             FERRY_F_ACTOR(produce_req, to),
             FERRY_F_U32(produce_req, n));
// clang-format on

/* Sends n messages "n" with bodies 0..n-1 to another actor, then calls it
 * ("get") over the same port: its reply says everything sent before it
 * was taken, so the caller can check the count without polling. */
static int producer_main(ferry_msg *init) {
    (void)init;
    ferry_arena arena;
    ferry_arena_init(&arena);
    ferry_msg m;
    while (ferry_recv(&m, FERRY_FOREVER) == FERRY_OK) {
        produce_req req;
        ferry_decode_error err;
        if (ferry_msg_decode(&m, &produce_req_schema, &req, &arena, &err)) {
            ferry_reply_error(&m, err.code, err.message);
        } else {
            int rc = FERRY_OK;
            uint8_t body[9];
            for (uint32_t i = 0; i < req.n && rc == FERRY_OK; i++) {
                ferry_cbor_buf b;
                ferry_cbor_buf_init_fixed(&b, body, sizeof body);
                ferry_cbor_put_uint(&b, i);
                rc = ferry_send_raw(req.to, "n", b.data, b.len);
            }
            if (rc == FERRY_OK) {
                ferry_msg r;
                rc = ferry_call_raw(req.to, "get", NULL, 0, &r, FERRY_FOREVER);
                ferry_msg_free(&r);
            }
            reply_rc(&m, rc);
        }
        ferry_msg_free(&m);
        ferry_arena_reset(&arena);
    }
    return 0;
}
FERRY_ACTOR("producer", producer_main);

/* ------------------------------------------------------------ waiter */

/*
 * "hold" {ms}: calls the host's "hold.wait" (which answers after a while)
 * and meanwhile leaves other messages in the mailbox; then answers, and
 * reports the types of the messages that waited, in order, to the host.
 * "recv" {ms}: ferry_recv with a timeout, answers {rc}.
 * "call_host" {ms}: calls the host's "never" with a timeout, answers {rc}.
 */
static int waiter_main(ferry_msg *init) {
    (void)init;
    ferry_msg m;
    while (ferry_recv(&m, FERRY_FOREVER) == FERRY_OK) {
        uint64_t ms = body_uint(&m);
        if (is(&m, "hold")) {
            ferry_msg r;
            int rc = ferry_call_raw(FERRY_HOST, "hold.wait", m.body, m.body_len,
                                    &r, FERRY_FOREVER);
            ferry_msg_free(&r);
            reply_rc(&m, rc);
            /* Whatever arrived meanwhile is still there, in order. */
            char seen[512] = "";
            ferry_msg q;
            while (ferry_recv(&q, 0) == FERRY_OK) {
                if (strlen(seen) + strlen(q.type) + 2 < sizeof seen) {
                    strcat(seen, q.type);
                    strcat(seen, ",");
                }
                if (q.kind == FERRY_MSG_CALL)
                    reply_rc(&q, 0);
                ferry_msg_free(&q);
            }
            ferry_cbor_buf b;
            ferry_cbor_buf_init(&b);
            ferry_cbor_put_cstr(&b, seen);
            ferry_send_raw(FERRY_HOST, "seen", b.data, b.len);
            ferry_cbor_buf_free(&b);
        } else if (is(&m, "recv")) {
            ferry_msg q;
            int rc = ferry_recv(&q, (int)ms);
            if (rc == FERRY_OK)
                ferry_msg_free(&q);
            reply_rc(&m, rc);
        } else if (is(&m, "call_host")) {
            ferry_msg r;
            int rc = ferry_call_raw(FERRY_HOST, "never", NULL, 0, &r, (int)ms);
            ferry_msg_free(&r);
            reply_rc(&m, rc);
        } else if (m.kind == FERRY_MSG_CALL) {
            reply_rc(&m, 0);
        }
        ferry_msg_free(&m);
    }
    return 0;
}
FERRY_ACTOR("waiter", waiter_main);

/* ------------------------------------------------------------- relay */

typedef struct relay_req {
    ferry_id to;
    const char *type;
    uint32_t timeout;
} relay_req;
// clang-format off
FERRY_SCHEMA(relay_req_schema, relay_req,
             FERRY_F_ACTOR(relay_req, to),
             FERRY_F_CSTR(relay_req, type),
             FERRY_F_U32(relay_req, timeout));
// clang-format on

/*
 * "relay" {to, type, timeout}: calls actor `to` with `type` and a small
 * body, actor to actor, and answers {rc, extra: reply length}.
 * "spawn" <text name>: ferry_spawn, then calls the new actor once.
 * "send_to" {to, type, timeout}: a plain send, then answers {rc}; a
 * delivery failure comes back later as an error message, which the relay
 * forwards to the host as "undelivered".
 */
static int relay_main(ferry_msg *init) {
    (void)init;
    ferry_arena arena;
    ferry_arena_init(&arena);
    ferry_msg m;
    while (ferry_recv(&m, FERRY_FOREVER) == FERRY_OK) {
        relay_req req;
        ferry_decode_error err;
        if (m.kind == FERRY_MSG_ERROR) {
            char text[200];
            int code = ferry_msg_error(&m, text, sizeof text);
            ferry_send(FERRY_HOST, "undelivered", &rc_res_schema,
                       &(rc_res){.rc = code});
        } else if (is(&m, "spawn")) {
            char name[64] = "";
            ferry_cbor_reader r;
            ferry_cbor_item it;
            ferry_cbor_reader_init(&r, m.body, m.body_len, NULL);
            if (ferry_cbor_read(&r, &it) == 1 && it.type == FERRY_CBOR_TEXT &&
                it.u < sizeof name)
                memcpy(name, it.data, (size_t)it.u);
            ferry_id id = 0;
            int rc = ferry_spawn(name, NULL, 0, &id);
            if (rc == FERRY_OK) {
                ferry_msg r2;
                rc = ferry_call_raw(id, "hello",
                                    "\x63"
                                    "abc",
                                    4, &r2, 5000);
                ferry_msg_free(&r2);
            }
            reply_rc_extra(&m, rc, id);
        } else if (ferry_msg_decode(&m, &relay_req_schema, &req, &arena,
                                    &err)) {
            ferry_reply_error(&m, err.code, err.message);
        } else if (is(&m, "relay")) {
            ferry_msg r;
            int rc =
                ferry_call_raw(req.to, req.type, "\x45hello", 6, &r,
                               req.timeout ? (int)req.timeout : FERRY_FOREVER);
            uint64_t len = rc == FERRY_OK ? r.body_len : 0;
            ferry_msg_free(&r);
            reply_rc_extra(&m, rc, len);
        } else if (is(&m, "send_to")) {
            reply_rc(&m, ferry_send_raw(req.to, req.type, "\x01", 1));
        }
        ferry_msg_free(&m);
        ferry_arena_reset(&arena);
    }
    return 0;
}
FERRY_ACTOR("relay", relay_main);

/* ----------------------------------------------------------- structs */

typedef struct total_res {
    uint64_t order_id;
    uint32_t items;
    uint32_t qty;
} total_res;
// clang-format off
FERRY_SCHEMA(total_res_schema, total_res,
             FERRY_F_U64(total_res, order_id),
             FERRY_F_U32(total_res, items),
             FERRY_F_U32(total_res, qty));
// clang-format on

/* "total" <order>: decodes with a schema, answers a struct; decode errors
 * go back as error replies naming the field. */
static int structs_main(ferry_msg *init) {
    (void)init;
    ferry_arena arena;
    ferry_arena_init(&arena);
    ferry_msg m;
    while (ferry_recv(&m, FERRY_FOREVER) == FERRY_OK) {
        order o;
        ferry_decode_error err;
        if (m.kind != FERRY_MSG_CALL) {
        } else if (ferry_msg_decode(&m, &order_schema, &o, &arena, &err)) {
            ferry_reply_error(&m, err.code, err.message);
        } else {
            total_res t = {o.id, (uint32_t)o.n_items, 0};
            for (size_t i = 0; i < o.n_items; i++)
                t.qty += o.items[i].qty;
            ferry_reply(&m, &total_res_schema, &t);
        }
        ferry_msg_free(&m);
        ferry_arena_reset(&arena);
    }
    return 0;
}
FERRY_ACTOR("structs", structs_main);

/* ------------------------------------------------------------- blobs */

typedef struct blob_msg {
    ferry_blob data;
} blob_msg;
// clang-format off
FERRY_SCHEMA(blob_msg_schema, blob_msg, FERRY_F_BLOB(blob_msg, data));
// clang-format on

typedef struct read_req {
    uint32_t off;
    uint32_t len;
} read_req;
// clang-format off
FERRY_SCHEMA(read_req_schema, read_req,
             FERRY_F_U32(read_req, off),
             FERRY_F_U32(read_req, len));
// clang-format on

typedef struct bytes_msg {
    ferry_bytes data;
} bytes_msg;
// clang-format off
FERRY_SCHEMA(bytes_msg_schema, bytes_msg, FERRY_F_BYTES(bytes_msg, data));
// clang-format on

typedef struct head_req {
    ferry_bytes data;
    uint32_t len;
} head_req;
// clang-format off
FERRY_SCHEMA(head_req_schema, head_req,
             FERRY_F_BYTES(head_req, data),
             FERRY_F_U32(head_req, len));
// clang-format on

/*
 * Keeps one blob: "put" {data: blob} takes it; "size" answers {rc, extra:
 * size}; "dup" answers {data: a copy made by the engine}; "take" answers
 * {data: the blob itself}, moved; "read" {off, len} answers {data: bytes
 * copied into wasm memory}; "from" n answers {data: a blob made from n
 * bytes of wasm memory}; "bytes" {data: bytes} echoes a bytes field
 * through wasm memory; "head" {data, len} answers {data: its first len
 * bytes} (a reply smaller than the call).
 */
static int blobs_main(ferry_msg *init) {
    (void)init;
    ferry_blob kept = FERRY_BLOB_NONE;
    ferry_arena arena;
    ferry_arena_init(&arena);
    ferry_msg m;
    while (ferry_recv(&m, FERRY_FOREVER) == FERRY_OK) {
        ferry_decode_error err;
        if (is(&m, "put")) {
            blob_msg b;
            if (ferry_msg_decode(&m, &blob_msg_schema, &b, &arena, &err)) {
                ferry_reply_error(&m, err.code, err.message);
            } else {
                ferry_blob_free(kept);
                kept = ferry_msg_take_blob(&m, b.data);
                reply_rc_extra(&m, 0, (uint64_t)ferry_blob_size(kept));
            }
        } else if (is(&m, "size")) {
            int64_t n = ferry_blob_size(kept);
            reply_rc_extra(&m, n < 0 ? (int)n : 0, n < 0 ? 0 : (uint64_t)n);
        } else if (is(&m, "dup")) {
            blob_msg out = {ferry_blob_dup(kept)};
            ferry_reply(&m, &blob_msg_schema, &out);
        } else if (is(&m, "take")) {
            blob_msg out = {kept};
            int rc = ferry_reply(&m, &blob_msg_schema, &out);
            if (rc)
                ferry_reply_error(&m, rc, "no blob to take");
            kept = FERRY_BLOB_NONE;
        } else if (is(&m, "read")) {
            read_req rq;
            if (ferry_msg_decode(&m, &read_req_schema, &rq, &arena, &err)) {
                ferry_reply_error(&m, err.code, err.message);
            } else {
                uint8_t *buf = malloc(rq.len ? rq.len : 1);
                int rc = ferry_blob_read(kept, rq.off, buf, rq.len);
                if (rc)
                    ferry_reply_error(&m, rc, "blob read out of range");
                else
                    ferry_reply(&m, &bytes_msg_schema,
                                &(bytes_msg){{buf, rq.len}});
                free(buf);
            }
        } else if (is(&m, "from")) {
            uint64_t n = body_uint(&m);
            uint8_t *buf = malloc(n ? n : 1);
            for (uint64_t i = 0; i < n; i++)
                buf[i] = (uint8_t)(i * 13 + 5);
            blob_msg out = {ferry_blob_from(buf, n)};
            free(buf);
            ferry_reply(&m, &blob_msg_schema, &out);
        } else if (is(&m, "head")) {
            head_req h;
            if (ferry_msg_decode(&m, &head_req_schema, &h, &arena, &err))
                ferry_reply_error(&m, err.code, err.message);
            else if (h.len > h.data.len)
                ferry_reply_error(&m, FERRY_ERANGE, "len is past the data");
            else
                ferry_reply(&m, &bytes_msg_schema,
                            &(bytes_msg){{h.data.ptr, h.len}});
        } else if (is(&m, "bytes")) {
            bytes_msg b;
            if (ferry_msg_decode(&m, &bytes_msg_schema, &b, &arena, &err))
                ferry_reply_error(&m, err.code, err.message);
            else
                ferry_reply(&m, &bytes_msg_schema, &b);
        } else if (m.kind == FERRY_MSG_CALL) {
            ferry_reply_error(&m, FERRY_ENOTFOUND, "unknown request");
        }
        ferry_msg_free(&m);
        ferry_arena_reset(&arena);
    }
    return 0;
}
FERRY_ACTOR("blobs", blobs_main);

/* ------------------------------------------------------------ talker */

/* "notify" n: sends n messages "note" with bodies 0..n-1 to the host.
 * "init?": answers with the init value it was spawned with. */
static int talker_main(ferry_msg *init) {
    ferry_msg m;
    while (ferry_recv(&m, FERRY_FOREVER) == FERRY_OK) {
        if (is(&m, "notify")) {
            uint64_t n = body_uint(&m);
            for (uint64_t i = 0; i < n; i++) {
                uint8_t body[9];
                ferry_cbor_buf b;
                ferry_cbor_buf_init_fixed(&b, body, sizeof body);
                ferry_cbor_put_uint(&b, i);
                ferry_send_raw(FERRY_HOST, "note", b.data, b.len);
            }
            reply_rc(&m, 0);
        } else if (is(&m, "init?")) {
            ferry_reply_raw(&m, init->body, init->body_len);
        } else if (is(&m, "self")) {
            reply_rc_extra(&m, 0, ferry_self());
        } else if (is(&m, "printf")) {
            printf("hello from C %d\n", 42);
            fflush(stdout);
            reply_rc(&m, 0);
        } else if (m.kind == FERRY_MSG_CALL) {
            reply_rc(&m, 0);
        }
        ferry_msg_free(&m);
    }
    return 0;
}
FERRY_ACTOR("talker", talker_main);
