/* Per-token request rate limit shared across instances (src/http/ratelimit.c, SPEC §6).
 *
 * Each instance keeps a token bucket per bearer ([auth] rate_limit_per_s, rate_limit_burst)
 * and decides locally, so a request never waits for Redis. Ten times a second a sync thread
 * adds what this instance spent to the bearer's shared GCRA state in Redis (one small Lua
 * script per active bearer, pipelined: one round trip in all) and takes the cluster's view
 * back as its bucket, so the limit holds for the whole cluster to within 100 ms of
 * traffic. Redis down: each instance enforces the limit alone (fail open to a local limit:
 * N instances allow up to N times the rate) and syncs again when Redis is back. */
#ifndef CB_HTTP_RATELIMIT_H
#define CB_HTTP_RATELIMIT_H

#include <stdbool.h>

#include "callbridge/config.h"

#define CB_RATELIMIT_ID_MAX 40

/* Start the sync thread. rate_limit_per_s 0: no limit, nothing started. 0 or -1 (logged). */
int cb_ratelimit_start(const struct cb_config *cfg);
/* Stop and join the sync thread; buckets are kept. */
void cb_ratelimit_stop(void);
/* Spend one request of bearer `id`. True when allowed; false with *retry_after_s (>= 1)
 * when over the limit. A full table (more than a few thousand bearers active at once)
 * allows (logged once a minute). */
bool cb_ratelimit_take(const char *id, int *retry_after_s);
/* "1".."60" as a static string for a Retry-After header (clamped). */
const char *cb_ratelimit_seconds_str(int s);

#endif
