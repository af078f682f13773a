/* Run functions of the job kinds (one file each). */
#ifndef CB_JOBS_KINDS_H
#define CB_JOBS_KINDS_H

#include "callbridge/jobs.h"
#include "callbridge/store_transcripts.h"

CB_MUST_CHECK enum cb_result cb_job_place_call(struct cb_job *job);
void cb_job_place_call_dead(struct cb_job *job);
CB_MUST_CHECK enum cb_result cb_job_log_call(struct cb_job *job);
void cb_job_log_call_dead(struct cb_job *job);
/* The batch runners (struct cb_job_kind.run_batch): the CRM writes of many jobs in few
 * requests (cb_crm_log_calls & co.), each job with its own outcome. */
void cb_job_log_call_batch(struct cb_job *jobs, size_t n, enum cb_result *res);
void cb_job_recording_attach_batch(struct cb_job *jobs, size_t n, enum cb_result *res);
void cb_job_follow_up_batch(struct cb_job *jobs, size_t n, enum cb_result *res);
void cb_job_write_analysis_batch(struct cb_job *jobs, size_t n, enum cb_result *res);
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
void cb_job_debug_crm_task_batch(struct cb_job *jobs, size_t n, enum cb_result *res);
void cb_job_debug_crm_attach_batch(struct cb_job *jobs, size_t n, enum cb_result *res);
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
