/* The call, callbridge's central object (src/calls/): its typed record, its status model (the
 * statuses, their order, the moves allowed and what each move causes), how calls are created
 * and how an incoming call is routed. Pure: no I/O, so the whole state machine is unit-tested
 * without a database. Handlers, webhooks and jobs ask it what to do; the store (SQL) records
 * what it decided, with the decisions handed over as parameters. */
#ifndef CALLBRIDGE_CALLS_H
#define CALLBRIDGE_CALLS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "callbridge/util.h"

#define CB_AGENT_MAX       128  /* agent names are shorter than this */
#define CB_CRM_ID_MAX      65   /* CRM record ids (the API takes 64 characters), with their NUL */
#define CB_E164_MAX        32   /* an E.164 number (or "unknown"), with its NUL */
#define CB_PROVIDER_MAX    16   /* a provider's name ("twilio", "salesforce"), with its NUL */
#define CB_CALL_SID_MAX    65   /* a provider's call id, with its NUL */
#define CB_DISPOSITION_MAX 128  /* a disposition value, with its NUL */
#define CB_PARTY_MAX       1024 /* a party's name or company (255 characters), with its NUL */
#define CB_NOTES_MAX_CHARS 4000 /* the agent's wrap-up notes, in characters */
#define CB_NOTES_MAX       (CB_NOTES_MAX_CHARS * 4 + 1) /* ... in UTF-8 bytes, with the NUL */

/* Where a call is, in the order a call goes through them; the five last ones are final. */
enum cb_call_status {
        CB_CALL_QUEUED = 0,
        CB_CALL_INITIATED,
        CB_CALL_RINGING,
        CB_CALL_IN_PROGRESS,
        CB_CALL_COMPLETED,
        CB_CALL_BUSY,
        CB_CALL_FAILED,
        CB_CALL_NO_ANSWER,
        CB_CALL_CANCELED,
        CB_CALL_STATUS_COUNT
};

enum cb_call_direction { CB_CALL_OUTBOUND = 0, CB_CALL_INBOUND };

/* One call as jobs and providers see it (cb_store_call_load fills it from its row). Strings
 * are "" when unknown (the row's NULL; no column holds an empty string); the record owns no
 * memory (copy it freely). */
struct cb_call {
        char id[CB_UUID_LEN + 1];
        char agent[CB_AGENT_MAX];
        enum cb_call_direction direction;
        enum cb_call_status status;
        char to[CB_E164_MAX];   /* the number called, E.164 ("unknown" when Twilio gave none) */
        char from[CB_E164_MAX]; /* the caller, E.164 */
        char crm_record_id[CB_CRM_ID_MAX];
        char telephony[CB_PROVIDER_MAX];        /* provider name */
        char provider_call_id[CB_CALL_SID_MAX]; /* e.g. the CallSid */
        char crm[CB_PROVIDER_MAX];              /* provider name */
        char crm_state[16];                     /* pending|synced|local|failed */
        char crm_log_id[CB_CRM_ID_MAX];
        long duration_s; /* talk time from the final status; -1 when unknown */
        char
            disposition[CB_DISPOSITION_MAX]; /* the agent's wrap-up value ([agents] dispositions) */
        char notes[CB_NOTES_MAX];            /* the agent's wrap-up notes */
        /* The agent's CRM user id (agents.crm_user_id, 18 characters): the owner of the call's
         * CRM records; "" to leave them to the CRM's own user. */
        char crm_owner_id[CB_CRM_ID_MAX];
        /* Who the call was with, as the CRM lookup named them (calls.party_name/_company, at
         * most 255 characters), and the agent's name for people (agents.display_name): ""
         * when unknown. */
        char party_name[CB_PARTY_MAX];
        char party_company[CB_PARTY_MAX];
        char agent_display[CB_PARTY_MAX];
        /* The call's newest stored recording (its link is <public_url>/r/<id>); "" when none. */
        char recording_id[CB_UUID_LEN + 1];
        /* write_mode = single: the recording the call log was written with; "" when none. */
        char crm_recording_id[CB_UUID_LEN + 1];
        char crm_transcript_id[CB_UUID_LEN + 1]; /* ... and the transcript it carries */
        /* Microseconds since the epoch; 0 when it has not happened. */
        int64_t created_us;
        int64_t answered_us;
        int64_t ended_us;
        int64_t updated_us;
        int64_t disposed_us; /* the wrap-up was posted (last changed) */
};

/* The call as the API's views show it (src/calls/call.c): {"call_id", "agent", "direction",
 * "to", "from", "status", "crm_record_id", "telephony": {"provider", "call_id"}, "crm":
 * {"provider", "state", "log_id"}, "duration_s", "disposition", "notes", "disposed_at",
 * "answered_at", "ended_at", "created_at", "updated_at"}, unknown values null, times as RFC 3339
 * UTC with microseconds (cb_ts_format). The shape NLP rules and other name-keyed matches read. NULL
 * when out of memory or when the status or direction is out of range; the caller decrefs. */
json_t *cb_calls_to_json(const struct cb_call *call);
/* True when `identity` may name an agent's softphone (letters, digits, "@._-", under
 * CB_AGENT_MAX bytes). */
bool cb_calls_agent_valid(const char *identity);

/* ---- wrap-up (src/calls/disposition.c) ----
 * The dispositions an agent may give a call are [agents] dispositions, a comma-separated list
 * of `value:Label` items: `value` is what the API takes and stores (1-64 of a-z, 0-9, _ and -),
 * `Label` what the CRM gets (Salesforce's CallDisposition, 1-255 bytes, no comma or control
 * character; surrounding spaces are trimmed). An item without ":Label" is its own label. The
 * functions read the list text as it is (no allocation), so a handler may ask them per
 * request. */

#define CB_DISPOSITION_VALUE_MAX 64
#define CB_DISPOSITION_LABEL_MAX 255
#define CB_DISPOSITIONS_MAX      64 /* items in one list */

/* True when `list` is a valid list (at least one item, no duplicate value); else false with one
 * line in `err` saying what is wrong with which item. */
bool cb_calls_dispositions_check(const char *list, char *err, size_t err_size);
/* The label `value` maps to in `list`, copied into `label` (cut to fit). False, `label` "",
 * when `list` is invalid or has no such value (NULL and "" included). */
bool cb_calls_disposition_label(const char *list, const char *value, char *label,
                                size_t label_size);
/* The values of `list`, in its order, joined by ", " into `out` (cut to fit; "" when `list` is
 * invalid): what an error message lists as allowed. */
void cb_calls_dispositions_values(const char *list, char *out, size_t out_size);
/* True when `notes` may be a call's notes: at most CB_NOTES_MAX_CHARS characters of UTF-8. */
bool cb_calls_notes_valid(const char *notes);

/* ---- the call as a CRM record reads (src/calls/record_text.c) ---- */

/* The call's outcome in words: "Answered", "No answer", "Busy", "Failed", "Canceled" (outbound),
 * "Missed", "Abandoned" (inbound, per cb_calls_outcome); NULL while the call is not over. */
const char *cb_calls_outcome_label(const struct cb_call *call);
/* An E.164 number for people ("+1 415-555-0123"); "unknown number" for "" and "unknown"; the
 * text as it is when libphonenumber cannot format it. Cut to `out_size`. */
void cb_calls_number_text(const char *e164, char *out, size_t out_size);
/* "42 s", "3 min", "3 min 12 s"; "unknown" for a negative value. */
void cb_calls_duration_text(long seconds, char *out, size_t out_size);
/* The call log's subject: "Call with Grace Hopper (Acme) — outbound, 3 min" (party name and
 * company as the lookup named them, else the formatted number; the talk time rounded to
 * minutes, or the outcome when not answered; nothing after the direction while the call is
 * live). The party is cut (whole UTF-8 characters) so the whole fits `out_size`. */
void cb_calls_record_subject(const struct cb_call *call, char *out, size_t out_size);

/* ---- the calls search (src/calls/search.c) ----
 * GET /api/calls?q=: a term of digits (and phone punctuation: + - ( ) . space) matches the
 * calls' numbers by their digits; any other term matches the party's name or company, the
 * disposition or the notes, case-insensitively, as a substring. */

#define CB_CALL_SEARCH_MAX         100  /* characters in a term */
#define CB_CALL_SEARCH_PATTERN_MAX 1024 /* its LIKE pattern: 2 x 4 bytes per character, + 3 */

enum cb_call_search { CB_CALL_SEARCH_INVALID = 0, CB_CALL_SEARCH_NUMBER, CB_CALL_SEARCH_TEXT };

/* Classify `q` (surrounding spaces ignored) and write its LIKE pattern into `pattern`
 * ("%<digits>%" for a number, "%<term with % _ \ escaped>%" for text). INVALID (pattern "")
 * for NULL, an empty term, more than CB_CALL_SEARCH_MAX characters, invalid UTF-8, a control
 * character, or a `pattern_size` below CB_CALL_SEARCH_PATTERN_MAX. */
enum cb_call_search cb_calls_search_term(const char *q, char *pattern, size_t pattern_size);

/* ---- statuses (src/calls/states.c) ---- */

/* The status's name as providers and the API spell it ("in-progress"); NULL when out of range. */
const char *cb_calls_status_name(enum cb_call_status s);
/* The status named `name`; false (and *out untouched) for anything else, NULL included. */
bool cb_calls_status_parse(const char *name, enum cb_call_status *out);
/* Its place in the lifecycle: a status only replaces one of lower rank; the final ones share
 * the top rank, so the first final status recorded stays. */
int cb_calls_status_rank(enum cb_call_status s);
bool cb_calls_status_final(enum cb_call_status s);
/* Must a write that adds to `call`'s CRM log (recording, analysis, transcript, follow-ups)
 * wait for the call log itself? While the log is pending and was never written — its job
 * links the call to the CRM record the additions are associated with (a HubSpot note or task
 * written before would stay off the contact's timeline) — and, with `single_write`, until the
 * one write is done. Never once the log failed for good (crm_state "failed") or is local. */
bool cb_calls_crm_log_first(bool single_write, const struct cb_call *call);
/* What the agent's console shows for a call in status `s`: "ringing" (queued, initiated,
 * ringing), "live" (in-progress) or "wrap_up" (final: the agent writes the wrap-up); NULL
 * when out of range. */
const char *cb_calls_phase(enum cb_call_status s);

const char *cb_calls_direction_name(enum cb_call_direction d);
bool cb_calls_direction_parse(const char *name, enum cb_call_direction *out);

/* ---- moves: what a new status causes (src/calls/states.c) ---- */

/* The job kinds the call's moves queue (include/callbridge/jobs.h runs them). */
#define CB_JOB_PLACE_CALL "telephony.place_call"
#define CB_JOB_LOG_CALL   "crm.log_call"
#define CB_JOB_FOLLOW_UP  "crm.follow_up" /* queued by a missed inbound call */
/* The call's agent changes: busy when the call goes live for them, wrap-up when it ends
 * (callbridge/agent_status.h). */
#define CB_JOB_AGENT_CALL "agent.call_status"

#define CB_CALLS_JOBS_MAX 3

/* What one move causes. The store records it (the SQL takes these rules as parameters, see
 * src/store/lifecycle.c); handlers act on the rest. */
struct cb_call_move {
        bool advance;               /* the call takes status `status` (moves go forward only) */
        enum cb_call_status status; /* the call's status after the move */
        bool event;                 /* a history event is recorded (provider statuses: once per
                                     * call and status, a duplicate records nothing) */
        bool set_answered;          /* answered_at = now */
        bool set_ended;             /* ended_at = now */
        bool set_duration;          /* duration_s = the talk time the status came with */
        bool notify;                /* the agent's softphones get a call_status event */
        size_t job_count;
        const char *jobs[CB_CALLS_JOBS_MAX]; /* kinds queued with the move (static strings) */
};

/* The provider reports `to` for a call at `from`. `missed_task` is [twilio] missed_call_task:
 * a missed inbound call (no-answer, busy) then also queues a follow-up task. A status that
 * does not rank above `from` changes nothing (its event is still recorded the first time). */
struct cb_call_move cb_calls_move(enum cb_call_status from, enum cb_call_status to,
                                  enum cb_call_direction dir, bool missed_task);
/* What reaching `to` causes when a call moves forward to it: the same from wherever the call
 * was — cb_calls_move is the rank test, then this. Each status event hands these effects to
 * the SQL, which does the rank test itself on the call's row (src/store/lifecycle.c), so a
 * concurrent move is never judged from a stale status. */
struct cb_call_move cb_calls_reach(enum cb_call_status to, enum cb_call_direction dir,
                                   bool missed_task);
/* The provider could not place the call (the place_call job gave up): failed unless it
 * already ended; the event's source is the job, not the provider, and no talk time. */
struct cb_call_move cb_calls_move_fail(enum cb_call_status from, enum cb_call_direction dir);

/* Who made the call exist. */
enum cb_call_origin {
        CB_CALL_ORIGIN_API,      /* POST /api/call/initiate: we place an outbound call */
        CB_CALL_ORIGIN_PROVIDER, /* the provider told us (voice webhook, status callback) */
};
/* A new call's first status, history event and jobs. */
struct cb_call_move cb_calls_created(enum cb_call_origin origin, enum cb_call_direction dir);

/* ---- creation (src/calls/call.c) ---- */

/* What a handler knows about a call to create. Strings are borrowed; NULL when absent. */
struct cb_call_request {
        enum cb_call_origin origin;
        enum cb_call_direction direction;
        const char *agent;          /* NULL: fallback_agent, or "unassigned" without one */
        const char *fallback_agent; /* [twilio] fallback_agent, may be NULL */
        const char *to;             /* as given: E.164, national, "client:x"... */
        const char *from;
        const char *region;           /* default region for national numbers */
        const char *crm_record_id;    /* as the client named it (part of the request hash) */
        const char *provider_call_id; /* the provider's call id (always, from a provider) */
};

/* The call to insert, decided. `agent` is borrowed from the request (or a static string). */
struct cb_call_plan {
        enum cb_call_direction direction;
        const char *agent;
        char to[CB_E164_MAX];   /* E.164; "unknown" when the provider gave no usable number */
        char from[CB_E164_MAX]; /* E.164, "" when absent (has_from false) */
        bool has_from;
        unsigned char request_hash[32]; /* what makes two requests "the same" (idempotency) */
        struct cb_call_move created;    /* first status and jobs */
};

enum cb_call_plan_result { CB_CALL_PLAN_OK = 0, CB_CALL_PLAN_BAD_TO, CB_CALL_PLAN_BAD_FROM };

/* Decide the call for `rq` into *out. From the API a number that is not one refuses the
 * request (BAD_TO/BAD_FROM, *out partly filled); from the provider nothing is refused: a
 * caller id it cannot give ("anonymous") leaves no `from`, a `to` it cannot give is
 * "unknown". */
enum cb_call_plan_result cb_calls_plan(const struct cb_call_request *rq, struct cb_call_plan *out);

/* ---- routing (src/calls/route.c) ----
 * How callbridge answers a call the telephony provider asks about: the inbound rule (ring the
 * agent whose CRM user id owns the caller's CRM record when online, else the fallback), the
 * softphone-dialled outbound rule, and who a call belongs to. The caller does the I/O (CRM lookup,
 * presence) and hands the results in. */

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
        bool leg_is_agent; /* the call leg being answered is the agent's softphone dialling out
                            * (not the customer): it tells live transcripts who speaks on which
                            * side */
        /* A client route through a conference of this name (the agent was added to it), or ""
         * for a plain bridge. */
        char conference[CB_CALL_SID_MAX + 4];
};

/* The routing settings ([twilio] route_to_owner, fallback_agent, fallback_number, [server]
 * default_region), the presence predicate (the cache's cb_presence_online) and the agent
 * state predicate (cb_agent_status_available: available, not busy, in wrap-up, away or
 * offline): function pointers, so this module does no I/O itself. */
struct cb_call_route_rules {
        bool route_to_owner;
        const char *fallback_agent;  /* NULL when unset */
        const char *fallback_number; /* NULL when unset; any human format */
        const char *region;          /* reads national numbers */
        bool (*online)(const char *agent);
        bool (*available)(void *ctx, const char *agent); /* NULL: everyone online is */
        void *available_ctx;
};

/* The fallback: ring fallback_agent, else dial fallback_number (as E.164), else the message.
 * A fallback_number that does not parse gives CB_CALL_ROUTE_NUMBER with an empty target, which the
 * renderers answer as the message. */
void cb_calls_route_fallback(const struct cb_call_route_rules *rules, struct cb_call_route *route);

/* The agent of `agents` (a JSON array of {"name","crm_user_id"}) whose CRM user id is
 * `owner_id` (both in the CRM provider's canonical form, user_id_canon) — or NULL when none is.
 * Borrowed from `agents`. */
const char *cb_calls_route_owner_agent(const json_t *agents, const char *owner_id);

/* An incoming call: `matches` are the caller's CRM records (a JSON array of {"id","owner_id"},
 * best first; NULL or empty when none or the lookup failed) and `agents` the agents the caller
 * fetched for their owners ({"name","crm_user_id"}, see cb_calls_route_owner_agent; NULL when
 * none). Rings the agent whose CRM user id owns the first match when route_to_owner is on, that
 * agent's name is a valid identity, `online` says so and `available` (the agent's state) too;
 * else the fallback. `record_id` gets the first match's id ("" when none). Never fails. */
void cb_calls_route_inbound(const struct cb_call_route_rules *rules, const json_t *matches,
                            const json_t *agents, struct cb_call_route *route,
                            char record_id[CB_CRM_ID_MAX]);

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

/* ---- call control (src/calls/control.c) ----
 * What an agent may do to a live call through the telephony provider (hang up, hold, transfer,
 * pause the recording), decided from the call's status and its control state; the handler
 * asks the provider to do it and the store records what was decided. */

enum cb_call_action {
        CB_ACT_HANGUP = 0,
        CB_ACT_HOLD,
        CB_ACT_UNHOLD,
        CB_ACT_TRANSFER_BLIND,    /* the customer is redirected to the target; the agent leaves */
        CB_ACT_TRANSFER_WARM,     /* the target joins the conference, the customer waits held */
        CB_ACT_TRANSFER_COMPLETE, /* the warm transfer's target takes over; the agent leaves */
        CB_ACT_TRANSFER_CANCEL,   /* the warm transfer's target leaves; the customer is back */
        CB_ACT_RECORDING_PAUSE,
        CB_ACT_RECORDING_RESUME,
        CB_ACT_COUNT
};

enum cb_call_transfer { CB_TRANSFER_NONE = 0, CB_TRANSFER_PENDING, CB_TRANSFER_DONE };

#define CB_TRANSFER_TO_MAX CB_AGENT_MAX /* an agent name or an E.164 number, with its NUL */

/* A call's control state as recorded (call_controls; all zero before the first action). */
struct cb_call_controls {
        bool held;             /* the customer is on hold (by hold, or a warm transfer) */
        bool recording_paused; /* paused by the agent */
        bool hung_up;          /* the agent hung up (the provider's final status may follow) */
        enum cb_call_transfer transfer;
        bool transfer_warm;                   /* the transfer's mode */
        char transfer_to[CB_TRANSFER_TO_MAX]; /* its target ("" when none) */
};

/* What the call may have: the provider's leg to act on, a conference, a recording. */
struct cb_call_control_env {
        enum cb_call_status status;
        bool placed;     /* the provider knows the call (it has a provider call id) */
        bool conference; /* bridged through a conference ([twilio] conference) */
        bool recorded;   /* the provider records the call ([twilio] record) */
};

enum cb_call_verdict {
        CB_CTL_DO,        /* ask the provider, then record `after` and the event */
        CB_CTL_ALREADY,   /* done before: answer the state as it is, ask nobody */
        CB_CTL_BAD_STATE, /* 409 invalid_call_state with `why` */
};

struct cb_call_decision {
        enum cb_call_verdict verdict;
        const char *why;   /* BAD_STATE: a static message */
        const char *event; /* the history entry (source agent), e.g. "hold"; static */
        struct cb_call_controls after;
};

/* Decide `action` (with target `to` for the two transfers: an agent name or E.164, borrowed)
 * for a call in `env` whose control state is `now`. Pure; never fails. */
void cb_calls_control_decide(const struct cb_call_control_env *env,
                             const struct cb_call_controls *now, enum cb_call_action action,
                             const char *to, struct cb_call_decision *out);
/* The agent the call now belongs to after a transfer moved from `before` to `after`: the
 * target agent's name (borrowed from `after`) when a transfer to an agent is done now (a
 * blind one at once, a warm one on complete), else NULL (no transfer done now, or to a
 * number). */
const char *cb_calls_control_new_agent(const struct cb_call_controls *before,
                                       const struct cb_call_controls *after);
/* The action's name in the API and in history ("hold", "transfer_completed"...); NULL when out
 * of range. */
const char *cb_calls_action_name(enum cb_call_action a);
/* The control state as the API shows it: {"held","recording":"active|paused|off",
 * "hung_up","transfer":null|{"state":"pending|done","mode","to"}} (`to` masked by the
 * caller when it is a number). NULL when out of memory; the caller decrefs. */
json_t *cb_calls_controls_to_json(const struct cb_call_controls *c, bool recorded);
/* The conference a call is bridged through, named from the customer's leg (its provider call
 * id): "cb-<id>" into `out`. False when it does not fit. */
bool cb_calls_conference_name(const char *provider_call_id, char *out, size_t size);

/* ---- outcomes and metrics (src/calls/outcome.c, src/calls/metrics.c) ----
 * What a finished call was, as a sales manager counts it. An outbound call is answered or
 * unanswered. An inbound call is answered, missed (it rang the agent and nobody answered: the
 * provider ended it busy, no-answer or failed) or abandoned (the caller hung up while it
 * rang: canceled, or completed without an answer). */
enum cb_call_outcome {
        CB_OUTCOME_ANSWERED = 0,
        CB_OUTCOME_UNANSWERED, /* outbound, never answered */
        CB_OUTCOME_MISSED,     /* inbound, rang, nobody answered */
        CB_OUTCOME_ABANDONED,  /* inbound, the caller hung up first */
        CB_OUTCOME_COUNT
};

/* The outcome of a call that reached the final status `final` (answered: it had an
 * answered_at). A status that is not final gives CB_OUTCOME_COUNT (no outcome yet). */
enum cb_call_outcome cb_calls_outcome(enum cb_call_direction dir, enum cb_call_status final,
                                      bool answered);
const char *cb_calls_outcome_name(enum cb_call_outcome o);

/* Counters and histograms for /metrics, per agent and overall, since this process started
 * (Prometheus turns them into any period with increase()). In memory only, thread-safe; the
 * totals over a period from the database are GET /api/stats. Agents past the first 1,000
 * share the label "other" so a flood of names cannot grow the exposition without bound. */
struct cb_call_sample {
        const char *agent;
        enum cb_call_direction direction;
        enum cb_call_outcome outcome;
        double wait_s; /* ring until answer, answered inbound calls; < 0 when none */
        double talk_s; /* answered calls; < 0 when unknown */
};
void cb_calls_metrics_observe(const struct cb_call_sample *s);
/* An agent's wrap-up (after-call work) lasted `seconds`. */
void cb_calls_metrics_wrap_up(const char *agent, double seconds);
/* Appends the Prometheus text; -1 when `out` is full or memory ran out (the text is then
 * incomplete), else 0. */
int cb_calls_metrics_write(struct cb_buf *out);

#endif
