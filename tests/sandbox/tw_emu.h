/* callbridge-sandbox: what the Twilio emulation's files share (tw_*.c). Sandbox-local.
 *
 * tw_api.c     auth, Twilio error bodies, fault replies, sids, dates, URL checks
 * tw_calls.c   POST/GET Calls.json, GET Calls/{Sid}.json
 * tw_state.c   outcomes, the webhook log, recordings (under the state mutex of sb_state.c)
 * tw_driver.c  the sender threads that play each call
 * tw_deliver.c signed webhook delivery with Twilio's connection overrides (libcurl)
 * tw_sig.c     the X-Twilio-Signature it carries, the sandbox's own code (tw_sig.h)
 * tw_media.c   Recording JSON, media redirect, signed /__media/ URLs, delete
 * tw_talk.c    real-time transcription callbacks played from seeded conversations
 * tw_conf.c    conferences and participants (state), the TwiML <Conference> noun
 * tw_conf_api.c  Conferences and Participants REST resources
 * tw_update.c  Calls update (hang up, redirect) and call Recordings update (pause/resume)
 *
 * Placed calls live in sb_state.c's twilio_calls array: each entry is the Twilio Call JSON plus
 * the sandbox keys "twiml", "recording_sid" and "sandbox" (what was asked, never shown by the
 * REST API). Functions named *_locked need sb_state_lock() held; borrowed JSON they return is
 * only valid until it is released. */
#ifndef CALLBRIDGE_SANDBOX_TW_H
#define CALLBRIDGE_SANDBOX_TW_H

#include <curl/curl.h>

#include "callbridge/form.h"
#include "sandbox.h"

#define TW_API_VERSION  "2010-04-01"
#define TW_PREFIX       "/2010-04-01/Accounts/"
#define TW_SID_LEN      34 /* two letters + 32 lower-case hex digits */
#define TW_DATE_LEN     32 /* "Tue, 31 Aug 2010 20:36:28 +0000" + NUL */
#define TW_MAX_DURATION 3600

/* Status callback events asked for with StatusCallbackEvent (bit mask). */
enum {
        TW_EV_INITIATED = 1,
        TW_EV_RINGING = 2,
        TW_EV_ANSWERED = 4,
        TW_EV_COMPLETED = 8,
};

/* How a call to a number ends (POST /__sandbox/twilio/outcome). */
struct tw_outcome {
        char status[16];                    /* completed, busy, no-answer, failed, canceled */
        long duration_s;                    /* CallDuration of a completed call */
        long answer_ms;                     /* wait before the call is answered (or given up) */
        long talk_ms;                       /* wait between answer and hang-up */
        long recording_duration;            /* RecordingDuration; -1: duration_s */
        char recording_sid[TW_SID_LEN + 1]; /* "" : a new random RE sid */
        long hold_create_ms;                /* Calls.json create: answer (and play) this late */
};

/* ---- tw_api.c ---------------------------------------------------------------------------- */

extern const struct sb_upstream sb_tw_upstream;

/* Twilio's error body {"code","message","more_info","status"} with that HTTP status. */
void tw_error(struct sb_reply *reply, unsigned int status, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Check HTTP Basic auth against the configured account and the AccountSid in the path
 * (copied into `account`). False after answering 401 20003. */
bool tw_auth(const struct sb_request *req, struct sb_reply *reply, char account[TW_SID_LEN + 1]);
/* The path segment after "/2010-04-01/Accounts/<AC>/<collection>/" without ".json" or any
 * other extension into `out` (at most TW_SID_LEN chars); `ext` gets the extension ("" when
 * none). False when it is not a well-formed sid with prefix `prefix` ("CA", "RE"). */
bool tw_path_sid(const char *path, const char *prefix, char out[TW_SID_LEN + 1], char ext[8]);
/* A new random sid with this two-letter prefix. */
void tw_new_sid(const char *prefix, char out[TW_SID_LEN + 1]);
/* `t` (Unix seconds) in RFC 2822 form, as Twilio writes dates. */
void tw_date(time_t t, char out[TW_DATE_LEN]);
/* True for an absolute http(s) URL with a host. */
bool tw_url_ok(const char *url);
/* The sandbox's own base URL ("http://127.0.0.1:8089"), set by sb_tw_start. */
const char *tw_base_url(void);

/* ---- tw_state.c (lock held unless said otherwise) ---------------------------------------- */

/* Store a new call entry (stolen) in twilio_calls and index it by sid and To; -1 when out of
 * memory (nothing stored). */
int tw_call_add_locked(json_t *call);
/* The call entry (borrowed) with this sid, or NULL. A hash lookup. */
json_t *tw_call_find_locked(const char *sid);
/* The calls (borrowed array, oldest first) placed to `to`, or NULL. */
json_t *tw_calls_to_locked(const char *to);
/* The outcome for calls to `to` (its own, else "*", else the default). */
void tw_outcome_for_locked(const char *to, struct tw_outcome *out);
/* The call's status is about to become `status` (before it is set): the summary's counts
 * follow. */
void tw_call_status_locked(json_t *call, const char *status);
/* A recording was just marked deleted (the summary's count). */
void tw_recording_deleted_locked(void);
/* Bumped by every reset: a call played across a reset stops touching the state. */
unsigned long tw_generation_locked(void);
/* Append {"call_sid","kind","status"?,"url","http_status","sent_at","retry"?} to
 * twilio_webhooks ("retry" when attempt > 0). */
void tw_webhook_log_locked(const char *call_sid, const char *kind, const char *status,
                           const char *url, long http_status, long attempt);
/* Store a recording's metadata (stolen) under its "sid". */
void tw_recording_add_locked(json_t *rec);
/* The recording (borrowed) with this sid, or NULL; deleted ones included. */
json_t *tw_recording_find_locked(const char *sid);

/* ---- tw_conf.c (lock held) --------------------------------------------------------------- */

/* The <Conference> noun of a TwiML document. */
struct tw_conf_noun {
        char name[160];
        char label[128]; /* participantLabel, "" when none */
        bool end_on_exit;
        bool start_on_enter;
};
/* Find the first <Conference> in `twiml`; false when there is none. */
bool tw_twiml_conference(const char *twiml, struct tw_conf_noun *out);
void tw_conf_reset_locked(void);
void tw_conf_clear_locked(void);
/* The conference (borrowed) with this CF sid, or the live one with this friendly name. */
json_t *tw_conf_find_locked(const char *sid_or_name);
/* As find, but not a completed one: a name gets a new conference (status init); NULL for an
 * unknown or completed CF sid, or when out of memory. */
json_t *tw_conf_open_locked(const char *account, const char *sid_or_name);
/* The participant (borrowed) by CallSid or label, or NULL. */
json_t *tw_conf_participant_locked(json_t *conf, const char *sid_or_label);
/* Add the call as a participant with `status` (or update an existing one's status); a
 * connected participant starts an init conference. -1 when out of memory. */
int tw_conf_join_locked(json_t *conf, const char *call_sid, const char *label, bool end_on_exit,
                        bool start_on_enter, const char *status);
/* The call leaves its conference (hung up, redirected, or `kicked` by a DELETE); with
 * endConferenceOnExit (or as the last one) the conference completes and every other
 * participant's call is marked to hang up. True when the conference's end marked another
 * call to hang up (its sender must be woken). */
bool tw_conf_leave_locked(const char *call_sid, bool kicked);
/* Mark a call to be hung up by the sender playing it (wake it with tw_driver_wake). */
void tw_call_hangup_locked(const char *call_sid);
/* A conference or participant as the REST API shows it (new reference). */
json_t *tw_conf_view(json_t *obj);
/* The conferences matching the filters (NULL: any), as a new array of views. */
json_t *tw_conf_list_locked(const char *name, const char *status);

/* ---- tw_calls.c -------------------------------------------------------------------------- */

struct tw_job;
/* Validate a Calls.json create form like Twilio, store the call and return its job (not yet
 * queued: the caller hands it to tw_driver_enqueue_take) and its REST view. 0, or the HTTP
 * status of the Twilio error already answered into `reply`. */
unsigned tw_calls_place(const struct sb_request *req, struct sb_reply *reply,
                        const struct cb_form *form, const char *account, struct tw_job **job_out,
                        json_t **view_out);

/* ---- tw_driver.c ------------------------------------------------------------------------- */

/* What a sender needs to play one call; filled by tw_calls.c, owned by the driver queue. */
struct tw_job {
        struct tw_job *next;
        unsigned long generation;
        char sid[TW_SID_LEN + 1];
        char account[TW_SID_LEN + 1];
        char *to, *from;
        char *url;       /* Url, or NULL */
        char *method;    /* Method for Url: GET or POST */
        char *status_cb; /* StatusCallback, or NULL */
        char *status_cb_method;
        unsigned events; /* TW_EV_* */
        bool record;
        char *rec_cb; /* RecordingStatusCallback, or NULL */
        char *rec_cb_method;
        bool rec_completed; /* "completed" among RecordingStatusCallbackEvent */
        struct tw_outcome outcome;
};

/* Wait `ms` unless the driver stops first; false when stopping. */
bool tw_driver_pause_ms(long ms);
/* True once the driver is stopping (transfers in flight abort). */
bool tw_driver_stopping(void);
/* The account's auth token webhooks are signed with (borrowed, set at start). */
const char *tw_driver_auth_token(void);
/* Wake the senders pausing on a call: one may have been hung up. Lock not held. */
void tw_driver_wake(void);
/* Queue a call to play (the job is stolen; freed at once when the driver is stopped). */
void tw_driver_enqueue_take(struct tw_job *job);
/* Free a job and its strings; NULL-safe. */
void tw_job_free(struct tw_job *job);

/* ---- tw_hooks.c: what a played call sends and records ------------------------------------ */

struct tw_hook;
/* The parameters every call webhook carries, into `f`; a failure is remembered in *rc. */
void tw_call_params(const struct tw_job *job, const char *call_status, struct cb_form *f, int *rc);
/* A status callback for `status` with this SequenceNumber into *hk; the final one carries the
 * durations (`duration` >= 0). False when out of memory (hk->params then freed). */
bool tw_status_hook(const struct tw_job *job, const char *status, unsigned seq, long duration,
                    struct tw_hook *hk);
/* Set `key` on the call's entry (value stolen); false when the call was abandoned (reset). */
bool tw_call_set(const struct tw_job *job, const char *key, json_t *value);
/* tw_call_set with the current time as Twilio writes dates. */
bool tw_call_set_now(const struct tw_job *job, const char *key);
/* Store the recording of the ended call (answered at `started`) and send its status callback
 * when one was asked for; false when abandoned or the delivery failed. */
bool tw_record_call(CURL *curl, const struct tw_job *job, time_t started);

/* ---- tw_deliver.c ------------------------------------------------------------------------ */

/* One outgoing webhook. */
struct tw_hook {
        const char *kind; /* "status", "voice", "recording" */
        char status[16];  /* CallStatus of a status callback, "" otherwise */
        const char *url;
        const char *method; /* GET or POST */
        struct cb_form params;
        bool close; /* a pause follows: close the connection after it (no idle one held) */
};

/* Sign and send one webhook (twice when the duplicate fault says so), retried as its URL's
 * "#..." connection overrides ask; the fragment is not sent, the signature covers the URL as
 * given, fragment included. A 2xx answer of the first delivery goes to `answer` (may be
 * NULL). False when the call is abandoned (a reset) or out of memory. `curl` is the
 * caller's handle. */
bool tw_deliver(CURL *curl, const struct tw_job *job, const struct tw_hook *hk,
                struct cb_buf *answer);

/* ---- tw_talk.c: real-time transcription callbacks ------------------------------------- */

/* Is `arr` a valid "conversations" seed ([{"to"?,"segments":[{"track","text"}]}])? False with
 * the reason in `err`. */
bool tw_talk_check(const json_t *arr, char *err, size_t err_size);
/* Keep the checked conversations (copied), each for its "to" ("*" when absent, the default
 * of every number). -1 when out of memory. */
int tw_talk_seed(const json_t *arr);
/* Forget the seeded conversations. */
void tw_talk_reset(void);
/* The call's talk time: with <Start><Transcription> in `twiml` (may be NULL) the conversation
 * is played to its statusCallbackUrl over `talk_ms`, else it is a pause. `pause` waits as
 * tw_driver.c's pause_call does (sets *cut when the call is hung up: the conversation stops
 * there, transcription-stopped follows). False when the call was abandoned or the sandbox
 * stops. */
bool tw_talk_play(CURL *curl, const struct tw_job *job, const char *twiml, long talk_ms,
                  bool (*pause)(const struct tw_job *job, long ms, bool *cut), bool *cut);

/* ---- tw_media.c -------------------------------------------------------------------------- */

/* The Recording resource JSON of a stored recording (new reference), NULL when out of
 * memory. Lock held. */
json_t *tw_recording_json_locked(json_t *rec);
/* Create the media URL signing key; -1 when the CSPRNG fails. */
int tw_media_init(void);

#endif
