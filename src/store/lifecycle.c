/* Query family: the call lifecycle as telephony reports it — status events, the provider's
 * call id, failures, and the recordings a provider announces. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbridge/crypto.h"
#include "callbridge/log.h"
#include "callbridge/store_batcher.h"
#include "callbridge/store_lifecycle.h"

/* The state machine as SQL parameters, from src/calls/ (cb_calls_*): the SQL stores, the C
 * decides. A move goes forward when the status reached outranks the call's — the SQL tests
 * that on the call's row with the ranks below, so a concurrent move is judged from the
 * newest status — and what it causes depends only on the status reached, the direction and
 * the missed-task flag (cb_calls_reach), which each event carries. Built once; array
 * literals; NULL members when out of memory (the statements then fail, nothing is
 * half-written). */
enum {
        RK_STATUS, /* text[]: every status ... */
        RK_RANK,   /* int[]: ... and its rank */
        FL_DIR,    /* text[]: "failed to place", per direction (cb_calls_move_fail) */
        FL_TO,     /* text[] */
        FL_ENDED,  /* boolean[] */
        FL_JOBS,   /* text[] */
        NRULE
};
static struct cb_buf rules[NRULE];
static pthread_once_t rules_once = PTHREAD_ONCE_INIT;

static int rule_add(int col, const char *v)
{
        return cb_buf_printf(&rules[col], "%s\"%s\"", rules[col].len > 1 ? "," : "", v);
}

/* The kinds a move queues, joined by ',' (a text[] element, split again by the SQL). */
static void jobs_text(const struct cb_call_move *m, char *out, size_t size)
{
        out[0] = '\0';
        for (size_t j = 0; j < m->job_count; j++) {
                strncat(out, j ? "," : "", size - strlen(out) - 1);
                strncat(out, m->jobs[j], size - strlen(out) - 1);
        }
}

static int rule_jobs(int col, const struct cb_call_move *m)
{
        char kinds[128];

        jobs_text(m, kinds, sizeof(kinds));
        return rule_add(col, kinds);
}

/* "Failed to place" for a call of direction `d` that has not ended (from queued, the lowest
 * rank, it always moves; the SQL does the rank test for the call's real status). */
static int rule_fail(enum cb_call_direction d)
{
        struct cb_call_move m = cb_calls_move_fail(CB_CALL_QUEUED, d);
        int rc = 0;

        rc |= rule_add(FL_DIR, cb_calls_direction_name(d));
        rc |= rule_add(FL_TO, cb_calls_status_name(m.status));
        rc |= rule_add(FL_ENDED, m.set_ended ? "t" : "f");
        return rc | rule_jobs(FL_JOBS, &m);
}

static void rules_build(void)
{
        static const enum cb_call_direction dirs[] = {CB_CALL_OUTBOUND, CB_CALL_INBOUND};
        int rc = 0;

        for (int k = 0; k < NRULE; k++) {
                rules[k] = (struct cb_buf){.max = 1 << 16};
                rc |= cb_buf_puts(&rules[k], "{");
        }
        for (int s = 0; s < CB_CALL_STATUS_COUNT; s++) {
                rc |= rule_add(RK_STATUS, cb_calls_status_name((enum cb_call_status)s));
                rc |= cb_buf_printf(&rules[RK_RANK], "%s%d", s ? "," : "",
                                    cb_calls_status_rank((enum cb_call_status)s));
        }
        for (size_t d = 0; d < CB_ARRAY_LEN(dirs); d++)
                rc |= rule_fail(dirs[d]);
        for (int k = 0; k < NRULE; k++)
                rc |= cb_buf_puts(&rules[k], "}");
        if (rc != 0) {
                cb_error("call state rules: out of memory");
                for (int k = 0; k < NRULE; k++)
                        cb_buf_free(&rules[k]);
        }
}

/* The rule parameters from `first` to `last`, into params[0...]; -1 when they could not be
 * built (out of memory at the first use: the statement must not run without its rules). */
static int rule_params(int first, int last, const char **params)
{
        pthread_once(&rules_once, rules_build);
        for (int k = first; k <= last; k++) {
                params[k - first] = rules[k].data;
                if (params[k - first] == NULL)
                        return -1;
        }
        return 0;
}

/* Provider status callbacks, many in one statement (the arrays are parallel, one element per
 * callback; n numbers them; each carries its status's rank and what reaching it causes,
 * cb_calls_reach, for either direction): find each call (by our id from the callback URL,
 * else by the provider's id); record each (call, status) once; take the highest-ranked
 * status newly recorded for each call and move the call to it when it outranks the call's
 * status ($13/$14, the ranks) — tested in the UPDATE on the call's row, which PostgreSQL
 * re-checks on the newest version when a concurrent batch moved the call first, so a late
 * "ringing" after "completed" stays in the history and changes nothing. The move sets the
 * timestamps and queues the jobs its status causes for the call's direction; answered_at is
 * left to the agent's participant for a call bridged by conference (calls.answer_on_join). */
static struct cb_stmt stmt_events =
    CB_STMT("call_status_events",
            "WITH input AS (SELECT * FROM unnest($1::int[], $2::uuid[], $3::text[], $4::text[],"
            "  $5::int[], $6::int[], $7::boolean[], $8::boolean[], $9::boolean[], $10::text[],"
            "  $11::text[]) AS t(n, call_id, sid, status, duration, rank, answered, ended,"
            "  set_duration, jobs_out, jobs_in)),"
            " m AS (SELECT i.*, c.id AS cid, c.agent, c.direction FROM input i JOIN calls c"
            "  ON c.id = COALESCE(i.call_id, (SELECT x.id FROM calls x WHERE x.telephony = $12"
            "   AND x.provider_call_id = i.sid LIMIT 1))),"
            " ev AS (INSERT INTO call_events (call_id, status, source)"
            "  SELECT DISTINCT cid, status, $12 FROM m"
            "  ON CONFLICT (call_id, status) WHERE source = 'twilio' DO NOTHING"
            "  RETURNING call_id, status),"
            " best AS (SELECT DISTINCT ON (m.cid) m.* FROM ev"
            "  JOIN m ON m.cid = ev.call_id AND m.status = ev.status ORDER BY m.cid, m.rank DESC),"
            " up AS (UPDATE calls c SET status = b.status,"
            "  provider_call_id = COALESCE(c.provider_call_id, b.sid),"
            "  duration_s = CASE WHEN b.set_duration THEN b.duration ELSE c.duration_s END,"
            "  answered_at = CASE WHEN b.answered AND NOT c.answer_on_join THEN now()"
            "   ELSE c.answered_at END,"
            "  ended_at = CASE WHEN b.ended THEN now() ELSE c.ended_at END,"
            "  updated_at = now()"
            "  FROM best b WHERE c.id = b.cid"
            "  AND b.rank > ($14::int[])[array_position($13::text[], c.status)]"
            "  RETURNING c.id, c.status,"
            "   CASE WHEN c.direction = 'inbound' THEN b.jobs_in ELSE b.jobs_out END AS jobs,"
            "   c.answered_at IS NOT NULL AS answered,"
            "   EXTRACT(epoch FROM c.answered_at - c.created_at)::float8 AS wait_s,"
            "   COALESCE(c.duration_s::float8,"
            "    EXTRACT(epoch FROM c.ended_at - c.answered_at)::float8) AS talk_s),"
            " j AS (INSERT INTO jobs (kind, call_id)"
            "  SELECT k, up.id FROM up, unnest(string_to_array(up.jobs, ',')) AS k)"
            " SELECT i.n, m.cid::text, m.agent, m.direction,"
            "  EXISTS (SELECT 1 FROM ev WHERE ev.call_id = m.cid AND ev.status = i.status),"
            "  u.id IS NOT NULL, u.answered, u.wait_s, u.talk_s"
            " FROM input i LEFT JOIN m ON m.n = i.n"
            " LEFT JOIN up u ON u.id = m.cid AND u.status = i.status");

/* One callback's columns: its status, rank and what reaching it causes — the timestamps are
 * the same for both directions, the jobs may differ (a missed inbound call's follow-up). */
static int event_cols(struct cb_buf *cols, size_t i, const struct cb_status_event *ev)
{
        const char *sep = i ? "," : "";
        struct cb_call_move out = cb_calls_reach(ev->status, CB_CALL_OUTBOUND, ev->missed_task);
        struct cb_call_move in = cb_calls_reach(ev->status, CB_CALL_INBOUND, ev->missed_task);
        char jobs_out[128], jobs_in[128];
        int rc = 0;

        jobs_text(&out, jobs_out, sizeof(jobs_out));
        jobs_text(&in, jobs_in, sizeof(jobs_in));
        /* Ids and SIDs were checked by the caller, statuses and kinds are ours: no escaping. */
        rc |= cb_buf_printf(&cols[0], "%s%zu", sep, i);
        rc |= cb_buf_printf(&cols[1], "%s%s", sep, ev->call_id ? ev->call_id : "NULL");
        rc |= cb_buf_printf(&cols[2], "%s%s", sep, ev->provider_call_id);
        rc |= cb_buf_printf(&cols[3], "%s%s", sep, cb_calls_status_name(ev->status));
        if (ev->duration_s >= 0)
                rc |= cb_buf_printf(&cols[4], "%s%ld", sep, ev->duration_s);
        else
                rc |= cb_buf_printf(&cols[4], "%sNULL", sep);
        rc |= cb_buf_printf(&cols[5], "%s%d", sep, cb_calls_status_rank(ev->status));
        rc |= cb_buf_printf(&cols[6], "%s%s", sep, out.set_answered ? "t" : "f");
        rc |= cb_buf_printf(&cols[7], "%s%s", sep, out.set_ended ? "t" : "f");
        rc |= cb_buf_printf(&cols[8], "%s%s", sep, out.set_duration ? "t" : "f");
        rc |= cb_buf_printf(&cols[9], "%s\"%s\"", sep, jobs_out);
        rc |= cb_buf_printf(&cols[10], "%s\"%s\"", sep, jobs_in);
        return rc;
}

/* A float column, or -1 when NULL (a time that did not happen). */
static double real_col(const PGresult *res, int r, int c)
{
        return PQgetisnull(res, r, c) ? -1 : strtod(PQgetvalue(res, r, c), NULL);
}

enum cb_qs cb_store_call_status_events(struct cb_db *db, const struct cb_status_event *const *evs,
                                       size_t n, struct cb_status_outcome *out)
{
        enum { NCOL = 11, NPARAM = NCOL + 3 };
        struct cb_buf cols[NCOL];
        const char *params[NPARAM];
        enum cb_qs qs = CB_QS_HARD_ERROR;
        PGresult *res = NULL;
        int rc = 0;

        for (int k = 0; k < NCOL; k++) {
                cols[k] = (struct cb_buf){.max = 1 << 20};
                rc |= cb_buf_puts(&cols[k], "{");
        }
        for (size_t i = 0; i < n; i++) {
                rc |= event_cols(cols, i, evs[i]);
                memset(&out[i], 0, sizeof(out[i]));
        }
        for (int k = 0; k < NCOL; k++) {
                rc |= cb_buf_puts(&cols[k], "}");
                params[k] = cols[k].data;
        }
        params[NCOL] = n ? evs[0]->provider : "";
        rc |= rule_params(RK_STATUS, RK_RANK, &params[NCOL + 1]);
        if (rc == 0)
                res = cb_db_exec(db, &stmt_events, NPARAM, params, &qs);
        for (int r = 0; res != NULL && r < PQntuples(res); r++) {
                long i;
                if (!cb_parse_long(PQgetvalue(res, r, 0), 0, (long)n - 1, &i) ||
                    PQgetisnull(res, r, 1))
                        continue;
                out[i].found = true;
                cb_strlcpy(out[i].call_id, PQgetvalue(res, r, 1), sizeof(out[i].call_id));
                cb_strlcpy(out[i].agent, PQgetvalue(res, r, 2), sizeof(out[i].agent));
                cb_strlcpy(out[i].direction, PQgetvalue(res, r, 3), sizeof(out[i].direction));
                out[i].recorded = strcmp(PQgetvalue(res, r, 4), "t") == 0;
                out[i].advanced = strcmp(PQgetvalue(res, r, 5), "t") == 0;
                out[i].answered = strcmp(PQgetvalue(res, r, 6), "t") == 0;
                out[i].wait_s = real_col(res, r, 7);
                out[i].talk_s = real_col(res, r, 8);
        }
        PQclear(res);
        for (int k = 0; k < NCOL; k++)
                cb_buf_free(&cols[k]);
        return res != NULL ? CB_QS_ONE_RESULT : qs;
}

static _Atomic(cb_status_committed_fn) committed_hook;

void cb_status_batcher_on_commit(cb_status_committed_fn fn)
{
        atomic_store(&committed_hook, fn);
}

/* Status callbacks, batched (a cb_batcher kind of struct cb_status_item).
 * One batch; when it fails as a whole (e.g. a deadlock with another batch), one at a time. */
static void events_batch(struct cb_db *db, void *const *items, size_t n)
{
        const struct cb_status_event *evs[CB_BATCH_MAX] = {NULL};
        struct cb_status_outcome outs[CB_BATCH_MAX];
        enum cb_qs qs = CB_QS_HARD_ERROR;

        for (size_t i = 0; i < n; i++)
                evs[i] = ((struct cb_status_item *)items[i])->ev;
        if (db != NULL)
                qs = cb_store_call_status_events(db, evs, n, outs);
        for (size_t i = 0; i < n; i++) {
                struct cb_status_item *it = items[i];
                if (qs < 0 && db != NULL && n > 1)
                        it->qs = cb_store_call_status_events(db, &evs[i], 1, &outs[i]);
                else
                        it->qs = qs;
                if (it->qs >= 0) {
                        it->out = outs[i];
                        it->qs = it->out.found ? CB_QS_ONE_RESULT : CB_QS_NO_RESULTS;
                }
        }
        cb_status_committed_fn hook = atomic_load(&committed_hook);
        if (hook != NULL)
                hook((struct cb_status_item *const *)items, n);
}

struct cb_batcher *cb_status_batcher_start(struct cb_db_pool *pool, int threads)
{
        return cb_batcher_start(pool, "status event", threads, events_batch);
}

enum cb_qs cb_status_batcher_record(struct cb_batcher *b, const struct cb_status_event *ev,
                                    struct cb_status_outcome *out)
{
        struct cb_status_item it = {.ev = ev};

        cb_batcher_run(b, &it);
        *out = it.out;
        return it.qs;
}

static void item_done(void *item)
{
        struct cb_status_item *it = item;

        it->done(it->arg);
}

int cb_status_batcher_submit(struct cb_batcher *b, struct cb_status_item *it)
{
        memset(&it->out, 0, sizeof(it->out));
        it->qs = CB_QS_HARD_ERROR;
        return cb_batcher_submit(b, it, item_done);
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

static struct cb_stmt stmt_set_from =
    CB_STMT("call_set_from", "UPDATE calls SET from_e164 = $2 WHERE id = $1::uuid"
                             " AND from_e164 IS NULL");

enum cb_qs cb_store_call_set_from(struct cb_db *db, const char *id, const char *from_e164)
{
        const char *params[2] = {id, from_e164};
        return cb_db_exec_cmd(db, &stmt_set_from, 2, params);
}

static struct cb_stmt stmt_set_crm_written =
    CB_STMT("call_set_crm_written", "UPDATE calls SET crm_recording_id = $2::uuid,"
                                    " crm_transcript_id = $3::uuid WHERE id = $1::uuid");

enum cb_qs cb_store_call_set_crm_written(struct cb_db *db, const char *id, const char *recording_id,
                                         const char *transcript_id)
{
        const char *params[3] = {id, recording_id, transcript_id};
        return cb_db_exec_cmd(db, &stmt_set_crm_written, 3, params);
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

/* A call the provider could not place: the "failed to place" move (cb_calls_move_fail, $4-$7
 * per direction) unless the call already ended (the rank test on its row, $2/$3 the ranks);
 * recorded as the job's event, with the jobs it queues. */
static struct cb_stmt stmt_fail = CB_STMT(
    "call_fail",
    "WITH x AS (SELECT * FROM unnest($4::text[], $5::text[], $6::boolean[], $7::text[])"
    "  AS x(dir, to_s, ended, jobs)),"
    " up AS (UPDATE calls c SET status = x.to_s,"
    "  ended_at = CASE WHEN x.ended THEN now() ELSE c.ended_at END, updated_at = now()"
    "  FROM x WHERE c.id = $1::uuid AND x.dir = c.direction"
    "  AND ($3::int[])[array_position($2::text[], x.to_s)]"
    "   > ($3::int[])[array_position($2::text[], c.status)]"
    "  RETURNING c.id, x.to_s, x.jobs),"
    " e AS (INSERT INTO call_events (call_id, status, source) SELECT id, to_s, 'job' FROM up),"
    " j AS (INSERT INTO jobs (kind, call_id)"
    "  SELECT k, up.id FROM up, unnest(string_to_array(up.jobs, ',')) AS k)"
    " SELECT id FROM up");

enum cb_qs cb_store_call_fail(struct cb_db *db, const char *id)
{
        const char *params[7] = {id};

        if (rule_params(RK_STATUS, RK_RANK, &params[1]) != 0 ||
            rule_params(FL_DIR, FL_JOBS, &params[3]) != 0)
                return CB_QS_HARD_ERROR;
        return cb_db_exec_cmd(db, &stmt_fail, CB_ARRAY_LEN(params), params);
}

/* A recording the provider announced, once per provider sid, with its recording.fetch job.
 * The call is found by our id (from the callback URL) or by the provider's call id. */
static struct cb_stmt stmt_recording = CB_STMT(
    "recording_announce",
    "WITH t AS (SELECT id FROM calls WHERE ($1::uuid IS NOT NULL AND id = $1::uuid)"
    "   OR ($1::uuid IS NULL AND telephony = $2 AND provider_call_id = $3) LIMIT 1),"
    " ins AS (INSERT INTO recordings (id, call_id, provider, provider_sid, source_url, duration_s)"
    "  SELECT $4::uuid, id, $2, $5, $6, $7::integer FROM t"
    "  ON CONFLICT (provider, provider_sid) WHERE provider_sid IS NOT NULL DO NOTHING"
    "  RETURNING id, call_id),"
    " j AS (INSERT INTO jobs (kind, call_id, payload) SELECT 'recording.fetch', call_id,"
    "  json_build_object('recording_id', id) FROM ins)"
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
