/* Redis: connections from `[redis] url` (redis://host:port/db or unix:///path).
 *
 * cb_cache_command runs one command on this thread's connection (made on first use, kept for
 * the thread's life). When Redis is unreachable the thread does not try again for a second,
 * so a Redis outage costs callers one failed connect per thread per second, not one per call:
 * every user of the cache must work (degraded) when it answers NULL. */
#ifndef CALLBRIDGE_CACHE_H
#define CALLBRIDGE_CACHE_H

#include <hiredis/hiredis.h>
#include <stdbool.h>

#include "callbridge/util.h"

/* Connect (and SELECT the db) within `timeout_ms`; also the command timeout. NULL (logged at
 * debug) when unreachable or the URL is bad. Free with redisFree. */
redisContext *cb_cache_connect(const char *url, long timeout_ms);

/* PING on a fresh connection: 0 when Redis answers PONG, -1 otherwise. */
int cb_cache_ping(const char *url, long timeout_ms);

/* Where cb_cache_command connects, and the prefix of every key callbridge writes
 * (`[redis] key_prefix`). Call once before any thread uses the cache; strings are copied. */
void cb_cache_configure(const char *url, long timeout_ms, const char *key_prefix);
/* The key prefix ("cb:" by default); valid for the process's life. */
const char *cb_cache_prefix(void);
/* Run a command on this thread's connection. Returns the reply (freeReplyObject it), or NULL
 * when Redis is unreachable, the connection broke (it is dropped and remade later) or the
 * reply is a Redis error (logged at debug). Every NULL counts as a cache error in metrics. */
redisReply *cb_cache_command(const char *fmt, ...);
/* Like cb_cache_command with an argument vector (binary-safe values). */
redisReply *cb_cache_command_argv(int argc, const char **argv, const size_t *argvlen);
/* One command of a pipeline: an argument vector (binary-safe values, borrowed). */
struct cb_cache_cmd {
        int argc;
        const char *argv[8];
        size_t lens[8];
};
/* Send `n` commands on this thread's connection and read their `n` replies: one round trip.
 * replies[i] as cb_cache_command would answer it (NULL for an error, or for every command
 * after the connection broke); the caller frees each. */
void cb_cache_pipeline(const struct cb_cache_cmd *cmds, size_t n, redisReply **replies);

/* Append Prometheus text: cache errors (Redis unreachable or failing). */
void cb_cache_metrics_write(struct cb_buf *out);

/* A short in-process cache (src/cache/local.c): string keys (< CB_LCACHE_KEY_MAX bytes) to
 * immutable, reference-counted values (text and an int tag). Bounded: cb_lcache_capacity
 * entries (the size asked, rounded up to a power of two), the entry expiring first in a full
 * bucket makes room. Thread-safe. A NULL cache is valid and holds nothing. */
#define CB_LCACHE_KEY_MAX 96
struct cb_lcache;
struct cb_lcache_val;
/* NULL when `entries` is 0 or out of memory (callers then go without). */
struct cb_lcache *cb_lcache_create(size_t entries);
/* Frees every entry (values still referenced elsewhere live on). Clears *c; NULL is fine. */
void cb_lcache_destroy(struct cb_lcache **c);
/* A value with one reference (the caller's), or NULL when out of memory. `text` is copied. */
struct cb_lcache_val *cb_lcache_val_new(const char *text, size_t len, int tag);
/* The value's text (NUL-terminated; *len bytes) and tag; borrowed while the reference is. */
const char *cb_lcache_val_text(const struct cb_lcache_val *v, size_t *len);
int cb_lcache_val_tag(const struct cb_lcache_val *v);
/* Drop a reference; the value is freed with its last. Clears *v; NULL is fine. */
void cb_lcache_val_release(struct cb_lcache_val **v);
/* The live value under `key` (a new reference for the caller), or NULL. */
struct cb_lcache_val *cb_lcache_get(struct cb_lcache *c, const char *key);
/* Keep `v` (the cache takes its own reference; the caller keeps theirs) under `key` for
 * `ttl_ms` (<= 0: not kept). Replaces the key's value. Over-long keys are not kept. */
void cb_lcache_put(struct cb_lcache *c, const char *key, struct cb_lcache_val *v, long ttl_ms);
/* Forget `key` on this instance. */
void cb_lcache_del(struct cb_lcache *c, const char *key);
/* How many entries it holds at most. */
size_t cb_lcache_capacity(const struct cb_lcache *c);

/* Agent presence (src/cache/presence.c): mark `agent` online for `ttl_s` seconds; is it
 * online on any instance? Redis down: the mark is lost, and nobody is online. */
void cb_presence_touch(const char *agent, long ttl_s);
bool cb_presence_online(const char *agent);

#endif
