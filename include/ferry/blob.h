/*
 * ferry/blob.h - large buffers that never enter wasm memory.
 *
 * A blob is an ArrayBuffer held by the worker's glue; C holds a handle.
 * Sending a message whose struct has a blob field (or a raw send with a
 * blob list) moves the buffer to the receiver in the postMessage transfer
 * list: ferry copies nothing, and the sender's handle becomes invalid.
 * Handles are only meaningful in the worker that holds them.
 */
#ifndef FERRY_BLOB_H
#define FERRY_BLOB_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A blob handle. In a struct (schema field kind FERRY_K_BLOB) it travels
 * as tag FERRY_TAG_OOB around its index in the message's transfer list. */
typedef struct ferry_blob {
    uint32_t h;
} ferry_blob;

#define FERRY_BLOB_NONE ((ferry_blob){0})

/* Size in bytes, or negative: FERRY_EINVAL for a handle not known here,
 * FERRY_EBUSY while it is out on loan. */
int64_t ferry_blob_size(ferry_blob b);

/* Copies len bytes at offset off of the blob into dst (wasm memory).
 * FERRY_EINVAL for a bad handle or a range outside the blob. */
int ferry_blob_read(ferry_blob b, size_t off, void *dst, size_t len);

/* Makes a new blob holding a copy of src[0..len) (one copy out of wasm
 * memory). Returns FERRY_BLOB_NONE when out of memory. */
ferry_blob ferry_blob_from(const void *src, size_t len);

/* Makes a second blob with the same bytes; the engine copies them, they do
 * not pass through wasm memory. FERRY_BLOB_NONE for a bad handle. */
ferry_blob ferry_blob_dup(ferry_blob b);

/* Releases a blob. Freeing a handle that was sent or already freed is a
 * no-op. Freeing a borrowed blob returns it to its owner. */
void ferry_blob_free(ferry_blob b);

/* Whether b is a handle at all (not FERRY_BLOB_NONE); says nothing about
 * whether this worker holds it (see ferry_blob_state). */
static inline int ferry_blob_valid(ferry_blob b) {
    return b.h != 0;
}

/*
 * A new blob of size bytes, all zero, allocated by the engine: it never
 * occupies wasm memory. Fill it with ferry_blob_write. Returns
 * FERRY_BLOB_NONE when the engine cannot allocate it.
 */
ferry_blob ferry_blob_alloc(size_t size);

/* Copies len bytes from src (wasm memory) into the blob at offset off: a
 * producer streams a large blob through a small buffer. FERRY_EINVAL for a
 * bad handle or a range outside the blob, FERRY_EBUSY while it is lent. */
int ferry_blob_write(ferry_blob b, size_t off, const void *src, size_t len);

/* Where a blob is, as ferry_blob_state reports it. */
enum ferry_blob_where {
    FERRY_BLOB_HOME = 1,     /* held here, ours */
    FERRY_BLOB_LENT = 2,     /* ours, out on loan: it comes back */
    FERRY_BLOB_BORROWED = 3, /* held here, lent to us by another actor */
    FERRY_BLOB_LOST = 4      /* ours, but its borrower went down with it */
};

/* One of enum ferry_blob_where, or FERRY_EINVAL for a handle that is not
 * (or no longer) known here. */
int ferry_blob_state(ferry_blob b);

/*
 * Loans: share a blob without copying it. ferry_blob_lend marks blob b so
 * that the next message that carries it lends it instead of moving it: the
 * buffer travels (zero copies) but the handle stays valid here, in state
 * FERRY_BLOB_LENT, and comes back HOME when the borrower releases it
 * (ferry_blob_free or ferry_blob_return in C, release() in JS), drops the
 * message that carried it, or deadline_ms passes (0: no deadline). When it
 * comes home the owner receives a message "ferry.loan.home"; if the
 * borrower goes down holding it, "ferry.loan.lost" and state
 * FERRY_BLOB_LOST. Both have the body {blob: handle, borrower: id}. While
 * lent, reading, writing or sending it again is FERRY_EBUSY. A borrowed
 * blob cannot be sent on (FERRY_EINVAL): return it, or ferry_blob_dup it.
 * The mark stays until a message carries the blob: a post that fails
 * before it leaves (FERRY_EDOWN) leaves it marked, and home.
 */
int ferry_blob_lend(ferry_blob b, int deadline_ms);
/* Gives a borrowed blob back to its owner (the same as ferry_blob_free). */
int ferry_blob_return(ferry_blob b);

#ifdef __cplusplus
}
#endif
#endif /* FERRY_BLOB_H */
