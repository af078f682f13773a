/* Query family: API keys. Only SHA-256 hashes are stored. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbridge/store_agents.h"
#include "rows.h"

/* The key, and its agent's row when it has none (an admin key makes the agent an admin). */
static struct cb_stmt stmt_insert = CB_STMT(
    "apikey_insert", "WITH agent AS (INSERT INTO agents (name, admin) VALUES ($3, $4::boolean)"
                     "  ON CONFLICT (name) DO UPDATE SET admin = true, updated_at = now()"
                     "  WHERE $4::boolean AND NOT agents.admin)"
                     " INSERT INTO api_keys (key_id, key_hash, agent, admin)"
                     " VALUES ($1, decode($2, 'hex'), $3, $4::boolean)");

enum cb_qs cb_store_apikey_insert(struct cb_db *db, const char *key_id, const char *hash_hex,
                                  const char *agent, bool admin)
{
        const char *params[4] = {key_id, hash_hex, agent, admin ? "true" : "false"};
        return cb_db_exec_cmd(db, &stmt_insert, 4, params);
}

/* Admin rights are the agent's (agents.admin); the key's own flag only for an agent without a
 * row (written by a binary older than migration 010). The database's clock says when. */
static struct cb_stmt stmt_get =
    CB_STMT("apikey_get", "SELECT encode(k.key_hash, 'hex'), k.agent, COALESCE(a.admin, k.admin),"
                          " (extract(epoch FROM clock_timestamp()) * 1000000)::bigint"
                          " FROM api_keys k LEFT JOIN agents a ON a.name = k.agent"
                          " WHERE k.key_id = $1 AND k.revoked_at IS NULL");

enum cb_qs cb_store_apikey_get(struct cb_db *db, const char *key_id, char hash_hex[65], char *agent,
                               size_t agent_size, bool *admin, int64_t *read_us)
{
        const char *params[1] = {key_id};
        enum cb_qs qs;
        PGresult *res = cb_db_exec(db, &stmt_get, 1, params, &qs);

        if (res == NULL || qs != 1) {
                PQclear(res);
                return qs;
        }
        cb_strlcpy(hash_hex, PQgetvalue(res, 0, 0), 65);
        cb_strlcpy(agent, PQgetvalue(res, 0, 1), agent_size);
        *admin = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
        *read_us = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
        PQclear(res);
        return CB_QS_ONE_RESULT;
}

static struct cb_stmt stmt_list = CB_STMT(
    "apikey_list",
    "SELECT k.key_id, k.agent, COALESCE(a.admin, k.admin), to_char(k.created_at AT TIME ZONE"
    " 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), COALESCE(to_char(k.last_used_at AT TIME ZONE"
    " 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), ''), COALESCE(to_char(k.revoked_at AT TIME ZONE"
    " 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '')"
    " FROM api_keys k LEFT JOIN agents a ON a.name = k.agent"
    " WHERE $1::text IS NULL OR k.agent = $1 ORDER BY k.agent, k.created_at, k.key_id");

enum cb_qs cb_store_apikey_list(struct cb_db *db, const char *agent, json_t **out)
{
        const char *params[1] = {agent};
        enum cb_qs qs;
        PGresult *res = cb_db_exec(db, &stmt_list, 1, params, &qs);

        *out = NULL;
        if (res == NULL)
                return qs;
        *out = json_array();
        for (int i = 0; i < PQntuples(res); i++) {
                json_t *row = json_pack(
                    "{s:s, s:s, s:b, s:s, s:s?, s:s?}", "key_id", PQgetvalue(res, i, 0), "agent",
                    PQgetvalue(res, i, 1), "admin", strcmp(PQgetvalue(res, i, 2), "t") == 0,
                    "created_at", PQgetvalue(res, i, 3), "last_used_at",
                    PQgetisnull(res, i, 4) || !*PQgetvalue(res, i, 4) ? NULL
                                                                      : PQgetvalue(res, i, 4),
                    "revoked_at",
                    PQgetisnull(res, i, 5) || !*PQgetvalue(res, i, 5) ? NULL
                                                                      : PQgetvalue(res, i, 5));
                json_array_append_new(*out, row);
        }
        qs = json_array_size(*out) > 0 ? CB_QS_ONE_RESULT : CB_QS_NO_RESULTS;
        PQclear(res);
        return qs;
}

static struct cb_stmt stmt_revoke =
    CB_STMT("apikey_revoke", "UPDATE api_keys SET revoked_at = now()"
                             " WHERE key_id = $1 AND revoked_at IS NULL");

enum cb_qs cb_store_apikey_revoke(struct cb_db *db, const char *key_id)
{
        const char *params[1] = {key_id};
        return cb_db_exec_cmd(db, &stmt_revoke, 1, params);
}

/* Revoked keys (no time: always dropped), and the live keys of agents changed lately with
 * when, by the database's clock (agents_updated_at index). */
static struct cb_stmt stmt_recent = CB_STMT(
    "apikey_recently_changed",
    "SELECT key_id, NULL FROM api_keys"
    " WHERE revoked_at > now() - make_interval(secs => $1::int)"
    " UNION ALL SELECT k.key_id, ((extract(epoch FROM a.updated_at)) * 1000000)::bigint::text"
    " FROM agents a JOIN api_keys k ON k.agent = a.name"
    " WHERE a.updated_at > now() - make_interval(secs => $1::int) AND k.revoked_at IS NULL");

enum cb_qs cb_store_apikey_recently_changed(struct cb_db *db, int within_s, json_t **out)
{
        char secs[16];
        const char *params[1] = {secs};

        snprintf(secs, sizeof(secs), "%d", within_s);
        return cb_store_exec_rows(db, &stmt_recent, 1, params, out);
}

static struct cb_stmt stmt_touch =
    CB_STMT("apikey_touch", "UPDATE api_keys SET last_used_at = now()"
                            " WHERE key_id = ANY (string_to_array($1, ','))");

enum cb_qs cb_store_apikey_touch(struct cb_db *db, const char *key_ids_csv)
{
        const char *params[1] = {key_ids_csv};
        return cb_db_exec_cmd(db, &stmt_touch, 1, params);
}
