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

/* Append Prometheus text: cache errors (Redis unreachable or failing). */
void cb_cache_metrics_write(struct cb_buf *out);

/* Agent presence (src/cache/presence.c): mark `agent` online for `ttl_s` seconds; is it
 * online on any instance? Redis down: the mark is lost, and nobody is online. */
void cb_presence_touch(const char *agent, long ttl_s);
bool cb_presence_online(const char *agent);

#endif
