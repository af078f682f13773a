/* Shared by google.c and google_auth.c: how requests to Google are authorised. */
#ifndef CB_STT_GOOGLE_H
#define CB_STT_GOOGLE_H

#include <openssl/evp.h>
#include <pthread.h>
#include <stdint.h>

#include "callbridge/util.h"

/* An API key (?key=) or a service account (JWT bearer grant → cached access token). */
struct google_auth {
        char *api_key; /* NULL with a service account; wiped on free */
        char *client_email;
        char *token_uri;
        EVP_PKEY *key;
        long timeout_ms;
        pthread_mutex_t lock; /* guards token and token_exp_us */
        char *token;          /* "Authorization: Bearer ..." header line, or NULL */
        int64_t token_exp_us; /* monotonic time after which it is refreshed */
};

/* Load the service-account JSON (client_email, private_key, token_uri) from `path`, or the
 * API key from `key_path` when `path` is NULL. 0, or -1 (logged; `a` is then to be freed with
 * google_auth_free all the same). */
int google_auth_init(struct google_auth *a, const char *path, const char *key_path,
                     long timeout_ms);
void google_auth_free(struct google_auth *a);

/* The Authorization header line to send into `out` ("" with an API key). OK, or RETRY/FAIL
 * with `err` when the token endpoint refused (bad credentials FAIL, 5xx/unreachable RETRY). */
enum cb_result google_auth_header(struct google_auth *a, char *out, size_t out_size, char *err,
                                  size_t err_size);
/* Forget the cached token (Google answered 401 to it). */
void google_auth_invalidate(struct google_auth *a);

#endif
