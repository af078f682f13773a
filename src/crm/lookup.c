/* Screen pop: the Redis cache in front of crm->lookup_phone, with single flight.
 *
 * Keys (after `[redis] key_prefix`): lookup:<e164> holds the CRM's raw matches (a JSON array, "[]"
 * for an unknown number, which gets the shorter negative TTL); lookup:lock:<e164> is held (SET NX
 * PX) by the instance asking the CRM, while the others poll the value key. Policies are applied
 * after the cache, so a policy change takes effect at once. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "callbridge/cache.h"
#include "callbridge/crm.h"
#include "callbridge/log.h"

#define LOCK_MS      5000
#define PEER_WAIT_MS 3000
#define PEER_POLL_MS 20

enum outcome { HIT, NEGATIVE_HIT, MISS, DEGRADED, SHARED, N_OUTCOMES };
static const char *const outcome_names[N_OUTCOMES] = {"hit", "negative_hit", "miss", "degraded",
                                                      "shared"};
static atomic_ulong outcomes[N_OUTCOMES];

/* A lookup in progress in this process; others for the same number wait for it. */
struct flight {
        struct flight *next;
        char e164[24];
        bool done;
        int waiters;
        enum cb_result result;
        json_t *matches;
        char err[256];
};

static pthread_mutex_t flights_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t flights_done = PTHREAD_COND_INITIALIZER;
static struct flight *flights;

/* The cached matches: 1 hit (*out set), 0 miss, -1 Redis unavailable. */
static int cache_get(const char *e164, json_t **out)
{
        redisReply *r = cb_cache_command("GET %slookup:%s", cb_cache_prefix(), e164);
        int rc = r == NULL ? -1 : 0;

        *out = NULL;
        if (r != NULL && r->type == REDIS_REPLY_STRING) {
                *out = json_loadb(r->str, r->len, 0, NULL);
                rc = json_is_array(*out) ? 1 : 0;
                if (rc == 0) {
                        json_decref(*out);
                        *out = NULL;
                }
        }
        freeReplyObject(r);
        return rc;
}

static void cache_put(const struct cb_config *cfg, const char *e164, const json_t *matches)
{
        char *text = json_dumps(matches, JSON_COMPACT);
        long ttl =
            json_array_size(matches) ? cfg->redis.lookup_ttl_s : cfg->redis.lookup_negative_ttl_s;

        if (text != NULL)
                freeReplyObject(cb_cache_command("SET %slookup:%s %s EX %ld", cb_cache_prefix(),
                                                 e164, text, ttl));
        free(text);
}

void cb_lookup_invalidate(const char *e164)
{
        freeReplyObject(cb_cache_command("DEL %slookup:%s", cb_cache_prefix(), e164));
}

/* Ask the CRM, or wait for the instance that is asking. Runs once per flight. */
static enum cb_result fetch(struct cb_crm *crm, const struct cb_config *cfg, const char *e164,
                            json_t **matches, bool *cached, char *err, size_t err_size)
{
        redisReply *lock =
            cb_cache_command("SET %slookup:lock:%s 1 NX PX %d", cb_cache_prefix(), e164, LOCK_MS);
        bool mine = lock == NULL || lock->type == REDIS_REPLY_STATUS;
        enum cb_result r;

        freeReplyObject(lock);
        if (!mine) {
                int64_t deadline = cb_mono_us() + PEER_WAIT_MS * 1000L;
                struct timespec pause = {.tv_sec = 0, .tv_nsec = PEER_POLL_MS * 1000000L};
                while (cb_mono_us() < deadline) {
                        if (cache_get(e164, matches) != 0)
                                break;
                        nanosleep(&pause, NULL);
                }
                if (*matches != NULL) {
                        *cached = true;
                        return CB_RESULT_OK;
                }
        }
        r = crm->ops->lookup_phone(crm->self, e164, matches, err, err_size);
        if (r == CB_RESULT_OK)
                cache_put(cfg, e164, *matches);
        if (mine)
                freeReplyObject(cb_cache_command("DEL %slookup:lock:%s", cb_cache_prefix(), e164));
        return r;
}

/* Join the flight for `e164` or start one; returns the CRM's raw matches. */
static enum cb_result shared_fetch(struct cb_crm *crm, const struct cb_config *cfg,
                                   const char *e164, json_t **matches, bool *cached, char *err,
                                   size_t err_size)
{
        struct flight *f, **pp;
        enum cb_result r;

        pthread_mutex_lock(&flights_lock);
        for (f = flights; f != NULL && strcmp(f->e164, e164) != 0; f = f->next)
                ;
        if (f != NULL) {
                f->waiters++;
                while (!f->done)
                        pthread_cond_wait(&flights_done, &flights_lock);
                r = f->result;
                *matches = json_incref(f->matches);
                cb_strlcpy(err, f->err, err_size);
                if (--f->waiters == 0) {
                        json_decref(f->matches);
                        free(f);
                }
                pthread_mutex_unlock(&flights_lock);
                atomic_fetch_add(&outcomes[SHARED], 1);
                return r;
        }
        f = calloc(1, sizeof(*f));
        if (f == NULL) {
                pthread_mutex_unlock(&flights_lock);
                return fetch(crm, cfg, e164, matches, cached, err, err_size);
        }
        cb_strlcpy(f->e164, e164, sizeof(f->e164));
        f->waiters = 1;
        f->next = flights;
        flights = f;
        pthread_mutex_unlock(&flights_lock);

        r = fetch(crm, cfg, e164, matches, cached, err, err_size);

        pthread_mutex_lock(&flights_lock);
        for (pp = &flights; *pp != f; pp = &(*pp)->next)
                ;
        *pp = f->next;
        f->done = true;
        f->result = r;
        f->matches = json_incref(*matches);
        cb_strlcpy(f->err, err, sizeof(f->err));
        pthread_cond_broadcast(&flights_done);
        if (--f->waiters == 0) {
                json_decref(f->matches);
                free(f);
        }
        pthread_mutex_unlock(&flights_lock);
        return r;
}

/* multi_match: most_recent keeps the newest (the CRM sorts newest first), none keeps
 * nothing when several match, all keeps them all. */
static json_t *apply_policy(const struct cb_config *cfg, json_t *matches)
{
        const char *policy = cfg->crm.multi_match;

        if (json_array_size(matches) <= 1 || strcmp(policy, "all") == 0)
                return json_incref(matches);
        if (strcmp(policy, "none") == 0)
                return json_array();
        return json_pack("[O]", json_array_get(matches, 0));
}

enum cb_result cb_lookup(struct cb_crm *crm, const struct cb_config *cfg, const char *e164,
                         bool cache_only, struct cb_lookup_result *res, char *err, size_t err_size)
{
        json_t *raw = NULL;
        int hit = cache_get(e164, &raw);
        enum cb_result r = CB_RESULT_OK;

        res->matches = NULL;
        res->cached = hit == 1;
        if (hit == 1) {
                atomic_fetch_add(&outcomes[json_array_size(raw) ? HIT : NEGATIVE_HIT], 1);
        } else if (cache_only) {
                snprintf(err, err_size, "not cached");
                return CB_RESULT_RETRY;
        } else {
                atomic_fetch_add(&outcomes[hit < 0 ? DEGRADED : MISS], 1);
                r = shared_fetch(crm, cfg, e164, &raw, &res->cached, err, err_size);
        }
        if (r == CB_RESULT_OK) {
                res->matches = apply_policy(cfg, raw);
                if (res->matches == NULL) {
                        snprintf(err, err_size, "out of memory");
                        r = CB_RESULT_RETRY;
                }
        }
        json_decref(raw);
        return r;
}

void cb_lookup_result_clear(struct cb_lookup_result *res)
{
        json_decref(res->matches);
        res->matches = NULL;
}

void cb_lookup_metrics_write(struct cb_buf *out)
{
        cb_buf_puts(out, "# HELP callbridge_lookup_total Caller lookups by outcome (hit, "
                         "negative_hit, miss, degraded = Redis down, shared = joined a lookup "
                         "in flight).\n# TYPE callbridge_lookup_total counter\n");
        for (int i = 0; i < N_OUTCOMES; i++)
                cb_buf_printf(out, "callbridge_lookup_total{outcome=\"%s\"} %lu\n",
                              outcome_names[i], atomic_load(&outcomes[i]));
}
