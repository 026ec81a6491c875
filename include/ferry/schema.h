/*
 * ferry/schema.h - describe a C struct once, encode it to CBOR and back.
 *
 * A struct is described by a static table of field descriptors, one line per
 * field, built with the FERRY_F_* macros:
 *
 *     typedef struct item { uint32_t sku; uint8_t qty; } item;
 *     FERRY_SCHEMA(item_schema, item,
 *         FERRY_F_U32(item, sku),
 *         FERRY_F_U8(item, qty));
 *
 *     typedef struct order {
 *         uint64_t id;
 *         const char *customer;              NUL-terminated text
 *         item *items; size_t n_items;       variable-length array
 *         bool has_note; ferry_str note;     optional text
 *     } order;
 *     FERRY_SCHEMA(order_schema, order,
 *         FERRY_F_U64(order, id),
 *         FERRY_F_CSTR(order, customer),
 *         FERRY_F_ARRAY_STRUCT(order, items, n_items, &item_schema, 100),
 *         FERRY_F_TEXT(order, note, FERRY_OPT(order, has_note)));
 *
 * The encoding is a CBOR map keyed by field name, in the order of the table
 * (see docs/serializer.md for every kind and the CBOR it produces). Decoding
 * accepts keys in any order, skips unknown keys, and names the field path of
 * every error: "order.items[3].qty: 300 does not fit uint8".
 *
 * Ownership after ferry_decode: text and bytes point into the input buffer
 * (zero copy) and live as long as it does; arrays (and C strings, which need
 * a terminating NUL) are allocated from the ferry_arena passed in and live
 * until ferry_arena_reset or ferry_arena_free.
 */
#ifndef FERRY_SCHEMA_H
#define FERRY_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blob.h" /* ferry_blob */
#include "cbor.h"
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ value types */

/* Text with a length; not NUL-terminated when it points into a message. */
typedef struct ferry_str {
    const char *ptr;
    size_t len;
} ferry_str;

/* Bytes with a length. */
typedef struct ferry_bytes {
    const uint8_t *ptr;
    size_t len;
} ferry_bytes;

/* An actor id. 0 is "no actor". */
typedef uint32_t ferry_id;

/* A generic variable-length array, for arrays of arrays: an array whose
 * elements are ferry_vec holds pointer-and-count elements. */
typedef struct ferry_vec {
    void *ptr;
    size_t count;
} ferry_vec;

/* First-come-first-served tag for out-of-band items (blob handles, later
 * actor references); its content is an index into the transfer list. */
#define FERRY_TAG_OOB 41999u

/* -------------------------------------------------------------- descriptors */

typedef enum ferry_kind {
    FERRY_K_BOOL,
    FERRY_K_I8,
    FERRY_K_I16,
    FERRY_K_I32,
    FERRY_K_I64,
    FERRY_K_U8,
    FERRY_K_U16,
    FERRY_K_U32,
    FERRY_K_U64,
    FERRY_K_F32,
    FERRY_K_F64,
    FERRY_K_TEXT,   /* ferry_str */
    FERRY_K_CSTR,   /* const char *, NUL-terminated; NULL encodes as null */
    FERRY_K_BYTES,  /* ferry_bytes */
    FERRY_K_BLOB,   /* ferry_blob */
    FERRY_K_ACTOR,  /* ferry_id */
    FERRY_K_STRUCT, /* nested struct, by value */
    FERRY_K_ARRAY,  /* T *ptr plus a size_t count elsewhere in the struct */
    FERRY_K__COUNT
} ferry_kind;

struct ferry_schema;

/*
 * One field. Build these with the FERRY_F_* macros, not by hand. For an
 * array field, elem describes one element as a field at offset 0 of an
 * element of elem_size bytes.
 */
typedef struct ferry_field {
    const char *name;
    uint32_t name_len;              /* strlen(name), computed at compile time */
    uint8_t kind;                   /* ferry_kind */
    bool optional;                  /* present iff the bool at present_off */
    uint32_t offset;                /* offsetof the member */
    uint32_t size;                  /* sizeof the member (checked by macros) */
    uint32_t present_off;           /* optional: offsetof a bool member */
    uint32_t count_off;             /* array: offsetof the size_t count */
    uint32_t elem_size;             /* array: sizeof one element */
    uint64_t max;                   /* array: maximum count, 0 = no maximum */
    const struct ferry_field *elem; /* array: element descriptor */
    const struct ferry_schema *schema; /* struct: nested schema */
} ferry_field;

typedef struct ferry_schema {
    const char *name; /* used as the first element of error paths */
    size_t size;      /* sizeof the struct */
    const ferry_field *fields;
    size_t nfields;
} ferry_schema;

/* ------------------------------------------------------------------ macros */

/* Compile-time size check of a member against what its kind expects. */
#define FY_MEMBER_SIZE(type, member) sizeof(((type *)0)->member)
#define FY_CHECKED(type, member, want)                                         \
    (uint32_t)(sizeof(char[FY_MEMBER_SIZE(type, member) == (want) ? 1 : -1]) * \
               (want))

/* The public FERRY_F_* macros take all their arguments as `...` and pass
 * them on with a trailing empty argument, so that the optional last one
 * (FERRY_OPT) may be left out without breaking ISO C's rule that a variadic
 * macro gets at least one variadic argument (-Wpedantic warns otherwise). */
#define FY_FIELD(kind_, want, type, member, ...)                               \
    {                                                                          \
        .name = #member, .name_len = sizeof(#member) - 1, .kind = (kind_),     \
        .offset = (uint32_t)offsetof(type, member),                            \
        .size = FY_CHECKED(type, member, want), __VA_ARGS__                    \
    }

/* Every FERRY_F_* macro takes an optional last argument, FERRY_OPT(t, pres),
 * which makes the field optional: present iff the bool member pres is true.
 * Absent fields are left out of the map; decoding sets pres. */
#define FERRY_OPT(t, pres)                                                     \
    .optional = true, .present_off = (uint32_t)offsetof(t, pres) +             \
                                     0 * FY_CHECKED(t, pres, sizeof(bool))

/* FERRY_F_<KIND>(t, m [, FERRY_OPT(t, pres)]) */
#define FERRY_F_BOOL(...) FY_FIELD(FERRY_K_BOOL, sizeof(bool), __VA_ARGS__, )
#define FERRY_F_I8(...) FY_FIELD(FERRY_K_I8, 1, __VA_ARGS__, )
#define FERRY_F_I16(...) FY_FIELD(FERRY_K_I16, 2, __VA_ARGS__, )
#define FERRY_F_I32(...) FY_FIELD(FERRY_K_I32, 4, __VA_ARGS__, )
#define FERRY_F_I64(...) FY_FIELD(FERRY_K_I64, 8, __VA_ARGS__, )
#define FERRY_F_U8(...) FY_FIELD(FERRY_K_U8, 1, __VA_ARGS__, )
#define FERRY_F_U16(...) FY_FIELD(FERRY_K_U16, 2, __VA_ARGS__, )
#define FERRY_F_U32(...) FY_FIELD(FERRY_K_U32, 4, __VA_ARGS__, )
#define FERRY_F_U64(...) FY_FIELD(FERRY_K_U64, 8, __VA_ARGS__, )
#define FERRY_F_F32(...) FY_FIELD(FERRY_K_F32, 4, __VA_ARGS__, )
#define FERRY_F_F64(...) FY_FIELD(FERRY_K_F64, 8, __VA_ARGS__, )
#define FERRY_F_TEXT(...)                                                      \
    FY_FIELD(FERRY_K_TEXT, sizeof(ferry_str), __VA_ARGS__, )
#define FERRY_F_CSTR(...) FY_FIELD(FERRY_K_CSTR, sizeof(char *), __VA_ARGS__, )
#define FERRY_F_BYTES(...)                                                     \
    FY_FIELD(FERRY_K_BYTES, sizeof(ferry_bytes), __VA_ARGS__, )
#define FERRY_F_BLOB(...)                                                      \
    FY_FIELD(FERRY_K_BLOB, sizeof(ferry_blob), __VA_ARGS__, )
#define FERRY_F_ACTOR(...)                                                     \
    FY_FIELD(FERRY_K_ACTOR, sizeof(ferry_id), __VA_ARGS__, )
/* Enums travel as integers (int32 for the usual 4-byte C enum). */
#define FERRY_F_ENUM(...) FY_ENUM(__VA_ARGS__, )
#define FY_ENUM(t, m, ...)                                                     \
    FY_FIELD(FY_MEMBER_SIZE(t, m) == 4 ? FERRY_K_I32 : FERRY_K_I64,            \
             FY_MEMBER_SIZE(t, m) == 4 ? 4 : 8, t, m, __VA_ARGS__)

/* FERRY_F_STRUCT(t, m, schema_ptr [, FERRY_OPT(t, pres)]): a nested struct
 * member (by value) described by schema_ptr. */
#define FERRY_F_STRUCT(...) FY_STRUCT(__VA_ARGS__, )
#define FY_STRUCT(t, m, schema_ptr, ...)                                       \
    {                                                                          \
        .name = #m, .name_len = sizeof(#m) - 1, .kind = FERRY_K_STRUCT,        \
        .offset = (uint32_t)offsetof(t, m),                                    \
        .size = (uint32_t)FY_MEMBER_SIZE(t, m), .schema = (schema_ptr),        \
        __VA_ARGS__                                                            \
    }

/* FERRY_F_ARRAY(t, m, cnt, elem_ptr, max_ [, FERRY_OPT(t, pres)]): a
 * variable-length array: pointer member m, size_t count member cnt,
 * elements described by elem_ptr (one of FERRY_ELEM_*), at most max_
 * elements (0 = only the decoder's max_array limit). */
#define FERRY_F_ARRAY(...) FY_ARRAY(__VA_ARGS__, )
#define FY_ARRAY(t, m, cnt, elem_ptr, max_, ...)                               \
    {                                                                          \
        .name = #m, .name_len = sizeof(#m) - 1, .kind = FERRY_K_ARRAY,         \
        .offset = (uint32_t)offsetof(t, m),                                    \
        .size = FY_CHECKED(t, m, sizeof(void *)),                              \
        .count_off = (uint32_t)offsetof(t, cnt) +                              \
                     0 * FY_CHECKED(t, cnt, sizeof(size_t)),                   \
        .elem_size = (uint32_t)sizeof(*((t *)0)->m), .max = (max_),            \
        .elem = (elem_ptr), __VA_ARGS__                                        \
    }

/* FERRY_F_ARRAY_STRUCT(t, m, cnt, schema_ptr, max_ [, FERRY_OPT(t, pres)]) */
#define FERRY_F_ARRAY_STRUCT(...) FY_ARRAY_STRUCT(__VA_ARGS__, )
#define FY_ARRAY_STRUCT(t, m, cnt, schema_ptr, max_, ...)                      \
    FY_ARRAY(t, m, cnt, FERRY_ELEM_STRUCT(schema_ptr), max_, __VA_ARGS__)

/* Element descriptors for arrays: a field at offset 0 of one element.
 * They are compound literals, so schemas are defined at file scope. */
#define FY_ELEM(kind_, size_)                                                  \
    (&(const ferry_field){                                                     \
        .name = "", .kind = (kind_), .offset = 0, .size = (size_)})
#define FERRY_ELEM_BOOL FY_ELEM(FERRY_K_BOOL, sizeof(bool))
#define FERRY_ELEM_I8 FY_ELEM(FERRY_K_I8, 1)
#define FERRY_ELEM_I16 FY_ELEM(FERRY_K_I16, 2)
#define FERRY_ELEM_I32 FY_ELEM(FERRY_K_I32, 4)
#define FERRY_ELEM_I64 FY_ELEM(FERRY_K_I64, 8)
#define FERRY_ELEM_U8 FY_ELEM(FERRY_K_U8, 1)
#define FERRY_ELEM_U16 FY_ELEM(FERRY_K_U16, 2)
#define FERRY_ELEM_U32 FY_ELEM(FERRY_K_U32, 4)
#define FERRY_ELEM_U64 FY_ELEM(FERRY_K_U64, 8)
#define FERRY_ELEM_F32 FY_ELEM(FERRY_K_F32, 4)
#define FERRY_ELEM_F64 FY_ELEM(FERRY_K_F64, 8)
#define FERRY_ELEM_TEXT FY_ELEM(FERRY_K_TEXT, sizeof(ferry_str))
#define FERRY_ELEM_CSTR FY_ELEM(FERRY_K_CSTR, sizeof(char *))
#define FERRY_ELEM_BYTES FY_ELEM(FERRY_K_BYTES, sizeof(ferry_bytes))
#define FERRY_ELEM_BLOB FY_ELEM(FERRY_K_BLOB, sizeof(ferry_blob))
#define FERRY_ELEM_ACTOR FY_ELEM(FERRY_K_ACTOR, sizeof(ferry_id))
#define FERRY_ELEM_STRUCT(schema_ptr)                                          \
    (&(const ferry_field){.name = "",                                          \
                          .kind = FERRY_K_STRUCT,                              \
                          .offset = 0,                                         \
                          .schema = (schema_ptr)})
/* Elements that are themselves arrays are ferry_vec values whose ptr points
 * at elements of elem_type. */
#define FERRY_ELEM_ARRAY(elem_ptr, elem_type, max_)                            \
    (&(const ferry_field){.name = "",                                          \
                          .kind = FERRY_K_ARRAY,                               \
                          .offset = offsetof(ferry_vec, ptr),                  \
                          .size = sizeof(void *),                              \
                          .count_off = offsetof(ferry_vec, count),             \
                          .elem_size = sizeof(elem_type),                      \
                          .max = (max_),                                       \
                          .elem = (elem_ptr)})

/* Defines `const ferry_schema name_` (external linkage, so other files can
 * declare it extern) for struct type t, one FERRY_F_* per field. */
#define FERRY_SCHEMA(name_, t, ...)                                            \
    static const ferry_field name_##_fields[] = {__VA_ARGS__};                 \
    const ferry_schema name_ = {#t, sizeof(t), name_##_fields,                 \
                                sizeof(name_##_fields) /                       \
                                    sizeof(name_##_fields[0])}

/* ---------------------------------------------------------------- arena */

/*
 * A bump allocator for decoded arrays and strings: many small allocations,
 * released together. Blocks grow geometrically; nothing is freed one by one.
 */
typedef struct fy_arena_block fy_arena_block;
typedef struct ferry_arena {
    fy_arena_block *head;
    size_t used;  /* bytes handed out, all blocks */
    size_t limit; /* most bytes it may hand out; 0 = 64 MiB default */
} ferry_arena;

void ferry_arena_init(ferry_arena *a);
/* Returns 8-byte aligned memory, or NULL when out of memory or over the
 * limit. */
void *ferry_arena_alloc(ferry_arena *a, size_t n);
/* Releases everything; the arena can be reused. */
void ferry_arena_reset(ferry_arena *a);
void ferry_arena_free(ferry_arena *a);

/* ------------------------------------------------------------- encoding */

/*
 * Encodes *value as a CBOR map into out (appends). Fields are written in
 * table order; an optional field whose flag is false is left out.
 * Returns FERRY_OK or a negative code (FERRY_ENOMEM, FERRY_ENOSPC, FERRY_EINVAL
 * for a NULL array pointer with a non-zero count or a count over max).
 */
int ferry_encode(const ferry_schema *s, const void *value, ferry_cbor_buf *out);

/* Exact number of bytes ferry_encode would write; 0 if value is invalid. */
size_t ferry_encoded_size(const ferry_schema *s, const void *value);

/*
 * Scatter-gather encoding: byte fields of at least `threshold` bytes are not
 * copied into the CBOR buffer; the encoder writes their head and records a
 * segment pointing at the struct's own memory. The message is then the
 * concatenation of segments, each of which is either a range of sg->buf or
 * an external pointer. Whoever assembles the outgoing buffer copies each
 * byte exactly once (ferry_sg_gather or the JS glue).
 *
 * External pointers are borrowed from *value: it must stay unchanged until
 * the message is assembled.
 */
typedef struct ferry_seg {
    const uint8_t *ext; /* external bytes, or NULL: a range of buf */
    size_t off;         /* buf offset when ext is NULL */
    size_t len;
} ferry_seg;

typedef struct ferry_sg {
    ferry_cbor_buf buf; /* the CBOR bytes around the external segments */
    ferry_seg *segs;
    size_t nsegs, cap;
    size_t total; /* total message length */
    /* Blob fields met while encoding, in order: the encoding refers to
     * blobs[i] as tag 41999(i), an index into the message's transfer
     * list (plain ferry_encode writes the handle itself). */
    uint32_t *blobs;
    size_t nblobs, blobs_cap;
} ferry_sg;

void ferry_sg_init(ferry_sg *sg);
void ferry_sg_free(ferry_sg *sg);
int ferry_encode_sg(const ferry_schema *s, const void *value, size_t threshold,
                    ferry_sg *sg);
/* Pointer to the bytes of segment i (resolves buf ranges). */
const uint8_t *ferry_sg_ptr(const ferry_sg *sg, size_t i);
/* Copies the whole message into dst, which must hold sg->total bytes. */
void ferry_sg_gather(const ferry_sg *sg, void *dst);

/* ------------------------------------------------------------- decoding */

typedef struct ferry_decode_error {
    int code;          /* negative FERRY_E* */
    size_t offset;     /* byte offset in the input */
    char path[128];    /* "order.items[3].qty" */
    char message[256]; /* "order.items[3].qty: 300 does not fit uint8" */
} ferry_decode_error;

typedef struct ferry_decode_opts {
    ferry_cbor_limits limits; /* CBOR limits; zeroed = defaults */
    size_t max_array;         /* elements per array without a max; 0 = 1 Mi */
    /* Blob fields: with map_blobs, an index must be below blob_count and
     * decodes to the handle blob_base + index (see ferry_msg_decode);
     * without, the index is stored as it is. */
    bool map_blobs;
    uint32_t blob_base;
    uint32_t blob_count;
} ferry_decode_opts;

/*
 * Decodes the CBOR map in buf[0..len) into *out (a struct of s->size bytes,
 * fully overwritten). Text and bytes point into buf; arrays and C strings
 * are allocated from arena. opts and err may be NULL. On error *out is
 * left zeroed-or-partial and must not be used; the arena keeps what was
 * allocated until it is reset.
 */
int ferry_decode(const ferry_schema *s, const void *buf, size_t len, void *out,
                 ferry_arena *arena, const ferry_decode_opts *opts,
                 ferry_decode_error *err);

/* Name of a kind as used in error messages ("uint8", "text", ...). */
const char *ferry_kind_name(ferry_kind k);

#ifdef __cplusplus
}
#endif
#endif /* FERRY_SCHEMA_H */
