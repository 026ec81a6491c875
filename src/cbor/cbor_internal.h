/* cbor_internal.h - private helpers shared by the codec's source files. */
#ifndef FY_CBOR_INTERNAL_H
#define FY_CBOR_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ferry/cbor.h"

/* ferry_cbor_reader.state values (negative values are error codes). */
enum {
    FY_READ_START = 0,
    FY_READ_INSIDE = 1,
    FY_READ_DONE_ITEM = 2,
    FY_READ_END = 3
};

/* Major type (0..7) that produces events of the given type. */
static inline unsigned fy_cbor_type_major(unsigned type) {
    static const uint8_t m[] = {0, 1, 2, 3, 4, 5, 6, 7, 7, 7};
    return type < sizeof m ? m[type] : 7;
}

const char *fy_cbor_major_name(unsigned major);
size_t fy_utf8_invalid_at(const uint8_t *s, size_t n);
double fy_cbor_single_to_double(uint32_t s);
/* Shortest decimal that reads back as exactly v, in diagnostic style. */
void fy_format_double(double v, char *out, size_t cap);
int fy_cbor_fail(ferry_cbor_error *e, int code, size_t offset, const char *fmt,
                 ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

#endif
