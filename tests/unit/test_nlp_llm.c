/* The LLM engine's pure half (src/nlp/llm_schema.c): the request's strict json_schema with the
 * tag set, the checks of an answer (a good one, malformed content, a missing field, a wrong
 * type, a tag outside the set, a refusal, usage tokens), the overlay on the rules' analysis
 * (follow-ups from action items, entities) and the split of a long transcript. Also
 * cb_nlp_analyse_call without the engine (the rules as they are) and with an unreachable
 * server (the rules' analysis, marked as a fallback). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "callbridge/nlp_llm.h"

/* The shipped rules and lexicon (config/), from $CB_SOURCE_DIR or beside this file. */
static struct cb_nlp_rules *shipped_rules(void)
{
        const char *env = getenv("CB_SOURCE_DIR");
        const char *slash = strrchr(__FILE__, '/');
        char root[4096], path[4200], err[1024];
        struct cb_nlp_rules *r;

        if (env != NULL && env[0] != '\0')
                snprintf(root, sizeof(root), "%s", env);
        else
                snprintf(root, sizeof(root), "%.*s/../..", (int)(slash - __FILE__), __FILE__);
        snprintf(path, sizeof(path), "%s/config/sentiment-lexicon.tsv", root);
        cb_nlp_set_lexicon(path);
        snprintf(path, sizeof(path), "%s/config/nlp-rules.json", root);
        r = cb_nlp_rules_load(path, err, sizeof(err));
        if (r == NULL)
                fprintf(stderr, "%s\n", err);
        assert_non_null(r);
        return r;
}

static const char GOOD[] =
    "{\"summary\":\"Ada wants a demo.\",\"sentiment\":{\"score\":0.7,\"label\":\"positive\","
    "\"reason\":\"She loves it.\"},\"intent\":\"demo_request\",\"tags\":[\"Hot Lead\"],"
    "\"action_items\":[{\"subject\":\"Schedule the demo\",\"due\":\"next_business_day\","
    "\"priority\":\"High\"},{\"subject\":\"Send the deck\",\"due\":\"by Friday\","
    "\"priority\":\"Low\"}],\"competitors\":[\"Dialpad\"],\"products\":[\"Callbridge Pro\"]}";

/* A chat completions response around `content` (a JSON text, or NULL). */
static char *response(const char *content, const char *refusal)
{
        json_t *r = json_pack("{s:s,s:[{s:i,s:{s:s,s:s?,s:s?},s:s}],s:{s:i,s:i}}", "object",
                              "chat.completion", "choices", "index", 0, "message", "role",
                              "assistant", "content", content, "refusal", refusal, "finish_reason",
                              "stop", "usage", "prompt_tokens", 120, "completion_tokens", 45);
        char *s = json_dumps(r, JSON_COMPACT);

        json_decref(r);
        return s;
}

static json_t *tag_set(void)
{
        return json_pack("[s,s,s]", "Hot Lead", "Follow-Up Required", "Churn Risk");
}

/* Parse `content` as a full answer; the reason on failure ("" on success). */
static const char *outcome(const char *content, json_t **ans)
{
        json_t *tags = tag_set();
        char *body = response(content, NULL), why[256];
        const char *reason = NULL;
        long p = -1, c = -1;

        *ans = cb_nlp_llm_parse(body, strlen(body), tags, false, &reason, why, sizeof(why), &p, &c);
        assert_int_equal(p, 120);
        assert_int_equal(c, 45);
        if (*ans == NULL)
                assert_non_null(reason), assert_true(why[0] != '\0');
        free(body);
        json_decref(tags);
        return *ans ? "" : reason;
}

static void test_request_shape(void **state)
{
        json_t *tags = tag_set();
        json_t *req = cb_nlp_llm_request("gpt-4o-mini", "hello", tags, false);
        json_t *rf = json_object_get(req, "response_format");
        json_t *js = json_object_get(rf, "json_schema");
        json_t *schema = json_object_get(js, "schema");
        json_t *props = json_object_get(schema, "properties");

        (void)state;
        assert_string_equal(json_string_value(json_object_get(req, "model")), "gpt-4o-mini");
        assert_string_equal(json_string_value(json_object_get(rf, "type")), "json_schema");
        assert_true(json_is_true(json_object_get(js, "strict")));
        assert_string_equal(json_string_value(json_object_get(js, "name")), "call_analysis");
        assert_true(json_is_false(json_object_get(schema, "additionalProperties")));
        assert_int_equal(json_array_size(json_object_get(schema, "required")), 7);
        assert_int_equal(json_object_size(props), 7);
        assert_true(json_equal(
            json_object_get(json_object_get(json_object_get(props, "tags"), "items"), "enum"),
            tags));
        assert_string_equal(json_string_value(json_object_get(
                                json_array_get(json_object_get(req, "messages"), 1), "content")),
                            "hello");
        json_decref(req);
        req = cb_nlp_llm_request("m", "part", tags, true);
        js = json_object_get(json_object_get(req, "response_format"), "json_schema");
        assert_string_equal(json_string_value(json_object_get(js, "name")), "call_part_summary");
        assert_int_equal(
            json_object_size(json_object_get(json_object_get(js, "schema"), "properties")), 1);
        json_decref(req);
        json_decref(tags);
}

static void test_good_answer(void **state)
{
        json_t *ans;

        (void)state;
        assert_string_equal(outcome(GOOD, &ans), "");
        assert_string_equal(json_string_value(json_object_get(ans, "intent")), "demo_request");
        json_decref(ans);
}

static void test_bad_answers(void **state)
{
        json_t *ans, *doc;
        char *text;

        (void)state;
        assert_string_equal(outcome("{\"summary\": \"cut off", &ans), "malformed");
        assert_string_equal(outcome(NULL, &ans), "malformed");
        assert_string_equal(outcome("[1,2]", &ans), "schema");
        /* each required field missing, and one extra */
        static const char *const keys[] = {"summary",      "sentiment",   "intent",  "tags",
                                           "action_items", "competitors", "products"};
        for (size_t i = 0; i < 7; i++) {
                doc = json_loads(GOOD, 0, NULL);
                json_object_del(doc, keys[i]);
                text = json_dumps(doc, JSON_COMPACT);
                assert_string_equal(outcome(text, &ans), "schema");
                free(text);
                json_decref(doc);
        }
        doc = json_loads(GOOD, 0, NULL);
        json_object_set_new(doc, "mood", json_string("happy"));
        text = json_dumps(doc, JSON_COMPACT);
        assert_string_equal(outcome(text, &ans), "schema");
        free(text);
        /* wrong types and values */
        json_object_del(doc, "mood");
        json_object_set_new(json_object_get(doc, "sentiment"), "score", json_real(1.5));
        text = json_dumps(doc, JSON_COMPACT);
        assert_string_equal(outcome(text, &ans), "schema");
        free(text);
        json_object_set_new(json_object_get(doc, "sentiment"), "score", json_real(0.2));
        json_object_set_new(json_object_get(doc, "sentiment"), "label", json_string("meh"));
        text = json_dumps(doc, JSON_COMPACT);
        assert_string_equal(outcome(text, &ans), "schema");
        free(text);
        json_object_set_new(json_object_get(doc, "sentiment"), "label", json_string("neutral"));
        json_object_set_new(json_array_get(json_object_get(doc, "action_items"), 0), "priority",
                            json_string("Urgent"));
        text = json_dumps(doc, JSON_COMPACT);
        assert_string_equal(outcome(text, &ans), "schema");
        free(text);
        json_decref(doc);
        /* a tag outside the set */
        doc = json_loads(GOOD, 0, NULL);
        json_array_append_new(json_object_get(doc, "tags"), json_string("VIP Unicorn"));
        text = json_dumps(doc, JSON_COMPACT);
        assert_string_equal(outcome(text, &ans), "tag");
        free(text);
        json_decref(doc);
}

static void test_refusal_and_non_response(void **state)
{
        json_t *tags = tag_set(), *ans;
        char *body = response(NULL, "I can't help with that."), why[128];
        const char *reason;
        long p, c;

        (void)state;
        ans = cb_nlp_llm_parse(body, strlen(body), tags, false, &reason, why, sizeof(why), &p, &c);
        assert_null(ans);
        assert_string_equal(reason, "refusal");
        free(body);
        ans = cb_nlp_llm_parse("<html>", 6, tags, false, &reason, why, sizeof(why), &p, &c);
        assert_null(ans);
        assert_string_equal(reason, "malformed");
        assert_int_equal(p, 0);
        body = response("{\"summary\":3}", NULL);
        ans = cb_nlp_llm_parse(body, strlen(body), tags, true, &reason, why, sizeof(why), &p, &c);
        assert_null(ans);
        assert_string_equal(reason, "schema");
        free(body);
        json_decref(tags);
}

static void test_merge(void **state)
{
        json_t *ans = json_loads(GOOD, 0, NULL);
        json_t *analysis =
            json_pack("{s:s,s:{s:f,s:s},s:[{s:s,s:s}],s:[s],s:[]}", "summary", "rules", "sentiment",
                      "score", 0.0, "label", "neutral", "entities", "type", "competitor", "text",
                      "dialpad", "tags", "Customer Issue", "follow_ups");
        json_t *fu, *ents;

        (void)state;
        assert_int_equal(cb_nlp_llm_merge(analysis, ans), 0);
        assert_string_equal(json_string_value(json_object_get(analysis, "summary")),
                            "Ada wants a demo.");
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(analysis, "sentiment"), "reason")),
            "She loves it.");
        assert_string_equal(json_string_value(json_object_get(analysis, "engine")), "llm");
        assert_int_equal(json_array_size(json_object_get(analysis, "tags")), 1);
        fu = json_object_get(analysis, "follow_ups");
        assert_int_equal(json_array_size(fu), 2);
        assert_string_equal(json_string_value(json_object_get(json_array_get(fu, 0), "rule")),
                            "llm-1");
        assert_string_equal(json_string_value(json_object_get(json_array_get(fu, 0), "due")),
                            "next_business_day");
        assert_string_equal(json_string_value(json_object_get(json_array_get(fu, 0), "priority")),
                            "High");
        assert_null(json_object_get(json_array_get(fu, 1), "due")); /* "by Friday" */
        ents = json_object_get(analysis, "entities");
        assert_int_equal(json_array_size(ents), 2); /* Dialpad once, Callbridge Pro added */
        assert_string_equal(json_string_value(json_object_get(json_array_get(ents, 1), "text")),
                            "Callbridge Pro");
        json_decref(analysis);
        json_decref(ans);
}

static void test_split(void **state)
{
        json_t *parts = cb_nlp_llm_split("One two three. Four five six. Seven eight nine ten.", 20);
        const json_t *p;
        size_t i, total = 0;

        (void)state;
        assert_true(json_array_size(parts) >= 3);
        json_array_foreach(parts, i, p)
        {
                assert_true(json_string_length(p) <= 20);
                total += json_string_length(p);
        }
        assert_string_equal(json_string_value(json_array_get(parts, 0)), "One two three.");
        assert_true(total >= 48);
        json_decref(parts);
        parts = cb_nlp_llm_split("short", 100);
        assert_int_equal(json_array_size(parts), 1);
        json_decref(parts);
}

/* Without the engine the rules answer as they are; with a server that does not answer, the
 * rules' analysis is kept and marked as a fallback. */
static void test_analyse_call_fallback(void **state)
{
        struct cb_nlp_llm_settings s = {.base_url = "http://127.0.0.1:1/v1/",
                                        .model = "m",
                                        .timeout_ms = 1000,
                                        .max_chars_per_part = 1000};
        struct cb_nlp_rules *rules = shipped_rules();
        json_t *a, *tags = cb_nlp_llm_tag_set(rules);
        struct cb_buf m = {.max = 1 << 20};

        (void)state;
        assert_int_equal(json_array_size(tags), 4);
        assert_string_equal(json_string_value(json_array_get(tags, 0)), "Hot Lead");
        json_decref(tags);
        assert_false(cb_nlp_llm_enabled());
        a = cb_nlp_analyse_call(rules, "We love it.", NULL);
        assert_non_null(a);
        assert_null(json_object_get(a, "engine"));
        json_decref(a);
        assert_int_equal(cb_nlp_llm_configure(&s), 0);
        assert_true(cb_nlp_llm_enabled());
        a = cb_nlp_analyse_call(rules, "We love it.", NULL);
        assert_non_null(a);
        assert_string_equal(json_string_value(json_object_get(a, "engine")), "rules");
        assert_string_equal(json_string_value(json_object_get(a, "fallback")), "http");
        assert_non_null(json_object_get(a, "sentiment"));
        json_decref(a);
        cb_nlp_llm_metrics_write(&m);
        assert_non_null(strstr(m.data, "callbridge_nlp_fallbacks_total{reason=\"http\"} 1\n"));
        assert_non_null(strstr(m.data, "callbridge_llm_requests_total{outcome=\"failed\"} 1\n"));
        cb_buf_free(&m);
        cb_nlp_llm_shutdown();
        assert_false(cb_nlp_llm_enabled());
        cb_nlp_rules_unref(&rules);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_request_shape),
            cmocka_unit_test(test_good_answer),
            cmocka_unit_test(test_bad_answers),
            cmocka_unit_test(test_refusal_and_non_response),
            cmocka_unit_test(test_merge),
            cmocka_unit_test(test_split),
            cmocka_unit_test(test_analyse_call_fallback),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
