/* crm.log_call with [crm] write_mode = single (issue 15): the call log of a finished call
 * is written ONCE with everything known — the recording link, the transcript, the analysis and
 * its summary. What is still on its way (the recording Twilio has not announced yet, its
 * download, its transcription and analysis) is waited for, without spending attempts, for at
 * most [crm] single_write_wait_s after the call ended; then the log is written with what
 * is known, and what arrives later is added by its own job as an update. The call remembers
 * which recording and transcript the log carries (calls.crm_recording_id, crm_transcript_id)
 * so their jobs do not write them again. Never half-written: the provider writes the call log
 * in one request. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbridge/jobs.h"
#include "callbridge/log.h"
#include "callbridge/store_calls.h"
#include "callbridge/store_lifecycle.h"
#include "callbridge/upstream.h"
#include "kinds.h"

#define POLL_MS 1000

static const char *jstr(const json_t *o, const char *k)
{
        return json_string_value(json_object_get(o, k));
}

/* True while the recording or its analysis may still come: Twilio records answered calls and
 * none is announced yet, or a download or transcription of the call is not over. */
static bool pending(const struct cb_config *cfg, const struct cb_call *call, const json_t *cj)
{
        const json_t *j;
        size_t i;

        if (cfg->twilio.enabled && cfg->twilio.record && strcmp(call->telephony, "twilio") == 0 &&
            call->answered_us != 0 && json_array_size(json_object_get(cj, "recordings")) == 0)
                return true;
        json_array_foreach(json_object_get(cj, "jobs"), i, j)
        {
                const char *kind = jstr(j, "kind"), *state = jstr(j, "state");
                if (kind == NULL || state == NULL || strcmp(state, "done") == 0 ||
                    strcmp(state, "dead") == 0)
                        continue;
                if (strcmp(kind, CB_JOB_REC_FETCH) == 0 || strcmp(kind, CB_JOB_TRANSCRIBE) == 0)
                        return true;
        }
        return false;
}

/* True when a newer crm.log_call job of the call is still to run: it writes, this one need not
 * (two jobs waiting for the same recording would write the call log twice). */
static bool newer_log_job(const struct cb_job *job, const json_t *cj)
{
        const json_t *j;
        size_t i;

        json_array_foreach(json_object_get(cj, "jobs"), i, j)
        {
                const char *kind = jstr(j, "kind"), *state = jstr(j, "state");
                if (kind != NULL && strcmp(kind, CB_JOB_LOG_CALL) == 0 && state != NULL &&
                    strcmp(state, "done") != 0 && strcmp(state, "dead") != 0 &&
                    json_integer_value(json_object_get(j, "id")) > job->row->id)
                        return true;
        }
        return false;
}

/* The newest element of `arr` for which `ok` holds, or NULL. */
static const json_t *newest(const json_t *arr, bool (*ok)(const json_t *))
{
        for (size_t i = json_array_size(arr); i > 0; i--)
                if (ok(json_array_get(arr, i - 1)))
                        return json_array_get(arr, i - 1);
        return NULL;
}

static bool stored(const json_t *r)
{
        return jstr(r, "state") != NULL && strcmp(jstr(r, "state"), "stored") == 0;
}

static bool analysed(const json_t *t)
{
        return !json_is_true(json_object_get(t, "deleted")) && jstr(t, "storage_key") != NULL &&
               json_is_string(json_object_get(json_object_get(t, "timings"), "analysed"));
}

/* The analysis fields of transcript `t` into `fields`; its document (summary, clean text) is
 * read from the store. RETRY when it cannot be read. */
static enum cb_result add_analysis(struct cb_job *job, const json_t *t, json_t *fields)
{
        static const char *const keys[] = {"sentiment", "sentiment_label", "intent",
                                           "tags",      "keywords",        "entities"};
        char err[256];
        size_t len = 0;
        char *text = cb_rec_doc_get(job->env->rec, jstr(t, "storage_key"), &len, err, sizeof(err));
        json_t *doc = text ? json_loadb(text, len, 0, NULL) : NULL;
        const json_t *clean;

        free(text);
        if (doc == NULL) {
                snprintf(job->error, sizeof(job->error), "reading the transcript: %s", err);
                return CB_RESULT_RETRY;
        }
        for (size_t i = 0; i < CB_ARRAY_LEN(keys); i++)
                if (json_object_get(t, keys[i]) != NULL &&
                    !json_is_null(json_object_get(t, keys[i])))
                        json_object_set(fields, keys[i], json_object_get(t, keys[i]));
        clean = json_object_get(doc, "clean_text");
        if (!json_is_string(clean))
                clean = json_object_get(json_object_get(doc, "result"), "text");
        if (json_is_string(clean))
                json_object_set(fields, "transcript", (json_t *)clean);
        if (json_is_string(json_object_get(doc, "summary")))
                json_object_set(fields, "summary", json_object_get(doc, "summary"));
        json_decref(doc);
        return CB_RESULT_OK;
}

enum cb_result cb_job_log_call_single(struct cb_job *job, const struct cb_call *call,
                                      struct cb_crm_logged *out)
{
        const struct cb_config *cfg = job->env->cfg;
        struct cb_crm *crm = job->env->crm;
        struct cb_db *db = cb_job_db(job);
        json_t *cj = NULL, *fields = json_object();
        const json_t *rec, *t;
        char url[1024];
        int64_t ended_ago_us = cb_now_us() - (call->ended_us ? call->ended_us : call->updated_us);
        enum cb_result r = CB_RESULT_RETRY;

        if (db == NULL || fields == NULL ||
            cb_store_call_get_json(db, call->id, NULL, &cj) != CB_QS_ONE_RESULT) {
                snprintf(job->error, sizeof(job->error), "reading the call failed");
                goto out;
        }
        if (newer_log_job(job, cj)) {
                out->state = NULL; /* nothing written: the call's CRM state stays as it is */
                r = CB_RESULT_OK;
                goto out;
        }
        if (pending(cfg, call, cj) &&
            ended_ago_us < (int64_t)cfg->crm.single_write_wait_s * 1000000) {
                cb_wait_hint_set(POLL_MS);
                snprintf(job->error, sizeof(job->error),
                         "single write: waiting up to %lds after the call for its recording "
                         "and analysis",
                         cfg->crm.single_write_wait_s);
                r = CB_RESULT_WAIT;
                goto out;
        }
        rec = newest(json_object_get(cj, "recordings"), stored);
        t = newest(json_object_get(cj, "transcripts"), analysed);
        if (rec != NULL) {
                snprintf(url, sizeof(url), "%s/r/%s", cfg->server.public_url,
                         jstr(rec, "recording_id"));
                json_object_set_new(fields, "recording_url", json_string(url));
                json_object_set(fields, "recording_bytes", json_object_get(rec, "bytes"));
                if (json_is_integer(json_object_get(rec, "duration_s")))
                        json_object_set(fields, "recording_seconds",
                                        json_object_get(rec, "duration_s"));
        }
        if (t != NULL && (r = add_analysis(job, t, fields)) != CB_RESULT_OK)
                goto out;
        r = crm->ops->log_call_once(crm->self, call, fields, out, job->error, sizeof(job->error));
        if (r == CB_RESULT_OK &&
            cb_store_call_set_crm_written(db, call->id, rec ? jstr(rec, "recording_id") : NULL,
                                          t ? jstr(t, "transcript_id") : NULL) < 0) {
                snprintf(job->error, sizeof(job->error),
                         "recording what the CRM log carries failed");
                r = CB_RESULT_RETRY;
        }
out:
        cb_db_release(&db);
        json_decref(cj);
        json_decref(fields);
        return r;
}
