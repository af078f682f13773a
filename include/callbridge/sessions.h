/* Browser sessions and CRM sign-ins in PostgreSQL (src/store/sessions.c, migration 014).
 * Tokens are never stored: a session is found by the hex SHA-256 of its cookie, a sign-in by
 * the hex SHA-256 of its OAuth state. */
#ifndef CALLBRIDGE_SESSIONS_H
#define CALLBRIDGE_SESSIONS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "callbridge/db.h"
#include "callbridge/calls.h" /* CB_AGENT_MAX */
#include "callbridge/util.h"

#define CB_SESSION_CRM_USER_MAX 64

/* A new session. Strings borrowed; crm_* and user_agent/ip_hash may be NULL. (The columns
 * keep their names of migration 014, sf_user_id and sf_token.) */
struct cb_session_new {
        const char *hash_hex; /* 64 hex: SHA-256 of the cookie token */
        const char *agent;
        const char *csrf;
        const char *how;          /* "api_key" | the CRM provider's name */
        const char *crm_user_id;  /* the CRM user who signed in */
        const char *crm_cred_hex; /* the user's sealed CRM credential, hex */
        const char *user_agent;
        const char *ip_hash;
        long ttl_s;
};

/* A live session as the verifier needs it. */
struct cb_session_row {
        char id[CB_UUID_LEN + 1];
        char agent[CB_AGENT_MAX];
        bool admin;
        char csrf[64];
        char how[16];
        char crm_user_id[CB_SESSION_CRM_USER_MAX];
        int64_t expires_unix;
        int64_t read_us; /* when PostgreSQL answered, by its clock */
};

/* Insert; ONE_RESULT with the row's id and expiry (unix seconds) filled, or negative. */
CB_MUST_CHECK enum cb_qs cb_store_session_insert(struct cb_db *db, const struct cb_session_new *s,
                                                 char id[CB_UUID_LEN + 1], int64_t *expires_unix);
/* The live session (not revoked, not expired, used within `idle_s`, its agent still there)
 * whose token hashes to `hash_hex`: ONE_RESULT with `out` filled, NO_RESULTS, or negative. */
CB_MUST_CHECK enum cb_qs cb_store_session_get(struct cb_db *db, const char *hash_hex, long idle_s,
                                              struct cb_session_row *out);
/* The sealed CRM credential of live session `id` as hex (caller frees), or NULL with
 * NO_RESULTS (none, or the session is gone) / negative. */
CB_MUST_CHECK enum cb_qs cb_store_session_crm_cred(struct cb_db *db, const char *id,
                                                   char **sealed_hex);
/* Revoke the live session whose token hashes to `hash_hex`: its row count. */
CB_MUST_CHECK enum cb_qs cb_store_session_revoke_hash(struct cb_db *db, const char *hash_hex);
/* Revoke the live session `id` (a uuid), or every live session of `agent` (when id is NULL):
 * the row count, or negative. */
CB_MUST_CHECK enum cb_qs cb_store_session_revoke(struct cb_db *db, const char *id,
                                                 const char *agent);
/* Every session (of `agent` unless NULL), newest first, at most 1000: [{id, agent, how,
 * sf_user_id?, created_at, last_seen_at, expires_at, revoked_at?}] in *out. */
CB_MUST_CHECK enum cb_qs cb_store_session_list(struct cb_db *db, const char *agent, json_t **out);
/* Rows [hash_hex, changed_us|null]: sessions revoked within `within_s` (null: drop whenever
 * read) and live sessions of agents changed within it (with when, by the database clock). */
CB_MUST_CHECK enum cb_qs cb_store_session_recently_changed(struct cb_db *db, int within_s,
                                                           json_t **out);
/* last_seen_at = now() for the sessions whose hashes are in `hashes_csv`. */
CB_MUST_CHECK enum cb_qs cb_store_session_touch(struct cb_db *db, const char *hashes_csv);

/* Remember a Salesforce sign-in under way for ten minutes. ONE_RESULT or negative. */
CB_MUST_CHECK enum cb_qs cb_store_oauth_login_insert(struct cb_db *db, const char *state_hash_hex,
                                                     const char *verifier, const char *return_to);
/* Take (delete) the sign-in of `state_hash_hex`: ONE_RESULT with the verifier and return_to
 * copied when it was there and not expired, NO_RESULTS when unknown, used or expired. */
CB_MUST_CHECK enum cb_qs cb_store_oauth_login_take(struct cb_db *db, const char *state_hash_hex,
                                                   char *verifier, size_t verifier_size,
                                                   char *return_to, size_t return_to_size);

#endif
