/* Agents as rows (src/store/agents.c) and their API keys (src/store/apikeys.c); the values
 * are checked by callbridge/agents.h. */
#ifndef CALLBRIDGE_STORE_AGENTS_H
#define CALLBRIDGE_STORE_AGENTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "callbridge/db.h"
#include "callbridge/util.h"

/* ---- agents (src/store/agents.c; the values are checked by include/callbridge/agents.h) ----
 * An agent as JSON: {"name","display_name","crm_user_id","phone","admin","created_at",
 * "updated_at"}, null for what is unset, times RFC 3339 UTC. */

/* Why a write changed nothing. */
enum cb_agent_refusal {
        CB_AGENT_REFUSED_NONE = 0,
        CB_AGENT_NAME_TAKEN,   /* insert: an agent has that name */
        CB_AGENT_CRM_ID_TAKEN, /* another agent has that CRM user id */
        CB_AGENT_UNKNOWN,      /* update: no agent has that name */
};

struct cb_agent_fields;
/* Every agent by name, as a JSON array in *out (caller decrefs; NULL on error). */
CB_MUST_CHECK enum cb_qs cb_store_agents_list(struct cb_db *db, json_t **out);
/* Is there an agent called `name`? ONE_RESULT, NO_RESULTS, or a negative qs. */
CB_MUST_CHECK enum cb_qs cb_store_agent_exists(struct cb_db *db, const char *name);
/* One agent: ONE_RESULT with *out (caller decrefs), NO_RESULTS when unknown. */
CB_MUST_CHECK enum cb_qs cb_store_agent_get(struct cb_db *db, const char *name, json_t **out);
/* Insert the agent `f` describes (its set_* flags are ignored: what is NULL is unset).
 * ONE_RESULT with the new row in *out; NO_RESULTS with *why when the name or the CRM user id
 * is taken (nothing written); negative on a database error. */
CB_MUST_CHECK enum cb_qs cb_store_agent_insert(struct cb_db *db, const struct cb_agent_fields *f,
                                               json_t **out, enum cb_agent_refusal *why);
/* Change the fields of agent f->name whose set_* flag is on (NULL clears) and updated_at.
 * ONE_RESULT with the row in *out; NO_RESULTS with *why (unknown agent, CRM user id taken). */
CB_MUST_CHECK enum cb_qs cb_store_agent_update(struct cb_db *db, const struct cb_agent_fields *f,
                                               json_t **out, enum cb_agent_refusal *why);
/* The agents whose crm_user_id is one of `ids_csv` (comma-separated 18-character ids), as a
 * JSON array of {"name","crm_user_id","display_name" (the name when it has none)} in *out (caller
 * decrefs; NULL on error). */
CB_MUST_CHECK enum cb_qs cb_store_agents_by_crm_user_ids(struct cb_db *db, const char *ids_csv,
                                                         json_t **out);
/* Every agent but `me` and the "unassigned" placeholder, by name, as [{"name","display_name",
 * "status"}] (status: agent_status, "available" without a row) in *out (caller decrefs; NULL on
 * error): GET /api/console/config's transfer targets. */
CB_MUST_CHECK enum cb_qs cb_store_agents_transfer_targets(struct cb_db *db, const char *me,
                                                          json_t **out);

/* ---- API keys (src/store/apikeys.c) ---- */

/* Store a key for `agent`, in the same statement creating the agent when it has no row yet
 * and, for an admin key, making the agent an admin (agents.admin is what counts; never
 * demotes). */
CB_MUST_CHECK enum cb_qs cb_store_apikey_insert(struct cb_db *db, const char *key_id,
                                                const char *hash_hex, const char *agent,
                                                bool admin);
/* The key's hash (64 hex chars), agent and admin rights (its agent's agents.admin; the key's
 * own flag for an agent without a row), and when they were read (*read_us, microseconds since
 * the epoch by the database's clock); NO_RESULTS when unknown/revoked. */
CB_MUST_CHECK enum cb_qs cb_store_apikey_get(struct cb_db *db, const char *key_id,
                                             char hash_hex[65], char *agent, size_t agent_size,
                                             bool *admin, int64_t *read_us);
/* Every key (of `agent` unless NULL), never its hash: an array of {key_id, agent, admin (the
 * agent's rights, as for cb_store_apikey_get), created_at, last_used_at?, revoked_at?} in *out
 * (caller decrefs; NULL on error). */
CB_MUST_CHECK enum cb_qs cb_store_apikey_list(struct cb_db *db, const char *agent, json_t **out);
/* Revoke a key: 1 row when it was live, 0 when unknown or already revoked. */
CB_MUST_CHECK enum cb_qs cb_store_apikey_revoke(struct cb_db *db, const char *key_id);
/* Keys revoked in the last `within_s` seconds (by the database's clock) as [key_id, null], and
 * the live keys of agents changed in that time (their admin rights may have) as [key_id,
 * "<microseconds since the epoch of the change>"], a JSON array in *out (caller decrefs; NULL
 * on error): the caches drop what they read before. */
CB_MUST_CHECK enum cb_qs cb_store_apikey_recently_changed(struct cb_db *db, int within_s,
                                                          json_t **out);
/* Set last_used_at = now() for the comma-separated key ids. */
CB_MUST_CHECK enum cb_qs cb_store_apikey_touch(struct cb_db *db, const char *key_ids_csv);

#endif
