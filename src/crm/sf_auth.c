/* Salesforce OAuth 2.0: the JWT bearer, client credentials and refresh token flows, the
 * access token shared by every instance through Redis, and one token request at a time.
 *
 * Single flight: in this process the `refresh` mutex serialises token requests, and a thread
 * that waited for it first looks whether the token changed meanwhile. Across instances a
 * short Redis lock (SET NX PX) elects one requester; the others poll the shared key for the
 * new token and, if none shows up in time, ask themselves. With Redis down every instance
 * asks for itself, which Salesforce allows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "callbridge/cache.h"
#include "callbridge/crypto.h"
#include "callbridge/jwt.h"
#include "callbridge/log.h"
#include "callbridge/upstream.h"
#include "sf.h"

#define JWT_LIFETIME_S      180
#define LOCK_MS             10000
#define PEER_WAIT_MS        5000
#define PEER_POLL_MS        50
#define REFUSAL_BACKOFF_MS  5000
#define REFUSAL_BACKOFF_MAX 300000
#define FAILURE_BACKOFF_MS  1000

/* The JWT bearer assertion: iss = consumer key, sub = username, aud = login URL. */
static char *jwt_assertion(struct sf *sf)
{
        const struct cb_config *cfg = sf->cfg;
        json_t *claims = json_pack("{s:s,s:s,s:s,s:I}", "iss", cfg->salesforce.client_id, "sub",
                                   cfg->salesforce.username, "aud", cfg->salesforce.login_url,
                                   "exp", (json_int_t)time(NULL) + JWT_LIFETIME_S);
        char *jwt = claims ? cb_jwt_sign_rs256(sf->key, claims) : NULL;

        json_decref(claims);
        return jwt;
}

/* The form body of the configured flow; -1 on out of memory. */
static int grant_body(struct sf *sf, struct cb_buf *b)
{
        const char *flow = sf->cfg->salesforce.auth;
        int rc = 0;

        if (strcmp(flow, "jwt") == 0) {
                char *jwt = jwt_assertion(sf);
                if (jwt == NULL)
                        return -1;
                rc |= cb_buf_puts(b, "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-"
                                     "bearer&assertion=");
                rc |= cb_buf_puts(b, jwt);
                free(jwt);
                return rc;
        }
        if (strcmp(flow, "refresh_token") == 0) {
                rc |= cb_buf_puts(b, "grant_type=refresh_token&refresh_token=");
                rc |= cb_buf_url_encode(b, sf->refresh_token);
        } else {
                rc |= cb_buf_puts(b, "grant_type=client_credentials");
        }
        rc |= cb_buf_puts(b, "&client_id=");
        rc |= cb_buf_url_encode(b, sf->cfg->salesforce.client_id);
        rc |= cb_buf_puts(b, "&client_secret=");
        rc |= cb_buf_url_encode(b, sf->client_secret);
        return rc;
}

/* The org id from the identity URL ".../id/<org>/<user>". */
static void org_from_identity(const char *id, char *out, size_t size)
{
        const char *p = id ? strstr(id, "/id/") : NULL;
        size_t n;

        out[0] = '\0';
        if (p == NULL)
                return;
        p += 4;
        n = strcspn(p, "/");
        if (n < size) {
                memcpy(out, p, n);
                out[n] = '\0';
        }
}

/* A refusal: remember it for /readyz and pause further requests, growing the pause. */
static void refused(struct sf *sf, const char *error, const char *description)
{
        pthread_mutex_lock(&sf->lock);
        snprintf(sf->auth_error, sizeof(sf->auth_error), "%s: %s", error,
                 description ? description : "");
        sf->auth_backoff_ms = sf->auth_backoff_ms ? sf->auth_backoff_ms * 2 : REFUSAL_BACKOFF_MS;
        if (sf->auth_backoff_ms > REFUSAL_BACKOFF_MAX)
                sf->auth_backoff_ms = REFUSAL_BACKOFF_MAX;
        sf->auth_retry_us = cb_mono_us() + sf->auth_backoff_ms * 1000;
        pthread_mutex_unlock(&sf->lock);
        atomic_fetch_add(&sf->token_refusals, 1);
        cb_error("salesforce refused the %s token request: %s: %s (next try in %ld s)",
                 sf->cfg->salesforce.auth, error, description ? description : "",
                 sf->auth_backoff_ms / 1000);
}

/* Parse a token response into `out`; false when it lacks what we need. */
static bool parse_token(const char *body, struct sf_token *out)
{
        json_t *j = json_loads(body, 0, NULL);
        const char *access = json_string_value(json_object_get(j, "access_token"));
        const char *inst = json_string_value(json_object_get(j, "instance_url"));
        bool ok = access != NULL && inst != NULL && cb_strlcpy(out->access, access, SF_TOKEN_MAX) &&
                  cb_strlcpy(out->instance_url, inst, SF_URL_MAX);

        if (ok)
                org_from_identity(json_string_value(json_object_get(j, "id")), out->org_id,
                                  sizeof(out->org_id));
        json_decref(j);
        return ok;
}

/* Ask the token endpoint. OK with `out` filled, or RETRY with `err`. */
static enum cb_result request_token(struct sf *sf, struct sf_token *out, char *err, size_t err_size)
{
        struct cb_buf url = {.max = 1024}, form = {.max = 16384};
        struct cb_upstream_req req = {.service = "salesforce", .method = "POST"};
        struct cb_upstream_resp resp = {0};
        enum cb_result r = CB_RESULT_RETRY;

        atomic_fetch_add(&sf->token_requests, 1);
        if (cb_buf_puts(&url, sf->cfg->salesforce.login_url) != 0 ||
            cb_buf_puts(&url, "/services/oauth2/token") != 0 || grant_body(sf, &form) != 0 ||
            cb_buf_append(&url, "", 1) != 0) {
                snprintf(err, err_size, "salesforce auth: cannot build the token request");
                goto out;
        }
        req.url = url.data;
        req.headers[0] = "Content-Type: application/x-www-form-urlencoded";
        req.headers[1] = "Accept: application/json";
        req.body = form.data;
        req.body_len = form.len;
        req.timeout_ms = sf->cfg->salesforce.timeout_ms;
        if (cb_upstream_perform(&req, &resp) != 0) {
                snprintf(err, err_size, "salesforce auth: %s", resp.error);
        } else if (resp.status == 200 && parse_token(resp.body.data, out)) {
                r = CB_RESULT_OK;
        } else if (resp.status == 400 || resp.status == 401) {
                json_t *j = json_loads(resp.body.data, 0, NULL);
                const char *e = json_string_value(json_object_get(j, "error"));
                const char *d = json_string_value(json_object_get(j, "error_description"));
                refused(sf, e ? e : "refused", d);
                snprintf(err, err_size, "salesforce auth: %s: %s", e ? e : "refused", d ? d : "");
                json_decref(j);
        } else {
                snprintf(err, err_size, "salesforce auth: token endpoint answered %ld",
                         resp.status);
        }
out:
        if (form.data != NULL)
                OPENSSL_cleanse(form.data, form.len);
        cb_upstream_resp_free(&resp);
        cb_buf_free(&form);
        cb_buf_free(&url);
        return r;
}

/* ---- the shared copy in Redis ----------------------------------------------------------- */

static bool redis_load(struct sf *sf, struct sf_token *out)
{
        redisReply *r = cb_cache_command("GET %s", sf->token_key);
        bool ok = false;

        if (r != NULL && r->type == REDIS_REPLY_STRING) {
                json_t *j = json_loadb(r->str, r->len, 0, NULL);
                const char *a = json_string_value(json_object_get(j, "access_token"));
                const char *i = json_string_value(json_object_get(j, "instance_url"));
                const char *o = json_string_value(json_object_get(j, "org_id"));
                ok = a && i && cb_strlcpy(out->access, a, SF_TOKEN_MAX) &&
                     cb_strlcpy(out->instance_url, i, SF_URL_MAX);
                cb_strlcpy(out->org_id, o ? o : "", sizeof(out->org_id));
                json_decref(j);
        }
        freeReplyObject(r);
        return ok;
}

static void redis_store(struct sf *sf, const struct sf_token *t)
{
        json_t *j = json_pack("{s:s,s:s,s:s}", "access_token", t->access, "instance_url",
                              t->instance_url, "org_id", t->org_id);
        char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;

        if (text != NULL)
                freeReplyObject(cb_cache_command("SET %s %s EX %ld", sf->token_key, text,
                                                 sf->cfg->salesforce.token_ttl_s));
        free(text);
        json_decref(j);
}

/* Try to become the instance that asks. True when we hold the lock or Redis is down. */
static bool redis_lock(struct sf *sf, const char *owner)
{
        redisReply *r = cb_cache_command("SET %s:lock %s NX PX %d", sf->token_key, owner, LOCK_MS);
        bool mine = r == NULL || r->type == REDIS_REPLY_STATUS;

        freeReplyObject(r);
        return mine;
}

static void redis_unlock(struct sf *sf, const char *owner)
{
        static const char *script = "if redis.call('GET', KEYS[1]) == ARGV[1] then "
                                    "return redis.call('DEL', KEYS[1]) end return 0";
        freeReplyObject(cb_cache_command("EVAL %s 1 %s:lock %s", script, sf->token_key, owner));
}

/* Another instance holds the lock: wait for the token it will publish. */
static bool wait_for_peer(struct sf *sf, const char *used, struct sf_token *out)
{
        int64_t deadline = cb_mono_us() + PEER_WAIT_MS * 1000L;
        struct timespec pause = {.tv_sec = 0, .tv_nsec = PEER_POLL_MS * 1000000L};

        while (cb_mono_us() < deadline) {
                if (redis_load(sf, out) && strcmp(out->access, used) != 0)
                        return true;
                nanosleep(&pause, NULL);
        }
        return false;
}

/* ---- the flow ------------------------------------------------------------------------- */

static void remember(struct sf *sf, const struct sf_token *t)
{
        pthread_mutex_lock(&sf->lock);
        sf->token = *t;
        sf->have_token = true;
        sf->token_until_us = cb_mono_us() + sf->cfg->salesforce.token_ttl_s * 1000000L;
        sf->auth_error[0] = '\0';
        sf->auth_backoff_ms = 0;
        pthread_mutex_unlock(&sf->lock);
}

/* The in-memory token if it is fresh and not `used`. */
static bool memory_token(struct sf *sf, const char *used, struct sf_token *out)
{
        bool ok;

        pthread_mutex_lock(&sf->lock);
        ok = sf->have_token && cb_mono_us() < sf->token_until_us &&
             strcmp(sf->token.access, used) != 0;
        if (ok)
                *out = sf->token;
        pthread_mutex_unlock(&sf->lock);
        return ok;
}

/* Still pausing after a refusal? Then RETRY with the remembered reason. */
static bool paused(struct sf *sf, char *err, size_t err_size)
{
        bool p;

        pthread_mutex_lock(&sf->lock);
        p = sf->auth_error[0] != '\0' && cb_mono_us() < sf->auth_retry_us;
        if (p)
                snprintf(err, err_size, "salesforce auth: %s (not retried before %ld s pass)",
                         sf->auth_error, (long)((sf->auth_retry_us - cb_mono_us()) / 1000000));
        pthread_mutex_unlock(&sf->lock);
        return p;
}

/* Get a token other than `used` ("" for any). Caller holds sf->refresh. */
static enum cb_result obtain(struct sf *sf, const char *used, struct sf_token *out, char *err,
                             size_t err_size)
{
        char owner[33];
        unsigned char rnd[16];
        enum cb_result r;

        if (memory_token(sf, used, out))
                return CB_RESULT_OK; /* another thread renewed it while we waited */
        if (redis_load(sf, out) && strcmp(out->access, used) != 0) {
                remember(sf, out);
                return CB_RESULT_OK;
        }
        if (paused(sf, err, err_size))
                return CB_RESULT_RETRY;
        cb_random(rnd, sizeof(rnd));
        cb_hex(rnd, sizeof(rnd), owner);
        if (!redis_lock(sf, owner)) {
                if (wait_for_peer(sf, used, out)) {
                        remember(sf, out);
                        return CB_RESULT_OK;
                }
                cb_warn("salesforce auth: no token from the instance holding the lock; asking");
        }
        r = request_token(sf, out, err, err_size);
        if (r == CB_RESULT_OK) {
                remember(sf, out);
                redis_store(sf, out);
                cb_info("salesforce: new access token (%s flow)", sf->cfg->salesforce.auth);
        }
        redis_unlock(sf, owner);
        return r;
}

enum cb_result sf_auth_token(struct sf *sf, struct sf_token *out, char *err, size_t err_size)
{
        enum cb_result r;

        if (memory_token(sf, "", out))
                return CB_RESULT_OK;
        pthread_mutex_lock(&sf->refresh);
        r = obtain(sf, "", out, err, err_size);
        pthread_mutex_unlock(&sf->refresh);
        return r;
}

enum cb_result sf_auth_renew(struct sf *sf, const struct sf_token *used, struct sf_token *out,
                             char *err, size_t err_size)
{
        enum cb_result r;

        pthread_mutex_lock(&sf->refresh);
        /* Drop the refused token everywhere unless someone already replaced it. */
        pthread_mutex_lock(&sf->lock);
        if (sf->have_token && strcmp(sf->token.access, used->access) == 0)
                sf->have_token = false;
        pthread_mutex_unlock(&sf->lock);
        r = obtain(sf, used->access, out, err, err_size);
        pthread_mutex_unlock(&sf->refresh);
        return r;
}

void sf_auth_error(struct sf *sf, char *out, size_t out_size)
{
        pthread_mutex_lock(&sf->lock);
        cb_strlcpy(out, sf->auth_error, out_size);
        pthread_mutex_unlock(&sf->lock);
}
