/* JSON Web Tokens (RFC 7519) in compact form, signed with OpenSSL: RS256 for the Salesforce
 * JWT bearer flow and Google service accounts, HS256 for Twilio access tokens. */
#ifndef CALLBRIDGE_JWT_H
#define CALLBRIDGE_JWT_H

#include <jansson.h>
#include <openssl/evp.h>
#include <stddef.h>

/* Read a PEM private key (PKCS#1 or PKCS#8, unencrypted). NULL (logged, naming the path but
 * never the contents) when the file is unreadable or holds no key. EVP_PKEY_free it. */
EVP_PKEY *cb_jwt_load_private_key(const char *path);

/* Sign {"alg":"RS256","typ":"JWT"}.`claims` with `key` (RSA). Returns the malloc'd token
 * (caller frees), or NULL when the key is not RSA or out of memory. `claims` is borrowed. */
char *cb_jwt_sign_rs256(EVP_PKEY *key, const json_t *claims);

/* Sign `header` (alg and typ are set to HS256/JWT; other members such as "cty" are kept)
 * and `claims` with HMAC-SHA256 over `secret`. `header` may be NULL. Returns the malloc'd
 * token or NULL on out of memory. Both JSON values are borrowed. */
char *cb_jwt_sign_hs256(const void *secret, size_t secret_len, const json_t *header,
                        const json_t *claims);

#endif
