/* Hex and base64 (standard and URL-safe alphabets) encoding and decoding. */
#include "callbridge/util.h"

#include <string.h>

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
