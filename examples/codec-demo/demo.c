/*
 * demo.c - ferry's CBOR codec at work on a cache-chunk-like record.
 *
 * Until the actor runtime lands, `npm run demo` runs this (as wasm under
 * node): it encodes the kind of metadata the cache demo will move, prints
 * its diagnostic notation, its size, and the same record re-read with the
 * strict reader.
 */
#include <stdio.h>
#include <string.h>

#include "ferry.h"

typedef struct chunk_meta {
    const char *key;
    uint32_t version;
    uint64_t size;
    double created; /* seconds since the epoch */
    float hit_ratio;
    const char *tags[3];
    uint8_t digest[8];
    int64_t owner; /* actor id; negative while unowned */
} chunk_meta;

static int encode(ferry_cbor_buf *b, const chunk_meta *m) {
    ferry_cbor_put_map(b, 8);
    ferry_cbor_put_cstr(b, "key");
    ferry_cbor_put_cstr(b, m->key);
    ferry_cbor_put_cstr(b, "version");
    ferry_cbor_put_uint(b, m->version);
    ferry_cbor_put_cstr(b, "size");
    ferry_cbor_put_uint(b, m->size);
    ferry_cbor_put_cstr(b, "created");
    ferry_cbor_put_float(b, m->created);
    ferry_cbor_put_cstr(b, "hit_ratio");
    ferry_cbor_put_float(b, m->hit_ratio);
    ferry_cbor_put_cstr(b, "tags");
    ferry_cbor_put_array(b, 3);
    for (int i = 0; i < 3; i++)
        ferry_cbor_put_cstr(b, m->tags[i]);
    ferry_cbor_put_cstr(b, "digest");
    ferry_cbor_put_bytes(b, m->digest, sizeof m->digest);
    ferry_cbor_put_cstr(b, "owner");
    ferry_cbor_put_int(b, m->owner);
    return b->err;
}

int main(void) {
    chunk_meta m = {
        .key = "tiles/z12/x1205/y1539",
        .version = 7,
        .size = 20u * 1024 * 1024,
        .created = 1764352800.5,
        .hit_ratio = 0.75f,
        .tags = {"hot", "geo",
                 "\xc3\xbc"
                 "ber"},
        .digest = {0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02, 0x03},
        .owner = -1,
    };
    ferry_cbor_buf b, text;
    ferry_cbor_buf_init(&b);
    ferry_cbor_buf_init(&text);
    if (encode(&b, &m)) {
        fprintf(stderr, "encode failed: %s\n", ferry_strerror(b.err));
        return 1;
    }
    ferry_cbor_error e;
    if (ferry_cbor_diag(b.data, b.len, NULL, &text, &e)) {
        fprintf(stderr, "error at byte %zu: %s\n", e.offset, e.reason);
        return 1;
    }
    printf("chunk metadata as CBOR (%zu bytes, preferred serialization):\n  ",
           b.len);
    for (size_t i = 0; i < b.len; i++)
        printf("%02x%s", b.data[i], (i + 1) % 32 == 0 ? "\n  " : "");
    printf("\ndiagnostic notation:\n  %.*s\n", (int)text.len,
           (const char *)text.data);
    printf("note: 7 fits in its head byte, 0.75 in a half float (3 bytes); "
           "1764352800.5 needs a double (9 bytes).\n");

    /* Damage one byte: the strict reader names the place. */
    b.data[5] = 0xff;
    if (ferry_cbor_check(b.data, b.len, NULL, &e) < 0)
        printf("with byte 5 set to 0xff: error at byte %zu: %s\n", e.offset,
               e.reason);
    ferry_cbor_buf_free(&b);
    ferry_cbor_buf_free(&text);
    return 0;
}
