/* Query families over PostgreSQL: one src/store/<family>.c each, the SQL beside its call. */
#ifndef CALLBRIDGE_STORE_H
#define CALLBRIDGE_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "callbridge/calls.h"
#include "callbridge/db.h"
#include "callbridge/util.h"

/* ---- rows as JSON (src/store/rows.c) ---- */

/* Run `stmt` and give its rows as a JSON array of arrays of column text (SQL NULL: null);
 * *rows (caller decrefs) is NULL on failure, which returns HARD/SOFT (also out of memory). */
CB_MUST_CHECK enum cb_qs cb_store_exec_rows(struct cb_db *db, struct cb_stmt *stmt, int nparams,
                                            const char *const *params, json_t **rows);

/* ---- calls (src/store/calls.c) ---- */

struct cb_call_new {
        const char *id; /* uuid chosen by the caller */
        const char *agent;
        const char *direction;
        const char *to_e164;
        const char *from_e164;        /* may be NULL */
        const char *crm_record_id;    /* may be NULL */
        const char *telephony;        /* provider name */
        const char *provider_call_id; /* may be NULL */
        const char *crm;              /* provider name */
        const char *idempotency_key;  /* may be NULL */
        const char *party_name;       /* the matched CRM record's name, may be NULL */
        const char *party_company;    /* its company (account), may be NULL */
        const char *party_url;        /* its link in the CRM, may be NULL */
        unsigned char request_hash[32];
        enum cb_call_status status;   /* its first status (cb_calls_created: queued) */
        const char *const *job_kinds; /* jobs inserted in the same statement */
        size_t job_count;
};

/* The insert for the call `plan` decided from `rq` (cb_calls_plan): id, agent, direction,
 * numbers, the ids `rq` named, the request hash, first status and jobs. The caller sets the
 * providers and the idempotency key (and may link a CRM record). Borrows from all three. */
void cb_store_call_new_planned(struct cb_call_new *c, const char *id,
                               const struct cb_call_request *rq, const struct cb_call_plan *plan);

/* The party of `c` from a CRM match ({"name","company"?,"url"} as lookups give it; NULL
 * leaves them unset). Borrows from `match`. */
void cb_store_call_new_party(struct cb_call_new *c, const json_t *match);

/* Insert `n` calls with their first history events and jobs in one statement (one
 * commit for all: the caller runs it outside a transaction). created[i] tells whether call
 * i was inserted; false means it collided with an existing call (idempotency key or
 * provider call id) — see cb_store_call_existing. Returns ONE_RESULT or a negative qs. */
CB_MUST_CHECK enum cb_qs cb_store_calls_insert(struct cb_db *db,
                                               const struct cb_call_new *const *calls, size_t n,
                                               bool *created);
/* The call `c` collided with: its id, and whether it was the same request by the same agent.
 * SOFT_ERROR when that call vanished meanwhile. */
CB_MUST_CHECK enum cb_qs cb_store_call_existing(struct cb_db *db, const struct cb_call_new *c,
                                                char id_out[CB_UUID_LEN + 1], bool *same_request);

/* Group commit (src/store/batcher.c): callers queue items and sleep; a few batcher threads
 * run what is queued as one statement — one commit, one WAL flush — and wake them. */
#define CB_BATCH_MAX 128
struct cb_batcher;
/* Run `n` items as one batch on `db` (NULL when no connection could be had within 5 s: fail
 * them all); the function stores each item's result in the item. */
typedef void (*cb_batch_fn)(struct cb_db *db, void *const *items, size_t n);
/* Start `threads` batcher threads over `pool`; NULL (logged) on failure. */
struct cb_batcher *cb_batcher_start(struct cb_db_pool *pool, const char *name, int threads,
                                    cb_batch_fn fn);
/* Queue `item` and wait until its batch ran. */
void cb_batcher_run(struct cb_batcher *b, void *item);
/* Queue `item` and return at once; `on_done(item)` runs on a batcher thread once its batch
 * ran (the item must live until then). -1 when out of memory (nothing queued). Items queued
 * before cb_batcher_stop still run and are still reported. */
int cb_batcher_submit(struct cb_batcher *b, void *item, void (*on_done)(void *item));
/* A connection from the batcher's pool (waiting up to 5 s), for follow-up questions. */
struct cb_db *cb_batcher_db(struct cb_batcher *b);
/* Stop after the queued items are done. Clears *b. */
void cb_batcher_stop(struct cb_batcher **b);

/* New calls, batched (src/store/calls.c). */
struct cb_batcher *cb_call_batcher_start(struct cb_db_pool *pool, int threads);
/* Insert `c` (blocking until committed). *created as for cb_store_calls_insert; when false,
 * `id_out` and *same_request describe the existing call. Returns ONE_RESULT or negative. */
CB_MUST_CHECK enum cb_qs cb_call_batcher_insert(struct cb_batcher *b, const struct cb_call_new *c,
                                                char id_out[CB_UUID_LEN + 1], bool *created,
                                                bool *same_request);
/* The same without waiting: `done(arg)` runs on the batcher thread once the batch ran, with
 * qs and created set; `it` and its call must live until then. When it comes back not created
 * (qs >= 0), cb_call_batcher_existing tells which call holds the idempotency key. -1 when out
 * of memory (nothing queued, done never called). */
struct cb_call_item {
        const struct cb_call_new *call;
        enum cb_qs qs;
        bool created;
        void (*done)(void *arg);
        void *arg;
};
int cb_call_batcher_submit(struct cb_batcher *b, struct cb_call_item *it);
CB_MUST_CHECK enum cb_qs cb_call_batcher_existing(struct cb_batcher *b, const struct cb_call_new *c,
                                                  char id_out[CB_UUID_LEN + 1], bool *same_request);

/* The API view of one call (with history and jobs) as JSON; `agent` NULL means any agent.
 * Returns ONE_RESULT with *out set (caller decrefs), NO_RESULTS when unknown or not
 * visible, or a negative qs. */
CB_MUST_CHECK enum cb_qs cb_store_call_get_json(struct cb_db *db, const char *id, const char *agent,
                                                json_t **out);

/* The call as jobs and providers see it (struct cb_call, include/callbridge/calls.h).
 * ONE_RESULT with *out filled, NO_RESULTS when there is no such call, or a negative qs; a row
 * the record cannot hold (an unknown status, a value too long) is our bug: logged, HARD_ERROR. */
struct cb_call;
CB_MUST_CHECK enum cb_qs cb_store_call_load(struct cb_db *db, const char *id, struct cb_call *out);

struct cb_call_page {
        const char *agent; /* NULL: every agent */
        int64_t since_us;  /* 0: no lower bound */
        int64_t cursor_us; /* 0: first page */
        const char *cursor_id;
        int limit;
        /* The search (?q=, cb_calls_search_term): CB_CALL_SEARCH_INVALID (0, the default) is
         * no search, every call; NUMBER matches
         * `pattern` (LIKE) against the numbers, TEXT (ILIKE) against the party's name and
         * company, the disposition and the notes. */
        enum cb_call_search search;
        const char *pattern;
};
/* One page, newest first: *calls is a JSON array (caller decrefs); *next_us/next_id (33+
 * bytes) describe the cursor of the next page, next_us 0 when this is the last page. */
CB_MUST_CHECK enum cb_qs cb_store_calls_list(struct cb_db *db, const struct cb_call_page *page,
                                             json_t **calls, int64_t *next_us,
                                             char next_id[CB_UUID_LEN + 1]);

/* The agent's wrap-up of a call (src/store/wrapup.c). Strings borrowed. */
struct cb_call_disposal {
        const char *call_id;
        const char *agent;       /* only this agent's call; NULL: any (an admin) */
        const char *by;          /* who posts it (disposed_by) */
        const char *disposition; /* a value of [agents] dispositions */
        const char *notes;       /* NULL: none */
};
struct cb_call_disposed {
        bool changed;                    /* the call took it (else it had this wrap-up already) */
        bool job_queued;                 /* a new crm.log_call job was queued for it */
        char disposed_at[CB_TS_LEN + 1]; /* RFC 3339: when the wrap-up was last changed */
};
/* Give the call `d` names its disposition and notes, replacing what it had, in one commit with
 * a history event (source 'agent') and a CRM log job (none when one is queued already); the
 * same wrap-up again changes and queues nothing. ONE_RESULT with *out, NO_RESULTS when the
 * call is unknown or not `d->agent`'s, or a negative qs (nothing written). */
CB_MUST_CHECK enum cb_qs cb_store_call_dispose(struct cb_db *db, const struct cb_call_disposal *d,
                                               struct cb_call_disposed *out);

/* Record the CRM outcome of a call: state pending|synced|local|failed, log id may be NULL. */
CB_MUST_CHECK enum cb_qs cb_store_call_set_crm(struct cb_db *db, const char *id, const char *state,
                                               const char *log_id);

/* Link a call to its CRM record when it has none yet (a link the softphone gave wins), with
 * the record's party (`party`: its match {"name","company"?,"url"}, NULL: unknown) where the
 * call has none. */
CB_MUST_CHECK enum cb_qs cb_store_call_link_record(struct cb_db *db, const char *id,
                                                   const char *record_id, const json_t *party);
/* An inbound call bridged by conference counts as answered when its agent's participant
 * answers, not when the caller's leg does: `on` marks it so (or, when the agent could not be
 * added, back), while it is not answered. Rows changed (0 or 1), or a negative qs. */
CB_MUST_CHECK enum cb_qs cb_store_call_answer_on_join(struct cb_db *db, const char *id, bool on);
/* The agent's participant answered call `id`: answered_at = now, once, for a call marked
 * answer_on_join that has not ended. Rows changed (0 or 1), or a negative qs. */
CB_MUST_CHECK enum cb_qs cb_store_call_agent_answered(struct cb_db *db, const char *id);
/* The party of a call linked to `record_id` that has none yet, from its match `party`.
 * Rows changed (0 or 1), or a negative qs. */
CB_MUST_CHECK enum cb_qs cb_store_call_set_party(struct cb_db *db, const char *id,
                                                 const char *record_id, const json_t *party);

/* Calls of `telephony` to ask the provider about (src/store/reconcile.c): rows
 * [call_id, provider_call_id, "status"|"recording"] — not final `after_s` after their last
 * change, and (with `recordings`) completed with talk time but no recording since `after_s`
 * (looked for during one day). At most `limit` of each; caller decrefs *rows. */
CB_MUST_CHECK enum cb_qs cb_store_calls_to_reconcile(struct cb_db *db, const char *telephony,
                                                     long after_s, int limit, bool recordings,
                                                     json_t **rows);

/* ---- the call lifecycle (src/store/lifecycle.c) ---- */

/* One provider status callback. */
struct cb_status_event {
        const char *call_id;          /* our id from the callback URL, or NULL */
        const char *provider;         /* telephony provider name: "twilio" */
        const char *provider_call_id; /* e.g. CallSid */
        enum cb_call_status status;
        long duration_s;  /* talk time on a final status; -1 when not given */
        bool missed_task; /* queue crm.follow_up for a missed inbound call */
};
struct cb_status_outcome {
        bool found;    /* the call is known */
        bool recorded; /* the first time this status was reported for the call */
        bool advanced; /* the call moved to this status (never backwards) */
        /* When it advanced (the call's row after the move): it had been answered, the wait
         * from its creation to the answer and its talk time in seconds (-1: unknown). */
        bool answered;
        double wait_s;
        double talk_s;
        char call_id[CB_UUID_LEN + 1];
        char agent[128];
        char direction[16];
};
/* Record `n` callbacks and move their calls forward, in one statement; final statuses queue
 * the CRM log finalisation (and the missed-call follow-up). ONE_RESULT with out[i] filled
 * (out[i].found false for an unknown call), or a negative qs. Every event's ids must have
 * been validated (SID charset, UUID). What each move causes is cb_calls_move's decision. */
CB_MUST_CHECK enum cb_qs cb_store_call_status_events(struct cb_db *db,
                                                     const struct cb_status_event *const *evs,
                                                     size_t n, struct cb_status_outcome *out);
/* The same through group commit (src/store/lifecycle.c): ONE_RESULT, NO_RESULTS when the call
 * is unknown, or a negative qs. */
struct cb_batcher *cb_status_batcher_start(struct cb_db_pool *pool, int threads);
CB_MUST_CHECK enum cb_qs cb_status_batcher_record(struct cb_batcher *b,
                                                  const struct cb_status_event *ev,
                                                  struct cb_status_outcome *out);
/* The same without waiting: `done(arg)` runs on the batcher thread once the event is
 * committed (or failed), with `out` and `qs` set as above; `it` and its event must live until
 * then. -1 when out of memory (nothing queued, done never called). */
struct cb_status_item {
        const struct cb_status_event *ev;
        struct cb_status_outcome out;
        enum cb_qs qs;
        void (*done)(void *arg);
        void *arg;
};
int cb_status_batcher_submit(struct cb_batcher *b, struct cb_status_item *it);
/* Store the provider's call id unless the call already has another. ONE_RESULT when the call
 * holds `provider_call_id` now, NO_RESULTS when it holds a different one; a negative qs when
 * another call holds it (unique index) or the database failed. */
CB_MUST_CHECK enum cb_qs cb_store_call_set_provider_id(struct cb_db *db, const char *id,
                                                       const char *provider_call_id);
/* The number an outbound call was dialled from (the provider's caller id), kept only when the
 * call has none yet. */
/* write_mode = single: the call log was written with recording `recording_id` and the analysis
 * of transcript `transcript_id` (NULL: none). */
CB_MUST_CHECK enum cb_qs cb_store_call_set_crm_written(struct cb_db *db, const char *id,
                                                       const char *recording_id,
                                                       const char *transcript_id);
CB_MUST_CHECK enum cb_qs cb_store_call_set_from(struct cb_db *db, const char *id,
                                                const char *from_e164);
/* Which of `ids_array` (a text[] literal) are stored on calls of `telephony` already:
 * *claimed is a JSON array of them (caller decrefs). */
CB_MUST_CHECK enum cb_qs cb_store_provider_ids_claimed(struct cb_db *db, const char *telephony,
                                                       const char *ids_array, json_t **claimed);
/* Mark a call the provider could not place as failed (unless it already ended) and queue
 * the CRM log finalisation. ONE_RESULT, NO_RESULTS when already final, or negative. */
CB_MUST_CHECK enum cb_qs cb_store_call_fail(struct cb_db *db, const char *id);

struct cb_recording_new {
        const char *call_id; /* our call id, or NULL to find the call by provider_call_id */
        const char *provider;
        const char *provider_call_id;
        const char *provider_sid;
        const char *source_url;
        long duration_s; /* -1 when unknown */
};
/* Record a recording the provider announced, once per provider sid, and queue its
 * recording.fetch job. ONE_RESULT with the
 * call's id (and *created false for a repeat), NO_RESULTS when the call is unknown. */
CB_MUST_CHECK enum cb_qs cb_store_recording_announce(struct cb_db *db,
                                                     const struct cb_recording_new *rec,
                                                     char call_id[CB_UUID_LEN + 1], bool *created);

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

/* ---- live transcripts (src/store/live.c) ---- */

struct cb_transcript_row; /* below */

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
/* The call the agent's console shows (GET /api/agent/call): its newest call that is not final
 * (created in the last 12 hours), else the final call its wrap-up waits for (agent_status
 * wrap_up for it, no disposition). ONE_RESULT with `id` and *status, NO_RESULTS (id ""), or a
 * negative qs. */
CB_MUST_CHECK enum cb_qs cb_store_agent_active_call(struct cb_db *db, const char *agent,
                                                    char id[CB_UUID_LEN + 1],
                                                    enum cb_call_status *status);
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

/* ---- call control (src/store/controls.c) ---- */

/* The control state of call `call_id` (all zero, version 0, when no action was recorded):
 * ONE_RESULT, or a negative qs. */
CB_MUST_CHECK enum cb_qs cb_store_controls_load(struct cb_db *db, const char *call_id,
                                                struct cb_call_controls *out, long *version);
/* Record `after` and the history event `event` (source 'agent') in one statement, over the
 * state of `version` (cb_store_controls_load); with `new_agent` (else NULL: a transfer to that
 * agent is done, cb_calls_control_new_agent) the call becomes that agent's and its
 * agent.call_status job is queued (the new agent busy). ONE_RESULT when recorded, NO_RESULTS
 * when another action was recorded meanwhile (nothing written), or a negative qs. */
/* The agent who transferred call `call_id` to its agent into `out` ("" when none): they may
 * still repeat the transfer. ONE_RESULT, NO_RESULTS (no such call), or a negative qs. */
CB_MUST_CHECK enum cb_qs cb_store_call_transferred_from(struct cb_db *db, const char *call_id,
                                                        char *out, size_t size);
CB_MUST_CHECK enum cb_qs cb_store_controls_record(struct cb_db *db, const char *call_id,
                                                  const struct cb_call_controls *after,
                                                  long version, const char *event,
                                                  const char *new_agent);

/* ---- jobs (src/store/jobs.c) ---- */

struct cb_job_row {
        int64_t id;
        char kind[64];
        char call_id[CB_UUID_LEN + 1]; /* "" when the job has no call */
        json_t *payload;               /* owned by the row; cb_job_row_clear frees it */
        int attempts;                  /* including this one */
        int waits;                     /* times it was told to wait (no attempt spent) */
};
void cb_job_row_clear(struct cb_job_row *row);

/* Claim up to `max` of the oldest runnable jobs of `kinds` (a PostgreSQL text[] literal
 * such as "{crm.log_call,debug.sleep}") for `worker`, leasing them for `lease_s`. Returns
 * the number claimed (rows filled), or a negative qs. */
CB_MUST_CHECK enum cb_qs cb_store_jobs_claim(struct cb_db *db, const char *worker,
                                             const char *kinds, int lease_s,
                                             struct cb_job_row *rows, int max);
/* Settle claimed jobs. Each matches on the worker (and retry/dead on the attempt) so a
 * worker whose lease was taken over changes nothing: NO_RESULTS then. */
CB_MUST_CHECK enum cb_qs cb_store_jobs_done(struct cb_db *db, const int64_t *ids, size_t n,
                                            const char *worker);
CB_MUST_CHECK enum cb_qs cb_store_job_release(struct cb_db *db, const struct cb_job_row *row,
                                              const char *worker);
CB_MUST_CHECK enum cb_qs cb_store_job_retry(struct cb_db *db, const struct cb_job_row *row,
                                            const char *worker, int64_t delay_ms,
                                            const char *error);
CB_MUST_CHECK enum cb_qs cb_store_job_dead(struct cb_db *db, const struct cb_job_row *row,
                                           const char *worker, const char *error);
/* Back to the queue after `delay_ms` with the claim's attempt given back (waits + 1). */
CB_MUST_CHECK enum cb_qs cb_store_job_wait(struct cb_db *db, const struct cb_job_row *row,
                                           const char *worker, int64_t delay_ms, const char *error);
/* Extend the lease of the `n` running jobs `ids` still held by a worker whose id starts with
 * `owner_prefix` (the jobs in hand; never every job of the instance). */
CB_MUST_CHECK enum cb_qs cb_store_jobs_extend(struct cb_db *db, const char *owner_prefix,
                                              const int64_t *ids, size_t n, int lease_s);
/* Queue a job of `kind` without a call unless one is queued or running. ONE_RESULT when it
 * was queued, NO_RESULTS when one was waiting. */
CB_MUST_CHECK enum cb_qs cb_store_job_queue_unless_waiting(struct cb_db *db, const char *kind);
/* Queue depth: rows of [kind, state, count, oldest age in seconds, how many of them were
 * told to wait at least once] (caller decrefs). */
CB_MUST_CHECK enum cb_qs cb_store_job_depth(struct cb_db *db, json_t **out);

/* ---- call metrics over a period (src/store/stats.c) ---- */

/* Metrics of the calls created in [since_us, until_us) and the wrap-ups begun in it, for
 * `agent` (NULL: every agent). ONE_RESULT with *overall (the totals: {"outbound":{"placed",
 * "answered"},"inbound":{"received","answered","missed","abandoned"},"wait_s":{"avg","p90"},
 * "talk_s":{"total","avg"},"wrap_up_s":{"count","total","avg"}}) and *agents (the same per
 * agent, with "agent"), both the caller's to free; or a negative qs with both NULL. */
CB_MUST_CHECK enum cb_qs cb_store_stats(struct cb_db *db, int64_t since_us, int64_t until_us,
                                        const char *agent, json_t **overall, json_t **agents);

/* ---- the operators' view of the queue (src/store/job_admin.c) ---- */

/* Which jobs to list: NULL state/kind for any, before_id > 0 for the page after a cursor. */
struct cb_job_filter {
        const char *state;
        const char *kind;
        int64_t before_id;
        int limit;
};
/* Jobs newest first as a JSON array of {"id","kind","call_id","state","attempts","waits",
 * "available_at","last_error","created_at"} (caller decrefs `*out`). Row count or < 0. */
CB_MUST_CHECK enum cb_qs cb_store_jobs_list(struct cb_db *db, const struct cb_job_filter *f,
                                            json_t **out);
/* Send dead job `id` back to the queue now with attempts reset, and NOTIFY the workers.
 * ONE_RESULT when done; NO_RESULTS with `state` "" (no such job) or its state (not dead). */
CB_MUST_CHECK enum cb_qs cb_store_job_requeue_dead(struct cb_db *db, int64_t id, char state[16]);
/* The same for every dead job (of `kind` unless NULL); `*count` says how many. */
CB_MUST_CHECK enum cb_qs cb_store_jobs_requeue_dead(struct cb_db *db, const char *kind,
                                                    long *count);
/* Input checks shared by the CLI and the API: a known state; a kind-shaped name. */
bool cb_store_job_state_valid(const char *state);
bool cb_store_job_kind_valid(const char *kind);

/* ---- API keys (src/store/apikeys.c) ---- */

/* Store a key for `agent`, in the same statement creating the agent when it has no row yet
 * and, for an admin key, making the agent an admin (agents.admin is what counts; never
 * demotes). */
CB_MUST_CHECK enum cb_qs cb_store_apikey_insert(struct cb_db *db, const char *key_id,
                                                const char *hash_hex, const char *agent,
                                                bool admin);
/* The key's hash (64 hex chars), agent and admin rights (its agent's agents.admin; the key's
 * own flag for an agent without a row), and when they were read (*read_us, microseconds since
 * the epoch by the database's clock); NO_RESULTS when unknown/revoked. */
CB_MUST_CHECK enum cb_qs cb_store_apikey_get(struct cb_db *db, const char *key_id,
                                             char hash_hex[65], char *agent, size_t agent_size,
                                             bool *admin, int64_t *read_us);
/* Every key (of `agent` unless NULL), never its hash: an array of {key_id, agent, admin (the
 * agent's rights, as for cb_store_apikey_get), created_at, last_used_at?, revoked_at?} in *out
 * (caller decrefs; NULL on error). */
CB_MUST_CHECK enum cb_qs cb_store_apikey_list(struct cb_db *db, const char *agent, json_t **out);
/* Revoke a key: 1 row when it was live, 0 when unknown or already revoked. */
CB_MUST_CHECK enum cb_qs cb_store_apikey_revoke(struct cb_db *db, const char *key_id);
/* Keys revoked in the last `within_s` seconds (by the database's clock) as [key_id, null], and
 * the live keys of agents changed in that time (their admin rights may have) as [key_id,
 * "<microseconds since the epoch of the change>"], a JSON array in *out (caller decrefs; NULL
 * on error): the caches drop what they read before. */
CB_MUST_CHECK enum cb_qs cb_store_apikey_recently_changed(struct cb_db *db, int within_s,
                                                          json_t **out);
/* Set last_used_at = now() for the comma-separated key ids. */
CB_MUST_CHECK enum cb_qs cb_store_apikey_touch(struct cb_db *db, const char *key_ids_csv);

/* ---- agents (src/store/agents.c; the values are checked by include/callbridge/agents.h) ----
 * An agent as JSON: {"name","display_name","crm_user_id","phone","admin","created_at",
 * "updated_at"}, null for what is unset, times RFC 3339 UTC. */

/* Why a write changed nothing. */
enum cb_agent_refusal {
        CB_AGENT_REFUSED_NONE = 0,
        CB_AGENT_NAME_TAKEN,   /* insert: an agent has that name */
        CB_AGENT_CRM_ID_TAKEN, /* another agent has that CRM user id */
        CB_AGENT_UNKNOWN,      /* update: no agent has that name */
};

struct cb_agent_fields;
/* Every agent by name, as a JSON array in *out (caller decrefs; NULL on error). */
CB_MUST_CHECK enum cb_qs cb_store_agents_list(struct cb_db *db, json_t **out);
/* Is there an agent called `name`? ONE_RESULT, NO_RESULTS, or a negative qs. */
CB_MUST_CHECK enum cb_qs cb_store_agent_exists(struct cb_db *db, const char *name);
/* One agent: ONE_RESULT with *out (caller decrefs), NO_RESULTS when unknown. */
CB_MUST_CHECK enum cb_qs cb_store_agent_get(struct cb_db *db, const char *name, json_t **out);
/* Insert the agent `f` describes (its set_* flags are ignored: what is NULL is unset).
 * ONE_RESULT with the new row in *out; NO_RESULTS with *why when the name or the CRM user id
 * is taken (nothing written); negative on a database error. */
CB_MUST_CHECK enum cb_qs cb_store_agent_insert(struct cb_db *db, const struct cb_agent_fields *f,
                                               json_t **out, enum cb_agent_refusal *why);
/* Change the fields of agent f->name whose set_* flag is on (NULL clears) and updated_at.
 * ONE_RESULT with the row in *out; NO_RESULTS with *why (unknown agent, CRM user id taken). */
CB_MUST_CHECK enum cb_qs cb_store_agent_update(struct cb_db *db, const struct cb_agent_fields *f,
                                               json_t **out, enum cb_agent_refusal *why);
/* The agents whose crm_user_id is one of `ids_csv` (comma-separated 18-character ids), as a
 * JSON array of {"name","crm_user_id","display_name" (the name when it has none)} in *out (caller
 * decrefs; NULL on error). */
CB_MUST_CHECK enum cb_qs cb_store_agents_by_crm_user_ids(struct cb_db *db, const char *ids_csv,
                                                         json_t **out);
/* Every agent but `me` and the "unassigned" placeholder, by name, as [{"name","display_name",
 * "status"}] (status: agent_status, "available" without a row) in *out (caller decrefs; NULL on
 * error): GET /api/console/config's transfer targets. */
CB_MUST_CHECK enum cb_qs cb_store_agents_transfer_targets(struct cb_db *db, const char *me,
                                                          json_t **out);

#endif
