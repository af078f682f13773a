/* The CRM interface. A provider is one src/crm/<name>.c defining a `struct cb_crm_ops`;
 * src/crm/none.c is the template to copy, and src/crm/crm.c lists the providers.
 *
 * Every operation reports CB_RESULT_OK, RETRY (the upstream is down, slow, rate limited or
 * our token expired: try again later) or FAIL (the request itself is wrong: retrying cannot
 * help), with a human reason in `err` for the job's last_error. Every write is idempotent:
 * called again with the same arguments it changes nothing more. The call a write is about is a
 * typed `const struct cb_call *` (include/callbridge/calls.h: "" for what is unknown); JSON
 * arguments are borrowed; JSON results are new references the caller decrefs. */
#ifndef CALLBRIDGE_CRM_H
#define CALLBRIDGE_CRM_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "callbridge/calls.h"
#include "callbridge/config.h"
#include "callbridge/util.h"
#include "callbridge/upstream.h"

/* Where a call log ended up. */
struct cb_crm_logged {
        char id[CB_CRM_ID_MAX]; /* the CRM record id ("" when none) */
        const char *state;      /* the call's crm_state: "synced", "local", or "pending" when
                                 * nothing was written yet (single write mode, call not over) */
};

/* A signed-in user's id and credential (cb_crm_ops.sign_in_exchange), with their NULs. */
#define CB_CRM_USER_ID_MAX   64
#define CB_CRM_USER_CRED_MAX 2048

/* Work a write may be held back for (API budget): call logs always go first. */
enum cb_crm_priority { CB_CRM_PRIO_HIGH = 0, CB_CRM_PRIO_LOW };

/* The CRM-neutral kinds of record (cb_crm_ops.record_kind). */
#define CB_CRM_KIND_LEAD    "lead"
#define CB_CRM_KIND_CONTACT "contact"
#define CB_CRM_KIND_COMPANY "company"
#define CB_CRM_KINDS        "lead|contact|company"

/* One write of a batch (cb_crm_ops.log_calls, attach_many, create_tasks) with its own
 * outcome: a batch never fails or repeats one item for another's sake. */
struct cb_crm_item {
        const struct cb_call *call;  /* borrowed */
        const json_t *fields;        /* attach_many: as attach's; create_tasks: the task */
        const char *key;             /* create_tasks: as create_task's */
        enum cb_crm_priority prio;   /* attach_many */
        enum cb_result result;       /* out: OK, RETRY, WAIT or FAIL for this item */
        struct cb_crm_logged logged; /* log_calls: out */
        char id[CB_CRM_ID_MAX];      /* create_tasks: the task's id (out) */
        char err[256];               /* out: why, when not OK */
};

/* The writes of several kinds that cb_crm_ops.write_batch takes in one call: call logs (as
 * log_calls: `logs[i].logged` out), additions to call logs (as attach_many) and follow-up tasks
 * (as create_tasks: `tasks[i].id` out), every item with its own outcome. They apply as if in
 * this order — logs, additions of high priority, of low priority, tasks; items of one call in
 * their order within each (a later field wins) — as the three batch ops write them. */
struct cb_crm_batch {
        struct cb_crm_item *logs, *attaches, *tasks; /* borrowed arrays */
        size_t nlogs, nattaches, ntasks;
};

/* What a CRM provider can do (struct cb_crm_ops.caps). */
#define CB_CRM_CAP_LOOKUP 0x1u /* lookup_phone finds records (none's always answers empty) */

struct cb_crm_ops {
        const char *name;
        unsigned caps; /* CB_CRM_CAP_* */
        /* Build the provider's state from the configuration. NULL (reason logged) when the
         * configuration is unusable; destroy(NULL) must be safe. Must not need the network:
         * the daemon starts while the CRM is unreachable. */
        void *(*create)(const struct cb_config *cfg);
        void (*destroy)(void *self);

        /* Records whose phone fields hold the number `e164` in whatever format the CRM stores
         * it: a JSON array of {"type","id","name","company"?,"url","last_modified"?}, newest
         * first. An unknown number is OK with an empty array. */
        enum cb_result (*lookup_phone)(void *self, const char *e164, json_t **matches, char *err,
                                       size_t err_size);
        /* One record by id ({"type","id","name",...} or the provider's fields). `type` may be
         * NULL when the id tells it. Unknown id: FAIL. */
        enum cb_result (*get_record)(void *self, const char *type, const char *id, json_t **record,
                                     char *err, size_t err_size);
        /* Optional: the provider's own type of the record an id names when the id alone
         * tells it, else NULL. No upstream call. ([stt] policy record_type=, deprecated.) */
        const char *(*record_type)(void *self, const char *id);
        /* Optional: what the record `id` names, as one of the CRM-neutral kinds
         * CB_CRM_KIND_LEAD (a prospect), CB_CRM_KIND_CONTACT (a known person) or
         * CB_CRM_KIND_COMPANY; NULL when unknown or none of these. No upstream call (a provider
         * whose ids do not tell may answer from what it looked up or created). [stt] policy
         * record_kind= asks it. */
        const char *(*record_kind)(void *self, const char *id);
        /* Create (once per number, however often called) a record for a caller the CRM does
         * not know, and return its match as lookup_phone would. */
        enum cb_result (*create_lead)(void *self, const char *e164, json_t **match, char *err,
                                      size_t err_size);

        /* Create or update the call log for `call` (as cb_store_call_load read it). */
        enum cb_result (*log_call)(void *self, const struct cb_call *call,
                                   struct cb_crm_logged *out, char *err, size_t err_size);
        /* Optional (write_mode = single): write the call log of the finished `call` in ONE
         * write with `fields` (as attach takes them: recording, analysis, transcript) — the
         * transcript's own records first, then the call log with everything, then the
         * transcript records' link to it. Without it the job writes log_call then attach. */
        enum cb_result (*log_call_once)(void *self, const struct cb_call *call,
                                        const json_t *fields, struct cb_crm_logged *out, char *err,
                                        size_t err_size);
        /* Add `fields` to the call's log: recording link and metadata, transcript, sentiment,
         * keywords, tags, summary... Keys are callbridge's names (see the provider for how
         * they map); unknown ones are skipped. */
        enum cb_result (*attach)(void *self, const struct cb_call *call, const json_t *fields,
                                 enum cb_crm_priority prio, char *err, size_t err_size);
        /* Create the follow-up task `task` {"subject","description"?,"due_date"?,
         * "priority"? ("High", "Normal", "Low"; Normal when absent)} for `call`,
         * once per `key` (e.g. "<call id>:<rule>"). `task_id` receives its id. */
        enum cb_result (*create_task)(void *self, const struct cb_call *call, const char *key,
                                      const json_t *task, char *task_id, size_t task_id_size,
                                      char *err, size_t err_size);
        /* ---- Optional batch writes: the same as log_call, attach and create_task for each of
         * `n` items, in fewer requests (e.g. Salesforce's sObject Collections: up to 200
         * records each), every item with its own outcome. Items may name one call more than
         * once (applied in order). Without them cb_crm_log_calls & co. write one by one. ---- */
        void (*log_calls)(void *self, struct cb_crm_item *items, size_t n);
        void (*attach_many)(void *self, struct cb_crm_item *items, size_t n);
        void (*create_tasks)(void *self, struct cb_crm_item *items, size_t n);
        /* Optional: every write of `batch` in as few requests as the CRM allows (Salesforce:
         * one Composite request carrying its sObject Collections), each item with the outcome
         * the three batch ops above would give it; a low-priority item the API budget holds is
         * left out (WAIT). Without it cb_crm_write_batch calls them in turn. */
        void (*write_batch)(void *self, struct cb_crm_batch *batch);

        /* The field names of `object` as a JSON array of strings. */
        enum cb_result (*describe)(void *self, const char *object, json_t **fields, char *err,
                                   size_t err_size);

        /* Optional: the canonical form of a CRM user id (agents.crm_user_id: who owns
         * records and signs in) into `out`; false for what is no user id of this CRM. Pure,
         * with no provider state: the CLI checks agents without building the provider.
         * Lookup matches' "owner_id" must come in this form. NULL: ids are kept as given. */
        bool (*user_id_canon)(const char *id, char *out, size_t out_size);
        /* Optional (`callbridge crm check|setup`): check what the CRM account must have for
         * callbridge (custom fields or properties), creating what is missing when `create`,
         * one line per item on `out`. 0 when everything is there at the end, 1 when something
         * is missing or the CRM could not be asked (the reason printed). Builds what it needs
         * from `cfg` (needs curl_global_init; Redis for shared tokens when configured). NULL:
         * the provider's set-up is a manual step its docs describe. */
        int (*setup)(const struct cb_config *cfg, bool create, FILE *out);

        /* Optional (NULL): map a user's CRM session token to an agent name. FAIL when the
         * token is not valid; RETRY when the CRM cannot say right now. */
        enum cb_result (*session_agent)(void *self, const char *token, char *agent,
                                        size_t agent_size, char *err, size_t err_size);
        /* Optional, with session_agent: false when the configuration turned session tokens
         * as bearers off (NULL: on). No upstream call. */
        bool (*session_auth_enabled)(void *self);

        /* ---- Sign in with the CRM (optional, all three or none; NULL: the sign-in routes
         * answer 404). The OAuth 2.0 authorization code flow with PKCE S256: the HTTP layer
         * keeps the state and the verifier, makes the session, and keeps the user's
         * credential sealed; the provider knows the URLs and what the answers mean. ---- */
        /* True when the configuration allows signing users in. No upstream call. */
        bool (*sign_in_enabled)(void *self);
        /* Append the CRM's authorize URL for `redirect_uri`, `state`, the S256 `challenge`
         * and `login_hint` (NULL: none) to `out`. 0, or -1 (too long, out of memory). */
        int (*sign_in_url)(void *self, const char *redirect_uri, const char *state,
                           const char *challenge, const char *login_hint, struct cb_buf *out);
        /* Exchange `code` (with `verifier`, for `redirect_uri`) and say who signed in: the
         * user's id as the CRM gives it into `user_id` (agents.crm_user_id names the agent),
         * and the user's credential — text opaque to callbridge, sealed at rest and handed
         * back to user_can_read — into `cred` (the caller wipes it). FAIL when the CRM refused
         * (err: its reason, never a code or a token), RETRY when it did not answer. */
        enum cb_result (*sign_in_exchange)(void *self, const char *code, const char *verifier,
                                           const char *redirect_uri, char *user_id,
                                           size_t user_id_size, char *cred, size_t cred_size,
                                           char *err, size_t err_size);
        /* Optional: may the signed-in user `user_id` (credential `cred` from
         * sign_in_exchange) read record `record_id`? Asked of the CRM as that user (recording
         * links of its records). OK with *can_read; FAIL (the credential is no longer valid,
         * a malformed id: *can_read false), RETRY. */
        enum cb_result (*user_can_read)(void *self, const char *cred, const char *user_id,
                                        const char *record_id, bool *can_read, char *err,
                                        size_t err_size);
        /* Optional: "ok" or why the provider cannot work (e.g. "invalid_grant: ..."), for
         * /readyz's detail. */
        void (*health)(void *self, char *out, size_t out_size);
        /* Optional: the base URL the CRM's records open under (Salesforce: the instance URL
         * of the token in hand) into `out`; false when not known yet. No upstream call. */
        bool (*instance_url)(void *self, char *out, size_t out_size);
        /* Optional: append the provider's Prometheus metrics. */
        void (*metrics)(void *self, struct cb_buf *out);
};

struct cb_crm {
        const struct cb_crm_ops *ops;
        void *self;
};

/* The provider `[crm] provider` selects (auto: [salesforce] enabled → salesforce, else
 * [hubspot] enabled → hubspot, else none).
 * NULL (logged) when it cannot be built. Free with cb_crm_destroy. */
struct cb_crm *cb_crm_create(const struct cb_config *cfg);
void cb_crm_destroy(struct cb_crm **crm);
/* The ops of the provider the configuration selects, without building it (for what needs only
 * the pure ops, such as user_id_canon in the CLI). Never NULL (none when unknown). */
const struct cb_crm_ops *cb_crm_ops_of(const struct cb_config *cfg);

/* The batch writes through the provider's batch op, or one item at a time through log_call,
 * attach or create_task when it has none. Each item's `result` and `err` say its outcome. */
void cb_crm_log_calls(struct cb_crm *crm, struct cb_crm_item *items, size_t n);
void cb_crm_attach_many(struct cb_crm *crm, struct cb_crm_item *items, size_t n);
void cb_crm_create_tasks(struct cb_crm *crm, struct cb_crm_item *items, size_t n);
/* Every write of `batch` through the provider's write_batch, or through cb_crm_log_calls,
 * cb_crm_attach_many and cb_crm_create_tasks in that order when it has none. */
void cb_crm_write_batch(struct cb_crm *crm, struct cb_crm_batch *batch);

extern const struct cb_crm_ops cb_crm_none;
extern const struct cb_crm_ops cb_crm_salesforce;
extern const struct cb_crm_ops cb_crm_hubspot;

/* ---- screen pop (src/crm/lookup.c) ------------------------------------------------------ */

/* Caller lookup with the Redis cache in front of the CRM: by E.164, positive results for
 * `[redis] lookup_ttl_s`, unknown numbers for `[redis] lookup_negative_ttl_s`; concurrent
 * misses for one number make one upstream call (in this process, and across instances
 * through a short Redis lock); a Redis outage sends every lookup to the CRM. A short
 * in-process copy (`[redis] lookup_local_ms`, at most 1 s) sits in front of Redis. The
 * `[crm] multi_match` and `unknown` policies are applied here. */
struct cb_lookup_result {
        json_t *matches; /* array (owned: cb_lookup_result_clear) */
        bool cached;     /* answered from Redis (or its in-process copy) */
};

/* Look `e164` up. `cache_only`: answer only from Redis (NO upstream call): RETRY on a miss.
 * On OK `res` holds the matches; RETRY/FAIL fill `err`. */
CB_MUST_CHECK enum cb_result cb_lookup(struct cb_crm *crm, const struct cb_config *cfg,
                                       const char *e164, bool cache_only,
                                       struct cb_lookup_result *res, char *err, size_t err_size);
void cb_lookup_result_clear(struct cb_lookup_result *res);
/* The screen-pop answer for `e164` appended to `out`:
 * {"phone_e164","matches":[...],"cached":bool}, the policies applied; a cached answer that
 * keeps every match is copied as cached, not parsed. OK, or RETRY/FAIL with `err` filled
 * (`out` may then hold part of an answer). */
CB_MUST_CHECK enum cb_result cb_lookup_answer(struct cb_crm *crm, const struct cb_config *cfg,
                                              const char *e164, struct cb_buf *out, char *err,
                                              size_t err_size);
/* Forget what is cached for `e164` (a CRM write changed a phone): in Redis and in this
 * process at once, in other instances' in-process copies within [redis] lookup_local_ms. */
void cb_lookup_invalidate(const char *e164);
/* Prometheus text: lookups by outcome (hit, miss, negative hit, degraded). */
void cb_lookup_metrics_write(struct cb_buf *out);

#endif
