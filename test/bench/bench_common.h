/*
 * bench_common.h - what the C bench programs (bench_cbor.c, bench_struct.c)
 * share: sanitizer detection, failure reporting in the runner's JSON-line
 * protocol, the clock, a portable PRNG, the half-float test and the
 * --quick/--list/--only/--id arguments.
 *
 * Define FY_BENCH_NAME (the program's name, for messages) before including.
 */
#ifndef FY_BENCH_COMMON_H
#define FY_BENCH_COMMON_H

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef __has_feature
#if __has_feature(address_sanitizer)
#define FY_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(FY_ASAN)
#define FY_ASAN 1
#endif
#ifndef FY_ASAN
#define FY_ASAN 0
#endif

static inline void fy_fail(const char *fmt, ...) {
    /* A failure is reported on stdout as a JSON line too, so that the runner
     * sees it even where the exit status is lost (wasm without EXIT_RUNTIME).
     */
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    for (char *c = msg; *c; c++)
        if (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20)
            *c = '\'';
    printf("{\"id\":\"bench.error\",\"error\":\"%s\"}\n", msg);
    fprintf(stderr, "%s: %s\n", FY_BENCH_NAME, msg);
    fflush(stdout);
    exit(1);
}

static inline uint64_t fy_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: small, fast and the same on every platform, so the data (and
 * so the numbers) are comparable between native and wasm. */
static uint64_t fy_rng = 0x9E3779B97F4A7C15u;

static inline uint64_t fy_rand(void) {
    fy_rng ^= fy_rng >> 12;
    fy_rng ^= fy_rng << 25;
    fy_rng ^= fy_rng >> 27;
    return fy_rng * 0x2545F4914F6CDD1Du;
}

/* True when d is exactly representable as an IEEE binary16. */
static inline bool fy_half_exact(double d) {
    double a = fabs(d);
    if (a == 0.0 || isinf(a))
        return true;
    if (isnan(a) || a > 65504.0 || a < ldexp(1.0, -24))
        return false;
    int e;
    double m = frexp(a, &e); /* a = m * 2^e, m in [0.5, 1) */
    /* Normal halves keep 11 significant bits; below 2^-14 they are
     * multiples of 2^-24. */
    double s = e >= -13 ? ldexp(m, 11) : ldexp(a, 24);
    return s == floor(s);
}

typedef struct fy_opts {
    bool quick;
    bool list;
    const char *only[16]; /* id prefixes (--only) */
    size_t nonly;
    const char *ids[16]; /* exact ids (--id) */
    size_t nids;
} fy_opts;

static inline bool fy_selected(const fy_opts *o, const char *id) {
    if (o->nonly == 0 && o->nids == 0)
        return true;
    for (size_t k = 0; k < o->nonly; k++)
        if (strncmp(id, o->only[k], strlen(o->only[k])) == 0)
            return true;
    for (size_t k = 0; k < o->nids; k++)
        if (strcmp(id, o->ids[k]) == 0)
            return true;
    return false;
}

/* Parses the arguments; exits with status 2 and a usage line on bad ones. */
static inline fy_opts fy_parse_opts(int argc, char **argv) {
    fy_opts o;
    memset(&o, 0, sizeof o);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            o.quick = true;
        else if (strcmp(argv[i], "--list") == 0)
            o.list = true;
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc &&
                 o.nonly < sizeof o.only / sizeof o.only[0])
            o.only[o.nonly++] = argv[++i];
        else if (strcmp(argv[i], "--id") == 0 && i + 1 < argc &&
                 o.nids < sizeof o.ids / sizeof o.ids[0])
            o.ids[o.nids++] = argv[++i];
        else {
            fprintf(stderr,
                    "usage: %s [--quick] [--list] [--only PREFIX]... "
                    "[--id ID]...\n",
                    FY_BENCH_NAME);
            exit(2);
        }
    }
    return o;
}

/* Quick: 9 batches of ~10 ms; full: 21 of ~50 ms. Odd counts, so that the
 * median is one observed batch. */
#define FY_MAX_BATCHES 21

#endif
