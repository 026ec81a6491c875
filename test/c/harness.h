/*
 * harness.h - the tiny test harness shared by ferry's C tests.
 *
 * A test file defines functions `static void test_x(void)` and lists them in
 * a TEST_LIST; CHECK records a failure with file, line and a message and
 * keeps going, so one run shows every broken case. main() comes from
 * TEST_MAIN and returns non-zero when any check failed. The same binary runs
 * natively (with sanitizers) and as wasm under node.
 */
#ifndef FERRY_TEST_HARNESS_H
#define FERRY_TEST_HARNESS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fy_checks_failed;
static int fy_checks_run;
static const char *fy_test_current;

#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        fy_checks_run++;                                                       \
        if (!(cond)) {                                                         \
            fy_checks_failed++;                                                \
            fprintf(stderr, "FAIL %s:%d [%s] %s: ", __FILE__, __LINE__,        \
                    fy_test_current, #cond);                                   \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
        }                                                                      \
    } while (0)

/* Hex text to bytes (test vectors); returns the byte count. out must hold
 * strlen(hex) / 2 bytes. */
static inline size_t unhex(const char *hex, uint8_t *out) {
    size_t n = 0;
    for (; hex[0] && hex[1]; hex += 2) {
        unsigned v;
        sscanf(hex, "%2x", &v);
        out[n++] = (uint8_t)v;
    }
    return n;
}

typedef struct fy_test {
    const char *name;
    void (*fn)(void);
} fy_test;

#define TEST(fn)                                                               \
    { #fn, fn }

/* Runs every test of the list (or only those named on the command line). */
#define TEST_MAIN(list)                                                        \
    int main(int argc, char **argv) {                                          \
        int tests_failed = 0, tests_run = 0;                                   \
        for (size_t i = 0; i < sizeof(list) / sizeof(list[0]); i++) {          \
            int want = argc < 2;                                               \
            for (int a = 1; a < argc; a++)                                     \
                if (strcmp(argv[a], list[i].name) == 0)                        \
                    want = 1;                                                  \
            if (!want)                                                         \
                continue;                                                      \
            int before = fy_checks_failed;                                     \
            fy_test_current = list[i].name;                                    \
            list[i].fn();                                                      \
            tests_run++;                                                       \
            int bad = fy_checks_failed != before;                              \
            tests_failed += bad;                                               \
            printf("%s %s\n", bad ? "not ok" : "ok", list[i].name);            \
        }                                                                      \
        printf("%d checks, %d failed\n", fy_checks_run, fy_checks_failed);     \
        printf("%d passed, %d failed\n", tests_run - tests_failed,             \
               tests_failed);                                                  \
        return tests_failed ? 1 : 0;                                           \
    }

#endif
