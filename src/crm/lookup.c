/* Screen pop: the Redis cache in front of crm->lookup_phone, with single flight.
 *
 * Keys (after `[redis] key_prefix`): lookup:<e164> holds the CRM's raw matches (a JSON array, "[]"
 * for an unknown number, which gets the shorter negative TTL); lookup:lock:<e164> is held (SET NX
 * PX) by the instance asking the CRM, while the others poll the value key. Policies are applied
 * after the cache, so a policy change takes effect at once.
 *
 * In front of Redis, a short in-process cache (cb_lcache) keeps what was read from or written to
 * Redis for `[redis] lookup_local_ms` (at most 1 s): a burst of screen pops for hot numbers skips
 * the Redis round trip. That is how stale another instance may be after an invalidation; this
 * instance forgets the number at once. Its values are the Redis text (a JSON array, validated
 * once when read) tagged with the number of matches, so an answer that keeps every match is
 * written without parsing it again. */
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

static atomic_ulong local_hits;
static struct cb_lcache *local;
static pthread_once_t local_once = PTHREAD_ONCE_INIT;
static long local_entries;

static void local_create(void)
{
        local = cb_lcache_create((size_t)local_entries);
}

/* The in-process cache ([redis] lookup_local_entries at the first lookup; NULL: none). */
static struct cb_lcache *local_cache(const struct cb_config *cfg)
{
        local_entries = cfg->redis.lookup_local_entries;
        pthread_once(&local_once, local_create);
        return local;
}

static pthread_mutex_t flights_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t flights_done = PTHREAD_COND_INITIALIZER;
static struct flight *flights;

/* `text` (a JSON array from Redis) as a cache value tagged with its size; NULL when it is not
 * an array (or out of memory). */
static struct cb_lcache_val *checked_val(const char *text, size_t len)
{
        json_t *a = json_loadb(text, len, 0, NULL);
        struct cb_lcache_val *v = NULL;

        if (json_is_array(a))
                v = cb_lcache_val_new(text, len, (int)json_array_size(a));
        json_decref(a);
        return v;
}

/* The cached matches (*val: a JSON array's text, tagged with its size): 1 hit, 0 miss, -1 Redis
 * unavailable. Read from this process's copy, else from Redis (and then copied here). */
static int cache_get(const struct cb_config *cfg, const char *e164, struct cb_lcache_val **val)
{
        struct cb_lcache *lc = local_cache(cfg);
        redisReply *r;
        int rc;

        *val = cb_lcache_get(lc, e164);
        if (*val != NULL) {
                atomic_fetch_add(&local_hits, 1);
                return 1;
        }
        r = cb_cache_command("GET %slookup:%s", cb_cache_prefix(), e164);
        rc = r == NULL ? -1 : 0;
        if (r != NULL && r->type == REDIS_REPLY_STRING) {
                *val = checked_val(r->str, r->len);
                rc = *val != NULL ? 1 : 0;
                cb_lcache_put(lc, e164, *val, cfg->redis.lookup_local_ms);
        }
        freeReplyObject(r);
        return rc;
}

/* The matches of a cache value, parsed (a new reference; NULL when out of memory). */
static json_t *val_json(const struct cb_lcache_val *v)
{
        size_t len;
        const char *text = cb_lcache_val_text(v, &len);

        return json_loadb(text, len, 0, NULL);
}

static void cache_put(const struct cb_config *cfg, const char *e164, const json_t *matches)
{
        char *text = json_dumps(matches, JSON_COMPACT);
        long ttl =
            json_array_size(matches) ? cfg->redis.lookup_ttl_s : cfg->redis.lookup_negative_ttl_s;
        redisReply *r = NULL;

        if (text != NULL)
                r = cb_cache_command("SET %slookup:%s %s EX %ld", cb_cache_prefix(), e164, text,
                                     ttl);
        /* Kept here only once Redis has it: with Redis down every lookup asks the CRM. */
        if (r != NULL && r->type == REDIS_REPLY_STATUS) {
                struct cb_lcache_val *v =
                    cb_lcache_val_new(text, strlen(text), (int)json_array_size(matches));
                cb_lcache_put(local_cache(cfg), e164, v, cfg->redis.lookup_local_ms);
                cb_lcache_val_release(&v);
        }
        freeReplyObject(r);
        free(text);
}

void cb_lookup_invalidate(const char *e164)
{
        cb_lcache_del(local, e164); /* NULL before the first lookup: nothing cached here */
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
                        struct cb_lcache_val *v = NULL;
                        int got = cache_get(cfg, e164, &v);
                        if (v != NULL)
                                *matches = val_json(v);
                        cb_lcache_val_release(&v);
                        if (got != 0)
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

/* The raw matches of `e164`: from a cache (*val) or from the CRM (*raw), one of them set on OK.
 * `cache_only`: RETRY on a miss instead of asking the CRM. */
static enum cb_result lookup_raw(struct cb_crm *crm, const struct cb_config *cfg, const char *e164,
                                 bool cache_only, struct cb_lcache_val **val, json_t **raw,
                                 bool *cached, char *err, size_t err_size)
{
        int hit = cache_get(cfg, e164, val);

        *raw = NULL;
        *cached = hit == 1;
        if (hit == 1) {
                atomic_fetch_add(&outcomes[cb_lcache_val_tag(*val) ? HIT : NEGATIVE_HIT], 1);
                return CB_RESULT_OK;
        }
        if (cache_only) {
                snprintf(err, err_size, "not cached");
                return CB_RESULT_RETRY;
        }
        atomic_fetch_add(&outcomes[hit < 0 ? DEGRADED : MISS], 1);
        return shared_fetch(crm, cfg, e164, raw, cached, err, err_size);
}

enum cb_result cb_lookup(struct cb_crm *crm, const struct cb_config *cfg, const char *e164,
                         bool cache_only, struct cb_lookup_result *res, char *err, size_t err_size)
{
        struct cb_lcache_val *val = NULL;
        json_t *raw = NULL;
        enum cb_result r =
            lookup_raw(crm, cfg, e164, cache_only, &val, &raw, &res->cached, err, err_size);

        res->matches = NULL;
        if (r == CB_RESULT_OK && val != NULL)
                raw = val_json(val);
        if (r == CB_RESULT_OK) {
                res->matches = raw != NULL ? apply_policy(cfg, raw) : NULL;
                if (res->matches == NULL) {
                        snprintf(err, err_size, "out of memory");
                        r = CB_RESULT_RETRY;
                }
        }
        cb_lcache_val_release(&val);
        json_decref(raw);
        return r;
}

enum cb_result cb_lookup_answer(struct cb_crm *crm, const struct cb_config *cfg, const char *e164,
                                struct cb_buf *out, char *err, size_t err_size)
{
        struct cb_lcache_val *val = NULL;
        json_t *raw = NULL, *kept = NULL;
        char *dumped = NULL;
        const char *text = NULL;
        size_t len = 0;
        bool cached = false;
        enum cb_result r = lookup_raw(crm, cfg, e164, false, &val, &raw, &cached, err, err_size);

        if (r != CB_RESULT_OK)
                goto out;
        /* The cached text as it is when the policy keeps every match. */
        if (val != NULL &&
            (cb_lcache_val_tag(val) <= 1 || strcmp(cfg->crm.multi_match, "all") == 0)) {
                text = cb_lcache_val_text(val, &len);
        } else {
                if (raw == NULL)
                        raw = val_json(val);
                kept = raw != NULL ? apply_policy(cfg, raw) : NULL;
                dumped = kept != NULL ? json_dumps(kept, JSON_COMPACT) : NULL;
                text = dumped;
                len = dumped != NULL ? strlen(dumped) : 0;
        }
        /* e164 is '+' and digits: nothing to escape. */
        if (text == NULL || cb_buf_printf(out, "{\"phone_e164\":\"%s\",\"matches\":", e164) != 0 ||
            cb_buf_append(out, text, len) != 0 ||
            cb_buf_puts(out, cached ? ",\"cached\":true}" : ",\"cached\":false}") != 0) {
                snprintf(err, err_size, "out of memory");
                r = CB_RESULT_RETRY;
        }
out:
        free(dumped);
        json_decref(kept);
        json_decref(raw);
        cb_lcache_val_release(&val);
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
        cb_buf_printf(out,
                      "# HELP callbridge_lookup_local_hits_total Lookups answered from the "
                      "in-process copy ([redis] lookup_local_ms), also counted as hits above.\n"
                      "# TYPE callbridge_lookup_local_hits_total counter\n"
                      "callbridge_lookup_local_hits_total %lu\n",
                      atomic_load(&local_hits));
}
