/* Browser sessions: the `cb_session` cookie is an opaque token of 32 random bytes; PostgreSQL
 * keeps its SHA-256 (src/store/sessions.c). A verified session is cached here for [auth]
 * cache_ttl_s, like an API key; a cached session unused for [auth] session_idle_s is asked
 * about again (PostgreSQL knows when another instance last saw it). Revocations (logout,
 * `callbridge session revoke`, the agent removed) reach every instance within a second
 * through the auth watcher (cb_session_watch_tick). Tokens never reach a log. */
#include <netdb.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "callbridge/crypto.h"
#include "callbridge/log.h"
#include "callbridge/store_agents.h"
#include "auth_guard.h"
#include "session.h"

#define CACHE_SLOTS      1024
#define CHANGE_MARGIN_US 1000000 /* as for API keys (src/http/auth.c) */

struct cached_session {
        struct cb_session_info s;
        int64_t expires_us;   /* cache expiry (monotonic) */
        int64_t last_used_us; /* monotonic, for the idle limit */
        bool used;            /* used since the watcher last recorded it */
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cached_session cache[CACHE_SLOTS];

static size_t slot_of(const char *hash_hex)
{
        size_t h = 0;

        for (int i = 0; i < 8; i++) /* the hash is uniform: its first bytes will do */
                h = (h << 4) |
                    (size_t)(hash_hex[i] <= '9' ? hash_hex[i] - '0' : hash_hex[i] - 'a' + 10);
        return h % CACHE_SLOTS;
}

void cb_session_cache_clear(void)
{
        pthread_mutex_lock(&cache_lock);
        memset(cache, 0, sizeof(cache));
        pthread_mutex_unlock(&cache_lock);
}

/* A cached, still valid session `hash_hex` into `out`; false to ask PostgreSQL. */
static bool cache_get(const char *hash_hex, long idle_s, struct cb_session_info *out)
{
        struct cached_session *slot;
        int64_t now = cb_mono_us();
        bool hit = false;

        pthread_mutex_lock(&cache_lock);
        slot = &cache[slot_of(hash_hex)];
        if (slot->expires_us > now && strcmp(slot->s.hash_hex, hash_hex) == 0 &&
            now - slot->last_used_us < idle_s * 1000000LL &&
            slot->s.row.expires_unix > (int64_t)time(NULL)) {
                hit = true;
                *out = slot->s;
                slot->last_used_us = now;
                slot->used = true;
        }
        pthread_mutex_unlock(&cache_lock);
        return hit;
}

static void cache_put(const struct cb_session_info *s, long ttl_s)
{
        struct cached_session *slot;
        int64_t now = cb_mono_us();

        pthread_mutex_lock(&cache_lock);
        slot = &cache[slot_of(s->hash_hex)];
        slot->s = *s;
        slot->expires_us = now + ttl_s * 1000000;
        slot->last_used_us = now;
        slot->used = true;
        pthread_mutex_unlock(&cache_lock);
}

/* Drop `hash_hex` when it was read before `changed_us` (INT64_MAX: whenever). */
static void evict(const char *hash_hex, int64_t changed_us)
{
        struct cached_session *slot;

        if (hash_hex == NULL || strlen(hash_hex) != 64)
                return;
        pthread_mutex_lock(&cache_lock);
        slot = &cache[slot_of(hash_hex)];
        if (strcmp(slot->s.hash_hex, hash_hex) == 0 &&
            (changed_us == INT64_MAX || slot->s.row.read_us <= changed_us + CHANGE_MARGIN_US))
                slot->expires_us = 0;
        pthread_mutex_unlock(&cache_lock);
}

static void hash_token(const char *token, char hash_hex[65])
{
        unsigned char hash[32];

        cb_sha256(token, strlen(token), hash);
        cb_hex(hash, sizeof(hash), hash_hex);
}

/* Ask PostgreSQL about `hash_hex`. */
static enum cb_err verify_stored(struct cb_http_env *env, struct cb_session_info *out)
{
        struct cb_db *db = cb_db_acquire(env->pool, CB_DB_WAIT_MS);
        enum cb_qs qs;

        if (db == NULL)
                return CB_ERR_DB_UNAVAILABLE;
        qs = cb_store_session_get(db, out->hash_hex, env->cfg->auth.session_idle_s, &out->row);
        cb_db_release(&db);
        if (qs < 0)
                return CB_ERR_DB_UNAVAILABLE;
        if (qs == CB_QS_NO_RESULTS)
                return CB_ERR_UNAUTHORIZED;
        cache_put(out, env->cfg->auth.cache_ttl_s);
        return CB_ERR_NONE;
}

enum cb_err cb_session_check(struct cb_http_env *env, const char *token,
                             const struct sockaddr *peer, struct cb_session_info *out,
                             int *retry_after_s)
{
        enum cb_err err;

        memset(out, 0, sizeof(*out));
        if (cb_session_token_shape(token)) {
                hash_token(token, out->hash_hex);
                if (cache_get(out->hash_hex, env->cfg->auth.session_idle_s, out))
                        return CB_ERR_NONE;
        }
        if (cb_auth_guard_blocked(env->cfg, peer, retry_after_s))
                return CB_ERR_RATE_LIMITED;
        err = cb_session_token_shape(token) ? verify_stored(env, out) : CB_ERR_UNAUTHORIZED;
        if (err == CB_ERR_UNAUTHORIZED)
                cb_auth_guard_failed(env->cfg, peer);
        return err;
}

enum cb_err cb_session_of(struct cb_request *req, struct cb_session_info *out)
{
        memset(out, 0, sizeof(*out));
        if (req->session[0] == '\0')
                return CB_ERR_UNAUTHORIZED;
        cb_strlcpy(out->hash_hex, req->session, sizeof(out->hash_hex));
        if (cache_get(out->hash_hex, req->env->cfg->auth.session_idle_s, out))
                return CB_ERR_NONE;
        return verify_stored(req->env, out);
}

/* The agent part of the sign-in body, from the agents table. NULL with *err. */
static json_t *agent_json(struct cb_http_env *env, const char *name, enum cb_err *err)
{
        struct cb_db *db = cb_db_acquire(env->pool, CB_DB_WAIT_MS);
        json_t *row = NULL, *out = NULL;
        enum cb_qs qs;

        if (db == NULL) {
                *err = CB_ERR_DB_UNAVAILABLE;
                return NULL;
        }
        qs = cb_store_agent_get(db, name, &row);
        cb_db_release(&db);
        if (qs < 0 || (qs == CB_QS_ONE_RESULT && row == NULL)) {
                *err = CB_ERR_DB_UNAVAILABLE;
        } else if (qs == CB_QS_NO_RESULTS) {
                *err = CB_ERR_UNAUTHORIZED;
        } else {
                out = json_pack("{s:O,s:O,s:O,s:O}", "name", json_object_get(row, "name"),
                                "display_name", json_object_get(row, "display_name"), "admin",
                                json_object_get(row, "admin"), "crm_user_id",
                                json_object_get(row, "crm_user_id"));
                *err = out != NULL ? CB_ERR_NONE : CB_ERR_INTERNAL;
        }
        json_decref(row);
        return out;
}

json_t *cb_session_body(struct cb_http_env *env, const struct cb_session_info *s, enum cb_err *err)
{
        char expires[32];
        json_t *agent = agent_json(env, s->row.agent, err);

        if (agent == NULL)
                return NULL;
        cb_iso_utc(s->row.expires_unix, expires);
        return json_pack("{s:o,s:s,s:s}", "agent", agent, "csrf_token", s->row.csrf, "expires_at",
                         expires);
}

/* SHA-256 (hex, first 32) of the client's address; "" when unknown. */
static void ip_hash(struct cb_request *req, char out[33])
{
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        char host[NI_MAXHOST];
        unsigned char hash[32];
        char hex[65];

        out[0] = '\0';
        if (ci == NULL || ci->client_addr == NULL ||
            getnameinfo(ci->client_addr, sizeof(struct sockaddr_storage), host, sizeof(host), NULL,
                        0, NI_NUMERICHOST) != 0)
                return;
        cb_sha256(host, strlen(host), hash);
        cb_hex(hash, sizeof(hash), hex);
        cb_strlcpy(out, hex, 33);
}

/* Insert the session row; CB_ERR_NONE with info->row.id and expiry filled. */
static enum cb_err insert(struct cb_request *req, struct cb_session_new *n,
                          struct cb_session_info *info)
{
        struct cb_db *db = cb_db_acquire(req->env->pool, CB_DB_WAIT_MS);
        enum cb_qs qs;

        if (db == NULL)
                return CB_ERR_DB_UNAVAILABLE;
        qs = cb_store_session_insert(db, n, info->row.id, &info->row.expires_unix);
        cb_db_release(&db);
        return qs == CB_QS_ONE_RESULT ? CB_ERR_NONE : CB_ERR_DB_UNAVAILABLE;
}

enum cb_err cb_session_start(struct cb_request *req, const char *agent, const char *how,
                             const char *crm_user_id, const char *crm_cred_sealed_hex,
                             json_t **body)
{
        const struct cb_config *cfg = req->env->cfg;
        unsigned char raw[32], csrf_raw[32];
        char token[48], ua[256] = "", iph[33];
        struct cb_session_info info = {0};
        const char *ua_hdr = cb_request_header(req, MHD_HTTP_HEADER_USER_AGENT);
        struct cb_session_new n = {0};
        enum cb_err err = CB_ERR_NONE;

        *body = NULL;
        cb_random(raw, sizeof(raw));
        cb_random(csrf_raw, sizeof(csrf_raw));
        cb_base64url_encode(raw, sizeof(raw), token);
        cb_base64url_encode(csrf_raw, sizeof(csrf_raw), info.row.csrf);
        hash_token(token, info.hash_hex);
        cb_strlcpy(info.row.agent, agent, sizeof(info.row.agent));
        if (ua_hdr != NULL)
                cb_strlcpy(ua, ua_hdr, sizeof(ua));
        ip_hash(req, iph);
        n = (struct cb_session_new){.hash_hex = info.hash_hex,
                                    .agent = agent,
                                    .csrf = info.row.csrf,
                                    .how = how,
                                    .crm_user_id = crm_user_id,
                                    .crm_cred_hex = crm_cred_sealed_hex,
                                    .user_agent = ua[0] ? ua : NULL,
                                    .ip_hash = iph[0] ? iph : NULL,
                                    .ttl_s = cfg->auth.session_ttl_s};
        *body = cb_session_body(req->env, &info, &err); /* checks the agent is there */
        if (*body != NULL)
                err = insert(req, &n, &info);
        if (err == CB_ERR_NONE) {
                char expires[32];
                cb_iso_utc(info.row.expires_unix, expires);
                json_object_set_new(*body, "expires_at", json_string(expires));
                free(req->set_cookie);
                req->set_cookie = cb_session_cookie(cfg, token, cfg->auth.session_ttl_s);
                if (req->set_cookie == NULL)
                        err = CB_ERR_INTERNAL;
        }
        if (err != CB_ERR_NONE) {
                json_decref(*body);
                *body = NULL;
        }
        OPENSSL_cleanse(token, sizeof(token));
        OPENSSL_cleanse(raw, sizeof(raw));
        return err;
}

enum cb_err cb_session_revoke(struct cb_http_env *env, const char *hash_hex)
{
        struct cb_db *db = cb_db_acquire(env->pool, CB_DB_WAIT_MS);
        enum cb_qs qs;

        evict(hash_hex, INT64_MAX);
        if (db == NULL)
                return CB_ERR_DB_UNAVAILABLE;
        qs = cb_store_session_revoke_hash(db, hash_hex);
        cb_db_release(&db);
        return qs < 0 ? CB_ERR_DB_UNAVAILABLE : CB_ERR_NONE;
}

#define WATCH_WINDOW_S 30

/* Record last_seen_at of the sessions used since the last call; a failed write is dropped. */
static void record_use(struct cb_db *db)
{
        static char csv[CACHE_SLOTS * 65 + 1]; /* the watcher thread only */
        size_t n = 0;

        pthread_mutex_lock(&cache_lock);
        for (size_t i = 0; i < CACHE_SLOTS; i++) {
                if (!cache[i].used || cache[i].s.hash_hex[0] == '\0')
                        continue;
                cache[i].used = false;
                n += (size_t)snprintf(csv + n, sizeof(csv) - n, "%s%s", n ? "," : "",
                                      cache[i].s.hash_hex);
        }
        pthread_mutex_unlock(&cache_lock);
        if (n > 0 && cb_store_session_touch(db, csv) < 0)
                cb_debug("session: could not record session use");
}

bool cb_session_watch_tick(struct cb_db *db, bool touch)
{
        json_t *rows = NULL, *row;
        size_t i;

        if (cb_store_session_recently_changed(db, WATCH_WINDOW_S, &rows) < 0 || rows == NULL)
                return false;
        json_array_foreach(rows, i, row)
        {
                const char *changed = json_string_value(json_array_get(row, 1));
                evict(json_string_value(json_array_get(row, 0)),
                      changed != NULL ? strtoll(changed, NULL, 10) : INT64_MAX);
        }
        json_decref(rows);
        if (touch)
                record_use(db);
        return true;
}
