/*
 * messages.h - every message of the cache demo, as C structs with their
 * schemas (defined in messages.c). JavaScript sees them as maps keyed by
 * the member names.
 */
#ifndef CACHE_MESSAGES_H
#define CACHE_MESSAGES_H

#include <ferry.h>

#define KEY_MAX 128 /* bytes of a key */
#define ORIGINS_MAX 16

/* cache init: {budget, origins, lend_ms?} */
typedef struct cache_init {
    uint64_t budget;   /* bytes of chunks the cache keeps */
    ferry_id *origins; /* where misses are filled from */
    size_t n_origins;
    bool has_lend_ms;
    uint32_t lend_ms; /* loan deadline (default 30 s) */
} cache_init;
extern const ferry_schema cache_init_schema;

/* origin init: {latency_ms} */
typedef struct origin_init {
    uint32_t latency_ms; /* simulated fetch latency */
} origin_init;
extern const ferry_schema origin_init_schema;

/* cache "get" {key, copy?}: copy = true asks for an engine copy
 * (ferry_blob_dup, moved to the caller) instead of a loan. */
typedef struct get_req {
    ferry_str key;
    bool has_copy;
    bool copy;
} get_req;
extern const ferry_schema get_req_schema;

/* The answer to "get": {data, size, hit, waited, copied} */
typedef struct get_reply {
    ferry_blob data;
    uint64_t size;
    bool hit;    /* the chunk was in the cache (or being filled: false) */
    bool waited; /* it was lent and this get waited for it */
    bool copied; /* data is an engine copy, not a loan */
} get_reply;
extern const ferry_schema get_reply_schema;

/* cache "put" {key, data}; answered {size} */
typedef struct put_req {
    ferry_str key;
    ferry_blob data;
} put_req;
extern const ferry_schema put_req_schema;

typedef struct put_reply {
    uint64_t size;
} put_reply;
extern const ferry_schema put_reply_schema;

/* origin "fetch" {key}; answered with a chunk_msg */
typedef struct fetch_req {
    ferry_str key;
} fetch_req;
extern const ferry_schema fetch_req_schema;

typedef struct chunk_msg {
    ferry_blob data;
    uint64_t size;
} chunk_msg;
extern const ferry_schema chunk_msg_schema;

/* cache "stats" */
typedef struct cache_stats {
    uint64_t entries, bytes, budget, hits, misses, evictions, fills,
        fill_errors, loans_out, loans, copies, copied_bytes, waits, waiting,
        origins_up;
} cache_stats;
extern const ferry_schema cache_stats_schema;

#endif
