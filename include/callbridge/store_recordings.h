/* Recordings as rows (src/store/recordings.c) and the intents noted before a blob is written
 * (src/store/storage_intents.c). A recording the provider announces: store_lifecycle.h. */
#ifndef CALLBRIDGE_STORE_RECORDINGS_H
#define CALLBRIDGE_STORE_RECORDINGS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "callbridge/db.h"
#include "callbridge/util.h"

/* ---- recordings (src/store/recordings.c) ---- */

/* A stored blob's facts. */
struct cb_rec_row {
        const char *id;
        const char *storage_key;
        const char *content_type;
        uint64_t bytes;
        const char *sha256;
        const char *key_id;
};
/* Record an uploaded recording of `call_id` (visible to `agent`, NULL: any) as stored and queue
 * crm.attach_recording, in one statement. ONE_RESULT, NO_RESULTS when the call is unknown or
 * not the agent's, or negative. */
CB_MUST_CHECK enum cb_qs cb_store_recording_insert_stored(struct cb_db *db, const char *call_id,
                                                          const char *agent,
                                                          const struct cb_rec_row *r);
/* A recording to fetch from `url` and its recording.fetch job. ONE_RESULT with job_id set,
 * NO_RESULTS when the call is unknown or not the agent's, or negative. */
CB_MUST_CHECK enum cb_qs cb_store_recording_insert_pending(struct cb_db *db, const char *call_id,
                                                           const char *agent, const char *id,
                                                           const char *provider, const char *url,
                                                           char job_id[24]);
/* One recording as JSON {recording_id, call_id, agent, provider, provider_sid, source_url,
 * state, storage_key, content_type, bytes, duration_s, sha256, deleted, provider_deleted};
 * `call_id` and `agent` narrow it (NULL: any). ONE_RESULT, NO_RESULTS, or negative. */
CB_MUST_CHECK enum cb_qs cb_store_recording_get(struct cb_db *db, const char *id,
                                                const char *call_id, const char *agent,
                                                json_t **out);
/* A fetched recording is stored: queue crm.attach_recording and (provider_delete) the
 * deletion at the provider. NO_RESULTS when it was not pending (another run did it). */
CB_MUST_CHECK enum cb_qs
cb_store_recording_mark_stored(struct cb_db *db, const struct cb_rec_row *r, bool provider_delete);
CB_MUST_CHECK enum cb_qs cb_store_recording_fail(struct cb_db *db, const char *id,
                                                 const char *error);
CB_MUST_CHECK enum cb_qs cb_store_recording_provider_deleted(struct cb_db *db, const char *id);
/* Recordings past `days` whose call is not under legal hold:
 * [[id, storage_key, transcript storage_key or ""], ...]. */
CB_MUST_CHECK enum cb_qs cb_store_recordings_expired(struct cb_db *db, long days, int limit,
                                                     json_t **rows);
/* Retention removed the blob: state deleted, a retention_log line. */
CB_MUST_CHECK enum cb_qs cb_store_recording_deleted(struct cb_db *db, const char *id);

/* ---- storage intents (src/store/storage_intents.c) ---- */

/* Note that a blob is about to be written at `key` (before any byte of it is): ONE_RESULT or
 * negative — the caller must then not write the blob. Noting a key again restarts its grace
 * (a long upload does so before it makes the blob visible). */
CB_MUST_CHECK enum cb_qs cb_store_storage_intent_note(struct cb_db *db, const char *key);
/* Up to `limit` intents older than `grace_s` seconds, oldest first: *rows = [[key, referenced],
 * ...] (caller frees), referenced true when a recording or transcript row names the key. The
 * row count, or negative with *rows NULL. */
CB_MUST_CHECK enum cb_qs cb_store_storage_intents_due(struct cb_db *db, long grace_s, int limit,
                                                      json_t **rows);
/* Inside a transaction: is the intent for `key` still past the grace (ONE_RESULT, *referenced
 * as above) — its row then locked until the end of the transaction, so no writer notes it again
 * meanwhile — or not (NO_RESULTS: noted again or forgotten)? Negative on error. */
CB_MUST_CHECK enum cb_qs cb_store_storage_intent_claim(struct cb_db *db, const char *key,
                                                       long grace_s, bool *referenced);
/* Forget the intent for `key` (the blob is referenced or removed). Row count or negative. */
CB_MUST_CHECK enum cb_qs cb_store_storage_intent_forget(struct cb_db *db, const char *key);

#endif
