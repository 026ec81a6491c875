/*
 * origin.c - the cache demo's "origin": the slow place chunks come from.
 *
 * "fetch" {key} is answered with {data: blob} after a simulated fetch
 * latency (the init value {latency_ms}). The chunk is built in place: the
 * blob is allocated by the engine and filled through a 64 KiB buffer, so
 * a 20 MiB chunk never occupies this actor's wasm memory. The bytes follow
 * from the key alone (chunk.h), so whoever receives them can check them.
 *
 * Requests wait in a queue with their due times; the actor sleeps in
 * ferry_recv until the next one is due (no busy loop, and new requests are
 * taken while others wait). Keys starting "fail:" are answered with an
 * error, and "crash:" stops the origin with a trap: the demo's tests use
 * them to check that the cache passes errors and downs to every waiter.
 */
#include <string.h>
#include <time.h>

#include <ferry.h>

#include "chunk.h"
#include "messages.h"

#define PENDING_MAX 512
#define PIECE (64 * 1024)

typedef struct pending {
    ferry_msg call; /* held until answered */
    char key[KEY_MAX + 1];
    size_t klen;
    double due_ms;
} pending;

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static bool starts(const char *key, size_t len, const char *prefix) {
    size_t n = strlen(prefix);
    return len >= n && memcmp(key, prefix, n) == 0;
}

/* Builds the chunk for key in a new blob; FERRY_BLOB_NONE if out of memory. */
static ferry_blob make_chunk(const char *key, size_t klen) {
    uint32_t h = chunk_hash(key, klen);
    uint32_t size = chunk_size(h), x = chunk_seed(h);
    ferry_blob b = ferry_blob_alloc(size);
    if (!ferry_blob_valid(b))
        return b;
    static uint32_t piece[PIECE / 4];
    for (uint32_t off = 0; off < size; off += PIECE) {
        uint32_t n = size - off < PIECE ? size - off : PIECE;
        for (uint32_t i = 0; i < n / 4; i++)
            piece[i] = chunk_next(&x); /* wasm is little-endian */
        if (ferry_blob_write(b, off, piece, n) != FERRY_OK) {
            ferry_blob_free(b);
            return FERRY_BLOB_NONE;
        }
    }
    return b;
}

static void answer(pending *p) {
    if (starts(p->key, p->klen, "crash:"))
        __builtin_trap(); /* the tests' way to take an origin down */
    if (starts(p->key, p->klen, "fail:")) {
        ferry_reply_error(&p->call, FERRY_ENOTFOUND,
                          "origin has no such chunk");
        return;
    }
    chunk_msg out = {.data = make_chunk(p->key, p->klen)};
    if (!ferry_blob_valid(out.data)) {
        ferry_reply_error(&p->call, FERRY_ENOMEM,
                          "origin cannot allocate the chunk");
        return;
    }
    out.size = (uint64_t)ferry_blob_size(out.data);
    int rc = ferry_reply(&p->call, &chunk_msg_schema, &out);
    if (rc)
        ferry_blob_free(out.data);
}

static int origin_main(ferry_msg *init) {
    origin_init cfg = {0};
    ferry_arena arena;
    ferry_decode_error err;
    ferry_arena_init(&arena);
    if (ferry_msg_decode(init, &origin_init_schema, &cfg, &arena, &err))
        return 2; /* spawn rejects: the init value is wrong */

    static pending queue[PENDING_MAX];
    size_t n = 0;
    for (;;) {
        int timeout = FERRY_FOREVER;
        if (n) {
            double wait = queue[0].due_ms - now_ms();
            timeout = wait <= 0 ? 0 : (int)wait + 1;
        }
        ferry_msg m;
        int rc = ferry_recv(&m, timeout);
        if (rc == FERRY_OK) {
            if (m.kind == FERRY_MSG_CALL && strcmp(m.type, "fetch") == 0) {
                fetch_req q;
                ferry_arena_reset(&arena);
                if (ferry_msg_decode(&m, &fetch_req_schema, &q, &arena, &err) ||
                    q.key.len > KEY_MAX) {
                    ferry_reply_error(&m, FERRY_EINVAL,
                                      "fetch wants {key} (at most 128 bytes)");
                    ferry_msg_free(&m);
                } else if (n == PENDING_MAX) {
                    ferry_reply_error(&m, FERRY_EFULL,
                                      "origin has too many fetches pending");
                    ferry_msg_free(&m);
                } else {
                    /* Same latency for all: the queue stays in due order. */
                    pending *p = &queue[n++];
                    p->call = m;
                    memcpy(p->key, q.key.ptr, q.key.len);
                    p->klen = q.key.len;
                    p->key[p->klen] = 0;
                    p->due_ms = now_ms() + cfg.latency_ms;
                }
            } else {
                if (m.kind == FERRY_MSG_CALL)
                    ferry_reply_error(&m, FERRY_EINVAL,
                                      "origin answers fetch only");
                ferry_msg_free(&m);
            }
        } else if (rc != FERRY_ETIMEDOUT) {
            return 1;
        }
        size_t done = 0;
        double t = now_ms();
        while (done < n && queue[done].due_ms <= t) {
            answer(&queue[done]);
            ferry_msg_free(&queue[done].call);
            done++;
        }
        memmove(queue, queue + done, (n - done) * sizeof *queue);
        n -= done;
    }
}
FERRY_ACTOR("origin", origin_main);
