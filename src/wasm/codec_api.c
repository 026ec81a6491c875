/*
 * codec_api.c - the codec's entry points for JavaScript (wasm build only).
 *
 * JS passes input it has copied into wasm memory; results are written to a
 * module-owned buffer whose pointer and length JS reads back with
 * fy_js_out_ptr/fy_js_out_len before the next call. The last error is kept
 * the same way. One call at a time: a worker's wasm instance is single
 * threaded.
 */
#include <emscripten.h>
#include <stdlib.h>

#include "ferry.h"

static ferry_cbor_buf fy_out;
static ferry_cbor_error fy_err;

EMSCRIPTEN_KEEPALIVE uint8_t *fy_js_alloc(size_t n) {
    return malloc(n ? n : 1);
}
EMSCRIPTEN_KEEPALIVE void fy_js_free(void *p) {
    free(p);
}
EMSCRIPTEN_KEEPALIVE const uint8_t *fy_js_out_ptr(void) {
    return fy_out.data;
}
EMSCRIPTEN_KEEPALIVE size_t fy_js_out_len(void) {
    return fy_out.len;
}
EMSCRIPTEN_KEEPALIVE size_t fy_js_err_offset(void) {
    return fy_err.offset;
}
EMSCRIPTEN_KEEPALIVE const char *fy_js_err_reason(void) {
    return fy_err.reason;
}
EMSCRIPTEN_KEEPALIVE const char *fy_js_errname(int code) {
    return ferry_errname(code);
}

EMSCRIPTEN_KEEPALIVE int fy_js_check(const uint8_t *p, size_t n) {
    return ferry_cbor_check(p, n, NULL, &fy_err);
}

EMSCRIPTEN_KEEPALIVE int fy_js_diag(const uint8_t *p, size_t n) {
    fy_out.len = 0;
    fy_out.err = FERRY_OK;
    return ferry_cbor_diag(p, n, NULL, &fy_out, &fy_err);
}

EMSCRIPTEN_KEEPALIVE int fy_js_recode(const uint8_t *p, size_t n) {
    fy_out.len = 0;
    fy_out.err = FERRY_OK;
    return ferry_cbor_recode(p, n, NULL, &fy_out, &fy_err);
}
