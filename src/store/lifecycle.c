/* Query family: the call lifecycle as telephony reports it — status events, the provider's
 * call id, failures, and the recordings a provider announces. */
#include <stdio.h>
#include <string.h>

#include "callbridge/store.h"

bool cb_call_status_final(const char *status)
{
        return status != NULL &&
               cb_choice_match("completed|busy|failed|no-answer|canceled", status, false);
}

/* One provider status callback, in one statement: find the call (by our id from the
 * callback URL, else by the provider's id) and lock it; record the event once per
 * (call, status); move the call forward only (cb_status_rank); on the first final status
 * queue the CRM log finalisation, and a follow-up task for a missed inbound call. */
static struct cb_stmt stmt_event = CB_STMT(
    "call_status_event",
    "WITH t AS (SELECT id, status, agent, direction FROM calls"
    "  WHERE ($1::uuid IS NOT NULL AND id = $1::uuid)"
    "   OR ($1::uuid IS NULL AND telephony = $2 AND provider_call_id = $3)"
    "  LIMIT 1 FOR UPDATE),"
    " ev AS (INSERT INTO call_events (call_id, status, source) SELECT id, $4, $2 FROM t"
    "  ON CONFLICT (call_id, status) WHERE source = 'twilio' DO NOTHING RETURNING call_id),"
    " up AS (UPDATE calls c SET status = $4,"
    "  provider_call_id = COALESCE(c.provider_call_id, $3),"
    "  duration_s = CASE WHEN cb_status_rank($4) = 4 THEN $5::integer ELSE c.duration_s END,"
    "  answered_at = CASE WHEN $4 = 'in-progress' THEN now() ELSE c.answered_at END,"
    "  ended_at = CASE WHEN cb_status_rank($4) = 4 THEN now() ELSE c.ended_at END,"
    "  updated_at = now()"
    "  FROM t JOIN ev ON ev.call_id = t.id"
    "  WHERE c.id = t.id AND cb_status_rank($4) > cb_status_rank(t.status)"
    "  RETURNING c.id),"
    " j AS (INSERT INTO jobs (kind, call_id)"
    "  SELECT 'crm.log_call', id FROM up WHERE cb_status_rank($4) = 4"
    "  UNION ALL SELECT 'crm.follow_up', up.id FROM up JOIN t ON t.id = up.id"
    "   WHERE $6::boolean AND t.direction = 'inbound' AND $4 IN ('no-answer', 'busy'))"
    " SELECT t.id::text, t.agent, t.direction, EXISTS (SELECT 1 FROM ev),"
    "  EXISTS (SELECT 1 FROM up) FROM t");

enum cb_qs cb_store_call_status_event(struct cb_db *db, const struct cb_status_event *ev,
                                      struct cb_status_outcome *out)
{
        char duration[24];
        const char *params[6] = {ev->call_id,
                                 ev->provider,
                                 ev->provider_call_id,
                                 ev->status,
                                 ev->duration_s >= 0 ? duration : NULL,
                                 ev->missed_task ? "true" : "false"};
        enum cb_qs qs;
        PGresult *res;

        memset(out, 0, sizeof(*out));
        snprintf(duration, sizeof(duration), "%ld", ev->duration_s);
        res = cb_db_exec(db, &stmt_event, 6, params, &qs);
        if (res == NULL)
                return qs;
        if (qs == 1) {
                out->found = true;
                cb_strlcpy(out->call_id, PQgetvalue(res, 0, 0), sizeof(out->call_id));
                cb_strlcpy(out->agent, PQgetvalue(res, 0, 1), sizeof(out->agent));
                cb_strlcpy(out->direction, PQgetvalue(res, 0, 2), sizeof(out->direction));
                out->recorded = strcmp(PQgetvalue(res, 0, 3), "t") == 0;
                out->advanced = strcmp(PQgetvalue(res, 0, 4), "t") == 0;
        }
        PQclear(res);
        return qs;
}

static struct cb_stmt stmt_set_provider =
    CB_STMT("call_set_provider", "UPDATE calls SET provider_call_id = $2, updated_at = now()"
                                 " WHERE id = $1::uuid AND (provider_call_id IS NULL"
                                 "  OR provider_call_id = $2)");

enum cb_qs cb_store_call_set_provider_id(struct cb_db *db, const char *id,
                                         const char *provider_call_id)
{
        const char *params[2] = {id, provider_call_id};
        return cb_db_exec_cmd(db, &stmt_set_provider, 2, params);
}

/* The provider ids of `telephony` already stored on some call, among `ids` (a text[]). */
static struct cb_stmt stmt_claimed =
    CB_STMT("calls_provider_claimed", "SELECT provider_call_id FROM calls WHERE telephony = $1"
                                      " AND provider_call_id = ANY ($2::text[])");

enum cb_qs cb_store_provider_ids_claimed(struct cb_db *db, const char *telephony,
                                         const char *ids_array, json_t **claimed)
{
        const char *params[2] = {telephony, ids_array};
        enum cb_qs qs;
        PGresult *res = cb_db_exec(db, &stmt_claimed, 2, params, &qs);

        *claimed = NULL;
        if (res == NULL)
                return qs;
        *claimed = json_array();
        for (int i = 0; i < PQntuples(res); i++)
                json_array_append_new(*claimed, json_string(PQgetvalue(res, i, 0)));
        PQclear(res);
        return qs;
}

/* A call the provider could not place: failed (unless it already ended), and its CRM log
 * finalised by a job. */
static struct cb_stmt stmt_fail = CB_STMT(
    "call_fail",
    "WITH up AS (UPDATE calls SET status = 'failed', ended_at = now(), updated_at = now()"
    "  WHERE id = $1::uuid AND cb_status_rank(status) < 4 RETURNING id),"
    " e AS (INSERT INTO call_events (call_id, status, source) SELECT id, 'failed', 'job' FROM up),"
    " j AS (INSERT INTO jobs (kind, call_id) SELECT 'crm.log_call', id FROM up)"
    " SELECT id FROM up");

enum cb_qs cb_store_call_fail(struct cb_db *db, const char *id)
{
        const char *params[1] = {id};
        return cb_db_exec_cmd(db, &stmt_fail, 1, params);
}

/* A recording the provider announced, once per provider sid. The call is found by our id
 * (from the callback URL) or by the provider's call id. */
static struct cb_stmt stmt_recording = CB_STMT(
    "recording_announce",
    "WITH t AS (SELECT id FROM calls WHERE ($1::uuid IS NOT NULL AND id = $1::uuid)"
    "   OR ($1::uuid IS NULL AND telephony = $2 AND provider_call_id = $3) LIMIT 1),"
    " ins AS (INSERT INTO recordings (id, call_id, provider, provider_sid, source_url, duration_s)"
    "  SELECT $4::uuid, id, $2, $5, $6, $7::integer FROM t"
    "  ON CONFLICT (provider, provider_sid) WHERE provider_sid IS NOT NULL DO NOTHING"
    "  RETURNING id)"
    " SELECT t.id::text, EXISTS (SELECT 1 FROM ins) FROM t");

enum cb_qs cb_store_recording_announce(struct cb_db *db, const struct cb_recording_new *rec,
                                       char call_id[CB_UUID_LEN + 1], bool *created)
{
        char id[CB_UUID_LEN + 1];
        char duration[24];
        const char *params[7] = {rec->call_id, rec->provider,     rec->provider_call_id,
                                 id,           rec->provider_sid, rec->source_url,
                                 duration};
        enum cb_qs qs;
        PGresult *res;

        cb_uuid_v4(id);
        snprintf(duration, sizeof(duration), "%ld", rec->duration_s);
        if (rec->duration_s < 0)
                params[6] = NULL;
        *created = false;
        call_id[0] = '\0';
        res = cb_db_exec(db, &stmt_recording, 7, params, &qs);
        if (res == NULL)
                return qs;
        if (qs == 1) {
                cb_strlcpy(call_id, PQgetvalue(res, 0, 0), CB_UUID_LEN + 1);
                *created = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
        }
        PQclear(res);
        return qs;
}
