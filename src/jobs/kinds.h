/* Run functions of the job kinds (one file each). */
#ifndef CB_JOBS_KINDS_H
#define CB_JOBS_KINDS_H

#include "callbridge/jobs.h"
#include "callbridge/store_transcripts.h"

CB_MUST_CHECK enum cb_result cb_job_place_call(struct cb_job *job);
void cb_job_place_call_dead(struct cb_job *job);
CB_MUST_CHECK enum cb_result cb_job_log_call(struct cb_job *job);
void cb_job_log_call_dead(struct cb_job *job);
/* ---- the CRM kinds run together (crm_batch.c): struct cb_job_kind.crm_prepare/crm_settle ---- */

/* Where a job's items went in the batch. */
enum cb_job_crm_list { CB_JOB_CRM_LOG, CB_JOB_CRM_ATTACH, CB_JOB_CRM_TASK, CB_JOB_CRM_LISTS };

/* One job's part of a CRM batch: what its items borrow and what its settle needs. The runner
 * zeroes it before prepare and frees `hold` after settle. */
struct cb_job_crm {
        struct cb_call call; /* the job's call, as its items write it */
        json_t *hold;        /* the kind's references (fields, tasks, transcript), or NULL */
        size_t first[CB_JOB_CRM_LISTS], count[CB_JOB_CRM_LISTS]; /* its items in each list */
        bool finished; /* prepare ran the job whole (its answer is the outcome): no settle */
};

/* The batch being built: the lists of struct cb_crm_batch with their capacities. */
struct cb_job_crm_batch {
        struct cb_crm_batch b;
        size_t cap[CB_JOB_CRM_LISTS];
};

/* Append `item` to `list` of `batch` as one of `ctx`'s (a job adds its items one after the
 * other). 0, or -1 when out of memory (nothing added). */
int cb_job_crm_add(struct cb_job_crm_batch *batch, struct cb_job_crm *ctx,
                   enum cb_job_crm_list list, const struct cb_crm_item *item);
/* The `i`th item of `ctx` in `list` of the written batch. */
const struct cb_crm_item *cb_job_crm_item(const struct cb_crm_batch *batch,
                                          const struct cb_job_crm *ctx, enum cb_job_crm_list list,
                                          size_t i);
/* The first failure among `ctx`'s items (in list order: logs, attaches, tasks) into
 * job->error, or OK when all succeeded. */
enum cb_result cb_job_crm_outcome(struct cb_job *job, const struct cb_job_crm *ctx,
                                  const struct cb_crm_batch *batch);
/* Run jobs[0..n) (of CRM kinds: `kinds[i]` is jobs[i]'s) together: prepare each, one
 * cb_crm_write_batch for all, settle each; res[i] is jobs[i]'s outcome. */
void cb_job_crm_run(struct cb_job *jobs, const struct cb_job_kind *const *kinds, size_t n,
                    enum cb_result *res);

enum cb_result cb_job_log_call_prepare(struct cb_job *job, struct cb_job_crm *ctx,
                                       struct cb_job_crm_batch *batch);
enum cb_result cb_job_log_call_settle(struct cb_job *job, struct cb_job_crm *ctx,
                                      const struct cb_crm_batch *batch);
enum cb_result cb_job_recording_attach_prepare(struct cb_job *job, struct cb_job_crm *ctx,
                                               struct cb_job_crm_batch *batch);
enum cb_result cb_job_follow_up_prepare(struct cb_job *job, struct cb_job_crm *ctx,
                                        struct cb_job_crm_batch *batch);
enum cb_result cb_job_write_analysis_prepare(struct cb_job *job, struct cb_job_crm *ctx,
                                             struct cb_job_crm_batch *batch);
enum cb_result cb_job_write_analysis_settle(struct cb_job *job, struct cb_job_crm *ctx,
                                            const struct cb_crm_batch *batch);
enum cb_result cb_job_debug_crm_attach_prepare(struct cb_job *job, struct cb_job_crm *ctx,
                                               struct cb_job_crm_batch *batch);
enum cb_result cb_job_debug_crm_task_prepare(struct cb_job *job, struct cb_job_crm *ctx,
                                             struct cb_job_crm_batch *batch);
/* The settle of kinds whose outcome is their items' (cb_job_crm_outcome). */
enum cb_result cb_job_crm_settle_items(struct cb_job *job, struct cb_job_crm *ctx,
                                       const struct cb_crm_batch *batch);
/* write_mode = single (log_call_single.c): write the finished call's log once with everything
 * known, after a bounded wait (WAIT while the recording or analysis is on its way). */
CB_MUST_CHECK enum cb_result cb_job_log_call_single(struct cb_job *job, const struct cb_call *call,
                                                    struct cb_crm_logged *out);
/* True (with `*r` set to WAIT, no attempt spent) when a job adding to the call log must not
 * write now: the call log comes first (cb_calls_crm_log_first). */
bool cb_job_log_first(struct cb_job *job, const struct cb_call *call, enum cb_result *r);
CB_MUST_CHECK enum cb_result cb_job_follow_up(struct cb_job *job);
CB_MUST_CHECK enum cb_result cb_job_recording_fetch(struct cb_job *job);
void cb_job_recording_fetch_dead(struct cb_job *job);
/* A recording named by URL must be the job's call's, per the provider (recording_source.c):
 * OK, RETRY (provider trouble) or FAIL with job->error. Announced recordings pass. */
CB_MUST_CHECK enum cb_result cb_job_recording_check_source(struct cb_job *job, const json_t *rec);
CB_MUST_CHECK enum cb_result cb_job_recording_attach(struct cb_job *job);
CB_MUST_CHECK enum cb_result cb_job_recording_provider_delete(struct cb_job *job);
CB_MUST_CHECK enum cb_result cb_job_retention_sweep(struct cb_job *job);
CB_MUST_CHECK enum cb_result cb_job_transcribe(struct cb_job *job);
CB_MUST_CHECK enum cb_result cb_job_write_analysis(struct cb_job *job);
CB_MUST_CHECK enum cb_result cb_job_live_transcript(struct cb_job *job);
CB_MUST_CHECK enum cb_result cb_job_telephony_reconcile(struct cb_job *job);
/* Agent states (agent_status.c): a call's move, the end of wrap-up. */
CB_MUST_CHECK enum cb_result cb_job_agent_call(struct cb_job *job);
CB_MUST_CHECK enum cb_result cb_job_agent_wrap_up_end(struct cb_job *job);
CB_MUST_CHECK enum cb_result cb_job_debug_sleep(struct cb_job *job);
CB_MUST_CHECK enum cb_result cb_job_debug_fail(struct cb_job *job);
CB_MUST_CHECK enum cb_result cb_job_debug_crm_attach(struct cb_job *job);
CB_MUST_CHECK enum cb_result cb_job_debug_crm_task(struct cb_job *job);
CB_MUST_CHECK enum cb_result cb_job_debug_call_disposed(struct cb_job *job);

/* A live transcript from its final segments' rows [[sequence, speaker, text], ...] (text
 * columns, as cb_store_live_segments gives them; any order, a repeated sequence counted once,
 * malformed rows skipped): `labelled` gets one "Agent: ..." / "Customer: ..." line per
 * segment in sequence order, `plain` the words alone joined by spaces (for the analysis),
 * `segments` [{"sequence","speaker","text"}]. 0, or -1 when out of memory or a buffer's cap
 * was reached (src/jobs/live_assemble.c, pure). */
int cb_live_assemble(const json_t *rows, struct cb_buf *labelled, struct cb_buf *plain,
                     json_t *segments);

/* [nlp] redact over a speech result, in place (src/jobs/redact_result.c); with
 * redact_keep_original and something redacted, *original is the result as it was (caller
 * decrefs; for the sealed document only), else NULL. The number of replacements, or -1 when
 * out of memory (the result must then not be kept). */
int cb_job_redact_result(const struct cb_config *cfg, json_t *result, json_t **original);

/* Pipeline stage histograms (src/jobs/pipeline_metrics.c). */
void cb_pipeline_observe(const char *stage, double seconds);
void cb_pipeline_count_tags(const json_t *tags);

/* Shared by kinds: lease a connection or report RETRY with a reason. */
struct cb_db *cb_job_db(struct cb_job *job);
/* Load the job's call into `call` (cb_store_call_load); RETRY/FAIL with job->error set when it
 * cannot. */
CB_MUST_CHECK enum cb_result cb_job_load_call(struct cb_job *job, struct cb_call *call);
/* Load the recording named by the payload's recording_id (cb_store_recording_get JSON). */
CB_MUST_CHECK enum cb_result cb_job_load_recording(struct cb_job *job, json_t **rec);
/* Note (storage_intents) that a blob is about to be written at `key`, before the first byte:
 * OK, or RETRY with job->error when it cannot be noted (then write nothing). */
CB_MUST_CHECK enum cb_result cb_job_note_blob(struct cb_job *job, const char *key);

/* ---- transcripts (transcript_doc.c), batch (transcribe.c) and live (live_transcript.c) ---- */

/* Seal a transcript's document `doc` under a new id: `id` and `key` ("transcripts/<id>") are
 * filled, the blob noted and written. OK, or RETRY with job->error ("storing the <what>: ...")
 * when it could not be (nothing to clean up then but what the intent covers). */
CB_MUST_CHECK enum cb_result cb_job_transcript_seal(struct cb_job *job, const json_t *doc,
                                                    const char *what, char id[CB_UUID_LEN + 1],
                                                    char key[64]);
/* The row's fields that come from the analysis (words, sentiment, label, intent, tags,
 * keywords, entities, follow-ups) and transcribed_us = now; borrowed from `analysis`. */
struct cb_transcript_row;
void cb_job_transcript_row_analysis(struct cb_transcript_row *row, const json_t *analysis);
/* After the row's save answered `qs`: remove the document that is not needed — the new one
 * when definitely not saved (NO_RESULTS), the replaced one (`old_key`) when saved. After an
 * error the row may have committed: the document stays (a retry finds the transcript; an
 * orphan is left to the retention sweep, which finds it by its intent). */
void cb_job_transcript_settle(struct cb_job *job, enum cb_qs qs, const char *key,
                              const char *old_key);

#endif
