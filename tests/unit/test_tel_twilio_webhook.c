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

#define HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>"

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
            cmocka_unit_test(test_refusals),      cmocka_unit_test(test_status_report),
            cmocka_unit_test(test_voice_request), cmocka_unit_test(test_recording_report),
            cmocka_unit_test(test_render_routes),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
