/* SOQL string-literal and SOSL search-term escaping. Rules: "Quoted String Escape Sequences"
 * and "FIND {SearchQuery}: Reserved Characters" in the Salesforce SOQL and SOSL Reference. */
#include "callbridge/soql.h"

#include <string.h>

enum dialect { SOQL_LITERAL, SOQL_LIKE, SOSL_TERM };

/* Characters SOSL reserves in a FIND term; each is written as itself after a backslash. */
static const char sosl_reserved[] = "?&|!{}[]()^~*:\\\"'+-";

/* The character to write after a backslash for byte `c`, or 0 when `c` is copied as is. */
static char escape_of(enum dialect d, unsigned char c)
{
        if (c == '\0' || c >= 0x80)
                return 0;
        if (d == SOSL_TERM)
                return strchr(sosl_reserved, c) != NULL ? (char)c : 0;
        switch (c) {
        case '\'':
        case '"':
        case '\\':
                return (char)c;
        case '\n':
                return 'n';
        case '\r':
                return 'r';
        case '\t':
                return 't';
        case '\b':
                return 'b';
        case '\f':
                return 'f';
        case '%':
        case '_':
                return d == SOQL_LIKE ? (char)c : 0;
        default:
                return 0;
        }
}

static bool is_cont(unsigned char c)
{
        return c >= 0x80 && c <= 0xbf;
}

/* Length of the well-formed UTF-8 sequence starting at `s` (Unicode Table 3-7: no overlong
 * forms, surrogates or code points above U+10FFFF), or 0 when it is ill-formed. Stops at
 * the first byte that fails, so it never reads past a terminating NUL. */
static size_t utf8_len(const unsigned char *s)
{
        unsigned char c = s[0];
        unsigned char lo = 0x80;
        unsigned char hi = 0xbf;

        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf)
                return is_cont(s[1]) ? 2 : 0;
        if (c >= 0xe0 && c <= 0xef) {
                if (c == 0xe0)
                        lo = 0xa0;
                else if (c == 0xed)
                        hi = 0x9f;
                return s[1] >= lo && s[1] <= hi && is_cont(s[2]) ? 3 : 0;
        }
        if (c >= 0xf0 && c <= 0xf4) {
                if (c == 0xf0)
                        lo = 0x90;
                else if (c == 0xf4)
                        hi = 0x8f;
                return s[1] >= lo && s[1] <= hi && is_cont(s[2]) && is_cont(s[3]) ? 4 : 0;
        }
        return 0;
}

/* Validate and measure first so that a bad input or the cap fails before anything is
 * written; an allocation failure part-way is rolled back to the original length. */
static int escape(struct cb_buf *out, const char *in, enum dialect d)
{
        const unsigned char *s = (const unsigned char *)in;
        size_t need = 0;
        size_t run = 0;
        size_t saved;
        size_t i;

        if (out == NULL || in == NULL)
                return -1;
        for (i = 0; s[i] != '\0';) {
                size_t n = utf8_len(s + i);
                if (n == 0)
                        return -1;
                need += n + (escape_of(d, s[i]) != 0 ? 1 : 0);
                i += n;
        }
        if (need > out->max || out->len > out->max - need)
                return -1;
        saved = out->len;
        for (i = 0; s[i] != '\0'; i++) {
                char pair[2] = {'\\', escape_of(d, s[i])};
                if (pair[1] == 0)
                        continue;
                if (cb_buf_append(out, s + run, i - run) != 0 ||
                    cb_buf_append(out, pair, sizeof(pair)) != 0)
                        goto fail;
                run = i + 1;
        }
        if (cb_buf_append(out, s + run, i - run) != 0)
                goto fail;
        return 0;
fail:
        out->len = saved;
        if (out->data != NULL)
                out->data[saved] = '\0';
        return -1;
}

int cb_soql_escape(struct cb_buf *out, const char *in, bool like)
{
        return escape(out, in, like ? SOQL_LIKE : SOQL_LITERAL);
}

int cb_sosl_escape(struct cb_buf *out, const char *in)
{
        return escape(out, in, SOSL_TERM);
}
