/* Job crm.follow_up: a missed inbound call (no-answer or busy; [twilio] missed_call_task)
 * becomes a follow-up task in the CRM, due the day of the call in the org's time zone, owned
 * by the agent the call was routed to. Created once per call (key "<call id>:missed-call"), so
 * the job may run again. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "callbridge/jobs.h"
#include "kinds.h"

enum cb_result cb_job_follow_up(struct cb_job *job)
{
        struct cb_crm *crm = job->env->crm;
        char key[CB_UUID_LEN + 16];
        char task_id[CB_CRM_ID_MAX];
        char day[16];
        char subject[128];
        struct cb_call call;
        json_t *task = NULL;
        time_t now = time(NULL);
        struct tm tm;
        enum cb_result r = cb_job_load_call(job, &call);

        if (r != CB_RESULT_OK)
                return r;
        localtime_r(&now, &tm); /* the process TZ is the CRM org's (its provider sets it) */
        strftime(day, sizeof(day), "%Y-%m-%d", &tm);
        snprintf(key, sizeof(key), "%s:missed-call", job->row->call_id);
        snprintf(subject, sizeof(subject), "Call back %s (missed call)",
                 call.from[0] ? call.from : "caller");
        task =
            json_pack("{s:s,s:s,s:s}", "subject", subject, "description",
                      call.status == CB_CALL_BUSY ? "Inbound call not taken: every agent was busy."
                                                  : "Inbound call not answered.",
                      "due_date", day);
        if (task == NULL) {
                snprintf(job->error, sizeof(job->error), "out of memory");
                r = CB_RESULT_RETRY;
        } else {
                r = crm->ops->create_task(crm->self, &call, key, task, task_id, sizeof(task_id),
                                          job->error, sizeof(job->error));
        }
        json_decref(task);
        return r;
}
