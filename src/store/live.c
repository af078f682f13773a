/* Query family: live transcripts — Twilio's real-time transcription of a call
 * (live_transcriptions), its final segments (transcript_segments) and the call's transcript
 * assembled from them (transcripts with source 'live'). Migration 013. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbridge/store_transcripts.h"
#include "rows.h"

#define LIVE_JOB "'stt.live_transcript'"

/* The call a callback is about: ours by id when the URL names it (and its provider call id
 * matches, when set), else by the provider's call id. */
static struct cb_stmt stmt_call = CB_STMT(
    "live_call", "SELECT id::text, agent FROM calls"
                 " WHERE CASE WHEN $1::uuid IS NOT NULL"
                 "  THEN id = $1::uuid AND (provider_call_id IS NULL OR provider_call_id = $3)"
                 "  ELSE telephony = $2 AND provider_call_id = $3 END");

enum cb_qs cb_store_live_call(struct cb_db *db, const char *call_id, const char *provider,
                              const char *call_sid, char id[CB_UUID_LEN + 1],
                              char agent[CB_AGENT_MAX])
{
        const char *p[3] = {call_id, provider, call_sid};
        enum cb_qs qs;
        PGresult *res = cb_db_exec(db, &stmt_call, 3, p, &qs);

        id[0] = agent[0] = '\0';
        if (res != NULL && qs == 1) {
                cb_strlcpy(id, PQgetvalue(res, 0, 0), CB_UUID_LEN + 1);
                cb_strlcpy(agent, PQgetvalue(res, 0, 1), CB_AGENT_MAX);
        }
        PQclear(res);
        return qs;
}

/* The transcription started (once per call; a repeat keeps the first), and with $3 (source =
 * live) the assembly job is queued, once, to look again in $4 seconds. */
static struct cb_stmt stmt_started =
    CB_STMT("live_started",
            "WITH s AS (INSERT INTO live_transcriptions (call_id, transcription_sid)"
            "  VALUES ($1::uuid, $2) ON CONFLICT (call_id) DO NOTHING RETURNING call_id)"
            " INSERT INTO jobs (kind, call_id, available_at)"
            " SELECT " LIVE_JOB ", call_id, now() + $4::integer * interval '1 second' FROM s"
            " WHERE $3::boolean");

enum cb_qs cb_store_live_started(struct cb_db *db, const char *call_id, const char *tsid,
                                 bool assemble, long poll_s)
{
        char secs[24];
        const char *p[4] = {call_id, tsid, assemble ? "true" : "false", secs};

        snprintf(secs, sizeof(secs), "%ld", poll_s);
        return cb_db_exec_cmd(db, &stmt_started, 4, p);
}

/* A final segment, stored once; then every final segment's text in order (the running
 * sentiment's input; the new one is not in this snapshot, the caller adds it). A segment that
 * arrives after the transcript was assembled queues the assembly again (once). */
static struct cb_stmt stmt_segment =
    CB_STMT("live_segment",
            "WITH ins AS (INSERT INTO transcript_segments (call_id, sequence, speaker, text,"
            "  confidence) VALUES ($1::uuid, $2::bigint, $3, $4, $5::double precision)"
            "  ON CONFLICT (call_id, sequence) DO NOTHING RETURNING call_id),"
            " j AS (INSERT INTO jobs (kind, call_id) SELECT " LIVE_JOB ", l.call_id"
            "  FROM live_transcriptions l JOIN ins ON ins.call_id = l.call_id"
            "  WHERE l.finalized_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM jobs q"
            "   WHERE q.call_id = l.call_id AND q.kind = " LIVE_JOB " AND q.state = 'queued'))"
            " SELECT (SELECT count(*) FROM ins)::text,"
            "  (SELECT string_agg(text, ' ' ORDER BY sequence) FROM transcript_segments"
            "   WHERE call_id = $1::uuid AND final)");

/* The final segments' text so far, for a partial's running sentiment. */
static struct cb_stmt stmt_finals =
    CB_STMT("live_finals", "SELECT '0', string_agg(text, ' ' ORDER BY sequence)"
                           " FROM transcript_segments WHERE call_id = $1::uuid AND final");

enum cb_qs cb_store_live_segment(struct cb_db *db, const struct cb_live_segment *seg,
                                 bool *inserted, char **finals_text)
{
        char seq[32], conf[32];
        const char *p[5] = {seg->call_id, seq, seg->speaker, seg->text,
                            seg->confidence >= 0 ? conf : NULL};
        enum cb_qs qs;
        PGresult *res;

        snprintf(seq, sizeof(seq), "%lld", seg->sequence);
        snprintf(conf, sizeof(conf), "%.4f", seg->confidence);
        *inserted = false;
        *finals_text = NULL;
        res = seg->final ? cb_db_exec(db, &stmt_segment, 5, p, &qs)
                         : cb_db_exec(db, &stmt_finals, 1, p, &qs);
        if (res != NULL && qs == 1) {
                *inserted = strcmp(PQgetvalue(res, 0, 0), "0") != 0;
                *finals_text = strdup(PQgetisnull(res, 0, 1) ? "" : PQgetvalue(res, 0, 1));
                if (*finals_text == NULL)
                        qs = CB_QS_HARD_ERROR;
        }
        PQclear(res);
        return qs;
}

/* The transcription ended (stopped, or failed with $2): the queued assembly job is brought
 * forward to the grace period's end. */
static struct cb_stmt stmt_stopped =
    CB_STMT("live_stopped",
            "WITH l AS (UPDATE live_transcriptions SET stopped_at = COALESCE(stopped_at, now()),"
            "  error = COALESCE($2, error) WHERE call_id = $1::uuid RETURNING call_id)"
            " UPDATE jobs SET available_at = LEAST(available_at,"
            "  now() + $3::integer * interval '1 second')"
            " FROM l WHERE jobs.call_id = l.call_id AND jobs.kind = " LIVE_JOB
            " AND jobs.state = 'queued'");

enum cb_qs cb_store_live_stopped(struct cb_db *db, const char *call_id, const char *error,
                                 long grace_s)
{
        char secs[24];
        const char *p[3] = {call_id, error, secs};

        snprintf(secs, sizeof(secs), "%ld", grace_s);
        return cb_db_exec_cmd(db, &stmt_stopped, 3, p);
}

/* Did the call's live transcription work: started, no error reported, and at least one final
 * segment? (With [stt] source = live such a call buys no batch transcription; one whose live
 * transcription failed or heard nothing is transcribed from its recording instead.) */
static struct cb_stmt stmt_exists = CB_STMT(
    "live_exists",
    "SELECT 1 FROM live_transcriptions l WHERE l.call_id = $1::uuid AND l.error IS NULL"
    " AND EXISTS (SELECT 1 FROM transcript_segments s WHERE s.call_id = l.call_id AND s.final)");

enum cb_qs cb_store_live_exists(struct cb_db *db, const char *call_id)
{
        const char *p[1] = {call_id};
        return cb_db_exec_cmd(db, &stmt_exists, 1, p);
}

/* What the assembly job decides on: seconds since the call ended (its final status or the
 * transcription's end, whichever came first; NULL while it goes on), and whether a final
 * segment arrived since the transcript was last assembled. */
static struct cb_stmt stmt_state = CB_STMT(
    "live_state",
    "SELECT extract(epoch FROM now() - LEAST(l.stopped_at, c.ended_at))::text,"
    "  (EXISTS (SELECT 1 FROM transcript_segments s WHERE s.call_id = l.call_id AND s.final"
    "   AND (l.finalized_at IS NULL OR s.received_at >= l.finalized_at))"
    "   OR l.finalized_at IS NULL)::text"
    " FROM live_transcriptions l JOIN calls c ON c.id = l.call_id WHERE l.call_id = $1::uuid");

enum cb_qs cb_store_live_state(struct cb_db *db, const char *call_id, double *ended_ago_s,
                               bool *changed)
{
        const char *p[1] = {call_id};
        enum cb_qs qs;
        PGresult *res = cb_db_exec(db, &stmt_state, 1, p, &qs);

        *ended_ago_s = -1;
        *changed = false;
        if (res != NULL && qs == 1) {
                if (!PQgetisnull(res, 0, 0))
                        *ended_ago_s = strtod(PQgetvalue(res, 0, 0), NULL);
                *changed = strcmp(PQgetvalue(res, 0, 1), "true") == 0;
        }
        PQclear(res);
        return qs;
}

/* The final segments in order: [[sequence, speaker, text], ...]. */
static struct cb_stmt stmt_segments =
    CB_STMT("live_segments", "SELECT s.sequence::text, s.speaker, s.text FROM transcript_segments s"
                             " WHERE s.call_id = $1::uuid AND s.final ORDER BY s.sequence");

enum cb_qs cb_store_live_segments(struct cb_db *db, const char *call_id, json_t **rows)
{
        const char *p[1] = {call_id};
        return cb_store_exec_rows(db, &stmt_segments, 1, p, rows);
}

/* Save (or replace) the call's live transcript, mark the transcription assembled and queue
 * the CRM write-back, in one statement; the replaced document's key comes back and is noted
 * in storage_intents (as cb_store_transcript_save does). $15 is the assembly's start: a
 * segment received after it makes the next run assemble again. */
static struct cb_stmt stmt_save = CB_STMT(
    "live_transcript_save",
    "WITH old AS (SELECT storage_key FROM transcripts WHERE call_id = $2::uuid"
    "  AND source = 'live'),"
    " up AS (INSERT INTO transcripts (id, recording_id, call_id, source, engine, language,"
    "  audio_seconds, words, storage_key, sentiment, sentiment_label, intent, tags, keywords,"
    "  entities, follow_ups, transcribed_at, analysed_at, stt_ms)"
    "  SELECT $1::uuid, NULL, c.id, 'live', $3, $4, NULL, $5::integer, $6,"
    "   $7::double precision, $8, $9, $10::jsonb, $11::jsonb, $12::jsonb, $13::jsonb,"
    "   to_timestamp($14::double precision), now(), 0"
    "  FROM calls c WHERE c.id = $2::uuid"
    "  ON CONFLICT (call_id) WHERE source = 'live' DO UPDATE SET engine = EXCLUDED.engine,"
    "   language = EXCLUDED.language, words = EXCLUDED.words,"
    "   storage_key = EXCLUDED.storage_key, sentiment = EXCLUDED.sentiment,"
    "   sentiment_label = EXCLUDED.sentiment_label, intent = EXCLUDED.intent,"
    "   tags = EXCLUDED.tags, keywords = EXCLUDED.keywords, entities = EXCLUDED.entities,"
    "   follow_ups = EXCLUDED.follow_ups, transcribed_at = EXCLUDED.transcribed_at,"
    "   analysed_at = now(), crm_written_at = NULL"
    "  RETURNING id, call_id),"
    " j AS (INSERT INTO jobs (kind, call_id, payload) SELECT 'crm.write_analysis', call_id,"
    "  json_build_object('transcript_id', id) FROM up),"
    " f AS (UPDATE live_transcriptions SET finalized_at = to_timestamp($15::double precision)"
    "  WHERE call_id IN (SELECT call_id FROM up)),"
    " i AS (INSERT INTO storage_intents (key) SELECT storage_key FROM old"
    "  WHERE storage_key <> $6 AND EXISTS (SELECT 1 FROM up)"
    "  ON CONFLICT (key) DO UPDATE SET created_at = now())"
    " SELECT up.id::text, COALESCE((SELECT storage_key FROM old), '') FROM up");

enum cb_qs cb_store_live_transcript_save(struct cb_db *db, const struct cb_transcript_row *t,
                                         const char *call_id, int64_t assembled_us,
                                         char id_out[CB_UUID_LEN + 1], char *old_key,
                                         size_t old_key_size)
{
        char words[16], sent[32], at[32], from[32];
        char *tags = json_dumps(t->tags, JSON_COMPACT), *kw = json_dumps(t->keywords, JSON_COMPACT);
        char *ent = json_dumps(t->entities, JSON_COMPACT);
        char *fu = json_dumps(t->follow_ups, JSON_COMPACT);
        const char *p[15] = {t->id, call_id,  t->engine, t->language, words, t->storage_key,
                             sent,  t->label, t->intent, tags,        kw,    ent,
                             fu,    at,       from};
        enum cb_qs qs = CB_QS_HARD_ERROR;
        PGresult *res = NULL;

        snprintf(words, sizeof(words), "%d", t->words);
        snprintf(sent, sizeof(sent), "%.4f", t->sentiment);
        snprintf(at, sizeof(at), "%.6f", (double)t->transcribed_us / 1e6);
        snprintf(from, sizeof(from), "%.6f", (double)assembled_us / 1e6);
        id_out[0] = '\0';
        old_key[0] = '\0';
        if (tags && kw && ent && fu)
                res = cb_db_exec(db, &stmt_save, 15, p, &qs);
        if (res != NULL && qs == 1) {
                cb_strlcpy(id_out, PQgetvalue(res, 0, 0), CB_UUID_LEN + 1);
                cb_strlcpy(old_key, PQgetvalue(res, 0, 1), old_key_size);
        }
        PQclear(res);
        free(tags), free(kw), free(ent), free(fu);
        return qs;
}

/* Nothing to assemble (no final segment): the transcription is marked assembled so a late
 * segment still queues the job again. */
static struct cb_stmt stmt_none =
    CB_STMT("live_none", "UPDATE live_transcriptions SET finalized_at ="
                         " to_timestamp($2::double precision) WHERE call_id = $1::uuid");

enum cb_qs cb_store_live_assembled_empty(struct cb_db *db, const char *call_id,
                                         int64_t assembled_us)
{
        char from[32];
        const char *p[2] = {call_id, from};

        snprintf(from, sizeof(from), "%.6f", (double)assembled_us / 1e6);
        return cb_db_exec_cmd(db, &stmt_none, 2, p);
}

/* Retention: up to $2 live transcriptions started more than $1 days ago whose call is not
 * under legal hold, oldest first: [[call_id, the live transcript's storage key or ""], ...]. */
static struct cb_stmt stmt_expired =
    CB_STMT("live_expired",
            "SELECT l.call_id::text, COALESCE(t.storage_key, '') FROM live_transcriptions l"
            " JOIN calls c ON c.id = l.call_id"
            " LEFT JOIN transcripts t ON t.call_id = l.call_id AND t.source = 'live'"
            "  AND t.deleted_at IS NULL"
            " WHERE NOT c.legal_hold AND l.started_at < now() - $1::integer * interval '1 day'"
            " ORDER BY l.started_at LIMIT $2");

enum cb_qs cb_store_live_expired(struct cb_db *db, long days, int limit, json_t **rows)
{
        char d[24], l[16];
        const char *p[2] = {d, l};

        snprintf(d, sizeof(d), "%ld", days);
        snprintf(l, sizeof(l), "%d", limit);
        return cb_store_exec_rows(db, &stmt_expired, 2, p, rows);
}

/* Its document is gone: the transcript says deleted, the segments and the transcription's row
 * go (so the sweep does not find the call again). */
static struct cb_stmt stmt_deleted = CB_STMT(
    "live_deleted", "WITH t AS (UPDATE transcripts SET deleted_at = now() WHERE call_id = $1::uuid"
                    "  AND source = 'live' AND deleted_at IS NULL),"
                    " s AS (DELETE FROM transcript_segments WHERE call_id = $1::uuid)"
                    " DELETE FROM live_transcriptions WHERE call_id = $1::uuid");

enum cb_qs cb_store_live_deleted(struct cb_db *db, const char *call_id)
{
        const char *p[1] = {call_id};
        return cb_db_exec_cmd(db, &stmt_deleted, 1, p);
}
