/* Query family: browser sessions and CRM sign-ins under way (migration 014). Only hashes of
 * cookies and OAuth states are stored; a CRM user's credential only sealed. The columns keep
 * their names of migration 014 (sf_user_id, sf_token): renaming them would break the
 * instances of the previous version during a rolling upgrade. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbridge/sessions.h"
#include "rows.h"

static struct cb_stmt stmt_insert = CB_STMT(
    "session_insert",
    "INSERT INTO sessions (id, token_hash, agent, csrf_token, how, sf_user_id, sf_token,"
    " user_agent, ip_hash, expires_at)"
    " VALUES (gen_random_uuid(), decode($1, 'hex'), $2, $3, $4, $5, decode($6, 'hex'), $7, $8,"
    "  now() + make_interval(secs => $9::int))"
    " RETURNING id, extract(epoch FROM expires_at)::bigint");

enum cb_qs cb_store_session_insert(struct cb_db *db, const struct cb_session_new *s,
                                   char id[CB_UUID_LEN + 1], int64_t *expires_unix)
{
        char ttl[24];
        const char *params[9] = {s->hash_hex,     s->agent,      s->csrf,    s->how, s->crm_user_id,
                                 s->crm_cred_hex, s->user_agent, s->ip_hash, ttl};
        enum cb_qs qs;
        PGresult *res;

        snprintf(ttl, sizeof(ttl), "%ld", s->ttl_s);
        res = cb_db_exec(db, &stmt_insert, 9, params, &qs);
        if (res == NULL || qs != 1) {
                PQclear(res);
                return qs < 0 ? qs : CB_QS_HARD_ERROR;
        }
        cb_strlcpy(id, PQgetvalue(res, 0, 0), CB_UUID_LEN + 1);
        *expires_unix = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
        PQclear(res);
        return CB_QS_ONE_RESULT;
}

/* The agent must still exist: removing it ends its sessions. */
static struct cb_stmt stmt_get = CB_STMT(
    "session_get",
    "SELECT s.id, s.agent, a.admin, s.csrf_token, s.how, COALESCE(s.sf_user_id, ''),"
    " extract(epoch FROM s.expires_at)::bigint,"
    " (extract(epoch FROM clock_timestamp()) * 1000000)::bigint"
    " FROM sessions s JOIN agents a ON a.name = s.agent"
    " WHERE s.token_hash = decode($1, 'hex') AND s.revoked_at IS NULL AND s.expires_at > now()"
    " AND s.last_seen_at > now() - make_interval(secs => $2::int)");

enum cb_qs cb_store_session_get(struct cb_db *db, const char *hash_hex, long idle_s,
                                struct cb_session_row *out)
{
        char idle[24];
        const char *params[2] = {hash_hex, idle};
        enum cb_qs qs;
        PGresult *res;

        snprintf(idle, sizeof(idle), "%ld", idle_s);
        res = cb_db_exec(db, &stmt_get, 2, params, &qs);
        if (res == NULL || qs != 1) {
                PQclear(res);
                return qs;
        }
        cb_strlcpy(out->id, PQgetvalue(res, 0, 0), sizeof(out->id));
        cb_strlcpy(out->agent, PQgetvalue(res, 0, 1), sizeof(out->agent));
        out->admin = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
        cb_strlcpy(out->csrf, PQgetvalue(res, 0, 3), sizeof(out->csrf));
        cb_strlcpy(out->how, PQgetvalue(res, 0, 4), sizeof(out->how));
        cb_strlcpy(out->crm_user_id, PQgetvalue(res, 0, 5), sizeof(out->crm_user_id));
        out->expires_unix = strtoll(PQgetvalue(res, 0, 6), NULL, 10);
        out->read_us = strtoll(PQgetvalue(res, 0, 7), NULL, 10);
        PQclear(res);
        return CB_QS_ONE_RESULT;
}

static struct cb_stmt stmt_sf_token =
    CB_STMT("session_sf_token", "SELECT encode(sf_token, 'hex') FROM sessions"
                                " WHERE id = $1::uuid AND revoked_at IS NULL AND"
                                " expires_at > now() AND sf_token IS NOT NULL");

enum cb_qs cb_store_session_crm_cred(struct cb_db *db, const char *id, char **sealed_hex)
{
        const char *params[1] = {id};
        enum cb_qs qs;
        PGresult *res = cb_db_exec(db, &stmt_sf_token, 1, params, &qs);

        *sealed_hex = NULL;
        if (res != NULL && qs == 1) {
                *sealed_hex = strdup(PQgetvalue(res, 0, 0));
                if (*sealed_hex == NULL)
                        qs = CB_QS_HARD_ERROR;
        }
        PQclear(res);
        return qs;
}

static struct cb_stmt stmt_revoke_hash =
    CB_STMT("session_revoke_hash", "UPDATE sessions SET revoked_at = now(), sf_token = NULL"
                                   " WHERE token_hash = decode($1, 'hex') AND revoked_at IS NULL");

enum cb_qs cb_store_session_revoke_hash(struct cb_db *db, const char *hash_hex)
{
        const char *params[1] = {hash_hex};
        return cb_db_exec_cmd(db, &stmt_revoke_hash, 1, params);
}

/* A revoked session keeps no CRM credential. */
static struct cb_stmt stmt_revoke =
    CB_STMT("session_revoke", "UPDATE sessions SET revoked_at = now(), sf_token = NULL"
                              " WHERE revoked_at IS NULL AND expires_at > now()"
                              " AND (($1::text IS NOT NULL AND id::text = lower($1))"
                              "  OR ($1::text IS NULL AND agent = $2))");

enum cb_qs cb_store_session_revoke(struct cb_db *db, const char *id, const char *agent)
{
        const char *params[2] = {id, agent};
        return cb_db_exec_cmd(db, &stmt_revoke, 2, params);
}

static struct cb_stmt stmt_list = CB_STMT(
    "session_list",
    "SELECT json_build_object('id', id, 'agent', agent, 'how', how, 'sf_user_id', sf_user_id,"
    " 'created_at', cb_ts(created_at), 'last_seen_at', cb_ts(last_seen_at), 'expires_at',"
    " cb_ts(expires_at), 'revoked_at', cb_ts(revoked_at))::text FROM sessions"
    " WHERE $1::text IS NULL OR agent = $1 ORDER BY created_at DESC, id LIMIT 1000");

enum cb_qs cb_store_session_list(struct cb_db *db, const char *agent, json_t **out)
{
        const char *params[1] = {agent};
        json_t *rows = NULL, *row;
        size_t i;
        enum cb_qs qs = cb_store_exec_rows(db, &stmt_list, 1, params, &rows);

        *out = NULL;
        if (qs < 0 || rows == NULL)
                return qs < 0 ? qs : CB_QS_HARD_ERROR;
        *out = json_array();
        json_array_foreach(rows, i, row)
        {
                json_t *one = json_loads(json_string_value(json_array_get(row, 0)), 0, NULL);
                if (one != NULL)
                        json_array_append_new(*out, one);
        }
        json_decref(rows);
        return json_array_size(*out) > 0 ? CB_QS_ONE_RESULT : CB_QS_NO_RESULTS;
}

static struct cb_stmt stmt_recent =
    CB_STMT("session_recently_changed",
            "SELECT encode(token_hash, 'hex'), NULL FROM sessions"
            " WHERE revoked_at > now() - make_interval(secs => $1::int)"
            " UNION ALL SELECT encode(s.token_hash, 'hex'),"
            " ((extract(epoch FROM a.updated_at)) * 1000000)::bigint::text"
            " FROM agents a JOIN sessions s ON s.agent = a.name"
            " WHERE a.updated_at > now() - make_interval(secs => $1::int) AND s.revoked_at IS NULL"
            " AND s.expires_at > now()");

enum cb_qs cb_store_session_recently_changed(struct cb_db *db, int within_s, json_t **out)
{
        char secs[16];
        const char *params[1] = {secs};

        snprintf(secs, sizeof(secs), "%d", within_s);
        return cb_store_exec_rows(db, &stmt_recent, 1, params, out);
}

static struct cb_stmt stmt_touch = CB_STMT(
    "session_touch", "UPDATE sessions SET last_seen_at = now()"
                     " WHERE token_hash = ANY (SELECT decode(h, 'hex')"
                     "  FROM unnest(string_to_array($1, ',')) AS h) AND revoked_at IS NULL");

enum cb_qs cb_store_session_touch(struct cb_db *db, const char *hashes_csv)
{
        const char *params[1] = {hashes_csv};
        return cb_db_exec_cmd(db, &stmt_touch, 1, params);
}

/* Expired sign-ins are cleared by the next one. */
static struct cb_stmt stmt_login_insert =
    CB_STMT("oauth_login_insert",
            "WITH gone AS (DELETE FROM oauth_logins WHERE expires_at < now() - interval '1 hour')"
            " INSERT INTO oauth_logins (state_hash, verifier, return_to, expires_at)"
            " VALUES (decode($1, 'hex'), $2, $3, now() + interval '10 minutes')");

enum cb_qs cb_store_oauth_login_insert(struct cb_db *db, const char *state_hash_hex,
                                       const char *verifier, const char *return_to)
{
        const char *params[3] = {state_hash_hex, verifier, return_to};
        return cb_db_exec_cmd(db, &stmt_login_insert, 3, params);
}

static struct cb_stmt stmt_login_take =
    CB_STMT("oauth_login_take", "DELETE FROM oauth_logins WHERE state_hash = decode($1, 'hex')"
                                " RETURNING verifier, return_to, expires_at > now()");

enum cb_qs cb_store_oauth_login_take(struct cb_db *db, const char *state_hash_hex, char *verifier,
                                     size_t verifier_size, char *return_to, size_t return_to_size)
{
        const char *params[1] = {state_hash_hex};
        enum cb_qs qs;
        PGresult *res = cb_db_exec(db, &stmt_login_take, 1, params, &qs);

        if (res != NULL && qs == 1) {
                if (strcmp(PQgetvalue(res, 0, 2), "t") != 0) {
                        qs = CB_QS_NO_RESULTS; /* expired: consumed all the same */
                } else {
                        cb_strlcpy(verifier, PQgetvalue(res, 0, 0), verifier_size);
                        cb_strlcpy(return_to, PQgetvalue(res, 0, 1), return_to_size);
                }
        }
        PQclear(res);
        return qs;
}
