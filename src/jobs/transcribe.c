/* Job stt.transcribe {"recording_id", "force"?, "language"?}: a stored recording becomes a
 * transcript and its analysis.
 *
 * Queued for every stored recording (then [stt] policy decides) and by
 * POST /api/call/transcribe (force: always, replacing an earlier transcript). The audio is
 * read from the sealed blob by range as the engine asks; the result (text, segments, the
 * cleaned text and summary) is sealed into storage as "transcripts/<id>"; the analysis goes
 * into the transcripts row with the crm.write_analysis job in one statement; then the agent's
 * softphones get transcript_ready. A repeat finds the transcript and does nothing unless
 * forced; a crash between the engine and the row costs one more transcription, never a
 * second transcript (one per recording). The document is removed only when the save
 * definitely did not commit: after an error it may have, and the row would then name a
 * missing document. Its key is noted (storage_intents) before it is written, so a document no
 * row names is removed by the retention sweep after [retention] orphan_grace_s; when the note
 * cannot be written, nothing is and the job retries. */
#include <pthread.h>
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
#include "callbridge/stt_policy.h"
#include "kinds.h"

/* The sealed recording as the engine reads it. Engines read chunks from several threads at
 * once, and a reader (one cipher context, one cached chunk) serves one at a time. */
struct audio_src {
        struct cb_rec_reader *reader;
        pthread_mutex_t lock;
};

static int audio_read(void *ctx, uint64_t off, void *buf, size_t len)
{
        struct audio_src *src = ctx;
        size_t got = 0;
        int rc;

        pthread_mutex_lock(&src->lock);
        rc = cb_rec_reader_read(src->reader, off, buf, len, &got);
        pthread_mutex_unlock(&src->lock);
        return rc == 0 && got == len ? 0 : -1;
}

static bool live_source(const struct cb_config *cfg)
{
        return cfg->stt.source != NULL && strcmp(cfg->stt.source, "live") == 0;
}

/* Should this run transcribe at all? OK with *go set accordingly. */
static enum cb_result wanted(struct cb_job *job, const json_t *rec, const struct cb_call *call,
                             bool *go)
{
        const char *state = json_string_value(json_object_get(rec, "state"));
        bool force = json_is_true(json_object_get(job->row->payload, "force"));
        struct cb_db *db;
        enum cb_qs qs;

        *go = false;
        if (state != NULL && strcmp(state, "pending") == 0) {
                snprintf(job->error, sizeof(job->error), "the recording is not stored yet");
                return CB_RESULT_RETRY;
        }
        if (state == NULL || strcmp(state, "stored") != 0)
                return CB_RESULT_OK; /* deleted or failed: nothing to transcribe */
        if (strcmp(job->env->cfg->stt.engine, "none") == 0)
                return CB_RESULT_OK; /* transcription is off: not a failure of this job */
        if (!force && !cb_stt_policy_allows(job->env->cfg->stt.policy, call, job->env->crm)) {
                cb_debug("call %s: [stt] policy skips its recording", job->row->call_id);
                return CB_RESULT_OK;
        }
        if (force)
                return *go = true, CB_RESULT_OK;
        db = cb_job_db(job);
        if (db == NULL)
                return CB_RESULT_RETRY;
        /* [stt] source = live: the live transcript is this call's (stt.live_transcript); no
         * engine request. A call whose live transcription never started falls back to this. */
        qs = live_source(job->env->cfg) ? cb_store_live_exists(db, job->row->call_id)
                                        : CB_QS_NO_RESULTS;
        if (qs > 0)
                cb_debug("call %s: its live transcript is its transcript", job->row->call_id);
        if (qs == 0)
                qs = cb_store_transcript_exists(
                    db, json_string_value(json_object_get(rec, "recording_id")));
        cb_db_release(&db);
        if (qs < 0) {
                snprintf(job->error, sizeof(job->error), "checking for a transcript failed");
                return CB_RESULT_RETRY;
        }
        *go = qs == 0;
        return CB_RESULT_OK;
}

/* Run the engine over the sealed recording. */
static enum cb_result run_engine(struct cb_job *job, const json_t *rec, const char *const *hints,
                                 json_t **result)
{
        struct cb_stt *stt = job->env->stt;
        const char *lang = json_string_value(json_object_get(job->row->payload, "language"));
        struct cb_stt_request req = {.language = lang, .phrases = hints};
        struct audio_src src = {.lock = PTHREAD_MUTEX_INITIALIZER};
        long retry_after = 0;
        enum cb_result r;

        src.reader = cb_rec_reader_open(job->env->rec,
                                        json_string_value(json_object_get(rec, "storage_key")),
                                        job->error, sizeof(job->error));
        if (src.reader == NULL)
                return CB_RESULT_RETRY;
        /* The blob must be this recording (size, and the hash of an old unbound blob): never
         * send another recording's audio to the engine. A storage hiccup retries too. */
        if (cb_rec_reader_verify(src.reader,
                                 (uint64_t)json_integer_value(json_object_get(rec, "bytes")),
                                 json_string_value(json_object_get(rec, "sha256")), job->error,
                                 sizeof(job->error)) != 0) {
                cb_rec_reader_close(&src.reader);
                return CB_RESULT_RETRY;
        }
        struct cb_stt_audio audio = {
            .content_type = json_string_value(json_object_get(rec, "content_type")),
            .size = cb_rec_reader_size(src.reader),
            .read_at = audio_read,
            .ctx = &src,
            .sha256 = json_string_value(json_object_get(rec, "sha256")),
        };
        r = stt->ops->transcribe(stt->self, &audio, &req, result, &retry_after, job->error,
                                 sizeof(job->error));
        if (r == CB_RESULT_WAIT && retry_after > 0)
                cb_wait_hint_set(retry_after * 1000); /* rate limited: come back then */
        else if (r == CB_RESULT_RETRY && retry_after > 0)
                job->retry_after_ms = retry_after * 1000;
        cb_rec_reader_close(&src.reader);
        pthread_mutex_destroy(&src.lock);
        return r;
}

/* Seal the document, then save the row (and queue the write-back) in one statement. */
static enum cb_result save(struct cb_job *job, const json_t *rec, json_t *result,
                           const json_t *original, const json_t *analysis, long stt_ms,
                           char tid[CB_UUID_LEN + 1])
{
        char id[CB_UUID_LEN + 1], key[64], old[64];
        json_t *doc = json_pack("{s:O,s:O,s:O,s:O}", "result", result, "clean_text",
                                json_object_get(analysis, "clean_text"), "sentences",
                                json_object_get(analysis, "sentences"), "summary",
                                json_object_get(analysis, "summary"));
        struct cb_transcript_row row = {
            .id = id,
            .recording_id = json_string_value(json_object_get(rec, "recording_id")),
            .engine = json_string_value(json_object_get(result, "engine")) ?: "unknown",
            .language = json_string_value(json_object_get(result, "language")),
            .audio_seconds = json_number_value(json_object_get(result, "duration_s")),
            .storage_key = key,
            .stt_ms = stt_ms,
        };
        struct cb_db *db = NULL;
        enum cb_result r;
        enum cb_qs qs;

        /* [nlp] redact_keep_original: the unredacted result, sealed with the rest; no reader
         * of the document (API, CRM write-back) looks at it. */
        if (doc != NULL && original != NULL)
                json_object_set(doc, "original", (json_t *)original);
        r = cb_job_transcript_seal(job, doc, "transcript", id, key);
        json_decref(doc);
        if (r != CB_RESULT_OK)
                return r;
        cb_job_transcript_row_analysis(&row, analysis);
        old[0] = '\0';
        db = cb_job_db(job);
        qs = db ? cb_store_transcript_save(db, &row, tid, old, sizeof(old)) : CB_QS_HARD_ERROR;
        cb_db_release(&db);
        if (qs > 0 && job->env->cfg->workers.debug_lost_commit_reply) {
                cb_warn("transcript %s: [workers] debug_lost_commit_reply: reporting the "
                        "committed save as failed",
                        id);
                qs = CB_QS_HARD_ERROR;
                old[0] = '\0';
        }
        cb_job_transcript_settle(job, qs, key, old); /* the recording went, or one replaced */
        if (qs < 0) {
                cb_warn("transcript %s: saving the row failed, its document is kept (the row "
                        "may have committed)",
                        id);
                snprintf(job->error, sizeof(job->error), "saving the transcript failed");
                return CB_RESULT_RETRY;
        }
        if (qs == 0)
                tid[0] = '\0'; /* the recording went meanwhile */
        return CB_RESULT_OK;
}

static void publish(struct cb_job *job, const struct cb_call *call, const char *tid,
                    const json_t *analysis)
{
        json_t *data =
            json_pack("{s:s,s:s,s:O,s:O,s:O}", "call_id", job->row->call_id, "transcript_id", tid,
                      "sentiment", json_object_get(analysis, "sentiment"), "tags",
                      json_object_get(analysis, "tags"), "intent",
                      json_object_get(analysis, "intent") ?: json_null());

        if (data != NULL && call->agent[0] != '\0')
                cb_events_publish(call->agent, "transcript_ready", data);
        json_decref(data);
}

enum cb_result cb_job_transcribe(struct cb_job *job)
{
        struct cb_nlp_rules *rules = cb_nlp_current();
        json_t *rec = NULL, *call_json = NULL, *result = NULL, *analysis = NULL;
        json_t *original = NULL;
        struct cb_call call;
        char tid[CB_UUID_LEN + 1] = "";
        int64_t t0;
        long stt_ms;
        bool go = false;
        enum cb_result r = cb_job_load_recording(job, &rec);

        if (r == CB_RESULT_OK)
                r = cb_job_load_call(job, &call);
        if (r == CB_RESULT_OK)
                r = wanted(job, rec, &call, &go);
        if (r != CB_RESULT_OK || !go)
                goto out;
        t0 = cb_mono_us();
        r = run_engine(job, rec, cb_nlp_rules_hints(rules), &result);
        stt_ms = (long)((cb_mono_us() - t0) / 1000);
        if (r != CB_RESULT_OK)
                goto out;
        /* PII out before any analysis engine, the document or the CRM sees the text. */
        if (cb_job_redact_result(job->env->cfg, result, &original) < 0) {
                snprintf(job->error, sizeof(job->error), "out of memory redacting");
                r = CB_RESULT_RETRY;
                goto out;
        }
        /* NLP rules match the call's fields by their API names. */
        call_json = cb_calls_to_json(&call);
        analysis = call_json ? cb_nlp_analyse_call(
                                   rules, json_string_value(json_object_get(result, "text")) ?: "",
                                   call_json)
                             : NULL;
        if (analysis == NULL) {
                snprintf(job->error, sizeof(job->error), "out of memory analysing");
                r = CB_RESULT_RETRY;
                goto out;
        }
        r = save(job, rec, result, original, analysis, stt_ms, tid);
        if (r == CB_RESULT_OK && tid[0] != '\0') {
                cb_jobs_wake(job->env->jobs); /* the write-back need not wait for a poll */
                cb_pipeline_count_tags(json_object_get(analysis, "tags"));
                publish(job, &call, tid, analysis);
        }
out:
        cb_nlp_rules_unref(&rules);
        json_decref(analysis);
        json_decref(result);
        json_decref(original);
        json_decref(call_json);
        json_decref(rec);
        return r;
}
