/* SOQL/SOSL escaping (src/crm/soql.c): values from callers and webhooks placed into
 * Salesforce queries. Input: a mode byte (SOQL literal, SOQL LIKE pattern, SOSL term), a
 * buffer-cap byte, then the value. Properties, on the text as Salesforce reads it: inside a
 * quoted SOQL literal the escaped value never ends the literal (the only unescaped quote is
 * the closing one) and every backslash starts a legal escape; a LIKE pattern has no live
 * wildcard; a SOSL term has no bare reserved character; unescaping gives the value back; the
 * output is valid UTF-8. A refusal (ill-formed UTF-8, the cap) leaves the buffer as it was. */
#include "callbridge/soql.h"
#include "fuzz.h"

#define PREFIX "SELECT Id FROM Contact WHERE Phone LIKE '"

static const char sosl_reserved[] = "?&|!{}[]()^~*:\\\"'+-";

/* The byte a SOQL escape sequence "\c" stands for, or -1 when it is not one. */
static int soql_unescape(char c, bool like)
{
        switch (c) {
        case 'n':
                return '\n';
        case 'r':
                return '\r';
        case 't':
                return '\t';
        case 'b':
                return '\b';
        case 'f':
                return '\f';
        case '\'':
        case '"':
        case '\\':
                return c;
        case '%':
        case '_':
                return like ? c : -1;
        default:
                return -1;
        }
}

/* Read the escaped text `s` (len bytes) the way the server does, checking it as it goes, and
 * write what it stands for into `out`. */
static void read_back(int mode, const char *s, size_t len, char *out)
{
        size_t o = 0;

        for (size_t i = 0; i < len; i++) {
                char c = s[i];
                if (c == '\\') {
                        FUZZ_CHECK(i + 1 < len); /* a trailing backslash would eat the quote */
                        c = s[++i];
                        if (mode == 2) {
                                FUZZ_CHECK(strchr(sosl_reserved, c) != NULL && c != '\0');
                        } else {
                                int u = soql_unescape(c, mode == 1);
                                FUZZ_CHECK(u >= 0);
                                c = (char)u;
                        }
                } else if (mode == 2) {
                        FUZZ_CHECK(c == '\0' || strchr(sosl_reserved, c) == NULL);
                } else {
                        /* A bare quote or line break would end or break the literal. */
                        FUZZ_CHECK(c != '\'' && c != '"' && c != '\n' && c != '\r');
                        if (mode == 1)
                                FUZZ_CHECK(c != '%' && c != '_');
                }
                out[o++] = c;
        }
        out[o] = '\0';
}

static bool valid_utf8(const unsigned char *s, size_t n)
{
        for (size_t i = 0; i < n;) {
                unsigned char c = s[i];
                size_t k = c < 0x80                 ? 1
                           : c >= 0xc2 && c <= 0xdf ? 2
                           : c >= 0xe0 && c <= 0xef ? 3
                           : c >= 0xf0 && c <= 0xf4 ? 4
                                                    : 0;
                uint32_t cp = k == 1 ? c : k == 2 ? c & 0x1f : k == 3 ? c & 0x0f : c & 0x07;
                if (k == 0 || i + k > n)
                        return false;
                for (size_t j = 1; j < k; j++) {
                        if ((s[i + j] & 0xc0) != 0x80)
                                return false;
                        cp = cp << 6 | (s[i + j] & 0x3f);
                }
                if ((k == 3 && cp < 0x800) || (k == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
                    (cp >= 0xd800 && cp <= 0xdfff))
                        return false;
                i += k;
        }
        return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fuzz_in in = {data, size};
        int mode = fuzz_byte(&in) % 3;
        size_t cap = fuzz_byte(&in);
        size_t len;
        char *value = fuzz_field(&in, '\0', &len);
        struct cb_buf out = {.max = cap == 0 ? 1 << 20 : sizeof(PREFIX) - 1 + cap};
        size_t base;
        int rc;

        FUZZ_CHECK(cb_buf_puts(&out, PREFIX) == 0);
        base = out.len;
        rc = mode == 2 ? cb_sosl_escape(&out, value) : cb_soql_escape(&out, value, mode == 1);
        FUZZ_CHECK(memcmp(out.data, PREFIX, base) == 0);
        if (rc != 0) {
                FUZZ_CHECK(out.len == base && out.data[base] == '\0');
                /* Refused only for ill-formed UTF-8 or the cap. */
                FUZZ_CHECK(!valid_utf8((const unsigned char *)value, len) || cap != 0);
        } else {
                char *back = malloc(out.len - base + 1);
                FUZZ_CHECK(back != NULL);
                FUZZ_CHECK(valid_utf8((const unsigned char *)value, len));
                FUZZ_CHECK(valid_utf8((const unsigned char *)out.data + base, out.len - base));
                read_back(mode, out.data + base, out.len - base, back);
                FUZZ_CHECK(strcmp(back, value) == 0);
                free(back);
        }
        cb_buf_free(&out);
        free(value);
        return 0;
}
