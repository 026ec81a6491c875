/*
 * imports.h - private: the interface between the C runtime and the
 * worker's glue, the one place it is declared on the C side.
 *
 * Its JavaScript twin is glue/worker/abi.mjs; test/js/abi.test.mjs reads
 * this table, that module and the import section of a built module, and
 * fails if any two of them disagree. Change all three together.
 *
 * Conventions at this boundary (wasm32):
 *   - pointers and sizes are u32 offsets into the actor's memory;
 *   - 64-bit values (corr, blob offsets) travel as f64, which JS reads as a
 *     plain number: exact below 2^53, far beyond any corr or size here;
 *   - a segment list is nsegs pairs of u32 words (ptr, len), see FY_SEG_*;
 *   - negative int results are FERRY_E* codes (ferry/error.h).
 *
 * Only fy_wait may suspend: it is the one import Asyncify instruments
 * (ferry-build passes it as ASYNCIFY_IMPORTS), so a blocking call unwinds
 * from there to the worker's event loop and is rewound when the glue has a
 * message for it or the timeout fired.
 */
#ifndef FY_IMPORTS_H
#define FY_IMPORTS_H

#include <stddef.h>
#include <stdint.h>

/*
 * X(name, C return type, C parameters, wasm type). The wasm type is what
 * the compiler makes of the C signature; the test checks it against the
 * built module.
 */
// clang-format off
#define FY_IMPORTS(X)                                                          \
    /* Waits for the next message (corr 0) or for the reply or error with   \
     * this corr, up to timeout_ms (-1: forever). Returns the envelope's    \
     * length, or FERRY_ETIMEDOUT. The message becomes "current" for        \
     * fy_take. May suspend. */                                             \
    X(fy_wait, int, (int timeout_ms, double corr), "(i32,f64)->i32")           \
    /* Copies the current envelope to dst (nothing when dst is NULL) and    \
     * fills meta[FY_META_LEN] (below). */                                  \
    X(fy_take, void, (uint8_t * dst, uint32_t * meta), "(i32,i32)->()")        \
    /* Queues an envelope made of nsegs segments for actor `to`, with       \
     * nblobs blob handles moving along. 0 or a FERRY_E* code. */           \
    X(fy_post, int,                                                            \
      (uint32_t to, int kind, double corr, const uint32_t *segs,               \
       size_t nsegs, const uint32_t *blobs, size_t nblobs),                    \
      "(i32,i32,f64,i32,i32,i32,i32)->i32")                                    \
    X(fy_self_id, uint32_t, (void), "()->i32")                                 \
    /* The actor type was found and its function is about to run. */       \
    X(fy_started, void, (void), "()->()")                                      \
    /* Blobs (ferry/blob.h): size or FERRY_EINVAL; read; new from wasm      \
     * memory (0 when out of memory); engine-side copy; release. */         \
    X(fy_blob_size, double, (uint32_t h), "(i32)->f64")                        \
    X(fy_blob_read, int, (uint32_t h, double off, void *dst, size_t len),      \
      "(i32,f64,i32,i32)->i32")                                                \
    X(fy_blob_from, uint32_t, (const void *src, size_t len), "(i32,i32)->i32") \
    X(fy_blob_dup, uint32_t, (uint32_t h), "(i32)->i32")                       \
    /* Release; a borrowed blob goes back to its owner. */                  \
    X(fy_blob_free, void, (uint32_t h), "(i32)->()")                           \
    /* A new zero-filled blob of size bytes (0 when the engine cannot). */  \
    X(fy_blob_alloc, uint32_t, (double size), "(f64)->i32")                    \
    X(fy_blob_write, int,                                                      \
      (uint32_t h, double off, const void *src, size_t len),                   \
      "(i32,f64,i32,i32)->i32")                                                \
    /* Marks h to be lent (not moved) by the next post that carries it. */ \
    X(fy_blob_lend, int, (uint32_t h, int deadline_ms), "(i32,i32)->i32")      \
    /* enum ferry_blob_where, or FERRY_EINVAL. */                           \
    X(fy_blob_state, int, (uint32_t h), "(i32)->i32")                          \
    /* The async call corr gets an ETIMEDOUT error after timeout_ms. */     \
    X(fy_deadline, void, (double corr, int timeout_ms), "(f64,i32)->()")       \
    /* Starts (on != 0) or stops watching actor id for its down. */         \
    X(fy_monitor, int, (uint32_t id, int on), "(i32,i32)->i32")                \
    /* sbrk could not grow the heap by `increment` bytes: the actor is at  \
     * its memory cap (a trap from now on is reported as ENOMEM). */       \
    X(fy_oom, void, (double increment), "(f64)->()")
// clang-format on

/* The words fy_take writes to meta. */
enum {
    FY_META_FROM = 0,      /* sender's actor id */
    FY_META_BLOB_BASE = 1, /* handle of the first blob (0 when none) */
    FY_META_NBLOBS = 2,    /* blobs that came with the message */
    FY_META_LEN = 3
};

/* A segment: FY_SEG_WORDS u32 words, pointer then length. */
enum { FY_SEG_PTR = 0, FY_SEG_LEN = 1, FY_SEG_WORDS = 2 };

/* The exports the glue calls, besides malloc and asyncify_*. The memory
 * is imported (env.memory): the glue makes it, capped (memory.c). */
#define FY_EXPORT_START "fy_start"           /* runs or resumes the actor */
#define FY_EXPORT_TYPE_NAMES "fy_type_names" /* "a, b" for error messages */

#ifdef __wasm__
#define FY_DECLARE_IMPORT(name, ret, params, wasm_type)                        \
    __attribute__((import_module("env"), import_name(#name))) ret name params;
FY_IMPORTS(FY_DECLARE_IMPORT)
#undef FY_DECLARE_IMPORT
#define FY_EXPORT(name) __attribute__((export_name(name), used))
#endif

#endif /* FY_IMPORTS_H */
