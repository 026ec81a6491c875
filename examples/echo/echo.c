/*
 * echo.c - the smallest useful actor: answers every call with its own body.
 * Blobs that came with the call go back with the reply, moved, not copied.
 */
#include <ferry.h>

static int echo_main(ferry_msg *init) {
    (void)init;
    ferry_msg m;
    while (ferry_recv(&m, FERRY_FOREVER) == FERRY_OK) {
        if (m.kind == FERRY_MSG_CALL) {
            ferry_blob blobs[16];
            size_t n = ferry_msg_blob_count(&m);
            if (n > 16) {
                ferry_reply_error(&m, FERRY_ELIMIT,
                                  "echo carries at most 16 blobs");
            } else {
                for (size_t i = 0; i < n; i++)
                    blobs[i] = ferry_msg_blob(&m, i);
                ferry_reply_raw_blobs(&m, m.body, m.body_len, blobs, n);
            }
        }
        ferry_msg_free(&m);
    }
    return 0;
}
FERRY_ACTOR("echo", echo_main);
