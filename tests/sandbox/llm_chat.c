/* callbridge-sandbox: an OpenAI-compatible POST /v1/chat/completions for the LLM analysis
 * engine. The answer is derived from the user message deterministically (keywords → tags,
 * sentiment, intent, action items, competitors, products), within the tag set the request's
 * schema allows. POST /__sandbox/llm {"mode", "latency_ms"} makes it answer badly on purpose:
 * mode "malformed" (content that is not JSON), "bad_tag" (a tag outside the schema's enum),
 * "schema" (a required field missing), "refusal", "error" (a 500); latency_ms delays every
 * answer (a slow server, for timeouts). GET /__sandbox/llm shows the settings and the recent
 * requests (schema name, strict, allowed tags, the user message). Reset by /__sandbox/reset. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sandbox.h"

#define LLM_RECENT_MAX 32

static char mode[16] = "ok";
static long latency_ms;
static json_t *recent; /* [{"schema","strict","tags","user","model"}], lock held */
static unsigned long serial;

void sb_llm_state_clear_locked(void)
{
        snprintf(mode, sizeof(mode), "ok");
        latency_ms = 0;
        json_decref(recent);
        recent = NULL;
}

static long llm_latency(void)
{
        long v;

        sb_state_lock();
        v = latency_ms;
        sb_state_unlock();
        return v;
}

const struct sb_upstream sb_llm_upstream = {.name = "openai", .extra_latency_ms = llm_latency};

static void openai_error(struct sb_reply *reply, unsigned int status, const char *param,
                         const char *msg)
{
        sb_reply_json_take(reply, status,
                           json_pack("{s:{s:s,s:s,s:s*,s:n}}", "error", "message", msg, "type",
                                     "invalid_request_error", "param", param, "code"));
}

/* Lower-cased copy of `s` (malloc'd). */
static char *lower(const char *s)
{
        char *out = strdup(s);

        for (char *p = out; p != NULL && *p; p++)
                *p = (char)tolower((unsigned char)*p);
        return out;
}

static bool has(const char *text, const char *const *words)
{
        for (; *words != NULL; words++)
                if (strstr(text, *words) != NULL)
                        return true;
        return false;
}

static bool allowed(const json_t *tags, const char *name)
{
        const json_t *v;
        size_t i;

        json_array_foreach(tags, i,
                           v) if (strcmp(json_string_value(v) ?: "", name) == 0) return true;
        return false;
}

static const char *const POSITIVE[] = {"love", "great", "excited", "expand", "more seats", NULL};
static const char *const NEGATIVE[] = {"cancel",  "remove us", "signed with", "frustrat",
                                       "unhappy", "broken",    NULL};
static const char *const DEMO[] = {"demo", NULL};
static const char *const PRICE[] = {"price", "pricing", "quote", "how much", NULL};
static const char *const CALLBACK[] = {"call me", "follow up", "next week", "tomorrow", NULL};

static json_t *names_in(const char *low, const char *const *names)
{
        json_t *out = json_array();

        for (; *names != NULL; names++) {
                char *n = lower(*names);
                if (n != NULL && strstr(low, n) != NULL)
                        json_array_append_new(out, json_string(*names));
                free(n);
        }
        return out;
}

/* The full analysis of `text` within `tags`. */
static json_t *analyse(const char *text, const json_t *tags)
{
        static const char *const competitors[] = {"Aircall", "RingCentral", "Dialpad",
                                                  "Five9",   "Talkdesk",    NULL};
        static const char *const products[] = {"Callbridge Pro", "Callbridge Enterprise", NULL};
        char *low = lower(text);
        bool pos = has(low, POSITIVE), neg = has(low, NEGATIVE);
        json_t *t = json_array(), *actions = json_array(), *ans;

        if (pos && !neg && allowed(tags, "Hot Lead"))
                json_array_append_new(t, json_string("Hot Lead"));
        if (neg && allowed(tags, "Churn Risk"))
                json_array_append_new(t, json_string("Churn Risk"));
        if (has(low, CALLBACK) && allowed(tags, "Follow-Up Required"))
                json_array_append_new(t, json_string("Follow-Up Required"));
        if (has(low, DEMO))
                json_array_append_new(actions,
                                      json_pack("{s:s,s:s,s:s}", "subject", "Schedule the demo",
                                                "due", "next_business_day", "priority", "High"));
        if (has(low, PRICE))
                json_array_append_new(actions,
                                      json_pack("{s:s,s:s,s:s}", "subject", "Send the quote", "due",
                                                "+2d", "priority", "Normal"));
        ans = json_pack("{s:s,s:{s:f,s:s,s:s},s:s?,s:o,s:o,s:o,s:o}", "summary",
                        neg   ? "The customer is leaving for a competitor."
                        : pos ? "The customer is enthusiastic and wants to move forward."
                              : "A routine call.",
                        "sentiment", "score",
                        neg   ? -0.8
                        : pos ? 0.8
                              : 0.0,
                        "label",
                        neg   ? "negative"
                        : pos ? "positive"
                              : "neutral",
                        "reason",
                        neg   ? "The customer asked to cancel or leave."
                        : pos ? "The customer praised the product and wants more."
                              : "No strong feelings were expressed.",
                        "intent",
                        neg              ? "churn"
                        : has(low, DEMO) ? "demo_request"
                                         : NULL,
                        "tags", t, "action_items", actions, "competitors",
                        names_in(low, competitors), "products", names_in(low, products));
        free(low);
        return ans;
}

/* The answer in the mode asked for (content text, malloc'd; NULL for a refusal). */
static char *content_for(const char *text, const json_t *tags, bool part)
{
        json_t *ans;
        char *out;

        if (strcmp(mode, "malformed") == 0)
                return strdup("{\"summary\": \"The customer wants a demo\", \"sentiment\": ");
        if (part) {
                /* its beginning and its end, cut at bytes (the test text is ASCII) */
                char sum[200];
                size_t n = strlen(text);
                if (n <= 160)
                        snprintf(sum, sizeof(sum), "%s", text);
                else
                        snprintf(sum, sizeof(sum), "%.80s ... %s", text, text + n - 80);
                ans = json_pack("{s:s}", "summary", sum);
        } else {
                ans = analyse(text, tags);
                if (strcmp(mode, "bad_tag") == 0)
                        json_array_append_new(json_object_get(ans, "tags"),
                                              json_string("VIP Unicorn"));
                if (strcmp(mode, "schema") == 0)
                        json_object_del(ans, "sentiment");
        }
        out = json_dumps(ans, JSON_COMPACT | JSON_REAL_PRECISION(6));
        json_decref(ans);
        return out;
}

/* The request's user message and response_format, or an OpenAI 400 already in `reply`. */
static bool request_ok(const json_t *doc, const char **user, const json_t **schema,
                       const char **name, struct sb_reply *reply)
{
        const json_t *rf = json_object_get(doc, "response_format"), *js, *m;
        size_t i;

        *user = NULL;
        json_array_foreach(
            json_object_get(doc, "messages"), i,
            m) if (strcmp(json_string_value(json_object_get(m, "role")) ?: "", "user") == 0) *user =
            json_string_value(json_object_get(m, "content"));
        js = json_object_get(rf, "json_schema");
        *schema = json_object_get(js, "schema");
        *name = json_string_value(json_object_get(js, "name"));
        if (!json_is_string(json_object_get(doc, "model")))
                return openai_error(reply, 400, "model", "you must provide a model parameter"),
                       false;
        if (*user == NULL)
                return openai_error(reply, 400, "messages", "messages must hold a user message"),
                       false;
        if (strcmp(json_string_value(json_object_get(rf, "type")) ?: "", "json_schema") != 0 ||
            !json_is_object(*schema) || *name == NULL)
                return openai_error(reply, 400, "response_format",
                                    "response_format must be a json_schema with name and schema"),
                       false;
        return true;
}

static void remember_locked(const json_t *doc, const char *user, const json_t *schema,
                            const char *name)
{
        const json_t *tags = json_object_get(
            json_object_get(json_object_get(json_object_get(schema, "properties"), "tags"),
                            "items"),
            "enum");
        json_t *js = json_object_get(json_object_get(doc, "response_format"), "json_schema");

        if (recent == NULL)
                recent = json_array();
        if (json_array_size(recent) >= LLM_RECENT_MAX)
                json_array_remove(recent, 0);
        json_array_append_new(recent,
                              json_pack("{s:O,s:s,s:O,s:O,s:s}", "model",
                                        json_object_get(doc, "model"), "schema", name, "strict",
                                        json_object_get(js, "strict") ?: json_false(), "tags",
                                        tags ? tags : json_null(), "user", user));
}

void sb_llm_chat(const struct sb_request *req, struct sb_reply *reply)
{
        json_t *doc = sb_request_json(req, reply), *tags;
        const json_t *schema;
        const char *user, *name;
        char *content = NULL, id[48];
        json_int_t prompt, completion;
        bool refuse, fail;

        if (doc == NULL)
                return;
        if (!request_ok(doc, &user, &schema, &name, reply))
                goto out;
        tags = json_object_get(
            json_object_get(json_object_get(json_object_get(schema, "properties"), "tags"),
                            "items"),
            "enum");
        sb_state_lock();
        remember_locked(doc, user, schema, name);
        refuse = strcmp(mode, "refusal") == 0;
        fail = strcmp(mode, "error") == 0;
        content =
            refuse || fail ? NULL : content_for(user, tags, strcmp(name, "call_part_summary") == 0);
        snprintf(id, sizeof(id), "chatcmpl-sb%lu", ++serial);
        sb_state_unlock();
        if (fail) {
                sb_reply_json_take(reply, 500,
                                   json_pack("{s:{s:s,s:s,s:n,s:n}}", "error", "message",
                                             "The server had an error processing your request.",
                                             "type", "server_error", "param", "code"));
                goto out;
        }
        /* about four bytes a token, and the instructions' share */
        prompt = (json_int_t)strlen(user) / 4 + 150;
        completion = content ? (json_int_t)strlen(content) / 4 : 8;
        sb_reply_json_take(
            reply, 200,
            json_pack("{s:s,s:s,s:I,s:O,s:[{s:i,s:{s:s,s:s?,s:s?},s:n,s:s}],s:{s:I,s:I,s:I}}", "id",
                      id, "object", "chat.completion", "created", (json_int_t)time(NULL), "model",
                      json_object_get(doc, "model"), "choices", "index", 0, "message", "role",
                      "assistant", "content", content, "refusal",
                      refuse ? "I can't help with that." : NULL, "logprobs", "finish_reason",
                      "stop", "usage", "prompt_tokens", prompt, "completion_tokens", completion,
                      "total_tokens", prompt + completion));
out:
        free(content);
        json_decref(doc);
}

static json_t *settings_locked(void)
{
        /* "o" takes the reference: ours of `recent` stays, a fresh empty array is handed over. */
        return json_pack("{s:s,s:I,s:o}", "mode", mode, "latency_ms", (json_int_t)latency_ms,
                         "requests", recent ? json_incref(recent) : json_array());
}

void sb_llm_control_get(const struct sb_request *req, struct sb_reply *reply)
{
        (void)req;
        sb_state_lock();
        sb_reply_json_take(reply, 200, settings_locked());
        sb_state_unlock();
}

void sb_llm_control(const struct sb_request *req, struct sb_reply *reply)
{
        static const char *const modes[] = {"ok",      "malformed", "bad_tag", "schema",
                                            "refusal", "error",     NULL};
        json_t *doc = sb_request_json(req, reply);
        const char *m;
        const json_t *lat;
        size_t i;

        if (doc == NULL)
                return;
        m = json_string_value(json_object_get(doc, "mode"));
        lat = json_object_get(doc, "latency_ms");
        for (i = 0; m != NULL && modes[i] != NULL && strcmp(modes[i], m) != 0; i++)
                ;
        if (!json_is_object(doc) || (json_object_get(doc, "mode") && (m == NULL || !modes[i])) ||
            (lat && (!json_is_integer(lat) || json_integer_value(lat) < 0 ||
                     json_integer_value(lat) > 600000))) {
                sb_reply_error(reply, 400, "invalid_field",
                               "mode: ok|malformed|bad_tag|schema|refusal|error; latency_ms: "
                               "0-600000");
                json_decref(doc);
                return;
        }
        sb_state_lock();
        if (m != NULL)
                snprintf(mode, sizeof(mode), "%s", m);
        if (lat != NULL)
                latency_ms = (long)json_integer_value(lat);
        sb_reply_json_take(reply, 200, settings_locked());
        sb_state_unlock();
        json_decref(doc);
}
