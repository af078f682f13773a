/* What src/telephony/twilio.c shares with twilio_lookup.c (Twilio's read-only REST lookups),
 * twilio_webhook.c (its webhooks' parameters and TwiML answers), twilio_token.c (softphone
 * access tokens) and twilio_control.c (call control, the conference bridge). Internal to the
 * telephony library. */
#ifndef CB_TELEPHONY_TWILIO_INT_H
#define CB_TELEPHONY_TWILIO_INT_H

#include "callbridge/config.h"
#include "callbridge/telephony.h"
#include "callbridge/upstream.h"

#define TWILIO_MAX_RESPONSE ((size_t)256 * 1024)
#define CB_TWILIO_SID_MAX   64

struct twilio {
        const struct cb_config *cfg;
        char *auth_token;   /* webhook signatures; REST auth unless an API key is set */
        char *userpwd;      /* "SK...:secret" or "AC...:token" */
        char fragment[256]; /* connection overrides for callback URLs ("" when none) */
};

/* Map an answer to OK/RETRY/FAIL; `what` names the request in the error. */
CB_MUST_CHECK enum cb_result cb_twilio_outcome(int rc, const struct cb_upstream_resp *resp,
                                               const char *what, char *err, size_t err_size);

/* The lookups of twilio_lookup.c, as cb_telephony_ops members. */
CB_MUST_CHECK enum cb_result cb_twilio_find_placed(void *self, const struct cb_call *call,
                                                   json_t **ids, char *err, size_t err_size);
CB_MUST_CHECK enum cb_result cb_twilio_call_status(void *self, const char *sid,
                                                   enum cb_call_status *status, long *duration_s,
                                                   char *err, size_t err_size);
CB_MUST_CHECK enum cb_result cb_twilio_call_recordings(void *self, const char *sid, json_t **recs,
                                                       char *err, size_t err_size);

/* True when `sid` looks like a Twilio SID with the two-letter `prefix` ("CA", "RE"). */
bool cb_twilio_sid_ok(const char *sid, const char *prefix);

/* The webhook parsers and the voice answer of twilio_webhook.c, as cb_telephony_ops members. */
enum cb_err cb_twilio_parse_status(void *self, const struct cb_tel_params *p,
                                   struct cb_tel_status *out, const char **msg);
enum cb_err cb_twilio_parse_voice(void *self, const struct cb_tel_params *p,
                                  struct cb_tel_voice *out, const char **msg);
enum cb_err cb_twilio_parse_recording(void *self, const struct cb_tel_params *p,
                                      struct cb_tel_recording *out, const char **msg);
enum cb_err cb_twilio_parse_transcription(void *self, const struct cb_tel_params *p,
                                          struct cb_tel_transcription *out, const char **msg);
int cb_twilio_render_route(void *self, const struct cb_call_route *route, struct cb_buf *out,
                           const char **content_type);

/* Call control (src/telephony/twilio_control.c), as cb_telephony_ops members. */
enum cb_tel_ctl cb_twilio_control(void *self, const struct cb_tel_control *c, char *err,
                                  size_t err_size);
enum cb_result cb_twilio_conference_join(void *self, const char *conference, const char *agent,
                                         const char *from, const char *call_id, char *err,
                                         size_t err_size);

/* Softphone access tokens (src/telephony/twilio_token.c), as cb_telephony_ops members. */
int cb_twilio_softphone_create(const struct cb_config *cfg, void **tokens);
void cb_twilio_softphone_destroy(void *tokens);
enum cb_err cb_twilio_softphone_token(void *tokens, const char *identity, long ttl_s,
                                      char **token_take, long *expires_in, const char **msg);

/* TwiML documents for the voice webhook (src/telephony/twilio_webhook.c). Each appends a whole
 * document to `out` and returns 0, or -1 when the buffer's cap or memory ran out. */
#define CB_TWIML_TYPE "text/xml; charset=utf-8"
/* Every document starts with this. */
#define CB_TWIML_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>"

/* Ring the softphone `identity`, passing our call id as a custom parameter (may be NULL). */
int cb_twiml_dial_client(struct cb_buf *out, const char *identity, const char *call_id,
                         long timeout_s);
/* Dial a phone number, presenting `caller_id` (may be NULL: Twilio uses the caller's). */
int cb_twiml_dial_number(struct cb_buf *out, const char *e164, const char *caller_id,
                         long timeout_s);
/* <Start><Transcription>: Twilio's real-time transcription of both tracks with partial
 * results, its callbacks POSTed to `callback_url` (escaped here). Appends an element, not a
 * document (it goes right after CB_TWIML_HEAD). */
int cb_twiml_start_transcription(struct cb_buf *out, const char *callback_url);
/* Put the caller in conference `name` as participant `label`; the conference ends when this
 * participant leaves (the customer's leg). */
int cb_twiml_conference(struct cb_buf *out, const char *name, const char *label);
/* Tell the caller `text` and hang up. */
int cb_twiml_say_hangup(struct cb_buf *out, const char *text);

#endif
