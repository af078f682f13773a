/* POST /webhooks/twilio/voice: the provider asks what to do with a call (signature already
 * checked). Always answers the provider's document (TwiML for Twilio), within [twilio]
 * voice_deadline_ms:
 *  - our click-to-dial call (the URL names it: ?call_id=&agent=): the customer answered, so
 *    ring the agent's softphone;
 *  - a softphone dialling through the TwiML App (From "client:<identity>"): dial the number
 *    from [twilio] caller_id, and record the call;
 *  - anything else is an incoming call: look the caller up, ring the record owner's agent when
 *    online, else the fallback, and record the call (voice_route.c, src/calls/route.c).
 * The provider parses its parameters (parse_voice) and writes the answer (render_route).
 * With [twilio] conference (and a provider with CB_TEL_CAP_CONTROL) a softphone is not rung
 * directly: the provider adds the agent to the call's conference (conference_join, in the
 * request) and the answer puts the customer's leg in it too, so that hold and warm transfer
 * can work; when the provider refuses, the plain bridge is answered. */
#include "callbridge/log.h"
#include "callbridge/store_calls.h"
#include "handlers/handlers.h"
#include "voice_route.h"

static enum MHD_Result reply_route(struct cb_request *req, const struct cb_call_route *route)
{
        const struct cb_telephony *tel = req->env->tel;
        struct cb_buf out = {.max = 8192};
        const char *type = NULL;
        enum MHD_Result ret;

        ret = tel->ops->render_route(tel->self, route, &out, &type) == 0
                  ? cb_reply_text(req, 200, type, out.data, out.len)
                  : cb_reply_error(req, CB_ERR_INTERNAL, NULL);
        cb_buf_free(&out);
        return ret;
}

/* Mark (or unmark) inbound call `id` as answered by its agent's participant rather than by
 * the caller's leg. True when the call is marked now; false (logged) when the database could
 * not say in time: the call then counts as answered by the caller's leg, as before. */
static bool answer_on_join(struct cb_request *req, const char *id, bool on)
{
        struct cb_db *db =
            cb_db_acquire(req->env->pool, (int)req->env->cfg->twilio.voice_deadline_ms);
        enum cb_qs qs = db ? cb_store_call_answer_on_join(db, id, on) : CB_QS_HARD_ERROR;

        cb_db_release(&db);
        if (qs < 0)
                cb_warn("voice webhook: call %s: could not record how it is answered", id);
        return qs == CB_QS_ONE_RESULT;
}

/* Bridge a client route through the call's conference: the agent joins it now (shown a call
 * from `customer`, or [twilio] caller_id), the customer's leg by the answer. An inbound call
 * (`inbound`) is answered when the agent picks up: the call is marked before the agent is
 * added (the answer may come back at once) and unmarked when the agent cannot be. */
static void conference_bridge(struct cb_request *req, const struct cb_tel_voice *v,
                              const char *customer, bool inbound, struct cb_call_route *route)
{
        const struct cb_telephony *tel = req->env->tel;
        const char *caller_id = req->env->cfg->twilio.caller_id;
        char name[sizeof(route->conference)], err[256], masked[256];
        bool marked = false;

        if (!req->env->cfg->twilio.conference || (tel->ops->caps & CB_TEL_CAP_CONTROL) == 0 ||
            route->kind != CB_CALL_ROUTE_CLIENT || route->target[0] == '\0' ||
            !cb_calls_conference_name(v->call_sid, name, sizeof(name)))
                return;
        if (inbound && cb_uuid_valid(route->call_id))
                marked = answer_on_join(req, route->call_id, true);
        if (tel->ops->conference_join(
                tel->self, name, route->target, caller_id ? caller_id : customer,
                marked ? route->call_id : NULL, err, sizeof(err)) != CB_RESULT_OK) {
                if (marked)
                        (void)answer_on_join(req, route->call_id, false);
                cb_mask_digits(err, masked, sizeof(masked)); /* Twilio may quote numbers */
                cb_warn("voice webhook: no conference for %s (%s); bridged directly", v->call_sid,
                        masked);
                return;
        }
        cb_strlcpy(route->conference, name, sizeof(route->conference));
}

enum MHD_Result cb_handle_twilio_voice(struct cb_request *req)
{
        const struct cb_telephony *tel = req->env->tel;
        struct cb_tel_params p;
        struct cb_tel_voice v;
        struct cb_call_request rq = {.direction = CB_CALL_INBOUND};
        struct cb_call_route route = {.kind = CB_CALL_ROUTE_CLIENT};
        const char *msg = NULL;
        enum cb_err e;

        if (tel->ops->parse_voice == NULL || tel->ops->render_route == NULL)
                return cb_reply_error(req, CB_ERR_ROUTE_NOT_FOUND, NULL);
        cb_webhook_params(req, &p);
        e = tel->ops->parse_voice(tel->self, &p, &v, &msg);
        if (e != CB_ERR_NONE)
                return cb_reply_error(req, e, "%s", msg);
        if (v.call_id != NULL) {
                /* The customer of a click-to-dial call answered: bridge them to the agent named
                 * in the (signed) URL; no database needed. */
                cb_strlcpy(route.target, v.agent, sizeof(route.target));
                cb_strlcpy(route.call_id, v.call_id, sizeof(route.call_id));
                conference_bridge(req, &v, v.to, false, &route);
                return reply_route(req, &route);
        }
        rq.provider_call_id = v.call_sid;
        rq.from = v.from;
        rq.to = v.to;
        if (v.client != NULL) {
                rq.direction = CB_CALL_OUTBOUND;
                rq.agent = v.client;
        }
        if (cb_voice_route(req->env, &rq, &route)) {
                cb_webhook_count(CB_WH_VOICE_TIMEOUT);
                cb_warn("voice webhook: routing took longer than %ld ms; answered the fallback",
                        req->env->cfg->twilio.voice_deadline_ms);
        }
        route.leg_is_agent = v.client != NULL; /* the softphone dials out: it is this leg */
        if (v.client == NULL)
                conference_bridge(req, &v, v.from, true, &route);
        return reply_route(req, &route);
}
