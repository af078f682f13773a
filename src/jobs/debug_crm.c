/* Debug job kinds that drive the CRM interface's writes before their real callers exist
 * (recordings, transcription), for the provider tests ([workers] debug_kinds = true only).
 * debug.crm_attach {"fields":{...},"low_priority":bool} attaches to the job's call;
 * debug.crm_task {"key","task":{...}} creates a follow-up task for it; the jobs of a kind a
 * worker claims together go as one batch (cb_crm_attach_many, cb_crm_create_tasks), as
 * crm.write_analysis's and crm.follow_up's. */
#include <stdio.h>
#include <stdlib.h>

#include "callbridge/jobs.h"
#include "kinds.h"

enum cb_result cb_job_debug_crm_attach(struct cb_job *job)
{
        struct cb_crm *crm = job->env->crm;
        const json_t *p = job->row->payload;
        enum cb_crm_priority prio =
            json_is_true(json_object_get(p, "low_priority")) ? CB_CRM_PRIO_LOW : CB_CRM_PRIO_HIGH;
        struct cb_call call;
        enum cb_result r = cb_job_load_call(job, &call);

        if (r == CB_RESULT_OK)
                r = crm->ops->attach(crm->self, &call, json_object_get(p, "fields"), prio,
                                     job->error, sizeof(job->error));
        return r;
}

/* Each item's outcome to its job (`map`: the job of each item). */
static void take_results(struct cb_job *jobs, enum cb_result *res, const struct cb_crm_item *items,
                         const size_t *map, size_t k)
{
        for (size_t j = 0; j < k; j++) {
                res[map[j]] = items[j].result;
                if (items[j].result != CB_RESULT_OK)
                        cb_strlcpy(jobs[map[j]].error, items[j].err, sizeof(jobs[map[j]].error));
        }
}

void cb_job_debug_crm_attach_batch(struct cb_job *jobs, size_t n, enum cb_result *res)
{
        struct cb_call *calls = calloc(n ? n : 1, sizeof(*calls));
        struct cb_crm_item *items = calloc(n ? n : 1, sizeof(*items));
        size_t *map = calloc(n ? n : 1, sizeof(*map)), k = 0;

        for (size_t i = 0; i < n; i++) {
                const json_t *p = jobs[i].row->payload;
                if (calls == NULL || items == NULL || map == NULL) {
                        res[i] = cb_job_debug_crm_attach(&jobs[i]);
                        continue;
                }
                res[i] = cb_job_load_call(&jobs[i], &calls[i]);
                if (res[i] != CB_RESULT_OK)
                        continue;
                items[k] = (struct cb_crm_item){
                    .call = &calls[i],
                    .fields = json_object_get(p, "fields"),
                    .prio = json_is_true(json_object_get(p, "low_priority")) ? CB_CRM_PRIO_LOW
                                                                             : CB_CRM_PRIO_HIGH};
                map[k++] = i;
        }
        if (k > 0)
                cb_crm_attach_many(jobs[0].env->crm, items, k);
        take_results(jobs, res, items, map, k);
        free(calls);
        free(items);
        free(map);
}

enum cb_result cb_job_debug_crm_task(struct cb_job *job)
{
        struct cb_crm *crm = job->env->crm;
        const json_t *p = job->row->payload;
        const char *key = json_string_value(json_object_get(p, "key"));
        char task_id[CB_CRM_ID_MAX];
        struct cb_call call;
        enum cb_result r;

        if (key == NULL) {
                snprintf(job->error, sizeof(job->error), "payload needs a key");
                return CB_RESULT_FAIL;
        }
        r = cb_job_load_call(job, &call);
        if (r == CB_RESULT_OK)
                r = crm->ops->create_task(crm->self, &call, key, json_object_get(p, "task"),
                                          task_id, sizeof(task_id), job->error, sizeof(job->error));
        return r;
}

void cb_job_debug_crm_task_batch(struct cb_job *jobs, size_t n, enum cb_result *res)
{
        struct cb_call *calls = calloc(n ? n : 1, sizeof(*calls));
        struct cb_crm_item *items = calloc(n ? n : 1, sizeof(*items));
        size_t *map = calloc(n ? n : 1, sizeof(*map)), k = 0;

        for (size_t i = 0; i < n; i++) {
                const json_t *p = jobs[i].row->payload;
                const char *key = json_string_value(json_object_get(p, "key"));
                if (calls == NULL || items == NULL || map == NULL || key == NULL) {
                        res[i] = cb_job_debug_crm_task(&jobs[i]);
                        continue;
                }
                res[i] = cb_job_load_call(&jobs[i], &calls[i]);
                if (res[i] != CB_RESULT_OK)
                        continue;
                items[k] = (struct cb_crm_item){
                    .call = &calls[i], .key = key, .fields = json_object_get(p, "task")};
                map[k++] = i;
        }
        if (k > 0)
                cb_crm_create_tasks(jobs[0].env->crm, items, k);
        take_results(jobs, res, items, map, k);
        free(calls);
        free(items);
        free(map);
}
