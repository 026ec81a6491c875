/*
 * ferry/error.h - the one error table of ferry.
 *
 * Every ferry function that can fail returns FERRY_OK (0) or one of the
 * negative FERRY_E* codes below. Codes and their strings come from the single
 * FERRY_ERRNO_MAP table so that they can never drift apart.
 */
#ifndef FERRY_ERROR_H
#define FERRY_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/* XX(name, value, message) */
#define FERRY_ERRNO_MAP(XX)                                                    \
    XX(OK, 0, "success")                                                       \
    XX(EINVAL, -1, "invalid argument")                                         \
    XX(ENOMEM, -2, "out of memory")                                            \
    XX(ENOSPC, -3, "output buffer too small")                                  \
    XX(ETRUNCATED, -4, "input ends before the item is complete")               \
    XX(EMALFORMED, -5, "input is not well-formed CBOR")                        \
    XX(EINVALID, -6, "input is well-formed but not valid CBOR")                \
    XX(ETRAILING, -7, "trailing bytes after the item")                         \
    XX(ELIMIT, -8, "a decoding limit was exceeded")                            \
    XX(ETYPE, -9, "value has the wrong type")                                  \
    XX(ERANGE, -10, "value does not fit")                                      \
    XX(EMISSING, -11, "required field missing")                                \
    XX(EDOWN, -12, "actor is down")                                            \
    XX(ETIMEDOUT, -13, "operation timed out")                                  \
    XX(EFULL, -14, "mailbox is full")                                          \
    XX(ECANCELED, -15, "operation was cancelled")                              \
    XX(ENOTFOUND, -16, "no such actor or type")                                \
    XX(ECLOSED, -17, "system is shut down")                                    \
    XX(EREMOTE, -18, "the peer replied with an error")                         \
    XX(EBUSY, -19, "blob is out on loan")

enum ferry_errno {
#define FY_ERRNO_ENUM(name, value, msg) FERRY_##name = (value),
    FERRY_ERRNO_MAP(FY_ERRNO_ENUM)
#undef FY_ERRNO_ENUM
};

/* Returns a static, human-readable string for an error code; never NULL.
 * Unknown codes give "unknown error". */
const char *ferry_strerror(int err);

/* Returns the code's name without prefix ("EINVAL", "OK"), or "EUNKNOWN". */
const char *ferry_errname(int err);

#ifdef __cplusplus
}
#endif
#endif /* FERRY_ERROR_H */
