/* Job stt.live_transcript (no payload; the job's call): with [stt] source = live the final
 * segments of the call's real-time transcription become its transcript — no engine request.
 *
 * Queued when the transcription starts (POST /webhooks/twilio/transcription). While the call
 * goes on it waits (CB_RESULT_WAIT: no attempt spent), looking again every few seconds; the
 * transcription-stopped callback brings it forward. Once the call has ended — its final
 * status or the end of the transcription, whichever came first — plus [stt] live_grace_s for
 * segments still on their way, it assembles the final segments in sequence order with speaker
 * labels ("Agent: ...", "Customer: ..."), analyses the text as a batch transcript would be,
 * seals the document (transcripts/<id>, the same shape stt.transcribe writes, engine
 * "twilio-live") and saves the transcript with its crm.write_analysis job in one statement,
 * then sends transcript_ready. A segment arriving later queues the job again, which replaces
 * the transcript (one per call) and writes it back again (idempotent upserts). Nothing
 * changed since the last assembly: nothing is done. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbridge/crypto.h"
#include "callbridge/events.h"
#include "callbridge/jobs.h"
#include "callbridge/log.h"
#include "callbridge/nlp.h"
#include "callbridge/nlp_llm.h"
#include "callbridge/store_transcripts.h"
#include "kinds.h"

#define POLL_MS       15000 /* a call still going on is looked at again this often */
#define MAX_ASSEMBLES 3     /* segments that arrive while assembling: assemble again */

/* Seal the document and save the row (replacing the call's earlier live transcript). */
static enum cb_result save(struct cb_job *job, const json_t *analysis, json_t *doc,
                           int64_t assembled_us, char tid[CB_UUID_LEN + 1])
{
        char id[CB_UUID_LEN + 1], key[64], old[64];
        struct cb_transcript_row row = {
            .id = id,
            .engine = "twilio-live",
            .language = job->env->cfg->stt.language,
            .storage_key = key,
        };
        struct cb_db *db = NULL;
        enum cb_qs qs;

        if (cb_job_transcript_seal(job, doc, "live transcript", id, key) != CB_RESULT_OK)
                return CB_RESULT_RETRY;
        cb_job_transcript_row_analysis(&row, analysis);
        old[0] = '\0';
        db = cb_job_db(job);
        qs = db ? cb_store_live_transcript_save(db, &row, job->row->call_id, assembled_us, tid, old,
                                                sizeof(old))
                : CB_QS_HARD_ERROR;
        cb_db_release(&db);
        cb_job_transcript_settle(job, qs, key, old); /* the call went, or a document replaced */
        if (qs < 0) {
                snprintf(job->error, sizeof(job->error), "saving the live transcript failed");
                return CB_RESULT_RETRY;
        }
        if (qs == 0)
                tid[0] = '\0';
        return CB_RESULT_OK;
}

static void publish(struct cb_job *job, const struct cb_call *call, const char *tid,
                    const json_t *analysis)
{
        json_t *data =
            json_pack("{s:s,s:s,s:s,s:O,s:O,s:O}", "call_id", job->row->call_id, "transcript_id",
                      tid, "source", "live", "sentiment", json_object_get(analysis, "sentiment"),
                      "tags", json_object_get(analysis, "tags"), "intent",
                      json_object_get(analysis, "intent") ?: json_null());

        if (data != NULL && call->agent[0] != '\0')
                cb_events_publish(call->agent, "transcript_ready", data);
        json_decref(data);
}

/* Assemble, analyse and save the transcript from the segments stored now. */
static enum cb_result build(struct cb_job *job, const struct cb_call *call, const json_t *rows,
                            int64_t assembled_us)
{
        struct cb_nlp_rules *rules = cb_nlp_current();
        struct cb_buf labelled = {.max = 16u << 20}, plain = {.max = 16u << 20};
        json_t *segments = json_array(), *call_json = cb_calls_to_json(call);
        json_t *analysis = NULL, *doc = NULL;
        char tid[CB_UUID_LEN + 1] = "";
        enum cb_result r = CB_RESULT_RETRY;

        if (segments == NULL || call_json == NULL ||
            cb_live_assemble(rows, &labelled, &plain, segments) != 0 ||
            (analysis = cb_nlp_analyse_call(rules, plain.data, call_json)) == NULL) {
                snprintf(job->error, sizeof(job->error), "out of memory assembling");
                goto out;
        }
        /* The CRM gets clean_text: here the labelled conversation, as spoken. */
        doc =
            json_pack("{s:{s:s,s:O,s:s,s:s},s:s,s:O,s:O}", "result", "text", labelled.data,
                      "segments", segments, "engine", "twilio-live", "source", "live", "clean_text",
                      labelled.data, "sentences", json_object_get(analysis, "sentences"), "summary",
                      json_object_get(analysis, "summary"));
        if (doc == NULL) {
                snprintf(job->error, sizeof(job->error), "out of memory assembling");
                goto out;
        }
        r = save(job, analysis, doc, assembled_us, tid);
        if (r == CB_RESULT_OK && tid[0] != '\0') {
                cb_jobs_wake(job->env->jobs);
                cb_pipeline_count_tags(json_object_get(analysis, "tags"));
                publish(job, call, tid, analysis);
        }
out:
        cb_nlp_rules_unref(&rules);
        cb_buf_free(&labelled);
        cb_buf_free(&plain);
        json_decref(segments);
        json_decref(call_json);
        json_decref(analysis);
        json_decref(doc);
        return r;
}

/* Is it time? OK with *go when the call ended more than the grace ago and segments arrived
 * since the last assembly; WAIT (with the hint) while the call goes on or the grace runs. */
static enum cb_result due(struct cb_job *job, bool *go)
{
        struct cb_db *db = cb_job_db(job);
        long grace_ms = job->env->cfg->stt.live_grace_s * 1000;
        double ended_ago = -1;
        bool changed = false;
        enum cb_qs qs;

        *go = false;
        if (db == NULL)
                return CB_RESULT_RETRY;
        qs = cb_store_live_state(db, job->row->call_id, &ended_ago, &changed);
        cb_db_release(&db);
        if (qs < 0) {
                snprintf(job->error, sizeof(job->error), "reading the live transcription failed");
                return CB_RESULT_RETRY;
        }
        if (qs == 0 || !changed)
                return CB_RESULT_OK; /* no transcription (call gone), or nothing new */
        if (ended_ago < 0 || ended_ago * 1000 < (double)grace_ms) {
                int64_t wait = ended_ago < 0 ? POLL_MS : grace_ms - (int64_t)(ended_ago * 1000);
                cb_wait_hint_set(wait > 0 ? wait : 1);
                snprintf(job->error, sizeof(job->error), "%s",
                         ended_ago < 0 ? "the call is still going on"
                                       : "waiting for late segments");
                return CB_RESULT_WAIT;
        }
        *go = true;
        return CB_RESULT_OK;
}

enum cb_result cb_job_live_transcript(struct cb_job *job)
{
        struct cb_call call;
        json_t *rows = NULL;
        struct cb_db *db = NULL;
        bool go = false;
        enum cb_result r = cb_job_load_call(job, &call);

        for (int i = 0; r == CB_RESULT_OK && i < MAX_ASSEMBLES; i++) {
                int64_t start = cb_now_us();
                enum cb_qs qs;

                r = due(job, &go);
                if (r != CB_RESULT_OK || !go)
                        break;
                db = cb_job_db(job);
                qs = db ? cb_store_live_segments(db, job->row->call_id, &rows) : CB_QS_HARD_ERROR;
                if (qs == 0 && db != NULL)
                        qs = cb_store_live_assembled_empty(db, job->row->call_id, start);
                cb_db_release(&db);
                if (qs < 0) {
                        snprintf(job->error, sizeof(job->error), "reading the segments failed");
                        r = CB_RESULT_RETRY;
                } else if (rows != NULL && json_array_size(rows) > 0) {
                        r = build(job, &call, rows, start);
                } else {
                        cb_info("call %s: its live transcription has no final segment",
                                job->row->call_id);
                }
                json_decref(rows);
                rows = NULL;
        }
        return r;
}
