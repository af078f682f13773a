/* The optional LLM analysis engine ([nlp] engine = llm; src/nlp/llm.c, llm_schema.c): any
 * OpenAI-compatible POST {base_url}/chat/completions answers with a JSON object against a
 * strict schema (summary, sentiment with its reason, intent, tags from the rules' tag set,
 * action items, competitors, products). The answer is validated here; on any failure,
 * timeout or a tag outside the set the rules engine's analysis stands for that call
 * (callbridge_nlp_fallbacks_total{reason} and a log line), so no call loses its analysis.
 * Transcripts longer than max_chars_per_part are summarised in parts, then analysed from the
 * parts' summaries. Runs in the transcription jobs only, never in a request. */
#ifndef CALLBRIDGE_NLP_LLM_H
#define CALLBRIDGE_NLP_LLM_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "callbridge/nlp.h"
#include "callbridge/util.h"

struct cb_nlp_llm_settings {
        const char *base_url; /* e.g. "https://api.openai.com/v1" (no trailing /chat/...) */
        const char *model;
        const char *api_key; /* NULL or "": no Authorization header (self-hosted servers) */
        long timeout_ms;     /* per request */
        long max_chars_per_part;
        double usd_per_1m_prompt, usd_per_1m_completion; /* for the cost metric; 0: none */
};

/* ---- pure (llm_schema.c): unit tested without a network ---- */

/* The tag names of `rules` in file order (caller decrefs); [] for NULL rules. */
json_t *cb_nlp_llm_tag_set(const struct cb_nlp_rules *rules);
/* The JSON schema of a full answer with tags limited to `tags` (an array of strings), or of
 * a part's answer ({"summary"}) when `part` (caller decrefs; NULL when out of memory). */
json_t *cb_nlp_llm_schema(const json_t *tags, bool part);
/* The chat completions request body (caller decrefs). */
json_t *cb_nlp_llm_request(const char *model, const char *text, const json_t *tags, bool part);
/* Check a chat completions response body (`body`, `len` bytes) and return its parsed answer
 * (caller decrefs), or NULL with `reason` ("malformed": not the response or not JSON content,
 * "refusal", "schema": a field missing, extra or of the wrong type, "tag": a tag outside
 * `tags`) and a one-line `why`. Token counts from `usage` go to *prompt and *completion (0 when
 * absent) whatever the outcome. */
json_t *cb_nlp_llm_parse(const char *body, size_t len, const json_t *tags, bool part,
                         const char **reason, char *why, size_t why_size, long *prompt,
                         long *completion);
/* Overlay a valid full answer onto the rules engine's `analysis` (modified in place): summary,
 * sentiment {score, label, reason}, intent, tags, follow_ups from the action items (rule
 * "llm-<n>", subject, description, due when in a form cb_nlp_due_date takes, priority),
 * competitors and products as entities; "engine": "llm". 0, or -1 when out of memory. */
int cb_nlp_llm_merge(json_t *analysis, const json_t *answer);
/* Cut `text` into parts of at most `max` bytes at sentence (else word) ends (caller decrefs
 * the array of strings). */
json_t *cb_nlp_llm_split(const char *text, size_t max);

/* ---- the engine (llm.c) ---- */

/* Use the LLM engine with these settings (copied) from now on; NULL: the rules only. */
int cb_nlp_llm_configure(const struct cb_nlp_llm_settings *s);
bool cb_nlp_llm_enabled(void);
/* The analysis of a call: cb_nlp_analyse, then, with the engine configured, the LLM's answer
 * overlaid; on any LLM failure the rules' analysis as it is (counted and logged, with
 * "engine": "rules", "fallback": reason). NULL only when out of memory. */
json_t *cb_nlp_analyse_call(const struct cb_nlp_rules *rules, const char *transcript,
                            const json_t *call);
/* Prometheus text: callbridge_llm_requests_total{outcome}, callbridge_llm_tokens_total{kind},
 * callbridge_llm_cost_usd_total (tokens at the configured prices),
 * callbridge_llm_call_seconds (a histogram per analysed call), callbridge_nlp_fallbacks_total
 * {reason}. */
void cb_nlp_llm_metrics_write(struct cb_buf *out);
void cb_nlp_llm_shutdown(void);

#endif
