/* Job crm.attach_recording {"recording_id"}: give the CRM call log the stable link
 * /r/{recording_id} on callbridge (never a provider URL), the duration and the size. The
 * attach is an idempotent update of the call's log, so the job may run again. Jobs claimed
 * together are written together (cb_crm_attach_many). */
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

void cb_job_recording_attach_batch(struct cb_job *jobs, size_t n, enum cb_result *res)
{
        struct cb_call *calls = calloc(n ? n : 1, sizeof(*calls));
        struct cb_crm_item *items = calloc(n ? n : 1, sizeof(*items));
        size_t *map = calloc(n ? n : 1, sizeof(*map)), k = 0;

        for (size_t i = 0; i < n; i++) {
                json_t *fields = NULL;
                if (calls == NULL || items == NULL || map == NULL) {
                        res[i] = cb_job_recording_attach(&jobs[i]); /* out of memory */
                        continue;
                }
                res[i] = prepare(&jobs[i], &calls[i], &fields);
                if (res[i] != CB_RESULT_OK || fields == NULL)
                        continue;
                items[k] = (struct cb_crm_item){
                    .call = &calls[i], .fields = fields, .prio = CB_CRM_PRIO_HIGH};
                map[k++] = i;
        }
        if (k > 0)
                cb_crm_attach_many(jobs[0].env->crm, items, k);
        for (size_t j = 0; j < k; j++) {
                res[map[j]] = items[j].result;
                if (items[j].result != CB_RESULT_OK)
                        cb_strlcpy(jobs[map[j]].error, items[j].err, sizeof(jobs[map[j]].error));
                json_decref((json_t *)items[j].fields);
        }
        free(calls);
        free(items);
        free(map);
}
