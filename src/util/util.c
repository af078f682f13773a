/* Randomness, UUIDs, SHA-256 and constant-time comparison (OpenSSL). Clocks: time.c;
 * encodings: encoding.c; strings: strings.c; log masking: mask.c; buffers: buf.c. */
#include "callbridge/util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

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

bool cb_ct_equal(const void *a, const void *b, size_t len)
{
        return CRYPTO_memcmp(a, b, len) == 0;
}
