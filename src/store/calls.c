/* Query family: calls and their history. */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "callbridge/log.h"
#include "callbridge/store.h"

static struct cb_stmt stmt_insert = CB_STMT(
    "call_insert",
    "WITH c AS ("
    " INSERT INTO calls (id, agent, direction, to_e164, from_e164, status, crm_record_id,"
    "  telephony, provider_call_id, crm, idempotency_key, request_hash)"
    " VALUES ($1, $2, $3, $4, $5, 'queued', $6, $7, $8, $9, $10, decode($11, 'hex'))"
    " ON CONFLICT DO NOTHING RETURNING id),"
    " e AS (INSERT INTO call_events (call_id, status, source) SELECT id, 'queued', 'api' FROM c),"
    " j AS (INSERT INTO jobs (kind, call_id) SELECT k, c.id FROM c, unnest($12::text[]) AS k)"
    " SELECT id::text FROM c");

/* The call an insert collided with: same agent's idempotency key, or same provider call. */
static struct cb_stmt stmt_existing = CB_STMT(
    "call_existing",
    "SELECT id::text, (agent = $1 AND request_hash = decode($3, 'hex'))"
    " FROM calls WHERE (agent = $1 AND idempotency_key = $2)"
    "  OR (telephony = $4 AND provider_call_id = $5) LIMIT 1");

enum cb_qs cb_store_call_insert(struct cb_db *db, const struct cb_call_new *c,
                                char id_out[CB_UUID_LEN + 1], bool *created, bool *same_request)
{
        char hash[65];
        char kinds[512] = "{";
        const char *params[12];
        PGresult *res;
        enum cb_qs qs;

        cb_hex(c->request_hash, 32, hash);
        for (size_t i = 0; i < c->job_count; i++) {
                strncat(kinds, c->job_kinds[i], sizeof(kinds) - strlen(kinds) - 2);
                if (i + 1 < c->job_count)
                        strncat(kinds, ",", sizeof(kinds) - strlen(kinds) - 2);
        }
        strncat(kinds, "}", sizeof(kinds) - strlen(kinds) - 1);
        params[0] = c->id;
        params[1] = c->agent;
        params[2] = c->direction;
        params[3] = c->to_e164;
        params[4] = c->from_e164;
        params[5] = c->crm_record_id;
        params[6] = c->telephony;
        params[7] = c->provider_call_id;
        params[8] = c->crm;
        params[9] = c->idempotency_key;
        params[10] = hash;
        params[11] = kinds;
        res = cb_db_exec(db, &stmt_insert, 12, params, &qs);
        if (res == NULL)
                return qs;
        if (qs == 1) {
                cb_strlcpy(id_out, PQgetvalue(res, 0, 0), CB_UUID_LEN + 1);
                *created = true;
                *same_request = true;
                PQclear(res);
                return CB_QS_ONE_RESULT;
        }
        PQclear(res);
        {
                const char *p2[5] = {c->agent, c->idempotency_key, hash, c->telephony,
                                     c->provider_call_id};
                res = cb_db_exec(db, &stmt_existing, 5, p2, &qs);
        }
        if (res == NULL)
                return qs;
        if (qs != 1) {
                /* The conflicting row vanished (deleted by retention?): let the client retry. */
                PQclear(res);
                return CB_QS_SOFT_ERROR;
        }
        cb_strlcpy(id_out, PQgetvalue(res, 0, 0), CB_UUID_LEN + 1);
        *created = false;
        *same_request = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
        PQclear(res);
        return CB_QS_ONE_RESULT;
}

static struct cb_stmt stmt_get = CB_STMT(
    "call_get",
    "SELECT json_build_object("
    " 'call_id', c.id, 'agent', c.agent, 'direction', c.direction,"
    " 'to', c.to_e164, 'from', c.from_e164, 'status', c.status,"
    " 'crm_record_id', c.crm_record_id,"
    " 'telephony', json_build_object('provider', c.telephony, 'call_id', c.provider_call_id),"
    " 'crm', json_build_object('provider', c.crm, 'state', c.crm_state, 'log_id', c.crm_log_id),"
    " 'created_at', cb_ts(c.created_at), 'updated_at', cb_ts(c.updated_at),"
    " 'history', COALESCE((SELECT json_agg(json_build_object('status', e.status,"
    "   'source', e.source, 'at', cb_ts(e.at)) ORDER BY e.id)"
    "   FROM call_events e WHERE e.call_id = c.id), '[]'),"
    " 'jobs', COALESCE((SELECT json_agg(json_build_object('id', j.id, 'kind', j.kind,"
    "   'state', j.state, 'attempts', j.attempts, 'last_error', j.last_error) ORDER BY j.id)"
    "   FROM jobs j WHERE j.call_id = c.id), '[]')"
    ")::text FROM calls c WHERE c.id = $1::uuid AND ($2::text IS NULL OR c.agent = $2)");

enum cb_qs cb_store_call_get_json(struct cb_db *db, const char *id, const char *agent,
                                  json_t **out)
{
        const char *params[2] = {id, agent};
        enum cb_qs qs;
        PGresult *res = cb_db_exec(db, &stmt_get, 2, params, &qs);
        json_error_t jerr;

        *out = NULL;
        if (res == NULL || qs != 1) {
                PQclear(res);
                return qs;
        }
        *out = json_loads(PQgetvalue(res, 0, 0), 0, &jerr);
        PQclear(res);
        if (*out == NULL) {
                cb_error("call_get returned invalid JSON: %s", jerr.text);
                return CB_QS_HARD_ERROR;
        }
        return CB_QS_ONE_RESULT;
}

/* Cursor position: created_at as integer microseconds since the epoch, then id. */
static struct cb_stmt stmt_list = CB_STMT(
    "calls_list",
    "SELECT json_build_object('call_id', id, 'agent', agent, 'direction', direction,"
    "  'to', to_e164, 'from', from_e164, 'status', status, 'crm_state', crm_state,"
    "  'created_at', cb_ts(created_at))::text,"
    " (extract(epoch FROM created_at) * 1000000)::bigint, id::text"
    " FROM calls"
    " WHERE ($1::text IS NULL OR agent = $1)"
    "  AND ($2::bigint = 0 OR created_at >= 'epoch'::timestamptz"
    "       + ($2::bigint / 1000000) * interval '1 second'"
    "       + ($2::bigint % 1000000) * interval '1 microsecond')"
    "  AND ($3::bigint = 0 OR (created_at, id) < ('epoch'::timestamptz"
    "       + ($3::bigint / 1000000) * interval '1 second'"
    "       + ($3::bigint % 1000000) * interval '1 microsecond', $4::uuid))"
    " ORDER BY created_at DESC, id DESC LIMIT $5");

enum cb_qs cb_store_calls_list(struct cb_db *db, const struct cb_call_page *page,
                               json_t **calls, int64_t *next_us,
                               char next_id[CB_UUID_LEN + 1])
{
        char since[24];
        char cursor[24];
        char limit[16];
        const char *params[5] = {page->agent, since, cursor,
                                 page->cursor_us ? page->cursor_id
                                                 : "00000000-0000-0000-0000-000000000000",
                                 limit};
        enum cb_qs qs;
        PGresult *res;
        int rows;

        snprintf(since, sizeof(since), "%" PRId64, page->since_us);
        snprintf(cursor, sizeof(cursor), "%" PRId64, page->cursor_us);
        snprintf(limit, sizeof(limit), "%d", page->limit + 1); /* one more: is there a next? */
        *calls = NULL;
        *next_us = 0;
        next_id[0] = '\0';
        res = cb_db_exec(db, &stmt_list, 5, params, &qs);
        if (res == NULL)
                return qs;
        *calls = json_array();
        rows = PQntuples(res);
        for (int i = 0; i < rows && i < page->limit; i++) {
                json_t *row = json_loads(PQgetvalue(res, i, 0), 0, NULL);
                if (row != NULL)
                        json_array_append_new(*calls, row);
        }
        if (rows > page->limit) {
                long us = 0;
                if (cb_parse_long(PQgetvalue(res, page->limit - 1, 1), 1, LONG_MAX, &us))
                        *next_us = us;
                cb_strlcpy(next_id, PQgetvalue(res, page->limit - 1, 2), CB_UUID_LEN + 1);
        }
        PQclear(res);
        return rows > 0 ? CB_QS_ONE_RESULT : CB_QS_NO_RESULTS;
}

static struct cb_stmt stmt_set_crm =
    CB_STMT("call_set_crm", "UPDATE calls SET crm_state = $2, crm_log_id = COALESCE($3, crm_log_id),"
                            " updated_at = now() WHERE id = $1::uuid");

enum cb_qs cb_store_call_set_crm(struct cb_db *db, const char *id, const char *state,
                                 const char *log_id)
{
        const char *params[3] = {id, state, log_id};
        return cb_db_exec_cmd(db, &stmt_set_crm, 3, params);
}
