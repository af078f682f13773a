/* Twilio's webhook parameters (src/telephony/twilio_webhook.c): what each callback must carry
 * and the exact refusal (error and message, which the handlers answer as 400/422) for every
 * missing or wrong parameter; the typed reports; the voice answer's TwiML for each route. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "twilio_int.h"

#define CA "CA0123456789abcdef0123456789abcdef"
#define RE "RE0123456789abcdef0123456789abcdef"
#define ID "0b3c1f9e-4d2a-4b8e-9c7d-1a2b3c4d5e6f"
#define RU "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/" RE

enum kind { STATUS, VOICE, RECORDING };

struct pcase {
        enum kind kind;
        const char *form;    /* urlencoded body */
        const char *call_id; /* ?call_id= */
        const char *agent;   /* ?agent= */
        enum cb_err err;
        const char *msg; /* NULL when accepted */
};

#define MISSING CB_ERR_MISSING_FIELD
#define INVALID CB_ERR_INVALID_FIELD
#define QUERY   CB_ERR_INVALID_QUERY
#define OK      CB_ERR_NONE

static const char *const st_missing = "CallSid and CallStatus are required";
static const char *const st_wrong = "CallSid, CallStatus or CallDuration has the wrong value";
static const char *const vo_wrong = "CallSid, From or To is wrong";
static const char *const vo_bridge = "call_id and agent must name our call and its agent";
static const char *const re_missing = "RecordingSid, CallSid and RecordingStatus are required";
static const char *const re_wrong =
    "RecordingSid, CallSid, RecordingUrl or RecordingDuration has the wrong value";
static const char *const bad_id = "call_id is not a call id";

static const struct pcase cases[] = {
    {STATUS, "CallSid=" CA "&CallStatus=completed&CallDuration=42", NULL, NULL, OK, NULL},
    {STATUS, "CallSid=" CA "&CallStatus=ringing", ID, NULL, OK, NULL},
    {STATUS, "CallSid=" CA "&CallStatus=completed", "nope", NULL, QUERY, bad_id},
    {STATUS, "CallStatus=completed", NULL, NULL, MISSING, st_missing},
    {STATUS, "CallSid=" CA, NULL, NULL, MISSING, st_missing},
    {STATUS, "CallSid=" CA "&CallStatus=done", NULL, NULL, INVALID, st_wrong},
    {STATUS, "CallSid=" CA "&CallStatus=Completed", NULL, NULL, INVALID, st_wrong},
    {STATUS, "CallSid=RE01&CallStatus=completed", NULL, NULL, INVALID, st_wrong},
    {STATUS, "CallSid=CA01%2F2&CallStatus=completed", NULL, NULL, INVALID, st_wrong},
    {STATUS, "CallSid=" CA "&CallStatus=completed&CallDuration=-1", NULL, NULL, INVALID, st_wrong},
    {STATUS, "CallSid=" CA "&CallStatus=completed&CallDuration=604801", NULL, NULL, INVALID,
     st_wrong},
    {STATUS, "CallSid=" CA "&CallStatus=completed&CallDuration=12s", NULL, NULL, INVALID, st_wrong},
    {VOICE, "CallSid=" CA "&From=%2B14155550100&To=%2B14155550111", NULL, NULL, OK, NULL},
    {VOICE, "CallSid=" CA "&From=client%3Aalice&To=4155550123", NULL, NULL, OK, NULL},
    {VOICE, "CallSid=" CA, ID, "alice", OK, NULL},
    {VOICE, "From=%2B14155550100", NULL, NULL, MISSING, "CallSid is required"},
    {VOICE, "CallSid=XX0123", NULL, NULL, INVALID, vo_wrong},
    {VOICE, "CallSid=" CA "&From=0123456789012345678901234567890123456789012345678901234567890123",
     NULL, NULL, INVALID, vo_wrong},
    {VOICE, "CallSid=" CA "&To=0123456789012345678901234567890123456789012345678901234567890123",
     NULL, NULL, INVALID, vo_wrong},
    {VOICE, "CallSid=" CA, "nope", "alice", QUERY, vo_bridge},
    {VOICE, "CallSid=" CA, ID, NULL, QUERY, vo_bridge},
    {VOICE, "CallSid=" CA, ID, "al ice", QUERY, vo_bridge},
    {VOICE, "CallSid=" CA "&From=client%3Aal%20ice", NULL, NULL, INVALID,
     "From is not a client identity"},
    {VOICE, "CallSid=" CA "&From=client%3A", NULL, NULL, INVALID, "From is not a client identity"},
    {RECORDING, "CallSid=" CA "&RecordingSid=" RE "&RecordingStatus=completed&RecordingUrl=" RU,
     NULL, NULL, OK, NULL},
    {RECORDING, "CallSid=" CA "&RecordingSid=" RE "&RecordingStatus=failed", ID, NULL, OK, NULL},
    {RECORDING, "CallSid=" CA "&RecordingSid=" RE "&RecordingStatus=completed", NULL, NULL, MISSING,
     "RecordingUrl is required"},
    {RECORDING, "CallSid=" CA "&RecordingSid=" RE "&RecordingStatus=completed", "x", NULL, QUERY,
     bad_id},
    {RECORDING, "RecordingSid=" RE "&RecordingStatus=completed", NULL, NULL, MISSING, re_missing},
    {RECORDING, "CallSid=" CA "&RecordingStatus=completed", NULL, NULL, MISSING, re_missing},
    {RECORDING, "CallSid=" CA "&RecordingSid=" RE, NULL, NULL, MISSING, re_missing},
    {RECORDING, "CallSid=" RE "&RecordingSid=" RE "&RecordingStatus=completed", NULL, NULL, INVALID,
     re_wrong},
    {RECORDING, "CallSid=" CA "&RecordingSid=" CA "&RecordingStatus=completed", NULL, NULL, INVALID,
     re_wrong},
    {RECORDING,
     "CallSid=" CA "&RecordingSid=" RE "&RecordingStatus=completed&RecordingUrl=ftp%3A%2F%2Fx",
     NULL, NULL, INVALID, re_wrong},
    {RECORDING, "CallSid=" CA "&RecordingSid=" RE "&RecordingStatus=failed&RecordingDuration=x",
     NULL, NULL, INVALID, re_wrong},
};

static enum cb_err parse(const struct pcase *c, struct cb_form *form, const json_t *json,
                         const char **msg)
{
        struct cb_tel_params p = {
            .form = json ? NULL : form, .json = json, .call_id = c->call_id, .agent = c->agent};
        struct cb_tel_status st;
        struct cb_tel_voice vo;
        struct cb_tel_recording rec;

        *msg = NULL;
        switch (c->kind) {
        case STATUS:
                return cb_telephony_twilio.parse_status(NULL, &p, &st, msg);
        case VOICE:
                return cb_telephony_twilio.parse_voice(NULL, &p, &vo, msg);
        default:
                return cb_telephony_twilio.parse_recording(NULL, &p, &rec, msg);
        }
}

/* Every case, as a form and as the same parameters in a JSON body. */
static void test_refusals(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                const struct pcase *c = &cases[i];
                struct cb_form form = {0};
                json_t *json = json_object();
                const char *msg;
                enum cb_err e;

                assert_int_equal(cb_form_parse(&form, c->form, strlen(c->form)), 0);
                for (size_t k = 0; k < form.n; k++)
                        json_object_set_new(json, form.p[k].name, json_string(form.p[k].value));
                for (int as_json = 0; as_json < 2; as_json++) {
                        e = parse(c, &form, as_json ? json : NULL, &msg);
                        if (e != c->err || (c->msg && (!msg || strcmp(msg, c->msg) != 0)))
                                fail_msg("case %zu (%s%s): %d %s", i, c->form,
                                         as_json ? ", JSON" : "", e, msg ? msg : "(no message)");
                }
                json_decref(json);
                cb_form_free(&form);
        }
}

static void form_of(struct cb_form *form, const char *s)
{
        memset(form, 0, sizeof(*form));
        assert_int_equal(cb_form_parse(form, s, strlen(s)), 0);
}

static void test_status_report(void **state)
{
        struct cb_form form;
        struct cb_tel_params p = {.form = &form, .call_id = ID};
        struct cb_tel_status st;
        const char *msg;

        (void)state;
        form_of(&form, "CallSid=" CA "&CallStatus=no-answer&Direction=inbound&From=%2B1415555"
                       "0100&To=%2B14155550111");
        assert_int_equal(cb_telephony_twilio.parse_status(NULL, &p, &st, &msg), CB_ERR_NONE);
        assert_int_equal(st.status, CB_CALL_NO_ANSWER);
        assert_int_equal(st.duration_s, -1);
        assert_true(st.inbound);
        assert_string_equal(st.call_id, ID);
        assert_string_equal(st.call_sid, CA);
        assert_string_equal(st.from, "+14155550100");
        assert_string_equal(st.to, "+14155550111");
        cb_form_free(&form);
        form_of(&form, "CallSid=" CA "&CallStatus=completed&Direction=outbound-api&CallDuration=7");
        assert_int_equal(cb_telephony_twilio.parse_status(NULL, &p, &st, &msg), CB_ERR_NONE);
        assert_int_equal(st.status, CB_CALL_COMPLETED);
        assert_int_equal(st.duration_s, 7);
        assert_false(st.inbound);
        assert_string_equal(st.direction, "outbound-api");
        assert_null(st.from);
        cb_form_free(&form);
}

static void test_voice_request(void **state)
{
        struct cb_form form;
        struct cb_tel_params p = {.form = &form};
        struct cb_tel_voice v;
        const char *msg;

        (void)state;
        form_of(&form, "CallSid=" CA "&From=client%3Aalice&To=4155550123");
        assert_int_equal(cb_telephony_twilio.parse_voice(NULL, &p, &v, &msg), CB_ERR_NONE);
        assert_string_equal(v.client, "alice");
        assert_null(v.call_id);
        cb_form_free(&form);
        form_of(&form, "CallSid=" CA "&From=%2B14155550100");
        assert_int_equal(cb_telephony_twilio.parse_voice(NULL, &p, &v, &msg), CB_ERR_NONE);
        assert_null(v.client);
        assert_string_equal(v.from, "+14155550100");
        assert_null(v.to);
        p.call_id = ID; /* the bridge of our click-to-dial call: From does not matter */
        p.agent = "bob";
        assert_int_equal(cb_telephony_twilio.parse_voice(NULL, &p, &v, &msg), CB_ERR_NONE);
        assert_string_equal(v.call_id, ID);
        assert_string_equal(v.agent, "bob");
        cb_form_free(&form);
}

static void test_recording_report(void **state)
{
        struct cb_form form;
        struct cb_tel_params p = {.form = &form};
        struct cb_tel_recording r;
        const char *msg;

        (void)state;
        form_of(&form, "CallSid=" CA "&RecordingSid=" RE
                       "&RecordingStatus=completed&RecordingDuration=12&RecordingUrl=" RU);
        assert_int_equal(cb_telephony_twilio.parse_recording(NULL, &p, &r, &msg), CB_ERR_NONE);
        assert_true(r.completed);
        assert_int_equal(r.duration_s, 12);
        assert_string_equal(r.url, RU);
        assert_string_equal(r.recording_sid, RE);
        cb_form_free(&form);
        form_of(&form, "CallSid=" CA "&RecordingSid=" RE "&RecordingStatus=absent");
        assert_int_equal(cb_telephony_twilio.parse_recording(NULL, &p, &r, &msg), CB_ERR_NONE);
        assert_false(r.completed);
        assert_string_equal(r.status, "absent");
        assert_int_equal(r.duration_s, -1);
        cb_form_free(&form);
}

/* Twilio's tracks to speakers: inbound is the leg that started the transcription (the
 * customer's, or the agent's softphone dialling out), outbound the other party. */
static void test_speaker_mapping(void **state)
{
        (void)state;
        assert_int_equal(cb_tel_speaker_of(true, false), CB_TEL_SPEAKER_CUSTOMER);
        assert_int_equal(cb_tel_speaker_of(false, false), CB_TEL_SPEAKER_AGENT);
        assert_int_equal(cb_tel_speaker_of(true, true), CB_TEL_SPEAKER_AGENT);
        assert_int_equal(cb_tel_speaker_of(false, true), CB_TEL_SPEAKER_CUSTOMER);
        assert_string_equal(cb_tel_speaker_name(CB_TEL_SPEAKER_AGENT), "agent");
        assert_string_equal(cb_tel_speaker_name(CB_TEL_SPEAKER_CUSTOMER), "customer");
}

#define TX_CONTENT                                                                                 \
        "CallSid=" CA "&TranscriptionEvent=transcription-content&SequenceId=7&Final=true"          \
        "&Track=outbound_track&TranscriptionData="

/* A transcription callback: the typed report, or the refusal with its message. */
struct txcase {
        const char *form;
        const char *leg; /* ?leg= */
        enum cb_err err;
};

static const struct txcase tx_cases[] = {
    {TX_CONTENT "%7B%22transcript%22%3A%22hi%22%7D", NULL, OK},
    {TX_CONTENT "%7B%22transcript%22%3A%22hi%22%2C%22confidence%22%3A0.5%7D", "agent", OK},
    {TX_CONTENT "%7B%22transcript%22%3A%22hi%22%7D", "boss", QUERY},
    {TX_CONTENT "%7B%22transcript%22%3A5%7D", NULL, INVALID},
    {TX_CONTENT "%7Bnot", NULL, INVALID},
    {TX_CONTENT "%5B%5D", NULL, INVALID},
    {TX_CONTENT "%7B%22transcript%22%3A%22a%22%2C%22confidence%22%3A%22x%22%7D", NULL, INVALID},
    {TX_CONTENT "%7B%22transcript%22%3A%22a%5Cu0000b%22%7D", NULL, INVALID}, /* a NUL inside */
    {"CallSid=" CA "&TranscriptionEvent=transcription-content&SequenceId=7&Final=true"
     "&Track=outbound_track",
     NULL, MISSING},
    {"CallSid=" CA "&TranscriptionEvent=transcription-content&SequenceId=x&Final=true"
     "&Track=outbound_track&TranscriptionData=%7B%7D",
     NULL, INVALID},
    {"CallSid=" CA "&TranscriptionEvent=transcription-content&SequenceId=1&Final=maybe"
     "&Track=outbound_track&TranscriptionData=%7B%7D",
     NULL, INVALID},
    {"CallSid=" CA "&TranscriptionEvent=transcription-started", NULL, OK},
    {"CallSid=" CA "&TranscriptionEvent=transcription-started&TranscriptionSid=XX", NULL, INVALID},
    {"CallSid=" CA "&TranscriptionEvent=who-knows", NULL, OK},
    {"TranscriptionEvent=transcription-stopped", NULL, MISSING},
    {"CallSid=" CA, NULL, MISSING},
};

static void test_transcription_refusals(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(tx_cases) / sizeof(tx_cases[0]); i++) {
                struct cb_form form;
                struct cb_tel_params p = {.form = &form, .leg = tx_cases[i].leg};
                struct cb_tel_transcription t;
                const char *msg = NULL;
                enum cb_err e;

                form_of(&form, tx_cases[i].form);
                e = cb_telephony_twilio.parse_transcription(NULL, &p, &t, &msg);
                if (e != tx_cases[i].err || (e != OK && msg == NULL))
                        fail_msg("case %zu (%s): %d %s", i, tx_cases[i].form, e,
                                 msg ? msg : "(no message)");
                if (e != OK)
                        assert_null(t.data); /* nothing held on a refusal */
                json_decref(t.data);
                cb_form_free(&form);
        }
}

static void test_transcription_report(void **state)
{
        struct cb_form form;
        struct cb_tel_params p = {.form = &form, .call_id = ID};
        struct cb_tel_transcription t;
        const char *msg;

        (void)state;
        form_of(&form,
                TX_CONTENT "%7B%22transcript%22%3A%22Hello%20there%22%2C%22confidence"
                           "%22%3A0.93%7D&TranscriptionSid=GT0123456789abcdef0123456789abcdef");
        assert_int_equal(cb_telephony_twilio.parse_transcription(NULL, &p, &t, &msg), OK);
        assert_int_equal(t.event, CB_TEL_TX_CONTENT);
        assert_string_equal(t.call_id, ID);
        assert_string_equal(t.text, "Hello there");
        assert_int_equal(t.sequence, 7);
        assert_true(t.final);
        assert_true(t.confidence > 0.92 && t.confidence < 0.94);
        assert_int_equal(t.speaker, CB_TEL_SPEAKER_AGENT); /* outbound of the customer's leg */
        json_decref(t.data);
        p.leg = "agent"; /* the softphone's own leg: its outbound track is the customer */
        assert_int_equal(cb_telephony_twilio.parse_transcription(NULL, &p, &t, &msg), OK);
        assert_int_equal(t.speaker, CB_TEL_SPEAKER_CUSTOMER);
        json_decref(t.data);
        cb_form_free(&form);
        form_of(&form, "CallSid=" CA "&TranscriptionEvent=transcription-error"
                       "&TranscriptionError=engine%20down");
        assert_int_equal(cb_telephony_twilio.parse_transcription(NULL, &p, &t, &msg), OK);
        assert_int_equal(t.event, CB_TEL_TX_ERROR);
        assert_string_equal(t.error, "engine down");
        assert_null(t.data);
        cb_form_free(&form);
}

#define HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>"

/* [twilio] live_transcription: the bridge starts the transcription first. */
static void test_render_live(void **state)
{
        struct cb_config cfg = {0};
        struct twilio tw = {.cfg = &cfg};
        struct cb_call_route client = {
            .kind = CB_CALL_ROUTE_CLIENT, .target = "alice", .call_id = ID};
        struct cb_call_route out_dial = {
            .kind = CB_CALL_ROUTE_NUMBER, .target = "+14155550199", .leg_is_agent = true};
        struct cb_call_route empty = {.kind = CB_CALL_ROUTE_NUMBER};
        struct cb_buf out = {.max = 8192};
        const char *type = NULL;

        (void)state;
        cfg.twilio.ring_timeout_s = 25;
        cfg.twilio.live_transcription = true;
        cfg.server.public_url = "https://cb.example.com";
        assert_int_equal(cb_telephony_twilio.render_route(&tw, &client, &out, &type), 0);
        assert_string_equal(out.data,
                            HEAD "<Start><Transcription name=\"callbridge\" statusCallbackUrl=\""
                                 "https://cb.example.com/webhooks/twilio/transcription?call_id=" ID
                                 "\" statusCallbackMethod=\"POST\" track=\"both_tracks\" "
                                 "partialResults=\"true\"/></Start><Dial answerOnBridge=\"true\" "
                                 "timeout=\"25\"><Client><Identity>alice</Identity><Parameter "
                                 "name=\"call_id\" value=\"" ID "\"/></Client></Dial></Response>");
        out.len = 0;
        assert_int_equal(cb_telephony_twilio.render_route(&tw, &out_dial, &out, &type), 0);
        assert_non_null(strstr(out.data, "/webhooks/twilio/transcription?leg=agent\""));
        out.len = 0;
        assert_int_equal(cb_telephony_twilio.render_route(&tw, &empty, &out, &type), 0);
        assert_null(strstr(out.data, "<Start>")); /* nobody to talk to */
        cb_buf_free(&out);
}

static void test_render_routes(void **state)
{
        struct cb_config cfg = {0};
        struct twilio tw = {.cfg = &cfg};
        struct cb_call_route client = {
            .kind = CB_CALL_ROUTE_CLIENT, .target = "alice", .call_id = ID};
        struct cb_call_route number = {.kind = CB_CALL_ROUTE_NUMBER, .target = "+14155550199"};
        struct cb_call_route empty = {.kind = CB_CALL_ROUTE_NUMBER};
        struct cb_buf out = {.max = 8192};
        const char *type = NULL;

        (void)state;
        cfg.twilio.ring_timeout_s = 25;
        cfg.twilio.caller_id = "+14155550100";
        assert_int_equal(cb_telephony_twilio.render_route(&tw, &client, &out, &type), 0);
        assert_string_equal(type, "text/xml; charset=utf-8");
        assert_string_equal(out.data, HEAD "<Dial answerOnBridge=\"true\" timeout=\"25\"><Client>"
                                           "<Identity>alice</Identity><Parameter name=\"call_id\" "
                                           "value=\"" ID "\"/></Client></Dial></Response>");
        out.len = 0;
        assert_int_equal(cb_telephony_twilio.render_route(&tw, &number, &out, &type), 0);
        assert_string_equal(out.data, HEAD "<Dial answerOnBridge=\"true\" timeout=\"25\" "
                                           "callerId=\"+14155550100\"><Number>+14155550199"
                                           "</Number></Dial></Response>");
        out.len = 0;
        assert_int_equal(cb_telephony_twilio.render_route(&tw, &empty, &out, &type), 0);
        assert_non_null(strstr(out.data, "<Say>Sorry, nobody can take your call right now."));
        assert_non_null(strstr(out.data, "</Say><Hangup/></Response>"));
        cb_buf_free(&out);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_refusals),
            cmocka_unit_test(test_status_report),
            cmocka_unit_test(test_voice_request),
            cmocka_unit_test(test_recording_report),
            cmocka_unit_test(test_render_routes),
            cmocka_unit_test(test_speaker_mapping),
            cmocka_unit_test(test_transcription_refusals),
            cmocka_unit_test(test_transcription_report),
            cmocka_unit_test(test_render_live),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
