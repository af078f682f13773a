/* POST /webhooks/twilio/recording: a recording status callback (signature already checked).
 * A completed recording is recorded once per RecordingSid on its call, with the URL Twilio
 * serves it at, and a recording.fetch job downloads, seals and stores it. Other
 * statuses (in-progress, absent, failed) are logged and answered 204. */
#include <string.h>

#include "callbridge/log.h"
#include "callbridge/store.h"
#include "handlers/handlers.h"
#include "twilio_calls.h"

enum MHD_Result cb_handle_twilio_recording(struct cb_request *req)
{
        const char *call_id = cb_request_arg(req, "call_id");
        const char *status = cb_webhook_param(req, "RecordingStatus");
        const char *duration = cb_webhook_param(req, "RecordingDuration");
        struct cb_recording_new rec = {
            .call_id = call_id,
            .provider = req->env->tel->ops->name,
            .provider_call_id = cb_webhook_param(req, "CallSid"),
            .provider_sid = cb_webhook_param(req, "RecordingSid"),
            .source_url = cb_webhook_param(req, "RecordingUrl"),
            .duration_s = -1,
        };
        char call[CB_UUID_LEN + 1];
        struct cb_db *db;
        bool created = false;
        enum cb_qs qs;

        if (call_id != NULL && !cb_uuid_valid(call_id))
                return cb_reply_error(req, CB_ERR_INVALID_QUERY, "call_id is not a call id");
        if (rec.provider_sid == NULL || rec.provider_call_id == NULL || status == NULL)
                return cb_reply_error(req, CB_ERR_MISSING_FIELD,
                                      "RecordingSid, CallSid and RecordingStatus are required");
        if (!cb_twilio_sid_ok(rec.provider_sid, "RE") ||
            !cb_twilio_sid_ok(rec.provider_call_id, "CA") ||
            (duration != NULL && !cb_parse_long(duration, 0, 7L * 86400, &rec.duration_s)) ||
            (rec.source_url != NULL && !cb_choice_match("https://|http://", rec.source_url, true)))
                return cb_reply_error(req, CB_ERR_INVALID_FIELD,
                                      "RecordingSid, CallSid, RecordingUrl or RecordingDuration "
                                      "has the wrong value");
        if (strcmp(status, "completed") != 0) {
                cb_info("recording %s of call %s is %s; nothing to fetch", rec.provider_sid,
                        call_id ? call_id : rec.provider_call_id, status);
                return cb_reply_text(req, 204, NULL, "", 0);
        }
        if (rec.source_url == NULL)
                return cb_reply_error(req, CB_ERR_MISSING_FIELD, "RecordingUrl is required");
        db = cb_db_acquire(req->env->pool, CB_DB_WAIT_MS);
        qs = db ? cb_store_recording_announce(db, &rec, call, &created) : CB_QS_HARD_ERROR;
        cb_db_release(&db);
        if (qs < 0)
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        if (qs == CB_QS_NO_RESULTS)
                cb_info("recording %s for a call we do not know, ignored", rec.provider_sid);
        if (created)
                cb_jobs_wake(req->env->jobs);
        return cb_reply_text(req, 204, NULL, "", 0);
}
