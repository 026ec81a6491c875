/*
 * arena.c - the decode arena of ferry/schema.h: arrays and C strings a
 * decode produces come from it, so one reset frees a whole message's worth.
 */
#include <stdlib.h>
#include <string.h>

#include "ferry/schema.h"

struct fy_arena_block {
    fy_arena_block *next;
    size_t cap, used;
    /* data follows, 16-byte aligned */
};
#define FY_BLOCK_HDR ((sizeof(fy_arena_block) + 15) & ~(size_t)15)

void ferry_arena_init(ferry_arena *a) {
    memset(a, 0, sizeof *a);
}

void *ferry_arena_alloc(ferry_arena *a, size_t n) {
    size_t limit = a->limit ? a->limit : (size_t)64 << 20;
    n = (n + 7) & ~(size_t)7;
    if (n == 0)
        n = 8;
    if (n > limit - a->used || a->used > limit)
        return NULL;
    fy_arena_block *b = a->head;
    if (!b || b->cap - b->used < n) {
        /* Grow geometrically so a decode makes O(log n) mallocs. */
        size_t cap = b ? b->cap * 2 : 4096;
        while (cap < n)
            cap *= 2;
        b = malloc(FY_BLOCK_HDR + cap);
        if (!b)
            return NULL;
        b->next = a->head;
        b->cap = cap;
        b->used = 0;
        a->head = b;
    }
    void *p = (uint8_t *)b + FY_BLOCK_HDR + b->used;
    b->used += n;
    a->used += n;
    return p;
}

void ferry_arena_reset(ferry_arena *a) {
    /* Keep the newest (largest) block for reuse; free the rest. */
    fy_arena_block *b = a->head;
    if (!b)
        return;
    fy_arena_block *rest = b->next;
    while (rest) {
        fy_arena_block *next = rest->next;
        free(rest);
        rest = next;
    }
    b->next = NULL;
    b->used = 0;
    a->used = 0;
}

void ferry_arena_free(ferry_arena *a) {
    fy_arena_block *b = a->head;
    while (b) {
        fy_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->used = 0;
}
