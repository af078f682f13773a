/* Shared inside src/stt/: the engines' ops, a small thread pool for chunks recognised in
 * parallel, per-engine counters for metrics, and helpers for upstream answers. */
#ifndef CB_STT_INT_H
#define CB_STT_INT_H

#include <jansson.h>
#include <pthread.h>
#include <stdint.h>

#include "callbridge/stt.h"
#include "callbridge/upstream.h"

extern const struct cb_stt_ops cb_stt_none;
extern const struct cb_stt_ops cb_stt_openai;
extern const struct cb_stt_ops cb_stt_google;
#ifdef CB_HAVE_POCKETSPHINX
extern const struct cb_stt_ops cb_stt_offline; /* offline.c, built when PocketSphinx is found */
#endif

/* ---- pool (pool.c) ----------------------------------------------------------------------- */

struct cb_stt_pool;

/* A pool of `threads` threads (0 is allowed: callers then do all the work themselves). NULL
 * when out of memory or a thread cannot start (logged). Threads keep their libcurl handle,
 * so connections to the engine stay open between chunks. */
struct cb_stt_pool *cb_stt_pool_create(unsigned int threads);
/* Stop the threads (after the work in progress) and free the pool; NULL-safe, clears *pool. */
void cb_stt_pool_destroy(struct cb_stt_pool **pool);
/* Run fn(ctx, i) for i in [0, n), on the pool's threads and the caller's, at most `width` at
 * once (0: no limit beyond the pool); returns when every call has returned. Safe to call
 * from several threads at once. */
void cb_stt_pool_run(struct cb_stt_pool *pool, size_t n, unsigned int width,
                     void (*fn)(void *ctx, size_t i), void *ctx);

/* ---- counters for metrics (stt.c) -------------------------------------------------------- */

struct cb_stt_counters {
        pthread_mutex_t lock;
        uint64_t requests_ok, requests_retry, requests_fail; /* upstream HTTP requests */
        uint64_t transcriptions_ok, transcriptions_retry, transcriptions_fail;
        double audio_seconds; /* audio of successful transcriptions */
        uint64_t chunks;
        double cost_per_minute; /* USD, for the estimate */
};

void cb_stt_counters_init(struct cb_stt_counters *c, double cost_per_minute);
void cb_stt_counters_destroy(struct cb_stt_counters *c);
void cb_stt_count_request(struct cb_stt_counters *c, enum cb_result r);
void cb_stt_count_transcription(struct cb_stt_counters *c, enum cb_result r, double seconds,
                                size_t chunks);
/* Prometheus text for engine `name`: cb_stt_requests_total, cb_stt_transcriptions_total,
 * cb_stt_audio_seconds_total, cb_stt_chunks_total, cb_stt_cost_usd_total. */
void cb_stt_counters_write(struct cb_stt_counters *c, const char *name, struct cb_buf *out);

/* ---- helpers (stt.c) --------------------------------------------------------------------- */

/* Seconds to wait from a 429/503 answer: retry-after-ms (rounded up), Retry-After in seconds
 * or as an HTTP date; 0 when none or unreadable. */
long cb_stt_retry_after(const struct cb_upstream_resp *resp);

/* The [stt] cost_per_minute, or `engine_default` when it is negative (not set). */
double cb_stt_cost(const struct cb_config *cfg, double engine_default);

/* The file extension (no dot) for a content type: "wav", "mp3", "ogg", "webm", "flac",
 * "m4a"; NULL when unknown. */
const char *cb_stt_extension(const char *content_type);

/* The result object of stt.h with an empty segments array; NULL when out of memory. */
json_t *cb_stt_result_new(const char *engine, const char *model, const char *language);

#endif
