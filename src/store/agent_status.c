/* Query family: agent states (agent_status) and their time in status (agent_status_log). The
 * rules are C's (src/calls/agent_state.c); these statements store what they decided. Times go
 * both ways as microseconds since the epoch on the database's clock. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbridge/agent_status.h"
#include "callbridge/log.h"

#define US(col) " COALESCE((extract(epoch FROM " col ") * 1000000)::bigint, 0)"
#define TS(p)   " ('epoch'::timestamptz + " p "::bigint * interval '1 microsecond')"

/* An agent seen for the first time is available, from now: its row and first log period. */
static struct cb_stmt stmt_ensure =
    CB_STMT("agent_status_ensure",
            "WITH ins AS (INSERT INTO agent_status (agent) VALUES ($1) ON CONFLICT DO NOTHING"
            "  RETURNING agent, status, since)"
            " INSERT INTO agent_status_log (agent, status, started_at)"
            "  SELECT agent, status, since FROM ins");

#define SELECT_STATE                                                                               \
        "SELECT a.status, COALESCE(a.reason, '')," US(                                             \
            "a.since") ","                                                                         \
                       " COALESCE(a.call_id::text, '')," US(                                       \
                           "a.wrap_up_until") ", a.next_status,"                                   \
                                              " COALESCE(a.next_reason, ''),"                      \
                                              " EXISTS (SELECT 1 FROM calls c WHERE c.id = "       \
                                              "a.call_id AND c.disposition IS NOT NULL)," US(      \
                                                  "now()") " FROM agent_status a WHERE a.agent = " \
                                                           "$1"

static struct cb_stmt stmt_get = CB_STMT("agent_status_get", SELECT_STATE);
static struct cb_stmt stmt_lock = CB_STMT("agent_status_lock", SELECT_STATE " FOR UPDATE OF a");

static bool int_col(PGresult *res, int col, int64_t *out)
{
        char *end = NULL;
        const char *v = PQgetvalue(res, 0, col);
        long long n = strtoll(v, &end, 10);

        *out = n;
        return end != v && *end == '\0';
}

/* The row into `st`; false when a column does not parse (a broken assumption). */
static bool state_from_row(PGresult *res, struct cb_agent_state *st, int64_t *now_us)
{
        memset(st, 0, sizeof(*st));
        st->call_disposed = strcmp(PQgetvalue(res, 0, 7), "t") == 0;
        return cb_agent_status_parse(PQgetvalue(res, 0, 0), &st->status) &&
               cb_strlcpy(st->reason, PQgetvalue(res, 0, 1), sizeof(st->reason)) &&
               int_col(res, 2, &st->since_us) &&
               cb_strlcpy(st->call_id, PQgetvalue(res, 0, 3), sizeof(st->call_id)) &&
               int_col(res, 4, &st->wrap_up_until_us) &&
               cb_agent_status_parse(PQgetvalue(res, 0, 5), &st->next) &&
               cb_strlcpy(st->next_reason, PQgetvalue(res, 0, 6), sizeof(st->next_reason)) &&
               int_col(res, 8, now_us);
}

enum cb_qs cb_store_agent_status_get(struct cb_db *db, const char *agent, bool lock,
                                     struct cb_agent_state *out, int64_t *now_us)
{
        const char *params[1] = {agent};
        enum cb_qs qs = cb_db_exec_cmd(db, &stmt_ensure, 1, params);
        PGresult *res = NULL;

        if (qs < 0)
                return qs;
        res = cb_db_exec(db, lock ? &stmt_lock : &stmt_get, 1, params, &qs);
        if (res == NULL)
                return qs;
        if (qs != CB_QS_ONE_RESULT || !state_from_row(res, out, now_us)) {
                cb_error("agent_status row of %s unreadable (%s:%d)", agent, __FILE__, __LINE__);
                qs = CB_QS_HARD_ERROR;
        }
        PQclear(res);
        return qs;
}

static struct cb_stmt stmt_put = CB_STMT(
    "agent_status_put", "UPDATE agent_status SET status = $2, reason = NULLIF($3, ''), since =" TS(
                            "$4") ","
                                  " call_id = NULLIF($5, '')::uuid,"
                                  " wrap_up_until = CASE WHEN $6::bigint = 0 THEN NULL ELSE" TS(
                                      "$6") " END,"
                                            " next_status = $7, next_reason = NULLIF($8, ''), "
                                            "updated_at = now() WHERE agent = $1");

/* The open period ends when the new one starts; then the new one. */
static struct cb_stmt stmt_log_close = CB_STMT(
    "agent_status_log_close",
    "UPDATE agent_status_log SET ended_at =" TS("$2") " WHERE agent = $1 AND ended_at IS NULL");
static struct cb_stmt stmt_log_open =
    CB_STMT("agent_status_log_open",
            "INSERT INTO agent_status_log (agent, status, reason, call_id, started_at)"
            " VALUES ($1, $2, NULLIF($3, ''), NULLIF($4, '')::uuid," TS("$5") ")");

/* The wrap-up end job, durable: the queue runs it at wrap_up_until on whichever instance. */
static struct cb_stmt stmt_end_job = CB_STMT(
    "agent_wrap_up_end_job", "INSERT INTO jobs (kind, call_id, payload, available_at)"
                             " VALUES ('" CB_JOB_AGENT_WRAP_UP_END
                             "', $1::uuid, json_build_object('agent', $2::text)," TS("$3") ")");

enum cb_qs cb_store_agent_status_put(struct cb_db *db, const char *agent,
                                     const struct cb_agent_change *chg)
{
        const struct cb_agent_state *st = &chg->state;
        char since[24], until[24];
        const char *put[8] = {
            agent, cb_agent_status_name(st->status), st->reason,     since, st->call_id,
            until, cb_agent_status_name(st->next),   st->next_reason};
        const char *close[2] = {agent, since};
        const char *open[5] = {agent, put[1], st->reason, st->call_id, since};
        const char *job[3] = {st->call_id, agent, until};
        enum cb_qs qs;

        snprintf(since, sizeof(since), "%" PRId64, st->since_us);
        snprintf(until, sizeof(until), "%" PRId64, st->wrap_up_until_us);
        qs = cb_db_exec_cmd(db, &stmt_put, 8, put);
        if (qs >= 0 && chg->new_period)
                qs = cb_db_exec_cmd(db, &stmt_log_close, 2, close);
        if (qs >= 0 && chg->new_period)
                qs = cb_db_exec_cmd(db, &stmt_log_open, 5, open);
        if (qs >= 0 && chg->schedule_end && st->call_id[0] != '\0')
                qs = cb_db_exec_cmd(db, &stmt_end_job, 3, job);
        return qs < 0 ? qs : CB_QS_ONE_RESULT;
}

static struct cb_stmt stmt_peek =
    CB_STMT("agent_status_peek", "SELECT status FROM agent_status WHERE agent = $1");

enum cb_qs cb_store_agent_status_peek(struct cb_db *db, const char *agent,
                                      enum cb_agent_status *out)
{
        const char *params[1] = {agent};
        enum cb_qs qs;
        PGresult *res = cb_db_exec(db, &stmt_peek, 1, params, &qs);

        *out = CB_AGENT_AVAILABLE;
        if (res == NULL)
                return qs;
        if (qs == CB_QS_ONE_RESULT && !cb_agent_status_parse(PQgetvalue(res, 0, 0), out))
                qs = CB_QS_HARD_ERROR;
        PQclear(res);
        return qs;
}

/* A disposition for the call an agent is in wrap-up for: the wrap-up end job, now. */
static struct cb_stmt stmt_disposed =
    CB_STMT("agent_call_disposed",
            "INSERT INTO jobs (kind, call_id, payload)"
            " SELECT '" CB_JOB_AGENT_WRAP_UP_END "', a.call_id, json_build_object('agent', a.agent)"
            " FROM agent_status a WHERE a.call_id = $1::uuid AND a.status = 'wrap_up'");

enum cb_qs cb_agent_status_call_disposed(struct cb_db *db, const char *call_id)
{
        const char *params[1] = {call_id};

        if (!cb_uuid_valid(call_id))
                return CB_QS_NO_RESULTS;
        return cb_db_exec_cmd(db, &stmt_disposed, 1, params);
}
