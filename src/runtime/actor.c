/*
 * actor.c - actor types, the start of an actor, and spawning (wasm only).
 *
 * A module registers its actor types (FERRY_ACTOR) before anything runs.
 * The glue calls the start export once per worker, and again to resume
 * after every suspension (Asyncify rewinds through it); the first message
 * in the mailbox names the type to run and carries its init value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime.h"

/* ------------------------------------------------------------ registry */

#define FY_MAX_TYPES 64
static struct {
    const char *name;
    ferry_actor_fn fn;
} fy_types[FY_MAX_TYPES];
static size_t fy_ntypes;
static char fy_type_list[1024];

void ferry_register_actor(const char *name, ferry_actor_fn fn) {
    if (fy_ntypes < FY_MAX_TYPES) {
        fy_types[fy_ntypes].name = name;
        fy_types[fy_ntypes].fn = fn;
        fy_ntypes++;
    }
}

/* Comma-separated registered type names, for the glue's error messages. */
FY_EXPORT(FY_EXPORT_TYPE_NAMES) const char *fy_type_names(void) {
    size_t n = 0;
    fy_type_list[0] = '\0';
    for (size_t i = 0; i < fy_ntypes && n < sizeof fy_type_list; i++)
        n += (size_t)snprintf(fy_type_list + n, sizeof fy_type_list - n, "%s%s",
                              i ? ", " : "", fy_types[i].name);
    return fy_type_list;
}

ferry_id ferry_self(void) {
    return fy_self_id();
}

int ferry_monitor(ferry_id id) {
    return fy_monitor(id, 1);
}

int ferry_demonitor(ferry_id id) {
    return fy_monitor(id, 0);
}

/* --------------------------------------------------------------- start */

/*
 * The glue calls this once per worker (and again to resume after each
 * suspension). The first message in the mailbox is the init message: its
 * type names the actor type to run and its body is the init value.
 */
FY_EXPORT(FY_EXPORT_START) int fy_start(void) {
    static ferry_msg init;
    static ferry_actor_fn fn;
    if (!fn) {
        int rc = fy_receive(&init, 0, 0);
        if (rc)
            return rc;
        for (size_t i = 0; i < fy_ntypes && !fn; i++)
            if (strcmp(fy_types[i].name, init.type) == 0)
                fn = fy_types[i].fn;
        if (!fn) {
            ferry_msg_free(&init);
            return FERRY_ENOTFOUND;
        }
        fy_started();
    }
    int code = fn(&init);
    ferry_msg_free(&init);
    return code;
}

/* --------------------------------------------------------------- spawn */

int ferry_spawn(const char *name, const void *init_cbor, size_t init_len,
                ferry_id *out) {
    if (!name || !out)
        return FERRY_EINVAL;
    ferry_cbor_buf b;
    ferry_cbor_buf_init(&b);
    ferry_cbor_put_map(&b, 2);
    ferry_cbor_put_cstr(&b, "name");
    ferry_cbor_put_cstr(&b, name);
    ferry_cbor_put_cstr(&b, "init");
    if (init_cbor && init_len)
        ferry_cbor_buf_append(&b, init_cbor, init_len);
    else
        ferry_cbor_put_null(&b);
    if (b.err) {
        ferry_cbor_buf_free(&b);
        return b.err;
    }
    ferry_msg reply;
    int rc = ferry_call_raw(FERRY_HOST, "ferry.spawn", b.data, b.len, &reply,
                            FERRY_FOREVER);
    ferry_cbor_buf_free(&b);
    if (rc == FERRY_EREMOTE)
        rc = ferry_msg_error(&reply, NULL, 0);
    if (rc == FERRY_OK) {
        /* The reply is {"id": n}. */
        ferry_cbor_reader r;
        ferry_cbor_item it;
        rc = FERRY_EINVAL;
        ferry_cbor_reader_init(&r, reply.body, reply.body_len, NULL);
        while (ferry_cbor_read(&r, &it) == 1)
            if (it.type == FERRY_CBOR_UINT && it.depth == 1 &&
                it.u <= UINT32_MAX) {
                *out = (ferry_id)it.u;
                rc = FERRY_OK;
            }
    }
    ferry_msg_free(&reply);
    return rc;
}
