/* Transcripts as rows (src/store/transcripts.c) and live transcription: segments as they
 * arrive, their assembly into a transcript (src/store/live.c). */
#ifndef CALLBRIDGE_STORE_TRANSCRIPTS_H
#define CALLBRIDGE_STORE_TRANSCRIPTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "callbridge/calls.h"
#include "callbridge/db.h"
#include "callbridge/util.h"

/* ---- transcripts (src/store/transcripts.c) ---- */

struct cb_transcript_row {
        const char *id;
        const char *recording_id;
        const char *engine;
        const char *language;
        double audio_seconds;
        int words;
        const char *storage_key; /* the sealed document: text, segments, summary */
        double sentiment;
        const char *label;
        const char *intent;                                    /* may be NULL */
        const json_t *tags, *keywords, *entities, *follow_ups; /* arrays */
        int64_t transcribed_us;                                /* wall clock */
        long stt_ms;                                           /* how long the engine took */
};
/* Save the transcript of a stored recording (replacing an earlier one) and queue
 * crm.write_analysis, in one statement. ONE_RESULT with the transcript's id (an earlier one's
 * id when replaced) and `old_key` the replaced document ("" if none); NO_RESULTS when the
 * recording is not stored (deleted meanwhile). */
CB_MUST_CHECK enum cb_qs cb_store_transcript_save(struct cb_db *db,
                                                  const struct cb_transcript_row *t,
                                                  char id_out[CB_UUID_LEN + 1], char *old_key,
                                                  size_t old_key_size);
/* ONE_RESULT when the recording has a transcript, NO_RESULTS when not. */
CB_MUST_CHECK enum cb_qs cb_store_transcript_exists(struct cb_db *db, const char *recording_id);
/* {transcript_id, call_id, recording_id, storage_key, sentiment, sentiment_label, intent, tags,
 * keywords, entities, follow_ups, deleted}. */
CB_MUST_CHECK enum cb_qs cb_store_transcript_get(struct cb_db *db, const char *id, json_t **out);
/* The CRM has it: crm_written_at = now(); `stages` gets the seconds of stored, transcribed,
 * analysed, crm_written and total (-1 when unknown). */
CB_MUST_CHECK enum cb_qs cb_store_transcript_written(struct cb_db *db, const char *id,
                                                     double stages[5]);
/* Queue a forced stt.transcribe for `recording_id` (NULL: the call's newest recording) of a
 * call `agent` may see (NULL: any). ONE_RESULT with job_id, NO_RESULTS when there is none. */
CB_MUST_CHECK enum cb_qs cb_store_transcribe_queue(struct cb_db *db, const char *call_id,
                                                   const char *agent, const char *recording_id,
                                                   const char *language, char job_id[24]);

/* ---- live transcripts (src/store/live.c) ---- */

/* The call a real-time transcription callback is about: by our id (`call_id`, when the
 * callback URL named it; its provider call id must then be `call_sid` or unset), else by
 * (`provider`, `call_sid`). ONE_RESULT with its id and agent, NO_RESULTS when unknown. */
CB_MUST_CHECK enum cb_qs cb_store_live_call(struct cb_db *db, const char *call_id,
                                            const char *provider, const char *call_sid,
                                            char id[CB_UUID_LEN + 1], char agent[CB_AGENT_MAX]);
/* The call's live transcription started (recorded once; `tsid` may be NULL). With `assemble`
 * ([stt] source = live) the stt.live_transcript job is queued with it, first run in `poll_s`.
 * Row count (1 the first time) or negative. */
CB_MUST_CHECK enum cb_qs cb_store_live_started(struct cb_db *db, const char *call_id,
                                               const char *tsid, bool assemble, long poll_s);

struct cb_live_segment {
        const char *call_id;
        long long sequence;
        const char *speaker; /* "agent" | "customer" */
        const char *text;
        double confidence; /* -1: none */
        bool final;        /* only final segments are stored */
};
/* A final segment is stored once (a duplicate changes nothing; *inserted says which); a
 * partial stores nothing. *finals_text (malloc'd, caller frees; "" when none) is the text of
 * the final segments stored before, in order. ONE_RESULT, or negative. */
CB_MUST_CHECK enum cb_qs cb_store_live_segment(struct cb_db *db, const struct cb_live_segment *seg,
                                               bool *inserted, char **finals_text);
/* The transcription ended (`error` when it failed, else NULL): a queued assembly runs
 * `grace_s` from now at the latest. Row count or negative. */
CB_MUST_CHECK enum cb_qs cb_store_live_stopped(struct cb_db *db, const char *call_id,
                                               const char *error, long grace_s);
/* ONE_RESULT when the call's live transcription worked (started, no error, a final segment),
 * NO_RESULTS when not. */
CB_MUST_CHECK enum cb_qs cb_store_live_exists(struct cb_db *db, const char *call_id);
/* For the assembly: seconds since the call ended (final status or end of the transcription,
 * whichever was first; -1 while it goes on) and whether final segments arrived since the
 * last assembly (true before the first). NO_RESULTS when the call has no live
 * transcription. */
CB_MUST_CHECK enum cb_qs cb_store_live_state(struct cb_db *db, const char *call_id,
                                             double *ended_ago_s, bool *changed);
/* The final segments in sequence order: [[sequence, speaker, text], ...] (caller decrefs). */
CB_MUST_CHECK enum cb_qs cb_store_live_segments(struct cb_db *db, const char *call_id,
                                                json_t **rows);
/* Save or replace the call's live transcript (t->recording_id and audio_seconds unused),
 * mark it assembled as of `assembled_us` and queue crm.write_analysis, in one statement;
 * ONE_RESULT with its id and the replaced document's key in `old_key` ("" if none). */
CB_MUST_CHECK enum cb_qs cb_store_live_transcript_save(struct cb_db *db,
                                                       const struct cb_transcript_row *t,
                                                       const char *call_id, int64_t assembled_us,
                                                       char id_out[CB_UUID_LEN + 1], char *old_key,
                                                       size_t old_key_size);
/* Retention: up to `limit` live transcriptions started more than `days` ago (calls under legal
 * hold kept): [[call_id, live transcript storage key or ""], ...] (caller decrefs). */
CB_MUST_CHECK enum cb_qs cb_store_live_expired(struct cb_db *db, long days, int limit,
                                               json_t **rows);
/* The live transcript's document is removed: its row says deleted, the segments and the
 * transcription's row are deleted. Row count or negative. */
CB_MUST_CHECK enum cb_qs cb_store_live_deleted(struct cb_db *db, const char *call_id);
/* No final segment to assemble: marked assembled as of `assembled_us`. */
CB_MUST_CHECK enum cb_qs cb_store_live_assembled_empty(struct cb_db *db, const char *call_id,
                                                       int64_t assembled_us);

#endif
