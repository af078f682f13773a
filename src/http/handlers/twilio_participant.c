/* POST /webhooks/twilio/participant?call_id=: the status callback of the agent's conference
 * participant (signature already checked), asked for with StatusCallbackEvent=answered when
 * the voice webhook adds the agent to an inbound call's conference. Its in-progress is the
 * agent picking up: the call's answered_at (calls.answer_on_join). Other statuses, a call we
 * do not know or one already answered change nothing. 204; 503 when the database is
 * unavailable, so Twilio retries. */
#include "handlers/handlers.h"
#include "callbridge/store_calls.h"

enum MHD_Result cb_handle_twilio_participant(struct cb_request *req)
{
        const struct cb_telephony *tel = req->env->tel;
        struct cb_tel_params p;
        struct cb_tel_status st;
        const char *msg = NULL;
        struct cb_db *db;
        enum cb_qs qs;
        enum cb_err e;

        if (tel->ops->parse_status == NULL)
                return cb_reply_error(req, CB_ERR_ROUTE_NOT_FOUND, NULL);
        cb_webhook_params(req, &p);
        e = tel->ops->parse_status(tel->self, &p, &st, &msg);
        if (e == CB_ERR_NONE && st.call_id == NULL) {
                e = CB_ERR_INVALID_QUERY;
                msg = "call_id is required";
        }
        if (e != CB_ERR_NONE)
                return cb_reply_error(req, e, "%s", msg);
        if (st.status != CB_CALL_IN_PROGRESS)
                return cb_reply_text(req, 204, NULL, "", 0);
        db = cb_db_acquire(req->env->pool, CB_DB_WAIT_MS);
        if (db == NULL)
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        qs = cb_store_call_agent_answered(db, st.call_id);
        cb_db_release(&db);
        if (qs < 0)
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        return cb_reply_text(req, 204, NULL, "", 0);
}
