/*
 * schemas.h - test structs and their schemas, shared by the schema tests,
 * the schema fuzz target and the wasm module used by the cross-language
 * tests (test/js/schema-cross.test.mjs).
 */
#ifndef FERRY_TEST_SCHEMAS_H
#define FERRY_TEST_SCHEMAS_H

#include <stdbool.h>
#include <stddef.h>

#include "ferry.h"

typedef struct point {
    double x;
    float y;
} point;

typedef struct item {
    uint32_t sku;
    uint8_t qty;
    bool gift;
} item;

typedef struct order {
    uint64_t id;
    const char *customer;
    item *items;
    size_t n_items; /* at most 4 */
} order;

typedef struct note_msg {
    uint32_t id;
    bool has_text;
    const char *text;
    bool has_where;
    point where;
} note_msg;

typedef struct chunk_msg {
    ferry_str key;
    ferry_bytes data;
    ferry_bytes small;
    uint32_t version;
} chunk_msg;

typedef enum color { COLOR_RED, COLOR_GREEN = 5, COLOR_BLUE = -3 } color;

/* Every kind, nested structs, arrays of structs, of scalars, of text and of
 * arrays, and optional fields. */
typedef struct everything {
    bool b;
    int8_t i8;
    int16_t i16;
    int32_t i32;
    int64_t i64;
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    float f32;
    double f64;
    ferry_str text;
    const char *cstr;
    ferry_bytes bytes;
    ferry_blob blob;
    ferry_id actor;
    point where;
    color col;
    item *items;
    size_t n_items;
    int32_t *nums;
    size_t n_nums;
    ferry_str *tags;
    size_t n_tags;
    ferry_vec *matrix; /* arrays of int16_t */
    size_t n_matrix;
    bool has_note;
    ferry_str note;
    bool has_origin;
    point origin;
    bool has_maybe;
    int64_t maybe;
} everything;

extern const ferry_schema point_schema, item_schema, order_schema, note_schema,
    chunk_schema, everything_schema;

/* Fills *e from a seed (seed 1: a fixed, hand-readable value; others
 * pseudo-random with extremes); free_everything releases what it made. */
void fill_everything(everything *e, unsigned seed);
void free_everything(everything *e);
/* Field-by-field comparison; on a difference writes which field to why. */
bool everything_equal(const everything *a, const everything *b, char *why,
                      size_t cap);

#endif
