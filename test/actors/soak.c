/* soak.c - the actor of the soak test (test/soak/soak.mjs,
 * docs/reliability.md ("The soak")).
 *
 * Sixteen of these exchange messages with each other, the host and a JS
 * thread for minutes, and each checks what it receives:
 *
 *   "soak.data" (send or call), {seq, seed, size, mode, data?, blob?}: one
 *     message of a sender-receiver pair; seq counts 0, 1, 2... per pair,
 *     sends and calls alike. mode 0 carries the payload as a bytes field
 *     (copied through wasm memory), 1 as a blob (moved), 2 as a lent blob
 *     (comes home when the receiver frees it). The payload is
 *     soak_pattern(seed, i); the receiver checks it (all of it up to 1 MB,
 *     samples beyond). A call is answered {seq}.
 *   "soak.start" {peers: [ids], seed, max_size}: start sending to peers and
 *     the host, payloads up to max_size bytes.
 *   "soak.quiesce" (call): stop sending; answered once every call this
 *     actor made has its reply and every loan is home. Each send group ends
 *     with a call on the same port, so by then every send has been taken.
 *   "soak.report" (call): the counts (see report()).
 *   "soak.lend" (call) {seed, size}: answered with a lent blob (JS borrowers).
 *   "soak.burst" (call) {to, n, rounds}: see on_burst().
 *
 * The order check, per sender: `next` is the seq expected; a seq above it
 * records the skipped ones as missing (they are lost unless they arrive
 * late); a seq below it is "reordered" if it was missing and "duplicated"
 * if not. test/soak/checker.mjs does the same in JS, and judge() there
 * turns the reports into lost/duplicated/reordered per pair.
 */
#include <ferry.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PAIRS 64   /* senders or receivers this actor knows */
#define MAX_MISSING 32 /* per sender: skipped seqs remembered */
#define MAX_PENDING 8  /* calls of our own in flight */
#define MAX_LENT 16    /* our blobs out on loan */
#define GROUPS_IN_FLIGHT 4
#define BIG_SIZE (20u << 20)
#define FULL_CHECK (1u << 20)

/* The payload's byte i, the same in test/soak/checker.mjs. */
static inline uint8_t soak_pattern(uint32_t seed, uint32_t i) {
    return (uint8_t)(((i ^ seed) * 2654435761u + seed) >> 24);
}

static void fill(uint8_t *p, uint32_t seed, uint32_t from, uint32_t n) {
    for (uint32_t i = 0; i < n; i++)
        p[i] = soak_pattern(seed, from + i);
}

static int check_range(const uint8_t *p, uint32_t seed, uint32_t from,
                       uint32_t n) {
    for (uint32_t i = 0; i < n; i++)
        if (p[i] != soak_pattern(seed, from + i))
            return 0;
    return 1;
}

/* ----------------------------------------------------------- bookkeeping */

typedef struct rx_pair {
    ferry_id from;
    uint32_t next, received, dups, reordered, overflow, bad;
    uint32_t missing[MAX_MISSING];
    uint32_t nmissing;
} rx_pair;

typedef struct tx_pair {
    ferry_id to;
    uint32_t next;
} tx_pair;

static rx_pair rx[MAX_PAIRS];
static size_t nrx;
static tx_pair tx[MAX_PAIRS];
static size_t ntx;

typedef struct pending_call {
    uint64_t corr;
    uint32_t seq;
    int big;
} pending_call;
static pending_call pending[MAX_PENDING];
static size_t npending;

static ferry_blob lent[MAX_LENT];
static size_t nlent;

static struct {
    uint64_t msgs_sent, msgs_recv, bytes_sent, bytes_recv;
    uint32_t calls, replies, call_errors, unknown_replies, other_errors;
    uint32_t loans_lent, loans_home, loans_lost, send_errors, decode_errors;
    uint32_t calls_answered;
    uint64_t by_mode[3]; /* received as bytes field, moved blob, loan */
    uint32_t big_recv;   /* of BIG_SIZE */
    uint32_t min_size, max_size;
} st = {.min_size = UINT32_MAX};

static ferry_id peers[MAX_PAIRS];
static size_t npeers;
static int generating;
static int big_in_flight;
static uint32_t max_size = BIG_SIZE;
static uint64_t rng = 88172645463325252ull;

static uint32_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static rx_pair *rx_for(ferry_id from) {
    for (size_t i = 0; i < nrx; i++)
        if (rx[i].from == from)
            return &rx[i];
    if (nrx == MAX_PAIRS)
        return NULL;
    memset(&rx[nrx], 0, sizeof rx[nrx]);
    rx[nrx].from = from;
    return &rx[nrx++];
}

static tx_pair *tx_for(ferry_id to) {
    for (size_t i = 0; i < ntx; i++)
        if (tx[i].to == to)
            return &tx[i];
    if (ntx == MAX_PAIRS)
        return NULL;
    tx[ntx].to = to;
    tx[ntx].next = 0;
    return &tx[ntx++];
}

/* Records seq from one sender (see the header comment). */
static void observe(rx_pair *p, uint32_t seq) {
    p->received++;
    if (seq == p->next) {
        p->next++;
        return;
    }
    if (seq > p->next) {
        for (uint32_t s = p->next; s < seq; s++) {
            if (p->nmissing < MAX_MISSING)
                p->missing[p->nmissing++] = s;
            else
                p->overflow++; /* counted lost: too many to remember */
        }
        p->next = seq + 1;
        return;
    }
    for (uint32_t i = 0; i < p->nmissing; i++) {
        if (p->missing[i] == seq) {
            p->missing[i] = p->missing[--p->nmissing];
            p->reordered++;
            return;
        }
    }
    p->dups++;
}

/* ----------------------------------------------------------------- body */

typedef struct soak_data {
    uint32_t seq;
    uint32_t seed;
    uint32_t size;
    uint32_t mode;
    bool has_data;
    ferry_bytes data;
    bool has_blob;
    ferry_blob blob;
} soak_data;
// clang-format off
FERRY_SCHEMA(soak_data_schema, soak_data,
             FERRY_F_U32(soak_data, seq),
             FERRY_F_U32(soak_data, seed),
             FERRY_F_U32(soak_data, size),
             FERRY_F_U32(soak_data, mode),
             FERRY_F_BYTES(soak_data, data, FERRY_OPT(soak_data, has_data)),
             FERRY_F_BLOB(soak_data, blob, FERRY_OPT(soak_data, has_blob)));
// clang-format on

typedef struct soak_start {
    ferry_id *peers;
    size_t n_peers;
    uint32_t seed;
    uint32_t max_size;
} soak_start;
// clang-format off
FERRY_SCHEMA(soak_start_schema, soak_start,
             FERRY_F_ARRAY(soak_start, peers, n_peers, FERRY_ELEM_ACTOR, MAX_PAIRS),
             FERRY_F_U32(soak_start, seed),
             FERRY_F_U32(soak_start, max_size));
// clang-format on

typedef struct soak_reply {
    uint32_t seq;
} soak_reply;
// clang-format off
FERRY_SCHEMA(soak_reply_schema, soak_reply,
             FERRY_F_U32(soak_reply, seq));
// clang-format on

typedef struct soak_lend {
    uint32_t seed;
    uint32_t size;
} soak_lend;
// clang-format off
FERRY_SCHEMA(soak_lend_schema, soak_lend,
             FERRY_F_U32(soak_lend, seed),
             FERRY_F_U32(soak_lend, size));
// clang-format on

/* Checks a payload of size bytes: all of a small one, and for a big one
 * its first and last 64 KiB plus 256 bytes every MiB, so a 20 MB message
 * costs little more to check than to receive. read(ctx, off, dst, n)
 * fetches a piece. */
typedef int (*reader)(const void *ctx, uint32_t off, uint8_t *dst, uint32_t n);

static int read_bytes(const void *ctx, uint32_t off, uint8_t *dst, uint32_t n) {
    memcpy(dst, (const uint8_t *)ctx + off, n);
    return 1;
}

static int read_blob(const void *ctx, uint32_t off, uint8_t *dst, uint32_t n) {
    return ferry_blob_read(*(const ferry_blob *)ctx, off, dst, n) == FERRY_OK;
}

static uint8_t scratch[64 << 10];

static int check_piece(reader rd, const void *ctx, uint32_t seed, uint32_t off,
                       uint32_t n) {
    while (n) {
        uint32_t k = n < sizeof scratch ? n : (uint32_t)sizeof scratch;
        if (!rd(ctx, off, scratch, k) || !check_range(scratch, seed, off, k))
            return 0;
        off += k;
        n -= k;
    }
    return 1;
}

static int check_payload(reader rd, const void *ctx, uint32_t seed,
                         uint32_t size) {
    if (rd == read_bytes && size <= FULL_CHECK)
        return check_range(ctx, seed, 0, size);
    if (size <= 2 * sizeof scratch)
        return check_piece(rd, ctx, seed, 0, size);
    uint32_t edge = (uint32_t)sizeof scratch;
    if (!check_piece(rd, ctx, seed, 0, edge) ||
        !check_piece(rd, ctx, seed, size - edge, edge))
        return 0;
    for (uint32_t off = edge; off + 256 < size - edge; off += 1u << 20)
        if (!check_piece(rd, ctx, seed, off, 256))
            return 0;
    return 1;
}

static const uint8_t cbor_null[1] = {0xf6};

static size_t put_reply_seq(uint8_t *out, size_t cap, uint32_t seq) {
    ferry_cbor_buf b;
    ferry_cbor_buf_init_fixed(&b, out, cap);
    ferry_cbor_put_map(&b, 1);
    ferry_cbor_put_cstr(&b, "seq");
    ferry_cbor_put_uint(&b, seq);
    return b.len;
}

/* A "soak.data" message: order, content, then a reply if it is a call. */
static void on_data(ferry_msg *m, ferry_arena *arena) {
    soak_data d;
    ferry_decode_error err;
    if (ferry_msg_decode(m, &soak_data_schema, &d, arena, &err) != FERRY_OK) {
        st.decode_errors++;
        if (m->kind == FERRY_MSG_CALL)
            ferry_reply_error(m, err.code, err.message);
        return;
    }
    rx_pair *p = rx_for(m->from);
    if (!p) {
        st.other_errors++;
        if (m->kind == FERRY_MSG_CALL)
            ferry_reply_error(m, FERRY_ENOMEM, "too many senders to track");
        return;
    }
    observe(p, d.seq);
    st.msgs_recv++;
    st.bytes_recv += d.size;
    if (d.mode < 3)
        st.by_mode[d.mode]++;
    st.big_recv += d.size == BIG_SIZE;
    if (d.size < st.min_size)
        st.min_size = d.size;
    if (d.size > st.max_size)
        st.max_size = d.size;
    int ok;
    if (d.mode == 0)
        ok = d.has_data && d.data.len == d.size &&
             check_payload(read_bytes, d.data.ptr, d.seed, d.size);
    else
        ok = d.has_blob && ferry_blob_size(d.blob) == (int64_t)d.size &&
             check_payload(read_blob, &d.blob, d.seed, d.size);
    if (!ok)
        p->bad++;
    /* A borrowed blob goes home when the message is freed; a moved one is
     * released with it: nothing to keep. */
    if (m->kind == FERRY_MSG_CALL) {
        uint8_t body[16];
        if (ferry_reply_raw(m, body, put_reply_seq(body, sizeof body, d.seq)) ==
            FERRY_OK)
            st.calls_answered++;
        else
            st.send_errors++;
    }
}

/* --------------------------------------------------------------- sending */

static uint32_t pick_size(int *big) {
    uint32_t r = rnd() % 1000;
    *big = 0;
    if (r < 600)
        return 16 + rnd() % 241; /* 16..256 B */
    if (r < 900)
        return 256 + rnd() % (16u << 10);
    if (r < 985)
        return (16u << 10) + rnd() % (1u << 20);
    if (r < 997 || big_in_flight || max_size < BIG_SIZE)
        return (1u << 20) + rnd() % (3u << 20);
    *big = 1;
    return BIG_SIZE;
}

static uint32_t pick_size_capped(int *big) {
    uint32_t size = pick_size(big);
    return size < max_size ? size : max_size;
}

/* Sends one message of a pair; as a call when corr is not NULL. */
static int send_data(ferry_id to, uint32_t size, uint32_t mode, uint64_t *corr,
                     uint32_t *seq_out) {
    tx_pair *t = tx_for(to);
    if (!t)
        return FERRY_ENOMEM;
    soak_data d = {0};
    d.seq = t->next;
    d.seed = rnd();
    d.size = size;
    d.mode = mode;
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return FERRY_ENOMEM;
    fill(buf, d.seed, 0, size);
    ferry_blob b = FERRY_BLOB_NONE;
    if (mode == 0) {
        d.has_data = true;
        d.data.ptr = buf;
        d.data.len = size;
    } else {
        b = ferry_blob_from(buf, size);
        if (!ferry_blob_valid(b)) {
            free(buf);
            return FERRY_ENOMEM;
        }
        if (mode == 2) {
            if (nlent == MAX_LENT || ferry_blob_lend(b, 120000) != FERRY_OK) {
                ferry_blob_free(b);
                free(buf);
                return FERRY_EBUSY;
            }
        }
        d.has_blob = true;
        d.blob = b;
    }
    int rc = corr ? ferry_call_async(to, "soak.data", &soak_data_schema, &d,
                                     300000, corr)
                  : ferry_send(to, "soak.data", &soak_data_schema, &d);
    free(buf);
    if (rc != FERRY_OK) {
        st.send_errors++;
        if (mode == 2)
            ferry_blob_free(b);
        return rc;
    }
    if (mode == 2) {
        lent[nlent++] = b;
        st.loans_lent++;
    }
    *seq_out = t->next++;
    st.msgs_sent++;
    st.bytes_sent += size;
    return FERRY_OK;
}

/* One group: 0..3 sends and a call, all to one peer (or the host). */
static void send_group(void) {
    ferry_id to =
        (rnd() % (npeers + 1) == npeers) ? FERRY_HOST : peers[rnd() % npeers];
    uint32_t nsends = rnd() % 4, seq;
    for (uint32_t i = 0; i <= nsends; i++) {
        int big;
        uint32_t size = pick_size_capped(&big);
        uint32_t mode = rnd() % 3;
        if (mode == 2 && nlent == MAX_LENT)
            mode = 1;
        if (i < nsends) {
            if (!big) /* the big ones travel as calls: one in flight */
                send_data(to, size, mode, NULL, &seq);
            continue;
        }
        uint64_t corr;
        if (send_data(to, size, mode, &corr, &seq) == FERRY_OK) {
            pending[npending].corr = corr;
            pending[npending].seq = seq;
            pending[npending].big = big;
            npending++;
            big_in_flight |= big;
            st.calls++;
        }
    }
}

static void on_reply(ferry_msg *m) {
    for (size_t i = 0; i < npending; i++) {
        if (pending[i].corr != m->corr)
            continue;
        if (m->kind == FERRY_MSG_ERROR) {
            st.call_errors++;
        } else {
            st.replies++;
            /* the reply names the seq it answers */
            soak_reply r;
            ferry_decode_error err;
            ferry_arena arena;
            ferry_arena_init(&arena);
            int ok = ferry_msg_decode(m, &soak_reply_schema, &r, &arena,
                                      &err) == FERRY_OK &&
                     r.seq == pending[i].seq;
            ferry_arena_free(&arena);
            if (!ok)
                st.call_errors++;
        }
        if (pending[i].big)
            big_in_flight = 0;
        pending[i] = pending[--npending];
        return;
    }
    st.unknown_replies++;
}

static void on_loan_notice(ferry_msg *m) {
    ferry_notice n;
    if (ferry_msg_notice(m, &n) != FERRY_OK) {
        st.other_errors++;
        return;
    }
    for (size_t i = 0; i < nlent; i++) {
        if (lent[i].h != n.blob.h)
            continue;
        if (strcmp(m->type, "ferry.loan.home") == 0)
            st.loans_home++;
        else
            st.loans_lost++;
        ferry_blob_free(lent[i]);
        lent[i] = lent[--nlent];
        return;
    }
    st.other_errors++;
}

/* ---------------------------------------------------------------- report */

static void put_kv(ferry_cbor_buf *b, const char *k, uint64_t v) {
    ferry_cbor_put_cstr(b, k);
    ferry_cbor_put_uint(b, v);
}

static void report(ferry_msg *m) {
    ferry_cbor_buf b;
    ferry_cbor_buf_init(&b);
    ferry_cbor_put_map(&b, 25); /* keep in step with the pairs below */
    ferry_cbor_put_cstr(&b, "sent");
    ferry_cbor_put_array(&b, ntx);
    for (size_t i = 0; i < ntx; i++) {
        ferry_cbor_put_array(&b, 2);
        ferry_cbor_put_uint(&b, tx[i].to);
        ferry_cbor_put_uint(&b, tx[i].next);
    }
    ferry_cbor_put_cstr(&b, "recv");
    ferry_cbor_put_array(&b, nrx);
    for (size_t i = 0; i < nrx; i++) {
        rx_pair *p = &rx[i];
        ferry_cbor_put_map(&b, 8);
        put_kv(&b, "from", p->from);
        put_kv(&b, "next", p->next);
        put_kv(&b, "received", p->received);
        put_kv(&b, "missing", p->nmissing + p->overflow);
        put_kv(&b, "duplicated", p->dups);
        put_kv(&b, "reordered", p->reordered);
        put_kv(&b, "bad", p->bad);
        put_kv(&b, "overflow", p->overflow);
    }
    put_kv(&b, "msgsSent", st.msgs_sent);
    put_kv(&b, "msgsRecv", st.msgs_recv);
    put_kv(&b, "bytesSent", st.bytes_sent);
    put_kv(&b, "bytesRecv", st.bytes_recv);
    put_kv(&b, "calls", st.calls);
    put_kv(&b, "replies", st.replies);
    put_kv(&b, "callErrors", st.call_errors);
    put_kv(&b, "unknownReplies", st.unknown_replies);
    put_kv(&b, "pending", npending);
    put_kv(&b, "callsAnswered", st.calls_answered);
    put_kv(&b, "loansLent", st.loans_lent);
    put_kv(&b, "loansHome", st.loans_home);
    put_kv(&b, "loansLost", st.loans_lost);
    put_kv(&b, "loansOut", nlent);
    put_kv(&b, "sendErrors", st.send_errors);
    put_kv(&b, "decodeErrors", st.decode_errors);
    put_kv(&b, "otherErrors", st.other_errors);
    put_kv(&b, "recvBytesField", st.by_mode[0]);
    put_kv(&b, "recvBlob", st.by_mode[1]);
    put_kv(&b, "recvLoan", st.by_mode[2]);
    put_kv(&b, "recvBig", st.big_recv);
    put_kv(&b, "minSize", st.min_size);
    put_kv(&b, "maxSize", st.max_size);
    if (b.err)
        ferry_reply_error(m, FERRY_ENOMEM, "report too big");
    else
        ferry_reply_raw(m, b.data, b.len);
    ferry_cbor_buf_free(&b);
}

/* A lent blob for a JS borrower, which checks and releases it. */
static void on_lend(ferry_msg *m, ferry_arena *arena) {
    soak_lend req;
    ferry_decode_error err;
    if (ferry_msg_decode(m, &soak_lend_schema, &req, arena, &err) != FERRY_OK) {
        ferry_reply_error(m, err.code, err.message);
        return;
    }
    uint8_t *buf = malloc(req.size ? req.size : 1);
    ferry_blob b = FERRY_BLOB_NONE;
    if (buf) {
        fill(buf, req.seed, 0, req.size);
        b = ferry_blob_from(buf, req.size);
        free(buf);
    }
    if (!ferry_blob_valid(b) || nlent == MAX_LENT ||
        ferry_blob_lend(b, 120000) != FERRY_OK) {
        if (ferry_blob_valid(b))
            ferry_blob_free(b);
        ferry_reply_error(m, FERRY_EBUSY, "cannot lend now");
        return;
    }
    uint8_t body[8];
    ferry_cbor_buf c;
    ferry_cbor_buf_init_fixed(&c, body, sizeof body);
    ferry_cbor_put_tag(&c, FERRY_TAG_OOB);
    ferry_cbor_put_uint(&c, 0);
    if (ferry_reply_raw_blobs(m, c.data, c.len, &b, 1) != FERRY_OK) {
        ferry_blob_free(b);
        st.send_errors++;
        return;
    }
    lent[nlent++] = b;
    st.loans_lent++;
}

/* "soak.burst" {to, n, rounds}: rounds of n small sends to actor `to`,
 * with a short wait between rounds in which what arrives is handled as
 * usual. Two actors told to burst at each other at the same moment make
 * their first contact at once (the test of one channel per pair). */
typedef struct soak_burst {
    ferry_id to;
    uint32_t n;
    uint32_t rounds;
} soak_burst;
// clang-format off
FERRY_SCHEMA(soak_burst_schema, soak_burst,
             FERRY_F_ACTOR(soak_burst, to),
             FERRY_F_U32(soak_burst, n),
             FERRY_F_U32(soak_burst, rounds));
// clang-format on

static void handle(ferry_msg *m, ferry_arena *arena);

static void on_burst(ferry_msg *m, ferry_arena *arena) {
    soak_burst b;
    ferry_decode_error err;
    if (ferry_msg_decode(m, &soak_burst_schema, &b, arena, &err) != FERRY_OK) {
        ferry_reply_error(m, err.code, err.message);
        return;
    }
    uint32_t seq;
    for (uint32_t r = 0; r < b.rounds; r++) {
        for (uint32_t i = 0; i < b.n; i++)
            send_data(b.to, 16, 0, NULL, &seq);
        ferry_msg in;
        ferry_arena scratch_arena;
        ferry_arena_init(&scratch_arena);
        while (ferry_recv(&in, 2) == FERRY_OK) {
            handle(&in, &scratch_arena);
            ferry_msg_free(&in);
            ferry_arena_reset(&scratch_arena);
        }
        ferry_arena_free(&scratch_arena);
    }
    ferry_reply_raw(m, cbor_null, 1);
}

/* ------------------------------------------------------------------ main */

/* Everything but "soak.quiesce", which main keeps to answer later. */
static void handle(ferry_msg *m, ferry_arena *arena) {
    if (m->kind == FERRY_MSG_REPLY || (m->kind == FERRY_MSG_ERROR && m->corr))
        on_reply(m);
    else if (m->kind == FERRY_MSG_ERROR)
        st.other_errors++; /* an undelivered send */
    else if (strcmp(m->type, "soak.data") == 0)
        on_data(m, arena);
    else if (strncmp(m->type, "ferry.loan.", 11) == 0)
        on_loan_notice(m);
    else if (strcmp(m->type, "soak.lend") == 0)
        on_lend(m, arena);
    else if (strcmp(m->type, "soak.report") == 0)
        report(m);
    else if (strcmp(m->type, "soak.burst") == 0)
        on_burst(m, arena);
    else if (strcmp(m->type, "soak.start") == 0) {
        soak_start s;
        ferry_decode_error err;
        if (ferry_msg_decode(m, &soak_start_schema, &s, arena, &err) ==
            FERRY_OK) {
            npeers = 0;
            for (size_t i = 0; i < s.n_peers; i++)
                if (s.peers[i] != ferry_self())
                    peers[npeers++] = s.peers[i];
            rng ^= (uint64_t)s.seed * 0x9E3779B97F4A7C15ull;
            max_size = s.max_size;
            generating = npeers > 0;
            ferry_reply_raw(m, cbor_null, 1);
        } else {
            ferry_reply_error(m, err.code, err.message);
        }
    } else {
        st.other_errors++;
        if (m->kind == FERRY_MSG_CALL)
            ferry_reply_error(m, FERRY_EINVAL, "unknown message type");
    }
}

static int soak_main(ferry_msg *init) {
    (void)init;
    ferry_arena arena;
    ferry_arena_init(&arena);
    ferry_msg quiesce;
    int quiescing = 0;
    ferry_msg m;
    for (;;) {
        while (generating && npending < GROUPS_IN_FLIGHT)
            send_group();
        if (quiescing && npending == 0 && nlent == 0) {
            ferry_reply_raw(&quiesce, cbor_null, 1);
            ferry_msg_free(&quiesce);
            quiescing = 0;
        }
        if (ferry_recv(&m, FERRY_FOREVER) != FERRY_OK)
            break;
        if (m.kind == FERRY_MSG_CALL && strcmp(m.type, "soak.quiesce") == 0 &&
            !quiescing) {
            generating = 0;
            quiesce = m; /* answered when all is home */
            quiescing = 1;
            continue;
        }
        handle(&m, &arena);
        ferry_msg_free(&m);
        ferry_arena_reset(&arena);
    }
    ferry_arena_free(&arena);
    return 0;
}
FERRY_ACTOR("soak", soak_main);
