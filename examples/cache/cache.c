/*
 * cache.c - the cache demo's "cache": chunks by key, held as blobs (never
 * in this actor's wasm memory), handed out as loans.
 *
 * get {key, copy?}
 *   A chunk that is home is lent in the reply: the buffer travels with no
 *   copy and comes home when the client releases it. A blob is lent to one
 *   borrower at a time, so a second get of a lent chunk waits for
 *   "ferry.loan.home". With copy = true the caller gets an engine copy
 *   (ferry_blob_dup) to keep instead of a loan; that too needs the chunk
 *   home, because while it is lent its bytes are with the borrower.
 *   A miss starts one fill from an origin with ferry_call_async and parks
 *   the call; further gets of the same key join it (single flight) and
 *   every other key keeps being served meanwhile. A fill that fails, or
 *   whose origin goes down (ferry_monitor), answers every waiter with the
 *   error.
 * put {key, data}: stores a chunk the caller made (moved in).
 * stats: cache_stats. drain: cache_stats, once no chunk is out on loan.
 *
 * Eviction is least recently used under the byte budget of the init
 * value. Only chunks that are home can go: a lent chunk is still ours and
 * still counts, so while many are out the cache can stand over budget
 * until they come back (then it evicts at once).
 */
#include <stdio.h>
#include <string.h>

#include <ferry.h>

#include "messages.h"

#define ENTRIES_MAX 1024
#define WAITERS_MAX 1024
#define FILL_TIMEOUT_MS 30000

enum { E_FREE = 0, E_FILLING, E_READY };

typedef struct entry {
    char key[KEY_MAX];
    size_t klen;
    int state;
    ferry_blob blob; /* E_READY: the chunk (home or lent) */
    uint64_t size;   /* E_READY: its bytes, counted in `bytes` */
    uint64_t used;   /* LRU clock of its last get */
    uint64_t corr;   /* E_FILLING: the fill's call */
    ferry_id origin; /* E_FILLING: who fills it */
} entry;

/* A get that could not be answered yet: the call is held until then. */
typedef struct waiter {
    ferry_msg call;
    int entry;
    bool copy;
    bool hit;
} waiter;

static entry entries[ENTRIES_MAX];
static waiter waiters[WAITERS_MAX]; /* in arrival order */
static size_t n_waiters;
static ferry_id origins[ORIGINS_MAX];
static bool origin_up[ORIGINS_MAX];
static size_t n_origins, next_origin;
static uint32_t lend_ms = 30000;
static uint64_t clock_;
static cache_stats st;

static int find(const char *key, size_t len) {
    for (int i = 0; i < ENTRIES_MAX; i++)
        if (entries[i].state != E_FREE && entries[i].klen == len &&
            memcmp(entries[i].key, key, len) == 0)
            return i;
    return -1;
}

static int free_slot(void) {
    for (int i = 0; i < ENTRIES_MAX; i++)
        if (entries[i].state == E_FREE)
            return i;
    return -1;
}

static void drop_entry(int i) {
    entry *e = &entries[i];
    if (e->state == E_READY) {
        st.bytes -= e->size;
        st.entries--;
        ferry_blob_free(e->blob);
    }
    memset(e, 0, sizeof *e);
}

static bool has_waiters(int i) {
    for (size_t w = 0; w < n_waiters; w++)
        if (waiters[w].entry == i)
            return true;
    return false;
}

/* Evicts least recently used chunks that are home until the budget
 * holds, or nothing more can go. */
static void make_room(void) {
    while (st.bytes > st.budget) {
        int lru = -1;
        for (int i = 0; i < ENTRIES_MAX; i++) {
            entry *e = &entries[i];
            if (e->state == E_READY &&
                ferry_blob_state(e->blob) == FERRY_BLOB_HOME &&
                !has_waiters(i) && (lru < 0 || e->used < entries[lru].used))
                lru = i;
        }
        if (lru < 0)
            return;
        drop_entry(lru);
        st.evictions++;
    }
}

static void remove_waiter(size_t w) {
    ferry_msg_free(&waiters[w].call);
    memmove(waiters + w, waiters + w + 1,
            (n_waiters - w - 1) * sizeof *waiters);
    n_waiters--;
}

/* Answers one get with entry i, if it can be answered now: a loan when
 * the chunk is home, else an engine copy when the caller asked for one.
 * Returns whether it answered. */
static bool answer(ferry_msg *call, int i, bool copy, bool hit, bool waited) {
    entry *e = &entries[i];
    get_reply r = {.size = e->size, .hit = hit, .waited = waited};
    if (ferry_blob_state(e->blob) != FERRY_BLOB_HOME)
        return false; /* lent: its bytes are with the borrower */
    if (copy) {
        r.data = ferry_blob_dup(e->blob);
        r.copied = true;
        if (!ferry_blob_valid(r.data)) {
            ferry_reply_error(call, FERRY_ENOMEM, "cannot copy the chunk");
            return true;
        }
        st.copies++;
        st.copied_bytes += e->size;
    } else {
        int rc = ferry_blob_lend(e->blob, (int)lend_ms);
        if (rc) {
            ferry_reply_error(call, rc, "cannot lend the chunk");
            return true;
        }
        r.data = e->blob;
        st.loans++;
    }
    if (ferry_reply(call, &get_reply_schema, &r) != FERRY_OK && r.copied)
        ferry_blob_free(r.data);
    return true;
}

/* Answers, in arrival order, the waiters of entry i that can be answered. */
static void serve(int i) {
    for (size_t w = 0; w < n_waiters;) {
        waiter *x = &waiters[w];
        if (x->entry == i && entries[i].state == E_READY &&
            answer(&x->call, i, x->copy, x->hit, true)) {
            remove_waiter(w);
            continue;
        }
        w++;
    }
}

/* Answers every waiter of entry i with an error, and forgets the entry. */
static void fail(int i, int code, const char *why) {
    char text[300];
    snprintf(text, sizeof text, "fill of %.*s failed: %s", (int)entries[i].klen,
             entries[i].key, why);
    for (size_t w = 0; w < n_waiters;) {
        if (waiters[w].entry == i) {
            ferry_reply_error(&waiters[w].call, code, text);
            remove_waiter(w);
            continue;
        }
        w++;
    }
    st.fill_errors++;
    drop_entry(i);
}

/* Starts the fill of entry i from the next origin that is up. */
static int start_fill(int i) {
    entry *e = &entries[i];
    for (size_t k = 0; k < n_origins; k++) {
        size_t o = (next_origin + k) % n_origins;
        if (!origin_up[o])
            continue;
        next_origin = o + 1;
        fetch_req q = {.key = {e->key, e->klen}};
        int rc = ferry_call_async(origins[o], "fetch", &fetch_req_schema, &q,
                                  FILL_TIMEOUT_MS, &e->corr);
        if (rc)
            return rc;
        e->state = E_FILLING;
        e->origin = origins[o];
        st.fills++;
        return FERRY_OK;
    }
    return FERRY_EDOWN;
}

static void park(ferry_msg *m, int i, bool copy, bool hit) {
    if (n_waiters == WAITERS_MAX) {
        ferry_reply_error(m, FERRY_EFULL, "too many gets waiting");
        ferry_msg_free(m);
        return;
    }
    waiters[n_waiters++] = (waiter){*m, i, copy, hit};
    st.waits += hit;
}

static void on_get(ferry_msg *m, ferry_arena *arena) {
    get_req q = {0};
    ferry_decode_error err;
    if (ferry_msg_decode(m, &get_req_schema, &q, arena, &err) ||
        q.key.len == 0 || q.key.len > KEY_MAX) {
        ferry_reply_error(m, FERRY_EINVAL,
                          "get wants {key (1-128 bytes), copy?: bool}");
        ferry_msg_free(m);
        return;
    }
    int i = find(q.key.ptr, q.key.len);
    if (i >= 0 && entries[i].state == E_READY) {
        st.hits++;
        entries[i].used = ++clock_;
        if (answer(m, i, q.copy, true, false))
            ferry_msg_free(m);
        else
            park(m, i, q.copy, true);
        return;
    }
    st.misses++;
    if (i >= 0) { /* being filled: join that fill */
        park(m, i, q.copy, false);
        return;
    }
    if ((i = free_slot()) < 0) {
        ferry_reply_error(m, FERRY_EFULL, "too many keys");
        ferry_msg_free(m);
        return;
    }
    entry *e = &entries[i];
    memcpy(e->key, q.key.ptr, q.key.len);
    e->klen = q.key.len;
    e->used = ++clock_;
    int rc = start_fill(i);
    if (rc) {
        memset(e, 0, sizeof *e);
        ferry_reply_error(m, rc, "no origin can fill it");
        ferry_msg_free(m);
        return;
    }
    park(m, i, q.copy, false);
}

static void on_fill(ferry_msg *m, int i, ferry_arena *arena) {
    entry *e = &entries[i];
    if (m->kind == FERRY_MSG_ERROR) {
        char why[256];
        int code = ferry_msg_error(m, why, sizeof why);
        fail(i, code, why);
        return;
    }
    chunk_msg c;
    ferry_decode_error err;
    if (ferry_msg_decode(m, &chunk_msg_schema, &c, arena, &err)) {
        fail(i, FERRY_EINVAL, err.message);
        return;
    }
    e->blob = ferry_msg_take_blob(m, c.data);
    e->size = (uint64_t)ferry_blob_size(e->blob);
    e->state = E_READY;
    st.bytes += e->size;
    st.entries++;
    serve(i);
    make_room();
}

static void on_put(ferry_msg *m, ferry_arena *arena) {
    put_req q;
    ferry_decode_error err;
    if (ferry_msg_decode(m, &put_req_schema, &q, arena, &err) ||
        q.key.len == 0 || q.key.len > KEY_MAX) {
        ferry_reply_error(m, FERRY_EINVAL,
                          "put wants {key (1-128 bytes), data: blob}");
        return;
    }
    int i = find(q.key.ptr, q.key.len);
    if (i >= 0 && (entries[i].state == E_FILLING ||
                   ferry_blob_state(entries[i].blob) != FERRY_BLOB_HOME)) {
        ferry_reply_error(m, FERRY_EBUSY,
                          "the key is being filled or is out on loan");
        return;
    }
    if (i >= 0)
        drop_entry(i);
    else if ((i = free_slot()) < 0) {
        ferry_reply_error(m, FERRY_EFULL, "too many keys");
        return;
    }
    entry *e = &entries[i];
    memcpy(e->key, q.key.ptr, q.key.len);
    e->klen = q.key.len;
    e->blob = ferry_msg_take_blob(m, q.data);
    e->size = (uint64_t)ferry_blob_size(e->blob);
    e->state = E_READY;
    e->used = ++clock_;
    st.bytes += e->size;
    st.entries++;
    put_reply out = {.size = e->size};
    make_room();
    ferry_reply(m, &put_reply_schema, &out);
}

static void on_origin_down(ferry_id id) {
    for (size_t o = 0; o < n_origins; o++)
        if (origins[o] == id)
            origin_up[o] = false;
    for (int i = 0; i < ENTRIES_MAX; i++)
        if (entries[i].state == E_FILLING && entries[i].origin == id)
            fail(i, FERRY_EDOWN, "its origin went down");
}

static uint64_t count_lent(void) {
    uint64_t n = 0;
    for (int i = 0; i < ENTRIES_MAX; i++)
        n += entries[i].state == E_READY &&
             ferry_blob_state(entries[i].blob) == FERRY_BLOB_LENT;
    return n;
}

static void reply_stats(const ferry_msg *m) {
    st.waiting = n_waiters;
    st.origins_up = 0;
    for (size_t o = 0; o < n_origins; o++)
        st.origins_up += origin_up[o];
    st.loans_out = count_lent();
    ferry_reply(m, &cache_stats_schema, &st);
}

/* "drain" calls wait here until no chunk is out on loan: a client that
 * has released everything learns when the cache has seen it. */
#define DRAINS_MAX 16
static ferry_msg drains[DRAINS_MAX];
static size_t n_drains;

static void answer_drains(void) {
    if (!n_drains || count_lent())
        return;
    for (size_t d = 0; d < n_drains; d++) {
        reply_stats(&drains[d]);
        ferry_msg_free(&drains[d]);
    }
    n_drains = 0;
}

static void on_loan_notice(ferry_msg *m) {
    ferry_notice nt;
    if (ferry_msg_notice(m, &nt))
        return;
    for (int i = 0; i < ENTRIES_MAX; i++) {
        entry *e = &entries[i];
        if (e->state != E_READY || e->blob.h != nt.blob.h)
            continue;
        if (strcmp(m->type, "ferry.loan.lost") == 0) {
            /* Its borrower died with it: fill it again if anyone waits. */
            st.bytes -= e->size;
            st.entries--;
            ferry_blob_free(e->blob);
            e->blob = FERRY_BLOB_NONE;
            e->size = 0;
            e->state = E_FILLING;
            if (!has_waiters(i))
                memset(e, 0, sizeof *e);
            else if (start_fill(i))
                fail(i, FERRY_EDOWN, "no origin is up");
        } else {
            serve(i);
            make_room();
        }
        answer_drains();
        return;
    }
}

static int cache_main(ferry_msg *init) {
    ferry_arena arena;
    ferry_decode_error err = {.message = "no origins"};
    cache_init cfg;
    ferry_arena_init(&arena);
    if (ferry_msg_decode(init, &cache_init_schema, &cfg, &arena, &err) ||
        cfg.n_origins == 0) {
        printf("cache: init wants {budget, origins: [ids], lend_ms?}: %s\n",
               err.message);
        return 2;
    }
    st.budget = cfg.budget;
    if (cfg.has_lend_ms)
        lend_ms = cfg.lend_ms;
    for (size_t o = 0; o < cfg.n_origins; o++) {
        origins[o] = cfg.origins[o];
        origin_up[o] = ferry_monitor(origins[o]) == FERRY_OK;
    }
    n_origins = cfg.n_origins;

    ferry_msg m;
    while (ferry_recv(&m, FERRY_FOREVER) == FERRY_OK) {
        ferry_arena_reset(&arena);
        if (m.kind == FERRY_MSG_REPLY ||
            (m.kind == FERRY_MSG_ERROR && m.corr)) {
            for (int i = 0; i < ENTRIES_MAX; i++)
                if (entries[i].state == E_FILLING &&
                    entries[i].corr == m.corr) {
                    on_fill(&m, i, &arena);
                    break;
                }
            /* else: a fill already failed by its origin's down notice */
        } else if (m.kind == FERRY_MSG_CALL && strcmp(m.type, "get") == 0) {
            on_get(&m, &arena);
            continue; /* on_get frees or parks the call */
        } else if (m.kind == FERRY_MSG_CALL && strcmp(m.type, "put") == 0) {
            on_put(&m, &arena);
        } else if (m.kind == FERRY_MSG_CALL && strcmp(m.type, "stats") == 0) {
            reply_stats(&m);
        } else if (m.kind == FERRY_MSG_CALL && strcmp(m.type, "drain") == 0) {
            if (count_lent() == 0 || n_drains == DRAINS_MAX) {
                reply_stats(&m);
            } else {
                drains[n_drains++] = m; /* answered when all are home */
                continue;
            }
        } else if (strcmp(m.type, "ferry.down") == 0) {
            ferry_notice nt;
            if (!ferry_msg_notice(&m, &nt))
                on_origin_down(nt.id);
        } else if (strcmp(m.type, "ferry.loan.home") == 0 ||
                   strcmp(m.type, "ferry.loan.lost") == 0) {
            on_loan_notice(&m);
        } else if (m.kind == FERRY_MSG_CALL) {
            ferry_reply_error(&m, FERRY_EINVAL,
                              "cache answers get, put, stats");
        }
        /* Anything else (a reply of ours that was dropped: its blobs came
         * back, and lent ones are home) needs nothing but freeing. */
        ferry_msg_free(&m);
    }
    return 0;
}
FERRY_ACTOR("cache", cache_main);
