/* schemas.c - see schemas.h. */
#include "schemas.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// clang-format off
FERRY_SCHEMA(point_schema, point,
             FERRY_F_F64(point, x),
             FERRY_F_F32(point, y));
// clang-format on

// clang-format off
FERRY_SCHEMA(item_schema, item,
             FERRY_F_U32(item, sku),
             FERRY_F_U8(item, qty),
             FERRY_F_BOOL(item, gift));
// clang-format on

// clang-format off
FERRY_SCHEMA(order_schema, order,
             FERRY_F_U64(order, id),
             FERRY_F_CSTR(order, customer),
             FERRY_F_ARRAY_STRUCT(order, items, n_items, &item_schema, 4));
// clang-format on

// clang-format off
FERRY_SCHEMA(note_schema, note_msg,
             FERRY_F_U32(note_msg, id),
             FERRY_F_CSTR(note_msg, text, FERRY_OPT(note_msg, has_text)),
             FERRY_F_STRUCT(note_msg, where, &point_schema,
                            FERRY_OPT(note_msg, has_where)));
// clang-format on

// clang-format off
FERRY_SCHEMA(chunk_schema, chunk_msg,
             FERRY_F_TEXT(chunk_msg, key),
             FERRY_F_BYTES(chunk_msg, data),
             FERRY_F_BYTES(chunk_msg, small),
             FERRY_F_U32(chunk_msg, version));
// clang-format on

// clang-format off
FERRY_SCHEMA(everything_schema, everything,
             FERRY_F_BOOL(everything, b),
             FERRY_F_I8(everything, i8),
             FERRY_F_I16(everything, i16),
             FERRY_F_I32(everything, i32),
             FERRY_F_I64(everything, i64),
             FERRY_F_U8(everything, u8),
             FERRY_F_U16(everything, u16),
             FERRY_F_U32(everything, u32),
             FERRY_F_U64(everything, u64),
             FERRY_F_F32(everything, f32),
             FERRY_F_F64(everything, f64),
             FERRY_F_TEXT(everything, text),
             FERRY_F_CSTR(everything, cstr),
             FERRY_F_BYTES(everything, bytes),
             FERRY_F_BLOB(everything, blob),
             FERRY_F_ACTOR(everything, actor),
             FERRY_F_STRUCT(everything, where, &point_schema),
             FERRY_F_ENUM(everything, col),
             FERRY_F_ARRAY_STRUCT(everything, items, n_items, &item_schema, 0),
             FERRY_F_ARRAY(everything, nums, n_nums, FERRY_ELEM_I32, 100),
             FERRY_F_ARRAY(everything, tags, n_tags, FERRY_ELEM_TEXT, 0),
             FERRY_F_ARRAY(everything, matrix, n_matrix,
                           FERRY_ELEM_ARRAY(FERRY_ELEM_I16, int16_t, 8), 8),
             FERRY_F_TEXT(everything, note, FERRY_OPT(everything, has_note)),
             FERRY_F_STRUCT(everything, origin, &point_schema,
                            FERRY_OPT(everything, has_origin)),
             FERRY_F_I64(everything, maybe, FERRY_OPT(everything, has_maybe)));
// clang-format on

/* xorshift64*: small, deterministic, the same natively and in wasm. */
static uint64_t rnd(uint64_t *s) {
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

static const char *const words[] = {"",
                                    "a",
                                    "hello",
                                    "\303\274ber",
                                    "\xe6\xb0\xb4",
                                    "tiles/z12/x1205/y1539",
                                    "\xf0\x90\x85\x91",
                                    "twenty-three chars long"};
static char blob_bytes[300];

void fill_everything(everything *e, unsigned seed) {
    memset(e, 0, sizeof *e);
    for (size_t i = 0; i < sizeof blob_bytes; i++)
        blob_bytes[i] = (char)(i * 31 + 7);
    uint64_t s = 0x9e3779b97f4a7c15ull * (seed + 1);
    uint64_t r = rnd(&s);
    if (seed == 1) {
        *e = (everything){.b = true,
                          .i8 = -8,
                          .i16 = -1600,
                          .i32 = 320000,
                          .i64 = -6400000000ll,
                          .u8 = 200,
                          .u16 = 60000,
                          .u32 = 4000000000u,
                          .u64 = 18000000000000000000ull,
                          .f32 = 0.75f,
                          .f64 = 1.1,
                          .text = {"hello", 5},
                          .cstr = "w\303\266rld",
                          .bytes = {(const uint8_t *)"\x01\x02\x03", 3},
                          .blob = {7},
                          .actor = 42,
                          .where = {-2.5, 8.0f},
                          .col = COLOR_BLUE};
    } else {
        /* Mix extremes and ordinary values, chosen bit by bit from r. */
        static const int64_t i64s[] = {0,         -1,           23,
                                       24,        -25,          INT64_MIN,
                                       INT64_MAX, 4294967296ll, -4294967297ll};
        static const uint64_t u64s[] = {
            0, 23, 24, 255, 256, 65536, UINT64_MAX, 9007199254740993ull};
        static const double f64s[] = {0.0,      -0.0,    1.5,
                                      1e300,    -4.1,    5e-324,
                                      INFINITY, 65504.0, 9007199254740993.0};
        e->b = r & 1;
        e->i8 = (int8_t)rnd(&s);
        e->i16 = (int16_t)rnd(&s);
        e->i32 = (int32_t)rnd(&s);
        e->i64 = i64s[rnd(&s) % 9];
        e->u8 = (uint8_t)rnd(&s);
        e->u16 = (uint16_t)rnd(&s);
        e->u32 = (uint32_t)rnd(&s);
        e->u64 = u64s[rnd(&s) % 8];
        e->f32 = (float)((int32_t)rnd(&s)) / 1024.0f;
        e->f64 =
            (seed % 3) ? f64s[rnd(&s) % 9] : (double)(int64_t)rnd(&s) / 3.0;
        const char *w = words[rnd(&s) % 8];
        e->text = (ferry_str){w, strlen(w)};
        e->cstr = (seed % 5 == 0) ? NULL : words[rnd(&s) % 8];
        e->bytes = (ferry_bytes){(const uint8_t *)blob_bytes, rnd(&s) % 300};
        e->blob.h = (uint32_t)rnd(&s);
        e->actor = (ferry_id)rnd(&s);
        e->where = (point){(double)(int32_t)rnd(&s) / 7.0, (float)(seed % 100)};
        e->col = (color[]){COLOR_RED, COLOR_GREEN, COLOR_BLUE}[seed % 3];
    }
    e->n_items = seed == 1 ? 2 : rnd(&s) % 5;
    e->items = e->n_items ? calloc(e->n_items, sizeof *e->items) : NULL;
    for (size_t i = 0; i < e->n_items; i++)
        e->items[i] = (item){(uint32_t)(i + seed), (uint8_t)(i * 3), i & 1};
    e->n_nums = seed == 1 ? 3 : rnd(&s) % 30;
    e->nums = e->n_nums ? calloc(e->n_nums, sizeof *e->nums) : NULL;
    for (size_t i = 0; i < e->n_nums; i++)
        e->nums[i] = seed == 1 ? (int32_t)i - 1 : (int32_t)rnd(&s);
    e->n_tags = seed == 1 ? 2 : rnd(&s) % 4;
    e->tags = e->n_tags ? calloc(e->n_tags, sizeof *e->tags) : NULL;
    for (size_t i = 0; i < e->n_tags; i++) {
        const char *w = words[(i + seed) % 8];
        e->tags[i] = (ferry_str){w, strlen(w)};
    }
    e->n_matrix = seed == 1 ? 2 : rnd(&s) % 4;
    e->matrix = e->n_matrix ? calloc(e->n_matrix, sizeof *e->matrix) : NULL;
    for (size_t i = 0; i < e->n_matrix; i++) {
        size_t n = (i + seed) % 5;
        int16_t *row = n ? calloc(n, sizeof *row) : NULL;
        for (size_t j = 0; j < n; j++)
            row[j] = (int16_t)(i * 100 - j);
        e->matrix[i] = (ferry_vec){row, n};
    }
    e->has_note = seed % 2 == 1;
    if (e->has_note)
        e->note = (ferry_str){"a note", 6};
    e->has_origin = seed % 4 < 2;
    if (e->has_origin)
        e->origin = (point){0.5 * seed, -1.0f};
    e->has_maybe = seed % 3 == 0;
    if (e->has_maybe)
        e->maybe = -(int64_t)seed;
}

void free_everything(everything *e) {
    free(e->items);
    free(e->nums);
    free(e->tags);
    for (size_t i = 0; i < e->n_matrix; i++)
        free(e->matrix[i].ptr);
    free(e->matrix);
}

/* Float equality that treats NaN as equal to NaN and keeps -0.0 apart. */
static bool same_f64(double a, double b) {
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b);
    return a == b && signbit(a) == signbit(b);
}

static bool same_str(const char *a, size_t an, const char *b, size_t bn) {
    return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

#define DIFF(cond, ...)                                                        \
    do {                                                                       \
        if (!(cond)) {                                                         \
            snprintf(why, cap, __VA_ARGS__);                                   \
            return false;                                                      \
        }                                                                      \
    } while (0)

bool everything_equal(const everything *a, const everything *b, char *why,
                      size_t cap) {
    DIFF(a->b == b->b, "b");
    DIFF(a->i8 == b->i8, "i8 %d vs %d", a->i8, b->i8);
    DIFF(a->i16 == b->i16, "i16");
    DIFF(a->i32 == b->i32, "i32");
    DIFF(a->i64 == b->i64, "i64");
    DIFF(a->u8 == b->u8, "u8");
    DIFF(a->u16 == b->u16, "u16");
    DIFF(a->u32 == b->u32, "u32");
    DIFF(a->u64 == b->u64, "u64");
    DIFF(same_f64(a->f32, b->f32), "f32 %g vs %g", a->f32, b->f32);
    DIFF(same_f64(a->f64, b->f64), "f64 %g vs %g", a->f64, b->f64);
    DIFF(same_str(a->text.ptr, a->text.len, b->text.ptr, b->text.len), "text");
    DIFF((!a->cstr && !b->cstr) ||
             (a->cstr && b->cstr && strcmp(a->cstr, b->cstr) == 0),
         "cstr");
    DIFF(same_str((const char *)a->bytes.ptr, a->bytes.len,
                  (const char *)b->bytes.ptr, b->bytes.len),
         "bytes");
    DIFF(a->blob.h == b->blob.h, "blob");
    DIFF(a->actor == b->actor, "actor");
    DIFF(same_f64(a->where.x, b->where.x) && same_f64(a->where.y, b->where.y),
         "where");
    DIFF(a->col == b->col, "col %d vs %d", a->col, b->col);
    DIFF(a->n_items == b->n_items, "n_items %zu vs %zu", a->n_items,
         b->n_items);
    for (size_t i = 0; i < a->n_items; i++)
        DIFF(a->items[i].sku == b->items[i].sku &&
                 a->items[i].qty == b->items[i].qty &&
                 a->items[i].gift == b->items[i].gift,
             "items[%zu]", i);
    DIFF(a->n_nums == b->n_nums, "n_nums");
    for (size_t i = 0; i < a->n_nums; i++)
        DIFF(a->nums[i] == b->nums[i], "nums[%zu]", i);
    DIFF(a->n_tags == b->n_tags, "n_tags");
    for (size_t i = 0; i < a->n_tags; i++)
        DIFF(same_str(a->tags[i].ptr, a->tags[i].len, b->tags[i].ptr,
                      b->tags[i].len),
             "tags[%zu]", i);
    DIFF(a->n_matrix == b->n_matrix, "n_matrix");
    for (size_t i = 0; i < a->n_matrix; i++) {
        DIFF(a->matrix[i].count == b->matrix[i].count, "matrix[%zu] count", i);
        for (size_t j = 0; j < a->matrix[i].count; j++)
            DIFF(((int16_t *)a->matrix[i].ptr)[j] ==
                     ((int16_t *)b->matrix[i].ptr)[j],
                 "matrix[%zu][%zu]", i, j);
    }
    DIFF(a->has_note == b->has_note, "has_note");
    if (a->has_note)
        DIFF(same_str(a->note.ptr, a->note.len, b->note.ptr, b->note.len),
             "note");
    DIFF(a->has_origin == b->has_origin, "has_origin");
    if (a->has_origin)
        DIFF(same_f64(a->origin.x, b->origin.x) &&
                 same_f64(a->origin.y, b->origin.y),
             "origin");
    DIFF(a->has_maybe == b->has_maybe, "has_maybe");
    if (a->has_maybe)
        DIFF(a->maybe == b->maybe, "maybe");
    return true;
}
