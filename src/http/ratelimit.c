/* Per-token rate limit: see ratelimit.h. */
#include "ratelimit.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbridge/cache.h"
#include "callbridge/log.h"
#include "callbridge/util.h"

#define SLOTS       4096
#define PROBE       8
#define SYNC_MS     100
#define IDLE_US     (10 * 1000000LL) /* a bucket untouched this long may be reused */
#define COUNTER_TTL 60               /* seconds a Redis counter outlives its last sync */
#define REDIS_TO_MS 200

struct bucket {
        char id[CB_RATELIMIT_ID_MAX];
        double tokens;
        int64_t refill_us; /* when tokens was last brought up to date */
        int64_t used_us;   /* last request */
        long long pending; /* spent here, not yet added to the shared state */
};

static struct {
        pthread_mutex_t mu;
        pthread_cond_t cond;
        pthread_t thread;
        struct bucket b[SLOTS];
        double rate;
        double burst;
        char redis_url[512];
        bool running;
        bool stopping;
        int64_t full_warned_us;
} rl = {.mu = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static size_t hash_of(const char *id)
{
        size_t h = 5381;

        for (const char *p = id; *p != '\0'; p++)
                h = h * 33 + (unsigned char)*p;
        return h;
}

/* The bucket of `id`, made (full) when new. NULL when the neighbourhood is busy. Caller
 * holds the lock. */
static struct bucket *find(const char *id, int64_t now, bool create)
{
        size_t h = hash_of(id);
        struct bucket *free_slot = NULL;

        for (size_t i = 0; i < PROBE; i++) {
                struct bucket *b = &rl.b[(h + i) % SLOTS];
                if (strcmp(b->id, id) == 0)
                        return b;
                if (free_slot == NULL && (b->id[0] == '\0' || now - b->used_us > IDLE_US))
                        free_slot = b;
        }
        if (!create || free_slot == NULL)
                return NULL;
        memset(free_slot, 0, sizeof(*free_slot));
        cb_strlcpy(free_slot->id, id, sizeof(free_slot->id));
        free_slot->tokens = rl.burst;
        free_slot->refill_us = now;
        return free_slot;
}

static void refill(struct bucket *b, int64_t now)
{
        b->tokens += rl.rate * (double)(now - b->refill_us) / 1e6;
        if (b->tokens > rl.burst)
                b->tokens = rl.burst;
        b->refill_us = now;
}

bool cb_ratelimit_take(const char *id, int *retry_after_s)
{
        int64_t now;
        struct bucket *b;
        bool ok = true;

        if (rl.rate <= 0)
                return true;
        now = cb_mono_us();
        pthread_mutex_lock(&rl.mu);
        b = find(id, now, true);
        if (b == NULL) {
                if (now - rl.full_warned_us > 60 * 1000000LL) {
                        rl.full_warned_us = now;
                        cb_warn("rate limit: too many bearers active at once; some pass unlimited");
                }
        } else {
                refill(b, now);
                b->used_us = now;
                if (b->tokens >= 1.0) {
                        b->tokens -= 1.0;
                        b->pending++;
                } else {
                        ok = false;
                        double wait_s = (1.0 - b->tokens) / rl.rate;
                        *retry_after_s = (int)wait_s + ((double)(int)wait_s < wait_s);
                        if (*retry_after_s < 1)
                                *retry_after_s = 1;
                }
        }
        pthread_mutex_unlock(&rl.mu);
        return ok;
}

const char *cb_ratelimit_seconds_str(int s)
{
        static const char *const str[] = {
            "1",  "2",  "3",  "4",  "5",  "6",  "7",  "8",  "9",  "10", "11", "12",
            "13", "14", "15", "16", "17", "18", "19", "20", "21", "22", "23", "24",
            "25", "26", "27", "28", "29", "30", "31", "32", "33", "34", "35", "36",
            "37", "38", "39", "40", "41", "42", "43", "44", "45", "46", "47", "48",
            "49", "50", "51", "52", "53", "54", "55", "56", "57", "58", "59", "60"};

        return str[s < 1 ? 0 : s > 60 ? 59 : s - 1];
}

/* ---- the sync thread ---- */

/* The shared state of a bearer is a GCRA "theoretical arrival time" (TAT) in Redis, in
 * milliseconds of Redis's clock: adding n requests moves it n intervals on; how far it is
 * ahead of now says how much of the burst is spent, by everyone. ARGV: interval ms, burst
 * ms, n. Returns how far ahead it is (ms, as a string: fractions survive). */
static const char gcra_lua[] = "local t = redis.call('TIME') "
                               "local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000 "
                               "local interval = tonumber(ARGV[1]) local burst = tonumber(ARGV[2]) "
                               "local tat = tonumber(redis.call('GET', KEYS[1]) or now) "
                               "if tat < now then tat = now end "
                               "tat = tat + tonumber(ARGV[3]) * interval "
                               "if tat - now > 2 * burst then tat = now + 2 * burst end "
                               "redis.call('SET', KEYS[1], string.format('%.3f', tat), 'PX', "
                               "math.ceil(tat - now + burst) + 1000) "
                               "return string.format('%.3f', tat - now)";

struct sync_item {
        char id[CB_RATELIMIT_ID_MAX];
        long long sent;
};

/* Take what every recently used bucket spent since the last sync. Caller holds the lock. */
static size_t collect(struct sync_item *items, int64_t now)
{
        size_t n = 0;

        for (size_t i = 0; i < SLOTS; i++) {
                struct bucket *b = &rl.b[i];
                if (b->id[0] == '\0' || now - b->used_us > IDLE_US)
                        continue;
                memcpy(items[n].id, b->id, sizeof(items[n].id));
                items[n].sent = b->pending;
                b->pending = 0;
                n++;
        }
        return n;
}

/* The cluster's view (`ahead_ms` of spent burst) becomes this bucket's, less what was spent
 * here since the sync began. Caller holds the lock. */
static void apply_shared(const struct sync_item *it, double ahead_ms, int64_t now)
{
        struct bucket *b = find(it->id, now, false);
        double interval_ms = 1000.0 / rl.rate;

        if (b == NULL)
                return;
        b->tokens = rl.burst - ahead_ms / interval_ms - (double)b->pending;
        if (b->tokens < -rl.burst)
                b->tokens = -rl.burst;
        if (b->tokens > rl.burst)
                b->tokens = rl.burst;
        b->refill_us = now;
}

/* Give back what could not be reported (Redis down), to be sent next time. */
static void restore(const struct sync_item *items, size_t n, int64_t now)
{
        pthread_mutex_lock(&rl.mu);
        for (size_t i = 0; i < n; i++) {
                struct bucket *b = find(items[i].id, now, false);
                if (b != NULL)
                        b->pending += items[i].sent;
        }
        pthread_mutex_unlock(&rl.mu);
}

/* One pipelined round trip: the script once per bucket. Returns 0, or -1 when Redis failed
 * (the context is then freed). ahead[i] < 0: no usable answer for that bucket. */
static int sync_redis(redisContext **ctx, struct sync_item *items, size_t n, double *ahead)
{
        const char *prefix = cb_cache_prefix();
        char interval[32];
        char burst[32];
        redisReply *r;

        snprintf(interval, sizeof(interval), "%.6f", 1000.0 / rl.rate);
        snprintf(burst, sizeof(burst), "%.6f", rl.burst * 1000.0 / rl.rate);
        for (size_t i = 0; i < n; i++)
                redisAppendCommand(*ctx, "EVAL %s 1 %srl:%s %s %s %lld", gcra_lua, prefix,
                                   items[i].id, interval, burst, items[i].sent);
        for (size_t i = 0; i < n; i++) {
                if (redisGetReply(*ctx, (void **)&r) != REDIS_OK || r == NULL) {
                        redisFree(*ctx);
                        *ctx = NULL;
                        return -1;
                }
                ahead[i] = r->type == REDIS_REPLY_STRING ? strtod(r->str, NULL) : -1;
                if (r->type == REDIS_REPLY_ERROR)
                        cb_warn("rate limit: Redis refused the script: %s", r->str);
                freeReplyObject(r);
        }
        return 0;
}

static void sync_once(redisContext **ctx, struct sync_item *items, double *ahead)
{
        int64_t now = cb_mono_us();
        size_t n;

        pthread_mutex_lock(&rl.mu);
        n = collect(items, now);
        pthread_mutex_unlock(&rl.mu);
        if (n == 0)
                return;
        if (*ctx == NULL)
                *ctx = cb_cache_connect(rl.redis_url, REDIS_TO_MS);
        if (*ctx == NULL || sync_redis(ctx, items, n, ahead) != 0) {
                restore(items, n, now);
                return;
        }
        now = cb_mono_us();
        pthread_mutex_lock(&rl.mu);
        for (size_t i = 0; i < n; i++)
                if (ahead[i] >= 0)
                        apply_shared(&items[i], ahead[i], now);
        pthread_mutex_unlock(&rl.mu);
}

static void *sync_main(void *arg)
{
        static struct sync_item items[SLOTS];
        static double ahead[SLOTS];
        redisContext *ctx = NULL;

        (void)arg;
        pthread_mutex_lock(&rl.mu);
        while (!rl.stopping) {
                struct timespec ts;
                cb_deadline_after_ms(SYNC_MS, &ts);
                if (pthread_cond_timedwait(&rl.cond, &rl.mu, &ts) != ETIMEDOUT)
                        continue;
                pthread_mutex_unlock(&rl.mu);
                sync_once(&ctx, items, ahead);
                pthread_mutex_lock(&rl.mu);
        }
        pthread_mutex_unlock(&rl.mu);
        if (ctx != NULL)
                redisFree(ctx);
        return NULL;
}

int cb_ratelimit_start(const struct cb_config *cfg)
{
        int rc = 0;

        pthread_mutex_lock(&rl.mu);
        rl.rate = (double)cfg->auth.rate_limit_per_s;
        rl.burst = (double)(cfg->auth.rate_limit_burst > 0 ? cfg->auth.rate_limit_burst : 1);
        cb_strlcpy(rl.redis_url, cfg->redis.url ? cfg->redis.url : "", sizeof(rl.redis_url));
        if (rl.rate > 0 && !rl.running) {
                rl.stopping = false;
                rc = pthread_create(&rl.thread, NULL, sync_main, NULL) == 0 ? 0 : -1;
                rl.running = rc == 0;
        }
        pthread_mutex_unlock(&rl.mu);
        if (rc != 0)
                cb_error("cannot start the rate limit sync thread");
        return rc;
}

void cb_ratelimit_stop(void)
{
        pthread_mutex_lock(&rl.mu);
        if (!rl.running) {
                pthread_mutex_unlock(&rl.mu);
                return;
        }
        rl.stopping = true;
        pthread_cond_broadcast(&rl.cond);
        pthread_mutex_unlock(&rl.mu);
        pthread_join(rl.thread, NULL);
        pthread_mutex_lock(&rl.mu);
        rl.running = false;
        pthread_mutex_unlock(&rl.mu);
}
