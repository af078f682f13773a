/* The LLM engine's network half: POST {base_url}/chat/completions through the upstream client
 * (service "llm"), parts first for a long transcript, the answer checked (llm_schema.c) and
 * overlaid on the rules' analysis; any failure is a fallback to the rules' analysis, counted
 * and logged. Settings are set once at start (cb_nlp_llm_configure) before any job runs. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbridge/log.h"
#include "callbridge/nlp_llm.h"
#include "callbridge/upstream.h"

static struct {
        bool on;
        char *url;  /* {base_url}/chat/completions */
        char *auth; /* "Authorization: Bearer <key>" or NULL; wiped on shutdown */
        char *model;
        long timeout_ms;
        size_t max_chars;
        double usd_prompt, usd_completion; /* per million tokens */
} llm;

/* ---- metrics (relaxed atomics) ---- */

static const char *const reasons[] = {"timeout", "http", "malformed", "refusal",
                                      "schema",  "tag",  "internal"};
#define NR (sizeof(reasons) / sizeof(reasons[0]))
static const double bounds_s[] = {0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
#define NB (sizeof(bounds_s) / sizeof(bounds_s[0]) + 1)

static struct {
        atomic_ulong fallbacks[NR];
        atomic_ulong requests_ok, requests_failed;
        atomic_ulong prompt_tokens, completion_tokens;
        atomic_ulong calls, buckets[NB];
        atomic_ullong sum_us;
} m;

static void count_fallback(const char *reason)
{
        size_t i;

        for (i = 0; i < NR - 1 && strcmp(reasons[i], reason) != 0; i++)
                ;
        atomic_fetch_add_explicit(&m.fallbacks[i], 1, memory_order_relaxed);
}

static void observe_call(int64_t us)
{
        size_t b = NB - 1;

        for (size_t i = 0; i < NB - 1; i++)
                if ((double)us / 1e6 <= bounds_s[i]) {
                        b = i;
                        break;
                }
        atomic_fetch_add_explicit(&m.buckets[b], 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&m.calls, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&m.sum_us, (unsigned long long)us, memory_order_relaxed);
}

void cb_nlp_llm_metrics_write(struct cb_buf *out)
{
        unsigned long cum = 0;

        cb_buf_puts(out, "# HELP callbridge_nlp_fallbacks_total Analyses where the LLM engine "
                         "failed and the rules engine's analysis was used, by reason.\n"
                         "# TYPE callbridge_nlp_fallbacks_total counter\n");
        for (size_t i = 0; i < NR; i++)
                cb_buf_printf(out, "callbridge_nlp_fallbacks_total{reason=\"%s\"} %lu\n",
                              reasons[i], atomic_load(&m.fallbacks[i]));
        cb_buf_printf(out,
                      "# HELP callbridge_llm_requests_total Chat completion requests by outcome.\n"
                      "# TYPE callbridge_llm_requests_total counter\n"
                      "callbridge_llm_requests_total{outcome=\"ok\"} %lu\n"
                      "callbridge_llm_requests_total{outcome=\"failed\"} %lu\n"
                      "# HELP callbridge_llm_tokens_total Tokens the LLM reported in usage.\n"
                      "# TYPE callbridge_llm_tokens_total counter\n"
                      "callbridge_llm_tokens_total{kind=\"prompt\"} %lu\n"
                      "callbridge_llm_tokens_total{kind=\"completion\"} %lu\n",
                      atomic_load(&m.requests_ok), atomic_load(&m.requests_failed),
                      atomic_load(&m.prompt_tokens), atomic_load(&m.completion_tokens));
        cb_buf_printf(out,
                      "# HELP callbridge_llm_cost_usd_total Estimated LLM cost: tokens at [llm] "
                      "cost_per_1m_prompt_tokens and cost_per_1m_completion_tokens.\n"
                      "# TYPE callbridge_llm_cost_usd_total counter\n"
                      "callbridge_llm_cost_usd_total %.6f\n",
                      ((double)atomic_load(&m.prompt_tokens) * llm.usd_prompt +
                       (double)atomic_load(&m.completion_tokens) * llm.usd_completion) /
                          1e6);
        cb_buf_puts(out, "# HELP callbridge_llm_call_seconds LLM time per analysed call (every "
                         "part and the final request).\n"
                         "# TYPE callbridge_llm_call_seconds histogram\n");
        for (size_t i = 0; i < NB; i++) {
                cum += atomic_load(&m.buckets[i]);
                if (i < NB - 1)
                        cb_buf_printf(out, "callbridge_llm_call_seconds_bucket{le=\"%g\"} %lu\n",
                                      bounds_s[i], cum);
                else
                        cb_buf_printf(out, "callbridge_llm_call_seconds_bucket{le=\"+Inf\"} %lu\n",
                                      cum);
        }
        cb_buf_printf(
            out, "callbridge_llm_call_seconds_sum %.6f\ncallbridge_llm_call_seconds_count %lu\n",
            (double)atomic_load(&m.sum_us) / 1e6, atomic_load(&m.calls));
}

/* ---- settings ---- */

void cb_nlp_llm_shutdown(void)
{
        free(llm.url);
        cb_secret_free(llm.auth);
        free(llm.model);
        memset(&llm, 0, sizeof(llm));
}

int cb_nlp_llm_configure(const struct cb_nlp_llm_settings *s)
{
        struct cb_buf url = {.max = 4096}, auth = {.max = 8192};
        size_t n;

        cb_nlp_llm_shutdown();
        if (s == NULL)
                return 0;
        n = strlen(s->base_url);
        while (n > 0 && s->base_url[n - 1] == '/')
                n--; /* "https://host/v1/" as "https://host/v1" */
        if (cb_buf_printf(&url, "%.*s/chat/completions", (int)n, s->base_url) != 0 ||
            (s->api_key != NULL && s->api_key[0] != '\0' &&
             cb_buf_printf(&auth, "Authorization: Bearer %s", s->api_key) != 0)) {
                cb_buf_free(&url);
                cb_secret_free(auth.data);
                return -1;
        }
        llm.url = url.data;
        llm.auth = auth.data;
        llm.model = strdup(s->model ? s->model : "gpt-4o-mini");
        llm.timeout_ms = s->timeout_ms;
        llm.max_chars = s->max_chars_per_part > 0 ? (size_t)s->max_chars_per_part : 12000;
        llm.usd_prompt = s->usd_per_1m_prompt;
        llm.usd_completion = s->usd_per_1m_completion;
        llm.on = llm.model != NULL;
        return llm.on ? 0 : -1;
}

bool cb_nlp_llm_enabled(void)
{
        return llm.on;
}

/* ---- requests ---- */

/* One chat completion for `text`: its checked answer (caller decrefs), or NULL with the
 * fallback reason and why. */
static json_t *ask(const char *text, const json_t *tags, bool part, const char **reason, char *why,
                   size_t why_size)
{
        json_t *body = cb_nlp_llm_request(llm.model, text, tags, part), *ans = NULL;
        char *data = body ? json_dumps(body, JSON_COMPACT) : NULL;
        struct cb_upstream_req req = {
            .service = "llm",
            .method = "POST",
            .url = llm.url,
            .headers = {"Content-Type: application/json", llm.auth},
            .body = data,
            .body_len = data ? strlen(data) : 0,
            .timeout_ms = llm.timeout_ms,
            .max_response = 1 << 20,
        };
        struct cb_upstream_resp resp = {0};
        long prompt = 0, completion = 0;

        json_decref(body);
        if (data == NULL) {
                *reason = "internal";
                snprintf(why, why_size, "out of memory building the request");
                return NULL;
        }
        if (cb_upstream_perform(&req, &resp) != 0) {
                *reason = strstr(resp.error, "imeout") || strstr(resp.error, "timed out")
                              ? "timeout"
                              : "http";
                snprintf(why, why_size, "%s unreachable: %s", llm.url, resp.error);
        } else if (resp.status < 200 || resp.status >= 300) {
                *reason = "http";
                snprintf(why, why_size, "the LLM answered %ld", resp.status);
        } else {
                ans = cb_nlp_llm_parse(resp.body.data, resp.body.len, tags, part, reason, why,
                                       why_size, &prompt, &completion);
        }
        atomic_fetch_add_explicit(ans ? &m.requests_ok : &m.requests_failed, 1,
                                  memory_order_relaxed);
        atomic_fetch_add_explicit(&m.prompt_tokens, (unsigned long)(prompt > 0 ? prompt : 0),
                                  memory_order_relaxed);
        atomic_fetch_add_explicit(&m.completion_tokens,
                                  (unsigned long)(completion > 0 ? completion : 0),
                                  memory_order_relaxed);
        cb_upstream_resp_free(&resp);
        free(data);
        return ans;
}

/* The text the final request reads: the transcript, or for one longer than a part the
 * summaries of its parts in order (malloc'd), NULL with the reason. */
static char *condensed(const char *transcript, const json_t *tags, const char **reason, char *why,
                       size_t why_size)
{
        json_t *parts;
        struct cb_buf b = {.max = 1 << 22};
        const json_t *p;
        size_t i;

        if (strlen(transcript) <= llm.max_chars)
                return strdup(transcript);
        parts = cb_nlp_llm_split(transcript, llm.max_chars);
        cb_buf_puts(&b, "Summaries of the consecutive parts of one call:\n");
        json_array_foreach(parts, i, p)
        {
                json_t *ans = ask(json_string_value(p), tags, true, reason, why, why_size);

                if (ans == NULL) {
                        json_decref(parts);
                        cb_buf_free(&b);
                        return NULL;
                }
                cb_buf_printf(&b, "Part %zu: %s\n", i + 1,
                              json_string_value(json_object_get(ans, "summary")));
                json_decref(ans);
        }
        json_decref(parts);
        if (b.data == NULL) {
                *reason = "internal";
                snprintf(why, why_size, "out of memory joining the parts");
        }
        return b.data;
}

json_t *cb_nlp_analyse_call(const struct cb_nlp_rules *rules, const char *transcript,
                            const json_t *call)
{
        json_t *analysis = cb_nlp_analyse(rules, transcript, call), *tags = NULL, *ans = NULL;
        const char *reason = "internal";
        char why[384] = "out of memory";
        char *text = NULL;
        int64_t t0;

        if (analysis == NULL || !llm.on)
                return analysis;
        t0 = cb_mono_us();
        tags = cb_nlp_llm_tag_set(rules);
        /* The cleaned text when the rules made one: fillers and stutters cost tokens. */
        if (tags != NULL)
                text = condensed(json_string_value(json_object_get(analysis, "clean_text"))
                                     ?: transcript,
                                 tags, &reason, why, sizeof(why));
        if (text != NULL)
                ans = ask(text, tags, false, &reason, why, sizeof(why));
        observe_call(cb_mono_us() - t0);
        if (ans != NULL && cb_nlp_llm_merge(analysis, ans) != 0) {
                reason = "internal";
                snprintf(why, sizeof(why), "out of memory merging the answer");
                json_decref(ans);
                ans = NULL;
                /* the merge may have half-applied: start again from the rules */
                json_decref(analysis);
                analysis = cb_nlp_analyse(rules, transcript, call);
        }
        if (ans == NULL && analysis != NULL) {
                count_fallback(reason);
                cb_warn("nlp: the LLM engine failed (%s: %s); the rules engine's analysis is "
                        "used for this call",
                        reason, why);
                json_object_set_new(analysis, "engine", json_string("rules"));
                json_object_set_new(analysis, "fallback", json_string(reason));
        }
        json_decref(ans);
        json_decref(tags);
        free(text);
        return analysis;
}
