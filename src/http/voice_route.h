/* Answering a voice webhook within a deadline (src/http/voice_route.c).
 *
 * The voice webhook must answer the provider quickly whatever the CRM or PostgreSQL do, so the
 * lookup, the routing decision (cb_calls_route_*) and the call insert run on a helper thread;
 * the webhook waits for them at most [twilio] voice_deadline_ms and otherwise answers the
 * fallback route. A route chosen before the deadline is kept even when the insert is still
 * under way; a route not chosen in time is abandoned, and the helper then records the call for
 * the fallback. */
#ifndef CB_HTTP_VOICE_ROUTE_H
#define CB_HTTP_VOICE_ROUTE_H

#include "callbridge/calls.h"
#include "callbridge/http.h"

/* The routing rules of the configuration, with the cache's presence (cb_presence_online) and
 * the agents' states in `pool` (cb_agent_status_available). */
void cb_voice_route_rules(const struct cb_config *cfg, struct cb_db_pool *pool,
                          struct cb_call_route_rules *rules);

/* Route the call `rq` describes (rq->agent, the softphone that dialled, counts only for an
 * outbound call: the rule chooses an inbound call's agent), and record it. Always fills
 * `route`: the chosen one, or the fallback when the deadline passed; then returns true (timed
 * out). */
bool cb_voice_route(struct cb_http_env *env, const struct cb_call_request *rq,
                    struct cb_call_route *route);

/* Wait up to `timeout_ms` for routing helpers still recording calls (at shutdown, before the
 * database pool goes). False when some are still running. */
bool cb_voice_route_drain(long timeout_ms);

#endif
