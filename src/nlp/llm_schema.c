/* The LLM engine's pure half: the answer's JSON schema, the chat completions request, the
 * checks of an answer (shape, types, tags only from the set) and the overlay of a valid answer
 * onto the rules engine's analysis. No network, no globals: unit tested (test_nlp_llm.c). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "callbridge/nlp_llm.h"

static const char SYSTEM_FULL[] =
    "You analyse the transcript of a sales or support phone call for a CRM. Answer only with "
    "the JSON object the schema describes: summary (2-3 sentences), sentiment of the customer "
    "(score from -1 to 1, label, a one-sentence reason), intent (a short snake_case name or "
    "null), tags chosen only from the allowed values, action_items the rep must do (subject, "
    "due as today, next_business_day, +Nd or +Nbd, or null; priority High, Normal or Low), "
    "competitors and products mentioned by name.";
static const char SYSTEM_PART[] =
    "You summarise one part of a longer phone call transcript. Answer only with the JSON "
    "object the schema describes: a summary keeping names, products, competitors, amounts, "
    "dates, commitments and the customer's mood.";

json_t *cb_nlp_llm_tag_set(const struct cb_nlp_rules *rules)
{
        json_t *all = cb_nlp_rules_colors(rules), *out = json_array(), *v;
        size_t i;

        json_array_foreach(all, i, v)
        {
                const char *kind = json_string_value(json_object_get(v, "kind"));
                if (kind != NULL && strcmp(kind, "tag") == 0)
                        json_array_append(out, json_object_get(v, "name"));
        }
        json_decref(all);
        return out;
}

static json_t *strings(void)
{
        return json_pack("{s:s,s:{s:s}}", "type", "array", "items", "type", "string");
}

json_t *cb_nlp_llm_schema(const json_t *tags, bool part)
{
        json_t *tag_items, *s;

        if (part)
                return json_pack("{s:s,s:b,s:[s],s:{s:{s:s}}}", "type", "object",
                                 "additionalProperties", 0, "required", "summary", "properties",
                                 "summary", "type", "string");
        tag_items = json_pack("{s:s}", "type", "string");
        if (tag_items != NULL && json_array_size(tags) > 0)
                json_object_set_new(tag_items, "enum", json_deep_copy(tags));
        s = json_pack(
            "{s:s,s:b,s:[s,s,s,s,s,s,s],s:{"
            "s:{s:s},"
            "s:{s:s,s:b,s:[s,s,s],s:{s:{s:s},s:{s:s,s:[s,s,s]},s:{s:s}}},"
            "s:{s:[s,s]},"
            "s:{s:s,s:o},"
            "s:{s:s,s:{s:s,s:b,s:[s,s,s],s:{s:{s:s},s:{s:[s,s]},s:{s:s,s:[s,s,s]}}}},"
            "s:o,s:o}}",
            "type", "object", "additionalProperties", 0, "required", "summary", "sentiment",
            "intent", "tags", "action_items", "competitors", "products", "properties",
            /* summary */ "summary", "type", "string",
            /* sentiment */ "sentiment", "type", "object", "additionalProperties", 0, "required",
            "score", "label", "reason", "properties", "score", "type", "number", "label", "type",
            "string", "enum", "positive", "neutral", "negative", "reason", "type", "string",
            /* intent */ "intent", "type", "string", "null",
            /* tags */ "tags", "type", "array", "items", tag_items,
            /* action items */ "action_items", "type", "array", "items", "type", "object",
            "additionalProperties", 0, "required", "subject", "due", "priority", "properties",
            "subject", "type", "string", "due", "type", "string", "null", "priority", "type",
            "string", "enum", "High", "Normal", "Low",
            /* entities */ "competitors", strings(), "products", strings());
        return s;
}

json_t *cb_nlp_llm_request(const char *model, const char *text, const json_t *tags, bool part)
{
        json_t *schema = cb_nlp_llm_schema(tags, part);

        if (schema == NULL)
                return NULL;
        return json_pack("{s:s,s:[{s:s,s:s},{s:s,s:s}],s:i,s:{s:s,s:{s:s,s:b,s:o}}}", "model",
                         model, "messages", "role", "system", "content",
                         part ? SYSTEM_PART : SYSTEM_FULL, "role", "user", "content", text,
                         "temperature", 0, "response_format", "type", "json_schema", "json_schema",
                         "name", part ? "call_part_summary" : "call_analysis", "strict", 1,
                         "schema", schema);
}

/* ---- checking an answer ---- */

#define FAIL(r, ...)                                                                               \
        do {                                                                                       \
                *reason = (r);                                                                     \
                snprintf(why, why_size, __VA_ARGS__);                                              \
                return false;                                                                      \
        } while (0)

/* `o` is an object with exactly the `n` keys of `keys`. */
static bool exact_keys(const json_t *o, const char *const *keys, size_t n, const char *where,
                       const char **reason, char *why, size_t why_size)
{
        if (!json_is_object(o))
                FAIL("schema", "%s: expected an object", where);
        for (size_t i = 0; i < n; i++)
                if (json_object_get(o, keys[i]) == NULL)
                        FAIL("schema", "%s: %s missing", where, keys[i]);
        if (json_object_size(o) != n)
                FAIL("schema", "%s: unexpected fields", where);
        return true;
}

static bool string_array(const json_t *a, const char *where, const char **reason, char *why,
                         size_t why_size)
{
        const json_t *v;
        size_t i;

        if (!json_is_array(a))
                FAIL("schema", "%s: expected an array", where);
        json_array_foreach(a, i, v) if (!json_is_string(v))
            FAIL("schema", "%s[%zu]: expected a string", where, i);
        return true;
}

static bool in_set(const json_t *set, const char *s)
{
        const json_t *v;
        size_t i;

        json_array_foreach(set, i, v) if (strcmp(json_string_value(v) ?: "", s) == 0) return true;
        return false;
}

static bool check_sentiment(const json_t *s, const char **reason, char *why, size_t why_size)
{
        static const char *const keys[] = {"score", "label", "reason"};
        const char *label;
        double score;

        if (!exact_keys(s, keys, 3, "sentiment", reason, why, why_size))
                return false;
        label = json_string_value(json_object_get(s, "label"));
        score = json_number_value(json_object_get(s, "score"));
        if (!json_is_number(json_object_get(s, "score")) || score < -1 || score > 1)
                FAIL("schema", "sentiment.score: expected a number from -1 to 1");
        if (label == NULL || (strcmp(label, "positive") != 0 && strcmp(label, "neutral") != 0 &&
                              strcmp(label, "negative") != 0))
                FAIL("schema", "sentiment.label: expected positive, neutral or negative");
        if (!json_is_string(json_object_get(s, "reason")))
                FAIL("schema", "sentiment.reason: expected a string");
        return true;
}

static bool check_actions(const json_t *a, const char **reason, char *why, size_t why_size)
{
        static const char *const keys[] = {"subject", "due", "priority"};
        const json_t *v;
        size_t i;

        if (!json_is_array(a))
                FAIL("schema", "action_items: expected an array");
        json_array_foreach(a, i, v)
        {
                const json_t *due = json_object_get(v, "due");
                const char *p = json_string_value(json_object_get(v, "priority"));

                if (!exact_keys(v, keys, 3, "action_items[]", reason, why, why_size))
                        return false;
                if (json_string_length(json_object_get(v, "subject")) == 0)
                        FAIL("schema", "action_items[%zu].subject: expected a string", i);
                if (!json_is_string(due) && !json_is_null(due))
                        FAIL("schema", "action_items[%zu].due: expected a string or null", i);
                if (p == NULL ||
                    (strcmp(p, "High") != 0 && strcmp(p, "Normal") != 0 && strcmp(p, "Low") != 0))
                        FAIL("schema", "action_items[%zu].priority: expected High, Normal or Low",
                             i);
        }
        return true;
}

static bool check_full(const json_t *ans, const json_t *tags, const char **reason, char *why,
                       size_t why_size)
{
        static const char *const keys[] = {"summary",      "sentiment",   "intent",  "tags",
                                           "action_items", "competitors", "products"};
        const json_t *intent = json_object_get(ans, "intent"), *v;
        size_t i;

        if (!exact_keys(ans, keys, 7, "answer", reason, why, why_size))
                return false;
        if (!json_is_string(json_object_get(ans, "summary")))
                FAIL("schema", "summary: expected a string");
        if (!json_is_string(intent) && !json_is_null(intent))
                FAIL("schema", "intent: expected a string or null");
        if (!check_sentiment(json_object_get(ans, "sentiment"), reason, why, why_size) ||
            !string_array(json_object_get(ans, "tags"), "tags", reason, why, why_size) ||
            !check_actions(json_object_get(ans, "action_items"), reason, why, why_size) ||
            !string_array(json_object_get(ans, "competitors"), "competitors", reason, why,
                          why_size) ||
            !string_array(json_object_get(ans, "products"), "products", reason, why, why_size))
                return false;
        json_array_foreach(json_object_get(ans, "tags"), i,
                           v) if (!in_set(tags, json_string_value(v)))
            FAIL("tag", "tags: \"%.64s\" is not in the configured tag set", json_string_value(v));
        return true;
}

static void usage_of(const json_t *resp, long *prompt, long *completion)
{
        const json_t *u = json_object_get(resp, "usage");

        *prompt = (long)json_integer_value(json_object_get(u, "prompt_tokens"));
        *completion = (long)json_integer_value(json_object_get(u, "completion_tokens"));
}

#undef FAIL
#define FAIL(r, ...)                                                                               \
        do {                                                                                       \
                *reason = (r);                                                                     \
                snprintf(why, why_size, __VA_ARGS__);                                              \
                goto fail;                                                                         \
        } while (0)

json_t *cb_nlp_llm_parse(const char *body, size_t len, const json_t *tags, bool part,
                         const char **reason, char *why, size_t why_size, long *prompt,
                         long *completion)
{
        static const char *const part_keys[] = {"summary"};
        json_t *resp = json_loadb(body ? body : "", len, 0, NULL), *ans = NULL;
        const json_t *msg =
            json_object_get(json_array_get(json_object_get(resp, "choices"), 0), "message");
        const char *content = json_string_value(json_object_get(msg, "content"));

        *reason = NULL;
        why[0] = '\0';
        usage_of(resp, prompt, completion);
        if (json_is_string(json_object_get(msg, "refusal")))
                FAIL("refusal", "the model refused: %.120s",
                     json_string_value(json_object_get(msg, "refusal")));
        if (content == NULL)
                FAIL("malformed", "no choices[0].message.content in the response");
        ans = json_loads(content, 0, NULL);
        if (ans == NULL)
                FAIL("malformed", "the answer is not JSON");
        if (part ? !exact_keys(ans, part_keys, 1, "answer", reason, why, why_size) ||
                       !json_is_string(json_object_get(ans, "summary"))
                 : !check_full(ans, tags, reason, why, why_size))
                goto fail;
        json_decref(resp);
        return ans;
fail:
        if (*reason == NULL) {
                *reason = "schema";
                snprintf(why, why_size, "summary: expected a string");
        }
        json_decref(ans);
        json_decref(resp);
        return NULL;
}

/* ---- the answer into the analysis ---- */

static int add_entities(json_t *analysis, const json_t *names, const char *type)
{
        json_t *ents = json_object_get(analysis, "entities");
        const json_t *v;
        size_t i;

        if (!json_is_array(ents)) {
                ents = json_array();
                if (ents == NULL || json_object_set_new(analysis, "entities", ents) != 0)
                        return -1;
        }
        json_array_foreach(names, i, v)
        {
                const json_t *e;
                size_t k;
                bool seen = false;

                json_array_foreach(ents, k, e) seen |=
                    strcmp(json_string_value(json_object_get(e, "type")) ?: "", type) == 0 &&
                    strcasecmp(json_string_value(json_object_get(e, "text")) ?: "",
                               json_string_value(v)) == 0;
                if (!seen && json_array_append_new(ents, json_pack("{s:s,s:O,s:s}", "type", type,
                                                                   "text", v, "source", "llm")))
                        return -1;
        }
        return 0;
}

static json_t *follow_ups(const json_t *items)
{
        json_t *out = json_array();
        const json_t *v;
        char rule[32], due[11];
        size_t i;

        json_array_foreach(items, i, v)
        {
                const char *when = json_string_value(json_object_get(v, "due"));
                json_t *f;

                snprintf(rule, sizeof(rule), "llm-%zu", i + 1);
                f = json_pack("{s:s,s:O,s:O,s:O}", "rule", rule, "subject",
                              json_object_get(v, "subject"), "description",
                              json_object_get(v, "subject"), "priority",
                              json_object_get(v, "priority"));
                /* A due the date rules do not know (a model's free text) is left out. */
                if (f != NULL && when != NULL && cb_nlp_due_date(when, "2000-01-03", due) == 0)
                        json_object_set_new(f, "due", json_string(when));
                if (out == NULL || json_array_append_new(out, f) != 0) {
                        json_decref(out);
                        return NULL;
                }
        }
        return out;
}

int cb_nlp_llm_merge(json_t *analysis, const json_t *answer)
{
        const json_t *s = json_object_get(answer, "sentiment");
        const json_t *intent = json_object_get(answer, "intent");
        json_t *fu = follow_ups(json_object_get(answer, "action_items"));
        int rc = 0;

        rc |= json_object_set(analysis, "summary", json_object_get(answer, "summary"));
        rc |= json_object_set_new(analysis, "sentiment", json_deep_copy(s));
        rc |= json_object_set_new(analysis, "intent", json_deep_copy(intent));
        rc |= json_object_set_new(analysis, "intents",
                                  json_is_string(intent) ? json_pack("[O]", intent) : json_array());
        rc |=
            json_object_set_new(analysis, "tags", json_deep_copy(json_object_get(answer, "tags")));
        rc |= fu ? json_object_set_new(analysis, "follow_ups", fu) : -1;
        rc |= add_entities(analysis, json_object_get(answer, "competitors"), "competitor");
        rc |= add_entities(analysis, json_object_get(answer, "products"), "product");
        rc |= json_object_set_new(analysis, "engine", json_string("llm"));
        return rc == 0 ? 0 : -1;
}

/* ---- long transcripts ---- */

/* Where to end a part of at most `max` bytes of `s` (len > max): after the last sentence end
 * in it, else the last space, else at `max` (backed off a UTF-8 continuation byte). */
static size_t cut_at(const char *s, size_t max)
{
        size_t i, space = 0;

        for (i = max; i > max / 2; i--)
                if ((s[i - 1] == '.' || s[i - 1] == '?' || s[i - 1] == '!') && s[i] == ' ')
                        return i;
        for (i = max; i > 0; i--)
                if (s[i] == ' ') {
                        space = i;
                        break;
                }
        if (space > 0)
                return space;
        for (i = max; i > 1 && ((unsigned char)s[i] & 0xC0) == 0x80; i--)
                ;
        return i;
}

json_t *cb_nlp_llm_split(const char *text, size_t max)
{
        json_t *out = json_array();
        size_t len = strlen(text);

        if (max < 16)
                max = 16;
        while (out != NULL && len > 0) {
                size_t n = len <= max ? len : cut_at(text, max);

                if (json_array_append_new(out, json_stringn(text, n)) != 0) {
                        json_decref(out);
                        return NULL;
                }
                text += n;
                len -= n;
                while (len > 0 && *text == ' ')
                        text++, len--;
        }
        return out;
}
