/* What the Twilio webhook handlers share (src/http/twilio_calls.c): creating the calls Twilio
 * tells us about (inbound, or dialled from a softphone through the TwiML App). The webhooks'
 * parameters are the provider's to parse (struct cb_telephony_ops parse_*). */
#ifndef CB_HTTP_TWILIO_CALLS_H
#define CB_HTTP_TWILIO_CALLS_H

#include "callbridge/http.h"

struct cb_twilio_call {
        const char *direction; /* "inbound" or "outbound" */
        const char *call_sid;
        const char *from; /* as Twilio sent it: E.164, "client:name", "anonymous"... */
        const char *to;
        const char *agent;         /* NULL: [twilio] fallback_agent, or "unassigned" */
        const char *crm_record_id; /* may be NULL */
};
/* Create the call (with its crm.log_call job) unless one with this CallSid exists; `id_out`
 * gets the call's id either way. Blocks until committed (group commit). ONE_RESULT, or a
 * negative qs when the database failed. */
enum cb_qs cb_twilio_call_create(struct cb_http_env *env, const struct cb_twilio_call *tc,
                                 char id_out[CB_UUID_LEN + 1]);

#endif
