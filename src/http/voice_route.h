/* Routing an incoming (or softphone-dialled) call under a deadline (src/http/voice_route.c).
 *
 * The voice webhook must answer Twilio quickly whatever the CRM or PostgreSQL do, so the
 * lookup, the routing rule and the call insert run on a helper thread; the webhook waits for
 * them at most [twilio] voice_deadline_ms and otherwise answers the fallback route. A route
 * chosen before the deadline is kept even when the insert is still under way; a route not
 * chosen in time is abandoned, and the helper then records the call for the fallback. */
#ifndef CB_HTTP_VOICE_ROUTE_H
#define CB_HTTP_VOICE_ROUTE_H

#include "callbridge/http.h"
#include "twilio_calls.h"

struct cb_voice_route {
        enum { CB_ROUTE_CLIENT, CB_ROUTE_NUMBER, CB_ROUTE_MESSAGE } kind;
        char target[CB_AGENT_MAX];     /* agent identity, or E.164 */
        char call_id[CB_UUID_LEN + 1]; /* "" when the call was not recorded in time */
        bool timed_out;
};

/* Route `tc` (tc->agent is ignored for inbound calls: the rule chooses it). Always fills
 * `route`: the chosen one, or the fallback when the deadline passed. */
void cb_voice_route(struct cb_http_env *env, const struct cb_twilio_call *tc,
                    struct cb_voice_route *route);

/* The fallback route: [twilio] fallback_agent, else fallback_number, else a message. */
void cb_voice_route_fallback(const struct cb_config *cfg, struct cb_voice_route *route);

/* Wait up to `timeout_ms` for routing helpers still recording calls (at shutdown, before the
 * database pool goes). False when some are still running. */
bool cb_voice_route_drain(long timeout_ms);

#endif
