/* HTTP Range parsing for recording playback (cb_range_parse, src/http/audio_reply.c). Input:
 * the representation size in decimal, a '\n', then the Range header value. Properties: a
 * served range lies inside the representation (first <= last < size), and the answer is the
 * one RFC 9110 §14.1-14.2 gives, computed here independently: one "bytes=" range of plain
 * digits ("a-b", "a-", "-n") is served or unsatisfiable; anything else (other units, several
 * ranges, signs, blanks, last < first) is ignored and the whole file served. */
#include "audio_reply.h"
#include "fuzz.h"

/* 1*DIGIT at *p, saturating at UINT64_MAX; false when there is no digit. */
static bool digits(const char **p, uint64_t *v)
{
        const char *s = *p;

        *v = 0;
        if (*s < '0' || *s > '9')
                return false;
        for (; *s >= '0' && *s <= '9'; s++)
                *v = *v > (UINT64_MAX - 9) / 10 ? UINT64_MAX : *v * 10 + (uint64_t)(*s - '0');
        *p = s;
        return true;
}

static int reference(const char *h, uint64_t size, uint64_t *first, uint64_t *last)
{
        uint64_t a = 0, b = 0;
        const char *p;

        if (strncmp(h, "bytes=", 6) != 0)
                return 0;
        p = h + 6;
        if (*p == '-') {
                p++;
                if (!digits(&p, &b) || *p != '\0')
                        return 0;
                if (b == 0 || size == 0)
                        return -1;
                *first = b >= size ? 0 : size - b;
                *last = size - 1;
                return 1;
        }
        if (!digits(&p, &a) || *p++ != '-')
                return 0;
        if (*p == '\0') {
                b = UINT64_MAX;
        } else if (!digits(&p, &b) || *p != '\0' || b < a) {
                return 0;
        }
        if (a >= size)
                return -1;
        *first = a;
        *last = b >= size ? size - 1 : b;
        return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fuzz_in in = {data, size};
        char *sz = fuzz_field(&in, '\n', NULL);
        char *header = fuzz_field(&in, '\0', NULL);
        const char *p = sz;
        uint64_t rsize = 0, first = 0, last = 0, rfirst = 0, rlast = 0;
        int r, want;

        (void)digits(&p, &rsize);
        r = cb_range_parse(header, rsize, &first, &last);
        want = reference(header, rsize, &rfirst, &rlast);
        if (r == 1)
                FUZZ_CHECK(first <= last && last < rsize);
        if (r != want)
                fprintf(stderr, "size %llu, Range \"%s\": got %d, RFC 9110 says %d\n",
                        (unsigned long long)rsize, header, r, want);
        FUZZ_CHECK(r == want);
        if (r == 1)
                FUZZ_CHECK(first == rfirst && last == rlast);
        free(sz);
        free(header);
        return 0;
}
