/* Google authorisation for the `google` engine: an API key, or a service account's JWT
 * bearer grant (RFC 7523; RS256 with the account's key, scope cloud-platform) exchanged at
 * its token_uri for an access token that is cached until a minute before it expires. */
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "callbridge/config.h"
#include "callbridge/jwt.h"
#include "callbridge/log.h"
#include "callbridge/upstream.h"
#include "google.h"

#define SCOPE            "https://www.googleapis.com/auth/cloud-platform"
#define MAX_CREDENTIALS  ((size_t)64 * 1024)
#define TOKEN_MARGIN_US  ((int64_t)60 * 1000000)
#define MAX_TOKEN_HEADER 4096

/* Read the service-account JSON; fills email, token_uri and key. -1 logged. */
static int load_account(struct google_auth *a, const char *path)
{
        json_error_t jerr;
        json_t *doc = json_load_file(path, 0, &jerr);
        const char *email = json_string_value(json_object_get(doc, "client_email"));
        const char *pem = json_string_value(json_object_get(doc, "private_key"));
        const char *uri = json_string_value(json_object_get(doc, "token_uri"));
        BIO *bio = NULL;
        int rc = -1;

        if (doc == NULL) {
                cb_error("stt google: %s is not JSON: %s (line %d)", path, jerr.text, jerr.line);
                return -1;
        }
        if (email == NULL || pem == NULL) {
                cb_error("stt google: %s has no client_email or private_key (a service-account "
                         "key file is expected)",
                         path);
                goto out;
        }
        bio = BIO_new_mem_buf(pem, -1);
        a->key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
        a->client_email = strdup(email);
        a->token_uri = strdup(uri ? uri : "https://oauth2.googleapis.com/token");
        if (a->key == NULL)
                cb_error("stt google: the private_key of %s is not a readable PEM key", path);
        else if (a->client_email != NULL && a->token_uri != NULL)
                rc = 0;
out:
        BIO_free(bio);
        json_decref(doc);
        return rc;
}

int google_auth_init(struct google_auth *a, const char *path, const char *key_path, long timeout_ms)
{
        memset(a, 0, sizeof(*a));
        pthread_mutex_init(&a->lock, NULL);
        a->timeout_ms = timeout_ms;
        if (path != NULL)
                return load_account(a, path);
        a->api_key = key_path ? cb_config_read_secret(key_path) : NULL;
        if (a->api_key == NULL || a->api_key[0] == '\0') {
                cb_error("stt google: cannot read [stt] api_key_file");
                return -1;
        }
        return 0;
}

void google_auth_free(struct google_auth *a)
{
        cb_secret_free(a->api_key);
        free(a->client_email);
        free(a->token_uri);
        EVP_PKEY_free(a->key);
        cb_secret_free(a->token);
        pthread_mutex_destroy(&a->lock);
        memset(a, 0, sizeof(*a));
}

/* The signed assertion, malloc'd; NULL when out of memory. */
static char *assertion(struct google_auth *a)
{
        time_t now = time(NULL);
        json_t *claims =
            json_pack("{s:s,s:s,s:s,s:I,s:I}", "iss", a->client_email, "scope", SCOPE, "aud",
                      a->token_uri, "iat", (json_int_t)now, "exp", (json_int_t)now + 3600);
        char *jwt = claims ? cb_jwt_sign_rs256(a->key, claims) : NULL;

        json_decref(claims);
        return jwt;
}

/* Read the token answer into a->token; OK, RETRY or FAIL with `err`. Lock held. */
static enum cb_result take_token(struct google_auth *a, const struct cb_upstream_resp *resp,
                                 char *err, size_t err_size)
{
        json_t *doc = json_loadb(resp->body.data ? resp->body.data : "", resp->body.len, 0, NULL);
        const char *tok = json_string_value(json_object_get(doc, "access_token"));
        json_int_t ttl = json_integer_value(json_object_get(doc, "expires_in"));
        const char *e = json_string_value(json_object_get(doc, "error"));
        const char *desc = json_string_value(json_object_get(doc, "error_description"));
        struct cb_buf b = {.max = MAX_TOKEN_HEADER};
        enum cb_result rc = CB_RESULT_RETRY;

        if (resp->status != 200 || tok == NULL) {
                snprintf(err, err_size, "google token endpoint answered %ld: %s%s%s", resp->status,
                         e ? e : "no access_token", desc ? ": " : "", desc ? desc : "");
                if (resp->status >= 400 && resp->status < 500 && resp->status != 429)
                        rc = CB_RESULT_FAIL;
        } else if (cb_buf_printf(&b, "Authorization: Bearer %s", tok) == 0) {
                cb_secret_free(a->token);
                a->token = b.data;
                a->token_exp_us =
                    cb_mono_us() + (int64_t)(ttl > 0 ? ttl : 3600) * 1000000 - TOKEN_MARGIN_US;
                rc = CB_RESULT_OK;
        } else {
                snprintf(err, err_size, "google access token is too long");
        }
        json_decref(doc);
        return rc;
}

/* Exchange a fresh assertion for a token; lock held. */
static enum cb_result fetch_token(struct google_auth *a, char *err, size_t err_size)
{
        char *jwt = assertion(a);
        struct cb_buf body = {.max = 16384};
        struct cb_upstream_req req = {.service = "google",
                                      .method = "POST",
                                      .url = a->token_uri,
                                      .headers = {"Content-Type: application/x-www-form-urlencoded",
                                                  "Accept: application/json"},
                                      .timeout_ms = a->timeout_ms < 30000 ? a->timeout_ms : 30000};
        struct cb_upstream_resp resp;
        enum cb_result rc = CB_RESULT_RETRY;

        if (jwt == NULL ||
            cb_buf_printf(&body,
                          "grant_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Agrant-type%%3Ajwt-bearer"
                          "&assertion=%s",
                          jwt) != 0) {
                snprintf(err, err_size, "google: cannot sign the token request");
                goto out;
        }
        req.body = body.data;
        req.body_len = body.len;
        if (cb_upstream_perform(&req, &resp) != 0)
                snprintf(err, err_size, "google token endpoint unreachable: %s", resp.error);
        else
                rc = take_token(a, &resp, err, err_size);
        cb_upstream_resp_free(&resp);
out:
        free(jwt);
        cb_buf_free(&body);
        return rc;
}

enum cb_result google_auth_header(struct google_auth *a, char *out, size_t out_size, char *err,
                                  size_t err_size)
{
        enum cb_result rc = CB_RESULT_OK;

        out[0] = '\0';
        if (a->api_key != NULL)
                return CB_RESULT_OK;
        pthread_mutex_lock(&a->lock);
        if (a->token == NULL || cb_mono_us() >= a->token_exp_us)
                rc = fetch_token(a, err, err_size);
        if (rc == CB_RESULT_OK && !cb_strlcpy(out, a->token, out_size)) {
                rc = CB_RESULT_RETRY;
                snprintf(err, err_size, "google access token is too long");
        }
        pthread_mutex_unlock(&a->lock);
        return rc;
}

void google_auth_invalidate(struct google_auth *a)
{
        pthread_mutex_lock(&a->lock);
        cb_secret_free(a->token);
        a->token = NULL;
        pthread_mutex_unlock(&a->lock);
}
