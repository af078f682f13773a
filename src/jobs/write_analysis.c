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

/* One job of a batch while it runs. */
struct wa_job {
        struct cb_call call;
        json_t *t, *doc, *high, *low, *tasks;
};

/* Give the outcomes of `items[0..k)` (those of jobs `map`) to the jobs that are still OK. */
static void take_results(struct cb_job *jobs, enum cb_result *res, const struct cb_crm_item *items,
                         const size_t *map, size_t k)
{
        for (size_t j = 0; j < k; j++)
                if (items[j].result != CB_RESULT_OK && res[map[j]] == CB_RESULT_OK) {
                        res[map[j]] = items[j].result;
                        cb_strlcpy(jobs[map[j]].error, items[j].err, sizeof(jobs[map[j]].error));
                }
}

/* The attach of the jobs still OK: their high- and low-priority fields as the items of one
 * batch (a provider writes the high ones first and may hold the low ones back for the API
 * budget; HubSpot's writes a call's two in one input while the budget allows). */
static void attach_all(struct cb_job *jobs, enum cb_result *res, struct wa_job *w, size_t n,
                       struct cb_crm_item *items, size_t *map)
{
        size_t k = 0;

        for (int p = CB_CRM_PRIO_HIGH; p <= CB_CRM_PRIO_LOW; p++)
                for (size_t i = 0; i < n; i++) {
                        json_t *f = p == CB_CRM_PRIO_HIGH ? w[i].high : w[i].low;
                        if (res[i] != CB_RESULT_OK || f == NULL)
                                continue;
                        items[k] = (struct cb_crm_item){
                            .call = &w[i].call, .fields = f, .prio = (enum cb_crm_priority)p};
                        map[k++] = i;
                }
        cb_crm_attach_many(jobs[0].env->crm, items, k);
        take_results(jobs, res, items, map, k);
}

/* The follow-up tasks of the jobs still OK, in one batch; `items`/`map` hold `cap`. */
static void tasks_all(struct cb_job *jobs, enum cb_result *res, struct wa_job *w, size_t n,
                      struct cb_crm_item *items, size_t *map, size_t cap)
{
        json_t *e;
        size_t k = 0, j;

        for (size_t i = 0; i < n; i++)
                json_array_foreach(res[i] == CB_RESULT_OK ? w[i].tasks : NULL, j, e)
                {
                        if (k == cap)
                                break;
                        items[k] = (struct cb_crm_item){
                            .call = &w[i].call,
                            .key = json_string_value(json_object_get(e, "key")),
                            .fields = json_object_get(e, "task")};
                        map[k++] = i;
                }
        cb_crm_create_tasks(jobs[0].env->crm, items, k);
        take_results(jobs, res, items, map, k);
}

void cb_job_write_analysis_batch(struct cb_job *jobs, size_t n, enum cb_result *res)
{
        struct wa_job *w = calloc(n ? n : 1, sizeof(*w));
        size_t cap = 0;
        struct cb_crm_item *items = NULL;
        size_t *map = NULL;

        for (size_t i = 0; w != NULL && i < n; i++) {
                bool attach_needed = false;
                res[i] = prepare(&jobs[i], &w[i].call, &w[i].t, &w[i].doc, &attach_needed);
                if (res[i] == CB_RESULT_OK && attach_needed &&
                    !analysis_fields(w[i].t, w[i].doc, &w[i].high, &w[i].low))
                        res[i] = CB_RESULT_RETRY;
                if (res[i] == CB_RESULT_OK &&
                    (w[i].tasks = follow_up_tasks(&jobs[i], w[i].t)) == NULL)
                        res[i] = CB_RESULT_RETRY;
                if (res[i] == CB_RESULT_RETRY && jobs[i].error[0] == '\0')
                        snprintf(jobs[i].error, sizeof(jobs[i].error), "out of memory");
                cap += w[i].tasks ? json_array_size(w[i].tasks) : 0;
        }
        cap = cap > 2 * n ? cap : 2 * n; /* a job's high and low fields are two items */
        items = calloc(cap ? cap : 1, sizeof(*items));
        map = calloc(cap ? cap : 1, sizeof(*map));
        for (size_t i = 0; i < n; i++)
                if (w == NULL || items == NULL || map == NULL)
                        res[i] = cb_job_write_analysis(&jobs[i]); /* out of memory: one by one */
        if (w != NULL && items != NULL && map != NULL) {
                attach_all(jobs, res, w, n, items, map);
                tasks_all(jobs, res, w, n, items, map, cap);
                for (size_t i = 0; i < n; i++)
                        if (res[i] == CB_RESULT_OK)
                                res[i] = written(&jobs[i], w[i].t);
        }
        for (size_t i = 0; w != NULL && i < n; i++) {
                json_decref(w[i].t);
                json_decref(w[i].doc);
                json_decref(w[i].high);
                json_decref(w[i].low);
                json_decref(w[i].tasks);
        }
        free(w);
        free(items);
        free(map);
}
