/* The HubSpot provider's pure logic (src/crm/hs_*.c): how answers are classified and how long
 * a 429 waits, the rate-limit gauges and the low-priority hold, error bodies, the phone search
 * groups and the check of each hit, disposition GUIDs, the call's properties (title, HTML
 * body, numbers, owner), the upsert body, tasks and the transcript note's cut. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hs.h"

static const char *str(const json_t *o, const char *k)
{
        return json_string_value(json_object_get(o, k));
}

struct answer {
        long status;
        const char *policy;
        enum cb_result want;
        bool daily;
};

static void test_classify(void **state)
{
        static const struct answer answers[] = {
            {429, "TEN_SECONDLY_ROLLING", CB_RESULT_WAIT, false},
            {429, "DAILY", CB_RESULT_WAIT, true},
            {429, NULL, CB_RESULT_WAIT, false}, /* the search limit: no policy */
            {500, NULL, CB_RESULT_RETRY, false},
            {502, NULL, CB_RESULT_RETRY, false},
            {503, NULL, CB_RESULT_RETRY, false},
            {401, NULL, CB_RESULT_RETRY, false},
            {408, NULL, CB_RESULT_RETRY, false},
            {400, NULL, CB_RESULT_FAIL, false},
            {403, NULL, CB_RESULT_FAIL, false},
            {404, NULL, CB_RESULT_FAIL, false},
            {409, NULL, CB_RESULT_FAIL, false},
            {200, NULL, CB_RESULT_OK, false},
            {207, NULL, CB_RESULT_OK, false},
        };
        bool daily;

        (void)state;
        for (size_t i = 0; i < CB_ARRAY_LEN(answers); i++) {
                assert_int_equal(hs_classify(answers[i].status, answers[i].policy, &daily),
                                 answers[i].want);
                assert_int_equal(daily, answers[i].daily);
        }
}

static void test_wait_ms(void **state)
{
        (void)state;
        assert_int_equal(hs_wait_ms("TEN_SECONDLY_ROLLING", 10000, false), 10000);
        assert_int_equal(hs_wait_ms("TEN_SECONDLY_ROLLING", -1, false), 10000);
        assert_int_equal(hs_wait_ms(NULL, -1, false), 1000);
        assert_int_equal(hs_wait_ms("", 10000, false), 1000);
        /* DAILY waits far longer than the rolling window */
        assert_true(hs_wait_ms("DAILY", 10000, true) >= 60000);
}

static void test_limits_and_hold(void **state)
{
        struct hs hs;

        (void)state;
        memset(&hs, 0, sizeof(hs));
        atomic_store(&hs.rl_max, -1);
        atomic_store(&hs.rl_remaining, -1);
        atomic_store(&hs.rl_daily, -1);
        atomic_store(&hs.rl_daily_remaining, -1);
        assert_false(hs_budget_low(&hs)); /* nothing seen: nothing held */
        hs_limits_parse(&hs, "100", "50", "10000", "250000", "200000");
        assert_int_equal(atomic_load(&hs.rl_max), 100);
        assert_int_equal(atomic_load(&hs.rl_remaining), 50);
        assert_int_equal(atomic_load(&hs.rl_interval_ms), 10000);
        assert_int_equal(atomic_load(&hs.rl_daily_remaining), 200000);
        assert_false(hs_budget_low(&hs));
        hs_limits_parse(&hs, "100", "20", "10000", NULL, NULL);
        assert_true(hs_budget_low(&hs)); /* a fifth left */
        hs_limits_parse(&hs, "100", "90", "10000", "250000", "20000");
        assert_true(hs_budget_low(&hs)); /* under a tenth of the day */
        hs_limits_parse(&hs, "100", "x", NULL, "250000", "240000");
        assert_int_equal(atomic_load(&hs.rl_remaining), 90); /* garbage ignored */
        assert_false(hs_budget_low(&hs));
}

static void test_error_of(void **state)
{
        const char *category, *message, *property;
        json_t *top =
            json_pack("{s:s,s:s,s:s,s:[{s:s,s:{s:[s]}}]}", "status", "error", "message",
                      "Property values were not valid", "category", "VALIDATION_ERROR", "errors",
                      "message", "nope", "context", "propertyName", "callbridge_sentiment");
        json_t *batch = json_pack("{s:s,s:[{s:s,s:s}]}", "status", "COMPLETE", "errors", "category",
                                  "OBJECT_NOT_FOUND", "message", "gone");

        (void)state;
        hs_error_of(top, &category, &message, &property);
        assert_string_equal(category, "VALIDATION_ERROR");
        assert_string_equal(message, "Property values were not valid");
        assert_string_equal(property, "callbridge_sentiment");
        hs_error_of(batch, &category, &message, &property);
        assert_string_equal(category, "OBJECT_NOT_FOUND");
        assert_string_equal(message, "gone");
        assert_string_equal(property, "");
        hs_error_of(NULL, &category, &message, &property);
        assert_string_equal(category, "");
        json_decref(top);
        json_decref(batch);
}

/* The filter of group `g`: its property, operator, and whether `value` is among its values. */
static bool group_has(const json_t *body, size_t g, const char *prop, const char *op,
                      const char *value)
{
        const json_t *f = json_array_get(
            json_object_get(json_array_get(json_object_get(body, "filterGroups"), g), "filters"),
            0);
        const json_t *v;
        size_t i;

        if (f == NULL || strcmp(str(f, "propertyName"), prop) != 0 ||
            strcmp(str(f, "operator"), op))
                return false;
        if (strcmp(op, "EQ") == 0)
                return strcmp(str(f, "value"), value) == 0;
        json_array_foreach(json_object_get(f, "values"), i,
                           v) if (strcmp(json_string_value(v), value) == 0) return true;
        return false;
}

static void test_search_bodies(void **state)
{
        json_t *c = hs_contact_search_body("+14155550123");
        json_t *o = hs_company_search_body("+14155550123");
        const json_t *g;
        size_t i;

        (void)state;
        assert_non_null(c);
        assert_int_equal(json_array_size(json_object_get(c, "filterGroups")), 4);
        json_array_foreach(json_object_get(c, "filterGroups"), i, g)
            assert_true(json_array_size(json_object_get(g, "filters")) <= 6);
        assert_true(group_has(c, 0, "phone", "IN", "+14155550123"));
        assert_true(group_has(c, 0, "phone", "IN", "+1 415-555-0123"));
        assert_true(group_has(c, 0, "phone", "IN", "415-555-0123"));
        assert_true(group_has(c, 0, "phone", "IN", "4155550123"));
        assert_true(group_has(c, 1, "mobilephone", "IN", "+14155550123"));
        assert_true(group_has(c, 2, "hs_searchable_calculated_phone_number", "EQ", "4155550123"));
        assert_true(group_has(c, 3, "hs_searchable_calculated_mobile_number", "EQ", "4155550123"));
        assert_string_equal(str(json_array_get(json_object_get(c, "sorts"), 0), "direction"),
                            "DESCENDING");
        assert_true(group_has(o, 0, "phone", "IN", "+14155550123"));
        assert_true(group_has(o, 0, "phone", "IN", "4155550123"));
        assert_null(hs_contact_search_body("not a number"));
        json_decref(c);
        json_decref(o);
}

static void test_phone_is(void **state)
{
        (void)state;
        assert_true(hs_phone_is("+14155550123", "+14155550123", "US"));
        assert_true(hs_phone_is("(415) 555-0123", "+14155550123", "US"));
        assert_true(hs_phone_is("415.555.0123", "+14155550123", "US"));
        assert_true(hs_phone_is("+1 415 555 0123", "+14155550123", "GB"));
        assert_true(hs_phone_is("415-555-0123", "+14155550123", "GB")); /* digits end in it */
        assert_false(hs_phone_is("+1 415-555-0124", "+14155550123", "US"));
        assert_false(hs_phone_is("0123", "+14155550123", "US"));
        assert_false(hs_phone_is("", "+14155550123", "US"));
        assert_false(hs_phone_is(NULL, "+14155550123", "US"));
}

static void test_disposition(void **state)
{
        (void)state;
        assert_string_equal(hs_disposition_guid("Left voicemail", NULL),
                            "b2cf5968-551e-4856-9783-52b3da59a7d0");
        assert_string_equal(hs_disposition_guid("no_answer", NULL),
                            "73a0d17f-1163-4015-bdd5-ec830791da20");
        assert_string_equal(hs_disposition_guid("WRONG-NUMBER", NULL),
                            "17b47fee-58de-441e-a44c-c6300d46f273");
        assert_string_equal(hs_disposition_guid(NULL, "Busy"),
                            "9d9162e7-6cf3-4944-bf63-4dff82258764");
        /* a disposition HubSpot has no outcome for: the call's outcome */
        assert_string_equal(hs_disposition_guid("callback", "Answered"),
                            "f240bbac-87c9-4f6e-bf70-924b57d47db7");
        assert_string_equal(hs_disposition_guid("", "Missed"),
                            "73a0d17f-1163-4015-bdd5-ec830791da20");
        assert_null(hs_disposition_guid("callback", NULL));
        assert_null(hs_disposition_guid(NULL, NULL));
        assert_string_equal(hs_call_status(CB_CALL_NO_ANSWER), "NO_ANSWER");
        assert_string_equal(hs_call_status(CB_CALL_IN_PROGRESS), "IN_PROGRESS");
        assert_string_equal(hs_call_status(CB_CALL_INITIATED), "CONNECTING");
}

static struct cb_call a_call(void)
{
        struct cb_call c;

        memset(&c, 0, sizeof(c));
        strcpy(c.id, "3f1c2b9e-0d7a-4c55-9a51-6e2f0c9b1d24");
        strcpy(c.agent, "alice");
        strcpy(c.agent_display, "Alice Agent");
        c.direction = CB_CALL_OUTBOUND;
        c.status = CB_CALL_COMPLETED;
        strcpy(c.to, "+14155550123");
        strcpy(c.from, "+14155550100");
        strcpy(c.party_name, "Grace <Hopper>");
        strcpy(c.party_company, "Acme & Co");
        c.duration_s = 180;
        strcpy(c.disposition, "vm");
        strcpy(c.notes, "Call back <soon>\nsecond line");
        strcpy(c.crm_owner_id, "12345");
        strcpy(c.recording_id, "0b9e8a52-5b8e-4a8c-9a43-2f4bb7f2d001");
        c.created_us = 1796640000000000LL; /* 2026-12-07T10:40:00Z */
        return c;
}

static void test_call_properties(void **state)
{
        struct cb_config cfg;
        struct cb_call c = a_call();
        char title[256];
        json_t *p;
        const char *body;

        (void)state;
        memset(&cfg, 0, sizeof(cfg));
        cfg.server.public_url = "https://cb.example.com";
        cfg.agents.dispositions = "vm:Left voicemail,done:Done";
        p = hs_call_properties(&cfg, &c, "All <good>");
        assert_non_null(p);
        cb_calls_record_subject(&c, title, sizeof(title));
        assert_string_equal(str(p, "hs_call_title"), title);
        assert_string_equal(str(p, "hs_timestamp"), "2026-12-07T10:40:00.000Z");
        assert_string_equal(str(p, "hs_call_duration"), "180000");
        assert_string_equal(str(p, "hs_call_direction"), "OUTBOUND");
        assert_string_equal(str(p, "hs_call_status"), "COMPLETED");
        assert_string_equal(str(p, "hs_call_from_number"), "+14155550100");
        assert_string_equal(str(p, "hs_call_to_number"), "+14155550123");
        assert_string_equal(str(p, "hs_call_disposition"), "b2cf5968-551e-4856-9783-52b3da59a7d0");
        assert_string_equal(str(p, "hubspot_owner_id"), "12345");
        assert_string_equal(str(p, "hs_call_recording_url"),
                            "https://cb.example.com/r/0b9e8a52-5b8e-4a8c-9a43-2f4bb7f2d001");
        body = str(p, "hs_call_body");
        assert_non_null(strstr(body, "<p>Outbound call<br>From: +1 415-555-0100"));
        assert_non_null(strstr(body, "<br>Agent: Alice Agent"));
        assert_non_null(strstr(body, "With: Grace &lt;Hopper&gt; (Acme &amp; Co)"));
        assert_non_null(strstr(body, "<br>Duration: 3 min"));
        assert_non_null(strstr(body, "<br>Disposition: Left voicemail"));
        assert_non_null(strstr(body, "<a href=\"https://cb.example.com/r/"));
        assert_non_null(strstr(body, "All &lt;good&gt;"));
        assert_non_null(strstr(body, "Call back &lt;soon&gt;<br>second line"));
        assert_null(strstr(body, "<soon>"));
        json_decref(p);

        /* A live call with a Salesforce owner id and no number: no owner, no duration. */
        c.status = CB_CALL_IN_PROGRESS;
        c.duration_s = -1;
        c.disposition[0] = '\0';
        strcpy(c.crm_owner_id, "005000000000001AAA");
        strcpy(c.from, "unknown");
        p = hs_call_properties(&cfg, &c, NULL);
        assert_null(json_object_get(p, "hubspot_owner_id"));
        assert_null(json_object_get(p, "hs_call_duration"));
        assert_null(json_object_get(p, "hs_call_from_number"));
        assert_null(json_object_get(p, "hs_call_disposition"));
        assert_string_equal(str(p, "hs_call_status"), "IN_PROGRESS");
        json_decref(p);
}

static void test_attach_properties(void **state)
{
        struct cb_call c = a_call();
        json_t *fields =
            json_pack("{s:f,s:s,s:[s,s],s:[s,s],s:s,s:s}", "sentiment", 3.5, "sentiment_label",
                      "positive", "tags", "vip", "renewal", "keywords", "price", "contract",
                      "recording_url", "https://x/r/1", "disposition", "Busy");
        json_t *p = json_object();

        (void)state;
        hs_attach_properties(&c, fields, p);
        assert_string_equal(str(p, "callbridge_sentiment"), "1.000"); /* clamped */
        assert_string_equal(str(p, "callbridge_tags"), "vip; renewal");
        assert_string_equal(str(p, "callbridge_keywords"), "price, contract");
        assert_string_equal(str(p, "hs_call_recording_url"), "https://x/r/1");
        /* the agent gave a disposition: a suggested one does not override it */
        assert_null(json_object_get(p, "hs_call_disposition"));
        c.disposition[0] = '\0';
        hs_attach_properties(&c, fields, p);
        assert_string_equal(str(p, "hs_call_disposition"), "9d9162e7-6cf3-4944-bf63-4dff82258764");
        json_decref(p);
        json_decref(fields);
}

static void test_upsert_and_task(void **state)
{
        struct cb_call c = a_call();
        json_t *props = json_pack("{s:s}", "hs_call_title", "x");
        json_t *b = hs_upsert_body("callbridge_call_id", c.id, props);
        json_t *in = json_array_get(json_object_get(b, "inputs"), 0);
        json_t *task = json_pack("{s:s,s:s,s:s,s:s}", "subject", "Call back", "description",
                                 "about the quote", "priority", "High", "due_date", "2026-12-09");
        json_t *t;

        (void)state;
        assert_int_equal(json_array_size(json_object_get(b, "inputs")), 1);
        assert_string_equal(str(in, "idProperty"), "callbridge_call_id");
        assert_string_equal(str(in, "id"), c.id);
        assert_string_equal(str(json_object_get(in, "properties"), "hs_call_title"), "x");
        assert_string_equal(hs_task_priority("high"), "HIGH");
        assert_string_equal(hs_task_priority("Low"), "LOW");
        assert_string_equal(hs_task_priority("Normal"), "MEDIUM");
        assert_string_equal(hs_task_priority(NULL), "MEDIUM");
        setenv("TZ", "UTC", 1);
        tzset();
        t = hs_task_properties(&c, task);
        assert_string_equal(str(t, "hs_task_subject"), "Call back");
        assert_string_equal(str(t, "hs_task_body"), "about the quote");
        assert_string_equal(str(t, "hs_task_priority"), "HIGH");
        assert_string_equal(str(t, "hs_task_status"), "NOT_STARTED");
        assert_string_equal(str(t, "hs_task_type"), "CALL");
        assert_string_equal(str(t, "hs_timestamp"), "2026-12-09T09:00:00.000Z");
        assert_string_equal(str(t, "hubspot_owner_id"), "12345");
        json_decref(t);
        json_decref(task);
        json_decref(b);
        json_decref(props);
}

/* Characters (not bytes) of UTF-8 text. */
static size_t chars(const char *s)
{
        size_t n = 0;

        for (; *s; s++)
                n += ((unsigned char)*s & 0xC0) != 0x80;
        return n;
}

static void test_note_body(void **state)
{
        struct cb_call c = a_call();
        size_t big = 200000;
        char *text = malloc(big + 1);
        json_t *fields;
        char *body;

        (void)state;
        for (size_t i = 0; i + 2 <= big; i += 2)
                memcpy(text + i, "\xC3\xA9", 2); /* é */
        text[big] = '\0';
        fields = json_pack("{s:s,s:s,s:f,s:[s],s:[{s:s,s:s}]}", "transcript", text, "summary",
                           "Asked <for> a quote", "sentiment", 0.4, "keywords", "quote", "entities",
                           "type", "money", "text", "$5,000");
        body = hs_note_body(&c, fields);
        assert_non_null(body);
        assert_true(chars(body) <= 65536);
        assert_non_null(strstr(body, "Asked &lt;for&gt; a quote"));
        assert_non_null(strstr(body, "money: $5,000"));
        assert_non_null(strstr(body, "<b>Transcript</b>"));
        assert_non_null(strstr(body, "(cut)"));
        free(body);
        json_decref(fields);
        fields = json_pack("{s:s}", "transcript", "Agent: hello\nCaller: hi & bye");
        body = hs_note_body(&c, fields);
        assert_non_null(strstr(body, "Agent: hello<br>Caller: hi &amp; bye</p>"));
        assert_null(strstr(body, "(cut)"));
        free(body);
        json_decref(fields);
        free(text);
}

static void test_owner_ids(void **state)
{
        char out[CB_CRM_USER_ID_MAX + 1];

        (void)state;
        assert_true(cb_crm_hubspot.user_id_canon("77001", out, sizeof(out)));
        assert_string_equal(out, "77001");
        assert_false(cb_crm_hubspot.user_id_canon("005000000000001AAA", out, sizeof(out)));
        assert_false(cb_crm_hubspot.user_id_canon("1234567890123", out, sizeof(out)));
        assert_false(cb_crm_hubspot.user_id_canon("", out, sizeof(out)));
        assert_false(cb_crm_hubspot.user_id_canon("12 34", out, sizeof(out)));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_classify),          cmocka_unit_test(test_wait_ms),
            cmocka_unit_test(test_limits_and_hold),   cmocka_unit_test(test_error_of),
            cmocka_unit_test(test_search_bodies),     cmocka_unit_test(test_phone_is),
            cmocka_unit_test(test_disposition),       cmocka_unit_test(test_call_properties),
            cmocka_unit_test(test_attach_properties), cmocka_unit_test(test_upsert_and_task),
            cmocka_unit_test(test_note_body),         cmocka_unit_test(test_owner_ids),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
