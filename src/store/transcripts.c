/* Query family: transcripts — the analysis of a recording and when each stage happened. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbridge/store_transcripts.h"

/* Save (or, when forced again, replace) the transcript of a recording and queue the CRM
 * write-back, in one statement. The previous sealed document's key comes back so the caller
 * can remove it, and is noted in storage_intents in the same statement: if the answer is lost,
 * the retention sweep still finds the document no row names any more. */
static struct cb_stmt stmt_save = CB_STMT(
    "transcript_save",
    "WITH old AS (SELECT storage_key FROM transcripts WHERE recording_id = $2::uuid),"
    " up AS (INSERT INTO transcripts (id, recording_id, call_id, engine, language,"
    "  audio_seconds, words, storage_key, sentiment, sentiment_label, intent, tags, keywords,"
    "  entities, follow_ups, transcribed_at, analysed_at, stt_ms)"
    "  SELECT $1::uuid, r.id, r.call_id, $3, $4, $5::double precision, $6::integer, $7,"
    "   $8::double precision, $9, $10, $11::jsonb, $12::jsonb, $13::jsonb, $14::jsonb,"
    "   to_timestamp($15::double precision), now(), $16::integer"
    "  FROM recordings r WHERE r.id = $2::uuid AND r.state = 'stored'"
    "  ON CONFLICT (recording_id) DO UPDATE SET engine = EXCLUDED.engine,"
    "   language = EXCLUDED.language, audio_seconds = EXCLUDED.audio_seconds,"
    "   words = EXCLUDED.words, storage_key = EXCLUDED.storage_key,"
    "   sentiment = EXCLUDED.sentiment, sentiment_label = EXCLUDED.sentiment_label,"
    "   intent = EXCLUDED.intent, tags = EXCLUDED.tags, keywords = EXCLUDED.keywords,"
    "   entities = EXCLUDED.entities, follow_ups = EXCLUDED.follow_ups,"
    "   transcribed_at = EXCLUDED.transcribed_at, analysed_at = now(), crm_written_at = NULL,"
    "   stt_ms = EXCLUDED.stt_ms"
    "  RETURNING id, call_id),"
    " j AS (INSERT INTO jobs (kind, call_id, payload) SELECT 'crm.write_analysis', call_id,"
    "  json_build_object('transcript_id', id) FROM up),"
    " i AS (INSERT INTO storage_intents (key) SELECT storage_key FROM old"
    "  WHERE storage_key <> $7 AND EXISTS (SELECT 1 FROM up)"
    "  ON CONFLICT (key) DO UPDATE SET created_at = now())"
    " SELECT up.id::text, COALESCE((SELECT storage_key FROM old), '') FROM up");

enum cb_qs cb_store_transcript_save(struct cb_db *db, const struct cb_transcript_row *t,
                                    char id_out[CB_UUID_LEN + 1], char *old_key,
                                    size_t old_key_size)
{
        char secs[32], words[16], sent[32], at[32], stt_ms[24];
        char *tags = json_dumps(t->tags, JSON_COMPACT), *kw = json_dumps(t->keywords, JSON_COMPACT);
        char *ent = json_dumps(t->entities, JSON_COMPACT);
        char *fu = json_dumps(t->follow_ups, JSON_COMPACT);
        const char *p[16] = {
            t->id, t->recording_id, t->engine, t->language, secs, words, t->storage_key,
            sent,  t->label,        t->intent, tags,        kw,   ent,   fu,
            at,    stt_ms};
        enum cb_qs qs = CB_QS_HARD_ERROR;
        PGresult *res = NULL;

        snprintf(secs, sizeof(secs), "%.3f", t->audio_seconds);
        snprintf(words, sizeof(words), "%d", t->words);
        snprintf(sent, sizeof(sent), "%.4f", t->sentiment);
        snprintf(at, sizeof(at), "%.6f", (double)t->transcribed_us / 1e6);
        snprintf(stt_ms, sizeof(stt_ms), "%ld", t->stt_ms);
        id_out[0] = '\0';
        old_key[0] = '\0';
        if (tags && kw && ent && fu)
                res = cb_db_exec(db, &stmt_save, 16, p, &qs);
        if (res != NULL && qs == 1) {
                cb_strlcpy(id_out, PQgetvalue(res, 0, 0), CB_UUID_LEN + 1);
                cb_strlcpy(old_key, PQgetvalue(res, 0, 1), old_key_size);
        }
        PQclear(res);
        free(tags), free(kw), free(ent), free(fu);
        return qs;
}

static struct cb_stmt stmt_exists =
    CB_STMT("transcript_exists", "SELECT 1 FROM transcripts WHERE recording_id = $1::uuid");

enum cb_qs cb_store_transcript_exists(struct cb_db *db, const char *recording_id)
{
        const char *p[1] = {recording_id};
        enum cb_qs qs;
        PGresult *res = cb_db_exec(db, &stmt_exists, 1, p, &qs);

        PQclear(res);
        return qs;
}

static struct cb_stmt stmt_get =
    CB_STMT("transcript_get",
            "SELECT json_build_object('transcript_id', id, 'call_id', call_id, 'recording_id',"
            "  recording_id, 'storage_key', storage_key, 'sentiment', sentiment, 'sentiment_label',"
            "  sentiment_label, 'intent', intent, 'tags', tags, 'keywords', keywords, 'entities',"
            "  entities, 'follow_ups', follow_ups, 'deleted', deleted_at IS NOT NULL)::text"
            " FROM transcripts WHERE id = $1::uuid");

enum cb_qs cb_store_transcript_get(struct cb_db *db, const char *id, json_t **out)
{
        const char *p[1] = {id};
        enum cb_qs qs;
        PGresult *res = cb_db_exec(db, &stmt_get, 1, p, &qs);

        *out = NULL;
        if (res != NULL && qs == 1)
                *out = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
        PQclear(res);
        return res == NULL ? qs : *out ? CB_QS_ONE_RESULT : CB_QS_NO_RESULTS;
}

/* Written: the stage durations come back (seconds), for the pipeline histograms. */
static struct cb_stmt stmt_written = CB_STMT(
    "transcript_written",
    "WITH t AS (UPDATE transcripts SET crm_written_at = now() WHERE id = $1::uuid"
    "  RETURNING recording_id, transcribed_at, analysed_at)"
    " SELECT extract(epoch FROM r.stored_at - r.created_at),"
    "  extract(epoch FROM t.transcribed_at - r.stored_at),"
    "  extract(epoch FROM t.analysed_at - t.transcribed_at),"
    "  extract(epoch FROM now() - t.analysed_at), extract(epoch FROM now() - r.created_at)"
    " FROM t LEFT JOIN recordings r ON r.id = t.recording_id"); /* none for a live transcript */

enum cb_qs cb_store_transcript_written(struct cb_db *db, const char *id, double stages[5])
{
        const char *p[1] = {id};
        enum cb_qs qs;
        PGresult *res = cb_db_exec(db, &stmt_written, 1, p, &qs);

        for (int i = 0; i < 5; i++)
                stages[i] = res && qs == 1 && !PQgetisnull(res, 0, i)
                                ? strtod(PQgetvalue(res, 0, i), NULL)
                                : -1;
        PQclear(res);
        return qs;
}

/* POST /api/call/transcribe: the job for the named (or newest stored) recording of a call the
 * agent may see. */
static struct cb_stmt stmt_queue =
    CB_STMT("transcribe_queue",
            "WITH r AS (SELECT r.id, r.call_id FROM recordings r JOIN calls c ON c.id = r.call_id"
            "  WHERE r.call_id = $1::uuid AND ($2::text IS NULL OR c.agent = $2)"
            "   AND ($3::uuid IS NULL OR r.id = $3::uuid) AND r.state IN ('stored', 'pending')"
            "  ORDER BY r.created_at DESC LIMIT 1),"
            " j AS (INSERT INTO jobs (kind, call_id, payload) SELECT 'stt.transcribe', call_id,"
            "  json_build_object('recording_id', id, 'force', true, 'language', $4::text)"
            "  FROM r"
            "  RETURNING id)"
            " SELECT id::text FROM j");

enum cb_qs cb_store_transcribe_queue(struct cb_db *db, const char *call_id, const char *agent,
                                     const char *recording_id, const char *language,
                                     char job_id[24])
{
        const char *p[4] = {call_id, agent, recording_id, language};
        enum cb_qs qs;
        PGresult *res = cb_db_exec(db, &stmt_queue, 4, p, &qs);

        job_id[0] = '\0';
        if (res != NULL && qs == 1)
                cb_strlcpy(job_id, PQgetvalue(res, 0, 0), 24);
        PQclear(res);
        return qs;
}
