/* Job recording.provider_delete {"recording_id"}: delete the provider's copy of a recording
 * ([twilio] delete_after_download). Queued only by the statement that records our copy as
 * stored, and it checks that again: the provider's copy never goes before ours is durable. */
#include <stdio.h>
#include <string.h>

#include "callbridge/jobs.h"
#include "callbridge/store_recordings.h"
#include "kinds.h"

enum cb_result cb_job_recording_provider_delete(struct cb_job *job)
{
        struct cb_telephony *tel = job->env->tel;
        json_t *rec = NULL;
        struct cb_db *db = NULL;
        const char *sid, *state;
        enum cb_result r = cb_job_load_recording(job, &rec);

        if (r != CB_RESULT_OK)
                goto out;
        sid = json_string_value(json_object_get(rec, "provider_sid"));
        state = json_string_value(json_object_get(rec, "state"));
        if (json_is_true(json_object_get(rec, "provider_deleted")) || sid == NULL)
                goto out;
        if (state == NULL || (strcmp(state, "stored") != 0 && strcmp(state, "deleted") != 0)) {
                snprintf(job->error, sizeof(job->error), "our copy is not stored (%s)",
                         state ? state : "?");
                r = CB_RESULT_FAIL;
                goto out;
        }
        if (tel->ops->delete_recording == NULL)
                goto out;
        r = tel->ops->delete_recording(tel->self, sid, job->error, sizeof(job->error));
        if (r != CB_RESULT_OK)
                goto out;
        db = cb_job_db(job);
        if (db == NULL || cb_store_recording_provider_deleted(
                              db, json_string_value(json_object_get(rec, "recording_id"))) < 0) {
                snprintf(job->error, sizeof(job->error), "recording the deletion failed");
                r = CB_RESULT_RETRY; /* deleting again is harmless */
        }
out:
        cb_db_release(&db);
        json_decref(rec);
        return r;
}
