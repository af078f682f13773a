/* Job crm.follow_up: a missed inbound call (no-answer or busy; [twilio] missed_call_task)
 * becomes a follow-up task in the CRM, due the day of the call in the org's time zone, owned
 * by the agent the call was routed to. Created once per call (key "<call id>:missed-call"), so
 * the job may run again. Jobs claimed together are written together (cb_crm_create_tasks). */
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

void cb_job_follow_up_batch(struct cb_job *jobs, size_t n, enum cb_result *res)
{
        struct cb_call *calls = calloc(n ? n : 1, sizeof(*calls));
        struct cb_crm_item *items = calloc(n ? n : 1, sizeof(*items));
        char(*keys)[KEY_MAX] = calloc(n ? n : 1, sizeof(*keys));
        size_t *map = calloc(n ? n : 1, sizeof(*map)), k = 0;

        for (size_t i = 0; i < n; i++) {
                json_t *task = NULL;
                if (calls == NULL || items == NULL || keys == NULL || map == NULL) {
                        res[i] = cb_job_follow_up(&jobs[i]); /* out of memory */
                        continue;
                }
                res[i] = prepare(&jobs[i], &calls[i], keys[i], &task);
                if (res[i] != CB_RESULT_OK)
                        continue;
                items[k] = (struct cb_crm_item){.call = &calls[i], .fields = task, .key = keys[i]};
                map[k++] = i;
        }
        if (k > 0)
                cb_crm_create_tasks(jobs[0].env->crm, items, k);
        for (size_t j = 0; j < k; j++) {
                res[map[j]] = items[j].result;
                if (items[j].result != CB_RESULT_OK)
                        cb_strlcpy(jobs[map[j]].error, items[j].err, sizeof(jobs[map[j]].error));
                json_decref((json_t *)items[j].fields);
        }
        free(calls);
        free(items);
        free(keys);
        free(map);
}
