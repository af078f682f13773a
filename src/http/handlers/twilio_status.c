/* POST /webhooks/twilio/status: a call status callback (signature already checked).
 *
 * Drives the call state machine: each (call, status) is recorded once, a call only moves
 * forward (a late "ringing" after "completed" is kept in the history but changes nothing), and
 * the first final status queues the CRM log finalisation (and, for a missed inbound call, the
 * follow-up task) in the same statement. A callback for a CallSid we do not know is an inbound
 * call whose voice webhook never reached the database (PostgreSQL was down): it is created
 * then, so the server still logs it. Answers 204; 503 when the database is unavailable so
 * nothing is half-written and the callback can be replayed. */
#include <stdlib.h>
#include <string.h>

#include "callbridge/events.h"
#include "callbridge/log.h"
#include "callbridge/store.h"
#include "handlers/handlers.h"
#include "twilio_calls.h"

/* The parameters into `ev`, checked. True when they were refused (a 400/422 queued,
 * returned through `ret`). */
static bool bad_params(struct cb_request *req, struct cb_status_event *ev, enum MHD_Result *ret)
{
        const char *call_id = cb_request_arg(req, "call_id");
        const char *duration = cb_webhook_param(req, "CallDuration");
        const char *status = cb_webhook_param(req, "CallStatus");
        long d = -1;

        ev->provider = req->env->tel->ops->name;
        ev->call_id = call_id;
        ev->provider_call_id = cb_webhook_param(req, "CallSid");
        ev->missed_task = req->env->cfg->twilio.missed_call_task;
        if (call_id != NULL && !cb_uuid_valid(call_id)) {
                *ret = cb_reply_error(req, CB_ERR_INVALID_QUERY, "call_id is not a call id");
                return true;
        }
        if (ev->provider_call_id == NULL || status == NULL) {
                *ret = cb_reply_error(req, CB_ERR_MISSING_FIELD,
                                      "CallSid and CallStatus are "
                                      "required");
                return true;
        }
        if (!cb_twilio_sid_ok(ev->provider_call_id, "CA") ||
            !cb_calls_status_parse(status, &ev->status) ||
            (duration != NULL && !cb_parse_long(duration, 0, 7L * 86400, &d))) {
                *ret = cb_reply_error(req, CB_ERR_INVALID_FIELD,
                                      "CallSid, CallStatus or CallDuration has the wrong value");
                return true;
        }
        ev->duration_s = d;
        return false;
}

/* An inbound call we have not seen: create it (for the fallback agent). */
static enum cb_qs create_unknown(struct cb_request *req, const struct cb_status_event *ev)
{
        struct cb_twilio_call tc = {
            .direction = "inbound",
            .call_sid = ev->provider_call_id,
            .from = cb_webhook_param(req, "From"),
            .to = cb_webhook_param(req, "To"),
            .agent = NULL, /* the fallback agent's (cb_calls_plan) */
        };
        char id[CB_UUID_LEN + 1];

        return cb_twilio_call_create(req->env, &tc, id);
}

/* Tell the agent's softphones (any instance) where the call is. Best effort: a lost event
 * leaves the stream to re-read the call. */
static void publish(const struct cb_status_event *ev, const struct cb_status_outcome *out)
{
        json_t *data = json_pack("{s:s,s:s,s:s}", "call_id", out->call_id, "status",
                                 cb_calls_status_name(ev->status), "direction", out->direction);

        if (data != NULL && ev->duration_s >= 0 && cb_calls_status_final(ev->status))
                json_object_set_new(data, "duration_s", json_integer(ev->duration_s));
        if (data != NULL)
                cb_events_publish(out->agent, "call_status", data);
        json_decref(data);
}

/* Back on the connection's thread with the committed event (req->ctx). */
static enum MHD_Result finish(struct cb_request *req)
{
        struct cb_status_item *it = req->ctx;
        const struct cb_status_event *ev = it->ev;
        const char *direction = cb_webhook_param(req, "Direction");
        enum cb_qs qs = it->qs;

        if (qs == CB_QS_NO_RESULTS && ev->call_id == NULL && direction != NULL &&
            strcmp(direction, "inbound") == 0) {
                /* Rare (the voice webhook missed the database): blocking is fine here. */
                qs = create_unknown(req, ev);
                if (qs >= 0)
                        qs = cb_status_batcher_record(req->env->status_batcher, ev, &it->out);
        }
        if (qs < 0)
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        if (qs == CB_QS_NO_RESULTS) {
                cb_webhook_count(CB_WH_UNKNOWN);
                cb_info("status %s for a call we do not know (%s), ignored",
                        cb_calls_status_name(ev->status), direction ? direction : "no direction");
                return cb_reply_text(req, 204, NULL, "", 0);
        }
        cb_webhook_count(it->out.advanced   ? CB_WH_ADVANCED
                         : it->out.recorded ? CB_WH_RECORDED
                                            : CB_WH_DUPLICATE);
        if (it->out.advanced && cb_calls_status_final(ev->status))
                cb_jobs_wake(req->env->jobs);
        if (it->out.advanced)
                publish(ev, &it->out);
        return cb_reply_text(req, 204, NULL, "", 0);
}

/* A callback's state while its event waits for the group commit; freed with the request. */
struct status_ctx {
        struct cb_status_item item; /* first: req->ctx is also the item */
        struct cb_status_event ev;
};

/* Parses, then parks the request until the group commit has the event: many callbacks in
 * flight make big batches without a thread each. */
enum MHD_Result cb_handle_twilio_status(struct cb_request *req)
{
        struct status_ctx *sc = calloc(1, sizeof(*sc));
        enum MHD_Result ret;

        if (sc == NULL)
                return cb_reply_error(req, CB_ERR_INTERNAL, NULL);
        req->ctx = sc;
        req->ctx_free = free;
        if (bad_params(req, &sc->ev, &ret))
                return ret;
        /* Woken on the batcher thread once the event is committed (or failed). */
        sc->item = (struct cb_status_item){.ev = &sc->ev, .done = cb_request_wake, .arg = req};
        ret = cb_request_park(req, finish);
        if (cb_status_batcher_submit(req->env->status_batcher, &sc->item) != 0)
                cb_request_wake(req); /* out of memory: item.qs is an error, finish says 503 */
        return ret;
}
