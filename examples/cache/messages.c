/* messages.c - the schemas of messages.h. */
#include "messages.h"

// clang-format off
FERRY_SCHEMA(cache_init_schema, cache_init,
             FERRY_F_U64(cache_init, budget),
             FERRY_F_ARRAY(cache_init, origins, n_origins, FERRY_ELEM_ACTOR, ORIGINS_MAX),
             FERRY_F_U32(cache_init, lend_ms, FERRY_OPT(cache_init, has_lend_ms)));

FERRY_SCHEMA(origin_init_schema, origin_init,
             FERRY_F_U32(origin_init, latency_ms));

FERRY_SCHEMA(get_req_schema, get_req,
             FERRY_F_TEXT(get_req, key),
             FERRY_F_BOOL(get_req, copy, FERRY_OPT(get_req, has_copy)));

FERRY_SCHEMA(get_reply_schema, get_reply,
             FERRY_F_BLOB(get_reply, data),
             FERRY_F_U64(get_reply, size),
             FERRY_F_BOOL(get_reply, hit),
             FERRY_F_BOOL(get_reply, waited),
             FERRY_F_BOOL(get_reply, copied));

FERRY_SCHEMA(put_req_schema, put_req,
             FERRY_F_TEXT(put_req, key),
             FERRY_F_BLOB(put_req, data));

FERRY_SCHEMA(put_reply_schema, put_reply,
             FERRY_F_U64(put_reply, size));

FERRY_SCHEMA(fetch_req_schema, fetch_req,
             FERRY_F_TEXT(fetch_req, key));

FERRY_SCHEMA(chunk_msg_schema, chunk_msg,
             FERRY_F_BLOB(chunk_msg, data),
             FERRY_F_U64(chunk_msg, size));

FERRY_SCHEMA(cache_stats_schema, cache_stats,
             FERRY_F_U64(cache_stats, entries), FERRY_F_U64(cache_stats, bytes),
             FERRY_F_U64(cache_stats, budget), FERRY_F_U64(cache_stats, hits),
             FERRY_F_U64(cache_stats, misses), FERRY_F_U64(cache_stats, evictions),
             FERRY_F_U64(cache_stats, fills), FERRY_F_U64(cache_stats, fill_errors),
             FERRY_F_U64(cache_stats, loans_out), FERRY_F_U64(cache_stats, loans),
             FERRY_F_U64(cache_stats, copies), FERRY_F_U64(cache_stats, copied_bytes),
             FERRY_F_U64(cache_stats, waits), FERRY_F_U64(cache_stats, waiting),
             FERRY_F_U64(cache_stats, origins_up));
// clang-format on
