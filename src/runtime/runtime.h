/*
 * runtime.h - private: what the C runtime's files share (wasm only).
 *
 *   actor.c    the actor type registry, the start export, ferry_spawn
 *   message.c  building and posting envelopes; receiving them
 *   call.c     calls: one corr, one wait for its reply
 *   blob.c     blob handles (the buffers stay in the glue)
 *   envelope.c the envelope head and its strict parser (also native)
 *   imports.h  the interface to the worker's glue
 */
#ifndef FY_RUNTIME_H
#define FY_RUNTIME_H

#include "ferry/actor.h"
#include "imports.h"

/* Large byte fields are not copied into the encoder's buffer: the glue
 * copies them once, straight from the struct, into the outgoing buffer. */
#define FY_SG_THRESHOLD 1024

/* Posts an envelope whose body is already CBOR (NULL or empty: null). */
int fy_post_raw(ferry_id to, int kind, const char *type, uint64_t corr,
                const void *cbor, size_t len, const ferry_blob *blobs,
                size_t nblobs);
/* Posts an envelope whose body is a struct encoded with schema s. */
int fy_post_struct(ferry_id to, int kind, const char *type, uint64_t corr,
                   const ferry_schema *s, const void *value);
/* Posts an error envelope {code, name, message}. */
int fy_post_error(ferry_id to, const char *type, uint64_t corr, int code,
                  const char *message);

/* Takes one message from the glue: the next one (corr 0) or the reply to
 * corr, waiting up to timeout_ms. Malformed envelopes are answered and
 * skipped here, never returned. */
int fy_receive(ferry_msg *out, int timeout_ms, uint64_t corr);

#endif /* FY_RUNTIME_H */
