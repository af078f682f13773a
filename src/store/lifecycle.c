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

/* Provider status callbacks, many in one statement (the arrays are parallel, one element per
 * callback; n numbers them): find each call (by our id from the callback URL, else by the
 * provider's id); record each (call, status) once; move each call to the highest-ranked status
 * newly recorded for it, forward only (cb_status_rank: a late "ringing" after "completed"
 * stays in the history and changes nothing); on a call's first final status queue the CRM log
 * finalisation, and a follow-up task for a missed inbound call. Concurrent batches touching
 * one call serialise on its row: the UPDATE's rank test is re-checked on the newest version. */
static struct cb_stmt stmt_events = CB_STMT(
    "call_status_events",
    "WITH input AS (SELECT * FROM unnest($1::int[], $2::uuid[], $3::text[], $4::text[],"
    "  $5::int[], $6::boolean[]) AS t(n, call_id, sid, status, duration, missed)),"
    " m AS (SELECT i.*, c.id AS cid, c.agent, c.direction FROM input i JOIN calls c"
    "  ON c.id = COALESCE(i.call_id, (SELECT x.id FROM calls x WHERE x.telephony = $7"
    "   AND x.provider_call_id = i.sid LIMIT 1))),"
    " ev AS (INSERT INTO call_events (call_id, status, source)"
    "  SELECT DISTINCT cid, status, $7 FROM m"
    "  ON CONFLICT (call_id, status) WHERE source = 'twilio' DO NOTHING"
    "  RETURNING call_id, status),"
    " best AS (SELECT DISTINCT ON (ev.call_id) ev.call_id, ev.status, m.sid, m.duration,"
    "  m.missed FROM ev JOIN m ON m.cid = ev.call_id AND m.status = ev.status"
    "  ORDER BY ev.call_id, cb_status_rank(ev.status) DESC),"
    " up AS (UPDATE calls c SET status = b.status,"
    "  provider_call_id = COALESCE(c.provider_call_id, b.sid),"
    "  duration_s = CASE WHEN cb_status_rank(b.status) = 4 THEN b.duration ELSE c.duration_s END,"
    "  answered_at = CASE WHEN b.status = 'in-progress' THEN now() ELSE c.answered_at END,"
    "  ended_at = CASE WHEN cb_status_rank(b.status) = 4 THEN now() ELSE c.ended_at END,"
    "  updated_at = now()"
    "  FROM best b WHERE c.id = b.call_id AND cb_status_rank(b.status) > cb_status_rank(c.status)"
    "  RETURNING c.id, c.status, c.direction, b.missed),"
    " j AS (INSERT INTO jobs (kind, call_id)"
    "  SELECT 'crm.log_call', id FROM up WHERE cb_status_rank(status) = 4"
    "  UNION ALL SELECT 'crm.follow_up', id FROM up"
    "   WHERE missed AND direction = 'inbound' AND status IN ('no-answer', 'busy'))"
    " SELECT i.n, m.cid::text, m.agent, m.direction,"
    "  EXISTS (SELECT 1 FROM ev WHERE ev.call_id = m.cid AND ev.status = i.status),"
    "  EXISTS (SELECT 1 FROM up WHERE up.id = m.cid AND up.status = i.status)"
    " FROM input i LEFT JOIN m ON m.n = i.n");

enum cb_qs cb_store_call_status_events(struct cb_db *db, const struct cb_status_event *const *evs,
                                       size_t n, struct cb_status_outcome *out)
{
        enum { NCOL = 6 };
        struct cb_buf cols[NCOL];
        const char *params[NCOL + 1];
        enum cb_qs qs = CB_QS_HARD_ERROR;
        PGresult *res = NULL;
        int rc = 0;

        for (int k = 0; k < NCOL; k++) {
                cols[k] = (struct cb_buf){.max = 1 << 20};
                rc |= cb_buf_puts(&cols[k], "{");
        }
        for (size_t i = 0; i < n; i++) {
                const char *sep = i ? "," : "";
                /* Ids, SIDs and statuses were checked by the caller: no quoting needed. */
                rc |= cb_buf_printf(&cols[0], "%s%zu", sep, i);
                rc |= cb_buf_printf(&cols[1], "%s%s", sep,
                                    evs[i]->call_id ? evs[i]->call_id : "NULL");
                rc |= cb_buf_printf(&cols[2], "%s%s", sep, evs[i]->provider_call_id);
                rc |= cb_buf_printf(&cols[3], "%s%s", sep, evs[i]->status);
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
        if (rc == 0)
                res = cb_db_exec(db, &stmt_events, NCOL + 1, params, &qs);
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
