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

/* The analysis's fields for the call log: `high` (transcript, sentiment, intent, entities)
 * and `low` (tags, keywords, summary: held back while the API budget is tight). New
 * references; false when out of memory (both NULL). */
static bool analysis_fields(const json_t *t, const json_t *doc, json_t **high, json_t **low)
{
        const json_t *clean = json_object_get(doc, "clean_text");

        *high = json_pack("{s:O,s:O,s:O,s:O,s:O*}", "transcript",
                          clean ? clean : json_object_get(json_object_get(doc, "result"), "text"),
                          "sentiment", json_object_get(t, "sentiment"), "sentiment_label",
                          json_object_get(t, "sentiment_label"), "intent",
                          json_object_get(t, "intent"), "entities", json_object_get(t, "entities"));
        *low =
            json_pack("{s:O,s:O,s:O}", "tags", json_object_get(t, "tags"), "keywords",
                      json_object_get(t, "keywords"), "summary", json_object_get(doc, "summary"));
        if (*high == NULL || *low == NULL) {
                json_decref(*high);
                json_decref(*low);
                *high = *low = NULL;
                return false;
        }
        return true;
}

static enum cb_result attach(struct cb_job *job, const struct cb_call *call, const json_t *t,
                             const json_t *doc)
{
        struct cb_crm *crm = job->env->crm;
        json_t *high, *low;
        enum cb_result r = CB_RESULT_RETRY;

        if (analysis_fields(t, doc, &high, &low)) {
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

/* The follow-up tasks the rules asked for: [{"key","task"}] (new reference; NULL when out of
 * memory), each once per call and rule (key "<call id>:<rule>"), due as the rule says in the
 * org's time zone. */
static json_t *follow_up_tasks(const struct cb_job *job, const json_t *t)
{
        const json_t *f;
        time_t now = time(NULL);
        struct tm tm;
        char today[16], due[11], key[CB_UUID_LEN + 80];
        json_t *out = json_array();
        size_t i;

        localtime_r(&now, &tm); /* the process TZ is the CRM org's (its provider sets it) */
        strftime(today, sizeof(today), "%Y-%m-%d", &tm);
        json_array_foreach(json_object_get(t, "follow_ups"), i, f)
        {
                const char *rule = json_string_value(json_object_get(f, "rule"));
                const char *when = json_string_value(json_object_get(f, "due"));
                json_t *task;

                if (rule == NULL || out == NULL)
                        continue;
                snprintf(key, sizeof(key), "%s:%.64s", job->row->call_id, rule);
                task = json_pack("{s:O,s:O}", "subject", json_object_get(f, "subject"),
                                 "description", json_object_get(f, "description"));
                /* The rule's priority (High, Normal, Low) travels with the task. */
                if (task != NULL && json_is_string(json_object_get(f, "priority")))
                        json_object_set(task, "priority", json_object_get(f, "priority"));
                if (task != NULL && when != NULL && cb_nlp_due_date(when, today, due) == 0)
                        json_object_set_new(task, "due_date", json_string(due));
                if (task == NULL ||
                    json_array_append_new(out, json_pack("{s:s,s:o}", "key", key, "task", task))) {
                        json_decref(out);
                        out = NULL;
                }
        }
        return out;
}

static enum cb_result follow_ups(struct cb_job *job, const struct cb_call *call, const json_t *t)
{
        struct cb_crm *crm = job->env->crm;
        json_t *tasks = follow_up_tasks(job, t), *e;
        char task_id[CB_CRM_ID_MAX];
        enum cb_result r = tasks ? CB_RESULT_OK : CB_RESULT_RETRY;
        size_t i;

        if (tasks == NULL)
                snprintf(job->error, sizeof(job->error), "out of memory");
        json_array_foreach(tasks, i, e)
        {
                r = crm->ops->create_task(crm->self, call,
                                          json_string_value(json_object_get(e, "key")),
                                          json_object_get(e, "task"), task_id, sizeof(task_id),
                                          job->error, sizeof(job->error));
                if (r != CB_RESULT_OK)
                        break;
        }
        json_decref(tasks);
        return r;
}

/* Load the job's transcript, document and call; OK with *attach false when the call log
 * carries this analysis already (write_mode = single), WAIT while single write holds it. */
static enum cb_result prepare(struct cb_job *job, struct cb_call *call, json_t **t, json_t **doc,
                              bool *attach_needed)
{
        enum cb_result r = load(job, t, doc);

        *attach_needed = false;
        if (r == CB_RESULT_OK)
                r = cb_job_load_call(job, call);
        if (r == CB_RESULT_OK && cb_job_log_first(job, call, &r))
                return r;
        /* write_mode = single: the call log was written with this analysis already. */
        *attach_needed = r == CB_RESULT_OK &&
                         strcmp(call->crm_transcript_id,
                                json_string_value(json_object_get(*t, "transcript_id")) ?: "") != 0;
        return r;
}

/* The write-back is over: note it on the transcript, observe the stages. */
static enum cb_result written(struct cb_job *job, const json_t *t)
{
        static const char *const stage_names[5] = {"stored", "transcribed", "analysed",
                                                   "crm_written", "total"};
        struct cb_db *db = cb_job_db(job);
        double stages[5];

        if (db == NULL ||
            cb_store_transcript_written(db, json_string_value(json_object_get(t, "transcript_id")),
                                        stages) < 0) {
                cb_db_release(&db);
                snprintf(job->error, sizeof(job->error), "recording the write-back failed");
                return CB_RESULT_RETRY;
        }
        cb_db_release(&db);
        for (int i = 0; i < 5; i++)
                cb_pipeline_observe(stage_names[i], stages[i]);
        return CB_RESULT_OK;
}

enum cb_result cb_job_write_analysis(struct cb_job *job)
{
        json_t *t = NULL, *doc = NULL;
        struct cb_call call;
        bool attach_needed;
        enum cb_result r = prepare(job, &call, &t, &doc, &attach_needed);

        if (r == CB_RESULT_OK && attach_needed)
                r = attach(job, &call, t, doc);
        if (r == CB_RESULT_OK)
                r = follow_ups(job, &call, t);
        if (r == CB_RESULT_OK)
                r = written(job, t);
        json_decref(doc);
        json_decref(t);
        return r;
}

/* Add `f` (NULL: nothing) as an attach of priority `prio`; false when out of memory. */
static bool add_attach(struct cb_job_crm *ctx, struct cb_job_crm_batch *batch, const json_t *f,
                       enum cb_crm_priority prio)
{
        struct cb_crm_item item = {.call = &ctx->call, .fields = f, .prio = prio};

        return f == NULL || cb_job_crm_add(batch, ctx, CB_JOB_CRM_ATTACH, &item) == 0;
}

/* The job's writes in the CRM batch: its high- and low-priority attach (the low one is left
 * out, WAIT, while the API budget holds it) and its follow-up tasks. `ctx->hold` keeps
 * {"t","high"?,"low"?,"tasks"} for the items and for settle. */
enum cb_result cb_job_write_analysis_prepare(struct cb_job *job, struct cb_job_crm *ctx,
                                             struct cb_job_crm_batch *batch)
{
        json_t *t = NULL, *doc = NULL, *high = NULL, *low = NULL, *tasks = NULL, *e;
        bool attach_needed = false, ok;
        enum cb_result r = prepare(job, &ctx->call, &t, &doc, &attach_needed);
        size_t i;

        if (r != CB_RESULT_OK)
                goto out;
        ok = (!attach_needed || analysis_fields(t, doc, &high, &low)) &&
             (tasks = follow_up_tasks(job, t)) != NULL &&
             (ctx->hold = json_pack("{s:O,s:O*,s:O*,s:O}", "t", t, "high", high, "low", low,
                                    "tasks", tasks)) != NULL &&
             add_attach(ctx, batch, high, CB_CRM_PRIO_HIGH) &&
             add_attach(ctx, batch, low, CB_CRM_PRIO_LOW);
        json_array_foreach(ok ? tasks : NULL, i, e)
        {
                struct cb_crm_item item = {.call = &ctx->call,
                                           .key = json_string_value(json_object_get(e, "key")),
                                           .fields = json_object_get(e, "task")};
                if (cb_job_crm_add(batch, ctx, CB_JOB_CRM_TASK, &item) != 0)
                        ok = false;
        }
        if (!ok) {
                snprintf(job->error, sizeof(job->error), "out of memory");
                r = CB_RESULT_RETRY;
        }
out:
        json_decref(t);
        json_decref(doc);
        json_decref(high);
        json_decref(low);
        json_decref(tasks);
        return r;
}

enum cb_result cb_job_write_analysis_settle(struct cb_job *job, struct cb_job_crm *ctx,
                                            const struct cb_crm_batch *batch)
{
        enum cb_result r = cb_job_crm_outcome(job, ctx, batch);

        return r == CB_RESULT_OK ? written(job, json_object_get(ctx->hold, "t")) : r;
}
