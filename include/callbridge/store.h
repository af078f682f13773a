/* Query families over PostgreSQL: one src/store/<family>.c each, the SQL beside its call. */
#ifndef CALLBRIDGE_STORE_H
#define CALLBRIDGE_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "callbridge/db.h"
#include "callbridge/util.h"

/* ---- calls (src/store/calls.c) ---- */

struct cb_call_new {
        const char *id; /* uuid chosen by the caller */
        const char *agent;
        const char *direction;
        const char *to_e164;
        const char *from_e164;       /* may be NULL */
        const char *crm_record_id;   /* may be NULL */
        const char *telephony;       /* provider name */
        const char *provider_call_id; /* may be NULL */
        const char *crm;             /* provider name */
        const char *idempotency_key; /* may be NULL */
        unsigned char request_hash[32];
        const char *const *job_kinds; /* jobs inserted in the same statement */
        size_t job_count;
};

/* Insert a call, its first history event and its jobs atomically (one statement).
 * With an idempotency key already used by this agent nothing is inserted: *created is
 * false, `id_out` holds the existing call and *same_request tells whether its request hash
 * matches. Returns ONE_RESULT, or a negative qs. */
enum cb_qs cb_store_call_insert(struct cb_db *db, const struct cb_call_new *c,
                                char id_out[CB_UUID_LEN + 1], bool *created, bool *same_request);

/* The API view of one call (with history and jobs) as JSON; `agent` NULL means any agent.
 * Returns ONE_RESULT with *out set (caller decrefs), NO_RESULTS when unknown or not
 * visible, or a negative qs. */
enum cb_qs cb_store_call_get_json(struct cb_db *db, const char *id, const char *agent,
                                  json_t **out);

struct cb_call_page {
        const char *agent;    /* NULL: every agent */
        int64_t since_us;     /* 0: no lower bound */
        int64_t cursor_us;    /* 0: first page */
        const char *cursor_id;
        int limit;
};
/* One page, newest first: *calls is a JSON array (caller decrefs); *next_us/next_id (33+
 * bytes) describe the cursor of the next page, next_us 0 when this is the last page. */
enum cb_qs cb_store_calls_list(struct cb_db *db, const struct cb_call_page *page,
                               json_t **calls, int64_t *next_us,
                               char next_id[CB_UUID_LEN + 1]);

/* Record the CRM outcome of a call: state pending|synced|local|failed, log id may be NULL. */
enum cb_qs cb_store_call_set_crm(struct cb_db *db, const char *id, const char *state,
                                 const char *log_id);

/* ---- jobs (src/store/jobs.c) ---- */

struct cb_job_row {
        int64_t id;
        char kind[64];
        char call_id[CB_UUID_LEN + 1]; /* "" when the job has no call */
        json_t *payload;               /* owned by the row; cb_job_row_clear frees it */
        int attempts;                  /* including this one */
};
void cb_job_row_clear(struct cb_job_row *row);

/* Claim the oldest runnable job of one of `kinds` (a PostgreSQL text[] literal such as
 * "{crm.log_call,debug.sleep}") for `worker`, leasing it for `lease_s`. ONE_RESULT with
 * `row` filled, NO_RESULTS when nothing is runnable, or a negative qs. */
enum cb_qs cb_store_job_claim(struct cb_db *db, const char *worker, const char *kinds,
                              int lease_s, struct cb_job_row *row);
/* Finish a claimed job. Each matches on (id, worker, attempts) so a worker whose lease was
 * taken over changes nothing: NO_RESULTS then. */
enum cb_qs cb_store_job_done(struct cb_db *db, const struct cb_job_row *row, const char *worker);
enum cb_qs cb_store_job_retry(struct cb_db *db, const struct cb_job_row *row, const char *worker,
                              int64_t delay_ms, const char *error);
enum cb_qs cb_store_job_dead(struct cb_db *db, const struct cb_job_row *row, const char *worker,
                             const char *error);
/* Queue depth: rows of [kind, state, count, oldest age in seconds] (caller decrefs). */
enum cb_qs cb_store_job_depth(struct cb_db *db, json_t **out);

/* ---- API keys (src/store/apikeys.c) ---- */

enum cb_qs cb_store_apikey_insert(struct cb_db *db, const char *key_id, const char *hash_hex,
                                  const char *agent, bool admin);
/* The key's hash (64 hex chars), agent and admin flag; NO_RESULTS when unknown/revoked. */
enum cb_qs cb_store_apikey_get(struct cb_db *db, const char *key_id, char hash_hex[65],
                               char *agent, size_t agent_size, bool *admin);

#endif
