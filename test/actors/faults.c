/*
 * faults.c - test actors that run out of memory and fail in the ways the
 * fault storm injects (test/js/memcap.test.mjs, test/js/storm.test.mjs).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ferry.h>

static bool is(const ferry_msg *m, const char *type) {
    return strcmp(m->type, type) == 0;
}

/* An unsigned body, or dflt. */
static uint64_t body_uint(const ferry_msg *m, uint64_t dflt) {
    ferry_cbor_reader r;
    ferry_cbor_item it;
    ferry_cbor_reader_init(&r, m->body, m->body_len, NULL);
    return ferry_cbor_read(&r, &it) == 1 && it.type == FERRY_CBOR_UINT ? it.u
                                                                       : dflt;
}

/* Replies a map of two unsigned values {k1: v1, k2: v2}. */
static void reply_two(ferry_msg *m, const char *k1, uint64_t v1, const char *k2,
                      uint64_t v2) {
    ferry_cbor_buf b;
    ferry_cbor_buf_init(&b);
    ferry_cbor_put_map(&b, 2);
    ferry_cbor_put_cstr(&b, k1);
    ferry_cbor_put_uint(&b, v1);
    ferry_cbor_put_cstr(&b, k2);
    ferry_cbor_put_uint(&b, v2);
    ferry_reply_raw(m, b.data, b.len);
    ferry_cbor_buf_free(&b);
}

/* Blocks kept by "eat", chained through their first word. */
static void *eaten;
static uint64_t eaten_bytes, eaten_blocks;

/* mallocs blocks of `chunk` bytes until malloc returns NULL, touching every
 * page so that the memory is really used; keeps them. */
static void eat(size_t chunk) {
    for (;;) {
        char *p = malloc(chunk);
        if (!p)
            return;
        for (size_t i = 0; i < chunk; i += 4096)
            p[i] = (char)i;
        *(void **)p = eaten;
        eaten = p;
        eaten_bytes += chunk;
        eaten_blocks++;
    }
}

static void free_eaten(void) {
    while (eaten) {
        void *next = *(void **)eaten;
        free(eaten);
        eaten = next;
    }
    eaten_bytes = eaten_blocks = 0;
}

/* A recursion the compiler cannot turn into a loop (the store after the
 * call) and that uses no C stack in linear memory: it overflows the
 * engine's own stack. */
static volatile uint32_t depth_sink;
__attribute__((noinline)) static uint32_t deep(uint32_t n) {
    if (n == UINT32_MAX)
        return 0;
    uint32_t r = deep(n + 1);
    depth_sink = r ^ n;
    return r + 1;
}

/* Loops forever. It first calls the host ("spinning"; the storm's
 * handler answers at once): waiting for that reply hands the glue the
 * replies made so far (they leave the worker when C waits) and tells the
 * host that the loop starts. */
static void spin(void) {
    ferry_msg reply;
    if (ferry_call_raw(FERRY_HOST, "spinning", "\xf6" /* null */, 1, &reply,
                       10000) == FERRY_OK)
        ferry_msg_free(&reply);
    for (volatile int go = 1; go;)
        ;
}

/* Blobs kept by "blobs". */
static ferry_blob kept_blobs[64];
static unsigned nkept;

/*
 * "hog": "eat" {chunk bytes, default 1 MiB}: allocates until NULL and
 * replies {got: bytes, blocks}; "free": gives it all back; "eat_trap" /
 * "eat_abort": allocates until NULL, then traps / aborts (the down reason
 * is ENOMEM); "spin": loops forever (after calling the host); "busy": loops forever
 * at once; "deep": overflows
 * the stack; "blobs" {size}: keeps one more blob of that size, made outside
 * wasm memory (replies {blobs, bytes}); "trap", "abort", "return": die so;
 * other calls are answered with their body.
 */
static int hog_main(ferry_msg *init) {
    (void)init;
    static uint64_t blob_bytes;
    ferry_msg m;
    while (ferry_recv(&m, FERRY_FOREVER) == FERRY_OK) {
        if (is(&m, "eat")) {
            eat((size_t)body_uint(&m, 1 << 20));
            reply_two(&m, "got", eaten_bytes, "blocks", eaten_blocks);
        } else if (is(&m, "free")) {
            free_eaten();
            reply_two(&m, "got", 0, "blocks", 0);
        } else if (is(&m, "eat_trap")) {
            eat(1 << 20);
            __builtin_trap();
        } else if (is(&m, "eat_abort")) {
            eat(1 << 20);
            abort();
        } else if (is(&m, "spin")) {
            spin();
        } else if (is(&m, "busy")) {
            /* Loops forever without a word to anyone: replies made before
             * must still leave (they go when C asks for this message). */
            for (volatile int go = 1; go;)
                ;
        } else if (is(&m, "deep")) {
            deep(0);
        } else if (is(&m, "trap")) {
            __builtin_trap();
        } else if (is(&m, "abort")) {
            abort();
        } else if (is(&m, "return")) {
            ferry_reply_raw(&m, m.body, m.body_len);
            ferry_msg_free(&m);
            return 5;
        } else if (is(&m, "blobs")) {
            uint64_t size = body_uint(&m, 1 << 20);
            ferry_blob b = ferry_blob_alloc((size_t)size);
            if (ferry_blob_valid(b) && nkept < 64) {
                uint8_t one = 1;
                ferry_blob_write(b, (size_t)size - 1, &one, 1);
                kept_blobs[nkept++] = b;
                blob_bytes += size;
            } else {
                ferry_blob_free(b);
            }
            reply_two(&m, "blobs", nkept, "bytes", blob_bytes);
        } else if (m.kind == FERRY_MSG_CALL) {
            ferry_reply_raw(&m, m.body, m.body_len);
        }
        ferry_msg_free(&m);
    }
    return 0;
}
FERRY_ACTOR("hog", hog_main);
