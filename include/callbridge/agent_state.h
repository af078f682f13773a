/* Agent states (issue 13 item 3): available, busy, wrap_up, away, offline — the pure part
 * (types and rules, in cb_calls); callbridge/agent_status.h adds the store and the service.
 *
 * The rules are pure (src/calls/agent_state.c, unit-tested): what a rep's PUT, a call's move
 * and the end of wrap-up do to an agent's state. The store (src/store/agent_status.c) keeps
 * the state in PostgreSQL (agent_status, agent_status_log: time in status), and the service
 * (src/jobs/agent_status.c) runs each rule in one transaction, schedules the end of wrap-up
 * as a durable job and publishes an `agent_status` event after the commit.
 *
 * The rule the rep sees: busy and wrap_up are automatic. While busy, a PUT is recorded as the
 * status to return to (`next_status`) and the agent stays busy. In wrap-up a PUT takes effect
 * at once (it ends wrap-up early), except `available` while [agents] disposition_required
 * still waits for the call's disposition: that is recorded as next_status too. When the
 * automatic state ends the agent takes next_status (default available): the rep's explicit
 * choice always wins over "back to available". */
#ifndef CALLBRIDGE_AGENT_STATE_H
#define CALLBRIDGE_AGENT_STATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "callbridge/calls.h"
#include "callbridge/util.h"

#define CB_AGENT_REASON_CHARS 200 /* a reason is at most this many characters ... */
#define CB_AGENT_REASON_MAX   801 /* ... of UTF-8, with its NUL */

#define CB_JOB_AGENT_WRAP_UP_END "agent.wrap_up_end" /* at wrap_up_until, or on a disposition */

enum cb_agent_status {
        CB_AGENT_AVAILABLE = 0,
        CB_AGENT_BUSY,    /* automatic: on a call */
        CB_AGENT_WRAP_UP, /* automatic: after a call */
        CB_AGENT_AWAY,
        CB_AGENT_OFFLINE,
        CB_AGENT_STATUS_COUNT
};

/* The name the API uses ("wrap_up"); NULL when out of range. */
const char *cb_agent_status_name(enum cb_agent_status s);
/* The status called `name`; false (*out untouched) for anything else, NULL included. */
bool cb_agent_status_parse(const char *name, enum cb_agent_status *out);
/* Busy and wrap_up: set by calls, never by a rep. */
bool cb_agent_status_automatic(enum cb_agent_status s);
/* A reason a rep may give: 1 to CB_AGENT_REASON_CHARS characters of valid UTF-8, no control
 * characters. */
bool cb_agent_reason_valid(const char *reason);

/* One agent's state as stored. Strings are "" when absent; times are microseconds since the
 * epoch from the database's clock (0: none). */
struct cb_agent_state {
        enum cb_agent_status status;
        char reason[CB_AGENT_REASON_MAX];
        char call_id[CB_UUID_LEN + 1]; /* the call behind busy / wrap_up */
        int64_t since_us;
        int64_t wrap_up_until_us;
        enum cb_agent_status next; /* available, away or offline */
        char next_reason[CB_AGENT_REASON_MAX];
        bool call_disposed; /* the state's call has a disposition (read by the store) */
};

/* [agents] wrap_up_s and disposition_required. */
struct cb_agent_policy {
        long wrap_up_s;
        bool disposition_required;
};

/* What a rule decided: the state to store, and what else to do. */
struct cb_agent_change {
        bool changed;      /* the row changes: store it and publish an agent_status event */
        bool new_period;   /* status, reason or call changed: a new agent_status_log period */
        bool schedule_end; /* queue the wrap-up end job at state.wrap_up_until_us */
        struct cb_agent_state state;
};

enum cb_agent_put_result {
        CB_AGENT_PUT_NOW = 0,    /* the status changed (or already was the one asked for) */
        CB_AGENT_PUT_NEXT,       /* busy / wrap-up: recorded as next_status */
        CB_AGENT_PUT_AUTOMATIC,  /* busy or wrap_up asked for: refused (422) */
        CB_AGENT_PUT_BAD_REASON, /* a reason with available, or an invalid one: refused (422) */
};

/* A rep asks for `want` (with `reason`, NULL for none) at `now_us`. */
enum cb_agent_put_result cb_agent_rule_put(const struct cb_agent_state *cur,
                                           enum cb_agent_status want, const char *reason,
                                           const struct cb_agent_policy *policy, int64_t now_us,
                                           struct cb_agent_change *chg);

/* Does a call in `status` keep its agent busy? An outbound call until it ends (the jobs that
 * ask come once the provider placed it, or from the start for a softphone's own call); an
 * inbound one while answered (in-progress). */
bool cb_agent_call_live(enum cb_call_status status, enum cb_call_direction dir);

/* A call of the agent's moved; `call` is as it is now (id, direction, status, disposition,
 * answered_us, ended_us). A live call makes the agent busy with it; the end of the call the
 * agent is busy with starts wrap-up — for wrap_up_s, and with disposition_required until the
 * disposition — or, with neither, returns the agent to next_status. The jobs that ask may run
 * out of order (the end's before the start's), so the end of a call that had been live (an
 * outbound call; an inbound one answered) is also the end of busy when the agent's state is
 * older than the call's end and not automatic: its busy was never recorded. Anything else
 * changes nothing (e.g. a missed inbound call). */
void cb_agent_rule_call(const struct cb_agent_state *cur, const struct cb_call *call,
                        const struct cb_agent_policy *policy, int64_t now_us,
                        struct cb_agent_change *chg);

/* The agent handed call `call_id` to another agent (a transfer completed): when they are busy
 * or in wrap-up for it, their automatic state ends now (to next_status, no wrap-up: the call
 * and its wrap-up are the other agent's). Otherwise nothing changes. */
void cb_agent_rule_call_left(const struct cb_agent_state *cur, const char *call_id, int64_t now_us,
                             struct cb_agent_change *chg);

/* The wrap-up end job for `call_id` runs at `now_us` (cur->call_disposed read by the store).
 * True when it is done: wrap-up ended (to next_status) or the agent is no longer in wrap-up
 * for that call. False when wrap-up must go on (before wrap_up_until, or the disposition is
 * required and missing): the job waits and asks again. */
bool cb_agent_rule_wrap_up_end(const struct cb_agent_state *cur, const char *call_id,
                               const struct cb_agent_policy *policy, int64_t now_us,
                               struct cb_agent_change *chg);

/* Should inbound routing ring this agent? Only when available. */
bool cb_agent_routable(enum cb_agent_status s);

/* GET /api/agent/status and the agent_status event: {"agent","status","reason"?,"since",
 * "call_id"?,"wrap_up_until"?,"next_status"?,"next_reason"?} (next_* only while busy or in
 * wrap-up). NULL when out of memory; the caller decrefs. */
json_t *cb_agent_state_to_json(const char *agent, const struct cb_agent_state *st);

#endif
