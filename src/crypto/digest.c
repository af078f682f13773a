/* SHA-256 and constant-time comparison (OpenSSL). Pure: no I/O, no randomness, so the pure
 * libraries (cb_calls) may link them. */
#include "callbridge/crypto.h"

#include <stdlib.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

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
