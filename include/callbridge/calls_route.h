/* How callbridge answers a call the telephony provider asks about (src/calls/route.c): the
 * inbound rule (ring the caller's CRM record owner when online, else the fallback), the
 * softphone-dialled outbound rule, and who a call belongs to. Part of the pure calls module:
 * the caller does the I/O (CRM lookup, presence) and hands the results in. */
#ifndef CALLBRIDGE_CALLS_ROUTE_H
#define CALLBRIDGE_CALLS_ROUTE_H

#include <jansson.h>
#include <stdbool.h>

#include "callbridge/calls.h"

enum cb_call_route_kind {
        CB_CALL_ROUTE_CLIENT,  /* ring the softphone `target` (an agent identity) */
        CB_CALL_ROUTE_NUMBER,  /* dial the E.164 number `target` */
        CB_CALL_ROUTE_MESSAGE, /* tell the caller nobody can answer, and hang up */
};

/* A call's answer, as the provider's renderer turns it into its document. */
struct cb_call_route {
        enum cb_call_route_kind kind;
        char target[CB_AGENT_MAX];     /* "" for a message (or when the rule found no target) */
        char call_id[CB_UUID_LEN + 1]; /* our call, passed to a ringing softphone; "" if none */
};

/* The routing settings ([twilio] route_to_owner, fallback_agent, fallback_number, [server]
 * default_region) and the presence predicate (the cache's cb_presence_online: a function
 * pointer, so this module does no I/O itself). */
struct cb_call_route_rules {
        bool route_to_owner;
        const char *fallback_agent;  /* NULL when unset */
        const char *fallback_number; /* NULL when unset; any human format */
        const char *region;          /* reads national numbers */
        bool (*online)(const char *agent);
};

/* The fallback: ring fallback_agent, else dial fallback_number (as E.164), else the message.
 * A fallback_number that does not parse gives CB_CALL_ROUTE_NUMBER with an empty target, which the
 * renderers answer as the message. */
void cb_calls_route_fallback(const struct cb_call_route_rules *rules, struct cb_call_route *route);

/* An incoming call: `matches` are the caller's CRM records (a JSON array of {"id","owner"},
 * best first; NULL or empty when none or the lookup failed). Rings the first match's owner when
 * route_to_owner is on, the owner is a valid identity and `online` says so; else the fallback.
 * `record_id` gets the first match's id ("" when none). Never fails. */
void cb_calls_route_inbound(const struct cb_call_route_rules *rules, const json_t *matches,
                            struct cb_call_route *route, char record_id[CB_CRM_ID_MAX]);

/* A softphone dialled `to` through the provider (TwiML App): dial it as E.164, or answer the
 * message when it is no phone number. */
void cb_calls_route_outbound(const struct cb_call_route_rules *rules, const char *to,
                             struct cb_call_route *route);

/* Who the call belongs to: for an outbound call the softphone that dialled (`dialler`); for an
 * inbound one the agent `route` rings when it was answered in time (`route` non-NULL and a
 * client route), else the fallback agent, else "unassigned". Borrowed from the arguments. */
const char *cb_calls_route_agent(const struct cb_call_route_rules *rules,
                                 enum cb_call_direction direction, const char *dialler,
                                 const struct cb_call_route *route);

/* True when `identity` may name an agent's softphone (letters, digits, "@._-", under
 * CB_AGENT_MAX bytes). */
bool cb_calls_agent_valid(const char *identity);

#endif
