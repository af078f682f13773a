/* Before recording.fetch downloads a recording someone named by URL (POST /api/call/record's
 * URL form), the provider must say it is this call's recording: the URL only proves it is in
 * our account, and an agent could name another agent's. A recording the provider announced
 * itself (a signed status callback, which carries its provider_sid) needs no check. */
#include <stdio.h>
#include <string.h>

#include "callbridge/log.h"
#include "kinds.h"

enum cb_result cb_job_recording_check_source(struct cb_job *job, const json_t *rec)
{
        const struct cb_telephony *tel = job->env->tel;
        const char *url = json_string_value(json_object_get(rec, "source_url"));
        const char *want;
        char sid[CB_TWILIO_RE_SID_LEN + 1], got[64];
        struct cb_call call;
        enum cb_result r;

        if (json_is_string(json_object_get(rec, "provider_sid")))
                return CB_RESULT_OK;
        if (tel->ops->recording_url_sid == NULL || tel->ops->recording_call_id == NULL ||
            url == NULL || !tel->ops->recording_url_sid(tel->self, url, sid)) {
                snprintf(job->error, sizeof(job->error),
                         "not a recording of our telephony account; nothing fetched");
                return CB_RESULT_FAIL;
        }
        r = cb_job_load_call(job, &call);
        if (r != CB_RESULT_OK)
                return r;
        want = call.provider_call_id;
        if (want[0] == '\0') {
                snprintf(job->error, sizeof(job->error), "the call has no provider call id");
                return CB_RESULT_FAIL;
        }
        r = tel->ops->recording_call_id(tel->self, sid, got, sizeof(got), job->error,
                                        sizeof(job->error));
        if (r == CB_RESULT_OK && strcmp(got, want) != 0) {
                snprintf(job->error, sizeof(job->error),
                         "recording %s belongs to another call, not this call's %s; nothing "
                         "fetched",
                         sid, want);
                cb_warn("recording %s: %s", json_string_value(json_object_get(rec, "recording_id")),
                        job->error);
                r = CB_RESULT_FAIL;
        }
        return r;
}
