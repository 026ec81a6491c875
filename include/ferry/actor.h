/*
 * ferry/actor.h - C actors: one per worker, each with its own wasm memory,
 * talking by messages.
 *
 *     static int echo_main(ferry_msg *init) {
 *         ferry_msg m;
 *         while (ferry_recv(&m, FERRY_FOREVER) == FERRY_OK) {
 *             ferry_reply_raw(&m, m.body, m.body_len);
 *             ferry_msg_free(&m);
 *         }
 *         return 0;
 *     }
 *     FERRY_ACTOR("echo", echo_main);
 *
 * Blocking calls (ferry_recv, ferry_call, ferry_spawn) suspend the actor by
 * unwinding its stack to the worker's event loop (Asyncify; only the one
 * wait import is instrumented) and resume it when a message or timeout
 * arrives. Messages already queued are taken without unwinding.
 *
 * Every function returns FERRY_OK (0) or a negative FERRY_E* code unless
 * it says otherwise; ferry_strerror() turns a code into words.
 */
#ifndef FERRY_ACTOR_H
#define FERRY_ACTOR_H

#include <stddef.h>
#include <stdint.h>

#include "blob.h"
#include "error.h"
#include "schema.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Message kinds, as on the wire (docs/wire-format.md). */
enum ferry_kind_msg {
    FERRY_MSG_SEND = 0,  /* one way */
    FERRY_MSG_CALL = 1,  /* expects a reply with the same corr */
    FERRY_MSG_REPLY = 2, /* answers a call */
    FERRY_MSG_ERROR = 3  /* answers a call (or reports an undelivered send)
                            with a body {code, name, message} */
};

#define FERRY_FOREVER (-1)
#define FERRY_HOST ((ferry_id)0) /* the JS side that started the System */

/*
 * A received message. Owned by the caller of ferry_recv/ferry_call, which
 * must release it with ferry_msg_free. type and body point into the
 * message's own buffer and are valid until then.
 */
typedef struct ferry_msg {
    ferry_id from;       /* sender; FERRY_HOST for the JS side */
    const char *type;    /* NUL-terminated message type */
    uint64_t corr;       /* correlation id, 0 for a plain send */
    int kind;            /* enum ferry_kind_msg */
    const uint8_t *body; /* one CBOR item */
    size_t body_len;
    /* private */
    uint8_t *fy_buf;       /* the envelope; owns type and body */
    uint32_t fy_blob_base; /* handle of the message's first blob */
    uint32_t fy_nblobs;
    uint8_t *fy_taken; /* per blob: taken by the actor */
} ferry_msg;

typedef int (*ferry_actor_fn)(ferry_msg *init);

/* Registers an actor type in this wasm module under name (a string
 * literal). One module may register several. fn runs in its own worker
 * when the type is spawned; init carries the spawn's init value (its body
 * is `null` when none was given); returning ends the actor normally. */
/* The trailing redeclaration takes the `;` after FERRY_ACTOR(...), which
 * would otherwise be an empty declaration (-Wpedantic warns). */
#define FERRY_ACTOR(name, fn)                                                  \
    __attribute__((constructor)) static void fy_register_##fn(void) {          \
        ferry_register_actor((name), (fn));                                    \
    }                                                                          \
    void ferry_register_actor(const char *, ferry_actor_fn)
void ferry_register_actor(const char *name, ferry_actor_fn fn);

/* This actor's id. */
ferry_id ferry_self(void);

/*
 * Waits for the next message (of any kind, in arrival order) up to
 * timeout_ms (FERRY_FOREVER: no limit; 0: only what is queued). Returns
 * FERRY_OK with *out filled, or FERRY_ETIMEDOUT. A malformed envelope is
 * answered with an error to its sender and skipped; it is never returned.
 */
int ferry_recv(ferry_msg *out, int timeout_ms);

/* Releases a message: its buffer and any of its blobs the actor did not
 * take (ferry_msg_take_blob) or send on. Safe on a zeroed message. */
void ferry_msg_free(ferry_msg *m);

/*
 * Sends type and a struct (encoded with schema s) to actor `to`. Large byte
 * fields are copied once, straight from *value into the outgoing buffer;
 * blob fields move with the message (the handles become invalid here).
 * Returns FERRY_OK when queued; delivery failure (the peer is down, its
 * mailbox full) comes back later as a FERRY_MSG_ERROR message.
 */
int ferry_send(ferry_id to, const char *type, const ferry_schema *s,
               const void *value);
/* As ferry_send with a body that is already CBOR (copied). */
int ferry_send_raw(ferry_id to, const char *type, const void *cbor, size_t len);

/*
 * Calls actor `to` and waits up to timeout_ms for its reply, which is
 * returned in *reply (free it with ferry_msg_free). Other messages that
 * arrive meanwhile stay queued, in order, for later ferry_recv.
 * Returns FERRY_OK, FERRY_EREMOTE (the peer answered with an error:
 * *reply holds its {code, name, message} body), FERRY_ETIMEDOUT,
 * FERRY_EDOWN (the peer stopped or crashed), FERRY_EFULL (its mailbox was
 * full), FERRY_ENOTFOUND (no such actor).
 */
int ferry_call(ferry_id to, const char *type, const ferry_schema *s,
               const void *value, ferry_msg *reply, int timeout_ms);
int ferry_call_raw(ferry_id to, const char *type, const void *cbor, size_t len,
                   ferry_msg *reply, int timeout_ms);

/* Answers a FERRY_MSG_CALL. Replying to anything else is FERRY_EINVAL.
 * The call may be kept across later ferry_recv calls and answered when
 * the answer is ready (free it after replying). */
int ferry_reply(const ferry_msg *req, const ferry_schema *s, const void *value);
int ferry_reply_raw(const ferry_msg *req, const void *cbor, size_t len);
/* Answers with an error body {code, name, message}: code is a FERRY_E*
 * value (its name goes in `name`), message any text (copied). */
int ferry_reply_error(const ferry_msg *req, int code, const char *message);

/* Raw sends and replies that carry blobs: the CBOR refers to blob i of the
 * list as tag 41999(i). The blobs move with the message. */
int ferry_send_raw_blobs(ferry_id to, const char *type, const void *cbor,
                         size_t len, const ferry_blob *blobs, size_t nblobs);
int ferry_reply_raw_blobs(const ferry_msg *req, const void *cbor, size_t len,
                          const ferry_blob *blobs, size_t nblobs);

/*
 * Decodes a message body with a schema (see ferry_decode). Blob fields
 * come out as handles of this worker; they still belong to the message
 * until ferry_msg_take_blob. Text and bytes point into the message.
 */
int ferry_msg_decode(const ferry_msg *m, const ferry_schema *s, void *out,
                     ferry_arena *arena, ferry_decode_error *err);

/* The message's blobs, in transfer-list order (index i is tag 41999(i)). */
size_t ferry_msg_blob_count(const ferry_msg *m);
ferry_blob ferry_msg_blob(const ferry_msg *m, size_t i);
/* Keeps blob b (one of m's) after ferry_msg_free; returns it. */
ferry_blob ferry_msg_take_blob(ferry_msg *m, ferry_blob b);

/* For an error message (kind FERRY_MSG_ERROR): its code, and its message
 * text copied into buf (NUL-terminated, cut to cap). */
int ferry_msg_error(const ferry_msg *m, char *buf, size_t cap);

/*
 * What an error or a runtime notice says, read from its body. Error
 * bodies are {code, name, message}; a report of a message that could not be
 * delivered (the peer is down, its mailbox was full, it never existed)
 * adds {to, type, corr} naming what was sent, and any blobs it carried
 * come back attached to the report (ferry_msg_blob): nothing is lost. A
 * down notice ("ferry.down", see ferry_monitor) has {id, code, name,
 * message, normal, exit_code}; a loan notice ("ferry.loan.home",
 * "ferry.loan.lost", see ferry_blob_lend) {blob, borrower}. Texts are
 * copied, NUL-terminated and cut to
 * their arrays. Fields a body does not have are 0 or "".
 */
typedef struct ferry_notice {
    int code;          /* FERRY_E* */
    char name[32];     /* the code's name, or the kind of stop ("Trap") */
    char message[256]; /* words for a person */
    ferry_id to;       /* undelivered: where it was going */
    char type[64];     /* undelivered: its type */
    uint64_t corr;     /* undelivered: its correlation id (0 for a send) */
    ferry_id id;       /* down: the actor that stopped */
    int normal;        /* down: it returned 0 or was stopped */
    int exit_code;     /* down: what it returned or passed to exit() */
    ferry_blob blob;   /* loan notices: our blob that came home or is lost */
    ferry_id borrower; /* loan notices: who had it */
} ferry_notice;
/* Fills *out from m's body. FERRY_EINVAL if the body is not a map. */
int ferry_msg_notice(const ferry_msg *m, ferry_notice *out);

/*
 * A call that does not wait: posts the request and returns at once with
 * its correlation id in *corr. The reply (FERRY_MSG_REPLY) or error
 * (FERRY_MSG_ERROR) comes later through ferry_recv, with m.corr == *corr:
 * the peer's answer, FERRY_ETIMEDOUT when timeout_ms passes first
 * (FERRY_FOREVER: no deadline; a reply after it is dropped), FERRY_EDOWN
 * when the peer goes down first. Exactly one of them arrives. Meanwhile
 * the actor keeps serving.
 */
int ferry_call_async(ferry_id to, const char *type, const ferry_schema *s,
                     const void *value, int timeout_ms, uint64_t *corr);
int ferry_call_async_raw(ferry_id to, const char *type, const void *cbor,
                         size_t len, int timeout_ms, uint64_t *corr);

/*
 * Monitors: after ferry_monitor(id), when actor id stops (returns, traps,
 * exits, is stopped; or is already down, or never existed) this actor
 * receives one message of kind FERRY_MSG_SEND, type "ferry.down", from id,
 * whose body ferry_msg_notice reads (id, code, name, message, normal,
 * exit_code: the reason the host's ref.down reports). ferry_demonitor(id)
 * cancels it. Monitoring twice is one monitor.
 */
int ferry_monitor(ferry_id id);
int ferry_demonitor(ferry_id id);

/*
 * Asks the host to start a new actor of registered type `name` (any module
 * type of this System), with init as the CBOR body of its init message
 * (NULL for none). Waits for it to be running; *out gets its id.
 */
int ferry_spawn(const char *name, const void *init_cbor, size_t init_len,
                ferry_id *out);

#ifdef __cplusplus
}
#endif
#endif /* FERRY_ACTOR_H */
