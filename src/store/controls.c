/* Query family: call control (012_call_control.sql) — the control state of a call an agent
 * acts on, and each action recorded with its history event (source 'agent') in one
 * statement. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbridge/log.h"
#include "callbridge/store_calls.h"

static struct cb_stmt stmt_load = CB_STMT(
    "call_controls_load",
    "SELECT held, recording_paused, hung_up, transfer, transfer_warm, COALESCE(transfer_to, ''),"
    " version FROM call_controls WHERE call_id = $1::uuid");

static const char *const transfers[] = {
    [CB_TRANSFER_NONE] = "none", [CB_TRANSFER_PENDING] = "pending", [CB_TRANSFER_DONE] = "done"};

enum cb_qs cb_store_controls_load(struct cb_db *db, const char *call_id,
                                  struct cb_call_controls *out, long *version)
{
        const char *params[1] = {call_id};
        enum cb_qs qs;
        PGresult *res = cb_db_exec(db, &stmt_load, 1, params, &qs);

        *out = (struct cb_call_controls){0};
        *version = 0;
        if (res == NULL || qs != CB_QS_ONE_RESULT) {
                PQclear(res);
                return qs < 0 ? qs : CB_QS_ONE_RESULT; /* no row: nothing done yet */
        }
        out->held = PQgetvalue(res, 0, 0)[0] == 't';
        out->recording_paused = PQgetvalue(res, 0, 1)[0] == 't';
        out->hung_up = PQgetvalue(res, 0, 2)[0] == 't';
        for (size_t i = 0; i < CB_ARRAY_LEN(transfers); i++)
                if (strcmp(PQgetvalue(res, 0, 3), transfers[i]) == 0)
                        out->transfer = (enum cb_call_transfer)i;
        out->transfer_warm = PQgetvalue(res, 0, 4)[0] == 't';
        cb_strlcpy(out->transfer_to, PQgetvalue(res, 0, 5), sizeof(out->transfer_to));
        if (!cb_parse_long(PQgetvalue(res, 0, 6), 0, 1L << 30, version))
                *version = 0;
        PQclear(res);
        return CB_QS_ONE_RESULT;
}

/* The new state over version $8 (0: no row yet) and its event, or nothing when another action
 * was recorded meanwhile. */
static struct cb_stmt stmt_record = CB_STMT(
    "call_controls_record",
    "WITH up AS (INSERT INTO call_controls AS cc (call_id, held, recording_paused, hung_up,"
    "  transfer, transfer_warm, transfer_to, version, updated_at)"
    "  VALUES ($1::uuid, $2::boolean, $3::boolean, $4::boolean, $5, $6::boolean, NULLIF($7, ''),"
    "  1, now())"
    "  ON CONFLICT (call_id) DO UPDATE SET held = EXCLUDED.held,"
    "  recording_paused = EXCLUDED.recording_paused, hung_up = EXCLUDED.hung_up,"
    "  transfer = EXCLUDED.transfer, transfer_warm = EXCLUDED.transfer_warm,"
    "  transfer_to = EXCLUDED.transfer_to, version = cc.version + 1, updated_at = now()"
    "  WHERE cc.version = $8::int"
    "  RETURNING cc.call_id),"
    " ev AS (INSERT INTO call_events (call_id, status, source) SELECT call_id, $9, 'agent'"
    "  FROM up),"
    " re AS (UPDATE calls SET transferred_from = calls.agent, agent = $10,"
    "  updated_at = now() FROM up"
    "  WHERE calls.id = up.call_id AND $10::text IS NOT NULL RETURNING calls.id),"
    " j AS (INSERT INTO jobs (kind, call_id) SELECT '" CB_JOB_AGENT_CALL "', id FROM re)"
    " SELECT 1 FROM up");

enum cb_qs cb_store_controls_record(struct cb_db *db, const char *call_id,
                                    const struct cb_call_controls *after, long version,
                                    const char *event, const char *new_agent)
{
        char ver[24];
        const char *params[10] = {call_id,
                                  after->held ? "t" : "f",
                                  after->recording_paused ? "t" : "f",
                                  after->hung_up ? "t" : "f",
                                  transfers[after->transfer],
                                  after->transfer_warm ? "t" : "f",
                                  after->transfer_to,
                                  ver,
                                  event,
                                  new_agent};

        snprintf(ver, sizeof(ver), "%ld", version);
        return cb_db_exec_cmd(db, &stmt_record, 10, params);
}

static struct cb_stmt stmt_transferred_from =
    CB_STMT("call_transferred_from", "SELECT COALESCE(transferred_from, '') FROM calls"
                                     " WHERE id = $1::uuid");

enum cb_qs cb_store_call_transferred_from(struct cb_db *db, const char *call_id, char *out,
                                          size_t size)
{
        const char *params[1] = {call_id};
        enum cb_qs qs;
        PGresult *res = cb_db_exec(db, &stmt_transferred_from, 1, params, &qs);

        out[0] = '\0';
        if (res != NULL && qs == CB_QS_ONE_RESULT)
                cb_strlcpy(out, PQgetvalue(res, 0, 0), size);
        PQclear(res);
        return qs;
}
