/* The job queue as rows: claim and settle (src/store/jobs.c), the operators' view
 * (src/store/job_admin.c). The workers and kinds: callbridge/jobs.h. */
#ifndef CALLBRIDGE_STORE_JOBS_H
#define CALLBRIDGE_STORE_JOBS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "callbridge/db.h"
#include "callbridge/util.h"

/* ---- jobs (src/store/jobs.c) ---- */

struct cb_job_row {
        int64_t id;
        char kind[64];
        char call_id[CB_UUID_LEN + 1]; /* "" when the job has no call */
        json_t *payload;               /* owned by the row; cb_job_row_clear frees it */
        int attempts;                  /* including this one */
        int waits;                     /* times it was told to wait (no attempt spent) */
};
void cb_job_row_clear(struct cb_job_row *row);

/* Claim up to `max` of the oldest runnable jobs of `kinds` (a PostgreSQL text[] literal
 * such as "{crm.log_call,debug.sleep}") for `worker`, leasing them for `lease_s`. Returns
 * the number claimed (rows filled), or a negative qs. */
CB_MUST_CHECK enum cb_qs cb_store_jobs_claim(struct cb_db *db, const char *worker,
                                             const char *kinds, int lease_s,
                                             struct cb_job_row *rows, int max);
/* Settle claimed jobs. Each matches on the worker (and retry/dead on the attempt) so a
 * worker whose lease was taken over changes nothing: NO_RESULTS then. */
CB_MUST_CHECK enum cb_qs cb_store_jobs_done(struct cb_db *db, const int64_t *ids, size_t n,
                                            const char *worker);
CB_MUST_CHECK enum cb_qs cb_store_job_release(struct cb_db *db, const struct cb_job_row *row,
                                              const char *worker);
CB_MUST_CHECK enum cb_qs cb_store_job_retry(struct cb_db *db, const struct cb_job_row *row,
                                            const char *worker, int64_t delay_ms,
                                            const char *error);
CB_MUST_CHECK enum cb_qs cb_store_job_dead(struct cb_db *db, const struct cb_job_row *row,
                                           const char *worker, const char *error);
/* Back to the queue after `delay_ms` with the claim's attempt given back (waits + 1). */
CB_MUST_CHECK enum cb_qs cb_store_job_wait(struct cb_db *db, const struct cb_job_row *row,
                                           const char *worker, int64_t delay_ms, const char *error);
/* Extend the lease of the `n` running jobs `ids` still held by a worker whose id starts with
 * `owner_prefix` (the jobs in hand; never every job of the instance). */
CB_MUST_CHECK enum cb_qs cb_store_jobs_extend(struct cb_db *db, const char *owner_prefix,
                                              const int64_t *ids, size_t n, int lease_s);
/* Queue a job of `kind` without a call unless one is queued or running. ONE_RESULT when it
 * was queued, NO_RESULTS when one was waiting. */
CB_MUST_CHECK enum cb_qs cb_store_job_queue_unless_waiting(struct cb_db *db, const char *kind);
/* Queue depth: rows of [kind, state, count, oldest age in seconds, how many of them were
 * told to wait at least once] (caller decrefs). */
CB_MUST_CHECK enum cb_qs cb_store_job_depth(struct cb_db *db, json_t **out);

/* ---- the operators' view of the queue (src/store/job_admin.c) ---- */

/* Which jobs to list: NULL state/kind for any, before_id > 0 for the page after a cursor. */
struct cb_job_filter {
        const char *state;
        const char *kind;
        int64_t before_id;
        int limit;
};
/* Jobs newest first as a JSON array of {"id","kind","call_id","state","attempts","waits",
 * "available_at","last_error","created_at"} (caller decrefs `*out`). Row count or < 0. */
CB_MUST_CHECK enum cb_qs cb_store_jobs_list(struct cb_db *db, const struct cb_job_filter *f,
                                            json_t **out);
/* Send dead job `id` back to the queue now with attempts reset, and NOTIFY the workers.
 * ONE_RESULT when done; NO_RESULTS with `state` "" (no such job) or its state (not dead). */
CB_MUST_CHECK enum cb_qs cb_store_job_requeue_dead(struct cb_db *db, int64_t id, char state[16]);
/* The same for every dead job (of `kind` unless NULL); `*count` says how many. */
CB_MUST_CHECK enum cb_qs cb_store_jobs_requeue_dead(struct cb_db *db, const char *kind,
                                                    long *count);
/* Input checks shared by the CLI and the API: a known state; a kind-shaped name. */
bool cb_store_job_state_valid(const char *state);
bool cb_store_job_kind_valid(const char *kind);

#endif
