/* HubSpot auth: a private app's fixed access token, or the OAuth 2.0 refresh-token flow of a
 * public app with the access token shared by every instance through Redis.
 *
 * Single flight as in Salesforce's: the `refresh` mutex serialises refreshes in this process
 * (a thread that waited first looks whether the token changed meanwhile); across instances a
 * short Redis lock (SET NX PX) elects one refresher and the others poll the shared key. With
 * Redis down every instance refreshes for itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "callbridge/cache.h"
#include "callbridge/crypto.h"
#include "callbridge/log.h"
#include "callbridge/upstream.h"
#include "hs.h"

#define LOCK_MS             10000
#define PEER_WAIT_MS        5000
#define PEER_POLL_MS        50
#define REFUSAL_BACKOFF_MS  5000
#define REFUSAL_BACKOFF_MAX 300000
#define EXPIRY_MARGIN_S     60 /* refresh this long before HubSpot's expires_in */
/* Delete KEYS[1] only while it holds ARGV[1]. */
#define CAS_DEL                                                                                    \
        "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end "     \
        "return 0"

void hs_auth_refused(struct hs *hs, const char *why)
{
        pthread_mutex_lock(&hs->lock);
        cb_strlcpy(hs->auth_error, why, sizeof(hs->auth_error));
        pthread_mutex_unlock(&hs->lock);
}

void hs_auth_error(struct hs *hs, char *out, size_t out_size)
{
        pthread_mutex_lock(&hs->lock);
        cb_strlcpy(out, hs->auth_error, out_size);
        pthread_mutex_unlock(&hs->lock);
}

/* A refused refresh: remember it for /readyz and pause further requests, growing the pause. */
static void refused(struct hs *hs, const char *status, const char *message)
{
        pthread_mutex_lock(&hs->lock);
        snprintf(hs->auth_error, sizeof(hs->auth_error), "%s: %s", status, message);
        hs->auth_backoff_ms = hs->auth_backoff_ms ? hs->auth_backoff_ms * 2 : REFUSAL_BACKOFF_MS;
        if (hs->auth_backoff_ms > REFUSAL_BACKOFF_MAX)
                hs->auth_backoff_ms = REFUSAL_BACKOFF_MAX;
        hs->auth_retry_us = cb_mono_us() + hs->auth_backoff_ms * 1000;
        pthread_mutex_unlock(&hs->lock);
        atomic_fetch_add(&hs->token_refusals, 1);
        cb_error("hubspot refused the refresh token: %s: %s (next try in %ld s)", status, message,
                 hs->auth_backoff_ms / 1000);
}

/* POST /oauth/v1/token. OK with the token in `out` and its lifetime in `*ttl_s`, or RETRY. */
static enum cb_result request_token(struct hs *hs, char *out, long *ttl_s, char *err,
                                    size_t err_size)
{
        struct cb_buf url = {.max = 1024}, form = {.max = 16384};
        struct cb_upstream_req req = {.service = "hubspot", .method = "POST"};
        struct cb_upstream_resp resp = {0};
        enum cb_result r = CB_RESULT_RETRY;
        json_t *j = NULL;
        int rc = 0;

        atomic_fetch_add(&hs->token_requests, 1);
        rc |= cb_buf_printf(&url, "%s/oauth/v1/token", hs->cfg->hubspot.api_base_url);
        rc |= cb_buf_append(&url, "", 1);
        rc |= cb_buf_puts(&form, "grant_type=refresh_token&client_id=");
        rc |= cb_buf_url_encode(&form, hs->cfg->hubspot.client_id);
        rc |= cb_buf_puts(&form, "&client_secret=");
        rc |= cb_buf_url_encode(&form, hs->client_secret);
        rc |= cb_buf_puts(&form, "&refresh_token=");
        rc |= cb_buf_url_encode(&form, hs->refresh_token);
        if (rc != 0) {
                snprintf(err, err_size, "hubspot auth: cannot build the token request");
                goto out;
        }
        req.url = url.data;
        req.headers[0] = "Content-Type: application/x-www-form-urlencoded;charset=utf-8";
        req.headers[1] = "Accept: application/json";
        req.body = form.data;
        req.body_len = form.len;
        req.timeout_ms = hs->cfg->hubspot.timeout_ms;
        if (cb_upstream_perform(&req, &resp) != 0) {
                snprintf(err, err_size, "hubspot auth: %s", resp.error);
                goto out;
        }
        j = resp.body.len ? json_loadb(resp.body.data, resp.body.len, 0, NULL) : NULL;
        if (resp.status == 200) {
                const char *access = json_string_value(json_object_get(j, "access_token"));
                json_int_t exp = json_integer_value(json_object_get(j, "expires_in"));
                if (access != NULL && cb_strlcpy(out, access, HS_TOKEN_MAX)) {
                        *ttl_s = exp > (json_int_t)EXPIRY_MARGIN_S * 2 ? (long)exp - EXPIRY_MARGIN_S
                                 : exp > 1                             ? (long)exp / 2
                                                                       : 1;
                        r = CB_RESULT_OK;
                } else {
                        snprintf(err, err_size, "hubspot auth: the token answer has no token");
                }
        } else if (resp.status == 400 || resp.status == 401 || resp.status == 403) {
                const char *status = json_string_value(json_object_get(j, "status"));
                const char *message = json_string_value(json_object_get(j, "message"));
                refused(hs, status ? status : "refused", message ? message : "");
                snprintf(err, err_size, "hubspot auth: %s: %s", status ? status : "refused",
                         message ? message : "");
        } else {
                snprintf(err, err_size, "hubspot auth: token endpoint answered %ld", resp.status);
        }
out:
        json_decref(j);
        if (form.data != NULL)
                OPENSSL_cleanse(form.data, form.len);
        cb_upstream_resp_free(&resp);
        cb_buf_free(&form);
        cb_buf_free(&url);
        return r;
}

/* ---- the shared copy in Redis ----------------------------------------------------------- */

static bool redis_load(struct hs *hs, char *out)
{
        redisReply *r = cb_cache_command("GET %s", hs->token_key);
        bool ok = r != NULL && r->type == REDIS_REPLY_STRING && r->len > 0 &&
                  cb_strlcpy(out, r->str, HS_TOKEN_MAX);

        freeReplyObject(r);
        return ok;
}

static void redis_store(struct hs *hs, const char *token, long ttl_s)
{
        freeReplyObject(cb_cache_command("SET %s %s EX %ld", hs->token_key, token, ttl_s));
}

/* Try to become the instance that refreshes. True when we hold the lock or Redis is down. */
static bool redis_lock(struct hs *hs, const char *owner)
{
        redisReply *r = cb_cache_command("SET %s:lock %s NX PX %d", hs->token_key, owner, LOCK_MS);
        bool mine = r == NULL || r->type == REDIS_REPLY_STATUS;

        freeReplyObject(r);
        return mine;
}

static void redis_unlock(struct hs *hs, const char *owner)
{
        freeReplyObject(cb_cache_command("EVAL %s 1 %s:lock %s", CAS_DEL, hs->token_key, owner));
}

/* Another instance holds the lock: wait for the token it will publish. */
static bool wait_for_peer(struct hs *hs, const char *used, char *out)
{
        int64_t deadline = cb_mono_us() + PEER_WAIT_MS * 1000L;
        struct timespec pause = {.tv_sec = 0, .tv_nsec = PEER_POLL_MS * 1000000L};

        while (cb_mono_us() < deadline) {
                if (redis_load(hs, out) && strcmp(out, used) != 0)
                        return true;
                nanosleep(&pause, NULL);
        }
        return false;
}

/* ---- the flow ------------------------------------------------------------------------- */

static void remember(struct hs *hs, const char *token, long ttl_s)
{
        pthread_mutex_lock(&hs->lock);
        cb_strlcpy(hs->token, token, sizeof(hs->token));
        hs->have_token = true;
        hs->token_until_us = cb_mono_us() + ttl_s * 1000000L;
        hs->auth_error[0] = '\0';
        hs->auth_backoff_ms = 0;
        pthread_mutex_unlock(&hs->lock);
}

/* The in-memory token if it is fresh and not `used`. */
static bool memory_token(struct hs *hs, const char *used, char *out)
{
        bool ok;

        pthread_mutex_lock(&hs->lock);
        ok = hs->have_token && cb_mono_us() < hs->token_until_us && strcmp(hs->token, used) != 0;
        if (ok)
                cb_strlcpy(out, hs->token, HS_TOKEN_MAX);
        pthread_mutex_unlock(&hs->lock);
        return ok;
}

/* Still pausing after a refusal? Then RETRY with the remembered reason. */
static bool paused(struct hs *hs, char *err, size_t err_size)
{
        bool p;

        pthread_mutex_lock(&hs->lock);
        p = hs->auth_error[0] != '\0' && cb_mono_us() < hs->auth_retry_us;
        if (p)
                snprintf(err, err_size, "hubspot auth: %s (not retried before %ld s pass)",
                         hs->auth_error, (long)((hs->auth_retry_us - cb_mono_us()) / 1000000));
        pthread_mutex_unlock(&hs->lock);
        return p;
}

/* The TTL left of the shared token in Redis (seconds; a minute when unknown). */
static long redis_ttl(struct hs *hs)
{
        redisReply *r = cb_cache_command("TTL %s", hs->token_key);
        long ttl =
            r != NULL && r->type == REDIS_REPLY_INTEGER && r->integer > 0 ? (long)r->integer : 60;

        freeReplyObject(r);
        return ttl;
}

/* Get a token other than `used` ("" for any). Caller holds hs->refresh. */
static enum cb_result obtain(struct hs *hs, const char *used, char *out, char *err, size_t err_size)
{
        char owner[33];
        unsigned char rnd[16];
        long ttl = 0;
        enum cb_result r;

        if (memory_token(hs, used, out))
                return CB_RESULT_OK; /* another thread refreshed it while we waited */
        if (redis_load(hs, out) && strcmp(out, used) != 0) {
                remember(hs, out, redis_ttl(hs));
                return CB_RESULT_OK;
        }
        if (paused(hs, err, err_size))
                return CB_RESULT_RETRY;
        cb_random(rnd, sizeof(rnd));
        cb_hex(rnd, sizeof(rnd), owner);
        if (!redis_lock(hs, owner)) {
                if (wait_for_peer(hs, used, out)) {
                        remember(hs, out, redis_ttl(hs));
                        return CB_RESULT_OK;
                }
                cb_warn("hubspot auth: no token from the instance holding the lock; asking");
        }
        r = request_token(hs, out, &ttl, err, err_size);
        if (r == CB_RESULT_OK) {
                remember(hs, out, ttl);
                redis_store(hs, out, ttl);
                cb_info("hubspot: new access token (refresh_token flow)");
        }
        redis_unlock(hs, owner);
        return r;
}

enum cb_result hs_auth_token(struct hs *hs, char *out, char *err, size_t err_size)
{
        enum cb_result r;

        if (hs->static_token != NULL) {
                if (!cb_strlcpy(out, hs->static_token, HS_TOKEN_MAX)) {
                        snprintf(err, err_size, "hubspot: the access token is too long");
                        return CB_RESULT_FAIL;
                }
                return CB_RESULT_OK;
        }
        if (memory_token(hs, "", out))
                return CB_RESULT_OK;
        pthread_mutex_lock(&hs->refresh);
        r = obtain(hs, "", out, err, err_size);
        pthread_mutex_unlock(&hs->refresh);
        return r;
}

enum cb_result hs_auth_renew(struct hs *hs, const char *used, char *out, char *err, size_t err_size)
{
        enum cb_result r;

        if (hs->static_token != NULL) {
                snprintf(err, err_size, "hubspot refused the private app token");
                return CB_RESULT_RETRY;
        }
        pthread_mutex_lock(&hs->refresh);
        pthread_mutex_lock(&hs->lock);
        if (hs->have_token && strcmp(hs->token, used) == 0)
                hs->have_token = false;
        pthread_mutex_unlock(&hs->lock);
        /* Drop the refused token from Redis too, unless a peer already replaced it. */
        freeReplyObject(cb_cache_command("EVAL %s 1 %s %s", CAS_DEL, hs->token_key, used));
        r = obtain(hs, used, out, err, err_size);
        pthread_mutex_unlock(&hs->refresh);
        return r;
}
