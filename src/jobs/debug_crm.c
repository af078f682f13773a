/* Debug job kinds that drive the CRM interface's writes before their real callers exist
 * (recordings, transcription), for the provider tests ([workers] debug_kinds = true only).
 * debug.crm_attach {"fields":{...},"low_priority":bool} attaches to the job's call;
 * debug.crm_task {"key","task":{...}} creates a follow-up task for it; the jobs of these kinds a
 * worker claims go with its other CRM jobs as one batch (crm_batch.c), as crm.follow_up's. */
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

enum cb_result cb_job_debug_crm_attach_prepare(struct cb_job *job, struct cb_job_crm *ctx,
                                               struct cb_job_crm_batch *batch)
{
        const json_t *p = job->row->payload;
        struct cb_crm_item item = {.call = &ctx->call,
                                   .fields = json_object_get(p, "fields"),
                                   .prio = json_is_true(json_object_get(p, "low_priority"))
                                               ? CB_CRM_PRIO_LOW
                                               : CB_CRM_PRIO_HIGH};
        enum cb_result r = cb_job_load_call(job, &ctx->call);

        if (r == CB_RESULT_OK && cb_job_crm_add(batch, ctx, CB_JOB_CRM_ATTACH, &item) != 0) {
                snprintf(job->error, sizeof(job->error), "out of memory");
                r = CB_RESULT_RETRY;
        }
        return r;
}

enum cb_result cb_job_debug_crm_task_prepare(struct cb_job *job, struct cb_job_crm *ctx,
                                             struct cb_job_crm_batch *batch)
{
        const json_t *p = job->row->payload;
        struct cb_crm_item item = {.call = &ctx->call,
                                   .key = json_string_value(json_object_get(p, "key")),
                                   .fields = json_object_get(p, "task")};
        enum cb_result r;

        if (item.key == NULL) {
                snprintf(job->error, sizeof(job->error), "payload needs a key");
                return CB_RESULT_FAIL;
        }
        r = cb_job_load_call(job, &ctx->call);
        if (r == CB_RESULT_OK && cb_job_crm_add(batch, ctx, CB_JOB_CRM_TASK, &item) != 0) {
                snprintf(job->error, sizeof(job->error), "out of memory");
                r = CB_RESULT_RETRY;
        }
        return r;
}
