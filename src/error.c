/* error.c - strings for the FERRY_ERRNO_MAP table. */
#include "ferry/error.h"

const char *ferry_strerror(int err) {
    switch (err) {
#define FY_ERRNO_STR(name, value, msg)                                         \
    case FERRY_##name: return msg;
        FERRY_ERRNO_MAP(FY_ERRNO_STR)
#undef FY_ERRNO_STR
    }
    return "unknown error";
}

const char *ferry_errname(int err) {
    switch (err) {
#define FY_ERRNO_NAME(name, value, msg)                                        \
    case FERRY_##name: return #name;
        FERRY_ERRNO_MAP(FY_ERRNO_NAME)
#undef FY_ERRNO_NAME
    }
    return "EUNKNOWN";
}
