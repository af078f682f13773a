/* Calls as rows: new calls (src/store/calls.c, batched through store_batcher.h), one call or a
 * page of them, the wrap-up (wrapup.c), reconciliation (reconcile.c), call control
 * (controls.c), the agent's current call (agent_call.c) and call metrics (stats.c). */
#ifndef CALLBRIDGE_STORE_CALLS_H
#define CALLBRIDGE_STORE_CALLS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "callbridge/calls.h"
#include "callbridge/db.h"
#include "callbridge/util.h"

/* ---- calls (src/store/calls.c) ---- */

struct cb_batcher; /* group commit: callbridge/store_batcher.h */

struct cb_call_new {
        const char *id; /* uuid chosen by the caller */
        const char *agent;
        const char *direction;
        const char *to_e164;
        const char *from_e164;        /* may be NULL */
        const char *crm_record_id;    /* may be NULL */
        const char *telephony;        /* provider name */
        const char *provider_call_id; /* may be NULL */
        const char *crm;              /* provider name */
        const char *idempotency_key;  /* may be NULL */
        const char *party_name;       /* the matched CRM record's name, may be NULL */
        const char *party_company;    /* its company (account), may be NULL */
        const char *party_url;        /* its link in the CRM, may be NULL */
        unsigned char request_hash[32];
        enum cb_call_status status;   /* its first status (cb_calls_created: queued) */
        const char *const *job_kinds; /* jobs inserted in the same statement */
        size_t job_count;
};

/* The insert for the call `plan` decided from `rq` (cb_calls_plan): id, agent, direction,
 * numbers, the ids `rq` named, the request hash, first status and jobs. The caller sets the
 * providers and the idempotency key (and may link a CRM record). Borrows from all three. */
void cb_store_call_new_planned(struct cb_call_new *c, const char *id,
                               const struct cb_call_request *rq, const struct cb_call_plan *plan);

/* The party of `c` from a CRM match ({"name","company"?,"url"} as lookups give it; NULL
 * leaves them unset). Borrows from `match`. */
void cb_store_call_new_party(struct cb_call_new *c, const json_t *match);

/* Insert `n` calls with their first history events and jobs in one statement (one
 * commit for all: the caller runs it outside a transaction). created[i] tells whether call
 * i was inserted; false means it collided with an existing call (idempotency key or
 * provider call id) — see cb_store_call_existing. Returns ONE_RESULT or a negative qs. */
CB_MUST_CHECK enum cb_qs cb_store_calls_insert(struct cb_db *db,
                                               const struct cb_call_new *const *calls, size_t n,
                                               bool *created);
/* The call `c` collided with: its id, and whether it was the same request by the same agent.
 * SOFT_ERROR when that call vanished meanwhile. */
CB_MUST_CHECK enum cb_qs cb_store_call_existing(struct cb_db *db, const struct cb_call_new *c,
                                                char id_out[CB_UUID_LEN + 1], bool *same_request);

/* New calls, batched (src/store/calls.c). */
struct cb_batcher *cb_call_batcher_start(struct cb_db_pool *pool, int threads);
/* Insert `c` (blocking until committed). *created as for cb_store_calls_insert; when false,
 * `id_out` and *same_request describe the existing call. Returns ONE_RESULT or negative. */
CB_MUST_CHECK enum cb_qs cb_call_batcher_insert(struct cb_batcher *b, const struct cb_call_new *c,
                                                char id_out[CB_UUID_LEN + 1], bool *created,
                                                bool *same_request);
/* The same without waiting: `done(arg)` runs on the batcher thread once the batch ran, with
 * qs and created set; `it` and its call must live until then. When it comes back not created
 * (qs >= 0), cb_call_batcher_existing tells which call holds the idempotency key. -1 when out
 * of memory (nothing queued, done never called). */
struct cb_call_item {
        const struct cb_call_new *call;
        enum cb_qs qs;
        bool created;
        void (*done)(void *arg);
        void *arg;
        /* Optional: called once per batch (on the batcher thread, after the commit and before
         * any `done`) with the number of calls the batch created, when it created some; items
         * of one batch with the same committed/committed_arg share the call. */
        void (*committed)(void *committed_arg, size_t created);
        void *committed_arg;
};
int cb_call_batcher_submit(struct cb_batcher *b, struct cb_call_item *it);
CB_MUST_CHECK enum cb_qs cb_call_batcher_existing(struct cb_batcher *b, const struct cb_call_new *c,
                                                  char id_out[CB_UUID_LEN + 1], bool *same_request);

/* The API view of one call (with history and jobs) as JSON; `agent` NULL means any agent.
 * Returns ONE_RESULT with *out set (caller decrefs), NO_RESULTS when unknown or not
 * visible, or a negative qs. */
CB_MUST_CHECK enum cb_qs cb_store_call_get_json(struct cb_db *db, const char *id, const char *agent,
                                                json_t **out);

/* The call as jobs and providers see it (struct cb_call, include/callbridge/calls.h).
 * ONE_RESULT with *out filled, NO_RESULTS when there is no such call, or a negative qs; a row
 * the record cannot hold (an unknown status, a value too long) is our bug: logged, HARD_ERROR. */
struct cb_call;
CB_MUST_CHECK enum cb_qs cb_store_call_load(struct cb_db *db, const char *id, struct cb_call *out);

struct cb_call_page {
        const char *agent; /* NULL: every agent */
        int64_t since_us;  /* 0: no lower bound */
        int64_t cursor_us; /* 0: first page */
        const char *cursor_id;
        int limit;
        /* The search (?q=, cb_calls_search_term): CB_CALL_SEARCH_INVALID (0, the default) is
         * no search, every call; NUMBER matches
         * `pattern` (LIKE) against the numbers, TEXT (ILIKE) against the party's name and
         * company, the disposition and the notes. */
        enum cb_call_search search;
        const char *pattern;
};
/* One page, newest first: *calls is a JSON array (caller decrefs); *next_us/next_id (33+
 * bytes) describe the cursor of the next page, next_us 0 when this is the last page. */
CB_MUST_CHECK enum cb_qs cb_store_calls_list(struct cb_db *db, const struct cb_call_page *page,
                                             json_t **calls, int64_t *next_us,
                                             char next_id[CB_UUID_LEN + 1]);

/* The agent's wrap-up of a call (src/store/wrapup.c). Strings borrowed. */
struct cb_call_disposal {
        const char *call_id;
        const char *agent;       /* only this agent's call; NULL: any (an admin) */
        const char *by;          /* who posts it (disposed_by) */
        const char *disposition; /* a value of [agents] dispositions */
        const char *notes;       /* NULL: none */
};
struct cb_call_disposed {
        bool changed;                    /* the call took it (else it had this wrap-up already) */
        bool job_queued;                 /* a new crm.log_call job was queued for it */
        char disposed_at[CB_TS_LEN + 1]; /* RFC 3339: when the wrap-up was last changed */
};
/* Give the call `d` names its disposition and notes, replacing what it had, in one commit with
 * a history event (source 'agent') and a CRM log job (none when one is queued already); the
 * same wrap-up again changes and queues nothing. ONE_RESULT with *out, NO_RESULTS when the
 * call is unknown or not `d->agent`'s, or a negative qs (nothing written). */
CB_MUST_CHECK enum cb_qs cb_store_call_dispose(struct cb_db *db, const struct cb_call_disposal *d,
                                               struct cb_call_disposed *out);

/* Record the CRM outcome of a call: state pending|synced|local|failed, log id may be NULL. */
CB_MUST_CHECK enum cb_qs cb_store_call_set_crm(struct cb_db *db, const char *id, const char *state,
                                               const char *log_id);

/* Link a call to its CRM record when it has none yet (a link the softphone gave wins), with
 * the record's party (`party`: its match {"name","company"?,"url"}, NULL: unknown) where the
 * call has none. */
CB_MUST_CHECK enum cb_qs cb_store_call_link_record(struct cb_db *db, const char *id,
                                                   const char *record_id, const json_t *party);
/* An inbound call bridged by conference counts as answered when its agent's participant
 * answers, not when the caller's leg does: `on` marks it so (or, when the agent could not be
 * added, back), while it is not answered. Rows changed (0 or 1), or a negative qs. */
CB_MUST_CHECK enum cb_qs cb_store_call_answer_on_join(struct cb_db *db, const char *id, bool on);
/* The agent's participant answered call `id`: answered_at = now, once, for a call marked
 * answer_on_join that has not ended. Rows changed (0 or 1), or a negative qs. */
CB_MUST_CHECK enum cb_qs cb_store_call_agent_answered(struct cb_db *db, const char *id);
/* The party of a call linked to `record_id` that has none yet, from its match `party`.
 * Rows changed (0 or 1), or a negative qs. */
CB_MUST_CHECK enum cb_qs cb_store_call_set_party(struct cb_db *db, const char *id,
                                                 const char *record_id, const json_t *party);

/* Calls of `telephony` to ask the provider about (src/store/reconcile.c): rows
 * [call_id, provider_call_id, "status"|"recording"] — not final `after_s` after their last
 * change, and (with `recordings`) completed with talk time but no recording since `after_s`
 * (looked for during one day). At most `limit` of each; caller decrefs *rows. */
CB_MUST_CHECK enum cb_qs cb_store_calls_to_reconcile(struct cb_db *db, const char *telephony,
                                                     long after_s, int limit, bool recordings,
                                                     json_t **rows);

/* ---- call control (src/store/controls.c) ---- */

/* The control state of call `call_id` (all zero, version 0, when no action was recorded):
 * ONE_RESULT, or a negative qs. */
CB_MUST_CHECK enum cb_qs cb_store_controls_load(struct cb_db *db, const char *call_id,
                                                struct cb_call_controls *out, long *version);
/* The agent who transferred call `call_id` to its agent into `out` ("" when none): they may
 * still repeat the transfer. ONE_RESULT, NO_RESULTS (no such call), or a negative qs. */
CB_MUST_CHECK enum cb_qs cb_store_call_transferred_from(struct cb_db *db, const char *call_id,
                                                        char *out, size_t size);
/* Record `after` and the history event `event` (source 'agent') in one statement, over the
 * state of `version` (cb_store_controls_load); with `new_agent` (else NULL: a transfer to that
 * agent is done, cb_calls_control_new_agent) the call becomes that agent's and its
 * agent.call_status job is queued (the new agent busy). ONE_RESULT when recorded, NO_RESULTS
 * when another action was recorded meanwhile (nothing written), or a negative qs. */
CB_MUST_CHECK enum cb_qs cb_store_controls_record(struct cb_db *db, const char *call_id,
                                                  const struct cb_call_controls *after,
                                                  long version, const char *event,
                                                  const char *new_agent);

/* ---- the agent's current call (src/store/agent_call.c) ---- */

/* The call the agent's console shows (GET /api/agent/call): its newest call that is not final
 * (created in the last 12 hours), else the final call its wrap-up waits for (agent_status
 * wrap_up for it, no disposition). ONE_RESULT with `id` and *status, NO_RESULTS (id ""), or a
 * negative qs. */
CB_MUST_CHECK enum cb_qs cb_store_agent_active_call(struct cb_db *db, const char *agent,
                                                    char id[CB_UUID_LEN + 1],
                                                    enum cb_call_status *status);

/* ---- call metrics over a period (src/store/stats.c) ---- */

/* Metrics of the calls created in [since_us, until_us) and the wrap-ups begun in it, for
 * `agent` (NULL: every agent). ONE_RESULT with *overall (the totals: {"outbound":{"placed",
 * "answered"},"inbound":{"received","answered","missed","abandoned"},"wait_s":{"avg","p90"},
 * "talk_s":{"total","avg"},"wrap_up_s":{"count","total","avg"}}) and *agents (the same per
 * agent, with "agent"), both the caller's to free; or a negative qs with both NULL. */
CB_MUST_CHECK enum cb_qs cb_store_stats(struct cb_db *db, int64_t since_us, int64_t until_us,
                                        const char *agent, json_t **overall, json_t **agents);

#endif
