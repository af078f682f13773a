/* Job crm.write_analysis {"transcript_id"}: the analysis goes to the CRM call log — the
 * transcript (split across records as the provider needs), sentiment and intent first; tags,
 * keywords and the summary as low-priority writes (held back while the API budget is tight) —
 * then the follow-up tasks the rules asked for, each once per call and rule (key
 * "<call id>:<rule>"), due as the rule says in the org's time zone. Every write is an idempotent
 * update or a keyed create, so the job may run again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "callbridge/jobs.h"
#include "callbridge/log.h"
#include "callbridge/nlp.h"
#include "callbridge/store_transcripts.h"
#include "kinds.h"

static enum cb_result load(struct cb_job *job, json_t **t, json_t **doc)
{
        const char *id = json_string_value(json_object_get(job->row->payload, "transcript_id"));
        struct cb_db *db;
        char err[256];
        size_t len = 0;
        char *text;
        enum cb_qs qs;

        *t = *doc = NULL;
        if (!cb_uuid_valid(id)) {
                snprintf(job->error, sizeof(job->error), "payload has no transcript_id");
                return CB_RESULT_FAIL;
        }
        db = cb_job_db(job);
        if (db == NULL)
                return CB_RESULT_RETRY;
        qs = cb_store_transcript_get(db, id, t);
        cb_db_release(&db);
        if (qs <= 0) {
                snprintf(job->error, sizeof(job->error), "transcript %s %s", id,
                         qs == 0 ? "no longer exists" : "could not be loaded");
                return qs == 0 ? CB_RESULT_FAIL : CB_RESULT_RETRY;
        }
        text = cb_rec_doc_get(job->env->rec, json_string_value(json_object_get(*t, "storage_key")),
                              &len, err, sizeof(err));
        *doc = text ? json_loadb(text, len, 0, NULL) : NULL;
        free(text);
        if (*doc == NULL) {
                snprintf(job->error, sizeof(job->error), "reading the transcript: %s", err);
                return CB_RESULT_RETRY;
        }
        return CB_RESULT_OK;
}

static enum cb_result attach(struct cb_job *job, const struct cb_call *call, const json_t *t,
                             const json_t *doc)
{
        struct cb_crm *crm = job->env->crm;
        const json_t *clean = json_object_get(doc, "clean_text");
        json_t *high =
            json_pack("{s:O,s:O,s:O,s:O,s:O*}", "transcript",
                      clean ? clean : json_object_get(json_object_get(doc, "result"), "text"),
                      "sentiment", json_object_get(t, "sentiment"), "sentiment_label",
                      json_object_get(t, "sentiment_label"), "intent", json_object_get(t, "intent"),
                      "entities", json_object_get(t, "entities"));
        json_t *low =
            json_pack("{s:O,s:O,s:O}", "tags", json_object_get(t, "tags"), "keywords",
                      json_object_get(t, "keywords"), "summary", json_object_get(doc, "summary"));
        enum cb_result r = CB_RESULT_RETRY;

        if (high != NULL && low != NULL) {
                r = crm->ops->attach(crm->self, call, high, CB_CRM_PRIO_HIGH, job->error,
                                     sizeof(job->error));
                if (r == CB_RESULT_OK)
                        r = crm->ops->attach(crm->self, call, low, CB_CRM_PRIO_LOW, job->error,
                                             sizeof(job->error));
        }
        json_decref(high);
        json_decref(low);
        return r;
}

static enum cb_result follow_ups(struct cb_job *job, const struct cb_call *call, const json_t *t)
{
        struct cb_crm *crm = job->env->crm;
        const json_t *f;
        time_t now = time(NULL);
        struct tm tm;
        char today[16], due[11], key[CB_UUID_LEN + 80], task_id[CB_CRM_ID_MAX];
        size_t i;

        localtime_r(&now, &tm); /* the process TZ is the CRM org's (its provider sets it) */
        strftime(today, sizeof(today), "%Y-%m-%d", &tm);
        json_array_foreach(json_object_get(t, "follow_ups"), i, f)
        {
                const char *rule = json_string_value(json_object_get(f, "rule"));
                const char *when = json_string_value(json_object_get(f, "due"));
                json_t *task;
                enum cb_result r;

                if (rule == NULL)
                        continue;
                snprintf(key, sizeof(key), "%s:%.64s", job->row->call_id, rule);
                task = json_pack("{s:O,s:O}", "subject", json_object_get(f, "subject"),
                                 "description", json_object_get(f, "description"));
                /* The rule's priority (High, Normal, Low) travels with the task. */
                if (task != NULL && json_is_string(json_object_get(f, "priority")))
                        json_object_set(task, "priority", json_object_get(f, "priority"));
                if (task != NULL && when != NULL && cb_nlp_due_date(when, today, due) == 0)
                        json_object_set_new(task, "due_date", json_string(due));
                r = task ? crm->ops->create_task(crm->self, call, key, task, task_id,
                                                 sizeof(task_id), job->error, sizeof(job->error))
                         : CB_RESULT_RETRY;
                json_decref(task);
                if (r != CB_RESULT_OK)
                        return r;
        }
        return CB_RESULT_OK;
}

enum cb_result cb_job_write_analysis(struct cb_job *job)
{
        static const char *const stage_names[5] = {"stored", "transcribed", "analysed",
                                                   "crm_written", "total"};
        json_t *t = NULL, *doc = NULL;
        struct cb_call call;
        struct cb_db *db = NULL;
        double stages[5];
        enum cb_result r = load(job, &t, &doc);

        if (r == CB_RESULT_OK)
                r = cb_job_load_call(job, &call);
        if (r == CB_RESULT_OK && cb_job_log_first(job, &call, &r))
                goto out;
        /* write_mode = single: the call log was written with this analysis already. */
        if (r == CB_RESULT_OK &&
            strcmp(call.crm_transcript_id,
                   json_string_value(json_object_get(t, "transcript_id")) ?: "") != 0)
                r = attach(job, &call, t, doc);
        if (r == CB_RESULT_OK)
                r = follow_ups(job, &call, t);
        if (r != CB_RESULT_OK)
                goto out;
        db = cb_job_db(job);
        if (db == NULL ||
            cb_store_transcript_written(db, json_string_value(json_object_get(t, "transcript_id")),
                                        stages) < 0) {
                snprintf(job->error, sizeof(job->error), "recording the write-back failed");
                r = CB_RESULT_RETRY;
                goto out;
        }
        for (int i = 0; i < 5; i++)
                cb_pipeline_observe(stage_names[i], stages[i]);
out:
        cb_db_release(&db);
        json_decref(doc);
        json_decref(t);
        return r;
}
