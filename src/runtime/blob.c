/*
 * blob.c - blob handles (wasm only). The buffers themselves stay in the
 * worker's glue (glue/worker/blobs.mjs); C holds numbers and every
 * operation is one import call. Bytes cross wasm memory only in
 * ferry_blob_read and ferry_blob_from, which say so.
 */
#include <stdlib.h>

#include "ferry/blob.h"

#include "runtime.h"

int64_t ferry_blob_size(ferry_blob b) {
    return (int64_t)fy_blob_size(b.h);
}

int ferry_blob_read(ferry_blob b, size_t off, void *dst, size_t len) {
    if (len && !dst)
        return FERRY_EINVAL;
    return fy_blob_read(b.h, (double)off, dst, len);
}

ferry_blob ferry_blob_from(const void *src, size_t len) {
    if (len && !src)
        return FERRY_BLOB_NONE;
    return (ferry_blob){fy_blob_from(src, len)};
}

ferry_blob ferry_blob_dup(ferry_blob b) {
    return (ferry_blob){fy_blob_dup(b.h)};
}

void ferry_blob_free(ferry_blob b) {
    if (b.h)
        fy_blob_free(b.h);
}

ferry_blob ferry_blob_alloc(size_t size) {
    return (ferry_blob){fy_blob_alloc((double)size)};
}

int ferry_blob_write(ferry_blob b, size_t off, const void *src, size_t len) {
    if (len && !src)
        return FERRY_EINVAL;
    return fy_blob_write(b.h, (double)off, src, len);
}

int ferry_blob_lend(ferry_blob b, int deadline_ms) {
    if (deadline_ms < 0)
        deadline_ms = 0;
    return fy_blob_lend(b.h, deadline_ms);
}

int ferry_blob_return(ferry_blob b) {
    if (fy_blob_state(b.h) != FERRY_BLOB_BORROWED)
        return FERRY_EINVAL;
    fy_blob_free(b.h);
    return FERRY_OK;
}

int ferry_blob_state(ferry_blob b) {
    return b.h ? fy_blob_state(b.h) : FERRY_EINVAL;
}

size_t ferry_msg_blob_count(const ferry_msg *m) {
    return m ? m->fy_nblobs : 0;
}

ferry_blob ferry_msg_blob(const ferry_msg *m, size_t i) {
    if (!m || i >= m->fy_nblobs)
        return FERRY_BLOB_NONE;
    return (ferry_blob){m->fy_blob_base + (uint32_t)i};
}

ferry_blob ferry_msg_take_blob(ferry_msg *m, ferry_blob b) {
    if (!m || b.h < m->fy_blob_base || b.h - m->fy_blob_base >= m->fy_nblobs)
        return FERRY_BLOB_NONE;
    if (!m->fy_taken) {
        m->fy_taken = calloc(m->fy_nblobs, 1);
        if (!m->fy_taken)
            return FERRY_BLOB_NONE;
    }
    m->fy_taken[b.h - m->fy_blob_base] = 1;
    return b;
}
