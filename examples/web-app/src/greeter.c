/* greeter.c - the page's actor: answers "greet" calls with a text.
 * Built into greeter.wasm by `npm run build:actors` (ferry-build). */
#include <ferry.h>
#include <stdio.h>

typedef struct greet { const char *name; uint32_t times; } greet;
FERRY_SCHEMA(greet_schema, greet,
    FERRY_F_CSTR(greet, name),
    FERRY_F_U32(greet, times));

static int greeter(ferry_msg *init) {
    (void)init; /* spawned without an init value */
    ferry_arena arena;
    ferry_arena_init(&arena);
    ferry_msg m;
    while (ferry_recv(&m, FERRY_FOREVER) == FERRY_OK) {
        greet g;
        ferry_decode_error err;
        if (ferry_msg_decode(&m, &greet_schema, &g, &arena, &err)) {
            ferry_reply_error(&m, err.code, err.message); /* names the field */
        } else {
            char text[80];
            snprintf(text, sizeof text, "hello %s x%u", g.name, (unsigned)g.times);
            ferry_cbor_buf b;
            ferry_cbor_buf_init(&b);
            ferry_cbor_put_cstr(&b, text);
            ferry_reply_raw(&m, b.data, b.len);
            ferry_cbor_buf_free(&b);
        }
        ferry_msg_free(&m);
        ferry_arena_reset(&arena);
    }
    ferry_arena_free(&arena);
    return 0;
}
FERRY_ACTOR("greeter", greeter);
