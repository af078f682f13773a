/* Query family: the operators' view of the job queue — listing jobs (dead letters first of
 * all) and sending dead ones back to the queue (`callbridge jobs`, /api/admin/jobs). */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "callbridge/log.h"
#include "callbridge/store_jobs.h"

#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

/* Newest first; $3 is the keyset cursor (ids below it), NULL for the first page. */
static struct cb_stmt stmt_list = CB_STMT(
    "jobs_admin_list",
    "SELECT id, kind, call_id::text, state, attempts, waits, " TS(
        "available_at") ","
                        " last_error, " TS("created_at") " FROM jobs"
                                                         " WHERE ($1::text IS NULL OR state = $1) "
                                                         "AND ($2::text IS NULL OR kind = $2)"
                                                         "  AND ($3::bigint IS NULL OR id < $3)"
                                                         " ORDER BY id DESC LIMIT $4");

/* A text column as a JSON string, or null when SQL NULL. */
static json_t *text_or_null(const PGresult *res, int row, int col)
{
        return PQgetisnull(res, row, col) ? json_null() : json_string(PQgetvalue(res, row, col));
}

static json_int_t int_of(const PGresult *res, int row, int col)
{
        long v = 0;

        return cb_parse_long(PQgetvalue(res, row, col), LONG_MIN, LONG_MAX, &v) ? v : 0;
}

enum cb_qs cb_store_jobs_list(struct cb_db *db, const struct cb_job_filter *f, json_t **out)
{
        char before[24], limit[16];
        const char *params[4] = {f->state, f->kind, NULL, limit};
        enum cb_qs qs;
        PGresult *res;

        *out = NULL;
        if (f->before_id > 0) {
                snprintf(before, sizeof(before), "%" PRId64, f->before_id);
                params[2] = before;
        }
        snprintf(limit, sizeof(limit), "%d", f->limit);
        res = cb_db_exec(db, &stmt_list, 4, params, &qs);
        if (res == NULL)
                return qs;
        *out = json_array();
        for (int i = 0; i < PQntuples(res); i++) {
                json_t *job = json_pack(
                    "{s:I,s:s,s:o,s:s,s:I,s:I,s:s,s:o,s:s}", "id", int_of(res, i, 0), "kind",
                    PQgetvalue(res, i, 1), "call_id", text_or_null(res, i, 2), "state",
                    PQgetvalue(res, i, 3), "attempts", int_of(res, i, 4), "waits",
                    int_of(res, i, 5), "available_at", PQgetvalue(res, i, 6), "last_error",
                    text_or_null(res, i, 7), "created_at", PQgetvalue(res, i, 8));
                if (job == NULL || json_array_append_new(*out, job) != 0) {
                        json_decref(*out);
                        *out = NULL;
                        PQclear(res);
                        return CB_QS_HARD_ERROR;
                }
        }
        qs = PQntuples(res) > 0 ? (enum cb_qs)PQntuples(res) : CB_QS_NO_RESULTS;
        PQclear(res);
        return qs;
}

/* A dead job back to the queue, runnable now with a fresh count of attempts; the NOTIFY
 * wakes the workers of every instance when the transaction commits. */
#define REQUEUE                                                                                    \
        "UPDATE jobs j SET state = 'queued', attempts = 0, waits = 0, locked_by = NULL,"           \
        " available_at = now(), finished_at = NULL, updated_at = now()"

static struct cb_stmt stmt_retry_one =
    CB_STMT("jobs_admin_retry_one",
            "WITH t AS (SELECT id, state FROM jobs WHERE id = $1 FOR UPDATE),"
            " u AS (" REQUEUE " FROM t WHERE j.id = t.id AND t.state = 'dead' RETURNING j.id),"
            " n AS (SELECT pg_notify('cb_jobs', '') FROM u)"
            " SELECT t.state, (SELECT count(*) FROM u), (SELECT count(*) FROM n) FROM t");

enum cb_qs cb_store_job_requeue_dead(struct cb_db *db, int64_t id, char state[16])
{
        char ids[24];
        const char *params[1] = {ids};
        enum cb_qs qs;
        PGresult *res;

        state[0] = '\0';
        snprintf(ids, sizeof(ids), "%" PRId64, id);
        res = cb_db_exec(db, &stmt_retry_one, 1, params, &qs);
        if (res == NULL)
                return qs;
        qs = CB_QS_NO_RESULTS;
        if (PQntuples(res) == 1) {
                cb_strlcpy(state, PQgetvalue(res, 0, 0), 16);
                if (strcmp(PQgetvalue(res, 0, 1), "1") == 0)
                        qs = CB_QS_ONE_RESULT;
        }
        PQclear(res);
        return qs;
}

static struct cb_stmt stmt_retry_dead =
    CB_STMT("jobs_admin_retry_dead",
            "WITH u AS (" REQUEUE " WHERE state = 'dead' AND ($1::text IS NULL OR kind = $1)"
            " RETURNING id), n AS (SELECT pg_notify('cb_jobs', '') WHERE EXISTS (SELECT 1 FROM u))"
            " SELECT (SELECT count(*) FROM u), (SELECT count(*) FROM n)");

enum cb_qs cb_store_jobs_requeue_dead(struct cb_db *db, const char *kind, long *count)
{
        const char *params[1] = {kind};
        enum cb_qs qs;
        PGresult *res = cb_db_exec(db, &stmt_retry_dead, 1, params, &qs);

        *count = 0;
        if (res == NULL)
                return qs;
        if (PQntuples(res) != 1 || !cb_parse_long(PQgetvalue(res, 0, 0), 0, LONG_MAX, count))
                qs = CB_QS_HARD_ERROR;
        else
                qs = *count > 0 ? CB_QS_ONE_RESULT : CB_QS_NO_RESULTS;
        PQclear(res);
        return qs;
}

bool cb_store_job_state_valid(const char *state)
{
        return state != NULL && cb_choice_match("queued|running|done|dead", state, false);
}

bool cb_store_job_kind_valid(const char *kind)
{
        return kind != NULL && cb_str_charset(kind, 63, "._-");
}
