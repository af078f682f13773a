/* Inside the sealed-blob code: the AES-256-GCM primitive every chunk goes through (so the tests
 * can run the specification's vectors through the same calls) and the keyring's key lookup. */
#ifndef CALLBRIDGE_CRYPTO_BLOB_INT_H
#define CALLBRIDGE_CRYPTO_BLOB_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>

#include "callbridge/blob.h"

#define CB_GCM_KEY 32
#define CB_GCM_IV  12
#define CB_GCM_TAG 16

/* Key `ctx` for AES-256-GCM with 12-byte IVs, for sealing (`seal`) or opening; the key schedule
 * is then reused by every cb_gcm_seal/open on it. 0, or -1 when OpenSSL fails. */
int cb_gcm_init(EVP_CIPHER_CTX *ctx, const unsigned char key[CB_GCM_KEY], bool seal);
/* Encrypt `len` bytes of `in` into `out` (may be `in`) under `iv`, authenticating `aad` too, and
 * write the tag. 0, or -1 when OpenSSL fails (`out` then holds nothing useful). */
int cb_gcm_seal(EVP_CIPHER_CTX *ctx, const unsigned char iv[CB_GCM_IV], const void *aad,
                size_t aad_len, const void *in, size_t len, void *out,
                unsigned char tag[CB_GCM_TAG]);
/* Decrypt and authenticate. 0, or -1 when the tag does not match or OpenSSL fails: `out` may
 * then hold unauthenticated bytes, which the caller must wipe and never use. */
int cb_gcm_open(EVP_CIPHER_CTX *ctx, const unsigned char iv[CB_GCM_IV], const void *aad,
                size_t aad_len, const void *in, size_t len, void *out,
                const unsigned char tag[CB_GCM_TAG]);

/* A keyring from the text of a key file (cb_keyring_load without the file); same errors. */
struct cb_keyring *cb_keyring_parse(const char *text, size_t len, char *err, size_t err_size);
/* The 32-byte key whose id is `id` (4 bytes), or NULL. Borrowed from the ring. */
const unsigned char *cb_keyring_find(const struct cb_keyring *kr,
                                     const unsigned char id[CB_BLOB_KEY_ID]);
/* The key new blobs are sealed with; its id into `id`. Borrowed from the ring. */
const unsigned char *cb_keyring_current(const struct cb_keyring *kr,
                                        unsigned char id[CB_BLOB_KEY_ID]);

#endif
