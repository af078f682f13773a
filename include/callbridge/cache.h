/* Redis: connections from `[redis] url` (redis://host:port/db or unix:///path). */
#ifndef CALLBRIDGE_CACHE_H
#define CALLBRIDGE_CACHE_H

#include <hiredis/hiredis.h>

/* Connect (and SELECT the db) within `timeout_ms`; also the command timeout. NULL (logged at
 * debug) when unreachable or the URL is bad. Free with redisFree. */
redisContext *cb_cache_connect(const char *url, long timeout_ms);

/* PING on a fresh connection: 0 when Redis answers PONG, -1 otherwise. */
int cb_cache_ping(const char *url, long timeout_ms);

#endif
