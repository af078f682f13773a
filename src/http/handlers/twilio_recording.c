/* POST /webhooks/twilio/recording: a recording status callback (signature already checked).
 * A completed recording is recorded once per RecordingSid on its call, with the URL Twilio
 * serves it at, and a recording.fetch job downloads, seals and stores it. Other
 * statuses (in-progress, absent, failed) are logged and answered 204. */
#include <string.h>

#include "callbridge/log.h"
#include "callbridge/store_lifecycle.h"
#include "handlers/handlers.h"

enum MHD_Result cb_handle_twilio_recording(struct cb_request *req)
{
        const struct cb_telephony *tel = req->env->tel;
        struct cb_tel_recording r;
        struct cb_tel_params p;
        struct cb_recording_new rec;
        const char *msg = NULL;
        char call[CB_UUID_LEN + 1];
        struct cb_db *db;
        bool created = false;
        enum cb_err e;
        enum cb_qs qs;

        if (tel->ops->parse_recording == NULL)
                return cb_reply_error(req, CB_ERR_ROUTE_NOT_FOUND, NULL);
        cb_webhook_params(req, &p);
        e = tel->ops->parse_recording(tel->self, &p, &r, &msg);
        if (e != CB_ERR_NONE)
                return cb_reply_error(req, e, "%s", msg);
        if (!r.completed) {
                cb_info("recording %s of call %s is %s; nothing to fetch", r.recording_sid,
                        r.call_id ? r.call_id : r.call_sid, r.status);
                return cb_reply_text(req, 204, NULL, "", 0);
        }
        rec = (struct cb_recording_new){.call_id = r.call_id,
                                        .provider = tel->ops->name,
                                        .provider_call_id = r.call_sid,
                                        .provider_sid = r.recording_sid,
                                        .source_url = r.url,
                                        .duration_s = r.duration_s};
        db = cb_db_acquire(req->env->pool, CB_DB_WAIT_MS);
        qs = db ? cb_store_recording_announce(db, &rec, call, &created) : CB_QS_HARD_ERROR;
        cb_db_release(&db);
        if (qs < 0)
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        if (qs == CB_QS_NO_RESULTS)
                cb_info("recording %s for a call we do not know, ignored", r.recording_sid);
        if (created)
                cb_jobs_wake(req->env->jobs);
        return cb_reply_text(req, 204, NULL, "", 0);
}
