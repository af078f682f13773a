/* Query family: the call lifecycle as telephony reports it — status events, the provider's
 * call id, failures, and the recordings a provider announces. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "callbridge/crypto.h"
#include "callbridge/log.h"
#include "callbridge/store.h"

/* The state machine as SQL parameters, built once from src/calls/ (cb_calls_*): the SQL
 * stores, the C decides. Array literals; NULL members when out of memory (the statements then
 * fail, nothing is half-written). */
enum {
        RK_STATUS,   /* text[]: every status ... */
        RK_RANK,     /* int[]: ... and its rank */
        MV_FROM,     /* text[]: the moves that advance, per (from, to, direction, missed) */
        MV_TO,       /* text[] */
        MV_DIR,      /* text[] */
        MV_MISSED,   /* boolean[] */
        MV_ANSWERED, /* boolean[] */
        MV_ENDED,    /* boolean[] */
        MV_DURATION, /* boolean[] */
        MV_JOBS,     /* text[]: the kinds queued, joined by ',' */
        FL_FROM,     /* text[]: "failed to place", per (from, direction) when it fails */
        FL_DIR,      /* text[] */
        FL_TO,       /* text[] */
        FL_ENDED,    /* boolean[] */
        FL_JOBS,     /* text[] */
        NRULE
};
static struct cb_buf rules[NRULE];
static pthread_once_t rules_once = PTHREAD_ONCE_INIT;

static int rule_add(int col, const char *v)
{
        return cb_buf_printf(&rules[col], "%s\"%s\"", rules[col].len > 1 ? "," : "", v);
}

static int rule_jobs(int col, const struct cb_call_move *m)
{
        char kinds[128] = "";

        for (size_t j = 0; j < m->job_count; j++) {
                strncat(kinds, j ? "," : "", sizeof(kinds) - strlen(kinds) - 1);
                strncat(kinds, m->jobs[j], sizeof(kinds) - strlen(kinds) - 1);
        }
        return rule_add(col, kinds);
}

/* One advancing move of the provider's status events. */
static int rule_move(enum cb_call_status from, enum cb_call_status to, enum cb_call_direction d,
                     bool missed)
{
        struct cb_call_move m = cb_calls_move(from, to, d, missed);
        int rc = 0;

        if (!m.advance)
                return 0;
        rc |= rule_add(MV_FROM, cb_calls_status_name(from));
        rc |= rule_add(MV_TO, cb_calls_status_name(m.status));
        rc |= rule_add(MV_DIR, cb_calls_direction_name(d));
        rc |= rule_add(MV_MISSED, missed ? "t" : "f");
        rc |= rule_add(MV_ANSWERED, m.set_answered ? "t" : "f");
        rc |= rule_add(MV_ENDED, m.set_ended ? "t" : "f");
        rc |= rule_add(MV_DURATION, m.set_duration ? "t" : "f");
        return rc | rule_jobs(MV_JOBS, &m);
}

static int rule_fail(enum cb_call_status from, enum cb_call_direction d)
{
        struct cb_call_move m = cb_calls_move_fail(from, d);
        int rc = 0;

        if (!m.advance)
                return 0;
        rc |= rule_add(FL_FROM, cb_calls_status_name(from));
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
        for (int f = 0; f < CB_CALL_STATUS_COUNT; f++) {
                rc |= rule_add(RK_STATUS, cb_calls_status_name((enum cb_call_status)f));
                rc |= cb_buf_printf(&rules[RK_RANK], "%s%d", f ? "," : "",
                                    cb_calls_status_rank((enum cb_call_status)f));
                for (size_t d = 0; d < CB_ARRAY_LEN(dirs); d++) {
                        for (int t = 0; t < CB_CALL_STATUS_COUNT; t++)
                                for (int missed = 0; missed < 2; missed++)
                                        rc |= rule_move((enum cb_call_status)f,
                                                        (enum cb_call_status)t, dirs[d], missed);
                        rc |= rule_fail((enum cb_call_status)f, dirs[d]);
                }
        }
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
 * callback; n numbers them): find each call (by our id from the callback URL, else by the
 * provider's id); record each (call, status) once; take the highest-ranked status newly
 * recorded for each call ($8/$9, the ranks) and apply its move from the call's current
 * status when the rules ($10-$17, one row per move that advances) have one: a late "ringing"
 * after "completed" stays in the history and changes nothing. The move sets the timestamps
 * and queues the jobs its rule names. The calls are locked (FOR UPDATE) before their rule is
 * looked up, so a concurrent batch that moved one first is seen: its newest status is the
 * move's origin. */
static struct cb_stmt stmt_events =
    CB_STMT("call_status_events",
            "WITH input AS (SELECT * FROM unnest($1::int[], $2::uuid[], $3::text[], $4::text[],"
            "  $5::int[], $6::boolean[]) AS t(n, call_id, sid, status, duration, missed)),"
            " rk AS (SELECT * FROM unnest($8::text[], $9::int[]) AS r(status, rank)),"
            " rule AS (SELECT * FROM unnest($10::text[], $11::text[], $12::text[], $13::boolean[],"
            "  $14::boolean[], $15::boolean[], $16::boolean[], $17::text[])"
            "  AS x(from_s, to_s, dir, missed, answered, ended, duration, jobs)),"
            " m AS (SELECT i.*, c.id AS cid, c.agent, c.direction FROM input i JOIN calls c"
            "  ON c.id = COALESCE(i.call_id, (SELECT x.id FROM calls x WHERE x.telephony = $7"
            "   AND x.provider_call_id = i.sid LIMIT 1))),"
            " ev AS (INSERT INTO call_events (call_id, status, source)"
            "  SELECT DISTINCT cid, status, $7 FROM m"
            "  ON CONFLICT (call_id, status) WHERE source = 'twilio' DO NOTHING"
            "  RETURNING call_id, status),"
            " best AS (SELECT DISTINCT ON (ev.call_id) ev.call_id, ev.status, m.sid, m.duration,"
            "  m.missed FROM ev JOIN m ON m.cid = ev.call_id AND m.status = ev.status"
            "  JOIN rk ON rk.status = ev.status ORDER BY ev.call_id, rk.rank DESC),"
            " cur AS (SELECT c.id, c.status AS from_s, c.direction, b.status AS to_s, b.sid,"
            "  b.duration, b.missed FROM calls c JOIN best b ON b.call_id = c.id"
            "  WHERE EXISTS (SELECT 1 FROM rule x WHERE x.from_s = c.status AND x.to_s = b.status"
            "   AND x.dir = c.direction AND x.missed = b.missed) FOR UPDATE OF c),"
            " mv AS (SELECT cur.*, x.answered, x.ended, x.duration AS set_duration, x.jobs FROM cur"
            "  JOIN rule x ON x.from_s = cur.from_s AND x.to_s = cur.to_s AND x.dir = cur.direction"
            "  AND x.missed = cur.missed),"
            " up AS (UPDATE calls c SET status = mv.to_s,"
            "  provider_call_id = COALESCE(c.provider_call_id, mv.sid),"
            "  duration_s = CASE WHEN mv.set_duration THEN mv.duration ELSE c.duration_s END,"
            "  answered_at = CASE WHEN mv.answered THEN now() ELSE c.answered_at END,"
            "  ended_at = CASE WHEN mv.ended THEN now() ELSE c.ended_at END,"
            "  updated_at = now()"
            "  FROM mv WHERE c.id = mv.id RETURNING c.id, c.status, mv.jobs),"
            " j AS (INSERT INTO jobs (kind, call_id)"
            "  SELECT k, up.id FROM up, unnest(string_to_array(up.jobs, ',')) AS k)"
            " SELECT i.n, m.cid::text, m.agent, m.direction,"
            "  EXISTS (SELECT 1 FROM ev WHERE ev.call_id = m.cid AND ev.status = i.status),"
            "  EXISTS (SELECT 1 FROM up WHERE up.id = m.cid AND up.status = i.status)"
            " FROM input i LEFT JOIN m ON m.n = i.n");

enum cb_qs cb_store_call_status_events(struct cb_db *db, const struct cb_status_event *const *evs,
                                       size_t n, struct cb_status_outcome *out)
{
        enum { NCOL = 6, NPARAM = NCOL + 1 + (MV_JOBS - RK_STATUS + 1) };
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
                const char *sep = i ? "," : "";
                /* Ids and SIDs were checked by the caller, statuses are ours: no quoting. */
                rc |= cb_buf_printf(&cols[0], "%s%zu", sep, i);
                rc |= cb_buf_printf(&cols[1], "%s%s", sep,
                                    evs[i]->call_id ? evs[i]->call_id : "NULL");
                rc |= cb_buf_printf(&cols[2], "%s%s", sep, evs[i]->provider_call_id);
                rc |= cb_buf_printf(&cols[3], "%s%s", sep, cb_calls_status_name(evs[i]->status));
                if (evs[i]->duration_s >= 0)
                        rc |= cb_buf_printf(&cols[4], "%s%ld", sep, evs[i]->duration_s);
                else
                        rc |= cb_buf_printf(&cols[4], "%sNULL", sep);
                rc |= cb_buf_printf(&cols[5], "%s%s", sep, evs[i]->missed_task ? "t" : "f");
                memset(&out[i], 0, sizeof(out[i]));
        }
        for (int k = 0; k < NCOL; k++) {
                rc |= cb_buf_puts(&cols[k], "}");
                params[k] = cols[k].data;
        }
        params[NCOL] = n ? evs[0]->provider : "";
        rc |= rule_params(RK_STATUS, MV_JOBS, &params[NCOL + 1]);
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
        }
        PQclear(res);
        for (int k = 0; k < NCOL; k++)
                cb_buf_free(&cols[k]);
        return res != NULL ? CB_QS_ONE_RESULT : qs;
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

/* A call the provider could not place: the "failed to place" move (cb_calls_move_fail) from
 * its current status, when the rules ($2-$6, one row per (from, direction) that moves) have
 * one — i.e. unless it already ended; recorded as the job's event, with the jobs it queues. */
static struct cb_stmt stmt_fail = CB_STMT(
    "call_fail",
    "WITH rule AS (SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::boolean[],"
    "  $6::text[]) AS x(from_s, dir, to_s, ended, jobs)),"
    " cur AS (SELECT id, status, direction FROM calls WHERE id = $1::uuid FOR UPDATE),"
    " mv AS (SELECT cur.id, x.to_s, x.ended, x.jobs FROM cur JOIN rule x"
    "  ON x.from_s = cur.status AND x.dir = cur.direction),"
    " up AS (UPDATE calls c SET status = mv.to_s,"
    "  ended_at = CASE WHEN mv.ended THEN now() ELSE c.ended_at END, updated_at = now()"
    "  FROM mv WHERE c.id = mv.id RETURNING c.id, mv.to_s, mv.jobs),"
    " e AS (INSERT INTO call_events (call_id, status, source) SELECT id, to_s, 'job' FROM up),"
    " j AS (INSERT INTO jobs (kind, call_id)"
    "  SELECT k, up.id FROM up, unnest(string_to_array(up.jobs, ',')) AS k)"
    " SELECT id FROM up");

enum cb_qs cb_store_call_fail(struct cb_db *db, const char *id)
{
        const char *params[1 + FL_JOBS - FL_FROM + 1] = {id};

        if (rule_params(FL_FROM, FL_JOBS, &params[1]) != 0)
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
