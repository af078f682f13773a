/* Inside the HubSpot provider: auth (hs_auth.c), the REST client and its limits (hs_rest.c),
 * the properties check (hs_schema.c), records (hs_records.c), the call log, its note and
 * follow-up tasks (hs_calllog.c, hs_note.c) and the ops table (hubspot.c) share this state. */
#ifndef CB_CRM_HS_H
#define CB_CRM_HS_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "callbridge/config.h"
#include "callbridge/crm.h"
#include "callbridge/util.h"

#define HS_ASSOC_MEMO 4096 /* slots of struct hs.assoc_made (32 KB) */
#define HS_TOKEN_MAX  1024

/* Association type ids (HubSpot-defined defaults) used with the v4 default PUT. */
#define HS_ASSOC_CALL_CONTACT 194
#define HS_ASSOC_CALL_COMPANY 182

/* Requests by outcome (metrics). */
enum hs_outcome { HS_OK = 0, HS_WAIT, HS_RETRY, HS_FAIL, HS_OUTCOMES };

struct hs {
        const struct cb_config *cfg; /* borrowed from main; outlives the provider */
        char *static_token;          /* auth = private_app */
        char *client_secret;         /* auth = oauth */
        char *refresh_token;         /* auth = oauth */
        char token_key[96];          /* Redis key of the shared OAuth access token */

        pthread_mutex_t lock; /* guards the fields below up to `refresh` */
        char token[HS_TOKEN_MAX];
        bool have_token;
        int64_t token_until_us; /* monotonic: re-read Redis / re-ask after this */
        char auth_error[256];   /* last refusal ("BAD_REFRESH_TOKEN: ..."), or "" */
        int64_t auth_retry_us;  /* monotonic: no token request before this */
        long auth_backoff_ms;
        pthread_mutex_t refresh; /* single flight for token requests in this process */

        atomic_long portal_id; /* account-info; 0 until known */

        pthread_mutex_t schema_lock; /* guards `props`, `props_at`, `missing`, `kinds` */
        json_t *props;               /* {"calls":{"hs_timestamp":<unique?>,...}} */
        json_t *props_at;            /* {"calls":<cb_mono_us when read>} */
        json_t *missing;             /* {"calls":["prop",...]} reported once */
        json_t *kinds;               /* {"<record id>":"contacts"|"companies"} seen */

        pthread_mutex_t pace_lock; /* the search pacer */
        int64_t next_search_us;    /* monotonic: the next search may start then */

        /* The last X-HubSpot-RateLimit-* headers (-1: not seen). */
        atomic_long rl_max, rl_remaining, rl_interval_ms, rl_daily, rl_daily_remaining;
        atomic_llong rl_seen_us; /* monotonic time they were read */
        /* A DAILY 429: until daily_probe_us (monotonic) every request WAITs unsent. */
        atomic_bool daily_exhausted;
        atomic_llong daily_probe_us;
        atomic_bool note_call_refused; /* the account has no default note→call association */
        /* Associations made by this process (hashes of "from/id>to/id"; 0 = empty slot), so a
         * call upserted again at each of its stages is not associated again each time: a
         * memo, not the truth — a restart or an evicted slot only costs one idempotent PUT. */
        pthread_mutex_t assoc_lock;
        uint64_t assoc_made[HS_ASSOC_MEMO];
        atomic_ulong outcomes[HS_OUTCOMES];
        atomic_ulong waits, searches, token_requests, token_refusals;

        pthread_t warmup;
        bool warmup_started;
        pthread_mutex_t stop_lock;
        pthread_cond_t stop_cond;
        bool stopping;
};

/* ---- hubspot.c: the neutral policies, read in one place (they move to [crm]) ---- */

/* write_mode = single? */
bool hs_single_write(const struct cb_config *cfg);
/* unknown = create_lead (a Contact per unknown caller)? */
bool hs_creates_contacts(const struct cb_config *cfg);

/* ---- hs_auth.c ---- */

/* The access token to send, copied into `out` (HS_TOKEN_MAX): the private app's, or the
 * OAuth one from memory, then Redis, then a refresh (one at a time in this process, and across
 * instances while Redis works). RETRY with `err` while HubSpot refuses the refresh token
 * (asked again only after a growing pause) or cannot be reached. */
CB_MUST_CHECK enum cb_result hs_auth_token(struct hs *hs, char *out, char *err, size_t err_size);
/* `used` was refused (401): get another one unless another thread or instance already did.
 * A private app token cannot be renewed: RETRY, and the refusal is remembered for /readyz. */
CB_MUST_CHECK enum cb_result hs_auth_renew(struct hs *hs, const char *used, char *out, char *err,
                                           size_t err_size);
/* Remember why HubSpot refused our credentials ("" clears), for /readyz. */
void hs_auth_refused(struct hs *hs, const char *why);
/* "" when authentication works (or was not tried yet), else why not. */
void hs_auth_error(struct hs *hs, char *out, size_t out_size);

/* ---- hs_rest.c ---- */

/* What an answer said besides the body. */
struct hs_answer {
        long status;        /* HTTP status; 0 when no answer arrived */
        char category[64];  /* HubSpot's error category ("VALIDATION_ERROR"...), or "" */
        char property[128]; /* the property a VALIDATION_ERROR names, or "" */
};

/* One request to `path` below api_base_url with a JSON body or NULL. A refused token is
 * renewed once and the request replayed. OK for 2xx with `*out` the parsed body (NULL when
 * empty); WAIT (429, a DAILY limit reached, low-priority work while the 10-second budget is
 * nearly spent: a wait hint is set, see cb_wait_hint_set), RETRY (transport, 401 after
 * renewal, 5xx) or FAIL (other 4xx, HubSpot's message in `err`). `*out` may hold the error
 * body for the caller. */
CB_MUST_CHECK enum cb_result hs_rest(struct hs *hs, const char *method, const char *path,
                                     const json_t *body, enum cb_crm_priority prio,
                                     struct hs_answer *ans, json_t **out, char *err,
                                     size_t err_size);
/* A search (POST /crm/v3/objects/<object>/search), paced to [hubspot] search_per_s. */
CB_MUST_CHECK enum cb_result hs_search(struct hs *hs, const char *object, const json_t *body,
                                       json_t **out, char *err, size_t err_size);
/* What a non-2xx answer means: WAIT (429; `*daily` when its policy is DAILY), RETRY (5xx,
 * 401, 408) or FAIL (other 4xx). */
CB_MUST_CHECK enum cb_result hs_classify(long status, const char *policy, bool *daily);
/* How long a 429 waits: the interval header for the rolling limits, a second for the
 * search limit (no headers), longer for DAILY. */
long hs_wait_ms(const char *policy, long interval_ms, bool daily);
/* Set the gauges from the rate-limit header values (NULL: absent). */
void hs_limits_parse(struct hs *hs, const char *max, const char *remaining, const char *interval,
                     const char *daily, const char *daily_remaining);
/* True when low-priority writes should wait: the last answer (within its interval) left at
 * most a fifth of the 10-second budget, or a tenth of the daily one. */
bool hs_budget_low(struct hs *hs);
/* The error fields of a HubSpot error body (borrowed; "" when absent). */
void hs_error_of(const json_t *body, const char **category, const char **message,
                 const char **property);

/* ---- hs_schema.c ---- */

/* Read the properties of `object` ("calls", "tasks"...) now unless known. RETRY/FAIL as
 * hs_rest. */
CB_MUST_CHECK enum cb_result hs_schema_load(struct hs *hs, const char *object, char *err,
                                            size_t err_size);
/* True when `object` has `prop` (or its properties are not known yet). */
bool hs_schema_has(struct hs *hs, const char *object, const char *prop);
/* True when `object`'s properties are known and `prop` is a unique-value one. */
bool hs_schema_unique(struct hs *hs, const char *object, const char *prop);
/* Drop from `props` (in place) every property `object` lacks, reporting each once (log,
 * health); properties read over a minute ago are read again first when one seems missing
 * (`callbridge crm setup` may have run). Unknown schema: left as it is. */
void hs_schema_filter(struct hs *hs, const char *object, json_t *props);
/* Forget `object`'s properties (a write named one unknown): the next write reads them again. */
void hs_schema_forget(struct hs *hs, const char *object);
/* "calls: a, b; notes: c" or "" — the properties reported missing. */
void hs_schema_missing(struct hs *hs, char *out, size_t out_size);
/* Check the properties callbridge writes, reporting what is missing (warm-up). */
void hs_schema_check(struct hs *hs);
/* Upsert one object of `object` by the unique property `idprop` = `value` with `props`
 * (borrowed; filtered in place). OK with the object's id in `id`. A VALIDATION_ERROR naming a
 * property makes the schema be read again and the write made once more without what is gone;
 * an owner HubSpot refuses is dropped. */
CB_MUST_CHECK enum cb_result hs_upsert(struct hs *hs, const char *object, const char *idprop,
                                       const char *value, json_t *props, enum cb_crm_priority prio,
                                       char *id, size_t id_size, char *err, size_t err_size);
/* The body of a one-input batch upsert. NULL when out of memory. */
json_t *hs_upsert_body(const char *idprop, const char *value, const json_t *props);
/* Associate (v4 default, idempotent PUT) from_type/from_id with to_type/to_id; OK at once
 * when this process made that association already (struct hs.assoc_made). */
CB_MUST_CHECK enum cb_result hs_associate(struct hs *hs, const char *from_type, const char *from_id,
                                          const char *to_type, const char *to_id,
                                          enum cb_crm_priority prio, char *err, size_t err_size);

/* Claim the association from_type/from_id → to_type/to_id ({from_type, from_id, to_type,
 * to_id}): true when this process made it already or another thread is making it (nothing to
 * send); otherwise it is marked made now, before the request (its hash in `*h`), so concurrent
 * jobs of one call do not both send it. */
bool hs_assoc_claim(struct hs *hs, const char *const parts[4], uint64_t *h);
/* The request for the claim `h` failed: forget it, so the job's retry sends it again. */
void hs_assoc_unclaim(struct hs *hs, uint64_t h);

/* ---- hs_batch.c: many writes in few requests ---- */

/* One input of hs_upsert_many. */
struct hs_upsert_item {
        const char *value;      /* the unique property's value (borrowed) */
        json_t *props;          /* the properties (the caller's; filtered and merged in place) */
        enum cb_result r;       /* out: OK, WAIT, RETRY or FAIL */
        char id[CB_CRM_ID_MAX]; /* out: the object's id when OK */
        char err[256];          /* out: why, when not OK */
        size_t same;            /* internal: the first input with this value */
        bool reread;            /* internal: the schema was read again for this input */
};
/* Upsert every input of `items` into `object` by the unique property `idprop`, up to 100 a
 * request, each with its own outcome (inputs sharing a value merged first, later fields win).
 * A 429 makes its request's inputs WAIT; a refused owner or a property that is gone is dropped
 * and the input sent again; a refusal naming no input sends each of its request's inputs alone
 * (hs_upsert). */
void hs_upsert_many(struct hs *hs, const char *object, const char *idprop,
                    struct hs_upsert_item *items, size_t n, enum cb_crm_priority prio);

/* One association of hs_associate_many. */
struct hs_assoc_item {
        const char *from_id, *to_type, *to_id; /* borrowed; to_type contacts|companies|calls */
        enum cb_result r;                      /* out */
        char err[256];                         /* out: why, when not OK */
};
/* Associate (v4 default, in batch) each `a[i]` from `from_type`; those this process made
 * already are OK unsent. */
void hs_associate_many(struct hs *hs, const char *from_type, struct hs_assoc_item *a, size_t n,
                       enum cb_crm_priority prio);

/* ---- hs_records.c ---- */

/* Read the account's portal id (record links) unless known. RETRY/FAIL as hs_rest. */
CB_MUST_CHECK enum cb_result hs_portal_load(struct hs *hs, char *err, size_t err_size);

CB_MUST_CHECK enum cb_result hs_lookup_phone(void *self, const char *e164, json_t **matches,
                                             char *err, size_t err_size);
CB_MUST_CHECK enum cb_result hs_get_record(void *self, const char *type, const char *id,
                                           json_t **record, char *err, size_t err_size);
CB_MUST_CHECK enum cb_result hs_create_lead(void *self, const char *e164, json_t **match, char *err,
                                            size_t err_size);
/* The contact search for `e164`: phone/mobilephone = E.164, or the searchable calculated
 * numbers = its national digits. NULL when the number has none or out of memory. */
json_t *hs_contact_search_body(const char *e164);
/* The company search: phone in the usual written forms of the number. */
json_t *hs_company_search_body(const char *e164);
/* Does a stored phone `value` hold `e164` (read in `region`, or ending in its national
 * digits)? */
bool hs_phone_is(const char *value, const char *e164, const char *region);
/* "contacts" or "companies" for the record `id` (from what lookups saw, else asked). OK
 * with NULL in `*object` when neither has it or `id` is no HubSpot id (digits). */
CB_MUST_CHECK enum cb_result hs_record_object(struct hs *hs, const char *id, const char **object,
                                              char *err, size_t err_size);
/* Remember that `id` is a record of `object` (static string). */
void hs_remember_kind(struct hs *hs, const char *id, const char *object);
/* The record link: {app_url}/contacts/{portal}/record/{objectTypeId}/{id}. */
json_t *hs_record_url(struct hs *hs, const char *type_id, const char *id);

/* ---- hs_calllog.c ---- */

/* The call's properties (title, body, times, numbers, status, disposition, owner) with
 * `summary` in the body (NULL: none). NULL when out of memory; the caller decrefs. */
json_t *hs_call_properties(const struct cb_config *cfg, const struct cb_call *call,
                           const char *summary);
/* The outcome GUID for a disposition label or value ("Left voicemail", "no_answer") or,
 * without one, the call's outcome label ("Answered", "Busy"...); NULL when none maps. */
const char *hs_disposition_guid(const char *disposition, const char *outcome);
/* hs_call_status of a call status. */
const char *hs_call_status(enum cb_call_status s);
/* `text` HTML-escaped onto `b`, newlines as <br>. -1 at the cap. */
int hs_html(struct cb_buf *b, const char *text);
/* Set on `props` what `fields` (attach's names) puts on the call. */
void hs_attach_properties(const struct cb_call *call, const json_t *fields, json_t *props);
/* What attach writes on the call object for `fields`: their properties, the time when any, and
 * the body again when the recording link or the summary changes it ({} when nothing). NULL
 * when out of memory; the caller decrefs. */
json_t *hs_attach_call_properties(struct hs *hs, const struct cb_call *call, const json_t *fields);
/* "YYYY-MM-DDTHH:MM:SS.mmmZ" of `us` (0: now) as a new JSON string. */
json_t *hs_timestamp(int64_t us);
/* The owner id for HubSpot (digits), or NULL. */
const char *hs_owner_of(const struct cb_call *call);

CB_MUST_CHECK enum cb_result hs_log_call(void *self, const struct cb_call *call,
                                         struct cb_crm_logged *out, char *err, size_t err_size);
CB_MUST_CHECK enum cb_result hs_log_call_once(void *self, const struct cb_call *call,
                                              const json_t *fields, struct cb_crm_logged *out,
                                              char *err, size_t err_size);
CB_MUST_CHECK enum cb_result hs_attach(void *self, const struct cb_call *call, const json_t *fields,
                                       enum cb_crm_priority prio, char *err, size_t err_size);

/* ---- hs_note.c: transcript note and follow-up tasks ---- */

/* The note's HTML body: the analysis (summary, sentiment, intent, keywords, tags, entities)
 * then the transcript, cut to HubSpot's 65,536 characters. NULL when out of memory. */
char *hs_note_body(const struct cb_call *call, const json_t *fields);
/* The note's properties (body, time, owner). NULL when out of memory; the caller decrefs. */
json_t *hs_note_properties(const struct cb_call *call, const json_t *fields);
/* Upsert the transcript note of `call` (key "<call id>:transcript") associated with the
 * call's contact/company and, when `call_obj_id` is known, the call object. */
CB_MUST_CHECK enum cb_result hs_note_write(struct hs *hs, const struct cb_call *call,
                                           const json_t *fields, const char *call_obj_id,
                                           enum cb_crm_priority prio, char *err, size_t err_size);
/* hs_task_priority for a rule's priority ("High", "low"...): HIGH, LOW or MEDIUM. */
const char *hs_task_priority(const char *p);
/* The task's properties for `task` {"subject","description"?,"due_date"?,"priority"?}. */
json_t *hs_task_properties(const struct cb_call *call, const json_t *task);
CB_MUST_CHECK enum cb_result hs_create_task(void *self, const struct cb_call *call, const char *key,
                                            const json_t *task, char *task_id, size_t task_id_size,
                                            char *err, size_t err_size);

/* ---- hs_batchops.c: the batch crm ops ---- */

void hs_log_calls(void *self, struct cb_crm_item *items, size_t n);
void hs_attach_many(void *self, struct cb_crm_item *items, size_t n);
void hs_create_tasks(void *self, struct cb_crm_item *items, size_t n);

/* ---- hubspot.c: built without the warm-up (the setup command) ---- */

/* A provider state for `cfg` without the warm-up thread; NULL (logged) when the secrets
 * cannot be read. Free with hs_free. */
struct hs *hs_open(const struct cb_config *cfg);
void hs_free(struct hs *hs);

/* ---- hs_setup.c ---- */

/* The provider's setup op (`callbridge crm check|setup`, include/callbridge/crm.h): reads the
 * properties of calls, tasks, notes and contacts and prints one line per custom property,
 * there, missing or (with `make`) created; a property that exists already when created (409)
 * counts as there. */
int hs_setup(const struct cb_config *cfg, bool make, FILE *out);

#endif
