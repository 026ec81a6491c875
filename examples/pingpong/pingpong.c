/*
 * pingpong.c - two C actors calling each other directly, actor to actor,
 * over the MessageChannel the host sets up on first use.
 *
 * "pong" answers every call with its body. "ping", asked to "run" with
 * {peer, n}, calls the peer n times with a 16-byte body and then answers
 * {rounds: n}. The JS driver times the whole run.
 */
#include <ferry.h>
#include <string.h>

typedef struct run_req {
    ferry_id peer;
    uint32_t n;
} run_req;
// clang-format off
FERRY_SCHEMA(run_req_schema, run_req,
             FERRY_F_ACTOR(run_req, peer),
             FERRY_F_U32(run_req, n));
// clang-format on

typedef struct run_res {
    uint32_t rounds;
} run_res;
// clang-format off
FERRY_SCHEMA(run_res_schema, run_res, FERRY_F_U32(run_res, rounds));
// clang-format on

static int pong_main(ferry_msg *init) {
    (void)init;
    ferry_msg m;
    while (ferry_recv(&m, FERRY_FOREVER) == FERRY_OK) {
        if (m.kind == FERRY_MSG_CALL)
            ferry_reply_raw(&m, m.body, m.body_len);
        ferry_msg_free(&m);
    }
    return 0;
}
FERRY_ACTOR("pong", pong_main);

static int ping_main(ferry_msg *init) {
    (void)init;
    /* A 16-byte payload: a byte string of 15 bytes has a 1-byte head. */
    static const uint8_t body[16] = {0x4f, 'p', 'i', 'n', 'g', '-', 'p', 'o',
                                     'n',  'g', '-', '1', '6', 'B', '!', '!'};
    ferry_arena arena;
    ferry_arena_init(&arena);
    ferry_msg m;
    while (ferry_recv(&m, FERRY_FOREVER) == FERRY_OK) {
        run_req req;
        ferry_decode_error err;
        if (m.kind != FERRY_MSG_CALL) {
            ferry_msg_free(&m);
            continue;
        }
        if (ferry_msg_decode(&m, &run_req_schema, &req, &arena, &err)) {
            ferry_reply_error(&m, err.code, err.message);
            ferry_msg_free(&m);
            continue;
        }
        uint32_t i;
        int rc = FERRY_OK;
        for (i = 0; i < req.n && rc == FERRY_OK; i++) {
            ferry_msg r;
            rc = ferry_call_raw(req.peer, "ping", body, sizeof body, &r, 10000);
            if (rc == FERRY_OK && (r.body_len != sizeof body ||
                                   memcmp(r.body, body, sizeof body) != 0))
                rc = FERRY_EINVALID;
            ferry_msg_free(&r);
        }
        if (rc)
            ferry_reply_error(&m, rc, "ping-pong round failed");
        else
            ferry_reply(&m, &run_res_schema, &(run_res){i});
        ferry_msg_free(&m);
        ferry_arena_reset(&arena);
    }
    ferry_arena_free(&arena);
    return 0;
}
FERRY_ACTOR("ping", ping_main);
