/* The call lifecycle as the telephony provider reports it (src/store/lifecycle.c): status
 * callbacks (also batched), provider ids, failed calls, announced recordings. */
#ifndef CALLBRIDGE_STORE_LIFECYCLE_H
#define CALLBRIDGE_STORE_LIFECYCLE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "callbridge/calls.h"
#include "callbridge/db.h"
#include "callbridge/util.h"

struct cb_batcher; /* group commit: callbridge/store_batcher.h */

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
/* Called on the batcher thread after each batch's statement, before its items' `done`, with
 * every item of the batch and its outcome (e.g. to publish the batch's events in one round
 * trip). One for the process; NULL: none. */
typedef void (*cb_status_committed_fn)(struct cb_status_item *const *items, size_t n);
void cb_status_batcher_on_commit(cb_status_committed_fn fn);
/* Store the provider's call id unless the call already has another. ONE_RESULT when the call
 * holds `provider_call_id` now, NO_RESULTS when it holds a different one; a negative qs when
 * another call holds it (unique index) or the database failed. */
CB_MUST_CHECK enum cb_qs cb_store_call_set_provider_id(struct cb_db *db, const char *id,
                                                       const char *provider_call_id);
/* write_mode = single: the call log was written with recording `recording_id` and the analysis
 * of transcript `transcript_id` (NULL: none). */
CB_MUST_CHECK enum cb_qs cb_store_call_set_crm_written(struct cb_db *db, const char *id,
                                                       const char *recording_id,
                                                       const char *transcript_id);
/* The number an outbound call was dialled from (the provider's caller id), kept only when the
 * call has none yet. */
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

#endif
