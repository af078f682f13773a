/* A short in-process cache (include/callbridge/cache.h, cb_lcache_*): set-associative (WAYS slots
 * a bucket, a lock per group of buckets), entries live at most the TTL given to cb_lcache_put,
 * so whatever it holds is at most that stale. Values are immutable and reference-counted: a
 * reader keeps its value after the entry is replaced or expires. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "callbridge/cache.h"

#define WAYS   4
#define NLOCKS 64

struct cb_lcache_val {
        atomic_int refs;
        int tag;
        size_t len;
        char text[]; /* len bytes, then a NUL */
};

struct slot {
        char key[CB_LCACHE_KEY_MAX];
        int64_t expires_us; /* monotonic */
        struct cb_lcache_val *val;
};

struct cb_lcache {
        size_t nbuckets;    /* a power of two */
        struct slot *slots; /* nbuckets * WAYS */
        pthread_mutex_t locks[NLOCKS];
};

struct cb_lcache_val *cb_lcache_val_new(const char *text, size_t len, int tag)
{
        struct cb_lcache_val *v = malloc(sizeof(*v) + len + 1);

        if (v == NULL)
                return NULL;
        atomic_init(&v->refs, 1);
        v->tag = tag;
        v->len = len;
        memcpy(v->text, text, len);
        v->text[len] = '\0';
        return v;
}

const char *cb_lcache_val_text(const struct cb_lcache_val *v, size_t *len)
{
        *len = v->len;
        return v->text;
}

int cb_lcache_val_tag(const struct cb_lcache_val *v)
{
        return v->tag;
}

void cb_lcache_val_release(struct cb_lcache_val **vp)
{
        struct cb_lcache_val *v = *vp;

        if (v != NULL && atomic_fetch_sub(&v->refs, 1) == 1)
                free(v);
        *vp = NULL;
}

struct cb_lcache *cb_lcache_create(size_t entries)
{
        struct cb_lcache *c;
        size_t n = 1;

        if (entries == 0)
                return NULL;
        while (n * WAYS < entries)
                n <<= 1;
        c = calloc(1, sizeof(*c));
        if (c == NULL)
                return NULL;
        c->nbuckets = n;
        c->slots = calloc(n * WAYS, sizeof(*c->slots));
        if (c->slots == NULL) {
                free(c);
                return NULL;
        }
        for (int i = 0; i < NLOCKS; i++)
                pthread_mutex_init(&c->locks[i], NULL);
        return c;
}

void cb_lcache_destroy(struct cb_lcache **cp)
{
        struct cb_lcache *c = *cp;

        if (c == NULL)
                return;
        for (size_t i = 0; i < c->nbuckets * WAYS; i++)
                cb_lcache_val_release(&c->slots[i].val);
        for (int i = 0; i < NLOCKS; i++)
                pthread_mutex_destroy(&c->locks[i]);
        free(c->slots);
        free(c);
        *cp = NULL;
}

/* FNV-1a */
static uint64_t hash(const char *s)
{
        uint64_t h = 1469598103934665603ULL;

        for (; *s != '\0'; s++)
                h = (h ^ (unsigned char)*s) * 1099511628211ULL;
        return h;
}

/* The bucket of `key`, locked; unlock with the returned lock. */
static struct slot *bucket_lock(struct cb_lcache *c, const char *key, pthread_mutex_t **lock)
{
        size_t b = (size_t)hash(key) & (c->nbuckets - 1);

        *lock = &c->locks[b % NLOCKS];
        pthread_mutex_lock(*lock);
        return &c->slots[b * WAYS];
}

struct cb_lcache_val *cb_lcache_get(struct cb_lcache *c, const char *key)
{
        struct cb_lcache_val *v = NULL;
        pthread_mutex_t *lock;
        struct slot *s;
        int64_t now;

        if (c == NULL || strlen(key) >= CB_LCACHE_KEY_MAX)
                return NULL;
        now = cb_mono_us();
        s = bucket_lock(c, key, &lock);
        for (int w = 0; w < WAYS; w++) {
                if (s[w].val == NULL || strcmp(s[w].key, key) != 0)
                        continue;
                if (s[w].expires_us > now) {
                        v = s[w].val;
                        atomic_fetch_add(&v->refs, 1);
                } else {
                        cb_lcache_val_release(&s[w].val);
                }
                break;
        }
        pthread_mutex_unlock(lock);
        return v;
}

void cb_lcache_put(struct cb_lcache *c, const char *key, struct cb_lcache_val *v, long ttl_ms)
{
        struct cb_lcache_val *old = NULL;
        pthread_mutex_t *lock;
        struct slot *s;
        int64_t now;
        int pick = 0;

        if (c == NULL || v == NULL || ttl_ms <= 0 || strlen(key) >= CB_LCACHE_KEY_MAX)
                return;
        now = cb_mono_us();
        s = bucket_lock(c, key, &lock);
        /* The key's own slot, else an empty or expired one, else the one expiring first. */
        for (int w = 0; w < WAYS; w++) {
                if (s[w].val != NULL && strcmp(s[w].key, key) == 0) {
                        pick = w;
                        break;
                }
                if (s[pick].val != NULL && (s[w].val == NULL || s[w].expires_us <= now ||
                                            s[w].expires_us < s[pick].expires_us))
                        pick = w;
        }
        old = s[pick].val;
        atomic_fetch_add(&v->refs, 1);
        s[pick].val = v;
        s[pick].expires_us = now + ttl_ms * 1000;
        memcpy(s[pick].key, key, strlen(key) + 1);
        pthread_mutex_unlock(lock);
        cb_lcache_val_release(&old);
}

void cb_lcache_del(struct cb_lcache *c, const char *key)
{
        struct cb_lcache_val *old = NULL;
        pthread_mutex_t *lock;
        struct slot *s;

        if (c == NULL || strlen(key) >= CB_LCACHE_KEY_MAX)
                return;
        s = bucket_lock(c, key, &lock);
        for (int w = 0; w < WAYS; w++) {
                if (s[w].val != NULL && strcmp(s[w].key, key) == 0) {
                        old = s[w].val;
                        s[w].val = NULL;
                }
        }
        pthread_mutex_unlock(lock);
        cb_lcache_val_release(&old);
}

size_t cb_lcache_capacity(const struct cb_lcache *c)
{
        return c == NULL ? 0 : c->nbuckets * WAYS;
}
