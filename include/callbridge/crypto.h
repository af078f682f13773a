/* Hashing (SHA-256, HMAC-SHA256), constant-time comparison, randomness and UUIDs (OpenSSL), in
 * cb_crypto (src/crypto/digest.c, random.c). The digest and comparison functions are pure;
 * cb_random and cb_uuid_v4 read the kernel's CSPRNG. cb_uuid_valid, a syntax check, stays in
 * util.h. */
#ifndef CALLBRIDGE_CRYPTO_H
#define CALLBRIDGE_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

#include "callbridge/util.h" /* CB_UUID_LEN */

/* Fill `buf` with cryptographically strong random bytes; aborts if the CSPRNG fails. */
void cb_random(void *buf, size_t len);
/* Write a random RFC 4122 version 4 UUID and a NUL into `out` (CB_UUID_LEN + 1 bytes). */
void cb_uuid_v4(char out[CB_UUID_LEN + 1]);

/* SHA-256 of `len` bytes into `out`; aborts if OpenSSL fails (it cannot, short of memory). */
void cb_sha256(const void *data, size_t len, unsigned char out[32]);
/* HMAC-SHA256 of `len` bytes under a `key_len`-byte key into `out`. Returns false (out
 * undefined) only when OpenSSL fails or key_len exceeds INT_MAX. */
bool cb_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                    unsigned char out[32]);
/* Constant-time comparison of two equal-length byte strings; true when equal. */
bool cb_ct_equal(const void *a, const void *b, size_t len);

#endif
