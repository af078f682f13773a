/* Durable jobs: kinds (src/jobs/kinds.c lists them, one file per kind), the worker pool
 * that claims and runs them (src/jobs/workers.c), and the LISTEN/NOTIFY wake-up. */
#ifndef CALLBRIDGE_JOBS_H
#define CALLBRIDGE_JOBS_H

#include <stdbool.h>
#include <stdint.h>

#include "callbridge/calls.h"
#include "callbridge/config.h"
#include "callbridge/crm.h"
#include "callbridge/db.h"
#include "callbridge/recordings.h"
#include "callbridge/store_jobs.h"
#include "callbridge/stt.h"
#include "callbridge/telephony.h"
#include "callbridge/util.h"
#include "callbridge/upstream.h"

struct cb_jobs;

/* What a job kind may use. Owned by main; outlives the worker pool. */
struct cb_job_env {
        const struct cb_config *cfg;
        struct cb_db_pool *pool;
        struct cb_crm *crm;
        struct cb_telephony *tel;
        struct cb_recordings *rec;
        struct cb_stt *stt;
        struct cb_jobs *jobs; /* set by cb_jobs_start: kinds that queue jobs call cb_jobs_wake */
};

/* One claimed job while it runs. */
struct cb_job {
        const struct cb_job_row *row;
        struct cb_job_env *env;
        char error[512];        /* set by the kind when it returns RETRY, WAIT or FAIL */
        int64_t retry_after_ms; /* RETRY: not before this (an upstream's Retry-After); 0 */
};

struct cb_job_crm;       /* one job's part of a CRM batch (src/jobs/kinds.h) */
struct cb_job_crm_batch; /* the CRM batch being built (src/jobs/kinds.h) */

struct cb_job_kind {
        const char *name;
        /* Do the work. Must be idempotent: a job may run again after a crash or lost lease. */
        enum cb_result (*run)(struct cb_job *job);
        /* Optional: record the permanent failure (e.g. the call's CRM state) once dead. */
        void (*on_dead)(struct cb_job *job);
        bool debug; /* registered only with [workers] debug_kinds = true (tests) */
        /* Optional, both or neither (the CRM kinds): the claimed jobs of every such kind of
         * one worker's batch run together, their CRM writes in ONE cb_crm_write_batch
         * (src/jobs/crm_batch.c). `crm_prepare` loads what the job writes and adds its items
         * to `batch` (they may borrow from `ctx`, kept until settled), or answers the job's
         * outcome when it cannot run now (RETRY, WAIT, FAIL with job->error); `crm_settle`
         * gives the job its outcome from its items once the batch was written. Same
         * idempotency as run. */
        enum cb_result (*crm_prepare)(struct cb_job *job, struct cb_job_crm *ctx,
                                      struct cb_job_crm_batch *batch);
        enum cb_result (*crm_settle)(struct cb_job *job, struct cb_job_crm *ctx,
                                     const struct cb_crm_batch *batch);
};

extern const struct cb_job_kind cb_job_kinds[];
extern const size_t cb_job_kinds_count;
/* The registered kind called `name`, or NULL. Debug kinds only when `debug`. */
const struct cb_job_kind *cb_job_kind_find(const char *name, bool debug);

/* Job kinds. The call's own (CB_JOB_PLACE_CALL, CB_JOB_LOG_CALL, CB_JOB_FOLLOW_UP) are in
 * callbridge/calls.h: its moves queue them. */
#define CB_JOB_REC_FETCH           "recording.fetch"
#define CB_JOB_REC_ATTACH          "crm.attach_recording"
#define CB_JOB_REC_PROVIDER_DELETE "recording.provider_delete"
#define CB_JOB_RETENTION           "retention.sweep"
#define CB_JOB_TRANSCRIBE          "stt.transcribe"
#define CB_JOB_WRITEBACK           "crm.write_analysis"
#define CB_JOB_LIVE_TRANSCRIPT     "stt.live_transcript" /* [stt] source = live */
#define CB_JOB_TEL_RECONCILE       "telephony.reconcile" /* periodic: lost webhooks */

/* Retry delay before attempt `attempt + 1`: base * 2^(attempt-1) capped at max, then
 * "equal jitter" (half fixed, half drawn from `rnd`), so it lies in [d/2, d]. */
int64_t cb_jobs_backoff_ms(int attempt, long base_ms, long max_ms, uint32_t rnd);
/* The shortest time a failing job keeps being retried before it is dead: the sum of the
 * smallest delays (jitter 0) between its `max_attempts` attempts. */
int64_t cb_jobs_retry_span_ms(long max_attempts, long base_ms, long max_ms);
/* How long a job told to wait (CB_RESULT_WAIT) sleeps after `waits` earlier waits: the
 * upstream's hint plus up to a quarter of it as jitter (so waiting jobs do not all wake at
 * once), or without a hint cb_jobs_backoff_ms(waits + 1) capped at `max_ms`. */
int64_t cb_jobs_wait_ms(int waits, int64_t hint_ms, long base_ms, long max_ms, uint32_t rnd);

/* Start `[workers] threads` workers and the LISTEN thread. NULL (logged) on failure. */
struct cb_jobs *cb_jobs_start(struct cb_job_env *env);
/* Wake local workers now and tell other instances (coalesced NOTIFY) after a commit that
 * inserted jobs. Cheap; safe from any thread. */
void cb_jobs_wake(struct cb_jobs *jobs);
/* The call intake committed a batch of `created` new calls: wake the workers (as
 * cb_jobs_wake). A batch of CB_JOBS_INTAKE_BUSY or more means requests queue behind the
 * commit: for the next CB_JOBS_INTAKE_YIELD_MS only `[workers] intake_threads` workers claim
 * new jobs, the others pause so the intake gets the cores (see workers.c). */
#define CB_JOBS_INTAKE_BUSY     8
#define CB_JOBS_INTAKE_YIELD_MS 50
void cb_jobs_intake(struct cb_jobs *jobs, size_t created);
/* Stop claiming, let running jobs finish for up to `drain_s`, then free everything.
 * Returns false when some job was still running at the deadline (its lease will expire and
 * another worker will run it again); the pool is then deliberately leaked. */
bool cb_jobs_stop(struct cb_jobs **jobs, long drain_s);

/* Append Prometheus text for the pipeline's per-stage latency histograms. */
void cb_pipeline_metrics_write(struct cb_buf *out);
/* callbridge_storage_orphans_removed_total: blobs the retention sweep removed because no row
 * named them (src/jobs/retention.c). */
void cb_retention_metrics_write(struct cb_buf *out);

/* Append Prometheus text for job outcomes (counters kept in memory). */
void cb_jobs_metrics_write(struct cb_buf *out);

#endif
