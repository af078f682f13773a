/* Debug job kind that drives the agent states' disposition glue before its real caller
 * exists (POST /api/calls/{id}/disposition), for the tests ([workers] debug_kinds = true
 * only): debug.call_disposed runs cb_agent_status_call_disposed for the job's call, as the
 * disposition handler does once the call's disposition is written. */
#include <stdio.h>

#include "callbridge/agent_status.h"
#include "callbridge/jobs.h"
#include "kinds.h"

enum cb_result cb_job_debug_call_disposed(struct cb_job *job)
{
        struct cb_db *db = cb_job_db(job);
        enum cb_qs qs;

        if (db == NULL)
                return CB_RESULT_RETRY;
        qs = cb_agent_status_call_disposed(db, job->row->call_id);
        cb_db_release(&db);
        if (qs < 0) {
                snprintf(job->error, sizeof(job->error), "the wrap-up end job was not queued");
                return CB_RESULT_RETRY;
        }
        cb_jobs_wake(job->env->jobs);
        return CB_RESULT_OK;
}
