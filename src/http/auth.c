/* Bearer API keys: "cbk_<key id>_<secret>". PostgreSQL stores the key id and the SHA-256 of
 * the whole key; the hash is compared in constant time. Verified keys are cached in memory
 * for [auth] cache_ttl_s so the hot path does not ask PostgreSQL. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "callbridge/http.h"
#include "callbridge/log.h"
#include "callbridge/store.h"

#define KEY_PREFIX   "cbk_"
#define KEY_ID_HEX   16 /* 8 random bytes */
#define SECRET_BYTES 32
#define CACHE_SLOTS  1024

struct cached_key {
        char key_id[KEY_ID_HEX + 1];
        unsigned char hash[32];
        struct cb_agent agent;
        int64_t expires_us;
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

static enum cb_err crm_session(struct cb_http_env *env, const char *token, struct cb_agent *agent);

enum cb_err cb_auth_check(struct cb_http_env *env, const char *header, struct cb_agent *agent)
{
        char key_id[KEY_ID_HEX + 1];
        unsigned char hash[32];
        unsigned char stored[32];
        char stored_hex[65];
        struct cb_db *db;
        struct cached_key *slot;
        const char *token;
        int64_t now = cb_mono_us();
        enum cb_qs qs;
        bool hit = false;

        if (header == NULL || strncasecmp(header, "Bearer ", 7) != 0)
                return CB_ERR_UNAUTHORIZED;
        token = header + 7;
        while (*token == ' ')
                token++;
        if (!parse_key(token, key_id))
                return crm_session(env, token, agent);
        cb_sha256(token, strlen(token), hash);

        pthread_mutex_lock(&cache_lock);
        slot = &cache[slot_of(key_id)];
        if (slot->expires_us > now && strcmp(slot->key_id, key_id) == 0) {
                hit = true;
                memcpy(stored, slot->hash, 32);
                *agent = slot->agent;
        }
        pthread_mutex_unlock(&cache_lock);
        if (hit)
                return cb_ct_equal(hash, stored, 32) ? CB_ERR_COUNT : CB_ERR_UNAUTHORIZED;

        db = cb_db_acquire(env->pool, CB_DB_WAIT_MS);
        if (db == NULL)
                return CB_ERR_DB_UNAVAILABLE;
        qs = cb_store_apikey_get(db, key_id, stored_hex, agent->name, sizeof(agent->name),
                                 &agent->admin);
        cb_db_release(&db);
        if (qs < 0)
                return CB_ERR_DB_UNAVAILABLE;
        if (qs == CB_QS_NO_RESULTS || !hex_to_bytes(stored_hex, stored, 32) ||
            !cb_ct_equal(hash, stored, 32))
                return CB_ERR_UNAUTHORIZED;
        pthread_mutex_lock(&cache_lock);
        slot = &cache[slot_of(key_id)];
        memcpy(slot->key_id, key_id, sizeof(slot->key_id));
        memcpy(slot->hash, stored, 32);
        slot->agent = *agent;
        slot->expires_us = now + env->cfg->auth.cache_ttl_s * 1000000;
        pthread_mutex_unlock(&cache_lock);
        return CB_ERR_COUNT;
}

/* A bearer that is not one of our keys may be a Salesforce session ([salesforce]
 * session_auth): the CRM says which user it is; such agents are never admins. */
static enum cb_err crm_session(struct cb_http_env *env, const char *token, struct cb_agent *agent)
{
        struct cb_crm *crm = env->crm;
        char err[256];
        enum cb_result r;

        if (!env->cfg->salesforce.session_auth || crm->ops->session_agent == NULL ||
            !cb_str_charset(token, 2048, "!._-~+/="))
                return CB_ERR_UNAUTHORIZED;
        r = crm->ops->session_agent(crm->self, token, agent->name, sizeof(agent->name), err,
                                    sizeof(err));
        if (r == CB_RESULT_RETRY) {
                cb_warn("session check: %s", err);
                return CB_ERR_UPSTREAM_UNAVAILABLE;
        }
        agent->admin = false;
        return r == CB_RESULT_OK ? CB_ERR_COUNT : CB_ERR_UNAUTHORIZED;
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
