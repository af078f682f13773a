/* Query family: recordings — uploaded or fetched audio, its sealed blob, and retention. */
#include <stdio.h>
#include <string.h>

#include "callbridge/log.h"
#include "callbridge/store_recordings.h"
#include "rows.h"

static enum cb_qs one_json(struct cb_db *db, struct cb_stmt *stmt, int n, const char *const *p,
                           json_t **out)
{
        enum cb_qs qs;
        PGresult *res = cb_db_exec(db, stmt, n, p, &qs);

        *out = NULL;
        if (res != NULL && qs == 1)
                *out = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
        PQclear(res);
        if (qs == 1 && *out == NULL)
                return CB_QS_HARD_ERROR;
        return res == NULL ? qs : (enum cb_qs)(qs > 0 ? CB_QS_ONE_RESULT : CB_QS_NO_RESULTS);
}

/* A blob stored for a call the agent may see, with the jobs that tell the CRM and transcribe
 * it (per [stt] policy), in one
 * statement: nothing half-written. NO_RESULTS when the call is unknown or not the agent's. */
static struct cb_stmt stmt_stored = CB_STMT(
    "recording_insert_stored",
    "WITH c AS (SELECT id FROM calls WHERE id = $1::uuid AND ($2::text IS NULL OR agent = $2)),"
    " r AS (INSERT INTO recordings (id, call_id, provider, state, storage_key, content_type,"
    "  bytes, sha256, key_id, stored_at)"
    "  SELECT $3::uuid, id, 'upload', 'stored', $4, $5, $6::bigint, $7, $8, now() FROM c"
    "  RETURNING id, call_id),"
    " j AS (INSERT INTO jobs (kind, call_id, payload) SELECT k, call_id,"
    "  json_build_object('recording_id', id) FROM r,"
    "  unnest(ARRAY['crm.attach_recording', 'stt.transcribe']) AS k)"
    " SELECT id::text FROM r");

enum cb_qs cb_store_recording_insert_stored(struct cb_db *db, const char *call_id,
                                            const char *agent, const struct cb_rec_row *r)
{
        char bytes[24];
        const char *p[8] = {call_id,         agent, r->id,     r->storage_key,
                            r->content_type, bytes, r->sha256, r->key_id};

        snprintf(bytes, sizeof(bytes), "%llu", (unsigned long long)r->bytes);
        return cb_db_exec_cmd(db, &stmt_stored, 8, p);
}

/* A provider URL to fetch (POST /api/call/record with recording_url): a pending recording and
 * its recording.fetch job. */
static struct cb_stmt stmt_pending = CB_STMT(
    "recording_insert_pending",
    "WITH c AS (SELECT id FROM calls WHERE id = $1::uuid AND ($2::text IS NULL OR agent = $2)),"
    " r AS (INSERT INTO recordings (id, call_id, provider, source_url)"
    "  SELECT $3::uuid, id, $4, $5 FROM c RETURNING id, call_id),"
    " j AS (INSERT INTO jobs (kind, call_id, payload) SELECT 'recording.fetch', call_id,"
    "  json_build_object('recording_id', id) FROM r RETURNING id)"
    " SELECT (SELECT id FROM j)::text FROM r");

enum cb_qs cb_store_recording_insert_pending(struct cb_db *db, const char *call_id,
                                             const char *agent, const char *id,
                                             const char *provider, const char *url, char job_id[24])
{
        const char *p[5] = {call_id, agent, id, provider, url};
        enum cb_qs qs;
        PGresult *res = cb_db_exec(db, &stmt_pending, 5, p, &qs);

        job_id[0] = '\0';
        if (res != NULL && qs == 1)
                cb_strlcpy(job_id, PQgetvalue(res, 0, 0), 24);
        PQclear(res);
        return qs;
}

/* What playback, jobs and links need of one recording (and whether the agent may see it). */
static struct cb_stmt stmt_get = CB_STMT(
    "recording_get",
    "SELECT json_build_object('recording_id', r.id, 'call_id', r.call_id, 'agent', c.agent,"
    "  'provider', r.provider, 'provider_sid', r.provider_sid, 'source_url', r.source_url,"
    "  'state', r.state, 'storage_key', r.storage_key, 'content_type', r.content_type,"
    "  'bytes', r.bytes, 'duration_s', r.duration_s, 'sha256', r.sha256,"
    "  'deleted', r.deleted_at IS NOT NULL, 'provider_deleted', r.provider_deleted_at IS NOT NULL"
    " )::text FROM recordings r JOIN calls c ON c.id = r.call_id"
    " WHERE r.id = $1::uuid AND ($2::uuid IS NULL OR r.call_id = $2::uuid)"
    "  AND ($3::text IS NULL OR c.agent = $3)");

enum cb_qs cb_store_recording_get(struct cb_db *db, const char *id, const char *call_id,
                                  const char *agent, json_t **out)
{
        const char *p[3] = {id, call_id, agent};
        return one_json(db, &stmt_get, 3, p, out);
}

/* A fetched recording is stored: record the blob, and queue the CRM update, the transcription
 * (per [stt] policy) and, when asked,
 * the deletion at the provider — only now that the blob is durable. */
static struct cb_stmt stmt_mark = CB_STMT(
    "recording_mark_stored",
    "WITH r AS (UPDATE recordings SET state = 'stored', storage_key = $2, content_type = $3,"
    "  bytes = $4::bigint, sha256 = $5, key_id = $6, stored_at = now(), last_error = NULL"
    "  WHERE id = $1::uuid AND state = 'pending' RETURNING id, call_id),"
    " j AS (INSERT INTO jobs (kind, call_id, payload)"
    "  SELECT 'crm.attach_recording', call_id, json_build_object('recording_id', id) FROM r"
    "  UNION ALL SELECT 'stt.transcribe', call_id, json_build_object('recording_id', id) FROM r"
    "  UNION ALL SELECT 'recording.provider_delete', call_id,"
    "   json_build_object('recording_id', id) FROM r WHERE $7::boolean)"
    " SELECT id FROM r");

enum cb_qs cb_store_recording_mark_stored(struct cb_db *db, const struct cb_rec_row *r,
                                          bool provider_delete)
{
        char bytes[24];
        const char *p[7] = {r->id,
                            r->storage_key,
                            r->content_type,
                            bytes,
                            r->sha256,
                            r->key_id,
                            provider_delete ? "true" : "false"};

        snprintf(bytes, sizeof(bytes), "%llu", (unsigned long long)r->bytes);
        return cb_db_exec_cmd(db, &stmt_mark, 7, p);
}

static struct cb_stmt stmt_fail =
    CB_STMT("recording_fail", "UPDATE recordings SET state = 'failed', last_error = $2"
                              " WHERE id = $1::uuid AND state = 'pending'");

enum cb_qs cb_store_recording_fail(struct cb_db *db, const char *id, const char *error)
{
        const char *p[2] = {id, error};
        return cb_db_exec_cmd(db, &stmt_fail, 2, p);
}

static struct cb_stmt stmt_provider_deleted =
    CB_STMT("recording_provider_deleted",
            "UPDATE recordings SET provider_deleted_at = COALESCE(provider_deleted_at, now())"
            " WHERE id = $1::uuid");

enum cb_qs cb_store_recording_provider_deleted(struct cb_db *db, const char *id)
{
        const char *p[1] = {id};
        return cb_db_exec_cmd(db, &stmt_provider_deleted, 1, p);
}

/* Up to $2 recordings older than $1 days whose call is not under legal hold, oldest first. */
static struct cb_stmt stmt_expired =
    CB_STMT("recordings_expired",
            "SELECT r.id::text, COALESCE(r.storage_key, ''), COALESCE(t.storage_key, '')"
            " FROM recordings r JOIN calls c ON c.id = r.call_id"
            " LEFT JOIN transcripts t ON t.recording_id = r.id"
            " WHERE r.deleted_at IS NULL AND NOT c.legal_hold"
            "  AND r.created_at < now() - $1::integer * interval '1 day'"
            " ORDER BY r.created_at LIMIT $2");

enum cb_qs cb_store_recordings_expired(struct cb_db *db, long days, int limit, json_t **rows)
{
        char d[24], l[16];
        const char *p[2] = {d, l};

        snprintf(d, sizeof(d), "%ld", days);
        snprintf(l, sizeof(l), "%d", limit);
        return cb_store_exec_rows(db, &stmt_expired, 2, p, rows);
}

/* The blob (and its transcript) is gone: the rows say so (links answer 410) and the log keeps
 * a line. */
static struct cb_stmt stmt_deleted =
    CB_STMT("recording_deleted",
            "WITH r AS (UPDATE recordings SET state = 'deleted', deleted_at = now()"
            "  WHERE id = $1::uuid AND deleted_at IS NULL"
            "  RETURNING id, call_id, storage_key, created_at),"
            " t AS (UPDATE transcripts SET deleted_at = now() WHERE recording_id = $1::uuid"
            "  AND deleted_at IS NULL)"
            " INSERT INTO retention_log (recording_id, call_id, storage_key, created_at)"
            " SELECT id, call_id, storage_key, created_at FROM r");

enum cb_qs cb_store_recording_deleted(struct cb_db *db, const char *id)
{
        const char *p[1] = {id};
        return cb_db_exec_cmd(db, &stmt_deleted, 1, p);
}
