/*
 * runtime_pieces.c - test actors for the pieces a real app needs: calls
 * that do not block, monitors, blob loans, blobs built in place, and the
 * reports of undelivered messages (test/js/pieces.test.mjs).
 */
#include <stdlib.h>
#include <string.h>

#include <ferry.h>

static bool is(const ferry_msg *m, const char *type) {
    return strcmp(m->type, type) == 0;
}

/* One reply shape for every test here: rc and five counters or values,
 * and a text. */
typedef struct report {
    int32_t rc;
    int64_t a, b, c, d, e;
    const char *text;
} report;
// clang-format off
FERRY_SCHEMA(report_schema, report,
             FERRY_F_I32(report, rc),
             FERRY_F_I64(report, a), FERRY_F_I64(report, b),
             FERRY_F_I64(report, c), FERRY_F_I64(report, d),
             FERRY_F_I64(report, e),
             FERRY_F_CSTR(report, text));
// clang-format on

static void reply_report(ferry_msg *m, report r) {
    if (!r.text)
        r.text = "";
    ferry_reply(m, &report_schema, &r);
}

/* The requests: which actor, how many, a deadline, a size; all optional
 * (read by hand, so missing keys keep their defaults). */
typedef struct req {
    ferry_id to;
    uint32_t n;
    int32_t ms;
    uint32_t size;
} req;

static int decode_req(ferry_msg *m, req *out) {
    memset(out, 0, sizeof *out);
    out->ms = FERRY_FOREVER;
    /* Fields are optional here: missing ones keep their defaults, so a
     * body that is not a map or misses keys is not an error. */
    ferry_cbor_reader r;
    ferry_cbor_item k, v;
    ferry_cbor_reader_init(&r, m->body, m->body_len, NULL);
    if (ferry_cbor_read(&r, &k) != 1 || k.type != FERRY_CBOR_MAP)
        return FERRY_OK;
    while (ferry_cbor_read(&r, &k) == 1 && k.type != FERRY_CBOR_END) {
        if (ferry_cbor_read(&r, &v) != 1)
            break;
        int64_t x = v.type == FERRY_CBOR_UINT     ? (int64_t)v.u
                    : v.type == FERRY_CBOR_NEGINT ? -1 - (int64_t)v.u
                                                  : 0;
        if (k.type == FERRY_CBOR_TEXT && k.u == 2 && !memcmp(k.data, "to", 2))
            out->to = (ferry_id)x;
        else if (k.type == FERRY_CBOR_TEXT && k.u == 1 && k.data[0] == 'n')
            out->n = (uint32_t)x;
        else if (k.type == FERRY_CBOR_TEXT && k.u == 2 &&
                 !memcmp(k.data, "ms", 2))
            out->ms = (int32_t)x;
        else if (k.type == FERRY_CBOR_TEXT && k.u == 4 &&
                 !memcmp(k.data, "size", 4))
            out->size = (uint32_t)x;
        ferry_cbor_skip(&r, &v);
    }
    return FERRY_OK;
}

/* ------------------------------------------------------------- asker */

/*
 * "fan" {to, n, ms}: n async calls "x" (body i) to actor `to` (0: the
 * host), each with deadline ms; while they are out it keeps answering
 * "ping" calls; replies {a: replies, b: ETIMEDOUT, c: EDOWN, d: other
 * errors, e: pings served} once all n settled, rc = 0 if every corr was
 * one of ours and none came twice.
 * "post" {to, size}: sends "hello" carrying a new blob of size bytes to
 * `to`, then waits for the undelivered report: {rc: its code, a: to,
 * b: corr, c: blobs that came back, d: their size, text: type}.
 */
#define FAN_MAX 1024

static void fan(ferry_msg *call, const req *q) {
    static uint64_t corrs[FAN_MAX];
    static bool done[FAN_MAX];
    report r = {0};
    uint32_t n = q->n < FAN_MAX ? q->n : FAN_MAX;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t body[9];
        ferry_cbor_buf b;
        ferry_cbor_buf_init_fixed(&b, body, sizeof body);
        ferry_cbor_put_uint(&b, i);
        done[i] = false;
        int rc =
            ferry_call_async_raw(q->to, "x", b.data, b.len, q->ms, &corrs[i]);
        if (rc) {
            r.rc = rc;
            reply_report(call, r);
            return;
        }
    }
    uint32_t settled = 0;
    ferry_msg m;
    while (settled < n && ferry_recv(&m, FERRY_FOREVER) == FERRY_OK) {
        if (m.kind == FERRY_MSG_CALL && is(&m, "ping")) {
            r.e++;
            reply_report(&m, (report){0});
        } else if (m.kind == FERRY_MSG_REPLY || m.kind == FERRY_MSG_ERROR) {
            uint32_t i = 0;
            while (i < n && corrs[i] != m.corr)
                i++;
            if (i == n || done[i]) {
                r.rc = FERRY_EINVAL; /* not ours, or twice */
            } else {
                done[i] = true;
                settled++;
                int code = m.kind == FERRY_MSG_ERROR ? ferry_msg_error(&m, 0, 0)
                                                     : FERRY_OK;
                if (code == FERRY_OK)
                    r.a++;
                else if (code == FERRY_ETIMEDOUT)
                    r.b++;
                else if (code == FERRY_EDOWN)
                    r.c++;
                else
                    r.d++;
            }
        }
        ferry_msg_free(&m);
    }
    reply_report(call, r);
}

static void post_blob(ferry_msg *call, const req *q) {
    report r = {0};
    ferry_blob blob = ferry_blob_alloc(q->size);
    /* {data: 41999(0)} */
    static const uint8_t body[] = {0xa1, 0x64, 'd',  'a',  't',
                                   'a',  0xd9, 0xa4, 0x0f, 0x00};
    int rc = ferry_send_raw_blobs(q->to, "hello", body, sizeof body, &blob, 1);
    if (rc) {
        r.rc = rc;
        r.e = (uint64_t)ferry_blob_state(blob); /* still ours? */
        ferry_blob_free(blob);
        reply_report(call, r);
        return;
    }
    ferry_msg m;
    while ((rc = ferry_recv(&m, 5000)) == FERRY_OK) {
        if (m.kind == FERRY_MSG_ERROR) {
            ferry_notice nt;
            ferry_msg_notice(&m, &nt);
            r.rc = nt.code;
            r.a = nt.to;
            r.b = nt.corr;
            r.c = ferry_msg_blob_count(&m);
            if (r.c)
                r.d = (uint64_t)ferry_blob_size(ferry_msg_blob(&m, 0));
            static char type[64];
            memcpy(type, nt.type, sizeof type);
            r.text = type;
            ferry_msg_free(&m);
            break;
        }
        ferry_msg_free(&m);
    }
    if (rc)
        r.rc = rc;
    reply_report(call, r);
}

static int asker_main(ferry_msg *init) {
    (void)init;
    ferry_msg m;
    while (ferry_recv(&m, FERRY_FOREVER) == FERRY_OK) {
        req q;
        decode_req(&m, &q);
        if (is(&m, "fan"))
            fan(&m, &q);
        else if (is(&m, "post"))
            post_blob(&m, &q);
        else if (m.kind == FERRY_MSG_CALL)
            reply_report(&m, (report){0});
        ferry_msg_free(&m);
    }
    return 0;
}
FERRY_ACTOR("asker", asker_main);

/* Takes calls and never answers them (until "answer" {n}: answers the n
 * oldest it holds). */
static int sink_main(ferry_msg *init) {
    (void)init;
    static ferry_msg held[FAN_MAX];
    size_t nheld = 0;
    ferry_msg m;
    while (ferry_recv(&m, FERRY_FOREVER) == FERRY_OK) {
        if (is(&m, "answer")) {
            req q;
            decode_req(&m, &q);
            size_t k = q.n < nheld ? q.n : nheld;
            for (size_t i = 0; i < k; i++) {
                ferry_reply_raw(&held[i], NULL, 0);
                ferry_msg_free(&held[i]);
            }
            memmove(held, held + k, (nheld - k) * sizeof *held);
            nheld -= k;
            reply_report(&m, (report){.a = k});
        } else if (m.kind == FERRY_MSG_CALL && nheld < FAN_MAX) {
            held[nheld++] = m;
            continue;
        }
        ferry_msg_free(&m);
    }
    return 0;
}
FERRY_ACTOR("sink", sink_main);

/* ----------------------------------------------------------- watcher */

/* "watch"/"unwatch" {to}; "last": {a: down notices seen, b: last id,
 * c: its exit code, d: normal, rc: its code, text: "name: message"}. */
static int watcher_main(ferry_msg *init) {
    (void)init;
    static char text[300];
    report last = {0};
    ferry_msg m;
    while (ferry_recv(&m, FERRY_FOREVER) == FERRY_OK) {
        req q;
        decode_req(&m, &q);
        if (is(&m, "watch")) {
            reply_report(&m, (report){.rc = ferry_monitor(q.to)});
        } else if (is(&m, "unwatch")) {
            reply_report(&m, (report){.rc = ferry_demonitor(q.to)});
        } else if (is(&m, "ferry.down") && m.kind == FERRY_MSG_SEND) {
            ferry_notice nt;
            ferry_msg_notice(&m, &nt);
            last.a++;
            last.b = nt.id;
            last.c = (uint64_t)(int64_t)nt.exit_code;
            last.d = (uint64_t)nt.normal;
            last.e = m.from;
            last.rc = nt.code;
            strcpy(text, nt.name);
            strcat(text, ": ");
            strncat(text, nt.message, sizeof text - strlen(text) - 1);
            last.text = text;
        } else if (is(&m, "last")) {
            reply_report(&m, last);
        } else if (m.kind == FERRY_MSG_CALL) {
            reply_report(&m, (report){0});
        }
        ferry_msg_free(&m);
    }
    return 0;
}
FERRY_ACTOR("watcher", watcher_main);

/* ------------------------------------------------------------ lender */

typedef struct blob_reply {
    ferry_blob data;
} blob_reply;
// clang-format off
FERRY_SCHEMA(blob_reply_schema, blob_reply, FERRY_F_BLOB(blob_reply, data));
// clang-format on

/* The byte at offset i of a made blob. */
static uint8_t pattern(uint32_t i) {
    return (uint8_t)(i * 7 + (i >> 11) + 3);
}

/*
 * Holds one blob. "make" {size}: builds it in place with ferry_blob_alloc
 * and ferry_blob_write through a 4 KiB buffer (wasm memory never holds
 * it); "get" {ms}: lends it in the reply (deadline ms); "copy": replies an
 * engine copy (moved); "give" {to, ms}: lends it to actor `to` in a send
 * "borrow"; "state": {rc: ferry_blob_state, a: homes, b: losts, c: byte 1
 * read back (or the read's error), d: notices naming the wrong blob,
 * e: blobs that came back with dropped replies}; "send_lent":
 * tries to send it while lent (rc: what ferry_send returned).
 */
static int lender_main(ferry_msg *init) {
    (void)init;
    ferry_blob kept = FERRY_BLOB_NONE;
    uint64_t homes = 0, losts = 0, bad = 0, back = 0;
    ferry_msg m;
    while (ferry_recv(&m, FERRY_FOREVER) == FERRY_OK) {
        req q;
        decode_req(&m, &q);
        if (m.kind == FERRY_MSG_ERROR && !m.corr) {
            /* A reply of ours that was dropped: its blobs came back. */
            back += ferry_msg_blob_count(&m);
        } else if (is(&m, "make")) {
            ferry_blob_free(kept);
            kept = ferry_blob_alloc(q.size);
            uint8_t chunk[4096];
            int rc = ferry_blob_valid(kept) ? FERRY_OK : FERRY_ENOMEM;
            for (uint32_t off = 0; off < q.size && rc == FERRY_OK;
                 off += sizeof chunk) {
                uint32_t n =
                    q.size - off < sizeof chunk ? q.size - off : sizeof chunk;
                for (uint32_t i = 0; i < n; i++)
                    chunk[i] = pattern(off + i);
                rc = ferry_blob_write(kept, off, chunk, n);
            }
            /* A write past the end is refused. */
            int past = ferry_blob_write(kept, q.size, chunk, 1);
            reply_report(&m, (report){.rc = rc,
                                      .a = (uint64_t)ferry_blob_size(kept),
                                      .b = (uint64_t)(int64_t)past});
        } else if (is(&m, "get")) {
            int rc = ferry_blob_lend(kept, q.ms < 0 ? 0 : q.ms);
            if (rc)
                ferry_reply_error(&m, rc, "the chunk is not home");
            else if ((rc = ferry_reply(&m, &blob_reply_schema,
                                       &(blob_reply){kept})))
                ferry_reply_error(&m, rc, "cannot lend");
        } else if (is(&m, "copy")) {
            blob_reply out = {ferry_blob_dup(kept)};
            ferry_reply(&m, &blob_reply_schema, &out);
        } else if (is(&m, "give")) {
            int rc = ferry_blob_lend(kept, q.ms < 0 ? 0 : q.ms);
            if (!rc)
                rc = ferry_send(q.to, "borrow", &blob_reply_schema,
                                &(blob_reply){kept});
            reply_report(&m, (report){.rc = rc});
        } else if (is(&m, "send_lent")) {
            int rc = ferry_send(FERRY_HOST, "again", &blob_reply_schema,
                                &(blob_reply){kept});
            reply_report(&m, (report){.rc = rc});
        } else if (is(&m, "state")) {
            uint8_t byte = 0;
            int rr = ferry_blob_read(kept, 1, &byte, 1);
            reply_report(&m, (report){.rc = ferry_blob_state(kept),
                                      .a = homes,
                                      .b = losts,
                                      .c = rr ? (uint64_t)(int64_t)rr : byte,
                                      .d = bad,
                                      .e = back});
        } else if (is(&m, "ferry.loan.home") || is(&m, "ferry.loan.lost")) {
            ferry_notice nt;
            ferry_msg_notice(&m, &nt);
            if (is(&m, "ferry.loan.home"))
                homes++;
            else
                losts++;
            if (nt.blob.h != kept.h) /* it names the blob */
                bad++;
        } else if (m.kind == FERRY_MSG_CALL) {
            reply_report(&m, (report){0});
        }
        ferry_msg_free(&m);
    }
    return 0;
}
FERRY_ACTOR("lender", lender_main);

/*
 * Borrows: a send "borrow" {data} is kept (its blob taken). "check":
 * {rc: state of what it holds, a: its size, b: byte 1, c: what sending it
 * on returned}; "return": ferry_blob_return; "drop": frees the message's
 * blob without taking it (the runtime returns it); "trap" dies holding it;
 * "spin" loops forever holding it (the fault storm kills its worker).
 */
static int borrower_main(ferry_msg *init) {
    (void)init;
    ferry_blob held = FERRY_BLOB_NONE;
    ferry_msg m;
    ferry_arena arena;
    ferry_arena_init(&arena);
    while (ferry_recv(&m, FERRY_FOREVER) == FERRY_OK) {
        if (is(&m, "borrow")) {
            blob_reply b;
            ferry_decode_error err;
            if (!ferry_msg_decode(&m, &blob_reply_schema, &b, &arena, &err))
                held = ferry_msg_take_blob(&m, b.data);
        } else if (is(&m, "check")) {
            uint8_t byte = 0;
            ferry_blob_read(held, 1, &byte, 1);
            int on = ferry_send(FERRY_HOST, "onward", &blob_reply_schema,
                                &(blob_reply){held});
            reply_report(&m, (report){.rc = ferry_blob_state(held),
                                      .a = (uint64_t)ferry_blob_size(held),
                                      .b = byte,
                                      .c = (uint64_t)(int64_t)on});
        } else if (is(&m, "return")) {
            reply_report(&m, (report){.rc = ferry_blob_return(held)});
            held = FERRY_BLOB_NONE;
        } else if (is(&m, "drop")) {
            ferry_blob_free(held);
            held = FERRY_BLOB_NONE;
            reply_report(&m, (report){0});
        } else if (is(&m, "trap")) {
            __builtin_trap();
        } else if (is(&m, "spin")) {
            /* As faults.c's spin: the host hears first, and gets the
             * replies made so far. */
            ferry_msg reply;
            if (ferry_call_raw(FERRY_HOST, "spinning", "\xf6", 1, &reply,
                               10000) == FERRY_OK)
                ferry_msg_free(&reply);
            for (volatile int go = 1; go;)
                ;
        } else if (m.kind == FERRY_MSG_CALL) {
            reply_report(&m, (report){0});
        }
        ferry_msg_free(&m);
        ferry_arena_reset(&arena);
    }
    return 0;
}
FERRY_ACTOR("borrower", borrower_main);

/* ------------------------------------------------------------- picky */

/* Its init value must be a positive number, or it returns 2 before its
 * first ferry_recv: spawn must reject. Init "trap" traps in init. */
static int picky_main(ferry_msg *init) {
    ferry_cbor_reader r;
    ferry_cbor_item it;
    ferry_cbor_reader_init(&r, init->body, init->body_len, NULL);
    if (ferry_cbor_read(&r, &it) != 1)
        return 2;
    if (it.type == FERRY_CBOR_TEXT && it.u == 4 && !memcmp(it.data, "trap", 4))
        __builtin_trap();
    if (it.type != FERRY_CBOR_UINT || it.u == 0)
        return 2;
    uint64_t n = it.u;
    ferry_msg m;
    while (ferry_recv(&m, FERRY_FOREVER) == FERRY_OK) {
        if (m.kind == FERRY_MSG_CALL)
            reply_report(&m, (report){.a = n});
        ferry_msg_free(&m);
    }
    return 0;
}
FERRY_ACTOR("picky", picky_main);
