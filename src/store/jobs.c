/* Query family: the durable job queue. */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "callbridge/log.h"
#include "callbridge/store_jobs.h"

void cb_job_row_clear(struct cb_job_row *row)
{
        json_decref(row->payload);
        memset(row, 0, sizeof(*row));
}

/* SKIP LOCKED lets every worker of every instance claim concurrently without waiting; a
 * 'running' row whose lease (available_at) has passed belongs to a dead worker. */
static struct cb_stmt stmt_claim = CB_STMT(
    "job_claim",
    "UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_by = $1,"
    "  available_at = now() + make_interval(secs => $3::int), updated_at = now()"
    " WHERE id IN (SELECT id FROM jobs"
    "  WHERE state IN ('queued', 'running') AND available_at <= now() AND kind = ANY($2::text[])"
    "  ORDER BY available_at LIMIT $4 FOR UPDATE SKIP LOCKED)"
    " RETURNING id, kind, COALESCE(call_id::text, ''), payload::text, attempts, waits");

enum cb_qs cb_store_jobs_claim(struct cb_db *db, const char *worker, const char *kinds, int lease_s,
                               struct cb_job_row *rows, int max)
{
        char lease[16];
        char limit[16];
        const char *params[4] = {worker, kinds, lease, limit};
        enum cb_qs qs;
        PGresult *res;
        int n;

        snprintf(lease, sizeof(lease), "%d", lease_s);
        snprintf(limit, sizeof(limit), "%d", max);
        res = cb_db_exec(db, &stmt_claim, 4, params, &qs);
        if (res == NULL)
                return qs;
        n = PQntuples(res);
        for (int i = 0; i < n && i < max; i++) {
                struct cb_job_row *row = &rows[i];
                long v;
                memset(row, 0, sizeof(*row));
                if (cb_parse_long(PQgetvalue(res, i, 0), 1, LONG_MAX, &v))
                        row->id = v;
                cb_strlcpy(row->kind, PQgetvalue(res, i, 1), sizeof(row->kind));
                cb_strlcpy(row->call_id, PQgetvalue(res, i, 2), sizeof(row->call_id));
                row->payload = json_loads(PQgetvalue(res, i, 3), 0, NULL);
                if (row->payload == NULL)
                        row->payload = json_object();
                if (cb_parse_long(PQgetvalue(res, i, 4), 0, INT_MAX, &v))
                        row->attempts = (int)v;
                if (cb_parse_long(PQgetvalue(res, i, 5), 0, INT_MAX, &v))
                        row->waits = (int)v;
        }
        PQclear(res);
        return (enum cb_qs)(n < max ? n : max);
}

/* Many successes at once; rows another worker has taken over are left alone. */
static struct cb_stmt stmt_done_many =
    CB_STMT("jobs_done", "UPDATE jobs SET state = 'done', locked_by = NULL, last_error = NULL,"
                         " finished_at = now(), updated_at = now()"
                         " WHERE id = ANY($1::bigint[]) AND locked_by = $2 AND state = 'running'");

enum cb_qs cb_store_jobs_done(struct cb_db *db, const int64_t *ids, size_t n, const char *worker)
{
        struct cb_buf list = {.max = 1 << 20};
        const char *params[2];
        enum cb_qs qs;

        cb_buf_puts(&list, "{");
        for (size_t i = 0; i < n; i++)
                cb_buf_printf(&list, "%s%" PRId64, i ? "," : "", ids[i]);
        if (cb_buf_puts(&list, "}") != 0) {
                cb_buf_free(&list);
                return CB_QS_HARD_ERROR;
        }
        params[0] = list.data;
        params[1] = worker;
        qs = cb_db_exec_cmd(db, &stmt_done_many, 2, params);
        cb_buf_free(&list);
        return qs;
}

/* Give back claimed jobs not started (their lease would run out first); the attempt the
 * claim counted is returned too. */
static struct cb_stmt stmt_release =
    CB_STMT("jobs_release", "UPDATE jobs SET state = 'queued', locked_by = NULL,"
                            " attempts = attempts - 1, available_at = now(), updated_at = now()"
                            " WHERE id = $1 AND locked_by = $2 AND state = 'running'");

enum cb_qs cb_store_job_release(struct cb_db *db, const struct cb_job_row *row, const char *worker)
{
        char id[24];
        const char *params[2] = {id, worker};

        snprintf(id, sizeof(id), "%" PRId64, row->id);
        return cb_db_exec_cmd(db, &stmt_release, 2, params);
}

/* A failure ends a run of waits: the job is no longer waiting (callbridge_jobs_waiting), and
 * a later wait backs off from the start again. */
static struct cb_stmt stmt_retry = CB_STMT(
    "job_retry", "UPDATE jobs SET state = 'queued', locked_by = NULL, last_error = $5, waits = 0,"
                 " available_at = now() + make_interval(secs => $4::double precision / 1000),"
                 " updated_at = now()"
                 " WHERE id = $1 AND locked_by = $2 AND attempts = $3 AND state = 'running'");

/* Waiting spends no attempt: the claim's is given back, and `waits` counts the wait. */
static struct cb_stmt stmt_wait = CB_STMT(
    "job_wait", "UPDATE jobs SET state = 'queued', locked_by = NULL, last_error = $5,"
                " attempts = attempts - 1, waits = waits + 1,"
                " available_at = now() + make_interval(secs => $4::double precision / 1000),"
                " updated_at = now()"
                " WHERE id = $1 AND locked_by = $2 AND attempts = $3 AND state = 'running'");

static struct cb_stmt stmt_dead = CB_STMT(
    "job_dead", "UPDATE jobs SET state = 'dead', locked_by = NULL, last_error = $4,"
                " finished_at = now(), updated_at = now()"
                " WHERE id = $1 AND locked_by = $2 AND attempts = $3 AND state = 'running'");

static enum cb_qs finish(struct cb_db *db, struct cb_stmt *stmt, const struct cb_job_row *row,
                         const char *worker, const char *extra1, const char *extra2)
{
        char id[24];
        char attempts[16];
        const char *params[5] = {id, worker, attempts, extra1, extra2};
        int n = extra2 ? 5 : extra1 ? 4 : 3;

        snprintf(id, sizeof(id), "%" PRId64, row->id);
        snprintf(attempts, sizeof(attempts), "%d", row->attempts);
        return cb_db_exec_cmd(db, stmt, n, params);
}

enum cb_qs cb_store_job_retry(struct cb_db *db, const struct cb_job_row *row, const char *worker,
                              int64_t delay_ms, const char *error)
{
        char delay[24];

        snprintf(delay, sizeof(delay), "%" PRId64, delay_ms);
        return finish(db, &stmt_retry, row, worker, delay, error);
}

enum cb_qs cb_store_job_wait(struct cb_db *db, const struct cb_job_row *row, const char *worker,
                             int64_t delay_ms, const char *error)
{
        char delay[24];

        snprintf(delay, sizeof(delay), "%" PRId64, delay_ms);
        return finish(db, &stmt_wait, row, worker, delay, error);
}

enum cb_qs cb_store_job_dead(struct cb_db *db, const struct cb_job_row *row, const char *worker,
                             const char *error)
{
        return finish(db, &stmt_dead, row, worker, error, NULL);
}

/* The lease heartbeat: the jobs this instance's workers hold in hand stay leased. */
static struct cb_stmt stmt_extend =
    CB_STMT("jobs_extend", "UPDATE jobs SET available_at = now() + make_interval(secs => $3::int)"
                           " WHERE id = ANY($1::bigint[]) AND state = 'running'"
                           " AND starts_with(locked_by, $2)");

/* "{1,2,3}": the PostgreSQL array literal of `ids`, in `list` (capped). -1 at the cap. */
static int id_array(struct cb_buf *list, const int64_t *ids, size_t n)
{
        cb_buf_puts(list, "{");
        for (size_t i = 0; i < n; i++)
                cb_buf_printf(list, "%s%" PRId64, i ? "," : "", ids[i]);
        return cb_buf_puts(list, "}");
}

enum cb_qs cb_store_jobs_extend(struct cb_db *db, const char *owner_prefix, const int64_t *ids,
                                size_t n, int lease_s)
{
        struct cb_buf list = {.max = 1 << 20};
        char lease[16];
        const char *params[3] = {NULL, owner_prefix, lease};
        enum cb_qs qs = CB_QS_HARD_ERROR;

        snprintf(lease, sizeof(lease), "%d", lease_s);
        if (id_array(&list, ids, n) == 0) {
                params[0] = list.data;
                qs = cb_db_exec_cmd(db, &stmt_extend, 3, params);
        }
        cb_buf_free(&list);
        return qs;
}

static struct cb_stmt stmt_depth = CB_STMT(
    "job_depth", "SELECT kind, state, count(*),"
                 " COALESCE(extract(epoch FROM now() - min(created_at)), 0)::double precision,"
                 " count(*) FILTER (WHERE waits > 0)"
                 " FROM jobs WHERE state IN ('queued', 'running', 'dead') GROUP BY kind, state");

enum cb_qs cb_store_job_depth(struct cb_db *db, json_t **out)
{
        enum cb_qs qs;
        PGresult *res = cb_db_exec(db, &stmt_depth, 0, NULL, &qs);

        *out = NULL;
        if (res == NULL)
                return qs;
        *out = json_array();
        for (int i = 0; i < PQntuples(res); i++) {
                long count = 0, waiting = 0;
                char *end = NULL;
                double age = strtod(PQgetvalue(res, i, 3), &end);
                if (!cb_parse_long(PQgetvalue(res, i, 2), 0, LONG_MAX, &count))
                        count = 0;
                if (!cb_parse_long(PQgetvalue(res, i, 4), 0, LONG_MAX, &waiting))
                        waiting = 0;
                json_array_append_new(*out, json_pack("[s s I f I]", PQgetvalue(res, i, 0),
                                                      PQgetvalue(res, i, 1), (json_int_t)count,
                                                      end && *end == '\0' ? age : 0.0,
                                                      (json_int_t)waiting));
        }
        PQclear(res);
        return CB_QS_ONE_RESULT;
}

static struct cb_stmt stmt_queue_unless =
    CB_STMT("job_queue_unless_waiting",
            "INSERT INTO jobs (kind) SELECT $1 WHERE NOT EXISTS (SELECT 1 FROM jobs"
            " WHERE kind = $1 AND state IN ('queued', 'running'))");

enum cb_qs cb_store_job_queue_unless_waiting(struct cb_db *db, const char *kind)
{
        const char *p[1] = {kind};
        return cb_db_exec_cmd(db, &stmt_queue_unless, 1, p);
}
