/* Bearer API keys: "cbk_<key id>_<secret>". PostgreSQL stores the key id and the SHA-256 of
 * the whole key; the hash is compared in constant time. Verified keys are cached in memory
 * for [auth] cache_ttl_s so the hot path does not ask PostgreSQL.
 *
 * Revocation (`callbridge apikey revoke`) is a row update; a watcher thread on every instance
 * asks PostgreSQL twice a second for keys revoked lately and drops them from the cache, so a
 * revoked key stops working everywhere within a second. Admin rights are the agent's
 * (agents.admin, read with the key); the same watcher drops the keys of agents changed lately,
 * so granting or taking away admin rights also reaches every instance within a second. The same
 * thread records which keys were used (api_keys.last_used_at), in one batched UPDATE every few
 * seconds, and does the same for browser sessions (src/http/session.c). */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "callbridge/crypto.h"
#include "callbridge/http.h"
#include "callbridge/log.h"
#include "callbridge/store_agents.h"
#include "auth_guard.h"
#include "session.h"

#define KEY_PREFIX   "cbk_"
#define KEY_ID_HEX   16 /* 8 random bytes */
#define SECRET_BYTES 32
#define CACHE_SLOTS  1024

struct cached_key {
        char key_id[KEY_ID_HEX + 1];
        unsigned char hash[32];
        struct cb_agent agent;
        int64_t expires_us;
        int64_t read_us; /* when PostgreSQL answered for it, by PostgreSQL's clock */
        bool used;       /* used since the watcher last recorded it */
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cached_key cache[CACHE_SLOTS];

static size_t slot_of(const char *key_id)
{
        size_t h = 5381;

        for (const char *p = key_id; *p != '\0'; p++)
                h = h * 33 + (unsigned char)*p;
        return h % CACHE_SLOTS;
}

void cb_auth_cache_clear(void)
{
        pthread_mutex_lock(&cache_lock);
        memset(cache, 0, sizeof(cache));
        pthread_mutex_unlock(&cache_lock);
        cb_session_cache_clear();
}

/* Split "cbk_<16 hex>_<secret>" and check its shape; false for anything else. */
static bool parse_key(const char *token, char key_id[KEY_ID_HEX + 1])
{
        size_t len = strlen(token);

        if (len < 4 + KEY_ID_HEX + 2 || len > 95 || strncmp(token, KEY_PREFIX, 4) != 0 ||
            token[4 + KEY_ID_HEX] != '_')
                return false;
        for (size_t i = 0; i < KEY_ID_HEX; i++) {
                char c = token[4 + i];
                if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
                        return false;
        }
        memcpy(key_id, token + 4, KEY_ID_HEX);
        key_id[KEY_ID_HEX] = '\0';
        return true;
}

static int nibble(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

/* Lower-case hex (as PostgreSQL's encode() writes it) to bytes; false on anything else. */
static bool hex_to_bytes(const char *hex, unsigned char *out, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                int hi = nibble(hex[2 * i]);
                int lo = hi < 0 ? -1 : nibble(hex[2 * i + 1]);
                if (lo < 0)
                        return false;
                out[i] = (unsigned char)(hi << 4 | lo);
        }
        return true;
}

/* A cached verification of `key_id`: true with `stored` and `agent` filled. */
static bool cache_get(const char *key_id, unsigned char stored[32], struct cb_agent *agent)
{
        struct cached_key *slot;
        bool hit = false;

        pthread_mutex_lock(&cache_lock);
        slot = &cache[slot_of(key_id)];
        if (slot->expires_us > cb_mono_us() && strcmp(slot->key_id, key_id) == 0) {
                hit = true;
                memcpy(stored, slot->hash, 32);
                *agent = slot->agent;
                slot->used = true;
        }
        pthread_mutex_unlock(&cache_lock);
        return hit;
}

static void cache_put(const char *key_id, const unsigned char stored[32],
                      const struct cb_agent *agent, int64_t read_us, long ttl_s)
{
        struct cached_key *slot;

        pthread_mutex_lock(&cache_lock);
        slot = &cache[slot_of(key_id)];
        memcpy(slot->key_id, key_id, KEY_ID_HEX + 1);
        memcpy(slot->hash, stored, 32);
        slot->agent = *agent;
        slot->expires_us = cb_mono_us() + ttl_s * 1000000;
        slot->read_us = read_us;
        slot->used = true;
        pthread_mutex_unlock(&cache_lock);
}

/* Ask PostgreSQL about `key_id`; CB_ERR_NONE when `hash` matches the live key. */
static enum cb_err verify_stored(struct cb_http_env *env, const char *key_id,
                                 const unsigned char hash[32], struct cb_agent *agent)
{
        unsigned char stored[32];
        char stored_hex[65];
        struct cb_db *db = cb_db_acquire(env->pool, CB_DB_WAIT_MS);
        int64_t read_us = 0;
        enum cb_qs qs;

        if (db == NULL)
                return CB_ERR_DB_UNAVAILABLE;
        qs = cb_store_apikey_get(db, key_id, stored_hex, agent->name, sizeof(agent->name),
                                 &agent->admin, &read_us);
        cb_db_release(&db);
        if (qs < 0)
                return CB_ERR_DB_UNAVAILABLE;
        if (qs == CB_QS_NO_RESULTS || !hex_to_bytes(stored_hex, stored, 32) ||
            !cb_ct_equal(hash, stored, 32))
                return CB_ERR_UNAUTHORIZED;
        snprintf(agent->bearer, sizeof(agent->bearer), "k%s", key_id);
        cache_put(key_id, stored, agent, read_us, env->cfg->auth.cache_ttl_s);
        return CB_ERR_NONE;
}

enum cb_err cb_auth_check_from(struct cb_http_env *env, const char *header,
                               const struct sockaddr *peer, struct cb_agent *agent,
                               int *retry_after_s)
{
        char key_id[KEY_ID_HEX + 1];
        unsigned char hash[32];
        unsigned char stored[32];
        const char *token;
        enum cb_err err;

        if (header == NULL || strncasecmp(header, "Bearer ", 7) != 0)
                return CB_ERR_UNAUTHORIZED;
        token = header + 7;
        while (*token == ' ')
                token++;
        if (parse_key(token, key_id)) {
                cb_sha256(token, strlen(token), hash);
                if (cache_get(key_id, stored, agent)) {
                        if (cb_ct_equal(hash, stored, 32))
                                return CB_ERR_NONE; /* a verified key is never held back */
                        cb_auth_guard_failed(env->cfg, peer);
                        return CB_ERR_UNAUTHORIZED;
                }
        }
        if (cb_auth_guard_blocked(env->cfg, peer, retry_after_s))
                return CB_ERR_RATE_LIMITED;
        if (parse_key(token, key_id))
                err = verify_stored(env, key_id, hash, agent);
        else
                err = cb_auth_guard_session(env, token, agent, retry_after_s);
        if (err == CB_ERR_UNAUTHORIZED)
                cb_auth_guard_failed(env->cfg, peer);
        return err;
}

enum cb_err cb_auth_check(struct cb_http_env *env, const char *header, struct cb_agent *agent)
{
        int retry_after_s = 1;

        return cb_auth_check_from(env, header, NULL, agent, &retry_after_s);
}

int cb_auth_key_create(struct cb_db *db, const char *agent, bool admin, char key_out[96])
{
        unsigned char id[KEY_ID_HEX / 2];
        unsigned char secret[SECRET_BYTES];
        char id_hex[KEY_ID_HEX + 1];
        char secret_b64[64];
        unsigned char hash[32];
        char hash_hex[65];

        cb_random(id, sizeof(id));
        cb_random(secret, sizeof(secret));
        cb_hex(id, sizeof(id), id_hex);
        cb_base64url_encode(secret, sizeof(secret), secret_b64);
        snprintf(key_out, 96, KEY_PREFIX "%s_%s", id_hex, secret_b64);
        cb_sha256(key_out, strlen(key_out), hash);
        cb_hex(hash, sizeof(hash), hash_hex);
        if (cb_store_apikey_insert(db, id_hex, hash_hex, agent, admin) != 1) {
                key_out[0] = '\0';
                return -1;
        }
        return 0;
}

/* ---- the revocation watcher ---- */

#define WATCH_TICK_MS    500
#define WATCH_WINDOW_S   30 /* revocations looked at on each tick */
#define TOUCH_EVERY_TICK 10 /* last_used_at is written every 5 s */

static struct {
        pthread_mutex_t mu;
        pthread_cond_t cond;
        pthread_t thread;
        struct cb_http_env *env;
        bool running;
        bool stopping;
} watch = {.mu = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

/* A change committed this long after its updated_at may still have been invisible to a read
 * that started after updated_at: such reads are dropped too. */
#define CHANGE_MARGIN_US 1000000

/* Drop `key_id` from the cache when it was read before `changed_us` (INT64_MAX: whenever it
 * was read, for a revocation). Its use is still recorded (`used` stays). */
static void evict(const char *key_id, int64_t changed_us)
{
        struct cached_key *slot;

        if (key_id == NULL)
                return;
        pthread_mutex_lock(&cache_lock);
        slot = &cache[slot_of(key_id)];
        if (strcmp(slot->key_id, key_id) == 0 &&
            (changed_us == INT64_MAX || slot->read_us <= changed_us + CHANGE_MARGIN_US))
                slot->expires_us = 0;
        pthread_mutex_unlock(&cache_lock);
}

/* Drop the cached keys revoked lately, and those of agents changed since they were read.
 * Returns false when PostgreSQL could not be asked. */
static bool evict_changed(struct cb_db *db)
{
        json_t *rows = NULL;
        json_t *row;
        size_t i;

        if (cb_store_apikey_recently_changed(db, WATCH_WINDOW_S, &rows) < 0 || rows == NULL)
                return false;
        json_array_foreach(rows, i, row)
        {
                const char *changed = json_string_value(json_array_get(row, 1));
                evict(json_string_value(json_array_get(row, 0)),
                      changed != NULL ? strtoll(changed, NULL, 10) : INT64_MAX);
        }
        json_decref(rows);
        return true;
}

/* Write last_used_at for the keys used since the last call. A failed write is dropped (the
 * time is advisory). */
static void record_use(struct cb_db *db)
{
        char csv[CACHE_SLOTS * (KEY_ID_HEX + 1) + 1];
        size_t n = 0;

        pthread_mutex_lock(&cache_lock);
        for (size_t i = 0; i < CACHE_SLOTS; i++) {
                if (!cache[i].used || cache[i].key_id[0] == '\0')
                        continue;
                cache[i].used = false;
                n += (size_t)snprintf(csv + n, sizeof(csv) - n, "%s%s", n ? "," : "",
                                      cache[i].key_id);
        }
        pthread_mutex_unlock(&cache_lock);
        if (n > 0 && cb_store_apikey_touch(db, csv) < 0)
                cb_debug("auth: could not record key use");
}

static void watch_tick(unsigned long tick, int64_t *last_ok_us)
{
        struct cb_db *db = cb_db_acquire(watch.env->pool, WATCH_TICK_MS);
        int64_t now = cb_mono_us();

        if (db != NULL && evict_changed(db) &&
            cb_session_watch_tick(db, tick % TOUCH_EVERY_TICK == 0)) {
                /* Blind for longer than the window: anything may have been revoked. */
                if (now - *last_ok_us > (WATCH_WINDOW_S - 5) * 1000000LL)
                        cb_auth_cache_clear();
                *last_ok_us = now;
                if (tick % TOUCH_EVERY_TICK == 0)
                        record_use(db);
        }
        cb_db_release(&db);
}

static void *watch_main(void *arg)
{
        int64_t last_ok_us = cb_mono_us();

        (void)arg;
        pthread_mutex_lock(&watch.mu);
        for (unsigned long tick = 1; !watch.stopping; tick++) {
                struct timespec ts;
                cb_deadline_after_ms(WATCH_TICK_MS, &ts);
                if (pthread_cond_timedwait(&watch.cond, &watch.mu, &ts) != ETIMEDOUT)
                        continue;
                pthread_mutex_unlock(&watch.mu);
                watch_tick(tick, &last_ok_us);
                pthread_mutex_lock(&watch.mu);
        }
        pthread_mutex_unlock(&watch.mu);
        return NULL;
}

int cb_auth_watch_start(struct cb_http_env *env)
{
        int rc = 0;

        pthread_mutex_lock(&watch.mu);
        if (!watch.running) {
                watch.env = env;
                watch.stopping = false;
                rc = pthread_create(&watch.thread, NULL, watch_main, NULL) == 0 ? 0 : -1;
                watch.running = rc == 0;
        }
        pthread_mutex_unlock(&watch.mu);
        if (rc != 0)
                cb_error("cannot start the API key revocation watcher");
        return rc;
}

void cb_auth_watch_stop(void)
{
        pthread_mutex_lock(&watch.mu);
        if (!watch.running) {
                pthread_mutex_unlock(&watch.mu);
                return;
        }
        watch.stopping = true;
        pthread_cond_broadcast(&watch.cond);
        pthread_mutex_unlock(&watch.mu);
        pthread_join(watch.thread, NULL);
        pthread_mutex_lock(&watch.mu);
        watch.running = false;
        pthread_mutex_unlock(&watch.mu);
}
