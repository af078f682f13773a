/* Twilio's webhooks on the wire: the parameters of the status, voice and recording callbacks
 * (https://www.twilio.com/docs/voice/twiml#request-parameters), checked as strictly as the
 * handlers always did, and the TwiML that answers a voice webhook. Pure: no request. */
#include <stdint.h>
#include <string.h>

#include "callbridge/calls.h"
#include "twilio_int.h"

#define SORRY "Sorry, nobody can take your call right now. Please call again later."

bool cb_twilio_sid_ok(const char *sid, const char *prefix)
{
        return sid != NULL && strncmp(sid, prefix, 2) == 0 &&
               cb_str_charset(sid, CB_TWILIO_SID_MAX, "");
}

/* A duration parameter: absent is -1; false when present and not 0..7 days of seconds. */
static bool duration_ok(const char *s, long *out)
{
        *out = -1;
        return s == NULL || cb_parse_long(s, 0, 7L * 86400, out);
}

/* Our ?call_id= must be a call id when present. */
static enum cb_err bad_call_id(const struct cb_tel_params *p, const char **msg)
{
        if (p->call_id == NULL || cb_uuid_valid(p->call_id))
                return CB_ERR_NONE;
        *msg = "call_id is not a call id";
        return CB_ERR_INVALID_QUERY;
}

enum cb_err cb_twilio_parse_status(void *self, const struct cb_tel_params *p,
                                   struct cb_tel_status *out, const char **msg)
{
        const char *status = cb_tel_param(p, "CallStatus");
        enum cb_err e = bad_call_id(p, msg);

        (void)self;
        memset(out, 0, sizeof(*out));
        out->call_id = p->call_id;
        out->call_sid = cb_tel_param(p, "CallSid");
        out->direction = cb_tel_param(p, "Direction");
        out->inbound = out->direction != NULL && strcmp(out->direction, "inbound") == 0;
        out->from = cb_tel_param(p, "From");
        out->to = cb_tel_param(p, "To");
        if (e != CB_ERR_NONE)
                return e;
        if (out->call_sid == NULL || status == NULL) {
                *msg = "CallSid and CallStatus are required";
                return CB_ERR_MISSING_FIELD;
        }
        if (!cb_twilio_sid_ok(out->call_sid, "CA") ||
            !cb_calls_status_parse(status, &out->status) ||
            !duration_ok(cb_tel_param(p, "CallDuration"), &out->duration_s)) {
                *msg = "CallSid, CallStatus or CallDuration has the wrong value";
                return CB_ERR_INVALID_FIELD;
        }
        return CB_ERR_NONE;
}

enum cb_err cb_twilio_parse_voice(void *self, const struct cb_tel_params *p,
                                  struct cb_tel_voice *out, const char **msg)
{
        (void)self;
        memset(out, 0, sizeof(*out));
        out->call_sid = cb_tel_param(p, "CallSid");
        out->from = cb_tel_param(p, "From");
        out->to = cb_tel_param(p, "To");
        if (out->call_sid == NULL) {
                *msg = "CallSid is required";
                return CB_ERR_MISSING_FIELD;
        }
        if (!cb_twilio_sid_ok(out->call_sid, "CA") || (out->from && strlen(out->from) > 63) ||
            (out->to && strlen(out->to) > 63)) {
                *msg = "CallSid, From or To is wrong";
                return CB_ERR_INVALID_FIELD;
        }
        if (p->call_id != NULL) { /* our click-to-dial call: the URL is signed, not forgeable */
                if (!cb_uuid_valid(p->call_id) || !cb_calls_agent_valid(p->agent)) {
                        *msg = "call_id and agent must name our call and its agent";
                        return CB_ERR_INVALID_QUERY;
                }
                out->call_id = p->call_id;
                out->agent = p->agent;
                return CB_ERR_NONE;
        }
        if (out->from != NULL && strncmp(out->from, "client:", 7) == 0) {
                if (!cb_calls_agent_valid(out->from + 7)) {
                        *msg = "From is not a client identity";
                        return CB_ERR_INVALID_FIELD;
                }
                out->client = out->from + 7;
        }
        return CB_ERR_NONE;
}

enum cb_err cb_twilio_parse_recording(void *self, const struct cb_tel_params *p,
                                      struct cb_tel_recording *out, const char **msg)
{
        enum cb_err e = bad_call_id(p, msg);

        (void)self;
        memset(out, 0, sizeof(*out));
        out->call_id = p->call_id;
        out->call_sid = cb_tel_param(p, "CallSid");
        out->recording_sid = cb_tel_param(p, "RecordingSid");
        out->status = cb_tel_param(p, "RecordingStatus");
        out->url = cb_tel_param(p, "RecordingUrl");
        if (e != CB_ERR_NONE)
                return e;
        if (out->recording_sid == NULL || out->call_sid == NULL || out->status == NULL) {
                *msg = "RecordingSid, CallSid and RecordingStatus are required";
                return CB_ERR_MISSING_FIELD;
        }
        if (!cb_twilio_sid_ok(out->recording_sid, "RE") || !cb_twilio_sid_ok(out->call_sid, "CA") ||
            !duration_ok(cb_tel_param(p, "RecordingDuration"), &out->duration_s) ||
            (out->url != NULL && !cb_choice_match("https://|http://", out->url, true))) {
                *msg = "RecordingSid, CallSid, RecordingUrl or RecordingDuration has the wrong "
                       "value";
                return CB_ERR_INVALID_FIELD;
        }
        out->completed = strcmp(out->status, "completed") == 0;
        if (out->completed && out->url == NULL) {
                *msg = "RecordingUrl is required";
                return CB_ERR_MISSING_FIELD;
        }
        return CB_ERR_NONE;
}

/* The bridge's document with <Start><Transcription> first ([twilio] live_transcription): its
 * callbacks name our call (when known) and which side the answered leg is, so the webhook
 * can tell the agent's words from the customer's. The URL ends in the connection overrides
 * as the status callbacks do: a segment answered 503 is delivered again, not lost. */
static int with_transcription(const struct twilio *tw, const struct cb_call_route *route,
                              const struct cb_buf *doc, struct cb_buf *out)
{
        const struct cb_config *cfg = tw->cfg;
        struct cb_buf url = {.max = 4096};
        size_t head = strlen(CB_TWIML_HEAD);
        char sep = '?';
        int rc = cb_buf_puts(&url, cfg->server.public_url) |
                 cb_buf_puts(&url, "/webhooks/twilio/transcription");

        if (route->call_id[0] != '\0') {
                rc |= cb_buf_printf(&url, "%ccall_id=%s", sep, route->call_id);
                sep = '&';
        }
        if (route->leg_is_agent)
                rc |= cb_buf_printf(&url, "%cleg=agent", sep);
        if (tw->fragment[0] != '\0')
                rc |= cb_buf_printf(&url, "#%s", tw->fragment);
        if (rc == 0 && doc->len >= head && memcmp(doc->data, CB_TWIML_HEAD, head) == 0)
                rc = cb_buf_puts(out, CB_TWIML_HEAD) | cb_twiml_start_transcription(out, url.data) |
                     cb_buf_append(out, doc->data + head, doc->len - head);
        else
                rc = -1;
        cb_buf_free(&url);
        return rc;
}

/* ---- real-time transcription callbacks (<Start><Transcription statusCallbackUrl>):
 * AccountSid, CallSid, TranscriptionSid, Timestamp, SequenceId, TranscriptionEvent; a
 * transcription-content event adds Track (inbound_track | outbound_track), Final (true |
 * false), LanguageCode, Stability and TranscriptionData, a JSON object
 * {"transcript": "...", "confidence": 0.97}; transcription-error adds TranscriptionError and
 * TranscriptionErrorCode. ---- */

#define TX_TEXT_MAX 16384 /* bytes of one segment's text; Twilio's utterances are far shorter */

static enum cb_tel_tx_event tx_event(const char *name)
{
        static const struct {
                const char *name;
                enum cb_tel_tx_event ev;
        } map[] = {{"transcription-started", CB_TEL_TX_STARTED},
                   {"transcription-content", CB_TEL_TX_CONTENT},
                   {"transcription-stopped", CB_TEL_TX_STOPPED},
                   {"transcription-error", CB_TEL_TX_ERROR}};

        for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
                if (strcmp(name, map[i].name) == 0)
                        return map[i].ev;
        return CB_TEL_TX_OTHER;
}

/* The content of a segment: track, order, finality and the text in TranscriptionData. */
static enum cb_err tx_content(const struct cb_tel_params *p, bool leg_is_agent,
                              struct cb_tel_transcription *out, const char **msg)
{
        const char *track = cb_tel_param(p, "Track"), *fin = cb_tel_param(p, "Final");
        const char *seq = cb_tel_param(p, "SequenceId"),
                   *data = cb_tel_param(p, "TranscriptionData");
        const json_t *text, *conf;
        long n = 0;

        if (track == NULL || fin == NULL || seq == NULL || data == NULL) {
                *msg = "Track, Final, SequenceId and TranscriptionData are required";
                return CB_ERR_MISSING_FIELD;
        }
        if (!cb_choice_match("inbound_track|outbound_track", track, false) ||
            !cb_choice_match("true|false", fin, false) || !cb_parse_long(seq, 0, 1L << 40, &n)) {
                *msg = "Track, Final or SequenceId has the wrong value";
                return CB_ERR_INVALID_FIELD;
        }
        out->data = json_loads(data, JSON_REJECT_DUPLICATES, NULL);
        text = json_object_get(out->data, "transcript");
        conf = json_object_get(out->data, "confidence");
        if (!json_is_string(text) || json_string_length(text) > TX_TEXT_MAX ||
            strlen(json_string_value(text)) != json_string_length(text) ||
            (conf != NULL && !json_is_number(conf))) {
                json_decref(out->data);
                out->data = NULL;
                *msg = "TranscriptionData must be a JSON object with a string transcript (at most "
                       "16 KiB) and a numeric confidence";
                return CB_ERR_INVALID_FIELD;
        }
        out->speaker = cb_tel_speaker_of(strcmp(track, "inbound_track") == 0, leg_is_agent);
        out->sequence = n;
        out->final = strcmp(fin, "true") == 0;
        out->text = json_string_value(text);
        out->confidence = conf ? json_number_value(conf) : -1;
        return CB_ERR_NONE;
}

enum cb_err cb_twilio_parse_transcription(void *self, const struct cb_tel_params *p,
                                          struct cb_tel_transcription *out, const char **msg)
{
        const char *event = cb_tel_param(p, "TranscriptionEvent");
        enum cb_err e = bad_call_id(p, msg);

        (void)self;
        memset(out, 0, sizeof(*out));
        out->call_id = p->call_id;
        out->call_sid = cb_tel_param(p, "CallSid");
        out->transcription_sid = cb_tel_param(p, "TranscriptionSid");
        out->event_name = event;
        if (e == CB_ERR_NONE && p->leg != NULL &&
            !cb_choice_match("agent|customer", p->leg, false)) {
                *msg = "leg must be agent or customer";
                e = CB_ERR_INVALID_QUERY;
        }
        if (e != CB_ERR_NONE)
                return e;
        if (out->call_sid == NULL || event == NULL) {
                *msg = "CallSid and TranscriptionEvent are required";
                return CB_ERR_MISSING_FIELD;
        }
        if (!cb_twilio_sid_ok(out->call_sid, "CA") ||
            (out->transcription_sid != NULL && !cb_twilio_sid_ok(out->transcription_sid, "GT"))) {
                *msg = "CallSid or TranscriptionSid has the wrong value";
                return CB_ERR_INVALID_FIELD;
        }
        out->event = tx_event(event);
        if (out->event == CB_TEL_TX_ERROR)
                out->error = cb_tel_param(p, "TranscriptionError");
        if (out->event != CB_TEL_TX_CONTENT)
                return CB_ERR_NONE;
        return tx_content(p, p->leg != NULL && strcmp(p->leg, "agent") == 0, out, msg);
}

int cb_twilio_render_route(void *self, const struct cb_call_route *route, struct cb_buf *out,
                           const char **content_type)
{
        const struct cb_config *cfg = ((const struct twilio *)self)->cfg;
        const char *call_id = route->call_id[0] ? route->call_id : NULL;
        struct cb_buf doc = {.max = out->max};
        int rc;

        *content_type = CB_TWIML_TYPE;
        if (route->kind == CB_CALL_ROUTE_CLIENT && route->target[0] != '\0' &&
            route->conference[0] != '\0')
                rc = cb_twiml_conference(&doc, route->conference, "customer");
        else if (route->kind == CB_CALL_ROUTE_CLIENT && route->target[0] != '\0')
                rc = cb_twiml_dial_client(&doc, route->target, call_id, cfg->twilio.ring_timeout_s);
        else if (route->kind == CB_CALL_ROUTE_NUMBER && route->target[0] != '\0')
                rc = cb_twiml_dial_number(&doc, route->target, cfg->twilio.caller_id,
                                          cfg->twilio.ring_timeout_s);
        else
                return cb_twiml_say_hangup(out, SORRY); /* nobody to talk to: no transcript */
        if (rc == 0)
                rc = cfg->twilio.live_transcription ? with_transcription(self, route, &doc, out)
                                                    : cb_buf_append(out, doc.data, doc.len);
        cb_buf_free(&doc);
        return rc;
}

/* ---- TwiML: the answer to a voice webhook. Every value is XML-escaped; identities and
 * numbers are checked by the callers as well. ---- */

#define HEAD CB_TWIML_HEAD
#define TAIL "</Response>"

/* Length of the UTF-8 sequence at `s` when it encodes a character XML 1.0 allows (§2.2 Char:
 * tab, line feed, carriage return, U+0020-U+D7FF, U+E000-U+FFFD, U+10000-U+10FFFF), else 0. */
static size_t xml_char_len(const unsigned char *s)
{
        unsigned char c = s[0];
        size_t n = c < 0x80                 ? 1
                   : c >= 0xc2 && c <= 0xdf ? 2
                   : c >= 0xe0 && c <= 0xef ? 3
                   : c >= 0xf0 && c <= 0xf4 ? 4
                                            : 0;
        uint32_t cp = n == 1 ? c : n == 2 ? c & 0x1f : n == 3 ? c & 0x0f : c & 0x07;

        for (size_t i = 1; i < n; i++) { /* stops at a NUL: it is no continuation byte */
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = cp << 6 | (s[i] & 0x3f);
        }
        if (n == 0 || (n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
                return 0; /* ill-formed or overlong */
        if ((cp < 0x20 && cp != 0x9 && cp != 0xa && cp != 0xd) || (cp >= 0xd800 && cp <= 0xdfff) ||
            cp == 0xfffe || cp == 0xffff)
                return 0;
        return n;
}

/* `s` as XML character data, for text and for double-quoted attribute values alike: markup
 * characters as entities; tab, line feed and carriage return as character references (so an
 * attribute keeps them and no parser folds them); a byte that is not part of a legal XML
 * character (a control character, ill-formed UTF-8) as U+FFFD, so the document always parses. */
static int put_escaped(struct cb_buf *out, const char *s)
{
        const unsigned char *p = (const unsigned char *)s;
        int rc = 0;

        while (*p != '\0') {
                size_t n = xml_char_len(p);
                const char *ent = NULL;

                switch (n == 1 ? *p : 0) {
                case '&':
                        ent = "&amp;";
                        break;
                case '<':
                        ent = "&lt;";
                        break;
                case '>':
                        ent = "&gt;";
                        break;
                case '"':
                        ent = "&quot;";
                        break;
                case '\'':
                        ent = "&apos;";
                        break;
                case '\t':
                        ent = "&#9;";
                        break;
                case '\n':
                        ent = "&#10;";
                        break;
                case '\r':
                        ent = "&#13;";
                        break;
                }
                if (ent != NULL)
                        rc |= cb_buf_puts(out, ent);
                else if (n > 0)
                        rc |= cb_buf_append(out, p, n);
                else
                        rc |= cb_buf_puts(out, "\xef\xbf\xbd"); /* U+FFFD */
                p += n > 0 ? n : 1;
        }
        return rc;
}

static int dial_open(struct cb_buf *out, long timeout_s, const char *caller_id)
{
        int rc =
            cb_buf_printf(out, HEAD "<Dial answerOnBridge=\"true\" timeout=\"%ld\"", timeout_s);

        if (caller_id != NULL) {
                rc |= cb_buf_puts(out, " callerId=\"");
                rc |= put_escaped(out, caller_id);
                rc |= cb_buf_puts(out, "\"");
        }
        return rc | cb_buf_puts(out, ">");
}

int cb_twiml_dial_client(struct cb_buf *out, const char *identity, const char *call_id,
                         long timeout_s)
{
        int rc = dial_open(out, timeout_s, NULL);

        rc |= cb_buf_puts(out, "<Client><Identity>");
        rc |= put_escaped(out, identity);
        rc |= cb_buf_puts(out, "</Identity>");
        if (call_id != NULL) {
                rc |= cb_buf_puts(out, "<Parameter name=\"call_id\" value=\"");
                rc |= put_escaped(out, call_id);
                rc |= cb_buf_puts(out, "\"/>");
        }
        return rc | cb_buf_puts(out, "</Client></Dial>" TAIL);
}

int cb_twiml_dial_number(struct cb_buf *out, const char *e164, const char *caller_id,
                         long timeout_s)
{
        int rc = dial_open(out, timeout_s, caller_id);

        rc |= cb_buf_puts(out, "<Number>");
        rc |= put_escaped(out, e164);
        return rc | cb_buf_puts(out, "</Number></Dial>" TAIL);
}

int cb_twiml_start_transcription(struct cb_buf *out, const char *callback_url)
{
        int rc = cb_buf_puts(out, "<Start><Transcription name=\"callbridge\" statusCallbackUrl=\"");

        rc |= put_escaped(out, callback_url);
        return rc | cb_buf_puts(out, "\" statusCallbackMethod=\"POST\" track=\"both_tracks\""
                                     " partialResults=\"true\"/></Start>");
}

int cb_twiml_conference(struct cb_buf *out, const char *name, const char *label)
{
        int rc = cb_buf_puts(out, HEAD "<Dial><Conference participantLabel=\"");

        rc |= put_escaped(out, label);
        rc |= cb_buf_puts(out, "\" startConferenceOnEnter=\"true\" endConferenceOnExit=\"true\""
                               " beep=\"false\">");
        rc |= put_escaped(out, name);
        return rc | cb_buf_puts(out, "</Conference></Dial>" TAIL);
}

int cb_twiml_say_hangup(struct cb_buf *out, const char *text)
{
        int rc = cb_buf_puts(out, HEAD "<Say>");

        rc |= put_escaped(out, text);
        return rc | cb_buf_puts(out, "</Say><Hangup/>" TAIL);
}
