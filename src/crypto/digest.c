/* SHA-256, HMAC-SHA256 and constant-time comparison (OpenSSL). Pure: no I/O, no randomness, so the
 * pure libraries (cb_calls) may link them. */
#include "callbridge/crypto.h"

#include <limits.h>
#include <stdlib.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

void cb_sha256(const void *data, size_t len, unsigned char out[32])
{
        unsigned int n = 32;

        if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1)
                abort();
}

bool cb_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                    unsigned char out[32])
{
        unsigned int n = 0;

        if (key_len > INT_MAX)
                return false;
        return HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &n) != NULL && n == 32;
}

bool cb_ct_equal(const void *a, const void *b, size_t len)
{
        return CRYPTO_memcmp(a, b, len) == 0;
}
