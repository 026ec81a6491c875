/*
 * ferry-cbor - check, print and re-encode CBOR from the command line.
 *
 *   ferry-cbor check  [-x] [FILE]   exit 0 if FILE is exactly one valid item
 *   ferry-cbor diag   [-x] [FILE]   RFC 8949 diagnostic notation
 *   ferry-cbor recode [-x] [FILE]   preferred serialization (hex with -x)
 *
 * -x reads and writes hex text; FILE defaults to stdin. Errors go to stderr
 * as "error at byte N: reason" with exit status 1; usage errors exit 2.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ferry.h"

static int usage(FILE *to) {
    fprintf(to, "usage: ferry-cbor check|diag|recode [-x] [FILE]\n"
                "  check   exit 0 if the input is exactly one valid CBOR item\n"
                "  diag    print RFC 8949 diagnostic notation\n"
                "  recode  re-encode in preferred serialization\n"
                "  -x      read (and for recode, write) hex text\n"
                "FILE defaults to standard input.\n");
    return to == stdout ? 0 : 2;
}

static int read_all(FILE *f, ferry_cbor_buf *b) {
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (ferry_cbor_buf_append(b, chunk, n))
            return -1;
    return ferror(f) ? -1 : 0;
}

static int hexval(int c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decodes hex text in place, ignoring whitespace; returns -1 with a message
 * naming the character on bad input. */
static int unhex_inplace(ferry_cbor_buf *b) {
    size_t o = 0;
    int hi = -1;
    for (size_t i = 0; i < b->len; i++) {
        int c = b->data[i];
        if (isspace(c))
            continue;
        int v = hexval(c);
        if (v < 0) {
            fprintf(stderr,
                    "ferry-cbor: invalid hex character '%c' at "
                    "character %zu of the input\n",
                    isprint(c) ? c : '?', i);
            return -1;
        }
        if (hi < 0)
            hi = v;
        else {
            b->data[o++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    if (hi >= 0) {
        fprintf(stderr, "ferry-cbor: odd number of hex digits in the input\n");
        return -1;
    }
    b->len = o;
    return 0;
}

int main(int argc, char **argv) {
    const char *cmd = NULL, *path = NULL;
    int hex = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-x") == 0)
            hex = 1;
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return usage(stdout);
        else if (!cmd)
            cmd = argv[i];
        else if (!path)
            path = argv[i];
        else
            return usage(stderr);
    }
    if (!cmd ||
        (strcmp(cmd, "check") && strcmp(cmd, "diag") && strcmp(cmd, "recode")))
        return usage(stderr);

    FILE *f = stdin;
    if (path && strcmp(path, "-") != 0) {
        f = fopen(path, "rb");
        if (!f) {
            fprintf(stderr, "ferry-cbor: cannot open %s: %s\n", path,
                    strerror(errno));
            return 2;
        }
    }
    ferry_cbor_buf in, out;
    ferry_cbor_buf_init(&in);
    ferry_cbor_buf_init(&out);
    int rc = read_all(f, &in);
    if (f != stdin)
        fclose(f);
    if (rc) {
        fprintf(stderr, "ferry-cbor: cannot read the input\n");
        return 2;
    }
    if (hex && unhex_inplace(&in))
        return 1;

    ferry_cbor_error e;
    if (strcmp(cmd, "check") == 0)
        rc = ferry_cbor_check(in.data, in.len, NULL, &e);
    else if (strcmp(cmd, "diag") == 0)
        rc = ferry_cbor_diag(in.data, in.len, NULL, &out, &e);
    else
        rc = ferry_cbor_recode(in.data, in.len, NULL, &out, &e);
    if (rc < 0) {
        fprintf(stderr, "error at byte %zu: %s\n", e.offset, e.reason);
        ferry_cbor_buf_free(&in);
        ferry_cbor_buf_free(&out);
        return 1;
    }
    if (strcmp(cmd, "diag") == 0) {
        fwrite(out.data, 1, out.len, stdout);
        fputc('\n', stdout);
    } else if (strcmp(cmd, "recode") == 0) {
        if (hex) {
            for (size_t i = 0; i < out.len; i++)
                printf("%02x", out.data[i]);
            fputc('\n', stdout);
        } else {
            fwrite(out.data, 1, out.len, stdout);
        }
    }
    ferry_cbor_buf_free(&in);
    ferry_cbor_buf_free(&out);
    return fflush(stdout) == 0 ? 0 : 1;
}
