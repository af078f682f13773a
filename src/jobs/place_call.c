/* Job telephony.place_call: ask the telephony provider to dial the call. */
#include "callbridge/jobs.h"
#include "jobs/kinds.h"

enum cb_result cb_job_place_call(struct cb_job *job)
{
        struct cb_telephony *tel = job->env->tel;
        char provider_id[128] = "";
        json_t *call = NULL;
        enum cb_result r = cb_job_load_call(job, &call);

        if (r == CB_RESULT_OK)
                r = tel->ops->place_call(tel->self, call, provider_id, sizeof(provider_id),
                                         job->error, sizeof(job->error));
        json_decref(call);
        return r;
}
