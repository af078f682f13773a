/* Small shared helpers: clocks, randomness, hashing, encoding, parsing. */
#include "callbridge/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

int64_t cb_now_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t cb_mono_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void cb_random(void *buf, size_t len)
{
        if (RAND_bytes(buf, (int)len) != 1)
                abort(); /* no randomness means no safe keys or ids: stop */
}

void cb_uuid_v4(char out[CB_UUID_LEN + 1])
{
        unsigned char b[16];
        char hex[33];

        cb_random(b, sizeof(b));
        b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
        b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
        cb_hex(b, sizeof(b), hex);
        memcpy(out, hex, 8);
        out[8] = '-';
        memcpy(out + 9, hex + 8, 4);
        out[13] = '-';
        memcpy(out + 14, hex + 12, 4);
        out[18] = '-';
        memcpy(out + 19, hex + 16, 4);
        out[23] = '-';
        memcpy(out + 24, hex + 20, 12);
        out[36] = '\0';
}

bool cb_uuid_valid(const char *s)
{
        if (s == NULL || strlen(s) != CB_UUID_LEN)
                return false;
        for (size_t i = 0; i < CB_UUID_LEN; i++) {
                if (i == 8 || i == 13 || i == 18 || i == 23) {
                        if (s[i] != '-')
                                return false;
                } else if (!isxdigit((unsigned char)s[i])) {
                        return false;
                }
        }
        return true;
}

void cb_sha256(const void *data, size_t len, unsigned char out[32])
{
        unsigned int n = 32;

        if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1)
                abort();
}

int cb_hex_digit(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

void cb_hex(const unsigned char *in, size_t len, char *out)
{
        static const char digits[] = "0123456789abcdef";

        for (size_t i = 0; i < len; i++) {
                out[2 * i] = digits[in[i] >> 4];
                out[2 * i + 1] = digits[in[i] & 0xf];
        }
        out[2 * len] = '\0';
}

bool cb_ct_equal(const void *a, const void *b, size_t len)
{
        return CRYPTO_memcmp(a, b, len) == 0;
}

static size_t b64_encode(const unsigned char *in, size_t len, char *out, const char *alphabet,
                         bool pad)
{
        size_t o = 0;
        size_t i = 0;

        for (; i + 2 < len; i += 3) {
                uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
                out[o++] = alphabet[(v >> 18) & 63];
                out[o++] = alphabet[(v >> 12) & 63];
                out[o++] = alphabet[(v >> 6) & 63];
                out[o++] = alphabet[v & 63];
        }
        if (i < len) {
                uint32_t v = (uint32_t)in[i] << 16;
                if (i + 1 < len)
                        v |= (uint32_t)in[i + 1] << 8;
                out[o++] = alphabet[(v >> 18) & 63];
                out[o++] = alphabet[(v >> 12) & 63];
                if (i + 1 < len)
                        out[o++] = alphabet[(v >> 6) & 63];
                else if (pad)
                        out[o++] = '=';
                if (pad)
                        out[o++] = '=';
        }
        out[o] = '\0';
        return o;
}

size_t cb_base64url_encode(const unsigned char *in, size_t len, char *out)
{
        return b64_encode(in, len, out,
                          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
                          false);
}

size_t cb_base64_encode(const unsigned char *in, size_t len, char *out)
{
        return b64_encode(in, len, out,
                          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", true);
}

static int b64url_value(char c)
{
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '-')
                return 62;
        if (c == '_')
                return 63;
        return -1;
}

/* Decode `n` characters of `in` with the alphabet `value` into `out`; *bits and *acc are what
 * is left over (fewer than 8 bits). The number of bytes, or -1 on a character outside the
 * alphabet or an overflow of `outlen`. */
static long b64_decode_bits(const char *in, size_t n, int (*value)(char), unsigned char *out,
                            size_t outlen, int *bits, uint32_t *acc)
{
        size_t o = 0;

        *bits = 0;
        *acc = 0;
        for (size_t i = 0; i < n; i++) {
                int v = value(in[i]);
                if (v < 0)
                        return -1;
                *acc = (*acc << 6) | (uint32_t)v;
                *bits += 6;
                if (*bits >= 8) {
                        *bits -= 8;
                        if (o >= outlen)
                                return -1;
                        out[o++] = (unsigned char)(*acc >> *bits);
                }
        }
        return (long)o;
}

long cb_base64url_decode(const char *in, unsigned char *out, size_t outlen)
{
        uint32_t acc;
        int bits;
        long n = b64_decode_bits(in, strlen(in), b64url_value, out, outlen, &bits, &acc);

        if (bits >= 6) /* a lone trailing character cannot encode a byte */
                return -1;
        return n;
}

static int b64_value(char c)
{
        if (c == '+')
                return 62;
        if (c == '/')
                return 63;
        if (c == '-' || c == '_')
                return -1;
        return b64url_value(c);
}

/* Strict: whole 4-character groups, '=' only as the padding of the last one, and the bits the
 * padding leaves over must be zero, so every byte string has exactly one accepted encoding. */
long cb_base64_decode(const char *in, unsigned char *out, size_t outlen)
{
        size_t len = strlen(in);
        size_t pad = 0;
        uint32_t acc;
        int bits;
        long n;

        if (len % 4 != 0)
                return -1;
        if (len > 0 && in[len - 1] == '=')
                pad = len > 1 && in[len - 2] == '=' ? 2 : 1;
        n = b64_decode_bits(in, len - pad, b64_value, out, outlen, &bits, &acc);
        if (n < 0 || (acc & ((1u << bits) - 1)) != 0) /* non-zero leftover bits: not canonical */
                return -1;
        return n;
}

bool cb_strlcpy(char *dst, const char *src, size_t size)
{
        size_t n = strlen(src);

        if (size == 0)
                return false;
        if (n >= size) {
                memcpy(dst, src, size - 1);
                dst[size - 1] = '\0';
                return false;
        }
        memcpy(dst, src, n + 1);
        return true;
}

bool cb_parse_long(const char *s, long min, long max, long *out)
{
        char *end = NULL;
        long v;

        if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
                return false;
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno != 0 || *end != '\0' || v < min || v > max)
                return false;
        *out = v;
        return true;
}

bool cb_choice_match(const char *choices, const char *value, bool prefix)
{
        const char *p = choices;

        while (p != NULL && *p != '\0') {
                const char *bar = strchr(p, '|');
                size_t n = bar ? (size_t)(bar - p) : strlen(p);
                if (prefix ? strncmp(value, p, n) == 0 && value[n] != '\0'
                           : strlen(value) == n && strncmp(value, p, n) == 0)
                        return true;
                p = bar ? bar + 1 : NULL;
        }
        return false;
}

bool cb_str_charset(const char *s, size_t max, const char *extra)
{
        size_t n = s ? strlen(s) : 0;

        if (n == 0 || n > max)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char)s[i]) && strchr(extra, s[i]) == NULL)
                        return false;
        return true;
}

void cb_deadline_after_ms(long ms, struct timespec *out)
{
        clock_gettime(CLOCK_REALTIME, out);
        out->tv_sec += ms / 1000;
        out->tv_nsec += (ms % 1000) * 1000000L;
        if (out->tv_nsec >= 1000000000L) {
                out->tv_sec++;
                out->tv_nsec -= 1000000000L;
        }
}

/* Keep a leading '+', the first 4 digits and the last 2; star the rest. Percent-encoded
 * separators ("%20") are copied as they are and not counted as digits. */
static size_t mask_run(const char *in, size_t len, char *out, size_t room)
{
        size_t o = 0;
        size_t digits = 0;
        size_t total = 0;

        for (size_t i = 0; i < len; i++) {
                if (in[i] == '%' && i + 2 < len)
                        i += 2;
                else if (isdigit((unsigned char)in[i]))
                        total++;
        }
        for (size_t i = 0; i < len && o + 1 < room; i++) {
                char c = in[i];
                if (c == '%' && i + 2 < len && o + 3 < room) {
                        memcpy(out + o, in + i, 3);
                        o += 3;
                        i += 2;
                        continue;
                }
                if (isdigit((unsigned char)c)) {
                        digits++;
                        if (digits > 4 && digits + 2 <= total)
                                c = '*';
                }
                out[o++] = c;
        }
        return o;
}

void cb_mask_phone(const char *in, char *out, size_t outlen)
{
        size_t o;

        if (outlen == 0)
                return;
        if (in == NULL) {
                out[0] = '\0';
                return;
        }
        o = mask_run(in, strlen(in), out, outlen);
        out[o] = '\0';
}

/* Length of a separator a phone number may be written with: "-", ".", " ", "(", ")" or
 * their percent-encodings; 0 when `p` is not one. */
static size_t phone_separator(const char *p)
{
        static const char *const encoded[] = {"%20", "%28", "%29", "%2D", "%2d", "%2E", "%2e"};

        if (*p != '\0' && strchr("-. ()", *p) != NULL)
                return 1;
        for (size_t i = 0; i < CB_ARRAY_LEN(encoded); i++)
                if (strncmp(p, encoded[i], 3) == 0)
                        return 3;
        return 0;
}

/* A phone-like run at `p`: digits joined by single separators. Returns its length and the
 * number of digits in it. */
static size_t phone_run(const char *p, size_t *digits)
{
        size_t len = 0;

        *digits = 0;
        for (;;) {
                size_t d = strspn(p + len, "0123456789");
                size_t sep;
                *digits += d;
                len += d;
                if (d == 0)
                        break;
                /* "(415) 555", "%20(415)%20555": up to 6 characters of separators */
                sep = 0;
                for (size_t one; sep < 6 && (one = phone_separator(p + len + sep)) > 0;)
                        sep += one;
                if (sep == 0 || !isdigit((unsigned char)p[len + sep]))
                        break;
                len += sep;
        }
        return len;
}

void cb_mask_digits(const char *in, char *out, size_t outlen)
{
        size_t o = 0;
        const char *p = in;

        if (outlen == 0)
                return;
        while (*p != '\0' && o + 1 < outlen) {
                size_t digits;
                size_t run = isdigit((unsigned char)*p) ? phone_run(p, &digits) : 0;
                size_t pure = strspn(p, "0123456789");

                if (run > 0 && digits >= 7 && digits <= 15) {
                        /* Looks like one phone number, however it is punctuated. */
                        o += mask_run(p, run, out + o, outlen - o);
                        p += run;
                } else if (pure >= 7) {
                        o += mask_run(p, pure, out + o, outlen - o);
                        p += pure;
                } else if (pure > 0) {
                        size_t n = pure < outlen - 1 - o ? pure : outlen - 1 - o;
                        memcpy(out + o, p, n);
                        o += n;
                        p += pure;
                } else {
                        out[o++] = *p++;
                }
        }
        out[o] = '\0';
}

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

void cb_err_printf(char *err, size_t size, const char *fmt, ...)
{
        va_list ap;

        if (err == NULL || size == 0)
                return;
        va_start(ap, fmt);
        vsnprintf(err, size, fmt, ap);
        va_end(ap);
}

static _Thread_local int64_t wait_hint_ms;

void cb_wait_hint_set(int64_t ms)
{
        if (ms > wait_hint_ms)
                wait_hint_ms = ms;
}

int64_t cb_wait_hint_take(void)
{
        int64_t ms = wait_hint_ms;

        wait_hint_ms = 0;
        return ms;
}
