/* Calls the telephony provider tells us about (src/http/call_reported.c): an incoming call, a
 * softphone dialling through the provider, or an inbound call first seen in a status callback
 * (its voice webhook never reached the database). The calls module plans them; this inserts
 * them through the group commit. */
#ifndef CB_HTTP_CALL_REPORTED_H
#define CB_HTTP_CALL_REPORTED_H

#include "callbridge/calls.h"
#include "callbridge/http.h"

/* Create the call `rq` describes (rq->origin is set to the provider, the fallback agent and
 * region come from the configuration) unless one with its provider call id exists; `id_out`
 * gets the call's id either way. `party` (NULL: unknown) is the CRM match of the other side,
 * borrowed. Blocks until committed. ONE_RESULT, or a negative qs when the database failed. */
CB_MUST_CHECK enum cb_qs cb_call_reported_create(struct cb_http_env *env,
                                                 struct cb_call_request *rq, const json_t *party,
                                                 char id_out[CB_UUID_LEN + 1]);

#endif
