/* Job crm.log_call: write (upsert) the call log in the CRM, then record the outcome. */
#include <stdio.h>

#include "callbridge/jobs.h"
#include "callbridge/log.h"
#include "jobs/kinds.h"

enum cb_result cb_job_log_call(struct cb_job *job)
{
        struct cb_crm *crm = job->env->crm;
        char log_id[128] = "";
        json_t *call = NULL;
        struct cb_db *db = NULL;
        enum cb_result r = cb_job_load_call(job, &call);

        if (r != CB_RESULT_OK)
                goto out;
        r = crm->ops->log_call(crm->self, call, log_id, sizeof(log_id), job->error,
                               sizeof(job->error));
        if (r != CB_RESULT_OK)
                goto out;
        db = cb_job_db(job);
        if (db == NULL || cb_store_call_set_crm(db, job->row->call_id, crm->ops->logged_state,
                                                log_id[0] ? log_id : NULL) < 0) {
                /* The CRM write is idempotent, so running it again is safe. */
                snprintf(job->error, sizeof(job->error), "recording the CRM state failed");
                r = CB_RESULT_RETRY;
        }
out:
        cb_db_release(&db);
        json_decref(call);
        return r;
}

void cb_job_log_call_dead(struct cb_job *job)
{
        struct cb_db *db = cb_db_acquire(job->env->pool, 2000);

        if (db == NULL || cb_store_call_set_crm(db, job->row->call_id, "failed", NULL) < 0)
                cb_warn("could not mark call %s as failed in the CRM state", job->row->call_id);
        cb_db_release(&db);
}
