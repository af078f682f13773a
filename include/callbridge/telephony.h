/* The telephony interface. A provider is one src/telephony/<name>.c defining a
 * `struct cb_telephony_ops`; src/telephony/none.c is the template. The call an operation is
 * about is a typed `const struct cb_call *` (include/callbridge/calls.h: "" for what is
 * unknown), borrowed. */
#ifndef CALLBRIDGE_TELEPHONY_H
#define CALLBRIDGE_TELEPHONY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "callbridge/calls.h"
#include "callbridge/config.h"
#include "callbridge/errors.h"
#include "callbridge/form.h"
#include "callbridge/util.h"
#include "callbridge/upstream.h"

/* A webhook's parameters as the HTTP layer received them, for the provider's parsers: the
 * form-encoded body, or (json non-NULL) a JSON body, and the arguments of the webhook URL we
 * gave the provider (NULL when absent). All borrowed from the request. */
struct cb_tel_params {
        const struct cb_form *form;
        const json_t *json;
        const char *call_id; /* ?call_id= our call */
        const char *agent;   /* ?agent= its agent (click-to-dial bridge) */
        const char *leg;     /* ?leg= (transcription callbacks): "agent" when the leg that
                              * started the transcription is the agent's softphone */
};

/* A parameter: a form field, or a string member of the JSON body. Borrowed; NULL when absent. */
static inline const char *cb_tel_param(const struct cb_tel_params *p, const char *name)
{
        if (p->json != NULL)
                return json_string_value(json_object_get(p->json, name));
        return p->form ? cb_form_get(p->form, name) : NULL;
}

/* A call status callback, checked. Strings are borrowed from the params; NULL when absent. */
struct cb_tel_status {
        const char *call_id; /* ours (a UUID), from the URL */
        const char *call_sid;
        enum cb_call_status status;
        long duration_s;       /* talk time; -1 when not given */
        const char *direction; /* the provider's word ("inbound", "outbound-api"...), unchecked */
        bool inbound;          /* direction says the call came in */
        const char *from;      /* unchecked: only used to create a call we missed */
        const char *to;
};

/* A voice webhook (the provider asks how to answer a call), checked. Borrowed; NULL when
 * absent. */
struct cb_tel_voice {
        const char *call_sid;
        const char *from; /* as the provider sent it: E.164, "client:name", "anonymous"... */
        const char *to;
        const char *client;  /* the softphone's identity when it dialled (From "client:<id>") */
        const char *call_id; /* our click-to-dial call whose customer answered (URL) */
        const char *agent;   /* the agent to bridge it to (URL), set when call_id is */
};

/* A recording status callback, checked. Borrowed; NULL when absent. */
struct cb_tel_recording {
        const char *call_id; /* ours, from the URL */
        const char *call_sid;
        const char *recording_sid;
        const char *status; /* the provider's word, for the log */
        bool completed;     /* the recording can be fetched; then `url` is set */
        const char *url;    /* where the provider serves it (http:// or https://) */
        long duration_s;    /* -1 when not given */
};

/* A real-time transcription callback (live transcripts), checked. */
enum cb_tel_tx_event {
        CB_TEL_TX_OTHER,   /* an event we do not use: answered 204, ignored */
        CB_TEL_TX_STARTED, /* the transcription began */
        CB_TEL_TX_CONTENT, /* a segment: partial or final */
        CB_TEL_TX_STOPPED, /* it ended (the call ended, or it was stopped) */
        CB_TEL_TX_ERROR,   /* the provider reports a failure */
};

/* Who spoke a segment, from the provider's track and the leg that started the transcription
 * (see parse_transcription). */
enum cb_tel_speaker { CB_TEL_SPEAKER_CUSTOMER, CB_TEL_SPEAKER_AGENT };

struct cb_tel_transcription {
        const char *call_id;  /* ours, from the URL; NULL when absent */
        const char *call_sid; /* the provider's call */
        const char *transcription_sid;
        const char *event_name; /* the provider's word, for the log */
        enum cb_tel_tx_event event;
        /* CB_TEL_TX_CONTENT only: */
        enum cb_tel_speaker speaker;
        long long sequence; /* the provider's order of the callbacks of one transcription */
        bool final;         /* false: a partial result, superseded by later ones */
        const char *text;   /* borrowed from `data` */
        double confidence;  /* -1 when not given */
        json_t *data;       /* the parsed transcription data: the caller decrefs it */
        /* CB_TEL_TX_ERROR only: the provider's message (borrowed; NULL when none) */
        const char *error;
};

/* Which speaker a provider track is: `inbound` is the audio the provider receives from the
 * call leg that started the transcription (the customer's, unless that leg is the agent's
 * softphone dialling out: `leg_is_agent`), `outbound` what it sends to that leg (the other
 * party). Pure. */
static inline enum cb_tel_speaker cb_tel_speaker_of(bool inbound_track, bool leg_is_agent)
{
        return inbound_track == leg_is_agent ? CB_TEL_SPEAKER_AGENT : CB_TEL_SPEAKER_CUSTOMER;
}

static inline const char *cb_tel_speaker_name(enum cb_tel_speaker s)
{
        return s == CB_TEL_SPEAKER_AGENT ? "agent" : "customer";
}

/* What a provider can do beyond placing calls (struct cb_telephony_ops.caps). */
#define CB_TEL_CAP_WEBHOOKS  0x1u /* signs and parses webhooks, renders voice answers */
#define CB_TEL_CAP_SOFTPHONE 0x2u /* issues access tokens for its softphone SDK */
#define CB_TEL_CAP_CONTROL   0x4u /* controls live calls: hang up, hold, transfer, recording */

/* One call control action for the provider to carry out (cb_calls_control_decide allowed
 * it). Strings borrowed; NULL when not needed. */
struct cb_tel_control {
        enum cb_call_action action;
        const char *call_sid;  /* the customer's leg: the call's provider call id */
        const char *to;        /* transfers: an agent identity or an E.164 number */
        bool to_agent;         /* `to` is an agent identity (rings its softphone) */
        const char *caller_id; /* the From of a number dialled by a transfer; may be NULL */
};

/* What the provider made of a control action. */
enum cb_tel_ctl {
        CB_TEL_CTL_OK = 0,
        CB_TEL_CTL_STATE,    /* the provider says the call cannot (ended, no conference, no
                              * recording running): the client's 409 */
        CB_TEL_CTL_UPSTREAM, /* no usable answer, or a refusal that is our configuration's
                              * fault: 502, nothing changed on our side */
};

struct cb_telephony_ops {
        const char *name;
        unsigned caps; /* CB_TEL_CAP_* */
        /* NULL (reason logged) when the configuration is unusable; destroy(NULL) is safe. */
        void *(*create)(const struct cb_config *cfg);
        void (*destroy)(void *self);
        /* Place the outbound call described by `call` (as cb_store_call_load read it). On OK
         * `provider_call_id` holds the provider's id ("" when the softphone dials itself).
         * RETRY after a failure that may have reached the provider: the job then asks
         * find_placed before placing again. */
        enum cb_result (*place_call)(void *self, const struct cb_call *call, char *provider_call_id,
                                     size_t id_size, char *err, size_t err_size);
        /* Optional: the provider's ids of calls that may be `call` placed by an earlier attempt
         * (same numbers, created since the call was): *ids is a JSON array, newest first
         * (caller decrefs). */
        enum cb_result (*find_placed)(void *self, const struct cb_call *call, json_t **ids,
                                      char *err, size_t err_size);
        /* Optional: download a recording the provider announced at `url` (with the provider's
         * credentials, following its redirect) into `sink`; *declared_len is the length the
         * provider announced (UINT64_MAX when none). RETRY/FAIL with `err`. */
        enum cb_result (*fetch_media)(void *self, const char *url,
                                      int (*sink)(void *ctx, const void *data, size_t len),
                                      void *ctx, uint64_t *declared_len, char *err,
                                      size_t err_size);
        /* Optional: the provider's recording id (into `sid`, CB_TWILIO_RE_SID_LEN + 1 bytes)
         * when `url` is exactly the media URL of a recording of our account; false for
         * anything else. Pure: no request. */
        bool (*recording_url_sid)(void *self, const char *url, char *sid);
        /* With recording_url_sid: the URLs it accepts, for the refusal of any other. */
        const char *recording_url_form;
        /* Optional: ask the provider which call recording `sid` belongs to; its call id into
         * `call_id`. RETRY (provider trouble) / FAIL (no such recording, refused) with `err`. */
        enum cb_result (*recording_call_id)(void *self, const char *sid, char *call_id,
                                            size_t id_size, char *err, size_t err_size);
        /* Optional: delete the provider's copy of recording `sid` (gone already is success). */
        enum cb_result (*delete_recording)(void *self, const char *sid, char *err, size_t err_size);
        /* Optional (reconciliation): what the provider says of call `provider_call_id` now:
         * its status and, once final, its talk time (*duration_s -1 when not given). FAIL
         * when the provider does not know the call; RETRY when it says a status callbridge
         * does not know. */
        enum cb_result (*call_status)(void *self, const char *provider_call_id,
                                      enum cb_call_status *status, long *duration_s, char *err,
                                      size_t err_size);
        /* Optional (reconciliation): the completed recordings of call `provider_call_id`:
         * *recs = [{"sid","url","duration_s"}] with `url` as the recording callback gives it
         * (caller decrefs). */
        enum cb_result (*call_recordings)(void *self, const char *provider_call_id, json_t **recs,
                                          char *err, size_t err_size);
        /* The header that signs the provider's webhooks ("X-Twilio-Signature"); NULL when the
         * provider sends none (then every webhook is refused). */
        const char *signature_header;
        /* Does `signature` sign a webhook to `url` (public URL + request target as received)
         * with form `params`, or (params NULL) the JSON body? */
        bool (*webhook_valid)(void *self, const char *url, const struct cb_form *params,
                              const void *json_body, size_t json_len, const char *signature);
        /* The webhook parsers (with CB_TEL_CAP_WEBHOOKS; NULL otherwise): fill `out` from `p`
         * and return CB_ERR_NONE, or refuse with the error (MISSING_FIELD, INVALID_FIELD,
         * INVALID_QUERY for our URL arguments) and a static message in *msg. Pure. */
        enum cb_err (*parse_status)(void *self, const struct cb_tel_params *p,
                                    struct cb_tel_status *out, const char **msg);
        enum cb_err (*parse_voice)(void *self, const struct cb_tel_params *p,
                                   struct cb_tel_voice *out, const char **msg);
        enum cb_err (*parse_recording)(void *self, const struct cb_tel_params *p,
                                       struct cb_tel_recording *out, const char **msg);
        /* Optional: a real-time transcription callback (live transcripts). On CB_ERR_NONE
         * out->data may hold a reference the caller must drop (json_decref), whatever the
         * event; on a refusal nothing is held. */
        enum cb_err (*parse_transcription)(void *self, const struct cb_tel_params *p,
                                           struct cb_tel_transcription *out, const char **msg);
        /* The answer to a voice webhook (with CB_TEL_CAP_WEBHOOKS; NULL otherwise): the
         * provider's document for `route` appended to `out`, its media type in *content_type
         * (static). A client or number route with an empty target is answered as the message.
         * 0, or -1 when the buffer's cap or memory ran out. */
        int (*render_route)(void *self, const struct cb_call_route *route, struct cb_buf *out,
                            const char **content_type);
        /* Softphone access tokens (with CB_TEL_CAP_SOFTPHONE, all four set; NULL otherwise).
         * They have their own state, `tokens`, made whichever provider places calls (a
         * softphone may dial through the provider's SDK while callbridge places nothing):
         * cb_telephony_create asks the first provider of the build with the flag.
         * softphone_create reads the keys once, at start: 0 with *tokens set, or with *tokens
         * NULL when the settings tokens need are not all set (logged: which are missing); -1
         * (logged, never a secret) when they are set but unusable (start-up then fails). */
        int (*softphone_create)(const struct cb_config *cfg, void **tokens);
        void (*softphone_destroy)(void *tokens); /* wipes the keys; NULL is fine */
        /* A token for client `identity`, valid for min(ttl_s, the provider's configured
         * lifetime) (ttl_s 0: that lifetime), into *token_take (malloc'd; the caller frees it
         * with cb_secret_free) and its lifetime into *expires_in. Else INVALID_FIELD (the
         * provider cannot use `identity`) with a static message in *msg, or INTERNAL (out of
         * memory, logged; *msg NULL). */
        enum cb_err (*softphone_token)(void *tokens, const char *identity, long ttl_s,
                                       char **token_take, long *expires_in, const char **msg);
        /* Why tokens are refused when softphone_create left *tokens NULL: which settings
         * they need. */
        const char *softphone_off;
        /* Call control (with CB_TEL_CAP_CONTROL; NULL otherwise). control carries out one
         * action in the request (the provider's [timeout]); `err` says why when not OK.
         * Repeating an action is harmless at the provider (hold twice holds once). */
        enum cb_tel_ctl (*control)(void *self, const struct cb_tel_control *c, char *err,
                                   size_t err_size);
        /* The conference bridge: ring `agent`'s softphone into conference `conference` (named
         * by cb_calls_conference_name, created by whoever joins first), shown as call from
         * `from` (may be NULL). With `call_id` (else NULL) the agent's answer is reported on
         * POST /webhooks/twilio/participant?call_id= (parse_status's parameters). OK, or
         * RETRY/FAIL with `err` (the caller then bridges without a conference). */
        enum cb_result (*conference_join)(void *self, const char *conference, const char *agent,
                                          const char *from, const char *call_id, char *err,
                                          size_t err_size);
};

struct cb_telephony {
        const struct cb_telephony_ops *ops;
        void *self;
        /* The softphone token issuer (a provider with CB_TEL_CAP_SOFTPHONE, maybe not `ops`)
         * and its state; `softphone` NULL when the build has none, `tokens` NULL when it is
         * not configured. */
        const struct cb_telephony_ops *softphone;
        void *tokens;
};

/* The provider the configuration selects ([twilio] enabled → twilio, else none). */
struct cb_telephony *cb_telephony_create(const struct cb_config *cfg);
void cb_telephony_destroy(struct cb_telephony **tel);

/* Softphone tokens through `tel`'s issuer. NULL when tokens can be issued, else a static
 * message saying what they need (the answer to give: CB_ERR_TOKENS_NOT_CONFIGURED). */
const char *cb_telephony_softphone_off(const struct cb_telephony *tel);
/* As the issuer's softphone_token; CB_ERR_TOKENS_NOT_CONFIGURED (with *msg) when
 * cb_telephony_softphone_off says why. */
enum cb_err cb_telephony_softphone_token(const struct cb_telephony *tel, const char *identity,
                                         long ttl_s, char **token_take, long *expires_in,
                                         const char **msg);

/* "RE" + 32 hex digits. */
#define CB_TWILIO_RE_SID_LEN 34
/* The recording sid of `url` when it is exactly
 * <api_base>/2010-04-01/Accounts/<account_sid>/Recordings/RE<32 hex>[.wav|.mp3] (api_base
 * without its trailing '/'s): byte for byte, so no other host, port, scheme, userinfo, path,
 * dot segment, percent-encoding, query or fragment. False otherwise (`sid` untouched). */
bool cb_twilio_recording_url_sid(const char *api_base, const char *account_sid, const char *url,
                                 char sid[CB_TWILIO_RE_SID_LEN + 1]);

extern const struct cb_telephony_ops cb_telephony_none;
extern const struct cb_telephony_ops cb_telephony_twilio;

#endif
