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

/* Size in bytes, or a negative FERRY_EINVAL for a handle not held here. */
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
 * no-op. */
void ferry_blob_free(ferry_blob b);

#ifdef __cplusplus
}
#endif
#endif /* FERRY_BLOB_H */
