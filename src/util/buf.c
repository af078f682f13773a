/* Growable buffers with a size cap, and secrets wiped before they are freed. */
#include "callbridge/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cb_buf_append(struct cb_buf *b, const void *data, size_t len)
{
        if (len > b->max || b->len > b->max - len)
                return -1;
        if (b->len + len + 1 > b->alloc) {
                size_t want = b->alloc ? b->alloc : 256;
                char *p;
                while (want < b->len + len + 1)
                        want *= 2;
                if (want > b->max + 1)
                        want = b->max + 1;
                p = realloc(b->data, want);
                if (p == NULL)
                        return -1;
                b->data = p;
                b->alloc = want;
        }
        memcpy(b->data + b->len, data, len);
        b->len += len;
        b->data[b->len] = '\0'; /* keeps text bodies NUL-terminated for parsers */
        return 0;
}

int cb_buf_puts(struct cb_buf *b, const char *s)
{
        return cb_buf_append(b, s, strlen(s));
}

int cb_buf_printf(struct cb_buf *b, const char *fmt, ...)
{
        char small[512];
        char *big = NULL;
        va_list ap;
        int n;
        int rc;

        va_start(ap, fmt);
        n = vsnprintf(small, sizeof(small), fmt, ap);
        va_end(ap);
        if (n < 0)
                return -1;
        if ((size_t)n < sizeof(small))
                return cb_buf_append(b, small, (size_t)n);
        va_start(ap, fmt);
        n = vasprintf(&big, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -1;
        rc = cb_buf_append(b, big, (size_t)n);
        free(big);
        return rc;
}

void cb_buf_free(struct cb_buf *b)
{
        free(b->data);
        b->data = NULL;
        b->len = 0;
        b->alloc = 0;
}

void cb_secret_free(char *secret)
{
        if (secret == NULL)
                return;
        explicit_bzero(secret, strlen(secret));
        free(secret);
}

int cb_buf_url_encode(struct cb_buf *b, const char *s)
{
        static const char hex[] = "0123456789ABCDEF";

        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
                bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                             (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
                if (plain ? cb_buf_append(b, s, 1) != 0 : cb_buf_append(b, esc, 3) != 0)
                        return -1;
        }
        return 0;
}
