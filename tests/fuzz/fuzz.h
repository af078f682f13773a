/* What the libFuzzer targets in tests/fuzz/ share: a property check that aborts (libFuzzer
 * then saves the input as a crash) and a reader that splits one input into fields. */
#ifndef CB_FUZZ_H
#define CB_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property the code under test must keep: abort (a crash to libFuzzer) when it does not. */
#define FUZZ_CHECK(cond)                                                                           \
        do {                                                                                       \
                if (!(cond)) {                                                                     \
                        fprintf(stderr, "%s:%d: property violated: %s\n", __FILE__, __LINE__,      \
                                #cond);                                                            \
                        abort();                                                                   \
                }                                                                                  \
        } while (0)

/* The input, consumed field by field. */
struct fuzz_in {
        const uint8_t *p;
        size_t n;
};

/* The next field up to (not including) byte `sep`, or the rest when there is none, as a new
 * NUL-terminated string (an embedded NUL ends it early). *len (may be NULL) is its byte length
 * before that NUL. Never NULL: aborts when out of memory. Caller frees. */
static inline char *fuzz_field(struct fuzz_in *in, uint8_t sep, size_t *len)
{
        const uint8_t *end = memchr(in->p, sep, in->n);
        size_t n = end ? (size_t)(end - in->p) : in->n;
        char *s = malloc(n + 1);

        if (s == NULL)
                abort();
        if (n > 0)
                memcpy(s, in->p, n);
        s[n] = '\0';
        if (len != NULL)
                *len = n;
        in->p += end ? n + 1 : n;
        in->n -= end ? n + 1 : n;
        return s;
}

/* One byte of the input (0 once it is used up). */
static inline uint8_t fuzz_byte(struct fuzz_in *in)
{
        uint8_t b = 0;

        if (in->n > 0) {
                b = in->p[0];
                in->p++;
                in->n--;
        }
        return b;
}

#endif
