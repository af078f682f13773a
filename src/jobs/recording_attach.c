/* Job crm.attach_recording {"recording_id"}: give the CRM call log the stable link
 * /r/{recording_id} on callbridge (never a provider URL), the duration and the size. The
 * attach is an idempotent update of the call's log, so the job may run again. */
#include <stdio.h>
#include <string.h>

#include "callbridge/jobs.h"
#include "kinds.h"

enum cb_result cb_job_recording_attach(struct cb_job *job)
{
        struct cb_crm *crm = job->env->crm;
        json_t *rec = NULL, *fields = NULL;
        struct cb_call call;
        char url[1024];
        enum cb_result r = cb_job_load_recording(job, &rec);

        if (r != CB_RESULT_OK)
                goto out;
        if (strcmp(json_string_value(json_object_get(rec, "state")) ?: "", "stored") != 0)
                goto out; /* deleted meanwhile: the link would only say 410 */
        r = cb_job_load_call(job, &call);
        if (r != CB_RESULT_OK || cb_job_log_first(job, &call, &r))
                goto out;
        if (strcmp(call.crm_recording_id,
                   json_string_value(json_object_get(rec, "recording_id")) ?: "") == 0)
                goto out; /* write_mode = single: the call log was written with it */
        snprintf(url, sizeof(url), "%s/r/%s", job->env->cfg->server.public_url,
                 json_string_value(json_object_get(rec, "recording_id")));
        fields = json_pack("{s:s,s:O}", "recording_url", url, "recording_bytes",
                           json_object_get(rec, "bytes"));
        if (fields != NULL && json_is_integer(json_object_get(rec, "duration_s")))
                json_object_set(fields, "recording_seconds", json_object_get(rec, "duration_s"));
        if (fields == NULL) {
                snprintf(job->error, sizeof(job->error), "out of memory");
                r = CB_RESULT_RETRY;
                goto out;
        }
        r = crm->ops->attach(crm->self, &call, fields, CB_CRM_PRIO_HIGH, job->error,
                             sizeof(job->error));
out:
        json_decref(fields);
        json_decref(rec);
        return r;
}
