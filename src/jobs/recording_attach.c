/* Job crm.attach_recording {"recording_id"}: give the CRM call log the stable link
 * /r/{recording_id} on callbridge (never a provider URL), the duration and the size. The
 * attach is an idempotent update of the call's log, so the job may run again. Jobs claimed
 * together with other CRM jobs are written together (crm_batch.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbridge/jobs.h"
#include "kinds.h"

/* What to attach for the job: OK with *fields (new reference) to write, or OK with NULL when
 * there is nothing to write; else RETRY/WAIT/FAIL with job->error. `call` is loaded. */
static enum cb_result prepare(struct cb_job *job, struct cb_call *call, json_t **fields)
{
        json_t *rec = NULL;
        char url[1024];
        enum cb_result r = cb_job_load_recording(job, &rec);

        *fields = NULL;
        if (r != CB_RESULT_OK)
                goto out;
        if (strcmp(json_string_value(json_object_get(rec, "state")) ?: "", "stored") != 0)
                goto out; /* deleted meanwhile: the link would only say 410 */
        r = cb_job_load_call(job, call);
        if (r != CB_RESULT_OK || cb_job_log_first(job, call, &r))
                goto out;
        if (strcmp(call->crm_recording_id,
                   json_string_value(json_object_get(rec, "recording_id")) ?: "") == 0)
                goto out; /* write_mode = single: the call log was written with it */
        snprintf(url, sizeof(url), "%s/r/%s", job->env->cfg->server.public_url,
                 json_string_value(json_object_get(rec, "recording_id")));
        *fields = json_pack("{s:s,s:O}", "recording_url", url, "recording_bytes",
                            json_object_get(rec, "bytes"));
        if (*fields != NULL && json_is_integer(json_object_get(rec, "duration_s")))
                json_object_set(*fields, "recording_seconds", json_object_get(rec, "duration_s"));
        if (*fields == NULL) {
                snprintf(job->error, sizeof(job->error), "out of memory");
                r = CB_RESULT_RETRY;
        }
out:
        json_decref(rec);
        return r;
}

enum cb_result cb_job_recording_attach(struct cb_job *job)
{
        struct cb_crm *crm = job->env->crm;
        struct cb_call call;
        json_t *fields = NULL;
        enum cb_result r = prepare(job, &call, &fields);

        if (r == CB_RESULT_OK && fields != NULL)
                r = crm->ops->attach(crm->self, &call, fields, CB_CRM_PRIO_HIGH, job->error,
                                     sizeof(job->error));
        json_decref(fields);
        return r;
}

enum cb_result cb_job_recording_attach_prepare(struct cb_job *job, struct cb_job_crm *ctx,
                                               struct cb_job_crm_batch *batch)
{
        json_t *fields = NULL;
        enum cb_result r = prepare(job, &ctx->call, &fields);
        struct cb_crm_item item = {.call = &ctx->call, .fields = fields, .prio = CB_CRM_PRIO_HIGH};

        ctx->hold = fields; /* freed by the runner */
        if (r == CB_RESULT_OK && fields != NULL &&
            cb_job_crm_add(batch, ctx, CB_JOB_CRM_ATTACH, &item) != 0) {
                snprintf(job->error, sizeof(job->error), "out of memory");
                r = CB_RESULT_RETRY;
        }
        return r;
}
