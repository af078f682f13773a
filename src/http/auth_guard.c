/* Unauthenticated traffic: see auth_guard.h. Both tables are fixed-size and in memory; an
 * entry whose time is up is reused. */
#include "auth_guard.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "callbridge/cache.h"
#include "callbridge/crypto.h"
#include "callbridge/log.h"
#include "callbridge/util.h"

#define SLOTS     4096
#define PROBE     8
#define WINDOW_US (60 * 1000000LL)

/* ---- failed authentications per address ---- */

struct addr_count {
        unsigned char addr[16]; /* IPv4 mapped, or an IPv6 /64 (the rest zero) */
        bool used;
        int64_t window_us; /* start of this entry's minute */
        long failures;
};

static pthread_mutex_t addr_lock = PTHREAD_MUTEX_INITIALIZER;
static struct addr_count addrs[SLOTS];

/* The address as 16 bytes; false for an unknown family. An IPv6 client is counted by its
 * /64, the block one host usually owns. */
static bool addr_key(const struct sockaddr *peer, unsigned char out[16])
{
        memset(out, 0, 16);
        if (peer == NULL)
                return false;
        if (peer->sa_family == AF_INET) {
                out[10] = out[11] = 0xff;
                memcpy(out + 12, &((const struct sockaddr_in *)peer)->sin_addr, 4);
                return true;
        }
        if (peer->sa_family == AF_INET6) {
                memcpy(out, &((const struct sockaddr_in6 *)peer)->sin6_addr, 8);
                return true;
        }
        return false;
}

/* The entry of `key`, made when `create`. Caller holds the lock. */
static struct addr_count *addr_find(const unsigned char key[16], int64_t now, bool create)
{
        size_t h = 5381;
        struct addr_count *spare = NULL;

        for (size_t i = 0; i < 16; i++)
                h = h * 33 + key[i];
        for (size_t i = 0; i < PROBE; i++) {
                struct addr_count *a = &addrs[(h + i) % SLOTS];
                if (a->used && memcmp(a->addr, key, 16) == 0)
                        return a;
                if (spare == NULL && (!a->used || now - a->window_us >= WINDOW_US))
                        spare = a;
        }
        if (!create || spare == NULL)
                return NULL;
        memcpy(spare->addr, key, 16);
        spare->used = true;
        spare->window_us = now;
        spare->failures = 0;
        return spare;
}

bool cb_auth_guard_blocked(const struct cb_config *cfg, const struct sockaddr *peer,
                           int *retry_after_s)
{
        unsigned char key[16];
        int64_t now = cb_mono_us();
        struct addr_count *a;
        bool blocked = false;

        if (cfg->auth.unauth_per_ip_per_min <= 0 || !addr_key(peer, key))
                return false;
        pthread_mutex_lock(&addr_lock);
        a = addr_find(key, now, false);
        if (a != NULL && now - a->window_us < WINDOW_US &&
            a->failures >= cfg->auth.unauth_per_ip_per_min) {
                blocked = true;
                *retry_after_s = (int)((a->window_us + WINDOW_US - now) / 1000000) + 1;
        }
        pthread_mutex_unlock(&addr_lock);
        return blocked;
}

void cb_auth_guard_failed(const struct cb_config *cfg, const struct sockaddr *peer)
{
        unsigned char key[16];
        int64_t now = cb_mono_us();
        struct addr_count *a;

        if (cfg->auth.unauth_per_ip_per_min <= 0 || !addr_key(peer, key))
                return;
        pthread_mutex_lock(&addr_lock);
        a = addr_find(key, now, true);
        if (a != NULL) {
                if (now - a->window_us >= WINDOW_US) {
                        a->window_us = now;
                        a->failures = 0;
                }
                a->failures++;
        }
        pthread_mutex_unlock(&addr_lock);
}

/* ---- CRM session tokens (crm op session_agent) ---- */

struct refused {
        unsigned char hash[32];
        int64_t until_us;
};

static pthread_mutex_t refused_lock = PTHREAD_MUTEX_INITIALIZER;
static struct refused refused[SLOTS];
static atomic_long checks_in_flight;

static bool refused_here(const unsigned char hash[32], int64_t now)
{
        struct refused *r = &refused[(hash[0] | hash[1] << 8) % SLOTS];
        bool hit;

        pthread_mutex_lock(&refused_lock);
        hit = r->until_us > now && memcmp(r->hash, hash, 32) == 0;
        pthread_mutex_unlock(&refused_lock);
        return hit;
}

static void remember_refused(const unsigned char hash[32], const char *hex, long ttl_s)
{
        struct refused *r = &refused[(hash[0] | hash[1] << 8) % SLOTS];

        pthread_mutex_lock(&refused_lock);
        memcpy(r->hash, hash, 32);
        r->until_us = cb_mono_us() + ttl_s * 1000000;
        pthread_mutex_unlock(&refused_lock);
        freeReplyObject(cb_cache_command("SET %scrmsession-refused:%s 1 EX %ld", cb_cache_prefix(),
                                         hex, ttl_s));
}

/* Refused before, here or by another instance (Redis down: only here). */
static bool refused_before(const unsigned char hash[32], const char *hex, long ttl_s)
{
        redisReply *r;
        bool hit;

        if (ttl_s <= 0)
                return false;
        if (refused_here(hash, cb_mono_us()))
                return true;
        r = cb_cache_command("EXISTS %scrmsession-refused:%s", cb_cache_prefix(), hex);
        hit = r != NULL && r->type == REDIS_REPLY_INTEGER && r->integer == 1;
        freeReplyObject(r);
        return hit;
}

enum cb_err cb_auth_guard_session(struct cb_http_env *env, const char *token,
                                  struct cb_agent *agent, int *retry_after_s)
{
        const struct cb_config *cfg = env->cfg;
        struct cb_crm *crm = env->crm;
        long ttl = cfg->auth.session_negative_ttl_s;
        unsigned char hash[32];
        char hex[65];
        char err[256];
        enum cb_result r;

        if (crm->ops->session_agent == NULL ||
            (crm->ops->session_auth_enabled != NULL &&
             !crm->ops->session_auth_enabled(crm->self)) ||
            !cb_str_charset(token, 2048, "!._-~+/="))
                return CB_ERR_UNAUTHORIZED;
        cb_sha256(token, strlen(token), hash);
        cb_hex(hash, sizeof(hash), hex);
        if (refused_before(hash, hex, ttl))
                return CB_ERR_UNAUTHORIZED;
        if (atomic_fetch_add(&checks_in_flight, 1) >= cfg->auth.session_max_checks) {
                atomic_fetch_sub(&checks_in_flight, 1);
                *retry_after_s = 1;
                return CB_ERR_RATE_LIMITED;
        }
        r = crm->ops->session_agent(crm->self, token, agent->name, sizeof(agent->name), err,
                                    sizeof(err));
        atomic_fetch_sub(&checks_in_flight, 1);
        if (r == CB_RESULT_RETRY) {
                cb_warn("session check: %s", err);
                return CB_ERR_UPSTREAM_UNAVAILABLE;
        }
        if (r != CB_RESULT_OK) {
                if (ttl > 0)
                        remember_refused(hash, hex, ttl);
                return CB_ERR_UNAUTHORIZED;
        }
        agent->admin = false;
        snprintf(agent->bearer, sizeof(agent->bearer), "s%.16s", hex);
        return CB_ERR_NONE;
}
