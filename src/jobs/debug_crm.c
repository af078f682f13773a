/* Debug job kinds that drive the CRM interface's writes before their real callers exist
 * (recordings, transcription), for the provider tests ([workers] debug_kinds = true only).
 * debug.crm_attach {"fields":{...},"low_priority":bool} attaches to the job's call;
 * debug.crm_task {"key","task":{...}} creates a follow-up task for it. */
#include <stdio.h>

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
