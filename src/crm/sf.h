/* Inside the Salesforce provider: OAuth (sf_auth.c), the REST client (sf_rest.c), the schema
 * check (sf_schema.c) and the operations (salesforce.c) share this state. */
#ifndef CB_CRM_SF_H
#define CB_CRM_SF_H

#include <jansson.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "callbridge/config.h"
#include "callbridge/crm.h"
#include "callbridge/util.h"

#define SF_TOKEN_MAX 512
#define SF_URL_MAX   256

/* An access token and where to use it; copied out so no lock is held during a request. */
struct sf_token {
        char access[SF_TOKEN_MAX];
        char instance_url[SF_URL_MAX];
        char org_id[32];
};

struct sf {
        const struct cb_config *cfg; /* borrowed from main; outlives the provider */
        EVP_PKEY *key;               /* JWT flow */
        char *client_secret;         /* client_credentials and refresh_token flows */
        char *refresh_token;         /* refresh_token flow */
        char token_key[80];          /* Redis key of the shared token */

        pthread_mutex_t lock; /* guards the fields below up to the schema */
        struct sf_token token;
        bool have_token;
        int64_t token_until_us;  /* monotonic: re-read Redis / re-ask after this */
        char auth_error[256];    /* last OAuth refusal ("invalid_grant: ..."), or "" */
        int64_t auth_retry_us;   /* monotonic: no token request before this */
        long auth_backoff_ms;    /* grows after each refusal, reset by a success */
        pthread_mutex_t refresh; /* single flight for token requests in this process */

        pthread_mutex_t schema_lock; /* guards `fields` and `missing` */
        json_t *fields;              /* {"Task":{"Subject":true,...}} from describe */
        json_t *missing;             /* {"Task":["Field",...]} reported once */

        atomic_long api_used, api_max; /* last Sforce-Limit-Info */
        /* The org refused us with REQUEST_LIMIT_EXCEEDED: until a request succeeds, every
         * request before allowance_probe_us (monotonic) WAITs without being sent. */
        atomic_bool allowance_exhausted;
        atomic_llong allowance_probe_us;
        atomic_ulong waits; /* WAIT answers (allowance, 429, budget holds) */
        atomic_ulong token_requests, token_refusals, session_checks;

        pthread_t warmup;
        bool warmup_started;
        pthread_mutex_t stop_lock;
        pthread_cond_t stop_cond;
        bool stopping;
};

/* ---- sf_auth.c ---- */

/* A usable token in `out`: from memory, then Redis, then a token request (one at a time in
 * this process, and across instances while Redis works). RETRY with `err` set while the
 * org refuses us (invalid_grant...: asked again only after a growing pause) or cannot be
 * reached. */
CB_MUST_CHECK enum cb_result sf_auth_token(struct sf *sf, struct sf_token *out, char *err,
                                           size_t err_size);
/* `used` was refused with INVALID_SESSION_ID: forget it and get another, unless another
 * thread or instance already did. Same contract as sf_auth_token. */
CB_MUST_CHECK enum cb_result sf_auth_renew(struct sf *sf, const struct sf_token *used,
                                           struct sf_token *out, char *err, size_t err_size);
/* "" when authentication works (or was not tried yet), else why not; copied into `out`. */
void sf_auth_error(struct sf *sf, char *out, size_t out_size);

/* ---- sf_rest.c ---- */

/* What a REST answer said besides the result. */
struct sf_answer {
        long status;         /* HTTP status; 0 when no answer arrived */
        char code[64];       /* Salesforce's errorCode of an error answer, or "" */
        struct sf_token tok; /* the token the request went with (its instance URL makes links) */
};

/* One REST request to `path` (below the instance URL, e.g. "/services/data/v60.0/query?q=..."),
 * with a JSON body or NULL. A refused token is renewed once and the request replayed. Returns
 * OK for 2xx with `*out` the parsed body (NULL when empty); otherwise WAIT (403
 * REQUEST_LIMIT_EXCEEDED, 429, low-priority work over the API budget: a wait hint is set,
 * see cb_wait_hint_set), RETRY (transport, 401 after renewal, 5xx) or FAIL (300 and other
 * 4xx, with the body in `err`). `ans` says the status and errorCode,
 * and `*out` may hold the error body for the caller to inspect. */
/* True (a wait hint set, `err` filled) when low-priority work is held: the API usage is over
 * [salesforce] limit_threshold_pct of the allowance. */
bool sf_rest_budget_holds(struct sf *sf, char *err, size_t err_size);
CB_MUST_CHECK enum cb_result sf_rest(struct sf *sf, const char *method, const char *path,
                                     const json_t *body, enum cb_crm_priority prio,
                                     struct sf_answer *ans, json_t **out, char *err,
                                     size_t err_size);
/* What a non-2xx answer means: WAIT (429, 403 REQUEST_LIMIT_EXCEEDED; `*allowance_spent`
 * when it is the daily allowance: usage `used`/`max` at the limit, or the message says
 * TotalRequests when no usage is known), RETRY (5xx, 401) or FAIL (300, other 4xx). */
CB_MUST_CHECK enum cb_result sf_classify(long status, const char *code, const char *message,
                                         long used, long max, bool *allowance_spent);
/* Parse "api-usage=25/15000" out of a Sforce-Limit-Info value into the gauges. */
void sf_limits_parse(struct sf *sf, const char *value);

/* ---- sf_schema.c ---- */

/* Drop from `record` (in place) every field `object` lacks, reporting each missing field
 * once (log and health). When describe cannot be had the record is left as it is. */
void sf_schema_filter(struct sf *sf, const char *object, json_t *record);
/* True when `object` has `field` (or the schema is unknown yet). */
bool sf_schema_has(struct sf *sf, const char *object, const char *field);
/* Describe `object` now (cached); RETRY/FAIL as sf_rest. */
CB_MUST_CHECK enum cb_result sf_schema_load(struct sf *sf, const char *object, char *err,
                                            size_t err_size);
/* Forget what describe said of `object` (after INVALID_FIELD): the next write asks again. */
void sf_schema_forget(struct sf *sf, const char *object);
/* "Task: A, B; Lead: C" or "" — the fields reported missing. */
void sf_schema_missing(struct sf *sf, char *out, size_t out_size);

/* ---- sf_records.c: lookup, records, leads ---- */

CB_MUST_CHECK enum cb_result sf_lookup_phone(void *self, const char *e164, json_t **matches,
                                             char *err, size_t err_size);
CB_MUST_CHECK enum cb_result sf_get_record(void *self, const char *type, const char *id,
                                           json_t **record, char *err, size_t err_size);
CB_MUST_CHECK enum cb_result sf_create_lead(void *self, const char *e164, json_t **match, char *err,
                                            size_t err_size);
/* ---- sf_ids.c: ids in their 15- and 18-character forms ---- */

#define SF_ID_LEN 18 /* an id in its case-insensitive form */

/* The 18-character form of the Salesforce id `id` into `out`: a 15-character id is
 * case-sensitive and gets its suffix; an 18-character one is case-insensitive, its suffix
 * telling which of the first 15 are capitals (restored here). False, `out` "", for anything
 * else: another length, a character that is not a letter or digit, a suffix character
 * outside A-Z0-5, or a suffix that marks a digit as a capital. */
bool sf_id_canon(const char *id, char out[SF_ID_LEN + 1]);
/* The crm op user_id_canon: a User id (key prefix 005) in either form, in its 18-character
 * form; false (`out` "") for any other id or text. */
bool sf_user_id_canon(const char *id, char *out, size_t out_size);

/* "Contact", "Lead", "Account", "Opportunity", "Task", "User" from an id's key prefix, or
 * NULL. */
const char *sf_type_of_id(const char *id);
/* The Lightning URL of a record, as a new JSON string. */
json_t *sf_record_url(const struct sf_token *tok, const char *type, const char *id);

/* ---- sf_user.c: Sign in with Salesforce, the signed-in user's record access (crm ops) ---- */

bool sf_sign_in_enabled(void *self);
int sf_sign_in_url(void *self, const char *redirect_uri, const char *state, const char *challenge,
                   const char *login_hint, struct cb_buf *out);
CB_MUST_CHECK enum cb_result sf_sign_in_exchange(void *self, const char *code, const char *verifier,
                                                 const char *redirect_uri, char *user_id,
                                                 size_t user_id_size, char *cred, size_t cred_size,
                                                 char *err, size_t err_size);
CB_MUST_CHECK enum cb_result sf_user_can_read(void *self, const char *cred, const char *user_id,
                                              const char *record_id, bool *can_read, char *err,
                                              size_t err_size);

/* ---- sf_calllog.c: the call log, attachments, follow-up tasks ---- */

CB_MUST_CHECK enum cb_result sf_log_call(void *self, const struct cb_call *call,
                                         struct cb_crm_logged *out, char *err, size_t err_size);
CB_MUST_CHECK enum cb_result sf_attach(void *self, const struct cb_call *call, const json_t *fields,
                                       enum cb_crm_priority prio, char *err, size_t err_size);
CB_MUST_CHECK enum cb_result sf_create_task(void *self, const struct cb_call *call, const char *key,
                                            const json_t *task, char *task_id, size_t task_id_size,
                                            char *err, size_t err_size);
/* The call log record for `call` before the schema filter, its Description with `summary`
 * (NULL: none). NULL when out of memory; the caller decrefs. */
json_t *sf_call_record(const struct sf *sf, const struct cb_call *call, const char *summary);
/* Set on `rec` the Task fields of `fields` (attach's names: recording_url, sentiment, tags...). */
void sf_attach_fields(const struct cb_call *call, const json_t *fields, json_t *rec);
/* Upsert the transcript `text` as Callbridge_Transcript__c parts, related to `task_id` (Task__c
 * text; NULL or "": none yet) and the call's Contact/Lead, `entities` on the first part, whose
 * id lands in `first`. */
CB_MUST_CHECK enum cb_result sf_transcript_parts(struct sf *sf, const struct cb_call *call,
                                                 const char *task_id, const char *text,
                                                 const json_t *entities, enum cb_crm_priority prio,
                                                 char *first, size_t first_size, char *err,
                                                 size_t err_size);

/* The Task fields of an attach of `fields` (sf_attach_fields plus the Description with the
 * recording link and summary); NULL when out of memory. The caller decrefs. */
json_t *sf_attach_record(const struct sf *sf, const struct cb_call *call, const json_t *fields);
/* The transcript's parts as [{"key","record"}] (Callbridge_Transcript__c by Callbridge_Key__c),
 * NULL when out of memory. The caller decrefs. */
json_t *sf_transcript_records(const struct cb_call *call, const char *task_id, const char *text,
                              const json_t *entities);
/* The follow-up Task record of create_task's `task`; NULL when out of memory. */
json_t *sf_task_record(const struct cb_call *call, const json_t *task);
/* FAIL (err set) when the Task lacks Callbridge_Followup_Key__c, else OK (schema unknown
 * included). */
CB_MUST_CHECK enum cb_result sf_task_key_check(struct sf *sf, char *err, size_t err_size);
/* True for Salesforce's refusals of an OwnerId (malformed, unknown, inactive user). */
bool sf_owner_refused(const char *code);

/* ---- sf_batch.c: sObject Collections upserts (the batch crm ops) ---- */

/* One record of sf_upsert_many and its own outcome. */
struct sf_upsert_item {
        json_t *record;    /* borrowed; filtered (and merged into, for repeated keys) in place */
        const char *value; /* its external id */
        enum cb_result r;  /* out: OK, RETRY, WAIT or FAIL */
        char id[CB_CRM_ID_MAX];
        char err[256];
        char unlinked[256]; /* out: why its relationship fields (X__r) were dropped, or "" */
        size_t same;        /* internal: index of the first item with the same value */
};

/* Upsert every item into `object` by `field` with sObject Collections (PATCH
 * composite/sobjects/<object>/<field>, allOrNone false, at most 200 a request): each item gets
 * its own outcome. Items sharing a value are merged in order into one record (a request may
 * not name one twice) and share its outcome. A field the org refuses is dropped (the schema
 * asked again) and an owner it refuses is left out, and those records alone are sent once
 * more. A failed request gives its outcome to every item it carried. */
void sf_upsert_many(struct sf *sf, const char *object, const char *field,
                    struct sf_upsert_item *items, size_t n, enum cb_crm_priority prio);
/* True when the API version has sObject Collections upserts (46.0 and later). */
bool sf_collections_supported(const struct sf *sf);
/* Merge items sharing a value into the first of them (in order: later fields win); each
 * item's `same` names the one it went into. */
void sf_upsert_merge(struct sf_upsert_item *items, size_t n);
/* Give every merged item the outcome of the item it went into. */
void sf_upsert_share(struct sf_upsert_item *items, size_t n);
/* What the UpsertResult `res` says of item `it` (of `object`); true when it should be sent
 * again, only before the `last` round: a field the org refused (the schema is asked again and
 * it is dropped), a refused OwnerId (left out), a relationship to a record by External ID that
 * is not there (left out, noted in `unlinked`). */
bool sf_upsert_settle(struct sf *sf, const char *object, struct sf_upsert_item *it,
                      const json_t *res, bool last);
void sf_log_calls(void *self, struct cb_crm_item *items, size_t n);
void sf_attach_many(void *self, struct cb_crm_item *items, size_t n);
void sf_create_tasks(void *self, struct cb_crm_item *items, size_t n);

/* ---- sf_composite.c: every batch write in one Composite request (crm op write_batch) ---- */

/* One collection of a composite write: the items of `object` keyed by `field`. */
struct sf_collection {
        const char *object, *field;
        struct sf_upsert_item *items;
        size_t n;
};

/* Upsert the items of every collection with Composite requests (POST composite, allOrNone
 * false, collateSubrequests false so subrequests run in order), each carrying up to 5 sObject
 * Collections subrequests of up to 200 records, the collections in the order given: a record
 * may link by External ID to one of an earlier collection. Items get their outcomes as with
 * sf_upsert_many (merged by value within a collection, a second round for refused fields,
 * owners and links); a subrequest's own error goes to its records only, a failed composite
 * to all of its records. */
void sf_upsert_composite(struct sf *sf, struct sf_collection *colls, size_t ncolls,
                         enum cb_crm_priority prio);
void sf_write_batch(void *self, struct cb_crm_batch *batch);

/* ---- sf_single.c: write_mode = single ---- */

CB_MUST_CHECK enum cb_result sf_log_call_once(void *self, const struct cb_call *call,
                                              const json_t *fields, struct cb_crm_logged *out,
                                              char *err, size_t err_size);
/* Report once (log, /readyz) which of the fields a call log carries the org lacks. */
void sf_calllog_check_schema(struct sf *sf);
/* Upsert `record` (borrowed, filtered in place by the schema) into `object` by `field` =
 * `value`. OK with the record id in `id`. INVALID_FIELD also makes the schema be asked
 * again on the next write. */
CB_MUST_CHECK enum cb_result sf_upsert(struct sf *sf, const char *object, const char *field,
                                       const char *value, json_t *record, enum cb_crm_priority prio,
                                       char *id, size_t id_size, char *err, size_t err_size);

#endif
