/* POST /webhooks/twilio/voice: Twilio asks what to do with a call (signature already checked).
 * Always answers TwiML, within [twilio] voice_deadline_ms:
 *  - our click-to-dial call (the URL names it: ?call_id=&agent=): the customer answered, so
 *    ring the agent's softphone;
 *  - a softphone dialling through the TwiML App (From "client:<identity>"): dial the number
 *    from [twilio] caller_id, and record the call;
 *  - anything else is an incoming call: look the caller up, ring the record owner's agent when
 *    online, else the fallback, and record the call (voice_route.c). */
#include <string.h>

#include "callbridge/log.h"
#include "handlers/handlers.h"
#include "twiml.h"
#include "voice_route.h"

#define SORRY "Sorry, nobody can take your call right now. Please call again later."

static enum MHD_Result reply_twiml(struct cb_request *req, const struct cb_voice_route *route)
{
        const struct cb_config *cfg = req->env->cfg;
        struct cb_buf out = {.max = 8192};
        const char *call_id = route->call_id[0] ? route->call_id : NULL;
        enum MHD_Result ret;
        int rc;

        if (route->kind == CB_ROUTE_CLIENT && route->target[0] != '\0')
                rc = cb_twiml_dial_client(&out, route->target, call_id, cfg->twilio.ring_timeout_s);
        else if (route->kind == CB_ROUTE_NUMBER && route->target[0] != '\0')
                rc = cb_twiml_dial_number(&out, route->target, cfg->twilio.caller_id,
                                          cfg->twilio.ring_timeout_s);
        else
                rc = cb_twiml_say_hangup(&out, SORRY);
        ret = rc == 0 ? cb_reply_text(req, 200, CB_TWIML_TYPE, out.data, out.len)
                      : cb_reply_error(req, CB_ERR_INTERNAL, NULL);
        cb_buf_free(&out);
        return ret;
}

/* The customer of a click-to-dial call answered: bridge them to the agent named in the URL
 * (signed, so not forgeable); no database needed. */
static enum MHD_Result bridge(struct cb_request *req, const char *call_id)
{
        const char *agent = cb_request_arg(req, "agent");
        struct cb_voice_route route = {.kind = CB_ROUTE_CLIENT};

        if (!cb_uuid_valid(call_id) || agent == NULL ||
            !cb_str_charset(agent, CB_AGENT_MAX - 1, "@._-"))
                return cb_reply_error(req, CB_ERR_INVALID_QUERY,
                                      "call_id and agent must name our call and its agent");
        cb_strlcpy(route.target, agent, sizeof(route.target));
        cb_strlcpy(route.call_id, call_id, sizeof(route.call_id));
        return reply_twiml(req, &route);
}

enum MHD_Result cb_handle_twilio_voice(struct cb_request *req)
{
        const char *call_id = cb_request_arg(req, "call_id");
        const char *from = cb_webhook_param(req, "From");
        struct cb_twilio_call tc = {.direction = "inbound",
                                    .call_sid = cb_webhook_param(req, "CallSid"),
                                    .from = from,
                                    .to = cb_webhook_param(req, "To")};
        struct cb_voice_route route;

        if (tc.call_sid == NULL)
                return cb_reply_error(req, CB_ERR_MISSING_FIELD, "CallSid is required");
        if (!cb_twilio_sid_ok(tc.call_sid, "CA") || (from && strlen(from) > 63) ||
            (tc.to && strlen(tc.to) > 63))
                return cb_reply_error(req, CB_ERR_INVALID_FIELD, "CallSid, From or To is wrong");
        if (call_id != NULL)
                return bridge(req, call_id);
        if (from != NULL && strncmp(from, "client:", 7) == 0) {
                if (!cb_str_charset(from + 7, CB_AGENT_MAX - 1, "@._-"))
                        return cb_reply_error(req, CB_ERR_INVALID_FIELD,
                                              "From is not a client identity");
                tc.direction = "outbound";
                tc.agent = from + 7;
        }
        cb_voice_route(req->env, &tc, &route);
        if (route.timed_out)
                cb_webhook_count(CB_WH_VOICE_TIMEOUT);
        if (route.timed_out)
                cb_warn("voice webhook: routing took longer than %ld ms; answered the fallback",
                        req->env->cfg->twilio.voice_deadline_ms);
        return reply_twiml(req, &route);
}
