/* Job crm.follow_up: a missed inbound call (no-answer or busy; [twilio] missed_call_task)
 * becomes a follow-up task in the CRM, due the day of the call in the org's time zone, owned
 * by the agent the call was routed to. Created once per call (key "<call id>:missed-call"), so
 * the job may run again. Jobs claimed together with other CRM jobs are written together
 * (crm_batch.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "callbridge/jobs.h"
#include "kinds.h"

#define KEY_MAX (CB_UUID_LEN + 16)

/* The job's task: OK with *task (new reference) and `key`, or RETRY/FAIL with job->error. */
static enum cb_result prepare(struct cb_job *job, struct cb_call *call, char key[KEY_MAX],
                              json_t **task)
{
        char day[16], subject[128];
        time_t now = time(NULL);
        struct tm tm;
        enum cb_result r = cb_job_load_call(job, call);

        *task = NULL;
        if (r != CB_RESULT_OK)
                return r;
        localtime_r(&now, &tm); /* the process TZ is the CRM org's (its provider sets it) */
        strftime(day, sizeof(day), "%Y-%m-%d", &tm);
        snprintf(key, KEY_MAX, "%s:missed-call", job->row->call_id);
        snprintf(subject, sizeof(subject), "Call back %s (missed call)",
                 call->from[0] ? call->from : "caller");
        *task =
            json_pack("{s:s,s:s,s:s}", "subject", subject, "description",
                      call->status == CB_CALL_BUSY ? "Inbound call not taken: every agent was busy."
                                                   : "Inbound call not answered.",
                      "due_date", day);
        if (*task == NULL) {
                snprintf(job->error, sizeof(job->error), "out of memory");
                return CB_RESULT_RETRY;
        }
        return CB_RESULT_OK;
}

enum cb_result cb_job_follow_up(struct cb_job *job)
{
        struct cb_crm *crm = job->env->crm;
        char key[KEY_MAX], task_id[CB_CRM_ID_MAX];
        struct cb_call call;
        json_t *task = NULL;
        enum cb_result r = prepare(job, &call, key, &task);

        if (r == CB_RESULT_OK)
                r = crm->ops->create_task(crm->self, &call, key, task, task_id, sizeof(task_id),
                                          job->error, sizeof(job->error));
        json_decref(task);
        return r;
}

enum cb_result cb_job_follow_up_prepare(struct cb_job *job, struct cb_job_crm *ctx,
                                        struct cb_job_crm_batch *batch)
{
        char key[KEY_MAX];
        json_t *task = NULL;
        enum cb_result r = prepare(job, &ctx->call, key, &task);
        struct cb_crm_item item = {.call = &ctx->call, .fields = task};

        if (r != CB_RESULT_OK)
                return r;
        /* The item borrows the key and the task from `hold` (freed by the runner). */
        ctx->hold = json_pack("{s:s,s:o}", "key", key, "task", task);
        item.key = json_string_value(json_object_get(ctx->hold, "key"));
        if (ctx->hold == NULL || cb_job_crm_add(batch, ctx, CB_JOB_CRM_TASK, &item) != 0) {
                snprintf(job->error, sizeof(job->error), "out of memory");
                return CB_RESULT_RETRY;
        }
        return CB_RESULT_OK;
}
