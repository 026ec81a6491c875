// abi.mjs - the interface between the worker's glue and the C runtime, the
// one place it is declared on the JavaScript side.
//
// Its C twin is src/runtime/imports.h; test/js/abi.test.mjs reads that
// header, this module and the import section of a built module, and fails
// if any two disagree. Change them together. Conventions: pointers and
// sizes are u32 offsets into the actor's memory, 64-bit values (corr,
// offsets) travel as f64, negative int results are FERRY_E* codes.

/** The env imports a ferry module may have, with their wasm types. */
export const IMPORTS = Object.freeze({
  fy_wait: '(i32,f64)->i32', // (timeout_ms, corr) -> envelope length | ETIMEDOUT; may suspend
  fy_take: '(i32,i32)->()', // (dst, meta): copy the current envelope, fill META
  fy_post: '(i32,i32,f64,i32,i32,i32,i32)->i32', // (to, kind, corr, segs, nsegs, blobs, nblobs)
  fy_self_id: '()->i32',
  fy_started: '()->()',
  fy_blob_size: '(i32)->f64',
  fy_blob_read: '(i32,f64,i32,i32)->i32', // (h, off, dst, len)
  fy_blob_from: '(i32,i32)->i32', // (src, len) -> handle | 0
  fy_blob_dup: '(i32)->i32',
  fy_blob_free: '(i32)->()', // a borrowed blob goes back to its owner
  fy_blob_alloc: '(f64)->i32', // (size) -> handle | 0
  fy_blob_write: '(i32,f64,i32,i32)->i32', // (h, off, src, len)
  fy_blob_lend: '(i32,i32)->i32', // (h, deadline_ms): lend, not move, on the next post
  fy_blob_state: '(i32)->i32', // enum ferry_blob_where | EINVAL
  fy_deadline: '(f64,i32)->()', // (corr, timeout_ms) of an async call
  fy_monitor: '(i32,i32)->i32', // (id, on)
  fy_oom: '(f64)->()', // (increment): sbrk was refused more memory
});

/** enum ferry_blob_where (ferry/blob.h). */
export const BLOB = Object.freeze({ HOME: 1, LENT: 2, BORROWED: 3, LOST: 4 });

/** The one import that may suspend (ferry-build's ASYNCIFY_IMPORTS). */
export const SUSPENDING_IMPORT = 'fy_wait';

/** Word offsets in the u32 array fy_take fills. */
export const META = Object.freeze({ FROM: 0, BLOB_BASE: 1, NBLOBS: 2, LEN: 3 });

/** A segment list is nsegs records of SEG.WORDS u32 words. */
export const SEG = Object.freeze({ PTR: 0, LEN: 1, WORDS: 2 });

/** Exports the glue calls. */
export const EXPORTS = Object.freeze({
  START: 'fy_start', // runs the actor, or resumes it after a suspension
  TYPE_NAMES: 'fy_type_names', // "a, b": registered actor types
});

/** Exports every ferry module must have. */
// (The memory is imported: the worker makes it, with the actor's cap.)
export const REQUIRED_EXPORTS = Object.freeze([EXPORTS.START, EXPORTS.TYPE_NAMES, 'malloc',
  'asyncify_start_unwind', 'asyncify_stop_unwind', 'asyncify_start_rewind', 'asyncify_stop_rewind',
  'asyncify_get_state']);

/** asyncify_get_state() values. */
export const ASYNCIFY = Object.freeze({ NORMAL: 0, UNWINDING: 1, REWINDING: 2 });
